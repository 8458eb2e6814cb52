// The deployment hook: ECS invokes it at the lifecycle stages a service configures, and it answers
// SUCCEEDED, FAILED (ECS rolls back) or IN_PROGRESS. The payload is a claim: ECS confirms the deployment,
// the service and the revisions before anything but an error is answered. Then the domain decides from
// what was read; the hook writes nothing but its journal, and keeps its state in the hookDetails it returns.
import { observeChecks } from '#app/analysisObservations';
import { runTrafficChecks } from '#app/trafficChecks';
import {
  analysisWindow,
  answerBeforeTests,
  continuedState,
  type DeploymentFacts,
  decideHookAnswer,
  gateAnswerFor,
  HOOK_STATE_KEY,
  type HookAnswer,
  type HookSettings,
  type HookSituation,
  type HookState,
  hookChecks,
  loadBalancerDimension,
  type TrafficSource,
  testsDue,
} from '#domain/deploymentHook';
import { checkFunctionProblems } from '#domain/trafficChecks';
import {
  HOOK_SETTINGS_KEY,
  type HookPayload,
  type HookService,
  HookSettingsSchema,
  HookStateSchema,
} from '#events/deploymentHook';
import type { DeploymentHookPorts, NativeDeployment, NativeRevision } from '#ports';
import { HookClaimRefusedError } from '#runtime/errors';

export const DEPLOYMENT_HOOK_REFLEX = 'deployment-hook';
/** The journal line of each answer the hook gives (GET /deployments reads them back). */
export const HOOK_ANSWER_ACTION = 'answer-hook';

export interface DeploymentHookSettings {
  /** The services this stack's hook serves, with their default settings (the stage's config). */
  services: HookService[];
  /** This function's name: the hook configuration whose hookDetails carry the service's settings. */
  functionName?: string;
}

/** What ECS reads back: hookStatus, and with IN_PROGRESS the delay and the state for the next invocation. */
export interface HookResponse {
  hookStatus: HookAnswer['hookStatus'];
  callBackDelay?: number;
  hookDetails?: Record<string, unknown>;
}

