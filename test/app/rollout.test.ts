// The rollout steps driven tick by tick against a small in-memory world (one route, a clock, metrics that a
// test sets), in the manner of Flagger's tests: each step re-reads the world and moves at most once.
import fc from 'fast-check';
import { HttpTrafficCheck } from '#adapters/aws/httpTrafficCheck';
import {
  abortGuardedRollouts,
  analyseCanary,
  pauseRollout,
  prepareRollout,
  promoteCanary,
  promoteRollout,
  type RolloutState,
  resumeRollout,
  rollBack,
  scaleDownStable,
  shiftTraffic,
  testBeforeTraffic,
  verifyTraffic,
} from '#app/rollout';
import type { Service } from '#domain/model';
import {
  ALL_STABLE,
  type RolloutRequest,
  type RouteRef,
  type RouteState,
  targetsProblem,
  type WeightedTarget,
  weightsOf,
  weightsProblem,
  withWeights,
} from '#domain/rolloutRoutes';
import { type RolloutSpecInput, RolloutSpecSchema } from '#events/rollout';
import type { GateAnswer, JournalEntry, RolloutPorts, TrafficRouter } from '#ports';
import { RouteBusyError, WeightOutOfRangeError } from '#runtime/errors';
import { MESH_ROUTE } from '../support/rollouts';

const ROUTE: RouteRef = MESH_ROUTE;

const REQUEST: RolloutSpecInput = {
  service: 'web',
  route: ROUTE,
  schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 300 },
  analysis: {
    checks: [
      {
        name: 'errors',
        kind: 'errorRate',
        source: { kind: 'envoy', mesh: 'shop', stableVirtualNode: 'web-v1', canaryVirtualNode: 'web-v2' },
        minRequests: 100,
        max: 0.01,
      },
    ],
  },
  guardAlarms: ['web-5xx'],
};

function world() {
  let targets: WeightedTarget[] = [
    { id: 'web-v1', weight: 100 },
    { id: 'web-v2', weight: 0 },
  ];
  let owner: string | undefined;
  let request: RolloutRequest | undefined;
  let now = new Date('2026-12-01T10:00:00Z');
  const writes: WeightedTarget[][] = [];
  const journal: JournalEntry[] = [];
  const metrics: Record<string, number | undefined> = {};
  const running = new Map<string, unknown>();
  // The request's guard alarm exists, and is quiet until a test says otherwise.
  const alarms: Record<string, 'OK' | 'ALARM'> = { 'web-5xx': 'OK' };
  /** Runs waiting at a gate, and the answers the gates got. */
  const atGate = new Set<string>();
  const answers: [string, GateAnswer][] = [];
  const router: TrafficRouter = {
    read: async (route): Promise<RouteState> => ({
      weights: weightsOf(route, targets),
      targets,
      ...(owner ? { owner } : {}),
      ...(request ? { request } : {}),
    }),
    setWeights: async (route, weights) => {
      const next = withWeights(route, targets, weights);
      const problem = weightsProblem(weights) ?? targetsProblem(route.router, next);
      if (problem) throw new WeightOutOfRangeError(problem);
      targets = next;
      writes.push(next);
    },
    verifyWeights: async (route, weights) => {
      const held = weightsOf(route, targets);
      return held.stable === weights.stable && held.canary === weights.canary;
    },
    setOwner: async (_route, next) => {
      owner = next ?? undefined;
      if (next === null) request = undefined;
    },
    setRequest: async (_route, next) => {
      request = next ?? undefined;
    },
  };
  const claims = new Map<string, string>();
  /** What the new version's test URL answers; undefined: nothing answers at all. */
  let testStatus: number | undefined = 200;
  const testUrls: string[] = [];
  const ports: RolloutPorts = {
    routers: { appmesh: router, alb: router, lattice: router },
    claims: {
      claim: async (key, runId, replacing) => {
        const held = claims.get(key);
        if (held !== undefined && held !== runId && held !== replacing)
          return { claimed: false, holder: held };
        claims.set(key, runId);
        return { claimed: true };
      },
      release: async (key, runId) => {
        if (claims.get(key) === runId) claims.delete(key);
      },
      holder: async (key) => claims.get(key),
    },
    declaredRoutes: [
      {
        name: 'web',
        route: ROUTE,
        services: {
          stable: { cluster: 'prod', service: 'web-v1' },
          canary: { cluster: 'prod', service: 'web-v2' },
        },
      },
    ],
    metrics: { query: async (queries) => Object.fromEntries(queries.map((q) => [q.id, metrics[q.id]])) },
    alarms: {
      describe: async (name) =>
        alarms[name]
          ? { name, arn: `arn:alarm:${name}`, state: alarms[name], type: 'metric', tags: {} }
          : undefined,
    },
    targets: { targetHealth: async (arn) => ({ targetGroupArn: arn, targets: [] }) },
    services: { describeService: async () => undefined, setDesiredCount: async () => undefined },
    runs: {
      status: async (_w, name) => (running.has(name) ? 'running' : 'ended'),
      running: async () => [...running].map(([name, input]) => ({ name, input })),
      stop: async (_w, name) => void running.delete(name),
      answerGate: async (_w, name, answer) => {
        if (!atGate.delete(name)) return false;
        answers.push([name, answer]);
        return true;
      },
      // As the execution shows it: at a gate, the latest state it finished leads to the gate.
      describe: async (_w, name) =>
        running.has(name)
          ? {
              name,
              status: 'RUNNING' as const,
              startDate: now,
              input: running.get(name),
              latest: { state: { next: atGate.has(name) ? 'gate' : 'bake' } },
            }
          : undefined,
      list: async () => [],
    },
    notifier: { notify: async () => undefined },
    clock: { now: () => now },
    journal: { record: (entry) => journal.push(entry) },
    trafficCheckFunctions: ['web-smoke-tests'],
    trafficChecks: {
      http: new HttpTrafficCheck({
        resolve: async () => [{ address: '10.0.0.10', family: 4 }],
        fetch: async (url) => {
          testUrls.push(url);
          if (testStatus === undefined) throw new TypeError('fetch failed');
          return new Response('ok', { status: testStatus });
        },
      }),
      lambda: { run: async () => ({ kind: 'lambda', answer: { returned: '{"passed":true}' } }) },
    },
  };
  return {
    ports,
    testUrls,
    testAnswers: (status: number | undefined) => {
      testStatus = status;
    },
    writes,
    journal,
    metrics,
    running,
    alarms,
    atGate,
    answers,
    canary: () => weightsOf(ROUTE, targets).canary,
    owner: () => owner,
    claims,
    request: () => request,
    handEdit: (canary: number) => {
      targets = withWeights(ROUTE, targets, { stable: 100 - canary, canary });
    },
    pass: (minutes: number) => {
      now = new Date(now.getTime() + minutes * 60_000);
    },
  };
}

