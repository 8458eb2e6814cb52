// What the deployment hook answers ECS at one invocation of one lifecycle stage. ECS native deployments
// (BLUE_GREEN, LINEAR, CANARY) shift traffic themselves; the hook only says SUCCEEDED (go on), FAILED (roll
// back) or IN_PROGRESS (ask me again after callBackDelay). Its analysis is the rollouts' (rolloutAnalysis):
// the green revision is the canary, the blue one is stable. Its only memory is the hookDetails ECS hands
// back on the next invocation of the same stage, so everything it decides from is in the arguments.
import {
  type AnalysisCounts,
  type AnalysisLimits,
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
import type { TrafficCheck } from '#domain/trafficChecks';

/** The stages a Lambda hook can be configured at (DeploymentLifecycleHookStage). */
export const HOOK_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
] as const;
export type HookStage = (typeof HOOK_STAGES)[number];

/** Stages before the green revision's tasks run: nothing of green to look at yet. */
const BEFORE_GREEN_RUNS: readonly HookStage[] = ['RECONCILE_SERVICE', 'PRE_SCALE_UP'];
/** Stages where green serves the test listener's traffic (and blue all of production). */
const TEST_TRAFFIC: readonly HookStage[] = ['TEST_TRAFFIC_SHIFT', 'POST_TEST_TRAFFIC_SHIFT'];

/**
 * A check as a service configures it: like a rollout's, but without sources. The hook fills in the
 * target groups of the deployment's own revisions, read from ECS, so a check can never name the wrong ones.
 */
export type HookCheck =
  | { name: string; kind: 'errorRate'; minRequests: number; max?: number; maxRelativeToStable?: number }
  | {
      name: string;
      kind: 'latency';
      percentile: number;
      minRequests: number;
      max?: number;
      maxRelativeToStable?: number;
    }
  | { name: string; kind: 'alarm'; alarmName: string }
  | { name: string; kind: 'targetHealth'; minHealthyPercent: number };

export interface HookGate {
  stage: HookStage;
  /** A gate nobody answers fails the hook after this long: ECS rolls back rather than waiting a day. */
  timeoutSeconds: number;
}

/**
 * Tests before traffic at a stage: the rollouts' http and lambda checks, run at the stage's first
 * invocation (and again after the interval while they fail or error below the limits) before its analysis.
 */
export interface HookTests {
  stage: HookStage;
  checks: TrafficCheck[];
}

export interface HookSettings {
  checks: HookCheck[];
  tests: HookTests[];
  /** In ALARM at any invocation: FAILED at once, whatever the analysis says. */
  guardAlarms: string[];
  limits: AnalysisLimits & {
    /** Between two analyses: the callBackDelay while evidence accumulates. */
    intervalSeconds: number;
    /** Passing analyses needed at one stage (and, for linear and canary, at one traffic step). */
    passesRequired: number;
  };
  gates: HookGate[];
}

/**
 * The callBackDelay the hook gives. The developer guide gives ECS's default (30 s) and no range; the hook
 * stays within these so that a misread setting can neither hammer the function nor go quiet for long.
 */
export const MIN_CALLBACK_SECONDS = 5;
export const MAX_CALLBACK_SECONDS = 300;

/** The key under which the hook keeps its state in hookDetails, beside whatever the service put there. */
export const HOOK_STATE_KEY = 'ecsReflexHook';

/** What the hook remembers between invocations of one stage: hookDetails[HOOK_STATE_KEY]. */
export interface HookState {
  stage: HookStage;
  /** Green's production weight (percent) the evidence was gathered at: a new linear step starts a new window. */
  weight: number;
  startedAt: string;
  windowStart: string;
  counts: AnalysisCounts;
  passes: number;
  analyses: number;
  /** Set once the analysis of this stage has passed: a gate after it does not analyse again. */
  analysed?: boolean;
  /** When this stage's gate opened. */
  gateOpenedAt?: string;
  last?: { at: string; result: CheckResult; outcomes: { check: string; result: CheckResult }[] };
  /** This stage's tests before traffic, with counts of their own (never the analysis's). */
  tests?: TestsState;
}

/**
 * What the hook remembers of a stage's tests: kept small, as hookDetails travels with every invocation
 * (each check's name and verdict; the reasons go to the journal line and the FAILED answer).
 */
export interface TestsState {
  counts: AnalysisCounts;
  runs: number;
  passed?: boolean;
  last?: { at: string; result: CheckResult; outcomes: { check: string; result: CheckResult }[] };
}

