// The rollout workflow's step and its safety net as Lambda runs them, over the twin's routes: bad input is
// refused with its reasons before anything is written, and the safety net restores stable only for a run
// that owns its route.
import { prepareRollout, type RolloutState } from '#app/rollout';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { routeKey } from '#domain/rolloutRoutes';
import { RolloutSpecSchema } from '#events/rollout';
import { loadSample } from '#events/samples';
import { createRolloutSafetyNetHandler } from '#functions/rolloutSafetyNet';
import { createRolloutStepHandler } from '#functions/rolloutStep';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import type { RolloutPorts } from '#ports';
import { MESH_ROUTE } from '../support/rollouts';

const REQUEST = {
  service: 'web',
  route: MESH_ROUTE,
  schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 300 },
};

function aTwin() {
  const twin = new Twin({
    seed: 5,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    deliverEvents: false,
  });
  // The declared services' cluster: ECS answers ClusterNotFoundException for one it does not have.
  twin.world.addCluster('prod');
  twin.traffic.addMeshRoute({
    meshName: 'shop',
    virtualRouterName: 'web',
    routeName: 'web',
    protocol: 'http',
    targets: [
      { virtualNode: 'web-v1', weight: 70 },
      { virtualNode: 'web-v2', weight: 30 },
    ],
  });
  twin.declaredRoutes.push({
    name: 'web',
    route: MESH_ROUTE,
    services: {
      stable: { cluster: 'prod', service: 'web-v1' },
      canary: { cluster: 'prod', service: 'web-v2' },
    },
  });
  const deps = () => ({ ports: twin.rolloutPorts });
  const step = createRolloutStepHandler(deps);
  const safetyNet = createRolloutSafetyNetHandler(deps);
  return {
    twin,
    step: (event: unknown) => step(event, lambdaContext('rolloutStep')),
    safetyNet: (event: unknown) => safetyNet(event, lambdaContext('rolloutSafetyNet')),
    writes: () => twin.world.apiCalls.filter((c) => c.write).map((c) => c.api),
    canary: () => twin.traffic.weightsNow('web')['web-v2'],
  };
}

describe('rolloutStep handler', () => {
  it.each([
    [{ schedule: { kind: 'canary', weight: 150, bakeSeconds: 300 } }, 'schedule.weight'],
    [{ schedule: { kind: 'weights', weights: [50, 10], bakeSeconds: 300 } }, 'schedule'],
    [{ schedule: { kind: 'canary', weight: 10, bakeSeconds: 300 }, gates: [3] }, 'gates'],
    [{ route: { ...REQUEST.route, canary: 'web-v1' } }, 'route.canary'],
    [{ colour: 'blue' }, ''],
  ])('refuses the request %j, naming %s, and writes nothing', async (change, path) => {
    // Prepare
    const { step, writes } = aTwin();

    // Act
    const refused = step({ action: 'prepare', runId: 'web-1', rollout: { ...REQUEST, ...change } });

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'InvalidInputError',
      issues: expect.arrayContaining([expect.objectContaining({ path })]),
    });
    expect(writes()).toEqual([]);
  });

  it('refuses an unknown action and a state that is not one', async () => {
    const { step } = aTwin();
    await expect(step({ action: 'teleport' })).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(step({ action: 'shift', state: { rollout: REQUEST } })).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
  });

  it('fails with RouteNotFoundError for a route the mesh does not have, writing nothing', async () => {
    // Prepare: declared, but not in the mesh
    const { twin, step, writes } = aTwin();
    twin.declaredRoutes.push({ name: 'api', route: { ...MESH_ROUTE, routeName: 'api' } });

    // Act
    const missing = step({
      action: 'prepare',
      runId: 'web-1',
      rollout: { ...REQUEST, route: { ...REQUEST.route, routeName: 'api' } },
    });

    // Assess
    await expect(missing).rejects.toMatchObject({ name: 'RouteNotFoundError' });
    expect(writes()).toEqual([]);
  });

  it('claims the route, plans the steps from the weights the route holds, and tells people it started', async () => {
    const { step, writes } = aTwin();
    const state = await step({ action: 'prepare', runId: 'web-1', rollout: REQUEST });
    expect(state).toMatchObject({
      next: 'shift',
      plan: [{ canary: 10 }, { canary: 50 }],
      progress: { step: 0, weights: { stable: 70, canary: 30 } },
    });
    expect(writes()).toEqual(['PutItem', 'TagResource', 'Publish']);
  });
});

