// AWS calls per action, measured on the twin and held to the design minimum (bench/callBudgets.ts). Every
// Lambda invocation of a scenario is one action of its reflex (or two: a lifecycle look that confirms its
// claim and then acts); the twin records each invocation's calls, once per call however many attempts
// the SDK took. An invocation that makes a call its row does not allow is over budget.
import { join } from 'node:path';
import { createOpsHandler } from '#functions/opsApi';
import { loadScenario, repoRoot, type ScenarioResult } from '#local/scenario/runner';
import type { Invocation } from '#local/twin/lambdas';
import type { Twin } from '#local/twin/twin';
import { budgetOf, type CallBudget, type Excess, excessCalls, minimumCalls } from './callBudgets';
import { httpEvent } from './functions';
import { runKeepingTwin } from './rollout';

/** Scenarios whose invocations are measured: every asserted action is taken in at least one of them. */
export const BUDGET_SCENARIOS = [
  'alarm-surge-restore.json',
  'alarm-manual-edit.json',
  'rollout-alb-promoted.json',
  'rollout-mesh-promoted.json',
  'rollout-lattice-default-promoted.json',
  'rollout-lattice-bad-rolled-back.json',
  'native-canary-hook-rollback.json',
  'native-hook-gate-resumed.json',
  'rollout-bad-5xx.json',
  'rollout-bad-latency.json',
  'rollout-guard-alarm.json',
  'rollout-gate-promoted.json',
  'rollout-paused-resumed.json',
  'rollout-hand-edit.json',
  'lifecycle-scale-in-drain.json',
  'lifecycle-scale-out.json',
  'lifecycle-step-fails.json',
  'alarm-composite-duplicates.json',
  'alarm-placement-capacity.json',
  'rollout-gate-aborted.json',
  'rollout-hand-edit-before-promotion.json',
  'rollout-refused-code-deploy.json',
  'lifecycle-warm-pool.json',
  'lifecycle-forged-message.json',
];

const OPS_READ_FUNCTION = 'opsRead';

/**
 * Ops API reads made once a scenario has ended, on the world it left, each held to its row: the views whose
 * calls grow with what the scenario did (deployments, journal lines).
 */
export const OPS_READS: Record<string, { path: string; action: string }[]> = {
  'native-hook-gate-resumed.json': [
    { path: '/deployments', action: 'GET /deployments' },
    { path: '/deployments/prod/web', action: 'GET /deployments/{cluster}/{service}' },
  ],
};

export interface MeasuredInvocation {
  scenario: string;
  invocation: string;
  /** The budget rows the invocation is held to. */
  actions: string[];
  apis: string[];
  excess: Excess[];
  /** Whether every row it is held to is asserted (a row marked notAsserted is reported, never failed). */
  asserted: boolean;
}

export interface ActionCallsRow {
  action: string;
  reflex: string;
  minimum: number;
  invocations: number;
  /** The most calls one invocation of this action made (alone, not with a confirming first look). */
  maxCalls: number;
  overBudget: MeasuredInvocation[];
  asserted: boolean;
}

export interface ActionCallsBench {
  scenarios: string[];
  rows: ActionCallsRow[];
  /** Invocations of asserted actions over their budget: the bench fails on any. */
  failures: MeasuredInvocation[];
  /** Invocations the bench could not name an action for (a new kind of step): it fails on any. */
  unclassified: { scenario: string; invocation: string; apis: string[] }[];
}

/** What a guard alarm's abort calls, apart from any reaction the same alarm drives. */
const ABORT_APIS = new Set([
  'ListExecutions',
  'DescribeExecution',
  'StopExecution',
  'DescribeAlarms',
  'DescribeRules',
  'DescribeTags',
  'AddTags',
  'ModifyRule',
  'DescribeRoute',
  'ListTagsForResource',
  'TagResource',
  'UpdateRoute',
  'GetRule',
  'GetListener',
  'UpdateRule',
  'UpdateListener',
  'Publish',
]);
const GUARDED_DEPLOYMENTS_LOOK = 'look for guarded native deployments';
const KNOB_READS = new Set(['DescribeAutoScalingGroups', 'DescribePolicies', 'DescribeScalableTargets']);
const KNOB_WRITES = new Set(['SetDesiredCapacity', 'UpdateService', 'PutScalingPolicy']);

const ROLLOUT_STEP_ACTIONS: Record<string, string> = {
  prepare: 'prepare',
  shift: 'shift',
  verify: 'verify',
  promote: 'promote',
  rollback: 'rollback',
};