/** Where the deployment's traffic can be measured per revision. */
export type TrafficSource =
  | {
      kind: 'alb';
      /** `app/NAME/ID`, the LoadBalancer dimension. */
      loadBalancer: string;
      green: { targetGroupArn: string };
      /** Absent on a service's first revision: there is nothing to compare with. */
      blue?: { targetGroupArn: string };
    }
  | { kind: 'nlb'; green: { targetGroupArn: string } }
  /** Service Connect, or no load balancer: no per-revision metric or target group exists. */
  | { kind: 'none'; why: string };

/** What the world (ECS, not the payload) says about the deployment. */
export interface DeploymentFacts {
  /** ROLLBACK_* statuses: ECS is already taking green out. */
  rollingBack: boolean;
  /** Green's share of production traffic, percent, as ECS requested it. */
  greenProductionWeight: number;
  traffic: TrafficSource;
}

export interface GateAnswerSeen {
  decision: 'resume' | 'abort';
  by: string;
}

export interface HookSituation {
  stage: HookStage;
  now: Date;
  settings: HookSettings;
  /** The state the previous invocation of this hook returned, if any. */
  state: HookState | undefined;
  deployment: DeploymentFacts;
  /** A person's answer recorded for this deployment at this stage (the ops API), if any. */
  gateAnswer?: GateAnswerSeen;
  /** What the app read for the checks `hookChecks` materialised; metrics over `analysisWindow`. */
  observations: Observations;
  /** The stage's tests as this invocation ran them, when `testsDue` named any. */
  testOutcomes?: CheckOutcome[];
}

export type HookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

export interface HookAnswer {
  hookStatus: HookStatus;
  /** Only with IN_PROGRESS. */
  callBackDelay?: number;
  /** Only with IN_PROGRESS: ECS hands it back at the next invocation of this stage. */
  state?: HookState;
  reason: string;
  /** This invocation's analysis, for the journal. */
  outcomes: CheckOutcome[];
  /** Where this stage's gate stands after this invocation, for the journal (the ops API shows it). */
  gate?: GateStanding;
  /** This invocation's tests before traffic, with their reasons, for the journal. */
  tests?: CheckOutcome[];
}

/** A gate as people see it: open and waiting (until when), or closed, by whom or by its time box. */
export type GateStanding =
  | { status: 'waiting'; openedAt: string; timesOutAt: string }
  | { status: 'resumed' | 'aborted'; by: string }
  | { status: 'timed-out'; openedAt: string };

// --- what to look at ---------------------------------------------------------------------------------

const trafficOf = (stage: HookStage, facts: DeploymentFacts): 'none' | 'test' | 'production' => {
  if (BEFORE_GREEN_RUNS.includes(stage)) return 'none';
  if (TEST_TRAFFIC.includes(stage)) return 'test';
  if (stage === 'POST_PRODUCTION_TRAFFIC_SHIFT' || facts.greenProductionWeight > 0) return 'production';
  return 'none';
};

/** A check this deployment cannot answer, and why: the hook fails rather than pass without evidence. */
export function unanswerableChecks(settings: HookSettings, facts: DeploymentFacts): string[] {
  return settings.checks.flatMap((check) => {
    if (check.kind === 'alarm') return [];
    if (check.kind === 'targetHealth')
      return facts.traffic.kind === 'none'
        ? [`${check.name}: no target group (${facts.traffic.why}), so no target health to read`]
        : [];
    if (facts.traffic.kind === 'alb') return [];
    if (facts.traffic.kind === 'nlb')
      return [`${check.name}: a Network Load Balancer publishes no HTTP ${check.kind} per target group`];
    return [`${check.name}: no per-revision ${check.kind} metric (${facts.traffic.why})`];
  });
}

/**
 * The settings' checks as rolloutAnalysis specs for this stage, with the deployment's own target groups:
 * metric checks where green serves traffic, target health once green runs, alarms always. Guard alarms
 * are checks too (named `guard NAME`). A metric check on a first revision (no blue) is left out.
 */
export function hookChecks(stage: HookStage, settings: HookSettings, facts: DeploymentFacts): CheckSpec[] {
  const traffic = facts.traffic;
  const specs = settings.checks.flatMap((check): CheckSpec[] => {
    switch (check.kind) {
      case 'alarm':
        return [check];
      case 'targetHealth':
        if (traffic.kind === 'none' || BEFORE_GREEN_RUNS.includes(stage)) return [];
        return [{ ...check, targetGroupArn: traffic.green.targetGroupArn }];
    }
    if (traffic.kind !== 'alb' || !traffic.blue || trafficOf(stage, facts) === 'none') return [];
    const source = {
      kind: 'alb' as const,
      loadBalancer: traffic.loadBalancer,
      canaryTargetGroup: targetGroupDimension(traffic.green.targetGroupArn),
      stableTargetGroup: targetGroupDimension(traffic.blue.targetGroupArn),
    };
    return [{ ...check, source }];
  });
  const guards = settings.guardAlarms.map(
    (alarmName): CheckSpec => ({ name: `guard ${alarmName}`, kind: 'alarm', alarmName }),
  );
  return [...specs, ...guards];
}