describe('a direct StartExecution of the rollout workflow', () => {
  it.each([
    [{ route: { ...MESH_ROUTE, routeName: 'api' } }, 'route'],
    [{ promote: { scaleDownStable: { cluster: 'prod', service: 'payments' } } }, 'promote.scaleDownStable'],
    [{ rollback: { scaleDownCanary: { cluster: 'prod', service: 'payments' } } }, 'rollback.scaleDownCanary'],
  ])('with %j fails at its first step (%s), before any write', async (change, _path) => {
    // Prepare: the workflow run on the twin as Step Functions runs it, without the ops API in front
    const { twin, writes, canary } = aTwin();
    twin.start();

    // Act
    twin.startRollout('web-release-9', { ...REQUEST, ...change });
    await twin.runFor(120);

    // Assess
    expect(twin.rolloutRun('web-release-9')).toMatchObject({ status: 'FAILED', error: 'RolloutNotStarted' });
    expect(twin.journal).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'refuse-rollout', outcome: 'held' })]),
    );
    expect(writes()).toEqual([]);
    expect(twin.world.apiCalls.filter((c) => !c.write).map((c) => c.api)).toEqual([]);
    expect(canary()).toBe(30);
  });
});

describe('rolloutSafetyNet handler', () => {
  const failed = loadSample('sfn-rollout-execution-failed') as { detail: Record<string, unknown> };

  it('puts a failed rollout that owns its route back on 100 % stable', async () => {
    // Prepare
    const { twin, safetyNet, canary } = aTwin();
    await twin.rolloutPorts.routers.appmesh.setOwner(REQUEST.route as never, 'web-release-42');

    // Act
    const outcome = await safetyNet(failed);

    // Assess
    expect(outcome).toEqual({ status: 'restored' });
    expect(canary()).toBe(0);
  });

  it('leaves alone a route another rollout owns, and a start that was refused', async () => {
    // Prepare
    const { twin, safetyNet, canary } = aTwin();
    await twin.rolloutPorts.routers.appmesh.setOwner(REQUEST.route as never, 'web-release-43');
    const refused = structuredClone(failed);
    refused.detail.error = 'RouteBusyError';

    // Act
    const outcomes = [await safetyNet(failed), await safetyNet(refused)];

    // Assess
    expect(outcomes).toEqual([{ status: 'nothing-to-do' }, { status: 'ignored', why: 'refused start' }]);
    expect(canary()).toBe(30);
  });

  it.each([
    [{ route: { ...MESH_ROUTE, routeName: 'api' } }],
    [{ rollback: { scaleDownCanary: { cluster: 'prod', service: 'payments' } } }],
  ])('reads nothing for a start refused as not allowed (%j): its route was never claimed', async (change) => {
    // Prepare: the run ended RolloutNotStarted at its first step, which refused the request
    const { twin, safetyNet, canary } = aTwin();
    const refused = structuredClone(failed);
    refused.detail.error = 'RolloutNotStarted';
    refused.detail.input = JSON.stringify({ rollout: { ...REQUEST, ...change } });

    // Act
    const outcome = await safetyNet(refused);

    // Assess
    expect(outcome).toEqual({ status: 'ignored', why: 'refused start' });
    expect(twin.world.apiCalls).toEqual([]);
    expect(canary()).toBe(30);
  });

  it('ignores a rollout that succeeded, and throws (to be retried, then kept) on an event it cannot read', async () => {
    const { safetyNet, canary } = aTwin();
    const succeeded = structuredClone(failed);
    succeeded.detail.status = 'SUCCEEDED';
    await expect(safetyNet(succeeded)).resolves.toEqual({ status: 'ignored', why: 'SUCCEEDED' });
    const broken = structuredClone(failed);
    delete broken.detail.executionArn;
    await expect(safetyNet(broken)).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(canary()).toBe(30);
  });
});

describe('rolloutSafetyNet after a promotion', () => {
  it('does not roll back a promoted release whose scale-down failed afterwards', async () => {
    // Prepare: the route released at 100 % canary, as promoteCanary leaves it
    const { twin, safetyNet } = aTwin();
    await twin.rolloutPorts.routers.appmesh.setWeights(REQUEST.route as never, { stable: 0, canary: 100 });
    const scaleDownFailed = structuredClone(
      loadSample('sfn-rollout-execution-failed') as { detail: Record<string, unknown> },
    );
    scaleDownFailed.detail.error = 'ScaleDownFailed';

    // Act
    const outcome = await safetyNet(scaleDownFailed);

    // Assess
    expect(outcome).toEqual({ status: 'nothing-to-do' });
    expect(twin.traffic.weightsNow('web')['web-v2']).toBe(100);
  });
});