const request = RolloutSpecSchema.parse(REQUEST);
const healthy = {
  c0_requests_canary: 1000,
  c0_errors_canary: 1,
  c0_requests_stable: 9000,
  c0_errors_stable: 9,
};

async function shiftAndVerify(state: RolloutState, ports: RolloutPorts) {
  return verifyTraffic(await shiftTraffic(state, ports), ports);
}

describe('a rollout, step by step', () => {
  it('shifts 10 %, 50 %, then promotes, writing absolute weights and releasing the route', async () => {
    // Prepare
    const w = world();
    Object.assign(w.metrics, healthy);

    // Act
    let state = await prepareRollout(request, 'web-1', w.ports);
    const seen: number[] = [];
    while (state.next === 'shift') {
      state = await shiftAndVerify(state, w.ports);
      seen.push(w.canary());
      w.pass(5);
      state = await analyseCanary(state, w.ports);
    }
    expect(state.next).toBe('promote');
    state = await promoteCanary(state, w.ports);

    // Assess
    expect(seen).toEqual([10, 50]);
    expect(w.canary()).toBe(100);
    expect(w.writes.map((t) => t.map((x) => x.weight))).toEqual([
      [90, 10],
      [50, 50],
      [0, 100],
    ]);
    expect(w.owner()).toBeUndefined();
    expect(state.next).toBe('done');
  });

  it('rolls back when the canary fails its analysis', async () => {
    // Prepare
    const w = world();
    Object.assign(w.metrics, healthy, { c0_errors_canary: 200 });
    let state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    w.pass(5);

    // Act
    state = await analyseCanary(state, w.ports);
    await rollBack(state, w.ports);

    // Assess
    expect(state).toMatchObject({ next: 'rollback', reason: '1 failed analysis run(s), limit 0' });
    expect(w.canary()).toBe(0);
    expect(w.owner()).toBeUndefined();
  });

  it('refuses a second rollout on a route a running one owns, changing nothing', async () => {
    // Prepare
    const w = world();
    w.running.set('web-1', { rollout: REQUEST });
    await prepareRollout(request, 'web-1', w.ports);

    // Act
    const second = prepareRollout(request, 'web-2', w.ports);

    // Assess
    await expect(second).rejects.toBeInstanceOf(RouteBusyError);
    expect(w.owner()).toBe('web-1');
    expect(w.journal.at(-1)).toMatchObject({ action: 'refuse-rollout', outcome: 'held' });
  });

  it('sees a hand edit at the next step and waits for a person (pause) or rolls back (abort)', async () => {
    for (const onManualChange of ['pause', 'abort'] as const) {
      // Prepare
      const w = world();
      const spec = RolloutSpecSchema.parse({ ...REQUEST, onManualChange });
      let state = await shiftAndVerify(await prepareRollout(spec, 'web-1', w.ports), w.ports);
      state = { ...state, next: 'shift' };
      w.handEdit(30);

      // Act
      state = await shiftTraffic(state, w.ports);

      // Assess
      expect(state.next).toBe(onManualChange === 'pause' ? 'gate' : 'rollback');
      expect(w.canary()).toBe(30);
    }
  });

  it('aborts a running rollout its guard alarm guards, only while the alarm is in ALARM', async () => {
    // Prepare
    const w = world();
    w.running.set('web-1', { rollout: REQUEST });
    await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    const requestOf = (input: unknown) => RolloutSpecSchema.parse((input as { rollout: unknown }).rollout);

    // Act
    w.alarms['web-5xx'] = 'OK';
    const late = await abortGuardedRollouts('web-5xx', w.ports, requestOf);
    w.alarms['web-5xx'] = 'ALARM';
    const now = await abortGuardedRollouts('web-5xx', w.ports, requestOf);

    // Assess
    expect(late).toEqual([]);
    expect(now).toEqual(['web-1']);
    expect(w.running.has('web-1')).toBe(false);
    expect(w.canary()).toBe(0);
  });

  it('aborts the runs a guard alarm guards even when another of them was refused at its start', async () => {
    // Prepare: web-0 names a canary scale-down its route does not declare (its first step refuses it)
    const w = world();
    w.running.set('web-0', {
      rollout: { ...REQUEST, rollback: { scaleDownCanary: { cluster: 'prod', service: 'payments' } } },
    });
    w.running.set('web-1', { rollout: REQUEST });
    await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    const requestOf = (input: unknown) => RolloutSpecSchema.parse((input as { rollout: unknown }).rollout);
    w.alarms['web-5xx'] = 'ALARM';

    // Act
    const aborted = await abortGuardedRollouts('web-5xx', w.ports, requestOf);

    // Assess: the refused run is left to end by itself; the one holding the route is rolled back
    expect(aborted).toEqual(['web-1']);
    expect([w.running.has('web-1'), w.canary()]).toEqual([false, 0]);
  });

  it('always ends at 100 % stable after a rollback, from any point of any rollout, any number of times', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 6 }),
        fc.nat(8),
        fc.integer({ min: 1, max: 3 }),
        async (weights, stopAfter, rollbacks) => {
          const w = world();
          Object.assign(w.metrics, healthy);
          const spec = RolloutSpecSchema.parse({
            ...REQUEST,
            schedule: { kind: 'weights', weights: [...weights].sort((a, b) => a - b), bakeSeconds: 60 },
          });
          let state = await prepareRollout(spec, 'web-1', w.ports);
          for (let i = 0; i < stopAfter && state.next === 'shift'; i++) {
            state = await shiftAndVerify(state, w.ports);
            w.pass(1);
            state = await analyseCanary(state, w.ports);
          }
          for (let i = 0; i < rollbacks; i++) await rollBack({ ...state, reason: 'test' }, w.ports);
          expect(weightsOf(ROUTE, (await w.ports.routers.appmesh.read(ROUTE)).targets)).toEqual(ALL_STABLE);
          expect(w.owner()).toBeUndefined();
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a person pauses, resumes and promotes a rollout', () => {
  const requestOf = (input: unknown) => RolloutSpecSchema.parse((input as { rollout: unknown }).rollout);

  /** A rollout through its first step (10 %), analysed good: its next step would shift to 50 %. */
  async function afterFirstStep() {
    const w = world();
    Object.assign(w.metrics, healthy);
    w.running.set('web-1', { rollout: REQUEST });
    let state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    w.pass(5);
    state = await analyseCanary(state, w.ports);
    return { w, state };
  }

  it('pauses at the next step: to a gate at the weights it holds, the mark cleared, then on after resuming', async () => {
    // Prepare
    const { w, state } = await afterFirstStep();
    expect(state.next).toBe('shift');

    // Act
    const asked = await pauseRollout('web-1', w.ports, requestOf);
    const paused = await shiftTraffic(state, w.ports);
    const onGoing = await shiftTraffic(paused, w.ports);

    // Assess
    expect(asked).toBe('pause-requested');
    expect(paused).toMatchObject({ next: 'gate', afterGate: 'shift', reason: 'paused by a person' });
    expect(w.journal.filter((e) => e.action === 'pause-rollout')).toEqual([
      expect.objectContaining({
        outcome: 'held',
        detail: { weights: { stable: 90, canary: 10 }, afterGate: 'shift' },
      }),
    ]);
    expect(w.request()).toBeUndefined();
    // Nothing moved while it waited; resumed (the Resumed choice leads back to ShiftTraffic), it goes on.
    expect(w.writes.map((t) => t.map((x) => x.weight))).toEqual([
      [90, 10],
      [50, 50],
    ]);
    expect(onGoing.next).toBe('verify');
  });

  it('pauses before a promotion too: the gate then leads to the promotion, and nothing is written', async () => {
    // Prepare
    const w = world();
    w.running.set('web-1', { rollout: REQUEST });
    let state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    state = { ...state, next: 'promote' };
    await pauseRollout('web-1', w.ports, requestOf);

    // Act
    state = await promoteCanary(state, w.ports);

    // Assess
    expect(state).toMatchObject({ next: 'gate', afterGate: 'promote', reason: 'paused by a person' });
    expect(w.canary()).toBe(10);
    expect(w.owner()).toBe('web-1');
    expect(w.request()).toBeUndefined();
  });

  it("finishes a promotion whose claim's release failed when run again, rather than rolling back", async () => {
    // Prepare: the first run untagged the route at 100 % canary, then failed to release the claim.
    const w = world();
    w.running.set('web-1', { rollout: REQUEST });
    let state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    state = { ...state, next: 'promote' };
    const release = w.ports.claims.release;
    w.ports.claims.release = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    await expect(promoteCanary(state, w.ports)).rejects.toThrow('Rate exceeded');
    w.ports.claims.release = release;

    // Act
    const promoted = await promoteCanary(state, w.ports);

    // Assess
    expect(promoted.next).toBe('done');
    expect(w.canary()).toBe(100);
    expect(w.claims.size).toBe(0);
    expect(w.journal.filter((e) => e.action === 'stand-down')).toEqual([]);
    expect(w.journal.filter((e) => e.action === 'promote')).toHaveLength(1);
  });

  it('promotes at the next step when asked between steps, skipping the steps left', async () => {
    // Prepare
    const { w, state } = await afterFirstStep();

    // Act
    const asked = await promoteRollout('web-1', w.ports, requestOf);
    const skipped = await shiftTraffic(state, w.ports);
    const promoted = await promoteCanary(skipped, w.ports);

    // Assess
    expect(asked).toBe('promote-requested');
    expect(skipped).toMatchObject({ next: 'promote', reason: 'promotion requested by a person' });
    expect(w.journal.find((e) => e.action === 'skip-to-promotion')).toMatchObject({
      outcome: 'done',
      detail: { skipped: [50] },
    });
    expect(promoted.next).toBe('done');
    expect(w.writes.map((t) => t.map((x) => x.weight))).toEqual([
      [90, 10],
      [0, 100],
    ]);
    expect({ owner: w.owner(), request: w.request() }).toEqual({ owner: undefined, request: undefined });
  });

  it('lets a hand edit win over a request: the hand edit is handled, the request waits', async () => {
    // Prepare
    const { w, state } = await afterFirstStep();
    await promoteRollout('web-1', w.ports, requestOf);
    w.handEdit(30);

    // Act
    const next = await shiftTraffic(state, w.ports);

    // Assess
    expect(next).toMatchObject({ next: 'gate', afterGate: 'shift' });
    expect(w.journal.at(-1)).toMatchObject({ action: 'manual-weight-change' });
    expect(w.request()).toBe('promote');
    expect(w.canary()).toBe(30);
  });

  it('drops a pause the gate met already: the step right after a gate goes on', async () => {
    // Prepare: asked to pause as the run went into a gate; the person resumed since.
    const { w, state } = await afterFirstStep();
    await pauseRollout('web-1', w.ports, requestOf);

    // Act
    const next = await shiftTraffic({ ...state, next: 'gate', afterGate: 'shift' }, w.ports);

    // Assess
    expect(next.next).toBe('verify');
    expect(w.canary()).toBe(50);
    expect(w.request()).toBeUndefined();
    expect(w.journal.some((e) => e.action === 'pause-rollout')).toBe(false);
  });

  it('answers at the gate when the run waits at one: already paused, resumed, promoted', async () => {
    // Prepare
    const { w } = await afterFirstStep();
    w.atGate.add('web-1');

    // Act
    const pause = await pauseRollout('web-1', w.ports, requestOf);
    const resume = await resumeRollout('web-1', w.ports);
    const resumeAgain = await resumeRollout('web-1', w.ports);
    w.atGate.add('web-1');
    const promote = await promoteRollout('web-1', w.ports, requestOf);

    // Assess
    expect([pause, resume, resumeAgain, promote]).toEqual([
      'already-paused',
      'resumed',
      'not-waiting',
      'promoting',
    ]);
    expect(w.answers).toEqual([
      ['web-1', { resume: true }],
      ['web-1', { promote: true }],
    ]);
    // No mark on the route: the gate had the answers.
    expect(w.request()).toBeUndefined();
  });

  it('marks nothing for a run that is not running, or does not hold its route', async () => {
    // Prepare
    const w = world();
    await prepareRollout(request, 'web-1', w.ports);
    w.running.set('web-2', { rollout: REQUEST });

    // Act
    const results = [
      await pauseRollout('web-9', w.ports, requestOf),
      await promoteRollout('web-9', w.ports, requestOf),
      // web-2 runs, but web-1 holds the route (web-2 is being refused it): web-1 must not be steered.
      await pauseRollout('web-2', w.ports, requestOf),
      await promoteRollout('web-2', w.ports, requestOf),
    ];

    // Assess
    expect(results).toEqual(['not-running', 'not-running', 'not-running', 'not-running']);
    expect(w.request()).toBeUndefined();
  });

  it('clears a request with the owner on rollback, and a request left for another run when claiming', async () => {
    // Prepare
    const { w, state } = await afterFirstStep();
    await pauseRollout('web-1', w.ports, requestOf);

    // Act
    await rollBack({ ...state, reason: 'test' }, w.ports);
    const afterRollback = { owner: w.owner(), request: w.request() };
    await w.ports.routers.appmesh.setOwner(ROUTE, 'web-0');
    await w.ports.routers.appmesh.setRequest(ROUTE, 'promote');
    await prepareRollout(request, 'web-2', w.ports);

    // Assess
    expect(afterRollback).toEqual({ owner: undefined, request: undefined });
    expect({ owner: w.owner(), request: w.request() }).toEqual({ owner: 'web-2', request: undefined });
  });
});

