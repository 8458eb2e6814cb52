// Progressive rollouts on the twin. (1) A canary that turns bad mid-bake: virtual seconds until the route
// puts it back at 0 %, aborted by a guard alarm's event against the same rollout left to its analysis alone
// (as Flagger does by default: a check every interval, rollback at the Nth failure). (2) The AWS calls each
// rollout step makes, against the fewest the design needs. Virtual time and call counts: exact, not noisy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runScenario, type ScenarioResult } from '#local/scenario/runner';
import { type Scenario, ScenarioSchema } from '#local/scenario/schema';
import { Twin } from '#local/twin/twin';
import { measureScenarioCalls } from './actionCalls';
import { excessCount } from './callBudgets';

const SCENARIOS = join(repoRoot, 'local', 'scenarios');
const ROUTE = 'web';
const CANARY = 'web-v2';
/** When the canary turns bad in the main figure: 30 s into the rollout's first step (shifted at 60 s). */
const BAD_AT_SECONDS = 90;
const BAD_ERROR_RATE = 0.2;
/** Flagger's default analysis threshold: the rollback comes at the 5th failed check. */
const FLAGGER_THRESHOLD = 5;
const FLAGGER_INTERVAL_SECONDS = 60;
/** Seconds into the minute in which the canary turns bad, for the range under the main figure. */
const SWEEP_OFFSETS = [5, 15, 25, 35, 45, 55];

// --- the fields of rollout-guard-alarm.json this bench reads or changes --------------------------------

interface RawCheck {
  name: string;
  kind: string;
  max?: number;
}

interface RawRequest {
  schedule: { kind: string; weights: number[]; bakeSeconds: number };
  analysis: { checks: RawCheck[]; intervalSeconds?: number; failureLimit?: number };
  guardAlarms?: string[];
}

interface RawStep {
  at: string;
  startRollout?: { name: string; request: RawRequest };
  setProfile?: { version: string; errorRate?: number };
}

interface RawScenario {
  name: string;
  description: string;
  world: {
    alarms: { name: string; threshold: number; evaluationPeriods: number }[];
    traffic: { listenerRules: { name: string; rps: number }[] };
  };
  timeline: RawStep[];
  expect: unknown[];
}

/** Runs a scenario as runScenario does, and keeps the twin it ran on (runScenario does not return it). */
export async function runKeepingTwin(scenario: Scenario): Promise<{ result: ScenarioResult; twin: Twin }> {
  const start = Twin.prototype.start;
  let twin: Twin | undefined;
  Twin.prototype.start = function (this: Twin) {
    twin = this;
    start.call(this);
  };
  try {
    const result = await runScenario(scenario);
    if (!twin) throw new Error(`${scenario.name}: the twin was never started`);
    return { result, twin };
  } finally {
    Twin.prototype.start = start;
  }
}

function failedExpectations(result: ScenarioResult): string {
  return result.expectations
    .filter((e) => !e.passed)
    .map((e) => `${e.description} (actual: ${e.actual})`)
    .join('; ');
}

// --- 1. a canary going bad ----------------------------------------------------------------------------

export interface AbortRun {
  /** From the canary turning bad to the first write of the route that puts it at 0 %. */
  seconds: number;
  /** The 5xx the canary answered in that time: its published per-minute 5xx count, summed. */
  canary5xx: number;
  /** Analysis runs, all failed (analysis-only), or 0 (event-driven). */
  failedAnalyses: number;
  /** When the canary was shifted to its weight (scenario seconds). */
  stepStartSeconds: number;
  /** When the guard alarm went to ALARM, seconds after the canary turned bad (event-driven only). */
  alarmAfterSeconds?: number;
}

export interface AbortComparison {
  scenario: string;
  badAtSeconds: number;
  canaryWeight: number;
  requestsPerSecond: number;
  errorRate: number;
  eventDriven: AbortRun & { threshold: number; evaluationPeriods: number; bakeSeconds: number };
  analysisOnly: AbortRun & { threshold: number; intervalSeconds: number; maxErrorRate: number };
  /** analysis-only / event-driven. */
  ratio: number;
  /** The same two runs with the canary turning bad at other moments of a minute. */
  sweep: { badAtSeconds: number; eventDrivenSeconds: number; analysisOnlySeconds: number }[];
}