/** `arn:...:targetgroup/NAME/ID` -> `targetgroup/NAME/ID`, CloudWatch's TargetGroup dimension. */
export function targetGroupDimension(targetGroupArn: string): string {
  const at = targetGroupArn.indexOf('targetgroup/');
  return at < 0 ? targetGroupArn : targetGroupArn.slice(at);
}

/**
 * The LoadBalancer dimension (`app/NAME/ID` or `net/NAME/ID`) from a listener or listener rule ARN
 * (`...:listener/app/NAME/ID/LISTENER` or `...:listener-rule/app/NAME/ID/LISTENER/RULE`).
 */
export function loadBalancerDimension(listenerOrRuleArn: string): string | undefined {
  const match = /:listener(?:-rule)?\/((?:app|net)\/[^/]+\/[^/]+)\//.exec(listenerOrRuleArn);
  return match?.[1];
}

const MINUTE_MS = 60_000;

/**
 * The state this invocation continues: the previous one's at the same stage and traffic step, or a new one.
 * A new linear or canary step starts a new window but keeps the failures counted (Argo's failureLimit is
 * per rollout); another stage starts over (ECS does not carry hookDetails across stages anyway).
 */
export function continuedState(
  stage: HookStage,
  previous: HookState | undefined,
  facts: DeploymentFacts,
  now: Date,
): HookState {
  const at = now.toISOString();
  const weight = facts.greenProductionWeight;
  if (previous && previous.stage === stage && previous.weight === weight) return previous;
  const carried =
    previous?.stage === stage ? { ...NO_COUNTS, failures: previous.counts.failures } : NO_COUNTS;
  return { stage, weight, startedAt: at, windowStart: at, counts: carried, passes: 0, analyses: 0 };
}

/** The metrics window this invocation reads, or undefined (none needed, or not one published minute yet). */
export function analysisWindow(
  checks: CheckSpec[],
  state: HookState,
  now: Date,
): { start: Date; end: Date } | undefined {
  if (metricQueries(checks).length === 0 || state.analysed) return undefined;
  return publishedWindow(state.windowStart, now);
}

// --- the answer ----------------------------------------------------------------------------------------

const clampDelay = (seconds: number) =>
  Math.min(MAX_CALLBACK_SECONDS, Math.max(MIN_CALLBACK_SECONDS, Math.ceil(seconds)));

const inProgress = (
  state: HookState,
  seconds: number,
  reason: string,
  outcomes: CheckOutcome[] = [],
): HookAnswer => ({
  hookStatus: 'IN_PROGRESS',
  callBackDelay: clampDelay(seconds),
  state,
  reason,
  outcomes,
});

const finished = (hookStatus: 'SUCCEEDED' | 'FAILED', reason: string, outcomes: CheckOutcome[] = []) => ({
  hookStatus,
  reason,
  outcomes,
});

/** The tests this invocation runs: the stage's, until they have passed at it. */
export function testsDue(stage: HookStage, settings: HookSettings, state: HookState): TrafficCheck[] {
  if (state.tests?.passed) return [];
  return settings.tests.find((tests) => tests.stage === stage)?.checks ?? [];
}

/**
 * A run of the stage's tests, judged as the rollouts judge theirs (runResult and decideAfterAnalysis, the
 * same limits) with counts of their own, so a test retried below the failure limit uses up none of the
 * analysis's. A FAILED or IN_PROGRESS answer, or the state that passed them.
 */