describe('rolloutSafetyNet and other stages', () => {
  it("ignores the end of another stage's rollout workflow (the rule matches every *-rollout machine)", async () => {
    // Prepare
    const { twin, canary } = aTwin();
    await twin.rolloutPorts.routers.appmesh.setOwner(MESH_ROUTE, 'web-release-42');
    const safetyNet = createRolloutSafetyNetHandler(() => ({
      ports: twin.rolloutPorts,
      stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev-rollout',
    }));

    // Act
    const outcome = await safetyNet(
      loadSample('sfn-rollout-execution-failed'),
      lambdaContext('rolloutSafetyNet'),
    );

    // Assess
    expect(outcome).toEqual({ status: 'ignored', why: 'another state machine' });
    expect(canary()).toBe(30);
  });
});

describe('two rollouts claiming one route at once', () => {
  const spec = RolloutSpecSchema.parse(REQUEST);
  /** Both runs are running executions, as they are when two StartExecutions race. */
  const running = (twin: Twin): RolloutPorts => ({
    ...twin.rolloutPorts,
    runs: { ...twin.rolloutPorts.runs, status: async () => 'running' },
  });

  it('lets exactly one win; the other is refused with RouteBusyError', async () => {
    // Prepare
    const { twin } = aTwin();

    // Act
    const outcomes = await Promise.allSettled([
      prepareRollout(spec, 'web-A', running(twin)),
      prepareRollout(spec, 'web-B', running(twin)),
    ]);

    // Assess
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ name: 'RouteBusyError' });
    const won = outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<RolloutState>;
    const route = await twin.rolloutPorts.routers.appmesh.read(MESH_ROUTE);
    expect([route.owner, await twin.rolloutPorts.claims.holder(routeKey(MESH_ROUTE))]).toEqual([
      won.value.run.id,
      won.value.run.id,
    ]);
  });

  it("refuses the one that read the route before the other claimed it, writing nothing: the winner's pause survives", async () => {
    // Prepare: B reads the route free, then, at its first write, waits while A claims the route and a
    // person pauses A
    const { twin } = aTwin();
    let letB: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      letB = resolve;
    });
    let waited = false;
    const atFirstWrite = async () => {
      if (waited) return;
      waited = true;
      await gate;
    };
    const ports = running(twin);
    const router = ports.routers.appmesh;
    const slowB: RolloutPorts = {
      ...ports,
      routers: {
        ...ports.routers,
        appmesh: {
          ...router,
          setOwner: async (route, owner) => {
            await atFirstWrite();
            return router.setOwner(route, owner);
          },
          setRequest: async (route, request) => {
            await atFirstWrite();
            return router.setRequest(route, request);
          },
        },
      },
      claims: {
        claim: async (key, runId, replacing) => {
          await atFirstWrite();
          return ports.claims.claim(key, runId, replacing);
        },
        release: (key, runId) => ports.claims.release(key, runId),
        holder: (key) => ports.claims.holder(key),
      },
    };
    const b = prepareRollout(spec, 'web-B', slowB);
    await prepareRollout(spec, 'web-A', running(twin));
    await twin.rolloutPorts.routers.appmesh.setRequest(MESH_ROUTE, 'pause');
    const before = twin.world.apiCalls.length;

    // Act
    letB();
    const refused = await b.catch((error: Error) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'RouteBusyError' });
    const bCalls = twin.world.apiCalls.slice(before);
    expect(bCalls.filter((c) => c.write && !c.failed)).toEqual([]);
    expect(bCalls.filter((c) => c.write).map((c) => [c.api, c.failed])).toEqual([
      ['PutItem', 'ConditionalCheckFailedException'],
    ]);
    const route = await twin.rolloutPorts.routers.appmesh.read(MESH_ROUTE);
    expect(route).toMatchObject({ owner: 'web-A', request: 'pause' });
    expect(await twin.rolloutPorts.claims.holder(routeKey(MESH_ROUTE))).toBe('web-A');
  });
});