function guardAlarmVariants(
  raw: RawScenario,
  badAt: number,
): { eventDriven: RawScenario; analysisOnly: RawScenario } {
  const eventDriven = structuredClone(raw);
  eventDriven.name = 'bench-rollout-event-driven';
  const bad = eventDriven.timeline.find((step) => step.setProfile?.version === CANARY);
  if (!bad) throw new Error(`${raw.name}: no step turns ${CANARY} bad`);
  bad.at = `${badAt}s`;
  bad.setProfile = { version: CANARY, errorRate: BAD_ERROR_RATE };

  const analysisOnly = structuredClone(eventDriven);
  analysisOnly.name = 'bench-rollout-analysis-only';
  analysisOnly.description = `As ${raw.name}, without the guard alarm: the analysis every ${FLAGGER_INTERVAL_SECONDS} s rolls back at the ${FLAGGER_THRESHOLD}th failed check.`;
  analysisOnly.world.alarms = [];
  const start = analysisOnly.timeline.find((step) => step.startRollout)!.startRollout!;
  const { request } = start;
  request.guardAlarms = [];
  request.schedule.bakeSeconds = FLAGGER_INTERVAL_SECONDS;
  request.analysis.intervalSeconds = FLAGGER_INTERVAL_SECONDS;
  request.analysis.failureLimit = FLAGGER_THRESHOLD - 1;
  analysisOnly.expect = [
    {
      weights: { route: ROUTE, canary: CANARY },
      sequence: [request.schedule.weights[0], 0],
      final: 0,
      handEdits: 0,
    },
    { rollout: start.name, status: 'FAILED', error: 'RolloutRolledBack' },
    { action: 'analyse', count: FLAGGER_THRESHOLD },
    { action: 'rollback', outcome: 'done', count: 1 },
    { deadLetters: true, count: 0 },
  ];
  return { eventDriven, analysisOnly };
}

async function measureAbort(raw: RawScenario, badAt: number, how: 'alarm' | 'analysis'): Promise<AbortRun> {
  const { result, twin } = await runKeepingTwin(ScenarioSchema.parse(raw));
  if (!result.passed) throw new Error(`${raw.name} (bad at ${badAt} s): ${failedExpectations(result)}`);
  const elapsed = (at: Date) => twin.scheduler.elapsedSeconds(at);
  const writes = twin.traffic.writesTo(ROUTE).filter((w) => w.by === 'reflex');
  const shifted = writes.findLast((w) => elapsed(w.at) <= badAt);
  const zero = writes.find((w) => elapsed(w.at) >= badAt && w.weights[CANARY] === 0);
  if (!zero) throw new Error(`${raw.name} (bad at ${badAt} s): the route never put ${CANARY} back at 0 %`);
  if (!shifted || shifted.weights[CANARY] === 0)
    throw new Error(`${raw.name} (bad at ${badAt} s): ${CANARY} took no traffic when it turned bad`);
  const analyses = result.journal.filter((e) => e.action === 'analyse');
  const failed = analyses.filter((e) => e.detail?.result === 'fail').length;
  const rollbacks = result.journal.filter((e) => e.action === 'rollback' && e.outcome === 'done');
  const rolledBackBy =
    how === 'alarm'
      ? analyses.length === 0 && rollbacks.every((e) => /guard alarm/.test(e.reason))
      : failed === FLAGGER_THRESHOLD &&
        analyses.length === FLAGGER_THRESHOLD &&
        rollbacks.every((e) => /failed analysis/.test(e.reason));
  if (rollbacks.length !== 1 || !rolledBackBy)
    throw new Error(
      `${raw.name} (bad at ${badAt} s): not rolled back by the ${how} (${analyses.length} analyses, ${failed} failed; ` +
        `rollbacks: ${rollbacks.map((e) => e.reason).join('; ') || 'none'})`,
    );
  const metrics = twin.traffic.versionMetrics(ROUTE, CANARY);
  const badMinute = Math.floor(badAt / 60) * 60;
  const canary5xx = twin.traffic
    .datapoints(metrics.namespace, metrics.errors, metrics.dimensions)
    .filter((p) => elapsed(p.at) >= badMinute && elapsed(p.at) <= elapsed(zero.at))
    .reduce((sum, p) => sum + p.value, 0);
  const alarmAt = result.timeline.find((e) => e.kind === 'world' && /-> ALARM$/.test(e.text))?.t;
  return {
    seconds: elapsed(zero.at) - badAt,
    canary5xx,
    failedAnalyses: failed,
    stepStartSeconds: elapsed(shifted.at),
    ...(how === 'alarm' && alarmAt !== undefined ? { alarmAfterSeconds: alarmAt - badAt } : {}),
  };
}

