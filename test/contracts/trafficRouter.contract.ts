// The TrafficRouter contract: what a progressive rollout relies on any router to do, checked on one route
// made for the purpose. The route splits between stable and canary at 100/0 and holds a third target at 0
// that is neither (another version, kept by whoever made the route), so that "everything else on the route
// is kept" shows through the port itself: `read` returns every weighted target, raw.

import type { RouteRef, WeightedTarget, Weights } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';
import type { Eventually } from './harness';

export interface RouterWorld {
  /** Stable at 100, canary at 0, the bystander at 0; no owner, no request. */
  route: RouteRef;
  /** The third target's id (virtual node name, target group ARN): neither stable nor canary. */
  bystander: string;
  /** The same kind of route, naming one that does not exist. */
  missing: RouteRef;
}

export interface RouterHarness {
  router: TrafficRouter;
  eventually: Eventually;
  given(): Promise<RouterWorld>;
}

/** Weights `weightsProblem` refuses, one reason each: every router refuses them before any call. */
const OUT_OF_RANGE: Weights[] = [
  { stable: 101, canary: -1 },
  { stable: 50.5, canary: 49.5 },
  { stable: 60, canary: 60 },
  { stable: 0, canary: 0 },
];

/** Targets in one order: the contract asserts what a route holds, not the order a service lists it in. */
const byId = (targets: WeightedTarget[]): WeightedTarget[] =>
  [...targets].sort((a, b) => a.id.localeCompare(b.id));

export function trafficRouterContract(harness: () => RouterHarness): void {
  let routers: RouterHarness;
  let world: RouterWorld;

  beforeAll(async () => {
    routers = harness();
    world = await routers.given();
  });

  const onRoute = (title: string, test: (world: RouterWorld) => Promise<void>) =>
    it(title, () => test(world));

  /** Every target of the route with the weights the contract expects of stable, canary and the bystander. */
  const targetsAt = ({ route, bystander }: RouterWorld, weights: Weights): WeightedTarget[] =>
    byId([
      { id: route.stable, weight: weights.stable },
      { id: route.canary, weight: weights.canary },
      { id: bystander, weight: 0 },
    ]);

  onRoute('reads the route as it was made: all to stable, every target, no owner, no request', async (w) => {
    // Act
    const state = await routers.router.read(w.route);

    // Assess
    expect(state.weights).toEqual({ stable: 100, canary: 0 });
    expect(byId(state.targets)).toEqual(targetsAt(w, { stable: 100, canary: 0 }));
    expect(state.owner).toBeUndefined();
    expect(state.request).toBeUndefined();
  });

  onRoute('writes absolute weights, and verifies exactly those and no others', async (w) => {
    // Act
    await routers.router.setWeights(w.route, { stable: 90, canary: 10 });
    const first = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.weights.canary === 10,
    );
    await routers.router.setWeights(w.route, { stable: 60, canary: 40 });
    const verified = await routers.eventually(
      () => routers.router.verifyWeights(w.route, { stable: 60, canary: 40 }),
      (ok) => ok,
    );
    const others = await Promise.all(
      [
        { stable: 90, canary: 10 },
        { stable: 100, canary: 0 },
        { stable: 40, canary: 60 },
      ].map((weights) => routers.router.verifyWeights(w.route, weights)),
    );

    // Assess
    expect(first.weights).toEqual({ stable: 90, canary: 10 });
    expect(verified).toBe(true);
    expect(others).toEqual([false, false, false]);
  });

  onRoute('keeps every other target of the route, at its weight', async (w) => {
    // Act
    await routers.router.setWeights(w.route, { stable: 75, canary: 25 });
    const state = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.weights.canary === 25,
    );

    // Assess
    expect(byId(state.targets)).toEqual(targetsAt(w, { stable: 75, canary: 25 }));
  });

  onRoute('refuses weights out of range with WeightOutOfRangeError and writes nothing', async (w) => {
    // Arrange
    const before = await routers.router.read(w.route);

    // Act
    const refusals = await Promise.all(
      OUT_OF_RANGE.map((weights) => routers.router.setWeights(w.route, weights).catch((error) => error)),
    );
    const after = await routers.router.read(w.route);

    // Assess
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(WeightOutOfRangeError);
    expect(after.weights).toEqual(before.weights);
    expect(byId(after.targets)).toEqual(byId(before.targets));
  });

  onRoute('marks the owner, then a request next to it, and reads both with the weights', async (w) => {
    // Arrange
    const { weights } = await routers.router.read(w.route);

    // Act
    await routers.router.setOwner(w.route, 'contract-run-1');
    const owned = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.owner === 'contract-run-1',
    );
    await routers.router.setRequest(w.route, 'pause');
    const paused = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.request === 'pause',
    );

    // Assess
    expect(owned).toMatchObject({ owner: 'contract-run-1', weights });
    expect(owned.request).toBeUndefined();
    expect(paused).toMatchObject({ owner: 'contract-run-1', request: 'pause', weights });
  });

  onRoute('replaces a request, and clears it alone, the owner kept', async (w) => {
    // Act
    await routers.router.setRequest(w.route, 'promote');
    const promoted = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.request === 'promote',
    );
    await routers.router.setRequest(w.route, null);
    const cleared = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.request === undefined,
    );

    // Assess
    expect(promoted).toMatchObject({ owner: 'contract-run-1', request: 'promote' });
    expect(cleared.owner).toBe('contract-run-1');
    expect(cleared.request).toBeUndefined();
  });

  onRoute('releases the route: clearing the owner clears the request with it', async (w) => {
    // Arrange
    await routers.router.setRequest(w.route, 'pause');
    await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.request === 'pause',
    );

    // Act
    await routers.router.setOwner(w.route, null);
    const released = await routers.eventually(
      () => routers.router.read(w.route),
      (s) => s.owner === undefined && s.request === undefined,
    );

    // Assess
    expect(released.owner).toBeUndefined();
    expect(released.request).toBeUndefined();
  });

  onRoute('answers RouteNotFoundError for a route that does not exist, reading or writing', async (w) => {
    // Act
    const failures = await Promise.all([
      routers.router.read(w.missing).catch((error) => error),
      routers.router.verifyWeights(w.missing, { stable: 100, canary: 0 }).catch((error) => error),
      routers.router.setWeights(w.missing, { stable: 90, canary: 10 }).catch((error) => error),
    ]);

    // Assess
    for (const failure of failures) expect(failure).toBeInstanceOf(RouteNotFoundError);
  });
}
