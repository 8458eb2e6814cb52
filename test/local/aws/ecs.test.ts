// The twin's ECS through a real SDK client: the answers, refusals, limits and pagination the adapters
// meet on AWS, over the simulated cluster.
import {
  DescribeCapacityProvidersCommand,
  DescribeContainerInstancesCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { TwinSendLayer } from '#local/twin/aws/client';
import { ecsModel } from '#local/twin/aws/ecs';
import { Faults } from '#local/twin/aws/faults';
import { TwinScaling } from '#local/twin/scaling';
import { VirtualScheduler } from '#local/twin/scheduler';
import { World } from '#local/twin/world';
import { addWebService } from '../../support/webService';

function aCluster(options: { instances?: number } = {}) {
  const clock = new VirtualScheduler(new Date('2026-11-02T09:00:00Z'));
  const world = new World(clock, { event: () => undefined, note: () => undefined }, 3);
  world.addCluster('prod');
  for (let i = 0; i < (options.instances ?? 2); i++) world.addInstance('prod', 4096, 8192);
  const web = addWebService(world, options.instances === 0 ? 0 : 2);
  const next = world.addTaskDefinition({ ...web, revision: 2 });
  const scaling = new TwinScaling(world, () => undefined);
  const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults: new Faults(1) });
  const ecs = aws.client(ECSClient, ecsModel(world, { autoScalingGroups: () => scaling.groups.values() }));
  const runFor = (seconds: number) => clock.runUntil(new Date(clock.now().getTime() + seconds * 1000));
  world.start();
  return { world, ecs, scaling, web, next, runFor };
}

const launch = (taskDefinition: string, clientToken: string) =>
  new RunTaskCommand({
    cluster: 'prod',
    taskDefinition,
    group: 'family:web',
    startedBy: 'test',
    clientToken,
  });

