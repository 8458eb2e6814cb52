// The twin's App Mesh through a real SDK client: what UpdateRoute refuses, that it replaces the whole
// spec, its client token, tags with their pages; and the App Mesh router (the real adapter) over it.
import {
  DescribeRouteCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateRouteCommand,
} from '@aws-sdk/client-app-mesh';
import type { RouteRef } from '#domain/rolloutRoutes';
import { at, aWorld, START, withMeshRoute } from '../../support/trafficWorld';

const ID = { meshName: 'prod', virtualRouterName: 'web-router', routeName: 'web' };

describe('the twin’s App Mesh', () => {
  it('refuses routes with more than 10 targets, weights outside 0..100 or totalling over 100, and changes nothing', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w, [100, 0]);
    const { route } = await w.appMesh.send(new DescribeRouteCommand(ID));
    const spec = route!.spec!;
    const withTargets = (weightedTargets: { virtualNode: string; weight: number }[]) => ({
      ...spec,
      httpRoute: { ...spec.httpRoute!, action: { weightedTargets } },
    });

    // Act & Assess
    expect(() =>
      w.traffic.addMeshRoute({
        meshName: 'prod',
        virtualRouterName: 'web-router',
        routeName: 'wide',
        protocol: 'http',
        targets: Array.from({ length: 11 }, (_, i) => ({ virtualNode: `n${i}`, weight: 9 })),
      }),
    ).toThrow(expect.objectContaining({ name: 'BadRequestException' }));
    for (const weightedTargets of [
      [{ virtualNode: 'web-v1', weight: 101 }],
      [{ virtualNode: 'web-v1', weight: 50.5 }],
      [{ virtualNode: 'web-v1', weight: -1 }],
      [
        { virtualNode: 'web-v1', weight: 60 },
        { virtualNode: 'web-v2', weight: 50 },
      ],
      [],
    ])
      await expect(
        w.appMesh.send(new UpdateRouteCommand({ ...ID, spec: withTargets(weightedTargets) })),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
    const after = await w.appMesh.send(new DescribeRouteCommand(ID));
    expect(after.route!.metadata!.version).toBe(1);
    expect(w.traffic.writes).toEqual([]);
  });

  it('says NotFoundException for a route that does not exist', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w);

    // Act & Assess
    await expect(
      w.appMesh.send(new DescribeRouteCommand({ ...ID, routeName: 'gone' })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('applies an UpdateRoute once for its client token, and refuses the token with another spec', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w, [100, 0]);
    const { route } = await w.appMesh.send(new DescribeRouteCommand(ID));
    const spec = (weight: number) => ({
      ...route!.spec!,
      httpRoute: {
        ...route!.spec!.httpRoute!,
        action: {
          weightedTargets: [
            { virtualNode: 'web-v1', weight: 100 - weight },
            { virtualNode: 'web-v2', weight },
          ],
        },
      },
    });

    // Act
    const first = await w.appMesh.send(new UpdateRouteCommand({ ...ID, spec: spec(10), clientToken: 'a' }));
    const again = await w.appMesh.send(new UpdateRouteCommand({ ...ID, spec: spec(10), clientToken: 'a' }));
    const other = w.appMesh.send(new UpdateRouteCommand({ ...ID, spec: spec(20), clientToken: 'a' }));

    // Assess
    await expect(other).rejects.toMatchObject({ name: 'ConflictException' });
    expect(again.route!.metadata!.version).toBe(first.route!.metadata!.version);
    expect(w.traffic.writes).toHaveLength(1);
    expect(w.traffic.weightsNow('web')).toEqual({ 'web-v1': 90, 'web-v2': 10 });
  });

  it('lists a route’s tags in pages', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w);
    const { route } = await w.appMesh.send(new DescribeRouteCommand(ID));
    const resourceArn = route!.metadata!.arn!;
    const tags = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await w.appMesh.send(new TagResourceCommand({ resourceArn, tags }));

    // Act
    const first = await w.appMesh.send(new ListTagsForResourceCommand({ resourceArn, limit: 3 }));
    const second = await w.appMesh.send(
      new ListTagsForResourceCommand({ resourceArn, limit: 3, nextToken: first.nextToken! }),
    );

    // Assess
    expect([...first.tags!, ...second.tags!]).toEqual(tags);
    expect(second.nextToken).toBeUndefined();
  });
});