describe('a rollout racing the world', () => {
  it('re-running a shift whose write landed is not a hand edit: the step carries on', async () => {
    // Prepare: the first shift wrote 10 % but its answer was lost (a Lambda retry runs it again)
    const w = world();
    const prepared = await prepareRollout(request, 'web-1', w.ports);
    await shiftTraffic(prepared, w.ports);

    // Act
    const again = await shiftTraffic(prepared, w.ports);

    // Assess
    expect(again.next).toBe('verify');
    expect(w.journal.filter((e) => e.action === 'manual-weight-change')).toEqual([]);
  });

  it('a step of a run whose route was taken (an abort, another start) stands down without writing', async () => {
    // Prepare
    const w = world();
    const prepared = await prepareRollout(request, 'web-1', w.ports);
    await w.ports.routers.appmesh.setOwner(ROUTE, 'aborted:web-1');
    const writes = w.writes.length;

    // Act
    const late = await shiftTraffic(prepared, w.ports);

    // Assess
    expect(late).toMatchObject({ next: 'rollback', reason: expect.stringContaining('aborted:web-1') });
    expect(w.writes.length).toBe(writes);
  });

  it('an abort leaves its mark; the safety net then restores once more and releases the route', async () => {
    // Prepare
    const w = world();
    w.running.set('web-1', { rollout: REQUEST });
    await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    const requestOf = (input: unknown) => RolloutSpecSchema.parse((input as { rollout: unknown }).rollout);
    w.alarms['web-5xx'] = 'ALARM';

    // Act
    await abortGuardedRollouts('web-5xx', w.ports, requestOf);
    const marked = w.owner();
    w.handEdit(40); // the step that was still running writes after the abort
    const safetyNet = await rollBack(
      { rollout: request, run: { id: 'web-1', startedAt: '' }, reason: 'ABORTED' },
      w.ports,
    );

    // Assess
    expect(marked).toBe('aborted:web-1');
    expect(safetyNet.restored).toBe(true);
    expect([w.canary(), w.owner()]).toEqual([0, undefined]);
  });

  it('keeps the route until the rollback is complete: a failed notification is retried with it', async () => {
    // Prepare
    const w = world();
    await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    const { notifier } = w.ports;
    w.ports.notifier = { notify: async () => Promise.reject(new Error('SNS is down')) };
    const run = { rollout: request, run: { id: 'web-1', startedAt: '' }, reason: 'failed analysis' };

    // Act
    const failed = rollBack(run, w.ports);
    await expect(failed).rejects.toThrow('SNS is down');
    const ownerAfterFailure = w.owner();
    w.ports.notifier = notifier;
    await rollBack(run, w.ports);

    // Assess
    expect(ownerAfterFailure).toBe('web-1');
    expect([w.canary(), w.owner()]).toEqual([0, undefined]);
  });

  it.each([
    [{ route: { ...ROUTE, stable: 'web-v0' } }, /stable web-v0 is not a target/],
    [
      { route: { ...ROUTE, canary: 'web-v3' } },
      /canary web-v3 is not a target of the route: add it at weight 0/,
    ],
    [{ guardAlarms: ['no-such-alarm'] }, /guard alarm no-such-alarm does not exist/],
  ])('refuses to start on %j, claiming nothing', async (change, message) => {
    const w = world();
    const spec = RolloutSpecSchema.parse({ ...REQUEST, ...change });
    // Declared as it is asked: what is refused here is what the route itself holds.
    w.ports.declaredRoutes = [...w.ports.declaredRoutes, { name: 'asked', route: spec.route }];
    await expect(prepareRollout(spec, 'web-1', w.ports)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(message),
    });
    expect(w.owner()).toBeUndefined();
  });

  it('does not start under a guard alarm in ALARM, and fails an analysis on one whose event was lost', async () => {
    // Prepare
    const w = world();
    Object.assign(w.metrics, healthy);
    w.alarms['web-5xx'] = 'ALARM';

    // Act
    const refused = await prepareRollout(request, 'web-1', w.ports).catch((error: Error) => error);
    w.alarms['web-5xx'] = 'OK';
    const state = await shiftAndVerify(await prepareRollout(request, 'web-2', w.ports), w.ports);
    w.alarms['web-5xx'] = 'ALARM';
    w.pass(5);
    const analysed = await analyseCanary(state, w.ports);

    // Assess
    expect(refused).toMatchObject({ name: 'GuardAlarmFiringError' });
    expect(analysed).toMatchObject({ next: 'rollback' });
    expect(analysed.progress.lastAnalysis?.outcomes).toEqual(
      expect.arrayContaining([expect.objectContaining({ check: 'guard web-5xx', result: 'fail' })]),
    );
  });

  it('waits for a published minute before judging, without counting it as inconclusive', async () => {
    // Prepare
    const w = world();
    Object.assign(w.metrics, healthy);
    const state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    w.pass(1);

    // Act
    const early = await analyseCanary(state, w.ports);

    // Assess
    expect(early).toMatchObject({ next: 'bake', progress: { analyses: 0, counts: { inconclusive: 0 } } });
    expect(early.waitSeconds).toBe(60);
  });
});

