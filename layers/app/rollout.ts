// Progressive rollouts: the steps of the rollout workflow. Each step re-reads the world, takes at most one
// action and returns the whole state with what comes next; the state lives in the Step Functions execution,
// so any step can run twice. Weights are written absolutely (SetWeight) and read back in a separate step
// (VerifyWeight); every way out that is not promotion restores 100 % stable.

import { observeChecks } from '#app/analysisObservations';
import { steer } from '#app/steering';
import { runTrafficChecks } from '#app/trafficChecks';
import { rolloutAllowance, sameRoute } from '#domain/declaredRoutes';
import { otherController } from '#domain/deploymentOwner';
import {
  type AnalysisCounts,
  assessCheck,
  type CheckOutcome,
  type CheckResult,
  type CheckSpec,
  decideAfterAnalysis,
  METRICS_DELAY_SECONDS,
  metricQueries,
  NO_COUNTS,
  type Observations,
  publishedWindow,
  runResult,
} from '#domain/rolloutAnalysis';
import {
  ALL_CANARY,
  ALL_STABLE,
  type RouteRef,
  type RouteState,
  routeKey,
  sameWeights,
  type Weights,
  weightsFor,
} from '#domain/rolloutRoutes';
import { GATE_TIMEOUT_SECONDS, type PlannedStep, planSteps } from '#domain/rolloutSchedule';
import { checkFunctionProblems } from '#domain/trafficChecks';
import type { RolloutSpec } from '#events/rollout';
import type { JournalEntry, Notification, RolloutPorts, TrafficRouter } from '#ports';
import {
  GuardAlarmFiringError,
  InvalidInputError,
  RolloutNotAllowedError,
  RouteBusyError,
  ServiceControlledElsewhereError,
  WeightsNotAppliedError,
} from '#runtime/errors';

export const ROLLOUT_REFLEX = 'rollout';
export const ROLLOUT_WORKFLOW = 'rollout';

export type Next =
  | 'test'
  | 'shift'
  | 'verify'
  | 'bake'
  | 'gate'
  | 'promote'
  | 'rollback'
  | 'scale-down'
  | 'done';

export interface RolloutProgress {
  /** Index into the plan; the plan's length means promotion. */
  step: number;
  /** What this rollout last wrote, and so what the route must hold: anything else is a hand edit. */
  weights: Weights;
  /** When those weights were written, or the last analysis ran: the next analysis window starts here. */
  windowStart: string;
  counts: AnalysisCounts;
  analyses: number;
  lastAnalysis?: { at: string; result: CheckResult; outcomes: CheckOutcome[] };
}

/** The execution's state: the request, the run, where it is, and what comes next. */
export interface RolloutState {
  rollout: RolloutSpec;
  run: { id: string; startedAt: string };
  plan: PlannedStep[];
  progress: RolloutProgress;
  next: Next;
  /** For a Wait state: the bake, the re-analysis interval, the scale-down delay. */
  waitSeconds: number;
  /** Where a gate leads once a person resumes. */
  afterGate?: 'shift' | 'promote';
  /** Why the rollout is rolling back (or waiting at a gate). */
  reason?: string;
}

const routerOf = (ports: RolloutPorts, route: RouteRef): TrafficRouter => ports.routers[route.router];

function record(ports: Pick<RolloutPorts, 'journal'>, entry: Omit<JournalEntry, 'reflex' | 'dryRun'>): void {
  ports.journal.record({ reflex: ROLLOUT_REFLEX, dryRun: false, ...entry });
}

/**
 * The step a run is at, 1-based, as people are told it everywhere (the API's view, the dashboard, `watch`,
 * a gate's reason): the step whose weights the run wrote last, which it judges or waits after; 0 before
 * its first shift. `progress.step` counts the steps passed, so a step shifted to and not yet passed adds one
 * (the plan's weights rise strictly: only that step holds its weight).
 */
export function stepReached(state: Pick<RolloutState, 'plan' | 'progress'>): number {
  const { step, weights } = state.progress;
  return step + (state.plan[step]?.canary === weights.canary ? 1 : 0);
}

const targetOf = (state: Pick<RolloutState, 'rollout' | 'run'>) =>
  `${state.rollout.service} ${routeKey(state.rollout.route)}`;

// --- prepare ------------------------------------------------------------------------------------------

/**
 * Refused (RolloutNotAllowedError) before any call when the request names a route the stack does not
 * declare, would scale down a service that is not that route's declared stable or canary, or has a lambda
 * check invoke a function the stack may not: a direct StartExecution is checked here as the ops API checks
 * its requests.
 */
export function checkAllowed(
  rollout: RolloutSpec,
  runId: string,
  ports: Pick<RolloutPorts, 'declaredRoutes' | 'trafficCheckFunctions' | 'journal'>,
): void {
  const allowance = rolloutAllowance(rollout, ports.declaredRoutes);
  const problems = [
    ...(allowance.allowed ? [] : allowance.problems),
    ...checkFunctionProblems(rollout.beforeTraffic, ports.trafficCheckFunctions, 'beforeTraffic'),
  ];
  if (problems.length === 0) return;
  const reason = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  record(ports, {
    action: 'refuse-rollout',
    target: targetOf({ rollout, run: { id: runId, startedAt: '' } }),
    reason,
    outcome: 'held',
  });
  throw new RolloutNotAllowedError(`rollout not allowed: ${reason}`, problems);
}

