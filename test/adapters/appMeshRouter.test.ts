import {
  AppMeshClient,
  DescribeRouteCommand,
  type DescribeRouteOutput,
  ListTagsForResourceCommand,
  NotFoundException,
  type RouteSpec,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateRouteCommand,
} from '@aws-sdk/client-app-mesh';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { appMeshRouter } from '#adapters/aws/appMeshRouter';
import type { RouteRef, Weights } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

const appMesh = mockClient(AppMeshClient);
/** A router as a cold start builds it: it knows no route's ARN yet. */
const newRouter = () => appMeshRouter(appMesh as unknown as AppMeshClient, { warn: () => undefined });
let router = newRouter();

const ROUTE_ARN = 'arn:aws:appmesh:eu-west-1:111122223333:mesh/shop/virtualRouter/web-router/route/web';
const OWNER_TAG = 'ecs-reflex:rollout';
const REQUEST_TAG = 'ecs-reflex:request';

const ROUTE: RouteRef = {
  router: 'appmesh',
  meshName: 'shop',
  virtualRouterName: 'web-router',
  routeName: 'web',
  stable: 'web-v1',
  canary: 'web-v2',
};

const HTTP_ROUTE = {
  match: {
    prefix: '/',
    method: 'GET',
    scheme: 'https',
    port: 8080,
    headers: [{ name: 'x-shop-beta', invert: false, match: { exact: 'on' } }],
  },
  action: {
    weightedTargets: [
      { virtualNode: 'web-v1', weight: 90, port: 8080 },
      { virtualNode: 'web-v2', weight: 10, port: 8080 },
    ],
  },
  retryPolicy: {
    maxRetries: 3,
    perRetryTimeout: { unit: 'ms', value: 2000 },
    httpRetryEvents: ['server-error', 'gateway-error'],
    tcpRetryEvents: ['connection-error'],
  },
  timeout: { perRequest: { unit: 's', value: 15 }, idle: { unit: 's', value: 300 } },
} satisfies RouteSpec['httpRoute'];

const SPECS: Record<'http' | 'http2' | 'grpc' | 'tcp', RouteSpec> = {
  http: { priority: 10, httpRoute: HTTP_ROUTE },
  http2: { priority: 20, http2Route: HTTP_ROUTE },
  grpc: {
    priority: 30,
    grpcRoute: {
      match: {
        serviceName: 'shop.Cart',
        methodName: 'AddItem',
        metadata: [{ name: 'x-tenant', invert: false, match: { prefix: 'beta-' } }],
      },
      action: HTTP_ROUTE.action,
      retryPolicy: {
        maxRetries: 2,
        perRetryTimeout: { unit: 'ms', value: 500 },
        grpcRetryEvents: ['unavailable', 'deadline-exceeded'],
        httpRetryEvents: ['stream-error'],
      },
      timeout: { perRequest: { unit: 's', value: 5 } },
    },
  },
  tcp: {
    tcpRoute: {
      match: { port: 5432 },
      action: {
        weightedTargets: [
          { virtualNode: 'web-v1', weight: 90 },
          { virtualNode: 'web-v2', weight: 10 },
        ],
      },
      timeout: { idle: { unit: 's', value: 600 } },
    },
  },
};

function described(spec: RouteSpec = SPECS.http): DescribeRouteOutput {
  return {
    route: {
      meshName: 'shop',
      virtualRouterName: 'web-router',
      routeName: 'web',
      spec: structuredClone(spec),
      metadata: {
        arn: ROUTE_ARN,
        version: 7,
        uid: 'a1b2c3d4-5678-90ab-cdef-11112222aaaa',
        createdAt: new Date('2026-03-02T09:00:00Z'),
        lastUpdatedAt: new Date('2026-06-11T14:20:00Z'),
        meshOwner: '111122223333',
        resourceOwner: '111122223333',
      },
      status: { status: 'ACTIVE' },
    },
  };
}

/** The weighted targets of whichever route kind the spec holds, to change in an expected copy. */
function targetsIn(spec: RouteSpec) {
  const route = spec.httpRoute ?? spec.http2Route ?? spec.grpcRoute ?? spec.tcpRoute;
  return route!.action!.weightedTargets!;
}

const sentUpdates = () => appMesh.commandCalls(UpdateRouteCommand).map((call) => call.args[0].input);

beforeEach(() => {
  appMesh.reset();
  router = newRouter();
});