/** Statuses in which ECS still runs hooks; any other is a finished deployment nobody waits on. */
const LIVE_STATUSES = ['PENDING', 'IN_PROGRESS', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'];

/** `arn:...:service/CLUSTER/NAME` -> cluster and name (the long ARN format native deployments need). */
export function serviceOfArn(serviceArn: string): { cluster: string; service: string } | undefined {
  const match = /:service\/([^/]+)\/([^/]+)$/.exec(serviceArn);
  return match ? { cluster: match[1]!, service: match[2]! } : undefined;
}

export const idOf = (deploymentArn: string) => deploymentArn.slice(deploymentArn.lastIndexOf('/') + 1);

export async function answerDeploymentHook(
  payload: HookPayload,
  ports: DeploymentHookPorts,
  settings: DeploymentHookSettings,
): Promise<HookResponse> {
  const { serviceArn, targetServiceRevisionArn } = payload.executionDetails;
  const stage = payload.lifecycleStage;
  const named = serviceOfArn(serviceArn);
  const configured = settings.services.find(
    (s) => s.cluster === named?.cluster && s.service === named?.service,
  );
  if (!named || !configured)
    throw new HookClaimRefusedError(`service ${serviceArn} is not one this stack's deployment hook serves`);

  const deployment = await ports.deployments.deployment(payload.resourceArn);
  if (!deployment) throw new HookClaimRefusedError(`ECS does not know deployment ${payload.resourceArn}`);
  if (deployment.serviceArn !== serviceArn)
    throw new HookClaimRefusedError(`deployment ${payload.resourceArn} belongs to ${deployment.serviceArn}`);
  if (deployment.target.arn !== targetServiceRevisionArn)
    throw new HookClaimRefusedError(
      `deployment ${payload.resourceArn} deploys ${deployment.target.arn}, not ${targetServiceRevisionArn}`,
    );
  if (!LIVE_STATUSES.includes(deployment.status))
    throw new HookClaimRefusedError(
      `deployment ${payload.resourceArn} is ${deployment.status}: no hook runs`,
    );
  const blueArn = blueOf(deployment);
  const revisions = await ports.deployments.revisions(
    blueArn ? [deployment.target.arn, blueArn] : [deployment.target.arn],
  );
  const green = revisions.find((r) => r.arn === deployment.target.arn);
  if (green?.serviceArn !== serviceArn)
    throw new HookClaimRefusedError(
      `revision ${targetServiceRevisionArn} is not a revision of ${serviceArn}`,
    );
  const blue = revisions.find((r) => r.arn === blueArn && r.serviceArn === serviceArn);

  // Confirmed: from here on a problem is answered FAILED with its reason (ECS rolls back, the safe way).
  const now = ports.clock.now();
  const hookSettings = hookSettingsOf(
    deployment,
    configured,
    settings.functionName,
    ports.trafficCheckFunctions,
  );
  const state = stateOf(payload.hookDetails);
  const answer =
    'problem' in hookSettings
      ? failed(`the hook settings on the service are invalid: ${hookSettings.problem}`)
      : 'problem' in state
        ? failed(`the hook state in hookDetails is unreadable: ${state.problem}`)
        : await decide(payload, deployment, { green, blue }, hookSettings.settings, state.state, ports, now);

  ports.journal.record({
    reflex: DEPLOYMENT_HOOK_REFLEX,
    action: HOOK_ANSWER_ACTION,
    target: `${named.cluster}/${named.service} ${idOf(payload.resourceArn)} ${stage}`,
    reason: `${answer.hookStatus}: ${answer.reason}`,
    dryRun: false,
    outcome: 'done',
    detail: {
      hookStatus: answer.hookStatus,
      stage,
      executionId: payload.executionId,
      ...(answer.callBackDelay !== undefined ? { callBackDelay: answer.callBackDelay } : {}),
      outcomes: answer.outcomes,
      ...(answer.gate ? { gate: answer.gate } : {}),
      ...(answer.tests ? { tests: answer.tests } : {}),
    },
  });
  return answer.hookStatus === 'IN_PROGRESS'
    ? {
        hookStatus: 'IN_PROGRESS',
        ...(answer.callBackDelay !== undefined ? { callBackDelay: answer.callBackDelay } : {}),
        hookDetails: { [HOOK_STATE_KEY]: answer.state },
      }
    : { hookStatus: answer.hookStatus };
}

const failed = (reason: string): HookAnswer => ({ hookStatus: 'FAILED', reason, outcomes: [] });

async function decide(
  payload: HookPayload,
  deployment: NativeDeployment,
  revisions: { green: NativeRevision; blue: NativeRevision | undefined },
  settings: HookSettings,
  previous: HookState | undefined,
  ports: DeploymentHookPorts,
  now: Date,
): Promise<HookAnswer> {
  const stage = payload.lifecycleStage;
  const facts: DeploymentFacts = {
    rollingBack: deployment.status.startsWith('ROLLBACK'),
    greenProductionWeight: deployment.target.productionWeight,
    traffic: trafficSource(revisions.green, revisions.blue),
  };
  const state = continuedState(stage, previous, facts, now);
  const checks = hookChecks(stage, settings, facts);
  const observations = facts.rollingBack
    ? { metrics: {}, alarms: {}, targetHealth: {} }
    : await observeChecks(checks, analysisWindow(checks, state, now), ports);
  const gateAnswer = settings.gates.some((g) => g.stage === stage)
    ? await gateAnswerOf(deployment, stage, ports)
    : undefined;
  const situation: HookSituation = {
    stage,
    now,
    settings,
    state: previous,
    deployment: facts,
    observations,
    ...(gateAnswer ? { gateAnswer } : {}),
  };
  const decided = answerBeforeTests(situation);
  if (decided) return decided;
  const tests = testsDue(stage, settings, state);
  if (tests.length === 0) return decideHookAnswer(situation);
  const testOutcomes = await runTrafficChecks(tests, ports.trafficChecks, {
    stage,
    deployment: payload.resourceArn,
    service: deployment.serviceArn,
  });
  return decideHookAnswer({ ...situation, testOutcomes });
}

async function gateAnswerOf(
  deployment: NativeDeployment,
  stage: HookPayload['lifecycleStage'],
  ports: DeploymentHookPorts,
) {
  const named = serviceOfArn(deployment.serviceArn)!;
  const service = await ports.services.describeService(named.cluster, named.service);
  return service ? gateAnswerFor(service.tags, idOf(deployment.arn), stage) : undefined;
}

/** Blue: the source revision that serves the most production traffic (the one ECS shifts away from). */
function blueOf(deployment: NativeDeployment): string | undefined {
  const [first] = [...deployment.sources].sort((a, b) => b.productionWeight - a.productionWeight);
  return first?.arn;
}

export function trafficSource(green: NativeRevision, blue: NativeRevision | undefined): TrafficSource {
  const greenLb = green.loadBalancers[0];
  if (!greenLb)
    return {
      kind: 'none',
      why: green.serviceConnect
        ? 'Service Connect publishes its metrics per service and discovery name, not per revision'
        : 'the service has no load balancer',
    };
  const blueLb = blue?.loadBalancers[0];
  const listener = greenLb.productionListenerRule ?? blueLb?.productionListenerRule;
  const loadBalancer = listener ? loadBalancerDimension(listener) : undefined;
  if (!loadBalancer) return { kind: 'none', why: 'ECS names no production listener for the revision' };
  if (loadBalancer.startsWith('net/'))
    return { kind: 'nlb', green: { targetGroupArn: greenLb.targetGroupArn } };
  return {
    kind: 'alb',
    loadBalancer,
    green: { targetGroupArn: greenLb.targetGroupArn },
    ...(blueLb && blueLb.targetGroupArn !== greenLb.targetGroupArn
      ? { blue: { targetGroupArn: blueLb.targetGroupArn } }
      : {}),
  };
}

/**
 * The service's own settings (hookDetails[ecsReflex] of the hook configured with this function, as ECS
 * describes the deployment, not as the payload claims), else the stage config's, else the defaults.
 */
export function hookSettingsOf(
  deployment: NativeDeployment,
  configured: HookService,
  functionName?: string,
  allowedFunctions: readonly string[] = [],
): { settings: HookSettings } | { problem: string } {
  const ours = deployment.hooks.filter(
    (hook) => functionName === undefined || functionNameOf(hook.hookTargetArn) === functionName,
  );
  const given = ours
    .map((hook) => (hook.hookDetails as Record<string, unknown> | undefined)?.[HOOK_SETTINGS_KEY])
    .find((value) => value !== undefined);
  if (given === undefined) return { settings: configured.settings ?? HookSettingsSchema.parse({}) };
  const parsed = HookSettingsSchema.safeParse(given);
  const issues = parsed.success
    ? hookFunctionProblems(parsed.data, allowedFunctions)
    : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  return parsed.success && issues.length === 0
    ? { settings: parsed.data }
    : {
        problem: issues
          .slice(0, 5)
          .map((i) => `${i.path || '(root)'}: ${i.message}`)
          .join('; '),
      };
}

/**
 * Lambda checks naming a function the stack may not invoke (the stage's trafficCheckFunctions, which IAM
 * grants): settings on a service are refused as a rollout request is, not tried and denied.
 */
export function hookFunctionProblems(
  settings: HookSettings,
  allowed: readonly string[],
): { path: string; message: string }[] {
  return settings.tests.flatMap((tests, i) =>
    checkFunctionProblems(tests.checks, allowed, `tests.${i}.checks`),
  );
}

/** `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` -> NAME. */
export const functionNameOf = (arn: string) => arn.split(':')[6] ?? arn;

function stateOf(
  hookDetails: Record<string, unknown> | undefined,
): { state: HookState | undefined } | { problem: string } {
  const given = hookDetails?.[HOOK_STATE_KEY];
  if (given === undefined) return { state: undefined };
  const parsed = HookStateSchema.safeParse(given);
  return parsed.success ? { state: parsed.data } : { problem: parsed.error.issues[0]?.message ?? 'invalid' };
}