describe('the twin ECS: tasks', () => {
  it('starts one task per client token, and refuses the token again with other parameters', async () => {
    // Prepare
    const { ecs, web, world } = aCluster();

    // Act
    const first = await ecs.send(launch(web.arn, 'token-1'));
    const again = await ecs.send(launch(web.arn, 'token-1'));
    const other = ecs.send(new RunTaskCommand({ ...launch(web.arn, 'token-1').input, startedBy: 'other' }));

    // Assess
    expect(again.tasks?.[0]?.taskArn).toBe(first.tasks?.[0]?.taskArn);
    await expect(other).rejects.toMatchObject({ name: 'ConflictException' });
    expect(world.runningTasks('prod', 'family:web')).toHaveLength(1);
  });

  it('refuses what #domain/runTaskLimits refuses, and a task definition it does not have', async () => {
    // Prepare
    const { ecs, web } = aCluster();

    // Act
    const weightless = ecs.send(
      new RunTaskCommand({
        ...launch(web.arn, 'token-2').input,
        capacityProviderStrategy: [{ capacityProvider: 'prod-asg' }],
      }),
    );
    const missing = ecs.send(launch('nope:1', 'token-3'));

    // Assess
    await expect(weightless).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(missing).rejects.toMatchObject({ name: 'ClientException' });
  });

  it('answers failures when it cannot place, and throws when the cluster has no container instance', async () => {
    // Prepare
    const full = aCluster({ instances: 1 });
    const huge = full.world.addTaskDefinition({ ...full.web, family: 'huge', memory: 100_000 });
    const empty = aCluster({ instances: 0 });

    // Act
    const unplaced = await full.ecs.send(launch(huge.arn, 'token-4'));
    const none = empty.ecs.send(launch(empty.web.arn, 'token-5'));

    // Assess
    expect(unplaced).toMatchObject({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] });
    await expect(none).rejects.toThrow(/No Container Instances were found/);
  });

  it("gives a stopped task's room back: the next task placed once it has stopped takes it", async () => {
    // Prepare: one instance, its free memory taken by two tasks of half of it each
    const { ecs, world, web, runFor } = aCluster({ instances: 1 });
    const instance = world.instances[0]!;
    const free = instance.memory - world.reserved(instance, 'memory');
    const half = world.addTaskDefinition({ ...web, family: 'half', memory: free / 2 });
    const first = await ecs.send(launch(half.arn, 'half-1'));
    await ecs.send(launch(half.arn, 'half-2'));
    const full = await ecs.send(launch(half.arn, 'half-3'));

    // Act
    await ecs.send(new StopTaskCommand({ cluster: 'prod', task: first.tasks![0]!.taskArn! }));
    await runFor(60);
    const again = await ecs.send(launch(half.arn, 'half-4'));

    // Assess
    expect(full.failures).toEqual([expect.objectContaining({ reason: 'RESOURCE:MEMORY' })]);
    expect(again).toMatchObject({ failures: [], tasks: [{ taskDefinitionArn: half.arn }] });
  });

  it('lists by service, family and desired status in pages, and describes with failures for the unknown', async () => {
    // Prepare
    const { ecs, web, world } = aCluster();
    for (const n of [1, 2, 3]) await ecs.send(launch(web.arn, `page-${n}`));

    // Act
    const first = await ecs.send(new ListTasksCommand({ cluster: 'prod', family: 'web', maxResults: 2 }));
    const second = await ecs.send(
      new ListTasksCommand({ cluster: 'prod', family: 'web', maxResults: 2, nextToken: first.nextToken }),
    );
    const service = await ecs.send(new ListTasksCommand({ cluster: 'prod', serviceName: 'web' }));
    const unknown = world.arn('task', 'prod/0123456789abcdef0123456789abcdef');
    const described = await ecs.send(
      new DescribeTasksCommand({
        cluster: 'prod',
        tasks: [service.taskArns![0]!, unknown],
        include: ['TAGS'],
      }),
    );

    // Assess: the family holds the service's two tasks and the three standalone ones
    expect([first.taskArns?.length, second.taskArns?.length, second.nextToken]).toEqual([
      2,
      2,
      expect.any(String),
    ]);
    expect(service.taskArns).toHaveLength(2);
    expect(described.tasks?.[0]).toMatchObject({ group: 'service:web', tags: [] });
    expect(described.failures).toEqual([{ arn: unknown, reason: 'MISSING' }]);
    await expect(
      ecs.send(new ListTasksCommand({ cluster: 'prod', serviceName: 'gone' })),
    ).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
    await expect(ecs.send(new ListTasksCommand({ cluster: 'prod', maxResults: 101 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('stops a task, lists it as STOPPED at once, and does not know a task it never ran', async () => {
    // Prepare
    const { ecs, web, world } = aCluster();
    const started = await ecs.send(launch(web.arn, 'stop-1'));
    const taskArn = started.tasks![0]!.taskArn!;

    // Act
    await ecs.send(new StopTaskCommand({ cluster: 'prod', task: taskArn, reason: 'test' }));
    const stopped = await ecs.send(
      new ListTasksCommand({ cluster: 'prod', family: 'web', desiredStatus: 'STOPPED' }),
    );
    const unknown = ecs.send(
      new StopTaskCommand({
        cluster: 'prod',
        task: world.arn('task', 'prod/0123456789abcdef0123456789abcdef'),
      }),
    );

    // Assess
    expect(stopped.taskArns).toEqual([taskArn]);
    await expect(unknown).rejects.toThrow('The referenced task was not found.');
  });
});

describe('the twin ECS: services', () => {
  it('updates a service, recorded with what changed, and refuses a service it does not have', async () => {
    // Prepare
    const { ecs, world, next } = aCluster();

    // Act
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'web', desiredCount: 4 }));
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'web', taskDefinition: next.arn }));
    const missing = ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'gone', desiredCount: 1 }));

    // Assess
    await expect(missing).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
    expect(world.apiCalls.map((c) => c.target)).toEqual([
      'prod/web desiredCount=4',
      `prod/web taskDefinition=${next.arn}`,
      'prod/gone desiredCount=1',
    ]);
    expect(world.service('prod', 'web')).toMatchObject({ desiredCount: 4 });
  });

  it('describes services with their tags when asked, and the missing ones in failures', async () => {
    // Prepare
    const { ecs, world } = aCluster();
    const serviceArn = world.service('prod', 'web')!.arn;
    await ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: 'a', value: '1' }] }));
    await ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: 'b', value: '2' }] }));
    await ecs.send(new UntagResourceCommand({ resourceArn: serviceArn, tagKeys: ['a'] }));

    // Act
    const described = await ecs.send(
      new DescribeServicesCommand({ cluster: 'prod', services: ['web', 'gone'], include: ['TAGS'] }),
    );
    const untagged = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));

    // Assess
    expect(described.services?.[0]).toMatchObject({
      serviceName: 'web',
      desiredCount: 2,
      deploymentController: { type: 'ECS' },
      tags: [{ key: 'b', value: '2' }],
    });
    expect(described.failures).toEqual([{ arn: world.arn('service', 'prod/gone'), reason: 'MISSING' }]);
    expect(untagged.services?.[0]?.tags).toBeUndefined();
    await expect(
      ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: 'aws:x', value: '1' }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('lists services in pages of ten by default', async () => {
    // Prepare
    const { ecs, world, web } = aCluster();
    for (let n = 0; n < 11; n++)
      world.addService({
        cluster: 'prod',
        name: `svc-${n}`,
        taskDefinition: web.arn,
        desiredCount: 0,
        targetGroups: [],
        maximumPercent: 200,
        circuitBreaker: false,
        healthCheckGraceSeconds: 0,
        history: [],
      });

    // Act
    const first = await ecs.send(new ListServicesCommand({ cluster: 'prod' }));
    const second = await ecs.send(new ListServicesCommand({ cluster: 'prod', nextToken: first.nextToken }));

    // Assess
    expect([first.serviceArns?.length, second.serviceArns?.length, second.nextToken]).toEqual([
      10,
      2,
      undefined,
    ]);
  });

  it('lists the deployment in progress and the finished ones, each with a revision it describes', async () => {
    // Prepare
    const { ecs, next, runFor } = aCluster();
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'web', taskDefinition: next.arn }));
    const during = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }));
    await runFor(120);

    // Act
    const after = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }));
    const revisions = await ecs.send(
      new DescribeServiceRevisionsCommand({
        serviceRevisionArns: [after.serviceDeployments![0]!.targetServiceRevisionArn!, 'arn:aws:ecs:x'],
      }),
    );

    // Assess
    expect(during.serviceDeployments?.map((d) => d.status)).toEqual(['IN_PROGRESS']);
    expect(after.serviceDeployments?.map((d) => d.status)).toEqual(['SUCCESSFUL']);
    expect(revisions.serviceRevisions?.map((r) => r.taskDefinition)).toEqual([next.arn]);
    expect(revisions.failures).toEqual([{ arn: 'arn:aws:ecs:x', reason: 'MISSING' }]);
  });
});