function judgeTests(
  stage: HookStage,
  state: HookState,
  outcomes: CheckOutcome[] | undefined,
  settings: HookSettings,
  now: Date,
): { answer: HookAnswer } | { state: HookState; outcomes: CheckOutcome[] } {
  // Tests due but not run are no pass: the app always runs what testsDue names.
  const ran = outcomes ?? [{ check: 'tests', result: 'error' as const, reason: 'the tests did not run' }];
  const result = runResult(ran);
  const { next, counts } = decideAfterAnalysis(result, state.tests?.counts ?? NO_COUNTS, settings.limits);
  const tests: TestsState = {
    counts,
    runs: (state.tests?.runs ?? 0) + 1,
    last: { at: now.toISOString(), result, outcomes: ran.map((o) => ({ check: o.check, result: o.result })) },
  };
  const said = ran
    .filter((o) => o.result !== 'pass')
    .map((o) => `${o.check}: ${o.reason}`)
    .join('; ');
  if (next.move === 'rollback')
    return {
      answer: {
        ...finished('FAILED', `${stage}: tests before traffic: ${next.reason}: ${said}`),
        tests: ran,
      },
    };
  if (next.move === 'retry')
    return {
      answer: {
        ...inProgress(
          { ...state, tests },
          settings.limits.intervalSeconds,
          `${stage}: tests before traffic ${result}, run again after the interval: ${said}`,
        ),
        tests: ran,
      },
    };
  return { state: { ...state, tests: { ...tests, passed: true } }, outcomes: ran };
}

/**
 * The answers decided before any test runs: a rollback in progress, settings this deployment cannot answer,
 * an abort, a guard alarm firing. The caller asks this first, so no test spends the invocation's time (or a
 * function's side effects) on a deployment already decided.
 */
export function answerBeforeTests(situation: HookSituation): HookAnswer | undefined {
  const { stage, settings, deployment, gateAnswer, observations } = situation;
  // Failing or holding a rollback would only keep green in service longer.
  if (deployment.rollingBack)
    return finished('SUCCEEDED', 'the deployment is rolling back: the hook does not hold a rollback');
  const unanswerable = unanswerableChecks(settings, deployment);
  if (unanswerable.length > 0)
    return finished(
      'FAILED',
      `the settings ask for what this deployment cannot give: ${unanswerable.join('; ')}`,
    );
  if (gateAnswer?.decision === 'abort')
    return {
      ...finished('FAILED', `aborted at ${stage} by ${gateAnswer.by}`),
      gate: { status: 'aborted', by: gateAnswer.by },
    };
  // Guard alarms fail the hook at once: a guard is not evidence to weigh, it is the service saying stop.
  const guards = guardOutcomes(hookChecks(stage, settings, deployment), observations);
  const firing = guards.filter((outcome) => outcome.result === 'fail');
  if (firing.length > 0) return finished('FAILED', firing.map((o) => o.reason).join('; '), guards);
  return undefined;
}

export function decideHookAnswer(situation: HookSituation): HookAnswer {
  const decided = answerBeforeTests(situation);
  if (decided) return decided;
  const { stage, now, settings, deployment, observations } = situation;
  const state = continuedState(stage, situation.state, deployment, now);
  const checks = hookChecks(stage, settings, deployment);
  const guards = guardOutcomes(checks, observations);
  if (testsDue(stage, settings, state).length === 0) return analyseAndGate(situation, state, checks, guards);
  const tested = judgeTests(stage, state, situation.testOutcomes, settings, now);
  if ('answer' in tested) return tested.answer;
  return { ...analyseAndGate(situation, tested.state, checks, guards), tests: tested.outcomes };
}

const guardOutcomes = (checks: CheckSpec[], observations: HookSituation['observations']) =>
  checks
    .filter((check) => check.name.startsWith('guard '))
    .map((check) => assessCheck(check, -1, observations));

/** After the guards and the stage's tests: the analysis, then the gate. */
function analyseAndGate(
  situation: HookSituation,
  state: HookState,
  checks: CheckSpec[],
  guards: CheckOutcome[],
): HookAnswer {
  const { stage, now, settings, gateAnswer, observations } = situation;
  let analysed = state;
  let outcomes: CheckOutcome[] = guards;
  const analysisChecks = checks.filter((check) => !check.name.startsWith('guard '));
  if (!state.analysed && analysisChecks.length > 0) {
    const step = analyse(analysisChecks, state, settings, observations, now);
    if ('answer' in step) return step.answer;
    analysed = step.state;
    outcomes = [...step.outcomes, ...guards];
  }

  const gate = settings.gates.find((g) => g.stage === stage);
  if (!gate) return finished('SUCCEEDED', `${stage}: ${summary(analysed, analysisChecks.length)}`, outcomes);
  if (gateAnswer?.decision === 'resume')
    return {
      ...finished('SUCCEEDED', `${stage}: gate resumed by ${gateAnswer.by}`, outcomes),
      gate: { status: 'resumed', by: gateAnswer.by },
    };
  const openedAt = analysed.gateOpenedAt ?? now.toISOString();
  const waited = (now.getTime() - Date.parse(openedAt)) / 1000;
  if (waited >= gate.timeoutSeconds)
    return {
      ...finished('FAILED', `${stage}: nobody answered the gate within ${gate.timeoutSeconds} s`, outcomes),
      gate: { status: 'timed-out', openedAt },
    };
  const timesOutAt = new Date(Date.parse(openedAt) + gate.timeoutSeconds * 1000).toISOString();
  return {
    ...inProgress(
      { ...analysed, gateOpenedAt: openedAt },
      Math.min(settings.limits.intervalSeconds, gate.timeoutSeconds - waited),
      `${stage}: waiting at the gate for a person (resume or abort), ${Math.round(gate.timeoutSeconds - waited)} s left`,
      outcomes,
    ),
    gate: { status: 'waiting', openedAt, timesOutAt },
  };
}