describe('read', () => {
  it('reads the weighted targets, the weights in percent and the owning rollout of an HTTP route', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({
      tags: [
        { key: 'team', value: 'shop' },
        { key: OWNER_TAG, value: 'web-rollout-42' },
      ],
    });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state).toEqual({
      weights: { stable: 90, canary: 10 },
      targets: [
        { id: 'web-v1', weight: 90 },
        { id: 'web-v2', weight: 10 },
      ],
      owner: 'web-rollout-42',
    });
    expect(appMesh.commandCalls(DescribeRouteCommand).map((call) => call.args[0].input)).toEqual([
      { meshName: 'shop', virtualRouterName: 'web-router', routeName: 'web' },
    ]);
    expect(appMesh.commandCalls(ListTagsForResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN },
    ]);
  });

  it.each(Object.entries(SPECS))('reads a %s route', async (_kind, spec) => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described(spec));
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state).toEqual({
      weights: { stable: 90, canary: 10 },
      targets: [
        { id: 'web-v1', weight: 90 },
        { id: 'web-v2', weight: 10 },
      ],
    });
  });

  it('names the mesh owner for a mesh shared from another account', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });

    // Act
    await router.read({ ...ROUTE, meshOwner: '444455556666' });

    // Assess
    expect(appMesh.commandCalls(DescribeRouteCommand)[0]?.args[0].input).toEqual({
      meshName: 'shop',
      meshOwner: '444455556666',
      virtualRouterName: 'web-router',
      routeName: 'web',
    });
  });

  it("reads a person's request next to the owner, from the same ListTagsForResource", async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({
      tags: [
        { key: OWNER_TAG, value: 'web-rollout-42' },
        { key: REQUEST_TAG, value: 'promote' },
      ],
    });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state).toMatchObject({ owner: 'web-rollout-42', request: 'promote' });
    expect(appMesh).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 1);
  });

  it('finds the request on a later page, and stops paging once it has both marks', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh
      .on(ListTagsForResourceCommand)
      .resolvesOnce({ tags: [{ key: OWNER_TAG, value: 'web-rollout-43' }], nextToken: 'page-2' })
      .resolvesOnce({ tags: [{ key: REQUEST_TAG, value: 'pause' }], nextToken: 'page-3' })
      .resolvesOnce({ tags: [{ key: 'team', value: 'shop' }] });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state).toMatchObject({ owner: 'web-rollout-43', request: 'pause' });
    expect(appMesh).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 2);
  });

  it('finds the owner tag on a later page of tags', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh
      .on(ListTagsForResourceCommand)
      .resolvesOnce({ tags: [{ key: 'team', value: 'shop' }], nextToken: 'page-2' })
      .resolvesOnce({ tags: [{ key: OWNER_TAG, value: 'web-rollout-43' }] });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state.owner).toBe('web-rollout-43');
    expect(appMesh.commandCalls(ListTagsForResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN },
      { resourceArn: ROUTE_ARN, nextToken: 'page-2' },
    ]);
  });

  it('gives a 0 % canary for a route that does not name the canary yet', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    spec.httpRoute!.action!.weightedTargets = [{ virtualNode: 'web-v1', weight: 100, port: 8080 }];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });

    // Act
    const state = await router.read(ROUTE);

    // Assess
    expect(state).toEqual({ weights: { stable: 100, canary: 0 }, targets: [{ id: 'web-v1', weight: 100 }] });
  });

  it('throws RouteNotFoundError for a route App Mesh does not know', async () => {
    // Prepare
    appMesh
      .on(DescribeRouteCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));

    // Act
    const error = await router.read(ROUTE).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RouteNotFoundError);
    expect(error).toHaveProperty('name', 'RouteNotFoundError');
    expect(appMesh).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it('throws RouteNotFoundError for a route without weighted targets', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    spec.httpRoute!.action!.weightedTargets = [];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));

    // Act
    const reading = router.read(ROUTE);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(RouteNotFoundError);
  });

  it('refuses an ALB route', async () => {
    // Act
    const reading = router.read({
      router: 'alb',
      listenerArn:
        'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2',
      stable: 'tg-a',
      canary: 'tg-b',
    });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(InvalidInputError);
    expect(appMesh).not.toHaveReceivedAnyCommand();
  });
});

