// The lifecycle hook intake as Lambda runs it: an EventBridge event, or an SQS batch of notifications
// (raw or SNS-wrapped), in; one workflow per lifecycle action out, on the twin's Step Functions.
import type { SQSEvent } from 'aws-lambda';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { loadSample } from '#events/samples';
import { createLifecycleHookHandler } from '#functions/lifecycleHook';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import { logger } from '#runtime/powertools';
import { sqsBatch } from '../support/sqs';

const hooks = [
  LifecycleHookConfigSchema.parse({
    groupName: 'prod-ecs-ondemand',
    hookName: 'ecs-reflex-launch',
    cluster: 'prod',
  }),
];

function aTwin() {
  const twin = new Twin({
    seed: 9,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    lifecycle: { dryRun: false, hooks },
    deliverEvents: false,
  });
  const handler = createLifecycleHookHandler(() => ({
    ports: twin.lifecyclePorts,
    settings: { dryRun: false, hooks },
  }));
  return { twin, handler };
}

const sqsBody = () => structuredClone(loadSample('asg-lifecycle-sqs-body')) as Record<string, unknown>;

const sqs = (...bodies: string[]): SQSEvent => sqsBatch(bodies, 'lifecycle-notifications');

const executions = (twin: Twin) => twin.stepFunctions.listExecutions('instance-lifecycle');
const inputs = (twin: Twin) =>
  executions(twin).map((e) => JSON.parse(twin.stepFunctions.describeExecution(e.executionArn).input));

