// The ops API's service operations over the twin: the same answers as the AWS adapter gives
// (test/adapters/ecsServiceOperations). The idempotency store and the action history are tested through
// their models (test/local/aws/dynamodb.test.ts, cloudWatchLogs.test.ts).
import { ECSClient } from '@aws-sdk/client-ecs';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';
import { TwinSendLayer } from '#local/twin/aws/client';
import { ecsModel } from '#local/twin/aws/ecs';
import { Faults } from '#local/twin/aws/faults';
import { VirtualScheduler } from '#local/twin/scheduler';
import { World } from '#local/twin/world';

const START = new Date('2026-11-02T09:00:00.000Z');

describe('EcsServiceOperations over the twin ECS', () => {
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
    const faults = new Faults(1);
    const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults });
    const model = ecsModel(world);
    const operations = new EcsServiceOperations(aws.client(ECSClient, model), {
      once: aws.client(ECSClient, model, { maxAttempts: 1 }),
    });
    return { world, operations, faults };
  }

  it("lists the cluster's services, and records ListServices; a cluster ECS does not have is refused", async () => {
    // Prepare
    const { world, operations } = aWorld();

    // Act
    const prod = await operations.listServices('prod');
    const other = operations.listServices('dev');

    // Assess
    expect(prod).toEqual(['web', 'api']);
    await expect(other).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(world.apiCalls.map((c) => [c.api, c.target, c.write, c.failed])).toEqual([
      ['ListServices', 'prod', false, undefined],
      ['ListServices', 'dev', false, 'ClusterNotFoundException'],
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

  it('starts one deployment when the UpdateService took effect but its answer was lost', async () => {
    // Prepare: every UpdateService takes effect, then times out
    const { world, operations, faults } = aWorld();
    faults.add({
      api: 'UpdateService',
      from: START,
      until: new Date(START.getTime() + 60_000),
      rate: 1,
      error: 'TimeoutError',
      applied: true,
    });

    // Act
    await operations.forceNewDeployment('prod', 'web');

    // Assess: no SDK retry on the single-attempt client; the re-read finds the new deployment
    expect(world.service('prod', 'web')!.deployments).toHaveLength(2);
    expect(world.apiCalls.map((c) => [c.api, c.answered])).toEqual([
      ['DescribeServices', undefined],
      ['UpdateService', 'TimeoutError'],
      ['DescribeServices', undefined],
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