/**
 * Claims the route for this run: refused (RolloutNotAllowedError) for a route or service the stack does
 * not declare, refused (RouteBusyError, nothing written) while another running rollout holds it or wins it
 * at the same time, and refused (InvalidInputError, GuardAlarmFiringError) on a route it cannot roll out on
 * or under a guard alarm that is missing or in ALARM. The claim is a conditional write (RouteClaims); the
 * owner tag on the route follows it. The rollout starts from the weights the route holds now.
 */
export async function prepareRollout(
  rollout: RolloutSpec,
  runId: string,
  ports: RolloutPorts,
): Promise<RolloutState> {
  checkAllowed(rollout, runId, ports);
  const router = routerOf(ports, rollout.route);
  const key = routeKey(rollout.route);
  const route = await router.read(rollout.route);
  const holder = await ports.claims.holder(key);
  // The claim's holder, and the route's owner tag (an aborted run's mark is no execution name: that run
  // has stopped): either still running keeps the route.
  const owners = new Set([holder, route.owner].filter((o): o is string => !!o && o !== runId));
  for (const owner of owners) {
    if (isAbortedMark(owner)) continue;
    if ((await ports.runs.status(ROLLOUT_WORKFLOW, owner)) === 'running')
      refuseBusy(rollout, runId, owner, ports);
  }
  const problem = routeProblem(rollout, route);
  if (problem) throw new InvalidInputError(`route ${key}: ${problem}`, [{ path: 'route', message: problem }]);
  await refuseIfControlledElsewhere(rollout, runId, ports);
  const firing = await firingGuards(rollout, ports);
  if (firing.length > 0)
    throw new GuardAlarmFiringError(
      `guard alarm(s) ${firing.join(', ')} in ALARM: the rollout does not start`,
    );
  // The claim is a conditional write: of two starts at once exactly one wins, and the other has written
  // nothing (no tag, no request mark) when it gives way. An ended holder is replaced only as it was read.
  const claim = await ports.claims.claim(key, runId, holder !== runId ? holder : undefined);
  if (!claim.claimed) refuseBusy(rollout, runId, claim.holder ?? 'another rollout', ports);
  // A request left on the route for an earlier run (one that ended without releasing it) is not this run's;
  // cleared before this run's owner tag goes on, so that no request for this run can be made before it.
  if (route.request && route.owner !== runId) await router.setRequest(rollout.route, null);
  // The tag is what every later step, the ops API and the safety net read with the route.
  if (route.owner !== runId) await router.setOwner(rollout.route, runId);
  const now = ports.clock.now().toISOString();
  const state: RolloutState = {
    rollout,
    run: { id: runId, startedAt: now },
    plan: planSteps(rollout.schedule),
    progress: { step: 0, weights: route.weights, windowStart: now, counts: NO_COUNTS, analyses: 0 },
    next: rollout.beforeTraffic.length > 0 ? 'test' : 'shift',
    waitSeconds: 0,
  };
  record(ports, {
    action: 'start-rollout',
    target: targetOf(state),
    reason: `${state.plan.length} step(s): ${state.plan.map((s) => `${s.canary}%`).join(', ')}, then 100%`,
    outcome: 'done',
    detail: { runId, from: route.weights },
  });
  await tell(state, ports, 'start', {
    subject: `Rollout of ${rollout.service} started`,
    severity: 'info',
    summary: `Rollout ${runId} shifts traffic to the new version in ${state.plan.length} step(s), ${state.plan.map((s) => `${s.canary}%`).join(', ')}, then 100%, checking the canary against stable at each; it rolls back by itself when a check fails.`,
    steer: [steer.watchRollout(runId), steer.abortRollout(runId)],
    detail: { from: route.weights },
  });
  return state;
}

/**
 * The route's declared services that another controller owns now (CodeDeploy, an external controller, or an
 * ECS blue/green, linear or canary deployment in progress, which shifts traffic itself), each with why.
 */
export async function servicesControlledElsewhere(
  rollout: RolloutSpec,
  ports: RolloutPorts,
): Promise<string[]> {
  const declared = ports.declaredRoutes.find((d) => sameRoute(d.route, rollout.route));
  const refs = [declared?.services?.stable, declared?.services?.canary].flatMap((ref) => (ref ? [ref] : []));
  const owned: string[] = [];
  for (const ref of refs) {
    const service = await ports.services.describeService(ref.cluster, ref.service);
    const owner = service && otherController(service);
    if (owner) owned.push(`${ref.cluster}/${ref.service} is ${owner}`);
  }
  return owned;
}

/** Refused before any write (ServiceControlledElsewhereError) when another controller owns a service of the route. */
export async function refuseIfControlledElsewhere(
  rollout: RolloutSpec,
  runId: string,
  ports: RolloutPorts,
): Promise<void> {
  const owned = await servicesControlledElsewhere(rollout, ports);
  if (owned.length === 0) return;
  const reason = `${owned.join('; ')}: that controller shifts the route's traffic`;
  record(ports, {
    action: 'refuse-rollout',
    target: targetOf({ rollout, run: { id: runId, startedAt: '' } }),
    reason,
    outcome: 'held',
  });
  throw new ServiceControlledElsewhereError(`rollout not started: ${reason}`);
}