describe('setWeights', () => {
  it.each(Object.entries(SPECS))(
    'writes back the whole %s route with only the two weights changed',
    async (_kind, spec) => {
      // Prepare
      appMesh.on(DescribeRouteCommand).resolves(described(spec));
      appMesh.on(UpdateRouteCommand).resolves({});
      const expected = structuredClone(spec);
      const [stable, canary] = targetsIn(expected);
      stable!.weight = 70;
      canary!.weight = 30;

      // Act
      await router.setWeights(ROUTE, { stable: 70, canary: 30 });

      // Assess
      const [update, ...more] = sentUpdates();
      expect(more).toEqual([]);
      expect(update).toEqual({
        meshName: 'shop',
        virtualRouterName: 'web-router',
        routeName: 'web',
        spec: expected,
        clientToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
    },
  );

  it('writes back the route its read answered, without reading it again', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });
    appMesh.on(UpdateRouteCommand).resolves({});
    const state = await router.read(ROUTE);

    // Act
    await router.setWeights(ROUTE, { stable: 70, canary: 30 }, state);

    // Assess
    expect(appMesh.commandCalls(DescribeRouteCommand)).toHaveLength(1);
    expect(sentUpdates()).toHaveLength(1);
    expect(targetsIn(sentUpdates()[0]!.spec!).map((t) => t.weight)).toEqual([70, 30]);
  });

  it("reads the route first when the state given is not one this router's read answered", async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(UpdateRouteCommand).resolves({});
    const elsewhere = { weights: { stable: 90, canary: 10 }, targets: [] };

    // Act
    await router.setWeights(ROUTE, { stable: 70, canary: 30 }, elsewhere);

    // Assess
    expect(appMesh.commandCalls(DescribeRouteCommand)).toHaveLength(1);
    expect(sentUpdates()).toHaveLength(1);
  });

  it('keeps the weights of other targets and their ports, and writes to a shared mesh by its owner', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    // Another target stays at 0: App Mesh's weights total at most 100, and the rollout's take all of it.
    spec.httpRoute!.action!.weightedTargets = [
      { virtualNode: 'web-legacy', weight: 0, port: 8080 },
      { virtualNode: 'web-v1', weight: 90, port: 8080 },
      { virtualNode: 'web-v2', weight: 10, port: 8080 },
    ];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));
    appMesh.on(UpdateRouteCommand).resolves({});

    // Act
    await router.setWeights({ ...ROUTE, meshOwner: '444455556666' }, { stable: 50, canary: 50 });

    // Assess
    const [update] = sentUpdates();
    expect(update?.meshOwner).toBe('444455556666');
    expect(update?.spec?.httpRoute?.action?.weightedTargets).toEqual([
      { virtualNode: 'web-legacy', weight: 0, port: 8080 },
      { virtualNode: 'web-v1', weight: 50, port: 8080 },
      { virtualNode: 'web-v2', weight: 50, port: 8080 },
    ]);
  });

  it('adds the canary target, on the port the other targets name, when the route lacks it', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    spec.httpRoute!.action!.weightedTargets = [{ virtualNode: 'web-v1', weight: 100, port: 8080 }];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));
    appMesh.on(UpdateRouteCommand).resolves({});

    // Act
    await router.setWeights(ROUTE, { stable: 95, canary: 5 });

    // Assess
    expect(sentUpdates()[0]?.spec?.httpRoute?.action?.weightedTargets).toEqual([
      { virtualNode: 'web-v1', weight: 95, port: 8080 },
      { virtualNode: 'web-v2', weight: 5, port: 8080 },
    ]);
  });

  it('writes nothing when the route already holds the weights', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());

    // Act
    await router.setWeights(ROUTE, { stable: 90, canary: 10 });

    // Assess
    expect(appMesh).toHaveReceivedCommandTimes(DescribeRouteCommand, 1);
    expect(appMesh).not.toHaveReceivedCommand(UpdateRouteCommand);
  });

  it('writes nothing to put a canary the route lacks at 0 %', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    spec.httpRoute!.action!.weightedTargets = [{ virtualNode: 'web-v1', weight: 100, port: 8080 }];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));

    // Act
    await router.setWeights(ROUTE, { stable: 100, canary: 0 });

    // Assess
    expect(appMesh).not.toHaveReceivedCommand(UpdateRouteCommand);
  });

  it('sends the same client token for the same write of the same route version, another for the next', async () => {
    // Prepare
    const later = described();
    later.route!.metadata!.version = 8;
    appMesh.on(DescribeRouteCommand).resolvesOnce(described()).resolvesOnce(described()).resolvesOnce(later);
    appMesh.on(UpdateRouteCommand).resolves({});

    // Act
    await router.setWeights(ROUTE, { stable: 80, canary: 20 });
    await router.setWeights(ROUTE, { stable: 80, canary: 20 });
    await router.setWeights(ROUTE, { stable: 80, canary: 20 });

    // Assess
    const [first, retried, next] = sentUpdates().map((input) => input.clientToken);
    expect(retried).toBe(first);
    expect(next).not.toBe(first);
  });

  it.each<[string, Weights]>([
    ['a canary of 101', { stable: -1, canary: 101 }],
    ['weights summing to 101', { stable: 0, canary: 101 }],
    ['a negative weight', { stable: 110, canary: -10 }],
    ['fractional weights', { stable: 89.5, canary: 10.5 }],
    ['weights summing to 90', { stable: 80, canary: 10 }],
  ])('refuses %s before calling App Mesh at all', async (_case, weights) => {
    // Act
    const error = await router.setWeights(ROUTE, weights).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WeightOutOfRangeError);
    expect(error).toHaveProperty('name', 'WeightOutOfRangeError');
    expect(appMesh).not.toHaveReceivedAnyCommand();
  });

  it('refuses an eleventh weighted target and writes nothing', async () => {
    // Prepare
    const spec = structuredClone(SPECS.http);
    spec.httpRoute!.action!.weightedTargets = [
      { virtualNode: 'web-v1', weight: 91, port: 8080 },
      ...Array.from({ length: 9 }, (_, n) => ({ virtualNode: `web-shard-${n}`, weight: 1, port: 8080 })),
    ];
    appMesh.on(DescribeRouteCommand).resolves(described(spec));

    // Act
    const error = await router.setWeights(ROUTE, { stable: 90, canary: 10 }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(WeightOutOfRangeError);
    expect((error as Error).message).toContain('not 11');
    expect(appMesh).not.toHaveReceivedCommand(UpdateRouteCommand);
  });

  it('throws RouteNotFoundError and writes nothing for a missing route', async () => {
    // Prepare
    appMesh
      .on(DescribeRouteCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));

    // Act
    const setting = router.setWeights(ROUTE, { stable: 50, canary: 50 });

    // Assess
    await expect(setting).rejects.toBeInstanceOf(RouteNotFoundError);
    expect(appMesh).not.toHaveReceivedCommand(UpdateRouteCommand);
  });

  it('throws RouteNotFoundError when the route is deleted between the read and the write', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh
      .on(UpdateRouteCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));

    // Act
    const setting = router.setWeights(ROUTE, { stable: 50, canary: 50 });

    // Assess
    await expect(setting).rejects.toBeInstanceOf(RouteNotFoundError);
  });
});