export async function measureRolloutAbort(): Promise<AbortComparison> {
  const file = 'rollout-guard-alarm.json';
  const raw = JSON.parse(readFileSync(join(SCENARIOS, file), 'utf8')) as RawScenario;
  const request = raw.timeline.find((step) => step.startRollout)?.startRollout?.request;
  const alarm = raw.world.alarms[0];
  const errorCheck = request?.analysis.checks.find((c) => c.kind === 'errorRate');
  const rps = raw.world.traffic.listenerRules.find((r) => r.name === ROUTE)?.rps;
  const canaryWeight = request?.schedule.weights[0];
  // What the rows claim of the file: a guard alarm, a long bake, an error-rate check with a max.
  if (
    !request ||
    !alarm ||
    !request.guardAlarms?.includes(alarm.name) ||
    errorCheck?.max === undefined ||
    rps === undefined ||
    canaryWeight === undefined ||
    request.schedule.kind !== 'weights' ||
    request.schedule.bakeSeconds < 5 * FLAGGER_INTERVAL_SECONDS
  )
    throw new Error(`${file} no longer has a guard alarm, a long bake and an error-rate check with a max`);

  const run = async (badAt: number) => {
    const variants = guardAlarmVariants(raw, badAt);
    return {
      eventDriven: await measureAbort(variants.eventDriven, badAt, 'alarm'),
      analysisOnly: await measureAbort(variants.analysisOnly, badAt, 'analysis'),
    };
  };
  const main = await run(BAD_AT_SECONDS);
  const sweep = [];
  for (const offset of SWEEP_OFFSETS) {
    const badAt = 60 + offset;
    const { eventDriven, analysisOnly } = await run(badAt);
    sweep.push({
      badAtSeconds: badAt,
      eventDrivenSeconds: eventDriven.seconds,
      analysisOnlySeconds: analysisOnly.seconds,
    });
  }
  return {
    scenario: `local/scenarios/${file}`,
    badAtSeconds: BAD_AT_SECONDS,
    canaryWeight,
    requestsPerSecond: rps,
    errorRate: BAD_ERROR_RATE,
    eventDriven: {
      ...main.eventDriven,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods,
      bakeSeconds: request.schedule.bakeSeconds,
    },
    analysisOnly: {
      ...main.analysisOnly,
      threshold: FLAGGER_THRESHOLD,
      intervalSeconds: FLAGGER_INTERVAL_SECONDS,
      maxErrorRate: errorCheck.max,
    },
    ratio: main.analysisOnly.seconds / main.eventDriven.seconds,
    sweep,
  };
}

// --- 2. AWS calls per step ----------------------------------------------------------------------------

export interface RolloutActionCalls {
  /** prepare (ALB), shift (ALB), ...: the row of bench/callBudgets.ts each invocation is held to. */
  action: string;
  invocations: number;
  calls: number;
  /** The calls its rows allow, of those it made: its calls less any above its budget. */
  minimum: number;
  apis: string[];
}

export interface RolloutCalls {
  scenario: string;
  router: string;
  /** Weight changes, promotion included. */
  steps: number;
  actions: RolloutActionCalls[];
  /** Shift, verify, analyse and promote invocations over the weight changes: what one step costs. */
  perStep: { calls: number; minimum: number };
  total: { calls: number; minimum: number };
}

async function measureCalls(file: string, router: string): Promise<RolloutCalls> {
  const scenario = `local/scenarios/${file}`;
  const { measured } = await measureScenarioCalls(file);
  const raw = JSON.parse(readFileSync(join(SCENARIOS, file), 'utf8'));
  const { twin } = await runKeepingTwin(ScenarioSchema.parse(raw));
  const steps = twin.traffic.writesTo(ROUTE).filter((w) => w.by === 'reflex').length;
  const rollout = measured.filter((m) => /^rolloutStep/.test(m.invocation));
  const byAction = new Map<string, RolloutActionCalls>();
  for (const m of rollout) {
    const action = m.actions.join(' + ');
    const row = byAction.get(action) ?? { action, invocations: 0, calls: 0, minimum: 0, apis: m.apis };
    row.invocations += 1;
    row.calls += m.apis.length;
    row.minimum += m.apis.length - excessCount(m.excess);
    byAction.set(action, row);
  }
  const actions = [...byAction.values()];
  const stepActions = actions.filter((a) => /^(shift|verify|analyse|promote)/.test(a.action));
  const sum = (list: RolloutActionCalls[], pick: (a: RolloutActionCalls) => number) =>
    list.reduce((n, a) => n + pick(a), 0);
  return {
    scenario,
    router,
    steps,
    actions,
    perStep: {
      calls: sum(stepActions, (a) => a.calls) / steps,
      minimum: sum(stepActions, (a) => a.minimum) / steps,
    },
    total: { calls: sum(actions, (a) => a.calls), minimum: sum(actions, (a) => a.minimum) },
  };
}

export interface RolloutBench {
  abort: AbortComparison;
  calls: RolloutCalls[];
}

export async function measureRollouts(): Promise<RolloutBench> {
  return {
    abort: await measureRolloutAbort(),
    calls: [
      await measureCalls('rollout-alb-promoted.json', 'ALB listener rule'),
      await measureCalls('rollout-mesh-promoted.json', 'App Mesh route'),
    ],
  };
}