describe('the twin ECS: container instances and capacity providers', () => {
  it('finds a container instance by its EC2 instance id and drains it', async () => {
    // Prepare
    const { ecs, world } = aCluster();
    const instance = world.instances[0]!;

    // Act
    const listed = await ecs.send(
      new ListContainerInstancesCommand({
        cluster: 'prod',
        filter: `ec2InstanceId == ${instance.instanceId}`,
      }),
    );
    await ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: 'prod',
        containerInstances: listed.containerInstanceArns,
        status: 'DRAINING',
      }),
    );
    const described = await ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'prod',
        containerInstances: [...listed.containerInstanceArns!, 'gone'],
      }),
    );
    const draining = await ecs.send(
      new ListContainerInstancesCommand({ cluster: 'prod', status: 'DRAINING' }),
    );

    // Assess
    expect(listed.containerInstanceArns).toEqual([instance.containerInstanceArn]);
    expect(described.containerInstances?.[0]).toMatchObject({
      ec2InstanceId: instance.instanceId,
      status: 'DRAINING',
      agentConnected: true,
    });
    expect(described.failures).toEqual([{ arn: 'gone', reason: 'MISSING' }]);
    expect(draining.containerInstanceArns).toEqual([instance.containerInstanceArn]);
    expect(world.apiCalls.find((c) => c.api === 'UpdateContainerInstancesState')?.target).toBe(
      `prod ${instance.instanceId} DRAINING`,
    );
  });

  it('takes at most ten container instances a state change, and only ACTIVE or DRAINING', async () => {
    // Prepare
    const { ecs, world } = aCluster();
    const arn = world.instances[0]!.containerInstanceArn;

    // Act
    const many = ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: 'prod',
        containerInstances: Array.from({ length: 11 }, () => arn),
        status: 'DRAINING',
      }),
    );
    const registering = ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: 'prod',
        containerInstances: [arn],
        status: 'REGISTERING',
      }),
    );

    // Assess
    await expect(many).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(registering).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('describes a capacity provider per Auto Scaling group, with managed draining as the group has it', async () => {
    // Prepare
    const { ecs, scaling } = aCluster();
    scaling.addGroup({
      name: 'prod-asg',
      cluster: 'prod',
      min: 0,
      max: 2,
      desired: 0,
      instance: { cpu: 1024, memory: 2048 },
      launchSeconds: 30,
      policies: new Map(),
      managedDraining: true,
    });

    // Act
    const all = await ecs.send(new DescribeCapacityProvidersCommand({}));
    const named = await ecs.send(
      new DescribeCapacityProvidersCommand({ capacityProviders: ['prod-asg', 'nope'] }),
    );

    // Assess
    expect(all.capacityProviders?.map((p) => p.name)).toEqual(['FARGATE', 'FARGATE_SPOT', 'prod-asg']);
    expect(named.capacityProviders?.[0]?.autoScalingGroupProvider).toMatchObject({
      autoScalingGroupArn: expect.stringMatching(/:autoScalingGroupName\/prod-asg$/),
      managedDraining: 'ENABLED',
    });
    expect(named.failures).toEqual([{ arn: 'nope', reason: 'MISSING' }]);
  });
});
