// The task recycler's use case: look at one task group as it is now, ask the domain what to do, do it.
// Whatever woke us (a task event, a placement failure, a recheck, the sweep) ends up here, so every
// path takes the same guarded decisions.

import { steer } from '#app/steering';
import { type CrashLoopRemedy, chooseCrashLoopRemedy } from '#domain/crashLoop';
import type { GroupRef } from '#domain/model';
import { copyableTags } from '#domain/runTaskLimits';
import {
  backoffSeconds,
  crashLoopKey,
  decideRecycling,
  type GroupObservation,
  type RecyclerAction,
  restartStartedBy,
  Tags,
  taskId,
} from '#domain/taskRecycler';
import type { JournalEntry, RecyclerPorts, TaskLaunch } from '#ports';
import type { RecyclerSettings } from '#runtime/config';
import { ActionsFailedError } from '#runtime/errors';

export const REFLEX = 'task-recycler';

export interface RecycleRequest {
  cluster: string;
  group: string;
  hint?: GroupObservation['hint'];
}

/** A task as a look read it: ECS raises `version` on every change, so a higher one is news. */
export interface TaskVersion {
  taskArn: string;
  version: number;
}

export type RecycleOutcome =
  | { status: 'ignored'; why: string }
  | { status: 'handled'; actions: RecyclerAction['kind'][]; observed: TaskVersion[] };

export async function recycleTaskGroup(
  request: RecycleRequest,
  ports: RecyclerPorts,
  settings: RecyclerSettings,
): Promise<RecycleOutcome> {
  const cluster = clusterName(request.cluster);
  if (!settings.clusters.includes(cluster))
    return { status: 'ignored', why: `cluster ${cluster} is not configured` };
  const group = parseGroup(request.group);
  if (!group)
    return { status: 'ignored', why: `group ${request.group} is neither service:NAME nor family:NAME` };

  const observation = await observeGroup(cluster, group, request.hint, ports, settings);
  const actions = decideRecycling(observation, settings.policy);

  const failures: ActionsFailedError['failures'] = [];
  for (const action of actions) {
    try {
      await carryOut(action, observation, ports, settings);
    } catch (error) {
      const { kind, target } = describe(action, observation);
      failures.push({ action: kind, target, error: `${(error as Error).name}: ${(error as Error).message}` });
      journal(ports, settings, action, observation, 'failed', { error: (error as Error).message });
    }
  }
  // Retrying is safe: the next look re-reads the world and skips what was done.
  if (failures.length > 0) throw new ActionsFailedError(failures);
  const observed = [...observation.running, ...observation.stopped].map(({ taskArn, version }) => ({
    taskArn,
    version,
  }));
  return { status: 'handled', actions: actions.map((a) => a.kind), observed };
}

export const clusterName = (clusterOrArn: string): string =>
  clusterOrArn.slice(clusterOrArn.lastIndexOf('/') + 1);

export function parseGroup(group: string): GroupRef | undefined {
  const match = /^(service|family):(.+)$/.exec(group);
  return match ? { kind: match[1] as GroupRef['kind'], name: match[2]! } : undefined;
}

async function observeGroup(
  cluster: string,
  group: GroupRef,
  hint: GroupObservation['hint'],
  ports: RecyclerPorts,
  settings: RecyclerSettings,
): Promise<GroupObservation> {
  const groupName = `${group.kind}:${group.name}`;
  const watchedArns = settings.policy.stopUnhealthy.watch
    .filter((w) => w.cluster === cluster && w.group === groupName)
    .flatMap((w) => w.targetGroupArns);
  // Running tasks matter to standalone restarts (families) and to unhealthy stops (watched target
  // groups) only: a service nobody watches is decided on the service and its stopped tasks, which in a
  // crash storm halves what each look lists and describes.
  const runningMatters = group.kind === 'family' || watchedArns.length > 0;
  const [service, running, stopped, watchedTargetGroups] = await Promise.all([
    group.kind === 'service' ? ports.services.describeService(cluster, group.name) : undefined,
    runningMatters ? ports.tasks.listTasks(cluster, group, 'RUNNING') : [],
    ports.tasks.listTasks(cluster, group, 'STOPPED'),
    Promise.all([...new Set(watchedArns)].map((arn) => ports.targets.targetHealth(arn))),
  ]);
  return { now: ports.clock.now(), cluster, group, service, running, stopped, watchedTargetGroups, hint };
}

