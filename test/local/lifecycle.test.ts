// The twin's Auto Scaling lifecycle hooks, ECS agent and container instance draining, and the lifecycle
// ports over them: the behaviour the instance lifecycle reflex is tested against must be AWS's.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { LifecycleActionEventSchema } from '#events/autoscaling';
import { autoScalingModel } from '#local/twin/aws/autoScaling';
import { TwinSendLayer } from '#local/twin/aws/client';
import { ecsModel } from '#local/twin/aws/ecs';
import { Faults } from '#local/twin/aws/faults';
import { TwinLifecycle, type TwinLifecycleHook } from '#local/twin/lifecycle';
import { TwinScaling } from '#local/twin/scaling';
import { VirtualScheduler } from '#local/twin/scheduler';
import { type AgentStart, DRAINING_STOP_REASON, World } from '#local/twin/world';
import type { LifecycleActionRef } from '#ports';

const CLUSTER = 'prod';
const GROUP = 'prod-asg';

function aWorld(options: { desired?: number; agent?: AgentStart; hooks?: TwinLifecycleHook[] } = {}) {
  const clock = new VirtualScheduler(new Date('2026-11-02T09:00:00Z'));
  const notes: string[] = [];
  const world = new World(clock, { event: () => undefined, note: (text) => notes.push(text) }, 7);
  world.addCluster(CLUSTER);
  const scaling = new TwinScaling(world, (text) => notes.push(text));
  scaling.addGroup({
    name: GROUP,
    cluster: CLUSTER,
    min: 0,
    max: 10,
    desired: options.desired ?? 2,
    instance: { cpu: 4096, memory: 8192 },
    launchSeconds: 30,
    policies: new Map(),
    ...(options.agent ? { agent: options.agent } : {}),
  });
  const events: unknown[] = [];
  const lifecycle = new TwinLifecycle(world, scaling, (event) => events.push(event));
  for (const hook of options.hooks ?? []) lifecycle.addHook(GROUP, hook);
  const faults = new Faults(1);
  // Lifecycle actions and container instances are the real adapters over the twin's Auto Scaling and ECS.
  const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults });
  const ecs = aws.client(ECSClient, ecsModel(world, { autoScalingGroups: () => scaling.groups.values() }));
  const actions = new AutoScalingLifecycleActions({
    autoScaling: aws.client(AutoScalingClient, autoScalingModel(world, scaling, lifecycle)),
    ecs,
  });
  const ports = { actions, instances: new EcsContainerInstances(ecs) };
  const runFor = (seconds: number) => clock.runUntil(new Date(clock.now().getTime() + seconds * 1000));
  world.start();
  scaling.start();
  return { clock, world, scaling, lifecycle, events, ports, runFor, notes };
}

const launchHook: TwinLifecycleHook = {
  name: 'ecs-reflex-launch',
  transition: 'launch',
  heartbeatTimeoutSeconds: 300,
  defaultResult: 'ABANDON',
};
const terminateHook: TwinLifecycleHook = {
  name: 'ecs-reflex-terminate',
  transition: 'terminate',
  heartbeatTimeoutSeconds: 300,
  defaultResult: 'CONTINUE',
};

function refOf(event: unknown): LifecycleActionRef {
  const { detail } = LifecycleActionEventSchema.parse(event);
  return {
    groupName: detail.AutoScalingGroupName,
    hookName: detail.LifecycleHookName,
    instanceId: detail.EC2InstanceId,
    token: detail.LifecycleActionToken,
  };
}

function addService(world: World, desiredCount: number) {
  world.addTaskDefinition({
    family: 'web',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'awsvpc',
    containerName: 'app',
    containerPort: 8080,
    behaviour: { startSeconds: 10, healthy: true },
  });
  return world.addService({
    cluster: CLUSTER,
    name: 'web',
    taskDefinition: 'web:1',
    desiredCount,
    targetGroups: [],
    maximumPercent: 200,
    circuitBreaker: false,
    healthCheckGraceSeconds: 60,
    history: [],
  });
}

