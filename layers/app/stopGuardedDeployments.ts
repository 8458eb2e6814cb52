// A guard alarm stops the native deployments it guards at once, instead of at the deployment hook's next
// invocation. The alarm event is a claim: the deployments are found and read from ECS (only those of the
// services the hook serves, only those whose hook is this stack's), their guard alarms are the ones the hook
// itself resolves for them, the alarm's state is read from CloudWatch, and only a deployment ECS shows
// IN_PROGRESS is stopped (StopServiceDeployment, ROLLBACK). Another alarm event, or a deployment already
// rolling back, stops nothing and is journaled as such.
import { functionNameOf, hookSettingsOf, idOf } from '#app/deploymentHook';
import { ALARM_REFLEX } from '#app/reactToAlarm';
import { steer } from '#app/steering';
import type { AlarmState } from '#domain/alarmReactions';
import { type DeploymentStopDecision, decideDeploymentStop, isGuardedBy } from '#domain/guardedDeployments';
import type { HookService } from '#events/deploymentHook';
import type { GuardedDeploymentPorts, JournalEntry, NativeDeployment } from '#ports';
import { ActionsFailedError } from '#runtime/errors';

export const STOP_DEPLOYMENT_ACTION = 'stop-deployment';

export interface GuardedDeploymentSettings {
  dryRun: boolean;
  /** The services the deployment hook serves, with their stage settings (deploymentHookServices). */
  services: HookService[];
  /** The hook's function name: a deployment is the hook's when one of its lifecycle hooks names it. */
  hookFunctionName: string;
}

export interface DeploymentStopOutcome {
  /** `CLUSTER/SERVICE DEPLOYMENT_ID`, as journaled. */
  target: string;
  decision: Exclude<DeploymentStopDecision['kind'], 'none'> | 'refused';
  why: string;
}

/** ALARM for `alarmName`: every deployment of the served services that it guards, stopped if in progress. */
export async function stopGuardedDeployments(
  alarmName: string,
  ports: GuardedDeploymentPorts,
  settings: GuardedDeploymentSettings,
): Promise<DeploymentStopOutcome[]> {
  // Read once, and only for a deployment the alarm guards: most alarms guard none.
  let alarmState: Promise<AlarmState | 'missing'> | undefined;
  const stateNow = () => {
    alarmState ??= ports.alarms
      .describe(alarmName, { withTags: false })
      .then((alarm) => alarm?.state ?? 'missing');
    return alarmState;
  };
  const failures: Failure[] = [];
  const outcomes: DeploymentStopOutcome[] = [];
  for (const guarded of await guardedDeployments(ports, settings, failures)) {
    if (!isGuardedBy(guarded.guardAlarms, alarmName)) continue;
    await failingApart(guarded.target, failures, async () => {
      const outcome = await decideAndCarryOut(guarded, alarmName, await stateNow(), ports, settings);
      if (outcome) outcomes.push(outcome);
    });
  }
  // After every other deployment was seen to: the event is retried, and a retry reads them all again.
  if (failures.length > 0) throw new ActionsFailedError(failures);
  return outcomes;
}

/**
 * The alarm reactor's sweep: a deployment whose guard alarm is in ALARM now is stopped as the ALARM event
 * would have stopped it, so a lost or failed event costs a minute, not the hook's next invocation. The guard
 * alarms of all the deployments are read together (DescribeAlarms, 100 names a call); with no deployment
 * unfinished, the sweep reads no alarm at all. A deployment ECS is already rolling back is left unsaid: the
 * next sweep would say it again every minute until ECS is done.
 */
export async function stopDeploymentsUnderAlarm(
  ports: GuardedDeploymentPorts,
  settings: GuardedDeploymentSettings,
): Promise<DeploymentStopOutcome[]> {
  const failures: Failure[] = [];
  const guarded = await guardedDeployments(ports, settings, failures);
  const alarmNames = guarded.flatMap((g) => g.guardAlarms);
  if (alarmNames.length === 0) return [];
  const states = await ports.alarms.statesOf(alarmNames);
  const outcomes: DeploymentStopOutcome[] = [];
  for (const deployment of guarded) {
    const firing = deployment.guardAlarms.find((name) => states.get(name) === 'ALARM');
    if (!firing) continue;
    await failingApart(deployment.target, failures, async () => {
      const outcome = await decideAndCarryOut(deployment, firing, 'ALARM', ports, settings, {
        journalAlreadyStopping: false,
      });
      if (outcome) outcomes.push(outcome);
    });
  }
  if (failures.length > 0) throw new ActionsFailedError(failures);
  return outcomes;
}

type Failure = ActionsFailedError['failures'][number];

/**
 * One service or deployment that cannot be read or stopped (deleted, throttled, access denied) must not keep
 * the others from being stopped: its failure is kept, and thrown once all were seen to.
 */
async function failingApart(target: string, failures: Failure[], act: () => Promise<void>): Promise<void> {
  try {
    await act();
  } catch (error) {
    failures.push({ action: STOP_DEPLOYMENT_ACTION, target, error: (error as Error).message });
  }
}

