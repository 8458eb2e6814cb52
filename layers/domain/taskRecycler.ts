// The task recycler's decisions: given what one task group looks like right now, what should happen?
// Pure and level-triggered: the event that woke us is only a hint, every answer comes from the current
// tasks, services, target health and the tags earlier runs left. Running it twice on the same world
// gives the same actions, and once those actions are taken it gives none, which is what makes
// duplicate and out-of-order events harmless.
import { deploymentInProgress, otherController } from '#domain/deploymentOwner';
import type { GroupRef, Service, Target, TargetGroupHealth, TargetRef, Task } from '#domain/model';
import type { RecyclerPolicy } from '#domain/recyclerPolicy';
import { classifyStop, type StopCause } from '#domain/stopCause';

/**
 * Tags on running tasks and services are part of the recycler's memory. Never tags on stopped tasks:
 * StopTask deletes a task's tags, so anything that must outlive a task rides in `startedBy` instead.
 */
export const Tags = {
  unhealthySince: 'ecs-reflex:unhealthy-since',
  crashLoopHandled: 'ecs-reflex:crash-loop-deployment',
} as const;

/** What the event that woke us says that the world will not show again. */
export interface Hint {
  /** This look was caused by these tasks' own STOPPED events (the moment to report on each, once). */
  stoppedTaskArns?: readonly string[];
  placementFailure?: string;
}

/**
 * Whether a hint tells a look what the world will not show it: a placement failure's reason, or a
 * standalone task's own stop (its give-up is reported on that event only). A task event without such
 * news, about a task a look has already read at that version or later, gives a new look nothing to read
 * that the last one lacked: the recycler may skip it.
 */
export function hintCarriesNews(group: GroupRef, hint: Hint | undefined): boolean {
  if (hint?.placementFailure) return true;
  return group.kind === 'family' && (hint?.stoppedTaskArns?.length ?? 0) > 0;
}

export interface GroupObservation {
  now: Date;
  cluster: string;
  group: GroupRef;
  service?: Service;
  running: Task[];
  stopped: Task[];
  watchedTargetGroups: TargetGroupHealth[];
  hint?: Hint;
}

export type RecyclerAction =
  | {
      kind: 'restart-task';
      task: Task;
      attempt: number;
      rootTaskId: string;
      cause: StopCause;
      network?: RestartNetwork;
    }
  | { kind: 'give-up-restarts'; task: Task; rootTaskId: string; cause: StopCause; why: string }
  | { kind: 'mark-unhealthy'; task: Task; targetGroupArn: string }
  | { kind: 'clear-unhealthy'; task: Task }
  | { kind: 'stop-unhealthy-task'; task: Task; targets: TargetPlacement[]; unhealthyForSeconds: number }
  | { kind: 'hold'; target: string; reason: string }
  | {
      kind: 'break-crash-loop';
      service: Service;
      failingTaskDefinitionArn: string;
      failures: number;
      /** Roll back to the last stable revision; false: alert (or scale to zero when configured) only. */
      rollback: boolean;
      why: string;
    }
  | { kind: 'report-shortfall'; reason: string }
  | { kind: 'recheck'; at: Date; why: string };

