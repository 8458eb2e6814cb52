// The instance lifecycle workflow's step as Step Functions invokes it, on the twin: before its first write
// it confirms from Auto Scaling that the action it was started for is pending, and writes nothing when not.
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { LifecycleActionEventSchema } from '#events/autoscaling';
import { createInstanceLifecycleStepHandler } from '#functions/instanceLifecycleStep';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';

const GROUP = 'prod-asg';
const HOOK = 'ecs-reflex-terminate';
const hooks = [LifecycleHookConfigSchema.parse({ groupName: GROUP, hookName: HOOK, cluster: 'prod' })];

/** Two instances in service, a terminate hook; one instance chosen for scale-in and waiting on it. */
async function aWorld() {
  const twin = new Twin({
    seed: 11,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    lifecycle: { dryRun: false, hooks },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  twin.scaling.addGroup({
    name: GROUP,
    cluster: 'prod',
    min: 1,
    max: 4,
    desired: 3,
    instance: { cpu: 4096, memory: 8192 },
    launchSeconds: 60,
    policies: new Map(),
  });
  twin.lifecycle.addHook(GROUP, {
    name: HOOK,
    transition: 'terminate',
    heartbeatTimeoutSeconds: 300,
    defaultResult: 'CONTINUE',
  });
  twin.start();
  twin.scaling.setDesiredCapacity(GROUP, 2);
  await twin.runFor(15);
  const { detail } = LifecycleActionEventSchema.parse(twin.lifecycle.emitted.at(-1));
  const waiting = { instanceId: detail.EC2InstanceId, token: detail.LifecycleActionToken };
  const inService = twin.scaling.group(GROUP).instances[0]!;
  const step = createInstanceLifecycleStepHandler(() => ({
    ports: twin.lifecyclePorts,
    settings: { dryRun: false, hooks },
  }));
  const input = (action: 'look' | 'fail-safe', instanceId: string, token: string) => ({
    action,
    hook: {
      groupName: GROUP,
      hookName: HOOK,
      instanceId,
      token,
      transition: 'terminate',
      cluster: 'prod',
      startedAt: twin.scheduler.now().toISOString(),
      origin: 'AutoScalingGroup',
      destination: 'EC2',
    },
    progress: { looks: 0 },
  });
  // Writes to what the reflex acts on; the alert to a person (SNS Publish) is looked at on its own.
  const writes = () =>
    twin.world.apiCalls
      .filter((c) => c.write && !c.failed && c.api !== 'Publish')
      .map((c) => `${c.api} ${c.target}`);
  const refusals = () => twin.journal.filter((e) => e.action === 'refused');
  return { twin, step, input, waiting, inService, writes, refusals };
}

const FORGED_TOKEN = '0badc0de-0bad-4c0d-8bad-c0de0badc0de';

describe('instanceLifecycleStep handler', () => {
  it('refuses a terminate action for an instance that is InService, and writes nothing', async () => {
    // Prepare
    const { twin, step, input, inService, writes, refusals } = await aWorld();
    const before = writes();

    // Act
    const result = await step(input('look', inService, FORGED_TOKEN), lambdaContext('instanceLifecycleStep'));

    // Assess
    expect(result).toEqual(expect.objectContaining({ done: true }));
    expect(writes()).toEqual(before);
    expect(refusals()).toEqual([
      expect.objectContaining({
        target: inService,
        outcome: 'held',
        reason: `${inService} is InService in ${GROUP}, not Terminating:Wait`,
      }),
    ]);
    expect(twin.recorders.notifications).toEqual([
      expect.objectContaining({ severity: 'warning', subject: expect.stringContaining('refused') }),
    ]);
  });

  it('refuses an instance that waits, when the token names no pending action, and drains nothing', async () => {
    // Prepare: the instance is in Terminating:Wait, but the message's token is made up
    const { step, input, waiting, writes, refusals } = await aWorld();

    // Act
    const result = await step(
      input('look', waiting.instanceId, FORGED_TOKEN),
      lambdaContext('instanceLifecycleStep'),
    );

    // Assess: the heartbeat with the forged token was refused by Auto Scaling; nothing else was sent
    expect(result).toEqual(expect.objectContaining({ done: true }));
    expect(writes().filter((w) => !w.startsWith('RecordLifecycleActionHeartbeat'))).toEqual([]);
    expect(refusals()).toEqual([expect.objectContaining({ target: waiting.instanceId, outcome: 'held' })]);
  });

  it('goes ahead for the pending action: confirmed with a heartbeat, then drained', async () => {
    // Prepare
    const { step, input, waiting, writes, refusals } = await aWorld();

    // Act
    await step(input('look', waiting.instanceId, waiting.token), lambdaContext('instanceLifecycleStep'));

    // Assess
    expect(refusals()).toEqual([]);
    expect(writes()).toEqual([
      `RecordLifecycleActionHeartbeat ${GROUP} ${waiting.instanceId}`,
      `UpdateContainerInstancesState prod ${waiting.instanceId} DRAINING`,
    ]);
  });

  it('the fail-safe completes nothing for an instance that is not waiting', async () => {
    // Prepare
    const { step, input, inService, writes, refusals } = await aWorld();

    // Act
    const result = await step(
      input('fail-safe', inService, FORGED_TOKEN),
      lambdaContext('instanceLifecycleStep'),
    );

    // Assess
    expect(result).toEqual({ completed: 'none' });
    expect(writes()).toEqual([]);
    expect(refusals()).toHaveLength(1);
  });

  it('the fail-safe of a look that never confirmed the action does not complete a waiting instance for a forged token', async () => {
    // Prepare: the instance really waits in Terminating:Wait, but the message's token is made up, and the
    // workflow failed before any look confirmed it (progress has no confirmedAt)
    const { twin, step, input, waiting, refusals } = await aWorld();

    // Act
    const result = await step(
      input('fail-safe', waiting.instanceId, FORGED_TOKEN),
      lambdaContext('instanceLifecycleStep'),
    );

    // Assess: not even tried; the real action is left to the real workflow (or the hook's timeout)
    expect(result).toEqual({ completed: 'none' });
    expect(twin.world.apiCalls.filter((c) => c.api === 'CompleteLifecycleAction')).toEqual([]);
    expect(refusals()).toEqual([
      expect.objectContaining({
        target: waiting.instanceId,
        reason: expect.stringContaining(
          'no lifecycle action of ecs-reflex-terminate is pending with this token',
        ),
      }),
    ]);
  });

  it('the fail-safe completes the real action, confirmed by its token when no look did', async () => {
    // Prepare
    const { twin, step, input, waiting, writes } = await aWorld();

    // Act
    const result = await step(
      input('fail-safe', waiting.instanceId, waiting.token),
      lambdaContext('instanceLifecycleStep'),
    );

    // Assess
    expect(result).toEqual({ completed: 'CONTINUE' });
    expect(writes()).toEqual([
      `RecordLifecycleActionHeartbeat ${GROUP} ${waiting.instanceId}`,
      expect.stringContaining('CompleteLifecycleAction'),
    ]);
    expect(twin.lifecycle.completions).toEqual([expect.objectContaining({ result: 'CONTINUE' })]);
  });
});