interface GuardedDeployment {
  /** `CLUSTER/SERVICE DEPLOYMENT_ID`, as journaled. */
  target: string;
  deployment: NativeDeployment;
  /** As the hook itself resolves them for this deployment. */
  guardAlarms: readonly string[];
}

/** The unfinished deployments of the served services that this stack's hook serves, with their guard alarms. */
async function guardedDeployments(
  ports: GuardedDeploymentPorts,
  settings: GuardedDeploymentSettings,
  failures: Failure[],
): Promise<GuardedDeployment[]> {
  const found: GuardedDeployment[] = [];
  for (const configured of settings.services) {
    await failingApart(`${configured.cluster}/${configured.service}`, failures, async () => {
      for (const arn of await ports.stops.unfinished(configured.cluster, configured.service)) {
        const deployment = await ports.deployments.deployment(arn);
        if (!deployment || !servedByHook(deployment, settings.hookFunctionName)) continue;
        // A service whose settings do not parse is the hook's to fail (it answers FAILED with the reason).
        const resolved = hookSettingsOf(deployment, configured, settings.hookFunctionName);
        if ('problem' in resolved) continue;
        const target = `${configured.cluster}/${configured.service} ${idOf(arn)}`;
        found.push({ target, deployment, guardAlarms: resolved.settings.guardAlarms });
      }
    });
  }
  return found;
}

async function decideAndCarryOut(
  { target, deployment, guardAlarms }: GuardedDeployment,
  alarmName: string,
  alarmState: AlarmState | 'missing',
  ports: GuardedDeploymentPorts,
  settings: GuardedDeploymentSettings,
  { journalAlreadyStopping } = { journalAlreadyStopping: true },
): Promise<DeploymentStopOutcome | undefined> {
  const decision = decideDeploymentStop({ alarmName, alarmState, guardAlarms, status: deployment.status });
  if (decision.kind === 'none' || (decision.kind === 'already-stopping' && !journalAlreadyStopping))
    return undefined;
  return carryOut(decision, target, deployment, alarmName, ports, settings);
}

const servedByHook = (deployment: NativeDeployment, functionName: string) =>
  deployment.hooks.some((hook) => functionNameOf(hook.hookTargetArn) === functionName);

async function carryOut(
  decision: Exclude<DeploymentStopDecision, { kind: 'none' }>,
  target: string,
  deployment: NativeDeployment,
  alarmName: string,
  ports: GuardedDeploymentPorts,
  settings: GuardedDeploymentSettings,
): Promise<DeploymentStopOutcome> {
  const record = (outcome: JournalEntry['outcome'], reason: string) =>
    ports.journal.record({
      reflex: ALARM_REFLEX,
      action: STOP_DEPLOYMENT_ACTION,
      target,
      reason,
      dryRun: settings.dryRun,
      outcome,
      detail: { alarm: alarmName, deployment: deployment.arn, status: deployment.status },
    });
  if (decision.kind === 'already-stopping') {
    record('held', `nothing to stop: ${decision.why}`);
    return { target, decision: decision.kind, why: decision.why };
  }
  if (settings.dryRun) {
    record('dry-run', `would stop and roll back: ${decision.why}`);
    return { target, decision: decision.kind, why: decision.why };
  }
  // AWS errors other than "nothing to stop" throw: the event is retried, and a retry reads the deployment again.
  const askedAt = ports.clock.now();
  const answer = await ports.stops.stop(deployment.arn);
  if (!answer.stopped) {
    record('held', `ECS did not stop it: ${answer.why}`);
    return { target, decision: 'refused', why: answer.why };
  }
  // ECS also answers a stop of a deployment already rolling back (the hook's FAILED, landed since the read)
  // with success: read it back, so that the journal and the page name who started the rollback.
  const started = (await ports.deployments.deployment(deployment.arn))?.rollback;
  if (started?.startedAt && started.startedAt < askedAt) {
    const why = `ECS was already rolling back since ${started.startedAt.toISOString()}: ${started.reason ?? 'no reason given'}`;
    record('held', `nothing to stop: ${why}`);
    return { target, decision: 'already-stopping', why };
  }
  record('done', `stopped with ROLLBACK: ${decision.why}`);
  await ports.notifier
    .notify({
      subject: `ecs-reflex: ${target} stopped and rolled back (${alarmName})`,
      severity: 'warning',
      reflex: ALARM_REFLEX,
      target,
      summary: `Guard alarm ${alarmName} is in ALARM: the alarm reactor stopped native deployment ${target} with ROLLBACK; ECS takes traffic back to the blue revision.`,
      steer: [steer.actionsOn(target)],
      detail: { alarm: alarmName, deployment: deployment.arn },
    })
    // The stop stands whether or not the message goes out (the same rule as the scaling reactions).
    .catch((error: unknown) => record('failed', `notification failed: ${(error as Error).message}`));
  return { target, decision: decision.kind, why: decision.why };
}
