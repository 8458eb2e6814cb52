import { classifyStop } from '#domain/stopCause';
import { aStoppedTask, taskFromSample } from '../support/tasks';

const at = new Date('2026-11-02T10:00:00Z');

describe('classifyStop', () => {
  it.each([
    ['ecs-task-stopped-essential-exit', 'crash', true, true],
    ['ecs-task-stopped-oom', 'out-of-memory', true, true],
    ['ecs-task-stopped-failed-to-start', 'image-pull', true, true],
    ['ecs-task-spot-interruption', 'spot-interruption', false, false],
    ['ecs-task-stopped-standalone-batch', 'crash', true, true],
  ])('classifies the %s sample as %s', (sample, cause, failure, crashLoopEvidence) => {
    // Act
    const result = classifyStop(taskFromSample(sample));

    // Assess
    expect(result).toMatchObject({ cause, failure, crashLoopEvidence });
  });

  it.each([
    [{ containers: [{ name: 'app', exitCode: 137 }] }, 'out-of-memory'],
    [{ containers: [{ name: 'app', exitCode: 0 }] }, 'completed'],
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason:
          'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123)',
        containers: [{ name: 'app' }],
      },
      'elb-health-check',
    ],
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Task failed container health checks',
        containers: [{ name: 'app' }],
      },
      'container-health-check',
    ],
    [
      {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/123)',
        containers: [{ name: 'app' }],
      },
      'scheduler-stop',
    ],
    [
      {
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'ResourceInitializationError: unable to pull secrets or registry auth',
        containers: [{ name: 'app' }],
      },
      'start-failure',
    ],
    [
      {
        containers: [
          { name: 'app', exitCode: 0 },
          { name: 'log-router', exitCode: 143 },
        ],
      },
      'completed',
    ],
    [
      {
        containers: [
          { name: 'app', exitCode: 0 },
          { name: 'envoy', exitCode: 137 },
        ],
      },
      'completed',
    ],
    [
      {
        containers: [
          { name: 'app', exitCode: 3 },
          { name: 'envoy', exitCode: 137 },
        ],
      },
      'crash',
    ],
    [
      { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user', containers: [{ name: 'app' }] },
      'user-stop',
    ],
    [
      {
        stopCode: 'UserInitiated',
        stoppedReason: 'ecs-reflex: unhealthy in its target group for 130s',
        containers: [{ name: 'app' }],
      },
      'stopped-unhealthy',
    ],
    [
      { stopCode: 'TaskFailedToStart', stoppedReason: 'RESOURCE:MEMORY', containers: [{ name: 'app' }] },
      'placement',
    ],
    [
      {
        stopCode: 'TerminationNotice',
        stoppedReason: 'Task stopped due to instance termination',
        containers: [{ name: 'app' }],
      },
      'termination-notice',
    ],
    [
      { stopCode: 'InfrastructureHealth', stoppedReason: 'Host unhealthy', containers: [{ name: 'app' }] },
      'infrastructure',
    ],
    [{ stopCode: undefined, stoppedReason: undefined, containers: [{ name: 'app' }] }, 'unknown'],
  ])('classifies %j as %s', (changes, cause) => {
    // Prepare
    const task = aStoppedTask(at, changes);

    // Act
    const result = classifyStop(task);

    // Assess
    expect(result.cause).toBe(cause);
  });

  it('treats scheduler stops (deployments, scale-in), user stops and clean exits as no failure and nothing to restart', () => {
    // Prepare
    const onPurpose = [
      aStoppedTask(at, {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
      }),
      aStoppedTask(at, { stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' }),
      aStoppedTask(at, { containers: [{ name: 'app', exitCode: 0 }] }),
    ];

    // Act
    const results = onPurpose.map(classifyStop);

    // Assess
    for (const result of results)
      expect(result).toMatchObject({ failure: false, restartable: false, crashLoopEvidence: false });
  });

  it('does not count placement failures toward a crash loop: capacity is missing, the release is fine', () => {
    // Act
    const result = classifyStop(
      aStoppedTask(at, { stopCode: 'TaskFailedToStart', stoppedReason: 'RESOURCE:CPU' }),
    );

    // Assess
    expect(result).toMatchObject({ cause: 'placement', crashLoopEvidence: false, restartable: true });
  });
});