describe('a rollout acts only on the routes and services the stack declares', () => {
  it.each([
    [{ route: { ...ROUTE, routeName: 'api' } }, 'route'],
    [{ route: { ...ROUTE, canary: 'web-v9' } }, 'route'],
    [{ promote: { scaleDownStable: { cluster: 'prod', service: 'payments' } } }, 'promote.scaleDownStable'],
    [{ rollback: { scaleDownCanary: { cluster: 'prod', service: 'web-v1' } } }, 'rollback.scaleDownCanary'],
  ])('refuses %j before any call, naming %s', async (change, path) => {
    // Prepare
    const w = world();
    const spec = RolloutSpecSchema.parse({ ...REQUEST, ...change });
    const calls: string[] = [];
    const router = w.ports.routers.appmesh;
    w.ports.routers = {
      appmesh: {
        ...router,
        read: (r) => {
          calls.push('read');
          return router.read(r);
        },
      },
      alb: router,
      lattice: router,
    };

    // Act
    const refused = prepareRollout(spec, 'web-1', w.ports);

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'RolloutNotAllowedError',
      issues: [expect.objectContaining({ path })],
    });
    expect([calls, w.owner(), w.writes]).toEqual([[], undefined, []]);
    expect(w.journal).toEqual([expect.objectContaining({ action: 'refuse-rollout', outcome: 'held' })]);
  });

  it("starts with the route's own stable and canary services to scale down", async () => {
    const w = world();
    const spec = RolloutSpecSchema.parse({
      ...REQUEST,
      promote: { scaleDownStable: { cluster: 'prod', service: 'web-v1' } },
      rollback: { scaleDownCanary: { cluster: 'prod', service: 'web-v2' } },
    });
    await expect(prepareRollout(spec, 'web-1', w.ports)).resolves.toMatchObject({ next: 'shift' });
    expect(w.owner()).toBe('web-1');
  });

  const forgedScaleDown = async (change: object) => {
    // A run that holds its route, then a step invoked with a state naming another service
    const w = world();
    const state = await prepareRollout(request, 'web-1', w.ports);
    const forged = { ...state, rollout: RolloutSpecSchema.parse({ ...REQUEST, ...change }) };
    const calls: string[] = [];
    w.ports.services = {
      describeService: async (cluster, name) => void calls.push(`describe ${cluster}/${name}`),
      setDesiredCount: async (cluster, name, count) =>
        void calls.push(`scale ${cluster}/${name} to ${count}`),
    };
    return { w, forged, calls, writesBefore: w.writes.length };
  };

  it('refuses a direct scale-down step that would scale down an undeclared service, before any call', async () => {
    // Prepare
    const { w, forged, calls, writesBefore } = await forgedScaleDown({
      promote: { scaleDownStable: { cluster: 'prod', service: 'payments' } },
    });

    // Act
    const refused = scaleDownStable(forged, w.ports);

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'RolloutNotAllowedError' });
    expect([calls, w.writes.length, w.owner()]).toEqual([[], writesBefore, 'web-1']);
    expect(w.journal.at(-1)).toMatchObject({ action: 'refuse-rollout', outcome: 'held' });
  });

  it('a direct rollback step naming an undeclared canary still restores stable, but scales nothing down', async () => {
    // Prepare
    const { w, forged, calls } = await forgedScaleDown({
      rollback: { scaleDownCanary: { cluster: 'prod', service: 'payments' } },
    });

    // Act
    const result = await rollBack(forged, w.ports);

    // Assess: back to 100 % stable is the safe direction; the undeclared service is never touched
    expect(result.reason).toBeDefined();
    expect(calls).toEqual([]);
    expect(w.journal).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'scale-down-canary', target: 'prod/payments', outcome: 'held' }),
        expect.objectContaining({ action: 'rollback', outcome: 'done' }),
      ]),
    );
  });
});