describe('the App Mesh router over the twin', () => {
  it('keeps the match, retry policy, timeout, priority and ports when it shifts weights', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [100, 0]);
    const before = w.traffic.mesh.describeRoute(ID);

    // Act
    await w.routers.appmesh.setWeights(ref, { stable: 80, canary: 20 });

    // Assess
    const after = w.traffic.mesh.describeRoute(ID);
    expect(after.spec).toEqual({
      ...before.spec,
      httpRoute: {
        ...before.spec.httpRoute,
        action: {
          weightedTargets: [
            { virtualNode: 'web-v1', weight: 80, port: 8080 },
            { virtualNode: 'web-v2', weight: 20, port: 8080 },
          ],
        },
      },
    });
    expect(after.metadata.version).toBe(2);
    expect(w.writeCalls()).toEqual(['UpdateRoute']);
    expect(w.world.apiCalls.find((c) => c.api === 'UpdateRoute')?.target).toBe(
      'appmesh:prod/web-router/web web-v1=80 web-v2=20',
    );
  });

  it('keeps the rest of a route when a person edits its targets by hand', () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w, [50, 50]);
    const before = w.traffic.mesh.describeRoute(ID);

    // Act
    w.traffic.manualEdit('web', { 'web-v1': 100, 'web-v2': 0 });

    // Assess
    const { httpRoute } = w.traffic.mesh.describeRoute(ID).spec;
    expect({ ...httpRoute, action: undefined }).toEqual({ ...before.spec.httpRoute, action: undefined });
    expect(httpRoute!.action.weightedTargets).toEqual([
      { virtualNode: 'web-v1', weight: 100, port: 8080 },
      { virtualNode: 'web-v2', weight: 0, port: 8080 },
    ]);
    expect(w.traffic.writes.map((write) => [write.by, write.api, write.weights])).toEqual([
      ['person', 'UpdateRoute', { 'web-v1': 100, 'web-v2': 0 }],
    ]);
    expect(w.writeCalls()).toEqual([]);
  });

  it('reads weights and the owner mark', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [75, 25]);

    // Act
    await w.routers.appmesh.setOwner(ref, 'rollout-1');
    const owned = await w.routers.appmesh.read(ref);
    await w.routers.appmesh.setOwner(ref, null);
    const released = await w.routers.appmesh.read(ref);

    // Assess
    expect(owned).toEqual({
      weights: { stable: 75, canary: 25 },
      targets: [
        { id: 'web-v1', weight: 75 },
        { id: 'web-v2', weight: 25 },
      ],
      owner: 'rollout-1',
    });
    expect(released.owner).toBeUndefined();
    // The first tag looks the route's ARN up; the untag uses the ARN the read gave.
    expect(w.world.apiCalls.map((c) => c.api)).toEqual([
      'DescribeRoute',
      'TagResource',
      'DescribeRoute',
      'ListTagsForResource',
      'UntagResource',
      'DescribeRoute',
      'ListTagsForResource',
    ]);
  });

  it.each([
    {
      // 10 targets already, none of them the canary
      leaving: 'more than 10 targets',
      targets: Array.from({ length: 10 }, (_, i) => ({ virtualNode: `n${i}`, weight: 10 })),
      stable: 'n0',
      refusal: '1..10 weighted targets',
    },
    {
      // 10 % to a mirror the rollout does not own, and stable and canary take 100 between them
      leaving: 'weights over 100 in all',
      targets: [
        { virtualNode: 'web-v1', weight: 90 },
        { virtualNode: 'web-v2', weight: 0 },
        { virtualNode: 'mirror', weight: 10 },
      ],
      stable: 'web-v1',
      refusal: 'must total at most 100, not 110',
    },
  ])(
    'refuses weights that would leave a route with $leaving, before any write',
    async ({ targets, stable, refusal }) => {
      // Prepare
      const w = aWorld();
      w.traffic.addMeshRoute({ ...ID, routeName: 'other', protocol: 'http', targets });
      const mesh: RouteRef = { router: 'appmesh', ...ID, routeName: 'other', stable, canary: 'web-v2' };

      // Act & Assess
      await expect(w.routers.appmesh.setWeights(mesh, { stable: 50, canary: 50 })).rejects.toMatchObject({
        name: 'WeightOutOfRangeError',
        message: expect.stringContaining(refusal),
      });
      expect(w.writeCalls()).toEqual([]);
      expect(w.traffic.writes).toEqual([]);
    },
  );

  it('says RouteNotFoundError for a route that does not exist', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w);

    // Act & Assess
    await expect(w.routers.appmesh.read({ ...ref, routeName: 'gone' })).rejects.toMatchObject({
      name: 'RouteNotFoundError',
    });
  });

  it('has a throttled UpdateRoute retried by the SDK, each attempt recorded', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w);
    w.faults.add({ api: 'UpdateRoute', from: START, until: at(1), rate: 1, error: 'ThrottlingException' });

    // Act & Assess
    await expect(
      w.during(() => w.routers.appmesh.setWeights(ref, { stable: 90, canary: 10 })),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    const attempts = w.world.apiCalls.filter((c) => c.api === 'UpdateRoute');
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.every((c) => c.failed === 'ThrottlingException')).toBe(true);
    expect(w.traffic.writes).toEqual([]);
  });

  it('writes a route once when UpdateRoute took effect and its answer was lost', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w);
    w.faults.add({
      api: 'UpdateRoute',
      from: START,
      until: at(1),
      rate: 1,
      error: 'TimeoutError',
      applied: true,
    });

    // Act
    await w
      .during(() => w.routers.appmesh.setWeights(ref, { stable: 90, canary: 10 }))
      .catch(() => undefined);

    // Assess: the retries carry the same client token, so App Mesh applies the first only
    expect(w.world.apiCalls.filter((c) => c.api === 'UpdateRoute').length).toBeGreaterThan(1);
    expect(w.traffic.writes).toHaveLength(1);
    expect(w.traffic.weightsNow('web')).toEqual({ 'web-v1': 90, 'web-v2': 10 });
  });
});