describe('twin lifecycle hooks: launch', () => {
  it('holds a launched instance in Pending:Wait and emits the real-shaped event until it is completed', async () => {
    // Prepare
    const { scaling, lifecycle, events, ports, runFor } = aWorld({ hooks: [launchHook] });
    scaling.setDesiredCapacity(GROUP, 3);

    // Act
    await runFor(45);

    // Assess
    expect(events).toHaveLength(1);
    const event = LifecycleActionEventSchema.parse(events[0]);
    expect(event['detail-type']).toBe('EC2 Instance-launch Lifecycle Action');
    expect(event.source).toBe('aws.autoscaling');
    expect(event.detail).toMatchObject({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: 'ecs-reflex-launch',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    });
    expect(event.detail.LifecycleActionToken).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(event.resources[0]).toMatch(/:autoScalingGroupName\/prod-asg$/);
    const ref = refOf(events[0]);
    const group = scaling.group(GROUP);
    expect(group.instances).toHaveLength(2);
    expect(scaling.lifecycleState(ref.instanceId)).toBe('Pending:Wait');

    // Act
    await runFor(30);
    await ports.actions.complete(ref, 'CONTINUE');
    await runFor(30);

    // Assess
    expect(scaling.lifecycleState(ref.instanceId)).toBe('InService');
    expect(group.instances).toHaveLength(3);
    expect(lifecycle.completions).toEqual([
      expect.objectContaining({ instanceId: ref.instanceId, result: 'CONTINUE', by: 'call' }),
    ]);
    expect(events).toHaveLength(1);
  });

  it('an agent registers after its delay; before that the container instance does not exist', async () => {
    // Prepare
    const { world, scaling, events, ports, runFor } = aWorld({
      hooks: [launchHook],
      agent: { delaySeconds: 60 },
    });
    scaling.setDesiredCapacity(GROUP, 3);
    await runFor(45);
    const { instanceId } = refOf(events[0]);

    // Act
    const before = await ports.instances.describe(CLUSTER, instanceId);
    await runFor(60);
    const after = await ports.instances.describe(CLUSTER, instanceId);

    // Assess
    expect(before).toBeUndefined();
    expect(world.instance(instanceId)?.status).toBe('ACTIVE');
    expect(after).toEqual({
      status: 'ACTIVE',
      agentConnected: true,
      runningServiceTasks: 0,
      runningStandaloneTasks: [],
    });
  });

  it('an agent that never connects leaves the instance REGISTERING, and no task is placed on it', async () => {
    // Prepare
    const { world, scaling, events, ports, runFor } = aWorld({
      desired: 1,
      hooks: [launchHook],
      agent: 'never',
    });
    scaling.setDesiredCapacity(GROUP, 2);
    await runFor(45);
    const { instanceId } = refOf(events[0]);
    addService(world, 1);
    world.updateService(CLUSTER, 'web', { desiredCount: 20 });

    // Act
    await runFor(120);

    // Assess
    expect(world.instance(instanceId)).toMatchObject({ status: 'REGISTERING' });
    expect(await ports.instances.describe(CLUSTER, instanceId)).toBeUndefined();
    expect(world.tasksOn(instanceId)).toEqual([]);
  });

  it('a heartbeat extends the wait; without one the default result applies at the heartbeat timeout', async () => {
    // Prepare
    const { world, scaling, lifecycle, events, ports, runFor, clock } = aWorld({ hooks: [launchHook] });
    scaling.setDesiredCapacity(GROUP, 3);
    await runFor(45);
    const ref = refOf(events[0]);
    const startedAt = lifecycle.actions.get(ref.token)!.startedAt;

    // Act
    await runFor(240);
    await ports.actions.heartbeat(ref);
    const heartbeatAt = clock.now();
    await runFor(240);
    const stillWaiting = scaling.lifecycleState(ref.instanceId);
    await runFor(120);

    // Assess
    expect(startedAt.getTime() + 300_000).toBeLessThan(clock.now().getTime());
    expect(stillWaiting).toBe('Pending:Wait');
    expect(lifecycle.heartbeats).toEqual([{ token: ref.token, instanceId: ref.instanceId, at: heartbeatAt }]);
    expect(lifecycle.completions).toEqual([
      expect.objectContaining({
        instanceId: ref.instanceId,
        result: 'ABANDON',
        by: 'heartbeat-timeout',
        at: new Date(heartbeatAt.getTime() + 300_000),
      }),
    ]);
    // ABANDON on launch terminates the instance; the group launches another in its place.
    expect(world.instance(ref.instanceId)).toBeUndefined();
    expect(events.length).toBeGreaterThanOrEqual(2);
    await expect(ports.actions.heartbeat(ref)).rejects.toMatchObject({ name: 'LifecycleActionNotFound' });
    await expect(ports.actions.complete(ref, 'CONTINUE')).resolves.toBeUndefined();
  });

  it('heartbeats cannot outlive the global timeout, min(48 h, 100 x heartbeat timeout)', async () => {
    // Prepare
    const hook = { ...launchHook, heartbeatTimeoutSeconds: 30, defaultResult: 'CONTINUE' as const };
    const { scaling, lifecycle, events, ports, runFor } = aWorld({ hooks: [hook] });
    scaling.setDesiredCapacity(GROUP, 3);
    await runFor(45);
    const ref = refOf(events[0]);
    const startedAt = lifecycle.actions.get(ref.token)!.startedAt;

    // Act
    for (let i = 0; i < 200 && scaling.lifecycleState(ref.instanceId) === 'Pending:Wait'; i++) {
      await ports.actions.heartbeat(ref).catch(() => undefined);
      await runFor(20);
    }

    // Assess
    expect(lifecycle.completions[0]).toMatchObject({
      result: 'CONTINUE',
      by: 'global-timeout',
      at: new Date(startedAt.getTime() + 3000_000),
    });
    expect(scaling.lifecycleState(ref.instanceId)).toBe('InService');
  });
});