describe('a rollout leaves alone a route another deployment controller shifts', () => {
  const service = (changes: Partial<Service>): Service => ({
    serviceName: 'web-v2',
    serviceArn: 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web-v2',
    clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/web:2',
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    circuitBreaker: false,
    deployments: [
      {
        id: 'ecs-svc/1',
        status: 'PRIMARY',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/web:2',
        rolloutState: 'COMPLETED',
        runningCount: 2,
        desiredCount: 2,
      },
    ],
    targetGroupArns: [],
    tags: {},
    ...changes,
  });

  it('refuses to start, before any write, on a route whose canary service CodeDeploy deploys', async () => {
    // Prepare
    const w = world();
    w.ports.services = {
      ...w.ports.services,
      describeService: async (_cluster, name) =>
        name === 'web-v2' ? service({ deploymentController: 'CODE_DEPLOY', deployments: [] }) : undefined,
    };

    // Act
    const refused = prepareRollout(request, 'web-1', w.ports);

    // Assess
    await expect(refused).rejects.toMatchObject({
      name: 'ServiceControlledElsewhereError',
      message: expect.stringContaining('prod/web-v2 is deployed by the CODE_DEPLOY deployment controller'),
    });
    expect([w.owner(), w.claims.size, w.writes]).toEqual([undefined, 0, []]);
  });

  it('writes no weight once a service of the route is mid BLUE_GREEN deployment: it waits at a gate', async () => {
    // Prepare: started, first step shifted; then ECS starts a blue/green deployment of the canary's service
    const w = world();
    Object.assign(w.metrics, healthy);
    const state = await shiftAndVerify(await prepareRollout(request, 'web-1', w.ports), w.ports);
    const writesBefore = w.writes.length;
    const deploying = service({ deploymentStrategy: 'BLUE_GREEN' });
    deploying.deployments[0]!.rolloutState = 'IN_PROGRESS';
    w.ports.services = { ...w.ports.services, describeService: async () => deploying };

    // Act
    const next = await shiftTraffic(
      { ...state, next: 'shift', progress: { ...state.progress, step: 1 } },
      w.ports,
    );

    // Assess
    expect(next).toMatchObject({
      next: 'gate',
      afterGate: 'shift',
      reason: expect.stringContaining('BLUE_GREEN'),
    });
    expect(w.writes.length).toBe(writesBefore);
    expect(w.canary()).toBe(10);
    expect(w.journal.at(-1)).toMatchObject({ action: 'stand-down', outcome: 'held' });
  });

  const inBlueGreen = () => {
    const deploying = service({ deploymentStrategy: 'BLUE_GREEN' });
    deploying.deployments[0]!.rolloutState = 'IN_PROGRESS';
    return deploying;
  };
  const deployedByCodeDeploy = () => service({ deploymentController: 'CODE_DEPLOY', deployments: [] });

  it.each([
    ['mid BLUE_GREEN deployment', inBlueGreen],
    ['deployed by CODE_DEPLOY', deployedByCodeDeploy],
  ])(
    'scales down neither version once its service is %s: an alert, no UpdateService',
    async (_owner, owned) => {
      // Prepare: promoted with the old version to scale down; another started with the canary to scale down
      const w = world();
      const spec = RolloutSpecSchema.parse({
        ...REQUEST,
        promote: { scaleDownStable: { cluster: 'prod', service: 'web-v1' } },
        rollback: { scaleDownCanary: { cluster: 'prod', service: 'web-v2' } },
      });
      const promoted = await promoteCanary(await prepareRollout(spec, 'web-1', w.ports), w.ports);
      w.handEdit(0);
      const started = await prepareRollout(spec, 'web-2', w.ports);
      const scaled: string[] = [];
      const alerts: string[] = [];
      // Then another controller takes both services over (during the promotion's delay, before the rollback)
      w.ports.services = {
        describeService: async () => owned(),
        setDesiredCount: async (cluster, name) => void scaled.push(`${cluster}/${name}`),
      };
      w.ports.notifier = { notify: async (n) => void alerts.push(`${n.severity}: ${n.subject}`) };

      // Act
      const afterDelay = await scaleDownStable(promoted, w.ports);
      const rolledBack = await rollBack({ ...started, reason: 'analysis failed' }, w.ports);

      // Assess: nothing scaled, each held in the journal and told to a person; the rollback still restored stable
      expect(afterDelay).toMatchObject({ next: 'done' });
      expect(rolledBack).toMatchObject({ restored: false });
      expect(scaled).toEqual([]);
      expect(w.journal).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'scale-down-stable', target: 'prod/web-v1', outcome: 'held' }),
          expect.objectContaining({ action: 'scale-down-canary', target: 'prod/web-v2', outcome: 'held' }),
        ]),
      );
      expect(alerts).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^warning: .*web-v1 not scaled down/),
          expect.stringMatching(/^warning: .*web-v2 not scaled down/),
        ]),
      );
      expect([w.canary(), w.owner()]).toEqual([0, undefined]);
    },
  );
});

