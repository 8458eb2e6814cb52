import fc from 'fast-check';
import {
  ALL_STABLE,
  ROUTER_LIMITS,
  type RouteRef,
  targetsProblem,
  weightsFor,
  weightsOf,
  weightsProblem,
  withWeights,
} from '#domain/rolloutRoutes';
import { gatesProblem, planSteps, type Schedule, scheduleProblem } from '#domain/rolloutSchedule';
import { MESH_ROUTE } from '../support/rollouts';

// Up to 2,600 s a step keeps even a 99-step linear schedule within the 3-day total the workflow allows.
const bake = fc.integer({ min: 60, max: 2600 });
const schedules: fc.Arbitrary<Schedule> = fc.oneof(
  fc.record({
    kind: fc.constant('canary' as const),
    weight: fc.integer({ min: 1, max: 99 }),
    bakeSeconds: bake,
  }),
  fc
    .record({
      stepWeight: fc.integer({ min: 1, max: 99 }),
      extra: fc.integer({ min: 0, max: 99 }),
      interval: bake,
    })
    .map(({ stepWeight, extra, interval }) => ({
      kind: 'linear' as const,
      stepWeight,
      maxWeight: Math.min(100, stepWeight + extra),
      intervalSeconds: interval,
    })),
  // At least one step below 100 (a lone 100 would be promotion without a canary step).
  fc
    .tuple(
      fc.integer({ min: 1, max: 99 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { maxLength: 19 }),
    )
    .chain(([first, more]) =>
      bake.map((b) => ({
        kind: 'weights' as const,
        weights: [...new Set([first, ...more])].sort((a, z) => a - z),
        bakeSeconds: b,
      })),
    ),
);

const MESH: RouteRef = MESH_ROUTE;
const ALB: RouteRef = {
  router: 'alb',
  listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/shop/1/2',
  stable: 'arn:tg:web-v1',
  canary: 'arn:tg:web-v2',
};

describe('schedules', () => {
  it('accept every well-formed schedule, and plan steps that rise strictly, below 100, promotion after', () => {
    fc.assert(
      fc.property(schedules, (schedule) => {
        expect(scheduleProblem(schedule)).toBeUndefined();
        const steps = planSteps(schedule);
        const weights = [...steps.map((s) => s.canary), 100];
        for (let i = 1; i < weights.length; i++) expect(weights[i]!).toBeGreaterThan(weights[i - 1]!);
        expect(weights[0]).toBeGreaterThanOrEqual(1);
        expect(steps.every((s) => s.bakeSeconds >= 60)).toBe(true);
      }),
    );
  });

  it('produce only weights both routers take, summing to 100, other targets of the route kept', () => {
    fc.assert(
      fc.property(
        schedules,
        fc.constantFrom(MESH, ALB),
        fc.integer({ min: 0, max: 3 }),
        (schedule, route, others) => {
          const existing = [
            { id: route.stable, weight: 100 },
            ...Array.from({ length: others }, (_, i) => ({ id: `other-${i}`, weight: 0 })),
          ];
          for (const canary of [...planSteps(schedule).map((s) => s.canary), 100, 0]) {
            const weights = weightsFor(canary);
            expect(weightsProblem(weights)).toBeUndefined();
            const next = withWeights(route, existing, weights);
            expect(targetsProblem(route.router, next)).toBeUndefined();
            expect(weightsOf(route, next)).toEqual(weights);
            expect(next.filter((t) => t.id.startsWith('other-'))).toHaveLength(others);
          }
        },
      ),
    );
  });

  it.each([
    [{ kind: 'canary', weight: 100, bakeSeconds: 300 }, 'canary weight must be an integer 1..99, not 100'],
    [{ kind: 'canary', weight: 10.5, bakeSeconds: 300 }, 'canary weight must be an integer 1..99, not 10.5'],
    [{ kind: 'canary', weight: 10, bakeSeconds: 5 }, 'bake time must be whole seconds in 60..86400, not 5'],
    [
      { kind: 'linear', stepWeight: 20, maxWeight: 10, intervalSeconds: 60 },
      'linear maxWeight 10 is below stepWeight 20',
    ],
    [
      { kind: 'weights', weights: [10, 10, 50], bakeSeconds: 60 },
      'weights must rise strictly: 10 then 10 at step 1',
    ],
    [{ kind: 'weights', weights: [], bakeSeconds: 60 }, 'weights must name at least one step'],
    [{ kind: 'weights', weights: [0, 50], bakeSeconds: 60 }, 'weights must be integers 1..100, not 0'],
    [
      { kind: 'weights', weights: [100], bakeSeconds: 60 },
      'the schedule needs at least one step below 100 % before promotion',
    ],
    [
      { kind: 'linear', stepWeight: 100, maxWeight: 100, intervalSeconds: 60 },
      'the schedule needs at least one step below 100 % before promotion',
    ],
    [
      { kind: 'linear', stepWeight: 1, maxWeight: 99, intervalSeconds: 86400 },
      'the bakes add up to 8553600 s, more than 259200 s (the workflow would time out)',
    ],
  ] as [Schedule, string][])('refuse %j: %s', (schedule, problem) => {
    expect(scheduleProblem(schedule)).toBe(problem);
  });

  it('plan linear steps up to maxWeight even when it is not a multiple of the step', () => {
    expect(
      planSteps({ kind: 'linear', stepWeight: 20, maxWeight: 50, intervalSeconds: 60 }).map((s) => s.canary),
    ).toEqual([20, 40, 50]);
    expect(
      planSteps({ kind: 'linear', stepWeight: 25, maxWeight: 100, intervalSeconds: 60 }).map((s) => s.canary),
    ).toEqual([25, 50, 75]);
  });

  it('take gates only at steps of the schedule', () => {
    expect(gatesProblem([0, 2], 3)).toBeUndefined();
    expect(gatesProblem([3], 3)).toBe('gate 3 is not a step of this schedule (0..2)');
  });
});

describe('router limits', () => {
  it('refuse weights past each router before any call is made', () => {
    expect(targetsProblem('appmesh', [{ id: 'a', weight: 101 }])).toMatch(/0\.\.100/);
    expect(targetsProblem('alb', [{ id: 'a', weight: 1000 }])).toMatch(/0\.\.999/);
    expect(targetsProblem('alb', [{ id: 'a', weight: 999 }])).toBeUndefined();
    const six = Array.from({ length: 6 }, (_, i) => ({ id: `tg-${i}`, weight: 1 }));
    expect(targetsProblem('alb', six)).toBe('alb takes 1..5 weighted targets, not 6');
    expect(targetsProblem('appmesh', [...six, ...six])).toBe('appmesh takes 1..10 weighted targets, not 12');
    expect(targetsProblem('appmesh', [{ id: 'a', weight: 0 }])).toMatch(/at least one target/);
    expect(
      targetsProblem('appmesh', [
        { id: 'a', weight: 60 },
        { id: 'b', weight: 50 },
      ]),
    ).toBe('appmesh weights must total at most 100, not 110 (a=60, b=50)');
    expect(
      targetsProblem('alb', [
        { id: 'a', weight: 600 },
        { id: 'b', weight: 500 },
      ]),
    ).toBeUndefined();
    expect(weightsProblem({ stable: 60, canary: 50 })).toMatch(/sum to 100/);
    expect(weightsProblem({ stable: -10, canary: 110 })).toMatch(/negative/);
    expect(ROUTER_LIMITS.appmesh.maxTargets).toBe(10);
  });

  it('read raw router weights as percent between the two versions', () => {
    expect(
      weightsOf(ALB, [
        { id: ALB.stable, weight: 500 },
        { id: ALB.canary, weight: 500 },
      ]),
    ).toEqual({ stable: 50, canary: 50 });
    expect(weightsOf(ALB, [{ id: 'other', weight: 1 }])).toEqual(ALL_STABLE);
  });
});
