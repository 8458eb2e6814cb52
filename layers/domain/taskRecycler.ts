// The task recycler's decisions: given what one task group looks like right now, what should happen?
// Pure and level-triggered: the event that woke us is only a hint, every answer comes from the current
// tasks, services, target health and the tags earlier runs left. Running it twice on the same world
// gives the same actions, and once those actions are taken it gives none, which is what makes
// duplicate and out-of-order events harmless.
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
  /** This look was caused by this task's own STOPPED event (the moment to report on it, once). */
  stoppedTaskArn?: string;
  placementFailure?: string;
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
  | { kind: 'break-crash-loop'; service: Service; failingTaskDefinitionArn: string; failures: number }
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

  const all = [...obs.running, ...obs.stopped].map((task) => ({
    task,
    lineage: parseRestartLineage(task.startedBy),
  }));
  const replaced = new Set(all.map((t) => t.lineage?.previousTaskId).filter(Boolean));
  const windowStart = addSeconds(obs.now, -rules.windowSeconds);
  const actions: RecyclerAction[] = [];

  for (const task of obs.stopped) {
    if (!task.stoppedAt || task.stoppedAt < windowStart) continue;
    if (!optedIn(task, obs.group, rules)) continue;
    const { cause, restartable } = classifyStop(task);
    if (!restartable || replaced.has(taskId(task.taskArn))) continue;

    const lineage = parseRestartLineage(task.startedBy);
    const rootTaskId = lineage?.rootTaskId ?? taskId(task.taskArn);
    const restarts = all.filter(
      (t) => t.lineage?.rootTaskId === rootTaskId && t.task.createdAt && t.task.createdAt >= windowStart,
    ).length;
    const network = restartNetwork(task, obs.group.name, rules);
    const cannot = restarts >= rules.maxRestarts ? `${restarts} restarts within the window` : network.problem;
    if (cannot) {
      // Reported once, on the task's own stop event; later looks see the same task and stay quiet.
      if (obs.hint?.stoppedTaskArn === task.taskArn) {
        actions.push({ kind: 'give-up-restarts', task, rootTaskId, cause, why: cannot });
      }
      continue;
    }

    const attempt = (lineage?.attempt ?? 0) + 1;
    const due = addSeconds(task.stoppedAt, backoffSeconds(attempt, rules));
    if (obs.now >= due) {
      actions.push({ kind: 'restart-task', task, attempt, rootTaskId, cause, network: network.network });
    } else actions.push({ kind: 'recheck', at: due, why: `restart ${taskId(task.taskArn)} after backoff` });
  }
  return actions;
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
// blast radius: a share of the group at once, never below a service's floor, never emptying a target
// group of healthy targets.

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
    if (placements.length === 0) continue;
    const unhealthy = placements.filter((p) => p.target.state === 'unhealthy');
    const sinceTag = task.tags[Tags.unhealthySince];

    if (unhealthy.length === 0) {
      if (sinceTag && placements.every((p) => p.target.state === 'healthy')) {
        actions.push({ kind: 'clear-unhealthy', task });
      }
      continue;
    }
    const first = unhealthy[0]!;
    if (!sinceTag) {
      actions.push({ kind: 'mark-unhealthy', task, targetGroupArn: first.tg.targetGroupArn });
      actions.push({ kind: 'recheck', at: addSeconds(obs.now, rules.graceSeconds), why: 'unhealthy grace' });
      continue;
    }
    const since = new Date(sinceTag);
    if (Number.isNaN(since.getTime()) || secondsBetween(since, obs.now) < rules.graceSeconds) {
      const at = Number.isNaN(since.getTime()) ? obs.now : addSeconds(since, rules.graceSeconds);
      actions.push({ kind: 'recheck', at, why: 'unhealthy grace' });
      continue;
    }
    candidates.push({
      task,
      since,
      targets: placements.map((p) => ({
        targetGroupArn: p.tg.targetGroupArn,
        target: { id: p.target.id, port: p.target.port },
      })),
    });
  }

  let budget = stopBudget(obs, rules.maxStopShare);
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
 * How many more tasks this group may lose right now. ECS lists a task that is being stopped under
 * desired status STOPPED while it still runs; those use up budget, so a burst of events cannot stop
 * more than the share at once. Only unhealthy tasks are ever stopped here, and they do not count
 * toward a service's healthy floor, so the floor cannot be crossed by these stops; the share bounds
 * how fast the group changes all the same.
 */
export function stopBudget(obs: Pick<GroupObservation, 'running' | 'stopped'>, maxStopShare: number): number {
  const staying = obs.running.filter((t) => t.lastStatus !== 'STOPPED').length;
  const leaving = obs.stopped.filter((t) => t.lastStatus !== 'STOPPED').length;
  return Math.max(1, Math.floor((staying + leaving) * maxStopShare)) - leaving;
}

// ---------------------------------------------------------------------------------------------------
// Crash-loop breaker: outside deployments nothing in ECS stops a service that keeps failing on the same
// task definition. Failures are counted from what ECS still lists, and the handled loop is remembered
// by the primary deployment's id on the service, so one loop gets one action however many events.

function decideCrashLoop(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const rules = policy.crashLoopBreaker;
  const service = obs.service;
  if (!rules.enabled || obs.group.kind !== 'service' || !service) return [];

  const windowStart = addSeconds(obs.now, -rules.windowSeconds);
  const failures = obs.stopped.filter(
    (t) =>
      t.taskDefinitionArn === service.taskDefinitionArn &&
      t.stoppedAt !== undefined &&
      t.stoppedAt >= windowStart &&
      classifyStop(t).crashLoopEvidence,
  ).length;
  if (failures < rules.failures) return [];

  const target = service.serviceName;
  if (deploymentInProgress(service)) {
    return [
      { kind: 'hold', target, reason: 'deployment-in-progress: the ECS circuit breaker owns this one' },
    ];
  }
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  if (primary && service.tags[Tags.crashLoopHandled] === primary.id) {
    return [{ kind: 'hold', target, reason: `crash loop on deployment ${primary.id} already handled` }];
  }
  return [
    { kind: 'break-crash-loop', service, failingTaskDefinitionArn: service.taskDefinitionArn, failures },
  ];
}

export function deploymentInProgress(service: Service): boolean {
  return service.deployments.length > 1 || service.deployments.some((d) => d.rolloutState === 'IN_PROGRESS');
}

// ---------------------------------------------------------------------------------------------------

function decidePlacement(obs: GroupObservation, policy: RecyclerPolicy): RecyclerAction[] {
  const reason = obs.hint?.placementFailure;
  if (!policy.reportPlacementFailures.enabled || !reason) return [];
  return [{ kind: 'report-shortfall', reason }];
}

/** One group needs at most one later look: the earliest asked for. */
function withEarliestRecheck(actions: RecyclerAction[]): RecyclerAction[] {
  const rechecks = actions.filter((a) => a.kind === 'recheck');
  if (rechecks.length <= 1) return actions;
  const earliest = rechecks.reduce((a, b) => (b.at < a.at ? b : a));
  return actions.filter((a) => a.kind !== 'recheck' || a === earliest);
}
