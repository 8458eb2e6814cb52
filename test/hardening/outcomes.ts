// What the hardening suites that disturb a scenario (faults.test.ts, crashes.test.ts) share: one run of a
// scenario on a fresh twin, and how a disturbed run is judged against the scenario's clean run.
//
// A disturbed run is classified:
// - converged: its end state (`endStateOf`, the same comparison as replay.test.ts) equals the clean run's,
//   and it did no destructive write (DESTRUCTIVE_APIS, replay.test.ts's list) more often;
// - failed safe: it differs (or did more of those writes), but every rollout not SUCCEEDED left its route's canary at weight 0 (all
//   traffic on stable) when the reflexes last wrote the route's weights (a person may set weights by hand
//   after the rollout ended), unless another rollout on that route SUCCEEDED (the route then carries its
//   promotion), no lifecycle action is left pending (beyond the clean run's), at least as many were
//   completed as in the clean run, no more were left to time out (completed by Auto Scaling, not by the
//   reflex) and no more terminating instances released while still serving (live targets or service
//   tasks: capacity taken away undrained), and no destructive write of any kind (DESTRUCTIVE_APIS:
//   UpdateService, UpdateRoute/ModifyRule/UpdateRule, RunTask, SetDesiredCapacity as much as StopTask and
//   drains)
//   took effect more often than in the clean run (an SDK retry of the same command counts once), and no
//   more standalone tasks are left running than in the clean run (a RunTask a retry applied twice);
// - violated: anything else. No scenario may be violated.
//
// The runs are played here, as `runScenario` plays them, rather than through it: the twin itself is
// needed to see the lifecycle actions still pending at the end and the Lambda invocations.
//
// Every run, the clean one too, checks the blast-radius invariants after every step of the clock
// (local/scenario/blastRadius.ts): none may be broken beyond the known ones (test/support/blastRadius.ts).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { BlastRadiusReport } from '#local/scenario/blastRadius';
import {
  blastRadiusChecker,
  endStateOf,
  prepareTwin,
  repoRoot,
  type ScenarioEndState,
  scheduleTimeline,
} from '#local/scenario/runner';
import type { Scenario } from '#local/scenario/schema';
import type { Invocation } from '#local/twin/lambdas';
import type { TimelineEntry } from '#local/twin/timeline';
import type { Twin } from '#local/twin/twin';
import type { ApiCall } from '#local/twin/world';

export const scenarioDir = join(repoRoot, 'local', 'scenarios');
export const scenarioFiles = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.json'))
  .sort();

/**
 * Writes that stop, drain, shift traffic, resize, roll back, restart or release: a disturbance (a copy
 * of an event, a fault, a crash) must never make the reflexes do one more often than the clean run.
 */
export const DESTRUCTIVE_APIS = [
  'StopTask',
  'StopServiceDeployment',
  'DeregisterTargets',
  'UpdateContainerInstancesState',
  'UpdateRoute',
  'ModifyRule',
  'ModifyListener',
  'UpdateRule',
  'UpdateListener',
  'SetDesiredCapacity',
  'PutScalingPolicy',
  'RegisterScalableTarget',
  'UpdateService',
  'RunTask',
  'CompleteLifecycleAction',
];

/** Destructive writes the disturbed run did more often than the clean run, `API n > clean c`. */
export function moreDestructiveWrites(clean: Run, disturbed: Run, apis = DESTRUCTIVE_APIS): string[] {
  return apis.flatMap((api) => {
    const n = successfulWrites(disturbed.apiCalls, api);
    const c = successfulWrites(clean.apiCalls, api);
    return n > c ? [`${api} ${n} > clean ${c}`] : [];
  });
}

export type Outcome = 'converged' | 'failed-safe' | 'violated';

export interface Run {
  endState: ScenarioEndState;
  apiCalls: ApiCall[];
  pendingLifecycleActions: number;
  /** Lifecycle actions Auto Scaling completed itself when a timeout expired. */
  timedOutLifecycleActions: number;
  /** Terminate actions completed while the instance still served. */
  releasedWhileServing: number;
  /** Each route's weights as a reflex last wrote them (none when no reflex wrote them). */
  reflexWeights: Record<string, Record<string, number> | undefined>;
  invocations: Invocation[];
  timeline: TimelineEntry[];
  blastRadius: BlastRadiusReport;
}

/**
 * One run of the scenario on a fresh twin. `disturb` gets the twin before its clock starts, and the
 * instant the run ends, to add faults or crashes for the run.
 */
export async function play(scenario: Scenario, disturb?: (twin: Twin, end: Date) => void): Promise<Run> {
  const twin = prepareTwin(scenario);
  const end = new Date(twin.scheduler.now().getTime() + scenario.duration * 1000);
  disturb?.(twin, end);
  scheduleTimeline(twin, scenario);
  twin.start();
  const checker = blastRadiusChecker(twin, scenario);
  await twin.scheduler.runUntil(end, { afterEachStep: checker.afterEachStep });
  const endState = endStateOf(twin, scenario);
  const reflexWeights = Object.fromEntries(
    Object.keys(endState.routes).map((route) => [
      route,
      twin.traffic
        .writesTo(route)
        .filter((w) => w.by === 'reflex')
        .at(-1)?.weights,
    ]),
  );
  return {
    endState,
    reflexWeights,
    apiCalls: twin.world.apiCalls,
    pendingLifecycleActions: twin.lifecycle.pending().length,
    timedOutLifecycleActions: twin.lifecycle.completions.filter((c) => c.by !== 'call').length,
    releasedWhileServing: twin.lifecycle.completions.filter(
      (c) => c.transition === 'terminate' && c.stillServing,
    ).length,
    invocations: twin.lambdas.invocations,
    timeline: twin.timeline.entries,
    blastRadius: checker.report(),
  };
}