describe('lifecycleHook handler', () => {
  it('starts one workflow for a notification from SQS, named after the instance and the action token', async () => {
    // Prepare
    const { twin, handler } = aTwin();

    // Act
    const response = await handler(
      sqs(JSON.stringify(loadSample('asg-lifecycle-sqs-body'))),
      lambdaContext('lifecycleHook'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(executions(twin).map((e) => e.name)).toEqual([
      'i-0f9e8d7c6b5a43210-launch-3c5e7a9b-1d3f-4a5c-8e7b-9d1f3a5c7e9b',
    ]);
  });

  it('starts one run for an action that arrives as an event with Origin and Destination and as a notification without', async () => {
    // Prepare: the same action (same token) by EventBridge, and by an older notification lacking the move
    const { twin, handler } = aTwin();
    const older = sqsBody();
    delete older.Origin;
    delete older.Destination;

    // Act
    await handler(loadSample('asg-lifecycle-launch-eventbridge'), lambdaContext('lifecycleHook'));
    await handler(sqs(JSON.stringify(older)), lambdaContext('lifecycleHook'));

    // Assess
    expect(executions(twin)).toHaveLength(1);
  });

  it('starts nothing twice for the same lifecycle action, whichever way it arrives', async () => {
    // Prepare
    const { twin, handler } = aTwin();
    const body = JSON.stringify(loadSample('asg-lifecycle-sqs-body'));

    // Act
    const first = await handler(sqs(body), lambdaContext('lifecycleHook'));
    const again = await handler(sqs(body, body), lambdaContext('lifecycleHook'));

    // Assess
    expect([first, again]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(executions(twin)).toHaveLength(1);
  });

  it('skips the test notification Auto Scaling sends when a hook is created', async () => {
    // Prepare
    const { twin, handler } = aTwin();

    // Act
    const response = await handler(
      sqs(JSON.stringify(loadSample('asg-test-notification'))),
      lambdaContext('lifecycleHook'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(executions(twin)).toEqual([]);
  });

  it('ignores hooks it is not configured for', async () => {
    // Prepare
    const { twin, handler } = aTwin();
    const other = structuredClone(loadSample('asg-lifecycle-sqs-body')) as Record<string, unknown>;
    other.LifecycleHookName = 'someone-elses-hook';

    // Act
    await handler(sqs(JSON.stringify(other)), lambdaContext('lifecycleHook'));

    // Assess
    expect(executions(twin)).toEqual([]);
  });

  it('parks a malformed notification with its reason, starts nothing and asks for no retry', async () => {
    // Prepare
    const { twin, handler } = aTwin();
    const broken = structuredClone(loadSample('asg-lifecycle-sqs-body')) as Record<string, unknown>;
    delete broken.EC2InstanceId;

    // Act
    const response = await handler(sqs(JSON.stringify(broken)), lambdaContext('lifecycleHook'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(executions(twin)).toEqual([]);
    expect(twin.recorders.parked).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('EC2InstanceId') }),
    ]);
  });

  it.each([
    [
      'another account (a notification)',
      () => sqs(JSON.stringify({ ...sqsBody(), AccountId: '444455556666' })),
      /^from account 444455556666/,
    ],
    [
      'another region (an EventBridge event)',
      () => ({ ...(loadSample('asg-lifecycle-launch-eventbridge') as object), region: 'us-east-1' }),
      /^from region us-east-1/,
    ],
  ])('ignores a lifecycle action from %s with a log line, and starts nothing', async (_, event, why) => {
    // Prepare: the hook and group names are configured here, but the action is not this stack's
    const { twin, handler } = aTwin();
    const warned = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);

    // Act
    await handler(event(), lambdaContext('lifecycleHook'));

    // Assess
    expect(executions(twin)).toEqual([]);
    expect(twin.world.apiCalls).toEqual([]);
    expect(warned).toHaveBeenCalledWith(
      'ignored a lifecycle action from another account or region',
      expect.objectContaining({ why: expect.stringMatching(why) }),
    );
    warned.mockRestore();
  });

  it('counts the budgets from now, not from an event time that lies in the future', async () => {
    // Prepare: the notification says it happened a day from now
    const { twin, handler } = aTwin();
    const now = twin.scheduler.now();
    const future = new Date(now.getTime() + 24 * 3600 * 1000).toISOString();

    // Act
    await handler(sqs(JSON.stringify({ ...sqsBody(), Time: future })), lambdaContext('lifecycleHook'));

    // Assess
    expect(inputs(twin)).toEqual([
      expect.objectContaining({ hook: expect.objectContaining({ startedAt: now.toISOString() }) }),
    ]);
  });

  it('keeps an event time in the past as the start of the action', async () => {
    // Prepare
    const { twin, handler } = aTwin();

    // Act
    await handler(sqs(JSON.stringify(sqsBody())), lambdaContext('lifecycleHook'));

    // Assess
    expect(inputs(twin)).toEqual([
      expect.objectContaining({ hook: expect.objectContaining({ startedAt: '2024-06-14T05:31:12.684Z' }) }),
    ]);
  });

  it('starts a workflow for each lifecycle action of an instance: into the warm pool, then into the group', async () => {
    // Prepare: the same instance and hook, two actions (each with its own token), each delivered twice
    const { twin, handler } = aTwin();
    const intoPool = { ...sqsBody(), Origin: 'EC2', Destination: 'WarmPool' };
    const intoGroup = {
      ...sqsBody(),
      Origin: 'WarmPool',
      Destination: 'AutoScalingGroup',
      LifecycleActionToken: '7a9c1e3f-5b7d-4f9a-8c1e-3f5b7d9a1c3e',
    };

    // Act
    const outcomes = [];
    for (const body of [intoPool, intoPool, intoGroup, intoGroup])
      outcomes.push(await handler(sqs(JSON.stringify(body)), lambdaContext('lifecycleHook')));

    // Assess: two runs, one per action; the duplicates start nothing
    expect(outcomes).toEqual(Array(4).fill({ batchItemFailures: [] }));
    expect(
      executions(twin)
        .map((e) => e.name)
        .sort(),
    ).toEqual([
      'i-0f9e8d7c6b5a43210-launch-3c5e7a9b-1d3f-4a5c-8e7b-9d1f3a5c7e9b',
      'i-0f9e8d7c6b5a43210-launch-7a9c1e3f-5b7d-4f9a-8c1e-3f5b7d9a1c3e',
    ]);
    expect(inputs(twin).map((input) => input.hook)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ origin: 'EC2', destination: 'WarmPool' }),
        expect.objectContaining({ origin: 'WarmPool', destination: 'AutoScalingGroup' }),
      ]),
    );
  });

  it("starts a run for a notification through the hook's own topic, and ignores one through another topic", async () => {
    // Prepare: the hook notifies prod-ecs-lifecycle; the same message also arrives through another topic
    const topic = 'arn:aws:sns:eu-west-1:111122223333:prod-ecs-lifecycle';
    const withTopic = [
      LifecycleHookConfigSchema.parse({
        groupName: 'prod-ecs-ondemand',
        hookName: 'ecs-reflex-terminate',
        cluster: 'prod',
        notificationTopicArn: topic,
      }),
    ];
    const twin = new Twin({
      seed: 9,
      settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
      lifecycle: { dryRun: false, hooks: withTopic },
      deliverEvents: false,
    });
    const handler = createLifecycleHookHandler(() => ({
      ports: twin.lifecyclePorts,
      settings: { dryRun: false, hooks: withTopic },
    }));
    const viaHookTopic = loadSample('asg-lifecycle-sns-notification') as Record<string, unknown>;
    const viaOtherTopic = { ...viaHookTopic, TopicArn: `${topic}-other` };

    // Act
    const other = await handler(viaOtherTopic, lambdaContext('lifecycleHook'));
    const own = await handler(viaHookTopic, lambdaContext('lifecycleHook'));

    // Assess
    expect(other).toEqual({ status: 'ignored', why: expect.stringContaining(`${topic}-other`) });
    expect(own).toEqual(expect.objectContaining({ status: 'started' }));
    expect(executions(twin)).toHaveLength(1);
  });
});