/**
 * The router of a rollout step's calls. The twin records an API by name only, and App Mesh and VPC Lattice
 * share their tag APIs: each router is told by the route read and write only it has.
 */
function routerOf(apis: string[]): string | undefined {
  if (apis.some((api) => ['GetRule', 'GetListener', 'UpdateRule', 'UpdateListener'].includes(api)))
    return 'VPC Lattice';
  if (apis.some((api) => ['DescribeRoute', 'UpdateRoute'].includes(api))) return 'App Mesh';
  if (apis.some((api) => ['DescribeRules', 'DescribeListeners', 'DescribeTags', 'ModifyRule'].includes(api)))
    return 'ALB';
  return undefined;
}

/** The budget rows an invocation is held to, by its function, its step action and the writes it made. */
export function actionsOf(
  invocation: Pick<Invocation, 'function' | 'action' | 'calls'>,
): string[] | undefined {
  const apis = invocation.calls.map((c) => c.api);
  const has = (api: string) => apis.includes(api);
  switch (invocation.function) {
    case 'alarmReactor': {
      // The look for guarded native deployments (on an ALARM event and at each sweep) is a row of its own,
      // beside whatever else the invocation did.
      const guarded = has('ListServiceDeployments') ? [GUARDED_DEPLOYMENTS_LOOK] : [];
      const knobRead = apis.some((api) => KNOB_READS.has(api));
      if (guarded.length > 0 && !knobRead && !has('StopExecution'))
        return [...guarded, has('ListExecutions') ? 'event, no reaction' : 'sweep, nothing in place'];
      const reactionApis = apis.filter((api) => !ABORT_APIS.has(api) || api === 'DescribeAlarms');
      const aborting = has('StopExecution') ? [`abort on a guard alarm (${routerOf(apis)})`] : [];
      if (aborting.length > 0 && !reactionApis.some((api) => KNOB_READS.has(api))) return aborting;
      if (apis.every((api) => ['ListExecutions', 'DescribeExecution'].includes(api)))
        return ['event, no reaction'];
      if (!has('DescribeAlarms')) return [...guarded, 'sweep, nothing in place'];
      const knob = has('DescribePolicies')
        ? 'group policy'
        : has('DescribeScalableTargets')
          ? 'service count'
          : 'group capacity';
      const knobWrite = apis.findIndex((api) => KNOB_WRITES.has(api));
      const tagWrite = apis.findIndex((api) => ['CreateOrUpdateTags', 'TagResource'].includes(api));
      const reaction =
        knobWrite >= 0
          ? tagWrite >= 0 && tagWrite < knobWrite
            ? 'apply'
            : 'restore'
          : tagWrite >= 0
            ? 'forget (a person moved the knob)'
            : 'look, no change';
      return [...guarded, ...aborting, `${reaction} (${knob})`];
    }
    case 'lifecycleHook':
      return ['intake'];
    case 'deploymentHook': {
      const analysing = apis.some((api) =>
        ['GetMetricData', 'DescribeAlarms', 'DescribeTargetHealth'].includes(api),
      );
      return [
        'answer a stage',
        ...(analysing ? ['analyse a stage'] : []),
        ...(has('DescribeServices') ? ['gate a stage'] : []),
      ];
    }
    case OPS_READ_FUNCTION:
      return invocation.action ? [invocation.action] : undefined;
    case 'taskRecyclerRouter':
      return ['route to task groups'];
    case 'instanceLifecycleStep': {
      if (invocation.action === 'fail-safe') return ['fail-safe'];
      if (invocation.action !== 'look') return undefined;
      const confirming = has('DescribeLifecycleHooks') ? ['confirm the claim (first look)'] : [];
      const acting = has('UpdateContainerInstancesState')
        ? 'drain'
        : has('DeregisterTargets')
          ? 'deregister'
          : has('RegisterTargets')
            ? 'register'
            : has('StopTask')
              ? 'stop standalone tasks'
              : has('CompleteLifecycleAction')
                ? 'complete'
                : 'look, wait';
      return [...confirming, acting];
    }
    case 'rolloutStep':
    case 'rolloutSafetyNet': {
      const step = invocation.function === 'rolloutSafetyNet' ? 'rollback' : invocation.action;
      if (step === 'analyse') return ['analyse'];
      if (step === 'gate') return ['gate'];
      if (step === 'scale-down') return ['scale down'];
      const action = step && ROLLOUT_STEP_ACTIONS[step];
      if (!action) return undefined;
      const router = routerOf(apis);
      // No route call at all (a rollback of a run that never claimed its route): nothing to hold.
      if (!router) return apis.length === 0 ? [] : undefined;
      return [`${action} (${router})`];
    }
    default:
      return undefined;
  }
}

