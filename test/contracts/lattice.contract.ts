// What a rollout relies on the VPC Lattice router to do beyond the TrafficRouter contract (which it passes
// on a listener rule: lattice.test.ts, lattice.awstest.ts): shift a listener's default action, where the
// write goes through the listener and the marks sit on the listener; refuse the default action named by its
// default rule's ARN, so that one action has one claim; and read a person's edit as it is, so that the
// rollout's hand-edit check sees it.
import type { RouteRef, WeightedTarget } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import type { Eventually } from './harness';

export interface LatticeWorld {
  /** A listener's default action: stable at 100, canary at 0; no owner, no request. */
  defaultAction: Extract<RouteRef, { router: 'lattice' }>;
  /** The same default action named by its default rule's ARN, as GetRule and ListRules give it. */
  defaultRule: Extract<RouteRef, { router: 'lattice' }>;
  /** A person's edit of the route, outside the router (the console, the CLI): these targets become all. */
  editByHand(route: Extract<RouteRef, { router: 'lattice' }>, targets: WeightedTarget[]): Promise<void>;
}

export interface LatticeHarness {
  router: TrafficRouter;
  eventually: Eventually;
  given(): Promise<LatticeWorld>;
}

export function latticeRouterContract(harness: () => LatticeHarness): void {
  let lattice: LatticeHarness;
  let world: LatticeWorld;

  beforeAll(async () => {
    lattice = harness();
    world = await lattice.given();
  });

  it('shifts a listener default action and marks the listener, then releases it', async () => {
    // Arrange
    const route = world.defaultAction;
    const before = await lattice.router.read(route);

    // Act
    await lattice.router.setWeights(route, { stable: 80, canary: 20 }, before);
    const shifted = await lattice.eventually(
      () => lattice.router.read(route),
      (s) => s.weights.canary === 20,
    );
    await lattice.router.setOwner(route, 'contract-run-2');
    const owned = await lattice.eventually(
      () => lattice.router.read(route),
      (s) => s.owner === 'contract-run-2',
    );
    await lattice.router.setOwner(route, null);
    const released = await lattice.eventually(
      () => lattice.router.read(route),
      (s) => s.owner === undefined,
    );

    // Assess
    expect(before.weights).toEqual({ stable: 100, canary: 0 });
    expect(shifted.weights).toEqual({ stable: 80, canary: 20 });
    expect(await lattice.router.verifyWeights(route, { stable: 80, canary: 20 })).toBe(true);
    expect(owned.owner).toBe('contract-run-2');
    expect(released.owner).toBeUndefined();
  });

  it("reads a person's edit as it is, not the weights last written", async () => {
    // Arrange
    const route = world.defaultAction;
    await lattice.router.setWeights(route, { stable: 90, canary: 10 });
    await lattice.eventually(
      () => lattice.router.verifyWeights(route, { stable: 90, canary: 10 }),
      (ok) => ok,
    );

    // Act
    await world.editByHand(route, [
      { id: route.stable, weight: 1 },
      { id: route.canary, weight: 1 },
    ]);
    const edited = await lattice.eventually(
      () => lattice.router.read(route),
      (s) => s.weights.canary === 50,
    );

    // Assess
    expect(edited.weights).toEqual({ stable: 50, canary: 50 });
    expect(await lattice.router.verifyWeights(route, { stable: 90, canary: 10 })).toBe(false);
  });

  it("refuses the default action named by its default rule's ARN, so a second rollout cannot claim it under that name", async () => {
    // Arrange: a rollout holds the default action by the listener's name.
    const held = world.defaultAction;
    await lattice.router.setOwner(held, 'contract-run-3');
    const before = await lattice.eventually(
      () => lattice.router.read(held),
      (s) => s.owner === 'contract-run-3',
    );

    // Act
    const read = lattice.router.read(world.defaultRule);
    const shift = lattice.router.setWeights(world.defaultRule, { stable: 0, canary: 100 });

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'InvalidInputError' });
    await expect(shift).rejects.toThrow(/is the default rule of .*: name its default action by the listener/);
    expect((await lattice.router.read(held)).weights).toEqual(before.weights);
    await lattice.router.setOwner(held, null);
  });
}