/**
 * Commands of `api` that took effect: an SDK retry of a command (`attempt` 2 and on) is the same command,
 * counted once however many of its attempts AWS applied (a write that took effect, then timed out). The
 * SDK's backoff takes time, so other calls (another workflow's) come between a command's attempts: a retry
 * belongs to the last command of the same API and target by the same caller, not to the call just before.
 * A command with an idempotency token in its target is counted once whoever sends it again.
 */
export function successfulWrites(calls: ApiCall[], api: string): number {
  let commands = 0;
  /** Per command (API, target, caller): whether one of its attempts took effect and was counted. */
  const counted = new Map<string, boolean>();
  for (const call of calls) {
    if (call.api !== api || !call.write) continue;
    // A command that carries an idempotency token (RunTask's clientToken) is one command however often it
    // is sent, by whichever invocation: AWS answers the same token with what it did the first time.
    const tokened = call.target.includes('clientToken=');
    const command = tokened ? call.target : `${call.target}\u0000${call.by ?? ''}`;
    if (call.attempt === undefined && !tokened) counted.set(command, false);
    if (call.failed !== undefined || counted.get(command)) continue;
    commands += 1;
    counted.set(command, true);
  }
  return commands;
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** `@rule:web` -> `web`, `@listener:web` -> `web`, `@tg:web-v2` -> `web-v2`; App Mesh names are plain already. */
const plainName = (ref: unknown): string => String(ref).replace(/^@[A-Za-z]+:/, '');

/** Each rollout started in the scenario: the route it shifts and its canary version. */
function rolloutRoutes(scenario: Scenario): Record<string, { route: string; canary: string }> {
  const routes: Record<string, { route: string; canary: string }> = {};
  for (const step of scenario.timeline) {
    if (!('startRollout' in step)) continue;
    const route = step.startRollout.request.route as Record<string, unknown>;
    routes[step.startRollout.name] = {
      // A listener's default action has no rule: the twin names its route after the listener.
      route: plainName(route.router === 'appmesh' ? route.routeName : (route.ruleArn ?? route.listenerArn)),
      canary: plainName(route.canary),
    };
  }
  return routes;
}

/** Why a disturbed run that did not converge is not safe; empty when it failed safe. */
export function unsafeReasons(scenario: Scenario, clean: Run, disturbed: Run): string[] {
  const reasons: string[] = [];
  const routes = rolloutRoutes(scenario);
  const succeeded = (name: string) => disturbed.endState.rollouts[name] === 'SUCCEEDED';
  for (const [name, status] of Object.entries(disturbed.endState.rollouts)) {
    if (status === 'SUCCEEDED') continue;
    const { route, canary } = routes[name]!;
    if (Object.keys(routes).some((other) => routes[other]!.route === route && succeeded(other))) continue;
    const weights = disturbed.reflexWeights[route] ?? disturbed.endState.routes[route];
    const weight = weights?.[canary];
    if (weight !== 0) reasons.push(`rollout ${name} ${status}: canary ${canary} on ${route} at ${weight}`);
  }
  const completed = total(disturbed.endState.lifecycleCompletions);
  const cleanCompleted = total(clean.endState.lifecycleCompletions);
  if (completed < cleanCompleted)
    reasons.push(`lifecycle completions ${completed} < clean ${cleanCompleted}`);
  if (disturbed.pendingLifecycleActions > clean.pendingLifecycleActions)
    reasons.push(
      `lifecycle actions pending ${disturbed.pendingLifecycleActions} > clean ${clean.pendingLifecycleActions}`,
    );
  for (const key of ['timedOutLifecycleActions', 'releasedWhileServing'] as const)
    if (disturbed[key] > clean[key]) reasons.push(`${key} ${disturbed[key]} > clean ${clean[key]}`);
  reasons.push(...moreDestructiveWrites(clean, disturbed));
  // A standalone task started twice (a RunTask applied again by a retry) is work done twice.
  for (const [group, n] of Object.entries(disturbed.endState.standalone)) {
    const c = clean.endState.standalone[group] ?? 0;
    if (n > c) reasons.push(`standalone tasks running in ${group} ${n} > clean ${c}`);
  }
  return reasons;
}

export function classify(
  scenario: Scenario,
  clean: Run,
  disturbed: Run,
): { outcome: Outcome; reasons: string[] } {
  if (
    isDeepStrictEqual(disturbed.endState, clean.endState) &&
    moreDestructiveWrites(clean, disturbed).length === 0
  )
    return { outcome: 'converged', reasons: [] };
  const reasons = unsafeReasons(scenario, clean, disturbed);
  return { outcome: reasons.length === 0 ? 'failed-safe' : 'violated', reasons };
}
