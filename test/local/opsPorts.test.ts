// The ops API's ports over the twin: the same answers as the AWS adapters give (test/adapters/
// ecsServiceOperations).
import { twinServiceOperations } from '#local/twin/opsPorts';
import { Faults, recordedCalls } from '#local/twin/ports';
import { VirtualScheduler } from '#local/twin/scheduler';
import { World } from '#local/twin/world';

const START = new Date('2026-11-02T09:00:00.000Z');

describe('twinServiceOperations', () => {
  function aWorld() {
    const clock = new VirtualScheduler(START);
    const world = new World(clock, { event: () => undefined, note: () => undefined }, 7);
    world.addCluster('prod');
    world.addCluster('staging');
    world.addInstance('prod', 4096, 8192);
    world.addInstance('staging', 4096, 8192);
    world.addTaskDefinition({
      family: 'web',
      revision: 3,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'app',
      containerPort: 8080,
      behaviour: { startSeconds: 10, healthy: true },
    });
    const service = (cluster: string, name: string) =>
      world.addService({
        cluster,
        name,
        taskDefinition: 'web:3',
        desiredCount: 1,
        targetGroups: [],
        maximumPercent: 200,
        circuitBreaker: true,
        healthCheckGraceSeconds: 0,
        history: [],
      });
    service('prod', 'web');
    service('prod', 'api');
    service('staging', 'web');
    const operations = twinServiceOperations(world, recordedCalls(world, new Faults(1)));
    return { world, operations };
  }

  it("lists the cluster's services, and records ListServices", async () => {
    // Prepare
    const { world, operations } = aWorld();

    // Act
    const prod = await operations.listServices('prod');
    const other = await operations.listServices('dev');

    // Assess
    expect(prod).toEqual(['web', 'api']);
    expect(other).toEqual([]);
    expect(world.apiCalls.map((c) => [c.api, c.target, c.write])).toEqual([
      ['ListServices', 'prod', false],
      ['ListServices', 'dev', false],
    ]);
  });

  it('forces a new deployment of the same revision, and records the DescribeServices before and the UpdateService', async () => {
    // Prepare
    const { world, operations } = aWorld();
    const before = world.service('prod', 'web')!.deployments[0]!;

    // Act
    await operations.forceNewDeployment('prod', 'web');

    // Assess
    const deployments = world.service('prod', 'web')!.deployments;
    expect(deployments).toHaveLength(2);
    expect(deployments[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      taskDefinitionArn: before.taskDefinitionArn,
    });
    expect(deployments[1]).toMatchObject({ id: before.id, status: 'ACTIVE' });
    expect(world.service('staging', 'web')!.deployments).toHaveLength(1);
    expect(world.apiCalls.map((c) => [c.api, c.target, c.write])).toEqual([
      ['DescribeServices', 'prod/web', false],
      ['UpdateService', 'prod/web forceNewDeployment', true],
    ]);
  });

  it('refuses an unknown service with ServiceNotFoundException, as ECS does', async () => {
    // Prepare
    const { operations } = aWorld();

    // Act
    const forcing = operations.forceNewDeployment('prod', 'gone');

    // Assess
    await expect(forcing).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
  });
});