export interface RestartNetwork {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

export interface TargetPlacement {
  targetGroupArn: string;
  target: TargetRef;
}

export function decideRecycling(observation: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const actions: RecyclerAction[] = [
    ...decideStandaloneRestarts(observation, policy),
    ...decideUnhealthyStops(observation, policy),
    ...decideCrashLoop(observation, policy),
    ...decidePlacement(observation, policy),
  ];
  return withEarliestRecheck(actions);
}

export const taskId = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

const secondsBetween = (from: Date, to: Date): number => (to.getTime() - from.getTime()) / 1000;
const addSeconds = (at: Date, seconds: number): Date => new Date(at.getTime() + seconds * 1000);

// ---------------------------------------------------------------------------------------------------
// Standalone tasks: nobody else restarts them. Each restart carries its lineage (the original task,
// the attempt, the task it replaces) in `startedBy`, which ECS keeps on stopped tasks, so the next look
// can tell a handled failure from a new one and count restarts.

export interface RestartLineage {
  rootTaskId: string;
  attempt: number;
  previousTaskId: string;
}

const LINEAGE = /^ecs-reflex\/([0-9a-f]{32})\/(\d{1,3})\/([0-9a-f]{32})$/;

/** `startedBy` allows 128 letters, digits, `-`, `/` and `_`: two task ids and an attempt fit in 80. */
export const restartStartedBy = (lineage: RestartLineage): string =>
  `ecs-reflex/${lineage.rootTaskId}/${lineage.attempt}/${lineage.previousTaskId}`;

export function parseRestartLineage(startedBy: string | undefined): RestartLineage | undefined {
  const match = LINEAGE.exec(startedBy ?? '');
  return match ? { rootTaskId: match[1]!, attempt: Number(match[2]), previousTaskId: match[3]! } : undefined;
}

function decideStandaloneRestarts(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const rules = policy.restartStandalone;
  if (!rules.enabled || obs.group.kind !== 'family') return [];

  const replaced = new Set(
    [...obs.running, ...obs.stopped]
      .map((t) => parseRestartLineage(t.startedBy)?.previousTaskId)
      .filter(Boolean),
  );
  const windowStart = addSeconds(obs.now, -rules.windowSeconds);
  const actions: RecyclerAction[] = [];

  for (const task of obs.stopped) {
    if (!task.stoppedAt || task.stoppedAt < windowStart) continue;
    if (!optedIn(task, obs.group, rules)) continue;
    const { cause, restartable } = classifyStop(task);
    if (!restartable || replaced.has(taskId(task.taskArn))) continue;

    const { rootTaskId, restarts } = restartChain(task, rules.windowSeconds);
    const network = restartNetwork(task, obs.group.name, rules);
    const cannot = restarts >= rules.maxRestarts ? `${restarts} restarts in a row` : network.problem;
    if (cannot) {
      // Reported on the task's own stop event; later looks see the same task and stay quiet. The chain
      // stays closed: this task keeps its attempt number for as long as ECS lists it.
      if (obs.hint?.stoppedTaskArns?.includes(task.taskArn)) {
        actions.push({ kind: 'give-up-restarts', task, rootTaskId, cause, why: cannot });
      }
      continue;
    }

    const attempt = restarts + 1;
    const due = addSeconds(task.stoppedAt, backoffSeconds(attempt, rules));
    if (obs.now >= due) {
      actions.push({ kind: 'restart-task', task, attempt, rootTaskId, cause, network: network.network });
    } else actions.push({ kind: 'recheck', at: due, why: `restart ${taskId(task.taskArn)} after backoff` });
  }
  return actions;
}

/**
 * Which chain of restarts a stopped task belongs to, and how many restarts it has had. A task that ran
 * for a whole window before failing starts a fresh chain: `maxRestarts` bounds failures in a row, not
 * failures over a task's whole life.
 */
export function restartChain(task: Task, windowSeconds: number): { rootTaskId: string; restarts: number } {
  const lineage = parseRestartLineage(task.startedBy);
  const ranFor = task.startedAt && task.stoppedAt ? secondsBetween(task.startedAt, task.stoppedAt) : 0;
  if (!lineage || ranFor >= windowSeconds) return { rootTaskId: taskId(task.taskArn), restarts: 0 };
  return { rootTaskId: lineage.rootTaskId, restarts: lineage.attempt };
}

/** awsvpc tasks need subnets and security groups; ECS keeps only the subnet of a stopped task. */
function restartNetwork(
  task: Task,
  family: string,
  rules: RecyclerPolicy['restartStandalone'],
): { network?: RestartNetwork; problem?: string } {
  if (!task.subnetId && !task.privateIp) return {};
  const configured = rules.network[family];
  if (!configured) {
    return {
      problem: `awsvpc task of ${family}: ECS does not keep its security groups; configure restartStandalone.network.${family}`,
    };
  }
  const subnets = configured.subnets ?? (task.subnetId ? [task.subnetId] : []);
  if (subnets.length === 0)
    return {
      problem: `no subnet known for ${family}; configure restartStandalone.network.${family}.subnets`,
    };
  return {
    network: {
      subnets,
      securityGroups: configured.securityGroups,
      assignPublicIp: configured.assignPublicIp,
    },
  };
}

function optedIn(task: Task, group: GroupRef, rules: RecyclerPolicy['restartStandalone']): boolean {
  const tag = task.tags[rules.optInTag]?.toLowerCase();
  if (tag === 'false' || tag === 'never') return false;
  return rules.families.includes(group.name) || tag === 'true' || tag === 'on-failure';
}

/** Attempt 1 waits the base, each later attempt twice the one before, capped. */
export function backoffSeconds(attempt: number, rules: RecyclerPolicy['restartStandalone']): number {
  return Math.min(rules.backoffMaxSeconds, rules.backoffBaseSeconds * 2 ** Math.max(0, attempt - 1));
}

// ---------------------------------------------------------------------------------------------------
// Unhealthy tasks in target groups ECS does not act on. The first unhealthy sighting is remembered in a
// tag on the task; only after the grace period is it deregistered and stopped, and only within the
// blast radius: a share of the group out of service at once, and never a target group's last healthy
// target (when none is healthy, the cause is shared and stopping tasks would not fix it).

function decideUnhealthyStops(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const rules = policy.stopUnhealthy;
  if (!rules.enabled) return [];
  const ownTargetGroups = new Set(obs.service?.targetGroupArns ?? []);
  const watched = obs.watchedTargetGroups.filter((tg) => !ownTargetGroups.has(tg.targetGroupArn));
  if (watched.length === 0) return [];

  const actions: RecyclerAction[] = [];
  const candidates: { task: Task; since: Date; targets: TargetPlacement[] }[] = [];

  for (const task of obs.running) {
    if (task.desiredStatus === 'STOPPED') continue;
    const placements = watched.flatMap((tg) =>
      tg.targets
        .filter((target) => isTargetOf(task, target))
        .map((target) => ({ tg, target: target as Target })),
    );
    const sinceTag = task.tags[Tags.unhealthySince];
    if (placements.length === 0 && !sinceTag) continue;
    const unhealthy = placements.filter((p) => p.target.state === 'unhealthy');
    const healthy = placements.filter((p) => p.target.state === 'healthy');

    if (unhealthy.length === 0 && (!sinceTag || healthy.length > 0)) {
      if (sinceTag && healthy.length === placements.length) actions.push({ kind: 'clear-unhealthy', task });
      continue;
    }
    if (!sinceTag) {
      actions.push({ kind: 'mark-unhealthy', task, targetGroupArn: unhealthy[0]!.tg.targetGroupArn });
      actions.push({ kind: 'recheck', at: addSeconds(obs.now, rules.graceSeconds), why: 'unhealthy grace' });
      continue;
    }
    const since = new Date(sinceTag);
    if (Number.isNaN(since.getTime()) || secondsBetween(since, obs.now) < rules.graceSeconds) {
      const at = Number.isNaN(since.getTime()) ? obs.now : addSeconds(since, rules.graceSeconds);
      actions.push({ kind: 'recheck', at, why: 'unhealthy grace' });
      continue;
    }
    // Marked, past its grace, and no longer healthy anywhere: unhealthy targets are deregistered first;
    // a task whose targets are already draining or gone (a stop that failed halfway) is just stopped.
    candidates.push({
      task,
      since,
      targets: unhealthy.map((p) => ({
        targetGroupArn: p.tg.targetGroupArn,
        target: { id: p.target.id, port: p.target.port },
      })),
    });
  }

  let budget = stopBudget(obs, rules);
  for (const candidate of candidates.sort((a, b) => a.since.getTime() - b.since.getTime())) {
    const target = candidate.task.taskArn;
    const emptied = candidate.targets.find(
      (p) => healthyCount(watched, p.targetGroupArn) === 0 || registeredCount(watched, p.targetGroupArn) <= 1,
    );
    if (emptied) {
      actions.push({
        kind: 'hold',
        target,
        reason: `last-healthy-target: ${emptied.targetGroupArn} has no other healthy target; the cause is likely shared`,
      });
      continue;
    }
    if (budget <= 0) {
      actions.push({ kind: 'hold', target, reason: 'blast-radius: stop budget for this group is used up' });
      continue;
    }
    budget -= 1;
    actions.push({
      kind: 'stop-unhealthy-task',
      task: candidate.task,
      targets: candidate.targets,
      unhealthyForSeconds: Math.round(secondsBetween(candidate.since, obs.now)),
    });
  }
  return actions;
}

function isTargetOf(task: Task, target: Target): boolean {
  if (task.privateIp && target.id === task.privateIp) return true;
  if (!task.ec2InstanceId || target.id !== task.ec2InstanceId) return false;
  const hostPorts = task.containers.flatMap((c) => c.bindings ?? []).map((b) => b.hostPort);
  return target.port === undefined || hostPorts.includes(target.port);
}

const healthyCount = (groups: TargetGroupHealth[], arn: string): number =>
  groups.find((g) => g.targetGroupArn === arn)?.targets.filter((t) => t.state === 'healthy').length ?? 0;

const registeredCount = (groups: TargetGroupHealth[], arn: string): number =>
  groups.find((g) => g.targetGroupArn === arn)?.targets.filter((t) => t.state !== 'draining').length ?? 0;

/**
 * How many more tasks this group may lose right now. Out of service count: tasks being stopped (listed
 * under either desired status while they still run) and tasks this reflex stopped within the grace
 * period, whose replacements are not proven healthy yet. So a burst of events, or a stop that completes
 * in seconds, cannot take more than the share of the group out at once.
 */
export function stopBudget(
  obs: Pick<GroupObservation, 'running' | 'stopped' | 'now'>,
  rules: Pick<RecyclerPolicy['stopUnhealthy'], 'maxStopShare' | 'graceSeconds'>,
): number {
  const recent = addSeconds(obs.now, -rules.graceSeconds);
  const out = new Set<string>();
  for (const t of [...obs.running, ...obs.stopped]) {
    const leaving = t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED';
    const stoppedByUs =
      classifyStop(t).cause === 'stopped-unhealthy' && t.stoppedAt !== undefined && t.stoppedAt >= recent;
    if (leaving || stoppedByUs) out.add(t.taskArn);
  }
  const inService = obs.running.filter((t) => t.lastStatus !== 'STOPPED' && !out.has(t.taskArn)).length;
  return Math.max(1, Math.floor((inService + out.size) * rules.maxStopShare)) - out.size;
}

// ---------------------------------------------------------------------------------------------------
// Crash-loop breaker: outside deployments nothing in ECS stops a service that keeps failing on the same
// task definition. Failures are counted from what ECS still lists, only those after the deployment
// finished, and the handled loop is remembered by the primary deployment's id on the service, so one
// loop gets one action however many events. It rolls back only when the release is the likely cause:
// the tasks crash or run out of memory, and the revision never ran stably. Health-check and image-pull
// loops, or a revision that had been fine for a while, point at something shared: alert instead.

const RELEASE_EVIDENCE = new Set<StopCause>(['crash', 'out-of-memory', 'start-failure']);

function decideCrashLoop(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const rules = policy.crashLoopBreaker;
  const service = obs.service;
  if (!rules.enabled || obs.group.kind !== 'service' || !service) return [];
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  // A service deployed through task sets (CodeDeploy, external) may list no deployment at all.
  const owner = otherController(service);
  if (!primary && !owner) return [];

  const inProgress = deploymentInProgress(service);
  // Failures while the deployment ran belong to the deployment (and its circuit breaker), not to us.
  const completedAt = inProgress ? undefined : primary?.updatedAt;
  const windowStart = addSeconds(obs.now, -rules.windowSeconds);
  const failures = obs.stopped
    .filter(
      (t) =>
        t.taskDefinitionArn === service.taskDefinitionArn &&
        t.stoppedAt !== undefined &&
        t.stoppedAt >= windowStart &&
        (!completedAt || t.stoppedAt > completedAt) &&
        classifyStop(t).crashLoopEvidence,
    )
    .sort((a, b) => a.stoppedAt!.getTime() - b.stoppedAt!.getTime());
  if (failures.length < rules.failures) return [];

  const target = service.serviceName;
  const handledKey = crashLoopKey(service);
  if (service.tags[Tags.crashLoopHandled] === handledKey) {
    return [{ kind: 'hold', target, reason: `crash loop on deployment ${handledKey} already handled` }];
  }
  const loop = {
    kind: 'break-crash-loop' as const,
    service,
    failingTaskDefinitionArn: service.taskDefinitionArn,
  };
  // Another controller's service: its deployments (and their rollbacks) are that controller's. Say so,
  // once, and write nothing to the service.
  if (owner)
    return [
      {
        ...loop,
        failures: failures.length,
        rollback: false,
        why: `${owner}: the breaker alerts and leaves its deployments to it`,
      },
    ];
  if (inProgress) {
    if (service.circuitBreaker) {
      return [
        {
          kind: 'hold',
          target,
          reason: 'deployment-in-progress: the ECS deployment circuit breaker owns it',
        },
      ];
    }
    // Without a circuit breaker ECS retries this deployment forever: say so, once, and leave it.
    return [
      {
        ...loop,
        failures: failures.length,
        rollback: false,
        why: 'failing deployment without a circuit breaker',
      },
    ];
  }
  const causes = new Set(failures.map((t) => classifyStop(t).cause));
  const releaseEvidence = [...causes].every((c) => RELEASE_EVIDENCE.has(c));
  const stableFor = completedAt ? secondsBetween(completedAt, failures[0]!.stoppedAt!) : 0;
  if (!releaseEvidence) {
    return [
      {
        ...loop,
        failures: failures.length,
        rollback: false,
        why: `${[...causes].join(', ')}: likely a shared cause`,
      },
    ];
  }
  if (stableFor >= rules.minStableSeconds) {
    const why = `the revision ran ${Math.round(stableFor)}s before failing: likely not the release`;
    return [{ ...loop, failures: failures.length, rollback: false, why }];
  }
  return [
    {
      ...loop,
      failures: failures.length,
      rollback: true,
      why: `${[...causes].join(', ')} soon after release`,
    },
  ];
}

export { deploymentInProgress };

/**
 * What the handled mark names: the primary deployment, or, for a service without one (task sets of
 * CodeDeploy or an external controller), the failing task definition.
 */
export function crashLoopKey(service: Service): string {
  return service.deployments.find((d) => d.status === 'PRIMARY')?.id ?? service.taskDefinitionArn;
}

// ---------------------------------------------------------------------------------------------------

function decidePlacement(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const reason = obs.hint?.placementFailure;
  if (!policy.reportPlacementFailures.enabled || !reason) return [];
  // The event says placement failed when it was sent; a service shows whether it still lacks tasks. A
  // late or redelivered event about a service that has since placed them all (ECS found room, an
  // instance joined) must not ask for capacity again: the alarm reactor would add an instance for nothing.
  // During a rolling deployment the old revision's tasks can fill the desired count while the new
  // revision's cannot be placed: only the PRIMARY deployment's own count tells.
  const { service } = obs;
  const primary = service?.deployments.find((d) => d.status === 'PRIMARY');
  if (
    service &&
    primary &&
    primary.runningCount >= primary.desiredCount &&
    service.runningCount + service.pendingCount >= service.desiredCount
  ) {
    return [
      {
        kind: 'hold',
        target: service.serviceName,
        reason: `placement failure (${reason}) no longer holds: ${service.runningCount} running, ${service.pendingCount} pending of ${service.desiredCount}`,
      },
    ];
  }
  return [{ kind: 'report-shortfall', reason }];
}

/** One group needs at most one later look: the earliest asked for. */
function withEarliestRecheck(actions: RecyclerAction[]): RecyclerAction[] {
  const rechecks = actions.filter((a) => a.kind === 'recheck');
  if (rechecks.length <= 1) return actions;
  const earliest = rechecks.reduce((a, b) => (b.at < a.at ? b : a));
  return actions.filter((a) => a.kind !== 'recheck' || a === earliest);
}