/**
 * Before a weight write: a service of the route that another controller took over since the last step
 * (a blue/green deployment started) is that controller's to shift. Nothing is written: the rollout waits at
 * a gate, at the weights it holds, for a person (resume once the deployment is done, or abort).
 */
async function controlledElsewhere(
  state: RolloutState,
  ports: RolloutPorts,
  then: 'shift' | 'promote',
): Promise<RolloutState | undefined> {
  const owned = await servicesControlledElsewhere(state.rollout, ports);
  if (owned.length === 0) return undefined;
  const reason = `${owned.join('; ')}: not shifting traffic another controller shifts`;
  record(ports, { action: 'stand-down', target: targetOf(state), reason, outcome: 'held' });
  return { ...state, next: 'gate', afterGate: then, reason };
}

function refuseBusy(rollout: RolloutSpec, runId: string, owner: string, ports: RolloutPorts): never {
  record(ports, {
    action: 'refuse-rollout',
    target: targetOf({ rollout, run: { id: runId, startedAt: '' } }),
    reason: `rollout ${owner} owns the route and is still running`,
    outcome: 'held',
  });
  throw new RouteBusyError(`route ${routeKey(rollout.route)} is owned by running rollout ${owner}`);
}

/**
 * What a route must be for a rollout to start on it: stable holding traffic, canary on it (at any weight),
 * nothing else taking traffic. A misspelt target would otherwise be added and sent traffic.
 */
function routeProblem(rollout: RolloutSpec, route: RouteState): string | undefined {
  const { stable, canary } = rollout.route;
  const onRoute = (id: string) => route.targets.find((t) => t.id === id);
  if (!onRoute(stable))
    return `stable ${stable} is not a target of the route (${route.targets.map((t) => t.id).join(', ')})`;
  if (!onRoute(canary)) return `canary ${canary} is not a target of the route: add it at weight 0 first`;
  const others = route.targets.filter((t) => t.id !== stable && t.id !== canary && t.weight > 0);
  if (others.length > 0) return `the route also sends traffic to ${others.map((t) => t.id).join(', ')}`;
  return undefined;
}

/**
 * Guard alarms in ALARM now: a rollout does not start under one (and an analysis fails on one). A guard
 * that does not exist could never abort anything: that request is refused.
 */
async function firingGuards(rollout: RolloutSpec, ports: RolloutPorts): Promise<string[]> {
  const firing: string[] = [];
  for (const name of rollout.guardAlarms) {
    const alarm = await ports.alarms.describe(name, { withTags: false });
    if (!alarm)
      throw new InvalidInputError(`guard alarm ${name} does not exist`, [
        { path: 'guardAlarms', message: `no alarm ${name}` },
      ]);
    if (alarm.state === 'ALARM') firing.push(name);
  }
  return firing;
}

/**
 * Every write is preceded by this: the route must still be this run's. It is not after an abort (the owner
 * then reads `aborted:<run>`), after another start took it, or once it was released.
 */
function lostRoute(state: RolloutState, route: RouteState, ports: RolloutPorts): RolloutState | undefined {
  if (route.owner === state.run.id) return undefined;
  const reason = `the route is no longer this rollout's (owner: ${route.owner ?? 'none'})`;
  record(ports, { action: 'stand-down', target: targetOf(state), reason, outcome: 'held' });
  return { ...state, next: 'rollback', reason };
}

// --- tests before traffic ------------------------------------------------------------------------------

/**
 * Before the first shift: the request's `beforeTraffic` checks, judged as an analysis run is (the same
 * limits and counts, Argo's model): all pass, the first shift; a failure past the failure limit, or a broken
 * provider past the error limit, rolls back (nothing was shifted); below the limits, the checks run again
 * after the analysis interval. The run is in the history as an analysis, marked `before traffic`. The
 * counts are the tests' own: they start over for the canary analysis once the tests pass.
 */
export async function testBeforeTraffic(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const { rollout, progress } = state;
  // Read first: an aborted or taken route runs no tests against a version it will not get.
  const route = await routerOf(ports, rollout.route).read(rollout.route);
  const lost = lostRoute(state, route, ports);
  if (lost) return lost;
  const outcomes = await runTrafficChecks(rollout.beforeTraffic, ports.trafficChecks, {
    stage: 'before-traffic',
    rollout: state.run.id,
    service: rollout.service,
  });
  const result = runResult(outcomes);
  const { next, counts } = decideAfterAnalysis(result, progress.counts, rollout.analysis);
  const at = ports.clock.now().toISOString();
  record(ports, {
    action: 'analyse',
    target: targetOf(state),
    reason: `${result} before traffic: ${outcomes.map((o) => `${o.check} ${o.result}`).join(', ')}`,
    outcome: 'done',
    detail: { result, outcomes, counts, stage: 'before-traffic' },
  });
  const tested: RolloutState = {
    ...state,
    progress: {
      ...progress,
      counts,
      analyses: progress.analyses + 1,
      lastAnalysis: { at, result, outcomes },
    },
  };
  if (next.move === 'rollback')
    return { ...tested, next: 'rollback', reason: `tests before traffic: ${next.reason}` };
  if (next.move === 'retry')
    return { ...tested, next: 'test', waitSeconds: rollout.analysis.intervalSeconds };
  // The tests' counts end here: a failed test that was retried and then passed must not use up the failures
  // the canary analysis is allowed once traffic moves.
  return { ...tested, progress: { ...tested.progress, counts: NO_COUNTS }, next: 'shift', reason: undefined };
}