describe('verifyWeights', () => {
  it('confirms the weights the route holds, with a fresh read and no tag lookup', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());

    // Act
    const holds = await router.verifyWeights(ROUTE, { stable: 90, canary: 10 });
    const holdsOther = await router.verifyWeights(ROUTE, { stable: 80, canary: 20 });

    // Assess
    expect(holds).toBe(true);
    expect(holdsOther).toBe(false);
    expect(appMesh).toHaveReceivedCommandTimes(DescribeRouteCommand, 2);
    expect(appMesh).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });
});

describe('setOwner', () => {
  it('tags the route with the owning rollout', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(TagResourceCommand).resolves({});

    // Act
    await router.setOwner(ROUTE, 'web-rollout-42');

    // Assess
    expect(appMesh.commandCalls(TagResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN, tags: [{ key: OWNER_TAG, value: 'web-rollout-42' }] },
    ]);
    expect(appMesh).not.toHaveReceivedCommand(UntagResourceCommand);
  });

  it('tags by the ARN an earlier answer gave, with no look-up first', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });
    appMesh.on(TagResourceCommand).resolves({});
    appMesh.on(UntagResourceCommand).resolves({});
    await router.read(ROUTE);

    // Act
    await router.setOwner(ROUTE, 'web-rollout-42');
    await router.setRequest(ROUTE, null);
    await router.setOwner(ROUTE, null);

    // Assess
    expect(appMesh.commandCalls(DescribeRouteCommand)).toHaveLength(1);
    expect(appMesh.commandCalls(TagResourceCommand)[0]!.args[0].input.resourceArn).toBe(ROUTE_ARN);
    expect(appMesh.commandCalls(UntagResourceCommand)).toHaveLength(2);
  });

  it('throws RouteNotFoundError for a route deleted since its ARN was seen', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(ListTagsForResourceCommand).resolves({ tags: [] });
    appMesh
      .on(TagResourceCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));
    await router.read(ROUTE);

    // Act
    const marking = router.setOwner(ROUTE, 'web-rollout-42');

    // Assess
    await expect(marking).rejects.toBeInstanceOf(RouteNotFoundError);
  });

  it('clears the mark by removing the tag, and any request with it, in one call', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(UntagResourceCommand).resolves({});

    // Act
    await router.setOwner(ROUTE, null);

    // Assess
    expect(appMesh.commandCalls(UntagResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN, tagKeys: [OWNER_TAG, REQUEST_TAG] },
    ]);
    expect(appMesh).not.toHaveReceivedCommand(TagResourceCommand);
  });

  it('throws RouteNotFoundError for a missing route', async () => {
    // Prepare
    appMesh
      .on(DescribeRouteCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));

    // Act
    const marking = router.setOwner(ROUTE, 'web-rollout-42');

    // Assess
    await expect(marking).rejects.toBeInstanceOf(RouteNotFoundError);
    expect(appMesh).not.toHaveReceivedCommand(TagResourceCommand);
  });
});

