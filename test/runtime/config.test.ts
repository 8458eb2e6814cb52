import { loadOpsConfig, loadRecyclerConfig } from '#runtime/config';

const validEnv = {
  CLUSTERS: 'prod, batch',
  RECHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-task-recycler-buffer',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-task-recycler-dlq',
  RECYCLER_POLICY: JSON.stringify({ crashLoopBreaker: { failures: 4 } }),
};

describe('loadRecyclerConfig', () => {
  it('parses the environment, with the policy defaults a careful SRE would accept', () => {
    // Act
    const config = loadRecyclerConfig(validEnv);

    // Assess
    expect(config.clusters).toEqual(['prod', 'batch']);
    expect(config.dryRun).toBe(false);
    expect(config.policy.crashLoopBreaker).toMatchObject({
      failures: 4,
      windowSeconds: 600,
      whenNoStableRevision: 'alert',
    });
    expect(config.policy.stopUnhealthy).toMatchObject({ maxStopShare: 0.25, graceSeconds: 120 });
    expect(config.policy.restartStandalone).toMatchObject({ families: [], maxRestarts: 5 });
    expect(config.maxAttempts).toBe(4);
  });

  it.each([
    [{ CLUSTERS: '' }, 'CLUSTERS'],
    [{ CLUSTERS: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod' }, 'CLUSTERS'],
    [{ RECHECK_QUEUE_URL: 'not a url' }, 'RECHECK_QUEUE_URL'],
    [{ DRY_RUN: 'yes' }, 'DRY_RUN'],
    [{ RECYCLER_POLICY: '{not json' }, 'RECYCLER_POLICY'],
    [{ RECYCLER_POLICY: JSON.stringify({ stopUnhealthy: { maxStopShare: 2 } }) }, 'RECYCLER_POLICY'],
    [{ RECYCLER_POLICY: JSON.stringify({ restartStandalone: { windowSeconds: 7200 } }) }, 'RECYCLER_POLICY'],
    [{ RECYCLER_POLICY: JSON.stringify({ typo: true }) }, 'RECYCLER_POLICY'],
  ])('rejects %j with an error naming %s', (change, variable) => {
    // Prepare
    const env = { ...validEnv, ...change };

    // Act
    const attempt = () => loadRecyclerConfig(env);

    // Assess
    expect(attempt).toThrow(expect.objectContaining({ name: 'ConfigError', variable }));
  });

  it('names the policy field at fault', () => {
    // Act
    const attempt = () =>
      loadRecyclerConfig({
        ...validEnv,
        RECYCLER_POLICY: JSON.stringify({ stopUnhealthy: { maxStopShare: 2 } }),
      });

    // Assess
    expect(attempt).toThrow(/RECYCLER_POLICY.*stopUnhealthy\.maxStopShare/);
  });
});

describe('loadOpsConfig', () => {
  const opsEnv = {
    CLUSTERS: 'prod',
    ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev-rollout',
    LIFECYCLE_STATE_MACHINE_ARN:
      'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev-instance-lifecycle',
    IDEMPOTENCY_TABLE: 'ecs-reflex-dev-ops-idempotency',
  };

  it('reads each function’s log group and each dead-letter queue from their names after a prefix', () => {
    // Act
    const config = loadOpsConfig({
      ...opsEnv,
      ACTION_LOG_GROUP_PREFIX: '/aws/lambda/ecs-reflex-dev-',
      ACTION_LOG_GROUPS: 'rolloutStep, opsWrite',
      DEAD_LETTER_QUEUE_URL_PREFIX: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-',
      DEAD_LETTER_QUEUES: 'rollout-dlq,task-recycler-groups-dlq.fifo',
    });

    // Assess
    expect(config.actionLogGroups).toEqual({
      rolloutStep: '/aws/lambda/ecs-reflex-dev-rolloutStep',
      opsWrite: '/aws/lambda/ecs-reflex-dev-opsWrite',
    });
    expect(config.reflexes.deadLetterQueueUrls).toEqual([
      'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-rollout-dlq',
      'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-task-recycler-groups-dlq.fifo',
    ]);
  });

  it.each([
    [{ ACTION_LOG_GROUPS: '/aws/lambda/ecs-reflex-dev-rolloutStep' }, 'ACTION_LOG_GROUPS'],
    [{ ACTION_LOG_GROUP_PREFIX: 'ecs-reflex-dev-' }, 'ACTION_LOG_GROUP_PREFIX'],
    [
      { DEAD_LETTER_QUEUES: 'https://sqs.eu-west-1.amazonaws.com/111122223333/rollout-dlq' },
      'DEAD_LETTER_QUEUES',
    ],
    [{ DEAD_LETTER_QUEUE_URL_PREFIX: 'sqs/ecs-reflex-dev-' }, 'DEAD_LETTER_QUEUE_URL_PREFIX'],
    // A list whose prefix the stack forgot: no guess at the names' groups or URLs.
    [{ ACTION_LOG_GROUPS: 'rolloutStep,opsWrite' }, 'ACTION_LOG_GROUP_PREFIX'],
    [{ DEAD_LETTER_QUEUES: 'rollout-dlq' }, 'DEAD_LETTER_QUEUE_URL_PREFIX'],
  ])('rejects %j with an error naming %s', (change, variable) => {
    // Act
    const attempt = () => loadOpsConfig({ ...opsEnv, ...change });

    // Assess
    expect(attempt).toThrow(expect.objectContaining({ name: 'ConfigError', variable }));
  });
});