// --- shift traffic (SetWeight) ------------------------------------------------------------------------

/**
 * Before any write: does the route still hold what this rollout last wrote? If not, a person changed it,
 * and it is never overwritten: wait for them at a gate (resuming carries on from their weights), or roll
 * back, as the request says. Undefined when the route is as the rollout left it.
 */
function handEdit(
  state: RolloutState,
  route: RouteState,
  ports: RolloutPorts,
  then: 'shift' | 'promote',
  intended: Weights,
): RolloutState | undefined {
  const { rollout, progress } = state;
  const observed = route.weights;
  // What this step is about to write is no hand edit: it is this step's own write, run again by a retry.
  if (sameWeights(observed, progress.weights) || sameWeights(observed, intended)) return undefined;
  const reason = `weights changed by hand to ${observed.canary}% canary (the rollout had set ${progress.weights.canary}%)`;
  const pause = rollout.onManualChange === 'pause';
  record(ports, {
    action: 'manual-weight-change',
    target: targetOf(state),
    reason: `${reason}: ${pause ? 'waiting for a person' : 'rolling back'}`,
    outcome: 'held',
    detail: { observed, expected: progress.weights },
  });
  if (!pause) return { ...state, next: 'rollback', reason };
  return { ...state, progress: { ...progress, weights: observed }, next: 'gate', afterGate: then, reason };
}

/**
 * A person's request marked on the route (pauseRollout, promoteRollout), read in the same read as the hand
 * edit check, after it (a hand edit wins). `pause`: to the gate, which leads where this step would have gone.
 * `promote`: to promotion now, the remaining steps skipped. The mark is cleared as it is acted on. Undefined
 * when there is nothing to act on: no mark, a mark that is not this run's, a promote request met by the
 * promotion itself, or a pause met already by the gate this step comes from (the person resumed since).
 */
async function personRequest(
  state: RolloutState,
  route: RouteState,
  ports: RolloutPorts,
  then: 'shift' | 'promote',
): Promise<RolloutState | undefined> {
  const { rollout, progress, plan } = state;
  if (!route.request || route.owner !== state.run.id) return undefined;
  const router = routerOf(ports, rollout.route);
  const fromGate = state.next === 'gate';
  if (route.request === 'pause' && !fromGate) {
    await router.setRequest(rollout.route, null);
    record(ports, {
      action: 'pause-rollout',
      target: targetOf(state),
      reason: `paused by a person at ${progress.weights.canary}% canary: waiting at a gate, then ${then === 'shift' ? `step ${progress.step + 1}/${plan.length}` : 'promotion'}`,
      outcome: 'held',
      detail: { weights: progress.weights, afterGate: then },
    });
    return { ...state, next: 'gate', afterGate: then, reason: 'paused by a person' };
  }
  if (route.request === 'promote' && then === 'shift') {
    await router.setRequest(rollout.route, null);
    record(ports, {
      action: 'skip-to-promotion',
      target: targetOf(state),
      reason: `promotion requested by a person at ${progress.weights.canary}% canary: step(s) ${progress.step + 1}..${plan.length} of ${plan.length} skipped`,
      outcome: 'done',
      detail: { weights: progress.weights, skipped: plan.slice(progress.step).map((s) => s.canary) },
    });
    return { ...state, next: 'promote', reason: 'promotion requested by a person' };
  }
  // Left: a pause the gate this step comes from has met already, or a promote request at the promotion.
  // Promoting clears the mark with the owner; going on to shift clears it here.
  if (then === 'shift') await router.setRequest(rollout.route, null);
  return undefined;
}

/**
 * Writes the step's weights, unless the route no longer holds what this rollout wrote (a hand edit) or a
 * person asked for a pause or a promotion.
 */
export async function shiftTraffic(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const { rollout, progress } = state;
  const router = routerOf(ports, rollout.route);
  const route = await router.read(rollout.route);
  const step = state.plan[progress.step];
  const target = step ? weightsFor(step.canary) : ALL_CANARY;
  const stop =
    lostRoute(state, route, ports) ??
    handEdit(state, route, ports, 'shift', target) ??
    (await controlledElsewhere(state, ports, 'shift'));
  if (stop) return stop;
  const requested = await personRequest(state, route, ports, 'shift');
  if (requested) return requested;
  await router.setWeights(rollout.route, target, route);
  const now = ports.clock.now().toISOString();
  record(ports, {
    action: 'shift-traffic',
    target: targetOf(state),
    reason: `step ${progress.step + 1}/${state.plan.length}: ${target.canary}% canary`,
    outcome: 'done',
    detail: { from: progress.weights, to: target },
  });
  return {
    ...state,
    progress: {
      ...progress,
      weights: target,
      windowStart: now,
      counts: { ...progress.counts, inconclusive: 0 },
    },
    next: 'verify',
    waitSeconds: step?.bakeSeconds ?? 0,
    reason: undefined,
  };
}

/** VerifyWeight: a separate read; the workflow retries this step, then rolls back. */
export async function verifyTraffic(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const ok = await routerOf(ports, state.rollout.route).verifyWeights(
    state.rollout.route,
    state.progress.weights,
  );
  if (!ok)
    throw new WeightsNotAppliedError(
      `route ${routeKey(state.rollout.route)} does not hold ${state.progress.weights.canary}% canary yet`,
    );
  return { ...state, next: 'bake' };
}