describe('setRequest', () => {
  it("tags the route with a person's request, by the ARN the route has", async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(TagResourceCommand).resolves({});

    // Act
    await router.setRequest(ROUTE, 'pause');

    // Assess
    expect(appMesh.commandCalls(TagResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN, tags: [{ key: REQUEST_TAG, value: 'pause' }] },
    ]);
    expect(appMesh).not.toHaveReceivedCommand(UntagResourceCommand);
  });

  it('clears the request alone, leaving the owner', async () => {
    // Prepare
    appMesh.on(DescribeRouteCommand).resolves(described());
    appMesh.on(UntagResourceCommand).resolves({});

    // Act
    await router.setRequest(ROUTE, null);

    // Assess
    expect(appMesh.commandCalls(UntagResourceCommand).map((call) => call.args[0].input)).toEqual([
      { resourceArn: ROUTE_ARN, tagKeys: [REQUEST_TAG] },
    ]);
    expect(appMesh).not.toHaveReceivedCommand(TagResourceCommand);
  });

  it('throws RouteNotFoundError for a missing route, before tagging anything', async () => {
    // Prepare
    appMesh
      .on(DescribeRouteCommand)
      .rejects(new NotFoundException({ message: 'Route not found: web', $metadata: {} }));

    // Act
    const marking = router.setRequest(ROUTE, 'promote');

    // Assess
    await expect(marking).rejects.toBeInstanceOf(RouteNotFoundError);
    expect(appMesh).not.toHaveReceivedCommand(TagResourceCommand);
  });
});

describe('end of support', () => {
  type Module = typeof import('#adapters/aws/appMeshRouter');
  // The fresh module loads its own SDK too, whose command classes the shared mock does not know; every call
  // these tests make is a DescribeRoute.
  const describing = { send: async () => described() } as unknown as AppMeshClient;

  /** A cold start: the adapter module loaded afresh, with its own once-only flag. */
  function coldStart(use: (fresh: Module, powertools: typeof import('#runtime/powertools')) => void): void {
    jest.isolateModules(() => {
      const powertools = require('#runtime/powertools') as typeof import('#runtime/powertools');
      use(require('#adapters/aws/appMeshRouter') as Module, powertools);
    });
  }

  it('warns once, on first use, however many routers and calls follow', async () => {
    // Prepare
    const warn = jest.fn();
    let routers: TrafficRouter[] = [];
    coldStart((fresh) => {
      routers = [fresh.appMeshRouter(describing, { warn })];
      routers.push(fresh.appMeshRouter(describing, { warn }));
    });
    const wiredOnly = warn.mock.calls.length;

    // Act
    for (const each of routers) {
      await each.verifyWeights(ROUTE, { stable: 90, canary: 10 });
      await each.setWeights(ROUTE, { stable: 90, canary: 10 });
    }

    // Assess
    expect(wiredOnly).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, extra] = warn.mock.calls[0] ?? [];
    expect(message).toContain('AWS App Mesh reached end of support on 2026-09-30');
    expect(message).toContain('ALB router');
    expect(extra).toEqual({ router: 'appmesh', endOfSupport: '2026-09-30', replacement: 'alb' });
  });

  it('warns through the Powertools logger by default', async () => {
    // Prepare
    let warned: jest.SpyInstance | undefined;
    let fresh: TrafficRouter | undefined;
    coldStart((module, { logger }) => {
      warned = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
      fresh = module.appMeshRouter(describing);
    });

    // Act
    await fresh!.verifyWeights(ROUTE, { stable: 90, canary: 10 });
    await fresh!.verifyWeights(ROUTE, { stable: 90, canary: 10 });

    // Assess
    expect(warned).toHaveBeenCalledTimes(1);
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('end of support on 2026-09-30'), {
      router: 'appmesh',
      endOfSupport: '2026-09-30',
      replacement: 'alb',
    });
  });
});