describe('twin lifecycle hooks: terminate', () => {
  it('keeps a scale-in victim and its tasks in Terminating:Wait until the action completes', async () => {
    // Prepare
    const { world, scaling, lifecycle, events, ports, runFor } = aWorld({ hooks: [terminateHook] });
    addService(world, 4);
    scaling.setDesiredCapacity(GROUP, 1);

    // Act
    await runFor(15);

    // Assess
    const ref = refOf(events[0]);
    expect(LifecycleActionEventSchema.parse(events[0]).detail.LifecycleTransition).toBe(
      'autoscaling:EC2_INSTANCE_TERMINATING',
    );
    expect(scaling.lifecycleState(ref.instanceId)).toBe('Terminating:Wait');
    expect(world.tasksOn(ref.instanceId).length).toBeGreaterThan(0);

    // Act
    await runFor(200);
    const tasksWhileWaiting = world.tasksOn(ref.instanceId).length;
    await ports.actions.complete(ref, 'CONTINUE');

    // Assess
    expect(tasksWhileWaiting).toBeGreaterThan(0);
    expect(world.instance(ref.instanceId)).toBeUndefined();
    expect(scaling.lifecycleState(ref.instanceId)).toBeUndefined();
    expect(lifecycle.completions).toEqual([expect.objectContaining({ result: 'CONTINUE', by: 'call' })]);
  });
});

describe('twin container instance draining', () => {
  it('moves service tasks to other ACTIVE instances a few at a time; standalone tasks stay', async () => {
    // Prepare
    const { world, ports, runFor } = aWorld({ desired: 3 });
    const service = addService(world, 9);
    const standalone = world.runTask({ cluster: CLUSTER, taskDefinitionArn: 'web:1', group: 'family:batch' });
    if (!('arn' in standalone)) throw new Error('no room for the standalone task');
    await runFor(20);
    const victimId = standalone.instance.instanceId;
    const serviceTasksOn = () => world.tasksOn(victimId).filter((t) => t.group === 'service:web');
    const before = serviceTasksOn().length;
    const replacements = () => [...world.tasks.values()].filter((t) => t.replaces !== undefined).length;

    // Act
    await ports.instances.drain(CLUSTER, victimId);
    await ports.instances.drain(CLUSTER, victimId);
    await runFor(5);
    const afterOneTick = serviceTasksOn().length;
    const startedInOneTick = replacements();
    await runFor(120);

    // Assess
    expect(before).toBeGreaterThanOrEqual(3);
    expect(afterOneTick).toBe(before);
    expect(startedInOneTick).toBe(2);
    expect(serviceTasksOn()).toEqual([]);
    expect(world.runningTasks(CLUSTER, 'service:web')).toHaveLength(service.desiredCount);
    expect(world.runningTasks(CLUSTER, 'service:web').every((t) => t.instance.status === 'ACTIVE')).toBe(
      true,
    );
    const moved = [...world.tasks.values()].filter((t) => t.stoppedReason === DRAINING_STOP_REASON);
    expect(moved).toHaveLength(before);
    expect(moved.every((t) => t.stopCode === 'ServiceSchedulerInitiated')).toBe(true);
    expect(world.tasksOn(victimId)).toEqual([standalone]);
    expect(world.apiCalls.filter((c) => c.api === 'UpdateContainerInstancesState')).toHaveLength(1);
    expect(await ports.instances.describe(CLUSTER, victimId)).toMatchObject({
      status: 'DRAINING',
      runningServiceTasks: 0,
    });
  });
});

describe('twin lifecycle ports', () => {
  it('reads hook settings and stops tasks, recording the calls the AWS adapters make', async () => {
    // Prepare
    const { world, ports, runFor } = aWorld({ desired: 1, hooks: [terminateHook] });
    addService(world, 1);
    const batch = world.runTask({ cluster: CLUSTER, taskDefinitionArn: 'web:1', group: 'family:batch' });
    await runFor(20);
    const taskArn = 'arn' in batch ? batch.arn : '';

    // Act
    const settings = await ports.actions.hookSettings(GROUP, terminateHook.name);
    const missing = await ports.actions.hookSettings(GROUP, 'no-such-hook');
    await ports.instances.stopTasks(CLUSTER, [taskArn, `${taskArn}-forgotten`], 'drained');

    // Assess
    expect(settings).toEqual({
      heartbeatTimeoutSeconds: 300,
      defaultResult: 'CONTINUE',
      managedDraining: false,
    });
    expect(missing).toBeUndefined();
    expect(world.tasks.get(taskArn)).toMatchObject({ desiredStatus: 'STOPPED', stoppedReason: 'drained' });
    expect(world.apiCalls.map((c) => c.api)).toEqual([
      'DescribeAutoScalingGroups',
      'DescribeLifecycleHooks',
      'DescribeCapacityProviders',
      'DescribeAutoScalingGroups',
      'DescribeLifecycleHooks',
      'StopTask',
      'StopTask',
    ]);
  });
});
