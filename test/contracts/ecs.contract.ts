// The ECS ports' contract: what the task recycler, the lifecycle steps and the ops API rely on ECS to do,
// checked on a cluster with no container instance (nothing runs, nothing costs), one task definition
// family at two revisions and a service of it with no task.

import type { ContainerInstances, InstanceFleet, ServiceControl, ServiceOperations, TaskFleet } from '#ports';
import type { Eventually } from './harness';

export interface EcsWorld {
  cluster: string;
  service: string;
  /** The service's task definition, then a later revision of the same family. */
  revisions: [string, string];
  /** A well-formed ARN of a task this cluster never ran. */
  unknownTaskArn: string;
  /** A capacity provider of the cluster with no instance behind it. */
  capacityProvider: string;
}

export interface EcsHarness {
  tasks: TaskFleet;
  services: ServiceControl;
  operations: ServiceOperations;
  fleet: InstanceFleet;
  instances: ContainerInstances;
  eventually: Eventually;
  given(): Promise<EcsWorld>;
}

export function ecsContract(harness: () => EcsHarness): void {
  let ecs: EcsHarness;
  let world: EcsWorld;

  beforeAll(async () => {
    ecs = harness();
    world = await ecs.given();
  });

  describe('ServiceControl', () => {
    it('describes the service with its counts, task definition and primary deployment', async () => {
      // Act
      const service = await ecs.services.describeService(world.cluster, world.service);

      // Assess
      expect(service).toMatchObject({
        serviceName: world.service,
        desiredCount: 0,
        runningCount: 0,
        pendingCount: 0,
        taskDefinitionArn: world.revisions[0],
        // Created without a controller or a strategy: ECS's own, rolling. Another controller's service (or
        // a blue/green in progress) is left alone by the reflexes, so both are always said.
        deploymentController: 'ECS',
        deploymentStrategy: 'ROLLING',
      });
      expect(service?.deployments.find((d) => d.status === 'PRIMARY')?.taskDefinitionArn).toBe(
        world.revisions[0],
      );
    });

    it('answers undefined for a service that does not exist', async () => {
      // Act
      const service = await ecs.services.describeService(world.cluster, `${world.service}-missing`);

      // Assess
      expect(service).toBeUndefined();
    });

    it('keeps the tags it was given, next to the ones it had', async () => {
      // Act
      await ecs.services.tagService(world.cluster, world.service, { 'ecs-reflex:contract': 'first' });
      await ecs.services.tagService(world.cluster, world.service, { 'ecs-reflex:contract-2': 'second' });
      const service = await ecs.eventually(
        () => ecs.services.describeService(world.cluster, world.service),
        (s) => s?.tags['ecs-reflex:contract-2'] === 'second',
      );

      // Assess
      expect(service?.tags).toMatchObject({
        'ecs-reflex:contract': 'first',
        'ecs-reflex:contract-2': 'second',
      });
    });

    it('points the service at another revision and remembers the deployment, newest first', async () => {
      // Act
      await ecs.services.setTaskDefinition(world.cluster, world.service, world.revisions[1]);
      const service = await ecs.eventually(
        () => ecs.services.describeService(world.cluster, world.service),
        (s) => s?.taskDefinitionArn === world.revisions[1],
      );
      const history = await ecs.eventually(
        () => ecs.services.deploymentHistory(world.cluster, world.service),
        (h) => h[0]?.taskDefinitionArn === world.revisions[1] && h[0].status === 'SUCCESSFUL',
      );

      // Assess
      expect(service?.taskDefinitionArn).toBe(world.revisions[1]);
      expect(history[0]).toMatchObject({ taskDefinitionArn: world.revisions[1], status: 'SUCCESSFUL' });
      const starts = history.map((h) => h.startedAt?.getTime() ?? 0);
      expect(starts).toEqual([...starts].sort((a, b) => b - a));
    });

    it('sets the desired count as an absolute value', async () => {
      // Act
      await ecs.services.setDesiredCount(world.cluster, world.service, 1);
      const raised = await ecs.eventually(
        () => ecs.services.describeService(world.cluster, world.service),
        (s) => s?.desiredCount === 1,
      );
      await ecs.services.setDesiredCount(world.cluster, world.service, 0);
      const lowered = await ecs.eventually(
        () => ecs.services.describeService(world.cluster, world.service),
        (s) => s?.desiredCount === 0,
      );

      // Assess: nothing can run (no container instance), but the count is what was set, each time
      expect([raised?.desiredCount, lowered?.desiredCount]).toEqual([1, 0]);
      expect(lowered?.runningCount).toBe(0);
    });
  });

  describe('ServiceOperations', () => {
    it('lists the services of the cluster by name', async () => {
      // Act
      const names = await ecs.eventually(
        () => ecs.operations.listServices(world.cluster),
        (n) => n.includes(world.service),
      );

      // Assess
      expect(names).toContain(world.service);
    });

    it('starts a new deployment of the same revision when forced', async () => {
      // Arrange
      const before = await ecs.services.describeService(world.cluster, world.service);
      const primaryBefore = before?.deployments.find((d) => d.status === 'PRIMARY')?.id;

      // Act
      await ecs.operations.forceNewDeployment(world.cluster, world.service);
      const after = await ecs.eventually(
        () => ecs.services.describeService(world.cluster, world.service),
        (s) => s?.deployments.find((d) => d.status === 'PRIMARY')?.id !== primaryBefore,
      );

      // Assess
      const primary = after?.deployments.find((d) => d.status === 'PRIMARY');
      expect(primary?.id).not.toBe(primaryBefore);
      expect(primary?.taskDefinitionArn).toBe(before?.taskDefinitionArn);
    });
  });

  describe('TaskFleet', () => {
    it('lists no task for a service that runs none, running or stopped', async () => {
      // Act
      const running = await ecs.tasks.listTasks(
        world.cluster,
        { kind: 'service', name: world.service },
        'RUNNING',
      );
      const stopped = await ecs.tasks.listTasks(world.cluster, { kind: 'family', name: 'none' }, 'STOPPED');

      // Assess
      expect([running, stopped]).toEqual([[], []]);
    });

    it('says why it could not start a task where there is no room, instead of throwing', async () => {
      // Act
      const result = await ecs.tasks.runTask({
        cluster: world.cluster,
        taskDefinitionArn: world.revisions[0],
        group: 'family:contract',
        startedBy: 'ecs-reflex-contract',
        tags: { 'ecs-reflex:contract': 'run' },
        clientToken: `contract-${world.cluster}`,
      });

      // Assess
      expect(result.started).toBe(false);
      expect(result.started === false && result.reason.length).toBeGreaterThan(0);
    });

    it('restarts a task that ran on a capacity provider on that provider: no room, not refused', async () => {
      // Act: the launch the recycler makes for a copy of a task that ran on the provider
      const result = await ecs.tasks.runTask({
        cluster: world.cluster,
        taskDefinitionArn: world.revisions[0],
        group: 'family:contract',
        startedBy: 'ecs-reflex/contract',
        capacityProviderStrategy: [{ capacityProvider: world.capacityProvider, weight: 1 }],
        tags: { 'ecs-reflex:contract': 'run' },
        clientToken: `contract-cp-${world.cluster}`.slice(0, 64),
      });

      // Assess
      expect(result.started).toBe(false);
      expect(result.started === false && result.reason.length).toBeGreaterThan(0);
    });

    it.each([
      ['a provider of weight 0', { capacityProviderStrategy: [{ capacityProvider: 'P', weight: 0 }] }],
      [
        'a launch type beside a strategy',
        { launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'P', weight: 1 }] },
      ],
      ['a tag with the aws: prefix', { tags: { 'aws:cloudformation:stack-name': 'contract' } }],
    ])('refuses %s with InvalidParameterException, starting nothing', async (_, changes) => {
      // Prepare
      const withProvider = JSON.parse(
        JSON.stringify(changes).replaceAll('"P"', JSON.stringify(world.capacityProvider)),
      );

      // Act
      const running = ecs.tasks.runTask({
        cluster: world.cluster,
        taskDefinitionArn: world.revisions[0],
        group: 'family:contract',
        startedBy: 'ecs-reflex/contract',
        tags: {},
        clientToken: `contract-refused-${world.cluster}`.slice(0, 64),
        ...withProvider,
      });

      // Assess
      await expect(running).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('stops a task that is not there (any more) without an error', async () => {
      // Act / Assess
      await expect(
        ecs.tasks.stopTask(world.cluster, world.unknownTaskArn, 'contract'),
      ).resolves.toBeUndefined();
    });
  });

  describe('InstanceFleet and ContainerInstances', () => {
    it('lists no container instance in a cluster without one', async () => {
      // Act
      const instances = await ecs.fleet.list(world.cluster);

      // Assess
      expect(instances).toEqual([]);
    });

    it('knows no container instance on an EC2 instance that never registered, and drains it as a no-op', async () => {
      // Act
      const described = await ecs.instances.describe(world.cluster, 'i-0123456789abcdef0');
      const drained = ecs.instances.drain(world.cluster, 'i-0123456789abcdef0');

      // Assess
      expect(described).toBeUndefined();
      await expect(drained).resolves.toBeUndefined();
    });
  });
}