// --- analyse -------------------------------------------------------------------------------------------

const MINUTE_MS = 60_000;

function observe(
  state: RolloutState,
  window: { start: Date; end: Date } | undefined,
  ports: RolloutPorts,
): Promise<Observations> {
  const { checks } = state.rollout.analysis;
  const guards = state.rollout.guardAlarms.map(
    (alarmName): CheckSpec => ({ name: `guard ${alarmName}`, kind: 'alarm', alarmName }),
  );
  return observeChecks([...checks, ...guards], window, ports);
}

export async function analyseCanary(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const { rollout, progress, plan } = state;
  const now = ports.clock.now();
  const needsMetrics = metricQueries(rollout.analysis.checks).length > 0;
  const window = publishedWindow(progress.windowStart, now);
  if (needsMetrics && !window) {
    // Not one published minute since the shift yet: too early to tell, which is not a verdict to count.
    const ready = Math.ceil(Date.parse(progress.windowStart) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const waitSeconds = Math.max(1, Math.ceil((ready + METRICS_DELAY_SECONDS * 1000 - now.getTime()) / 1000));
    return { ...state, next: 'bake', waitSeconds };
  }
  const seen = await observe(state, window, ports);
  // Guard alarms are checks too: an alarm event that was lost, or that fired before the start, still counts.
  const guards = rollout.guardAlarms.map((alarmName) =>
    assessCheck({ name: `guard ${alarmName}`, kind: 'alarm', alarmName }, -1, seen),
  );
  const outcomes = [
    ...rollout.analysis.checks.map((check, index) => assessCheck(check, index, seen)),
    ...guards,
  ];
  const result = runResult(outcomes);
  const { next, counts } = decideAfterAnalysis(result, progress.counts, rollout.analysis);
  const at = now.toISOString();
  // The next window starts where this one's data ended (or now, without metrics), except after too little
  // evidence: then it keeps its start, so that the evidence adds up instead of starting over.
  const nextWindowStart =
    result === 'inconclusive' ? progress.windowStart : window ? window.end.toISOString() : at;
  record(ports, {
    action: 'analyse',
    target: targetOf(state),
    reason: `${result} at ${progress.weights.canary}% canary: ${outcomes.map((o) => `${o.check} ${o.result}`).join(', ') || 'no checks'}`,
    outcome: 'done',
    detail: { result, outcomes, counts },
  });
  const analysed: RolloutState = {
    ...state,
    progress: {
      ...progress,
      counts,
      analyses: progress.analyses + 1,
      windowStart: nextWindowStart,
      lastAnalysis: { at, result, outcomes },
    },
  };
  if (next.move === 'rollback') return { ...analysed, next: 'rollback', reason: next.reason };
  if (next.move === 'retry')
    return { ...analysed, next: 'bake', waitSeconds: rollout.analysis.intervalSeconds };
  const following = progress.step + 1;
  const afterThis = following < plan.length ? 'shift' : 'promote';
  const moved = { ...analysed, progress: { ...analysed.progress, step: following } };
  if (rollout.gates.includes(progress.step))
    return {
      ...moved,
      next: 'gate',
      afterGate: afterThis,
      reason: `manual gate after step ${stepReached(moved)}`,
    };
  return { ...moved, next: afterThis };
}

// --- gate ----------------------------------------------------------------------------------------------

/** The workflow waits on the task token; this only says so, where a person will see it. */
export async function announceGate(state: RolloutState, ports: RolloutPorts): Promise<void> {
  record(ports, {
    action: 'wait-at-gate',
    target: targetOf(state),
    reason: `${state.reason ?? 'manual gate'}: resume or abort rollout ${state.run.id}`,
    outcome: 'held',
    detail: { weights: state.progress.weights, afterGate: state.afterGate },
  });
  await tell(state, ports, 'gate', {
    subject: `Rollout of ${state.rollout.service} waits for a person at ${state.progress.weights.canary}% canary`,
    severity: 'info',
    summary: `Rollout ${state.run.id} holds ${state.progress.weights.canary}% on the canary and waits (${state.reason ?? 'manual gate'}); it rolls back if nobody answers within ${GATE_TIMEOUT_SECONDS / 3600} hours.`,
    steer: [steer.resumeRollout(state.run.id), steer.abortRollout(state.run.id)],
    detail: { reason: state.reason },
  });
}

/**
 * Tells people how a rollout goes (it started, waits at a gate, was promoted). The step goes on whether or
 * not the message goes out: failing it would stop or roll back a healthy release for a notification. The
 * journal line of the step is the record a person finds either way, and a failed message is journaled too.
 */
async function tell(
  state: Pick<RolloutState, 'rollout' | 'run'>,
  ports: RolloutPorts,
  what: string,
  notification: Pick<Notification, 'subject' | 'severity' | 'summary' | 'steer' | 'detail'>,
): Promise<void> {
  await ports.notifier
    .notify({
      ...notification,
      reflex: ROLLOUT_REFLEX,
      target: state.rollout.service,
      detail: { runId: state.run.id, route: routeKey(state.rollout.route), ...notification.detail },
    })
    .catch((error: unknown) =>
      record(ports, {
        action: 'notify',
        target: targetOf(state),
        reason: `${what} notification failed: ${(error as Error).message}`,
        outcome: 'failed',
      }),
    );
}

// --- promote and roll back ---------------------------------------------------------------------------

/** All traffic on the canary, the route released (its owner and any request mark), unless a hand edit or a pause. */
export async function promoteCanary(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const { rollout } = state;
  const router = routerOf(ports, rollout.route);
  const route = await router.read(rollout.route);
  if (await releasedButClaimed(state, route, ports)) {
    // This promotion ran before up to its last call: the route holds all traffic on the canary and no owner
    // tag, and only the claim's release failed. Run again, it finishes that release, not a rollback.
    await ports.claims.release(routeKey(rollout.route), state.run.id);
    return promoted(state, ports);
  }
  const stop =
    lostRoute(state, route, ports) ??
    handEdit(state, route, ports, 'promote', ALL_CANARY) ??
    (await controlledElsewhere(state, ports, 'promote'));
  if (stop) return stop;
  const requested = await personRequest(state, route, ports, 'promote');
  if (requested) return requested;
  await router.setWeights(rollout.route, ALL_CANARY, route);
  if (!(await router.verifyWeights(rollout.route, ALL_CANARY)))
    throw new WeightsNotAppliedError(`route ${routeKey(rollout.route)} does not hold 100% canary yet`);
  // The tag first, then the claim: released in the other order, a new claim's tag could be untagged here.
  await router.setOwner(rollout.route, null);
  await ports.claims.release(routeKey(rollout.route), state.run.id);
  return promoted(state, ports);
}

/** A promotion untags the route before it releases the claim: only its own retry finds the two apart. */
async function releasedButClaimed(
  state: RolloutState,
  route: RouteState,
  ports: RolloutPorts,
): Promise<boolean> {
  if (route.owner !== undefined || !sameWeights(route.weights, ALL_CANARY)) return false;
  return (await ports.claims.holder(routeKey(state.rollout.route))) === state.run.id;
}

async function promoted(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const { rollout } = state;
  const early = state.next === 'promote' && state.reason ? `${state.reason}: ` : '';
  record(ports, {
    action: 'promote',
    target: targetOf(state),
    reason: `${early}all traffic on the new version after ${state.progress.analyses} analysis run(s)`,
    outcome: 'done',
  });
  const scaleDown = rollout.promote.scaleDownStable;
  await tell(state, ports, 'promotion', {
    subject: `Rollout of ${rollout.service} promoted`,
    severity: 'info',
    summary: `Rollout ${state.run.id} put all traffic on the new version (${early}after ${state.progress.analyses} analysis run(s))${scaleDown ? `; ${scaleDown.cluster}/${scaleDown.service} is scaled down in ${scaleDown.delaySeconds ?? 0} s` : ''}.`,
    steer: [steer.watchRollout(state.run.id)],
    detail: {},
  });
  return {
    ...state,
    progress: { ...state.progress, weights: ALL_CANARY },
    next: scaleDown ? 'scale-down' : 'done',
    waitSeconds: scaleDown?.delaySeconds ?? 0,
  };
}

/**
 * After the promotion's delay: the old version's service to zero (idempotent). Checked again here, since the
 * step can be invoked directly and time has passed: a service the route does not declare is refused
 * (RolloutNotAllowedError) before any call, and one another controller took over meanwhile (a blue/green
 * deployment, CodeDeploy) is left as it is, with an alert.
 */
export async function scaleDownStable(state: RolloutState, ports: RolloutPorts): Promise<RolloutState> {
  const target = state.rollout.promote.scaleDownStable;
  if (target) {
    checkAllowed(state.rollout, state.run.id, ports);
    if (await scaleDownIfOurs(state, target, 'scale-down-stable', ports))
      record(ports, {
        action: 'scale-down-stable',
        target: `${target.cluster}/${target.service}`,
        reason: 'promoted: the old version takes no traffic',
        outcome: 'done',
      });
  }
  return { ...state, next: 'done' };
}

/**
 * A declared service to zero unless another controller owns it now: then nothing is written, the journal
 * says why (held) and a person is alerted. Returns whether it was scaled down.
 */
async function scaleDownIfOurs(
  state: Pick<RolloutState, 'rollout' | 'run'>,
  target: { cluster: string; service: string },
  action: string,
  ports: RolloutPorts,
): Promise<boolean> {
  const service = await ports.services.describeService(target.cluster, target.service);
  const owner = service && otherController(service);
  if (!owner) {
    await ports.services.setDesiredCount(target.cluster, target.service, 0);
    return true;
  }
  const reason = `${target.cluster}/${target.service} is ${owner}: not scaled down, that controller owns it`;
  record(ports, { action, target: `${target.cluster}/${target.service}`, reason, outcome: 'held' });
  await ports.notifier.notify({
    subject: `Rollout of ${state.rollout.service}: ${target.service} not scaled down`,
    severity: 'warning',
    reflex: ROLLOUT_REFLEX,
    target: target.service,
    summary: `Rollout ${state.run.id} left ${target.cluster}/${target.service} running: ${reason}.`,
    steer: [steer.lookAtService(target.cluster, target.service)],
    detail: { runId: state.run.id, route: routeKey(state.rollout.route), reason },
  });
  return false;
}

/**
 * 100 % stable, the route released, the canary optionally scaled down, for the run that owns the route.
 * Safe to run any number of times, from the workflow, the safety net or an abort: a route without an owner
 * (never claimed, or released after a promotion or a finished rollback) or owned by another run is left alone.
 */
export async function rollBack(
  state: Pick<RolloutState, 'rollout' | 'run'> & { reason?: string },
  ports: RolloutPorts,
  options: {
    release: boolean;
    /**
     * The route as this invocation read it just now, and the owner it holds since (the abort's mark): the
     * rollback then writes from that answer instead of reading the route again.
     */
    known?: { route: RouteState; owner: string | undefined };
  } = { release: true },
): Promise<{ restored: boolean; reason: string }> {
  const { rollout, run } = state;
  const reason = state.reason ?? 'rollback';
  // Back to stable is the safe direction: it needs only this run's claim on the route (its owner tag), even
  // on a route taken out of the configuration since it started. Scaling the canary down is a destructive
  // write: only for the canary the route declares (a direct invoke of the step is checked as a start is).
  const allowance = rolloutAllowance({ ...rollout, promote: {} }, ports.declaredRoutes);
  const router = routerOf(ports, rollout.route);
  const read = options.known?.route ?? (await router.read(rollout.route));
  const route = options.known ? { ...read, owner: options.known.owner } : read;
  const ours = route.owner === run.id || route.owner === abortedMark(run.id);
  if (route.owner && !ours) {
    record(ports, {
      action: 'rollback',
      target: targetOf(state),
      reason: `${reason}: not done, rollout ${route.owner} owns the route now`,
      outcome: 'held',
    });
    return { restored: false, reason };
  }
  // No owner: this run never claimed the route, or released it already (after promoting, or after a
  // rollback that completed). Either way the weights are no longer this run's to change.
  if (!route.owner) return { restored: false, reason };
  const alreadyStable = sameWeights(route.weights, ALL_STABLE);
  await router.setWeights(rollout.route, ALL_STABLE, read);
  if (!(await router.verifyWeights(rollout.route, ALL_STABLE)))
    throw new WeightsNotAppliedError(`route ${routeKey(rollout.route)} does not hold 100% stable yet`);
  const scaleDown = rollout.rollback.scaleDownCanary;
  if (scaleDown && !allowance.allowed)
    record(ports, {
      action: 'scale-down-canary',
      target: `${scaleDown.cluster}/${scaleDown.service}`,
      reason: `not scaled down: ${allowance.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      outcome: 'held',
    });
  else if (scaleDown) await scaleDownIfOurs(state, scaleDown, 'scale-down-canary', ports);
  if (!alreadyStable || route.owner === run.id) {
    record(ports, {
      action: 'rollback',
      target: targetOf(state),
      reason: `${reason}: 100% stable`,
      outcome: 'done',
      detail: { from: route.weights },
    });
    await ports.notifier.notify({
      subject: `Rollout of ${rollout.service} rolled back`,
      severity: 'critical',
      reflex: ROLLOUT_REFLEX,
      target: rollout.service,
      summary: `Rollout ${run.id} put all traffic back on stable (from ${route.weights.canary}% canary): ${reason}.`,
      steer: [steer.watchRollout(run.id), steer.actionsOn(targetOf(state))],
      detail: { runId: run.id, reason, route: routeKey(rollout.route), from: route.weights },
    });
  }
  // Released last: a retry after a failed scale-down or notification still finds the route this run's.
  if (options.release) {
    await router.setOwner(rollout.route, null);
    await ports.claims.release(routeKey(rollout.route), run.id);
  }
  return { restored: !alreadyStable, reason };
}

/** The owner an aborted run leaves on its route until the safety net releases it. */
export const abortedMark = (runId: string) => `aborted:${runId}`;

/** An aborted run's mark is no execution name: that run has stopped, and its route goes back to stable. */
export const isAbortedMark = (owner: string) => owner.startsWith(abortedMark(''));

/**
 * An abort stops the run, but a step of it may be running still (Lambda is not stopped with the
 * execution). Marked first, the route makes that step stand down; the rollback then restores stable and
 * leaves the mark, and the safety net, hearing ABORTED, restores once more and releases the route. Only a
 * route this run holds is marked.
 */
async function abortAndRollBack(
  run: { name: string; rollout: RolloutSpec },
  reason: string,
  ports: RolloutPorts,
): Promise<void> {
  await ports.runs.stop(ROLLOUT_WORKFLOW, run.name, reason);
  const router = routerOf(ports, run.rollout.route);
  const route = await router.read(run.rollout.route);
  const marked = route.owner === run.name;
  if (marked) await router.setOwner(run.rollout.route, abortedMark(run.name));
  const state = { rollout: run.rollout, run: { id: run.name, startedAt: '' }, reason };
  const owner = marked ? abortedMark(run.name) : route.owner;
  await rollBack(state, ports, { release: false, known: { route, owner } });
}

/**
 * A guard alarm went to ALARM: every running rollout it guards is stopped and rolled back now, not at its
 * next analysis. The alarm's state is read first (an event is a hint: a late ALARM after OK aborts nothing),
 * and the run is stopped before the rollback, so that no later step of it can shift traffic again.
 */
export async function abortGuardedRollouts(
  alarmName: string,
  ports: RolloutPorts,
  requestOf: (input: unknown) => RolloutSpec | undefined,
): Promise<string[]> {
  const guarded = (await ports.runs.running(ROLLOUT_WORKFLOW))
    .map((run) => ({ name: run.name, rollout: requestOf(run.input) }))
    .filter((run) => run.rollout?.guardAlarms.includes(alarmName))
    // A run whose request the stack does not allow was refused at its first step: it never claimed its route
    // and ends by itself; it is neither stopped nor rolled back (its route is not this function's to read).
    .filter((run) => rolloutAllowance(run.rollout!, ports.declaredRoutes).allowed);
  if (guarded.length === 0) return [];
  const alarm = await ports.alarms.describe(alarmName, { withTags: false });
  if (alarm?.state !== 'ALARM') return [];
  const reason = `guard alarm ${alarmName} in ALARM`;
  for (const run of guarded) await abortAndRollBack({ name: run.name, rollout: run.rollout! }, reason, ports);
  return guarded.map((run) => run.name);
}

/**
 * A person aborts a rollout (the ops API): a run waiting at a gate is failed there, so its own Rollback
 * runs; any other run is stopped and rolled back here, at once (the safety net would too, a moment later).
 */
export async function abortRollout(
  name: string,
  reason: string,
  ports: RolloutPorts,
  requestOf: (input: unknown) => RolloutSpec | undefined,
): Promise<'rolled-back-at-gate' | 'stopped-and-rolled-back' | 'not-running'> {
  if (await ports.runs.answerGate(ROLLOUT_WORKFLOW, name, { abort: reason })) return 'rolled-back-at-gate';
  const run = (await ports.runs.running(ROLLOUT_WORKFLOW)).find((r) => r.name === name);
  const rollout = run && requestOf(run.input);
  if (!rollout) return 'not-running';
  await abortAndRollBack({ name, rollout }, reason, ports);
  return 'stopped-and-rolled-back';
}

// --- a person steers a running rollout (the ops API) -----------------------------------------------------
//
// Step Functions has no pause and a step keeps no memory, so a pause or an early promotion is a mark on the
// route (`setRequest`), which the workflow reads at its next step (ShiftTraffic or Promote) and clears as it
// acts on it. A run waiting at a gate is answered at the gate instead: resume, promote, or abort.

/**
 * A run is waiting at a gate (or entering one) when the latest state it finished leads to the gate and no
 * answer has come back: once the gate is answered, its output carries `gate` (or `error`) until the next
 * step replaces the whole output.
 */
export function waitsAtGate(latest: unknown): boolean {
  const output = latest as { state?: { next?: unknown }; gate?: unknown; error?: unknown } | undefined;
  return output?.state?.next === 'gate' && output.gate === undefined && output.error === undefined;
}

/**
 * The running run by name with its request, when it holds its route: a run that has not claimed the route
 * yet (or is being refused it) must not mark a route another rollout owns.
 */
async function runHoldingItsRoute(
  name: string,
  ports: RolloutPorts,
  requestOf: (input: unknown) => RolloutSpec | undefined,
): Promise<{ rollout: RolloutSpec; latest: unknown } | undefined> {
  const run = await ports.runs.describe(ROLLOUT_WORKFLOW, name);
  const rollout = run?.status === 'RUNNING' ? requestOf(run.input) : undefined;
  if (!run || !rollout) return undefined;
  const route = await routerOf(ports, rollout.route).read(rollout.route);
  return route.owner === name ? { rollout, latest: run.latest } : undefined;
}

/**
 * A person pauses a rollout: at its next step (before it shifts traffic again, or promotes) it waits at a
 * gate, at the weights it holds, until resumed (resumeRollout), promoted or aborted. `not-running` also
 * when the run does not hold its route (not claimed yet, or refused it).
 */
export async function pauseRollout(
  name: string,
  ports: RolloutPorts,
  requestOf: (input: unknown) => RolloutSpec | undefined,
): Promise<'pause-requested' | 'already-paused' | 'not-running'> {
  const run = await runHoldingItsRoute(name, ports, requestOf);
  if (!run) return 'not-running';
  if (waitsAtGate(run.latest)) return 'already-paused';
  await routerOf(ports, run.rollout.route).setRequest(run.rollout.route, 'pause');
  return 'pause-requested';
}

/** A person resumes a rollout waiting at a gate (a manual gate, a pause, a hand edit). */
export async function resumeRollout(name: string, ports: RolloutPorts): Promise<'resumed' | 'not-waiting'> {
  return (await ports.runs.answerGate(ROLLOUT_WORKFLOW, name, { resume: true })) ? 'resumed' : 'not-waiting';
}

/**
 * A person promotes a rollout now, skipping its remaining steps (the checks of the promotion itself still
 * hold: a hand edit is not overwritten). Waiting at a gate: the gate is answered with the promote decision.
 * Otherwise the promotion is marked on the route for its next step.
 */
export async function promoteRollout(
  name: string,
  ports: RolloutPorts,
  requestOf: (input: unknown) => RolloutSpec | undefined,
): Promise<'promoting' | 'promote-requested' | 'not-running'> {
  if (await ports.runs.answerGate(ROLLOUT_WORKFLOW, name, { promote: true })) return 'promoting';
  const run = await runHoldingItsRoute(name, ports, requestOf);
  if (!run) return 'not-running';
  await routerOf(ports, run.rollout.route).setRequest(run.rollout.route, 'promote');
  return 'promote-requested';
}