describe('tests before traffic', () => {
  const withTests = RolloutSpecSchema.parse({
    ...REQUEST,
    beforeTraffic: [
      { name: 'smoke', kind: 'http', url: 'https://web-test.internal/health', requests: 5 },
      { name: 'suite', kind: 'lambda', function: 'web-smoke-tests' },
    ],
    analysis: { ...REQUEST.analysis, errorLimit: 1 },
  });

  it('run before the first shift: all passing, the first shift comes next and nothing was written yet', async () => {
    // Prepare
    const w = world();
    const prepared = await prepareRollout(withTests, 'web-1', w.ports);

    // Act
    const state = await testBeforeTraffic(prepared, w.ports);

    // Assess
    expect(prepared.next).toBe('test');
    expect(state.next).toBe('shift');
    expect(w.testUrls).toHaveLength(5);
    expect(w.writes).toEqual([]);
    expect(state.progress.lastAnalysis).toMatchObject({
      result: 'pass',
      outcomes: [
        { check: 'smoke', result: 'pass' },
        { check: 'suite', result: 'pass' },
      ],
    });
    expect(w.journal.at(-1)).toMatchObject({
      action: 'analyse',
      reason: 'pass before traffic: smoke pass, suite pass',
      detail: { stage: 'before-traffic' },
    });
  });

  it('a request without tests shifts at once', async () => {
    const w = world();
    expect((await prepareRollout(request, 'web-1', w.ports)).next).toBe('shift');
  });

  it('a failed test rolls back with nothing shifted, and says why', async () => {
    // Prepare
    const w = world();
    w.testAnswers(503);
    const prepared = await prepareRollout(withTests, 'web-1', w.ports);

    // Act
    const state = await testBeforeTraffic(prepared, w.ports);
    await rollBack(state, w.ports);

    // Assess
    expect(state).toMatchObject({
      next: 'rollback',
      reason: 'tests before traffic: 1 failed analysis run(s), limit 0',
    });
    expect(state.progress.lastAnalysis?.outcomes[0]).toMatchObject({
      check: 'smoke',
      result: 'fail',
      reason: expect.stringContaining('0/5 as expected (status 503)'),
    });
    expect(w.writes.every((targets) => targets.find((t) => t.id === 'web-v2')?.weight === 0)).toBe(true);
    expect(w.canary()).toBe(0);
    expect(w.owner()).toBeUndefined();
  });

  it('a failed test that passes when run again leaves the canary analysis all of its allowed failures', async () => {
    // Prepare: one failure allowed, spent by the tests before traffic
    const w = world();
    Object.assign(w.metrics, healthy, { c0_errors_canary: 200 });
    const oneFailure = RolloutSpecSchema.parse({
      ...REQUEST,
      beforeTraffic: [{ name: 'smoke', kind: 'http', url: 'https://web-test.internal/health', requests: 5 }],
      analysis: { ...REQUEST.analysis, failureLimit: 1 },
    });
    w.testAnswers(503);
    let state = await testBeforeTraffic(await prepareRollout(oneFailure, 'web-1', w.ports), w.ports);
    expect(state.next).toBe('test');
    w.testAnswers(200);
    state = await testBeforeTraffic(state, w.ports);
    expect(state.next).toBe('shift');

    // Act: the canary fails its first analysis
    state = await shiftAndVerify(state, w.ports);
    w.pass(5);
    state = await analyseCanary(state, w.ports);

    // Assess: the canary's one allowed failure is still its own, so it is analysed again
    expect(state.progress.lastAnalysis?.result).toBe('fail');
    expect(state.next).not.toBe('rollback');
    expect(state.progress.counts.failures).toBe(1);
  });

  it('a URL that never answers is an error, tested again after the interval, then rolled back past the error limit', async () => {
    // Prepare
    const w = world();
    w.testAnswers(undefined);
    let state = await prepareRollout(withTests, 'web-1', w.ports);

    // Act
    const results: string[] = [];
    for (let run = 0; run < 2; run++) {
      state = await testBeforeTraffic(state, w.ports);
      results.push(`${state.progress.lastAnalysis?.result} -> ${state.next}`);
    }

    // Assess
    expect(results).toEqual(['error -> test', 'error -> rollback']);
    expect(state.waitSeconds).toBe(60);
    expect(state.reason).toMatch(/^tests before traffic: .*limit 1/);
    expect(w.writes).toEqual([]);
  });

  it('refuses, before any call, a lambda check of a function the stack may not invoke', async () => {
    const w = world();
    const other = RolloutSpecSchema.parse({
      ...REQUEST,
      beforeTraffic: [
        {
          name: 'suite',
          kind: 'lambda',
          function: 'arn:aws:lambda:eu-west-1:111122223333:function:payments-admin',
        },
      ],
    });

    await expect(prepareRollout(other, 'web-1', w.ports)).rejects.toMatchObject({
      name: 'RolloutNotAllowedError',
      issues: [
        { path: 'beforeTraffic.0.function', message: expect.stringContaining('payments-admin is not one') },
      ],
    });
    expect(w.owner()).toBeUndefined();
  });

  it('an aborted rollout runs no tests', async () => {
    const w = world();
    const prepared = await prepareRollout(withTests, 'web-1', w.ports);
    await w.ports.routers.appmesh.setOwner(ROUTE, 'aborted:web-1');

    const state = await testBeforeTraffic(prepared, w.ports);

    expect(state.next).toBe('rollback');
    expect(w.testUrls).toEqual([]);
  });
});