const summary = (state: HookState, checks: number) =>
  checks === 0
    ? 'nothing to analyse at this stage'
    : `analysis passed (${state.passes} pass(es) of ${state.analyses} run(s))`;

/** One analysis run: a decided answer (FAILED, or IN_PROGRESS to run again), or the state that passed it. */
function analyse(
  checks: CheckSpec[],
  state: HookState,
  settings: HookSettings,
  observations: Observations,
  now: Date,
): { answer: HookAnswer } | { state: HookState; outcomes: CheckOutcome[] } {
  const window = analysisWindow(checks, state, now);
  if (metricQueries(checks).length > 0 && !window) {
    // Not one published minute of green's traffic yet: too early to tell, which is no verdict to count.
    const ready = Math.ceil(Date.parse(state.windowStart) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const wait = (ready + METRICS_DELAY_SECONDS * 1000 - now.getTime()) / 1000;
    return { answer: inProgress(state, wait, 'waiting for the first published minute of metrics') };
  }
  const outcomes = checks.map((check, index) => assessCheck(check, index, observations));
  const result = runResult(outcomes);
  const { next, counts } = decideAfterAnalysis(result, state.counts, settings.limits);
  const at = now.toISOString();
  const ran: HookState = {
    ...state,
    counts,
    analyses: state.analyses + 1,
    // Too little evidence keeps the window's start, so evidence adds up instead of starting over.
    windowStart: result === 'inconclusive' ? state.windowStart : window ? window.end.toISOString() : at,
    last: { at, result, outcomes: outcomes.map((o) => ({ check: o.check, result: o.result })) },
  };
  if (next.move === 'rollback') return { answer: finished('FAILED', next.reason, outcomes) };
  const interval = settings.limits.intervalSeconds;
  if (next.move === 'retry')
    return { answer: inProgress(ran, interval, `analysis ${result}: running it again`, outcomes) };
  const passes = state.passes + 1;
  if (passes < settings.limits.passesRequired)
    return {
      answer: inProgress(
        { ...ran, passes },
        interval,
        `analysis passed ${passes} of ${settings.limits.passesRequired} time(s)`,
        outcomes,
      ),
    };
  return { state: { ...ran, passes, analysed: true }, outcomes };
}

// --- a person's answer at a gate ----------------------------------------------------------------------
//
// The hook keeps no table, and ECS hands hookDetails only to the hook itself, so a person's answer is a tag
// on the service: one key, overwritten by the next gate's answer, naming the deployment and stage it is for
// (an answer for another deployment or stage is no answer here). ECS tag values allow letters, digits,
// spaces and _ . : / = + - @, up to 256 characters.

export const GATE_TAG_KEY = 'ecs-reflex:hook-gate';

export interface GateRecord {
  deploymentId: string;
  stage: HookStage;
  decision: 'resume' | 'abort';
  by: string;
}

const TAG_UNSAFE = /[^A-Za-z0-9 _.:/=+\-@]/g;

export function gateTagValue(record: GateRecord): string {
  const by = record.by.replace(TAG_UNSAFE, '_').replaceAll(' ', '_');
  return `${record.deploymentId} ${record.stage} ${record.decision} ${by}`.slice(0, 256);
}

export function readGateTag(value: string | undefined): GateRecord | undefined {
  const [deploymentId, stage, decision, by = 'unknown'] = (value ?? '').split(' ');
  if (!deploymentId || !HOOK_STAGES.includes(stage as HookStage)) return undefined;
  if (decision !== 'resume' && decision !== 'abort') return undefined;
  return { deploymentId, stage: stage as HookStage, decision, by };
}

/** The answer recorded for this deployment at this stage, if the service's tag holds one. */
export function gateAnswerFor(
  tags: Record<string, string>,
  deploymentId: string,
  stage: HookStage,
): GateAnswerSeen | undefined {
  const record = readGateTag(tags[GATE_TAG_KEY]);
  if (!record || record.deploymentId !== deploymentId || record.stage !== stage) return undefined;
  return { decision: record.decision, by: record.by };
}