async function carryOut(
  action: RecyclerAction,
  observation: GroupObservation,
  ports: RecyclerPorts,
  settings: RecyclerSettings,
): Promise<void> {
  const { cluster } = observation;
  if (action.kind === 'hold') {
    journal(ports, settings, action, observation, 'held');
    return;
  }
  // A recheck changes nothing in the cluster; keeping it in dry-run lets observe mode show the
  // restarts a backoff would lead to, not only the first decision.
  if (settings.dryRun && action.kind !== 'recheck') {
    journal(ports, settings, action, observation, 'dry-run');
    return;
  }
  switch (action.kind) {
    case 'restart-task': {
      const result = await ports.tasks.runTask(restartLaunch(action, cluster));
      if (!result.started) {
        if (result.reason.startsWith('RESOURCE:')) {
          await ports.capacity.reportShortfall({
            cluster,
            group: action.task.group,
            reason: result.reason,
            at: observation.now,
          });
        }
        // Nothing started, so nothing marks this failure as handled: look again after the backoff.
        const retryAt = new Date(
          observation.now.getTime() +
            backoffSeconds(action.attempt, settings.policy.restartStandalone) * 1000,
        );
        await ports.rechecks.recheckAt(cluster, action.task.group, retryAt);
        journal(ports, settings, action, observation, 'failed', {
          error: result.reason,
          retryAt: retryAt.toISOString(),
        });
        return;
      }
      journal(ports, settings, action, observation, 'done', { newTaskArn: result.taskArn });
      return;
    }
    case 'give-up-restarts':
      await ports.notifier.notify({
        subject: `ecs-reflex gave up restarting ${action.task.group} in ${cluster}`,
        severity: 'critical',
        reflex: REFLEX,
        target: action.task.group,
        summary: `The recycler stopped restarting ${action.task.group} in ${cluster}: ${action.why}. Its tasks stay stopped until someone starts them.`,
        steer: [steer.actionsOn(action.task.taskArn)],
        detail: {
          cluster,
          group: action.task.group,
          taskArn: action.task.taskArn,
          rootTaskId: action.rootTaskId,
          why: action.why,
        },
      });
      break;
    case 'mark-unhealthy':
      await ports.tasks.tagTask(cluster, action.task.taskArn, {
        [Tags.unhealthySince]: observation.now.toISOString(),
      });
      break;
    case 'clear-unhealthy':
      await ports.tasks.tagTask(cluster, action.task.taskArn, { [Tags.unhealthySince]: null });
      break;
    case 'stop-unhealthy-task':
      // Deregister first so the load balancer stops sending to the task before it goes away.
      for (const { targetGroupArn, target } of action.targets)
        await ports.targets.deregister(targetGroupArn, [target]);
      await ports.tasks.stopTask(
        cluster,
        action.task.taskArn,
        `ecs-reflex: unhealthy in its target group for ${action.unhealthyForSeconds}s`,
      );
      break;
    case 'break-crash-loop':
      await breakCrashLoop(action, observation, ports, settings);
      return;
    case 'report-shortfall':
      await ports.capacity.reportShortfall({
        cluster,
        group: `${observation.group.kind}:${observation.group.name}`,
        reason: action.reason,
        at: observation.now,
      });
      break;
    case 'recheck':
      await ports.rechecks.recheckAt(
        cluster,
        `${observation.group.kind}:${observation.group.name}`,
        action.at,
      );
      break;
  }
  journal(ports, settings, action, observation, 'done');
}

/** A copy of the stopped task: same definition, overrides, launch type or provider, network and tags, plus lineage. */
function restartLaunch(
  action: Extract<RecyclerAction, { kind: 'restart-task' }>,
  cluster: string,
): TaskLaunch {
  const { task, attempt, rootTaskId, network } = action;
  // The copy keeps the original's tags minus the recycler's own and those RunTask refuses (`aws:`).
  const inherited = copyableTags(
    Object.fromEntries(
      Object.entries(task.tags).filter(([key]) => !Object.values(Tags).includes(key as never)),
    ),
  );
  return {
    cluster,
    taskDefinitionArn: task.taskDefinitionArn,
    group: task.group,
    startedBy: restartStartedBy({ rootTaskId, attempt, previousTaskId: taskId(task.taskArn) }),
    // A task that ran on a capacity provider lands on the same one, never with a launch type beside it
    // (ECS refuses both). Weight 1: a provider left at the default weight 0 places nothing. A stopped task
    // does not say which base its strategy had; with one provider a base only splits counts between
    // providers, so the copy needs none.
    ...(task.capacityProviderName
      ? { capacityProviderStrategy: [{ capacityProvider: task.capacityProviderName, weight: 1 }] }
      : { launchType: task.launchType }),
    overrides: task.overrides,
    network,
    tags: inherited,
    clientToken: `${rootTaskId}-${attempt}`.slice(0, 64),
  };
}