async function invocationsOf(file: string): Promise<{ result: ScenarioResult; invocations: Invocation[] }> {
  const { result, twin } = await runKeepingTwin(loadScenario(join(repoRoot, 'local', 'scenarios', file)));
  await readThroughOps(twin, OPS_READS[file] ?? []);
  return { result, invocations: twin.lambdas.invocations };
}

/**
 * Each read through the ops API's read function as Lambda runs it, its invocation named by its row (an
 * HTTP event names no action); a read that does not answer 200 throws.
 */
async function readThroughOps(twin: Twin, reads: { path: string; action: string }[]): Promise<void> {
  if (reads.length === 0) return;
  const read = twin.lambdas.function(OPS_READ_FUNCTION, () =>
    createOpsHandler(['read'], () => ({
      ports: twin.opsPorts,
      settings: { routes: [], clusters: twin.settings.clusters, hookServices: twin.deploymentHookServices },
    })),
  );
  for (const { path, action } of reads) {
    const answer = (await twin.settle(() =>
      read(httpEvent('GET', path) as unknown as Parameters<typeof read>[0]),
    )) as {
      statusCode?: number;
    };
    if (answer.statusCode !== 200) throw new Error(`GET ${path} answered ${answer.statusCode}`);
    twin.lambdas.invocations.at(-1)!.action = action;
  }
}

/** Every invocation of the scenario, held to its rows. Throws when the scenario's expectations fail. */
export async function measureScenarioCalls(
  file: string,
): Promise<{ measured: MeasuredInvocation[]; unclassified: ActionCallsBench['unclassified'] }> {
  const { result, invocations } = await invocationsOf(file);
  const failed = result.expectations.filter((e) => !e.passed);
  if (failed.length > 0)
    throw new Error(`${file}: ${failed.map((e) => `${e.description} (actual: ${e.actual})`).join('; ')}`);
  const measured: MeasuredInvocation[] = [];
  const unclassified: ActionCallsBench['unclassified'] = [];
  for (const invocation of invocations) {
    // A runtime that died mid-way made part of an action; its retry is measured as a whole one.
    if (invocation.crashed || invocation.calls.length === 0) continue;
    const apis = invocation.calls.map((c) => c.api);
    const name = `${invocation.function}${invocation.action ? `:${invocation.action}` : ''} #${invocation.index}`;
    const actions = actionsOf(invocation);
    if (!actions) {
      // The recycler and the sweep are not held to their rows yet (see callBudgets.ts).
      if (!['taskRecycler', 'taskRecyclerSweep'].includes(invocation.function))
        unclassified.push({ scenario: file, invocation: name, apis });
      continue;
    }
    if (actions.length === 0) continue;
    const budgets: CallBudget[] = actions.map(budgetOf);
    measured.push({
      scenario: file,
      invocation: name,
      actions,
      apis,
      excess: excessCalls(budgets, apis),
      asserted: budgets.every((b) => !b.notAsserted),
    });
  }
  return { measured, unclassified };
}

export async function measureActionCalls(files = BUDGET_SCENARIOS): Promise<ActionCallsBench> {
  const measured: MeasuredInvocation[] = [];
  const unclassified: ActionCallsBench['unclassified'] = [];
  for (const file of files) {
    const found = await measureScenarioCalls(file);
    measured.push(...found.measured);
    unclassified.push(...found.unclassified);
  }
  const names = [...new Set(measured.flatMap((m) => m.actions))];
  const rows = names.map((action): ActionCallsRow => {
    const budget = budgetOf(action);
    const mine = measured.filter((m) => m.actions.includes(action));
    const alone = mine.filter((m) => m.actions.length === 1);
    return {
      action,
      reflex: budget.reflex,
      minimum: minimumCalls(budget),
      invocations: mine.length,
      maxCalls: Math.max(0, ...alone.map((m) => m.apis.length)),
      overBudget: mine.filter((m) => m.excess.length > 0),
      asserted: !budget.notAsserted,
    };
  });
  return {
    scenarios: files.map((f) => `local/scenarios/${f}`),
    rows,
    failures: measured.filter((m) => m.asserted && m.excess.length > 0),
    unclassified,
  };
}