async function breakCrashLoop(
  action: Extract<RecyclerAction, { kind: 'break-crash-loop' }>,
  observation: GroupObservation,
  ports: RecyclerPorts,
  settings: RecyclerSettings,
): Promise<void> {
  const { cluster } = observation;
  const { service, failingTaskDefinitionArn } = action;
  const remedy: CrashLoopRemedy = action.rollback
    ? chooseCrashLoopRemedy(
        await ports.services.deploymentHistory(cluster, service.serviceName),
        failingTaskDefinitionArn,
        settings.policy.crashLoopBreaker,
      )
    : { kind: 'alert-only', why: action.why };
  if (remedy.kind === 'roll-back') {
    // Update before tagging: had the tag gone first, a failed update would look handled for good.
    await ports.services.setTaskDefinition(cluster, service.serviceName, remedy.toTaskDefinitionArn);
  } else {
    await ports.notifier.notify({
      subject: `ecs-reflex: ${service.serviceName} in ${cluster} is crash-looping`,
      severity: 'critical',
      reflex: REFLEX,
      target: service.serviceName!,
      summary: `${service.serviceName} failed ${action.failures} times on its new revision; ${remedy.why}.`,
      steer: [steer.lookAtService(cluster, service.serviceName!)],
      detail: {
        cluster,
        service: service.serviceName,
        failingTaskDefinitionArn,
        failures: action.failures,
        why: remedy.why,
      },
    });
    if (remedy.kind === 'scale-to-zero')
      await ports.services.setDesiredCount(cluster, service.serviceName, 0);
  }
  await ports.services.tagService(cluster, service.serviceName, {
    [Tags.crashLoopHandled]: crashLoopKey(service),
  });
  journal(ports, settings, action, observation, 'done', { remedy });
}

function describe(
  action: RecyclerAction,
  observation: GroupObservation,
): { kind: string; target: string; reason: string } {
  const group = `${observation.group.kind}:${observation.group.name}`;
  switch (action.kind) {
    case 'restart-task':
      return {
        kind: action.kind,
        target: action.task.taskArn,
        reason: `${action.cause}, attempt ${action.attempt}`,
      };
    case 'give-up-restarts':
      return {
        kind: action.kind,
        target: action.task.taskArn,
        reason: `${action.why} (original task ${action.rootTaskId})`,
      };
    case 'mark-unhealthy':
      return {
        kind: action.kind,
        target: action.task.taskArn,
        reason: `unhealthy in ${action.targetGroupArn}`,
      };
    case 'clear-unhealthy':
      return { kind: action.kind, target: action.task.taskArn, reason: 'healthy again' };
    case 'stop-unhealthy-task':
      return {
        kind: action.kind,
        target: action.task.taskArn,
        reason: `unhealthy for ${action.unhealthyForSeconds}s`,
      };
    case 'hold':
      return { kind: action.kind, target: action.target, reason: action.reason };
    case 'break-crash-loop':
      return {
        kind: action.kind,
        target: action.service.serviceName,
        reason: `${action.failures} failures on ${action.failingTaskDefinitionArn}: ${action.why}`,
      };
    case 'report-shortfall':
      return { kind: action.kind, target: group, reason: action.reason };
    case 'recheck':
      return { kind: action.kind, target: group, reason: `${action.why} at ${action.at.toISOString()}` };
  }
}

function journal(
  ports: RecyclerPorts,
  settings: RecyclerSettings,
  action: RecyclerAction,
  observation: GroupObservation,
  outcome: JournalEntry['outcome'],
  detail?: Record<string, unknown>,
): void {
  const { kind, target, reason } = describe(action, observation);
  ports.journal.record({
    reflex: REFLEX,
    action: kind,
    target,
    reason,
    dryRun: settings.dryRun,
    outcome,
    detail: { cluster: observation.cluster, ...detail },
  });
}
