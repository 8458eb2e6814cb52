// The instance lifecycle reflex's decisions. A lifecycle hook holds an instance in Pending:Wait or
// Terminating:Wait until someone completes the action; the workflow that does so is a loop: look at
// the world, take at most one step, say how long to wait before the next look. Each look is decided
// here from what is observed now (level-triggered: a look can run twice), and always within the hook's
// limits: a heartbeat before the heartbeat timeout, a completion before the global timeout.
import * as z from 'zod';

// --- configuration -----------------------------------------------------------------------------------

export const LifecycleHookConfigSchema = z.strictObject({
  groupName: z.string().min(1),
  hookName: z.string().min(1),
  cluster: z.string().min(1),
  /** Target groups the instance serves; registered on launch only when `registerTargets` (the group may do it). */
  targetGroups: z
    .array(z.strictObject({ arn: z.string().startsWith('arn:'), port: z.number().int().min(1).max(65_535) }))
    .default([]),
  registerTargets: z.boolean().default(false),
  /** How long a launch may wait for the ECS agent, then for healthy targets, before it is abandoned. */
  agentTimeoutSeconds: z.number().int().min(30).max(7200).default(600),
  healthyTimeoutSeconds: z.number().int().min(30).max(7200).default(600),
  /** Standalone tasks (which draining does not move) get this long to finish before they are stopped. */
  standaloneGraceSeconds: z.number().int().min(0).max(7200).default(120),
  pollSeconds: z.number().int().min(5).max(300).default(15),
  /**
   * The SNS topic the hook notifies (PutLifecycleHook NotificationTargetARN), when it notifies the reflex's
   * queue through one: the queue admits only these topics, and a message that came through another topic
   * is ignored.
   */
  notificationTopicArn: z
    .string()
    .regex(/^arn:[^:]+:sns:[^:]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'an SNS topic ARN')
    .optional(),
});
export type LifecycleHookConfig = z.infer<typeof LifecycleHookConfigSchema>;

// --- the hook's clock ------------------------------------------------------------------------------------

export interface HookClock {
  /** When the lifecycle action began (the event's time). */
  startedAt: Date;
  heartbeatTimeoutSeconds: number;
  lastHeartbeatAt?: Date;
}

/** AWS: a lifecycle action may be kept waiting at most min(48 h, 100 x heartbeat timeout). */
export function globalTimeout(heartbeatTimeoutSeconds: number): number {
  return Math.min(48 * 3600, 100 * heartbeatTimeoutSeconds);
}

/** Complete this long before the global timeout, so a completion that is slow or retried still lands. */
export function completionMargin(heartbeatTimeoutSeconds: number): number {
  return Math.min(300, Math.max(30, Math.floor(heartbeatTimeoutSeconds / 2)));
}

export function mustCompleteBy(clock: HookClock): Date {
  const seconds =
    globalTimeout(clock.heartbeatTimeoutSeconds) - completionMargin(clock.heartbeatTimeoutSeconds);
  return new Date(clock.startedAt.getTime() + seconds * 1000);
}

/**
 * A heartbeat is due once half the heartbeat timeout has passed since the last one (or the start). The
 * look sends it first, before it reads or writes anything, whatever step follows: a look that is slow
 * (the SDK backing off under throttling) or that fails on a read has heartbeated already, and the last
 * heartbeat is recorded as the moment it was sent, which is never later than when Auto Scaling took it.
 *
 * The margin, with H the heartbeat timeout, L the longest look (every call's SDK retries included), T the
 * longest heartbeat call (its SDK retries included): a wait never outlasts the due point H/2 (`wait`), so
 * the first look at or past it starts by H/2 + L after the last heartbeat and its heartbeat lands by
 * H/2 + L + T. A heartbeat that fails on every SDK attempt fails the look; the workflow's Retry
 * (instanceLifecycle.asl.json: throttling, 5xx and timeouts after 5 s then 10 s; Lambda errors sooner)
 * runs the look again, which heartbeats first: two such failures in a row still land one by
 * H/2 + L + 3T + 15 s. For a 120 s timeout with looks of up to 10 s and heartbeats of up to 4 s under
 * heavy throttling, that is 97 s of 120.
 */
export function heartbeatDue(clock: HookClock, now: Date): boolean {
  return secondsUntilHeartbeat(clock, now) <= 0;
}

function secondsUntilHeartbeat(clock: HookClock, now: Date): number {
  return seconds(now, clock.lastHeartbeatAt ?? clock.startedAt) + clock.heartbeatTimeoutSeconds / 2;
}

/** The next look comes before the next heartbeat falls due, so waiting can never outlive the hook. */
function nextLookIn(config: LifecycleHookConfig, clock: HookClock): number {
  return Math.max(5, Math.min(config.pollSeconds, Math.floor(clock.heartbeatTimeoutSeconds / 4)));
}

// --- launch ------------------------------------------------------------------------------------------------

export interface ContainerInstanceView {
  status: 'REGISTERING' | 'ACTIVE' | 'DRAINING' | 'INACTIVE' | 'DEREGISTERING' | string;
  agentConnected: boolean;
  runningServiceTasks: number;
  runningStandaloneTasks: { taskArn: string; startedAt?: Date }[];
}

export interface TargetView {
  targetGroupArn: string;
  port: number;
  state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable' | 'absent';
}

export interface LaunchObservation {
  now: Date;
  clock: HookClock;
  /** undefined: the ECS agent has not registered the instance yet. */
  containerInstance?: ContainerInstanceView;
  targets: TargetView[];
  /** When the agent was first seen connected (kept in the workflow's state). */
  agentReadyAt?: Date;
}

export type LifecycleStep =
  | { kind: 'wait'; seconds: number; why: string }
  | { kind: 'register-targets'; targets: { targetGroupArn: string; port: number }[] }
  | {
      kind: 'deregister-targets';
      targets: { targetGroupArn: string; port: number }[];
      afterwards: 'abandon' | 'wait';
    }
  | { kind: 'drain' }
  | { kind: 'stop-standalone'; taskArns: string[] }
  | { kind: 'complete'; result: 'CONTINUE' | 'ABANDON'; why: string };

export function decideLaunch(obs: LaunchObservation, config: LifecycleHookConfig): LifecycleStep {
  const { now, clock } = obs;
  const elapsed = seconds(clock.startedAt, now);
  const registered = obs.targets.filter((t) => t.state !== 'absent' && t.state !== 'draining');
  const give = (why: string): LifecycleStep =>
    config.registerTargets && registered.length > 0
      ? { kind: 'deregister-targets', targets: registered.map(refOf), afterwards: 'abandon' }
      : { kind: 'complete', result: 'ABANDON', why };

  if (now >= mustCompleteBy(clock)) return give('the hook is about to time out');
  const agentReady = obs.containerInstance?.status === 'ACTIVE' && obs.containerInstance.agentConnected;
  if (!agentReady) {
    if (elapsed >= config.agentTimeoutSeconds)
      return give(`the ECS agent did not connect in ${config.agentTimeoutSeconds}s`);
    return wait(config, obs, 'the ECS agent to register and connect');
  }
  if (config.targetGroups.length === 0)
    return { kind: 'complete', result: 'CONTINUE', why: 'agent connected' };

  const missing = config.targetGroups.filter(
    (tg) => !registered.some((t) => t.targetGroupArn === tg.arn && t.port === tg.port),
  );
  if (missing.length > 0 && config.registerTargets) {
    return {
      kind: 'register-targets',
      targets: missing.map((tg) => ({ targetGroupArn: tg.arn, port: tg.port })),
    };
  }
  const healthy = config.targetGroups.every((tg) =>
    obs.targets.some((t) => t.targetGroupArn === tg.arn && t.port === tg.port && t.state === 'healthy'),
  );
  if (healthy) return { kind: 'complete', result: 'CONTINUE', why: 'agent connected and targets healthy' };
  const healthyFor = seconds(obs.agentReadyAt ?? now, now);
  if (healthyFor >= config.healthyTimeoutSeconds) {
    return give(`targets not healthy ${config.healthyTimeoutSeconds}s after the agent connected`);
  }
  return wait(config, obs, 'targets to become healthy');
}

// --- terminate ---------------------------------------------------------------------------------------------

export interface TerminateObservation {
  now: Date;
  clock: HookClock;
  containerInstance?: ContainerInstanceView;
  /** Where the instance is a target, in any target group (not only configured ones). */
  targets: TargetView[];
  /** When draining began (kept in the workflow's state). */
  drainStartedAt?: Date;
  /** The group's capacity provider drains instances itself (managed instance draining). */
  managedDraining: boolean;
}

export function decideTerminate(obs: TerminateObservation, config: LifecycleHookConfig): LifecycleStep {
  const { now, clock } = obs;
  if (obs.managedDraining)
    return { kind: 'complete', result: 'CONTINUE', why: 'ECS managed draining owns this instance' };
  // Past this point nothing can wait any longer: AWS would apply the default result anyway.
  if (now >= mustCompleteBy(clock))
    return { kind: 'complete', result: 'CONTINUE', why: 'the hook is about to time out' };

  const instance = obs.containerInstance;
  if (instance && instance.status === 'ACTIVE') return { kind: 'drain' };
  const serving = obs.targets.filter((t) => t.state !== 'absent' && t.state !== 'draining');
  if (serving.length > 0)
    return { kind: 'deregister-targets', targets: serving.map(refOf), afterwards: 'wait' };

  const serviceTasksLeft = instance?.runningServiceTasks ?? 0;
  const drainingTargets = obs.targets.filter((t) => t.state === 'draining').length;
  if (serviceTasksLeft > 0 || drainingTargets > 0) {
    const why = [
      serviceTasksLeft > 0 ? `${serviceTasksLeft} service task(s) to move` : '',
      drainingTargets > 0 ? `${drainingTargets} target(s) draining connections` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return wait(config, obs, why);
  }
  const standalone = instance?.runningStandaloneTasks ?? [];
  if (standalone.length > 0) {
    const graceOver = seconds(obs.drainStartedAt ?? now, now) >= config.standaloneGraceSeconds;
    if (graceOver) return { kind: 'stop-standalone', taskArns: standalone.map((t) => t.taskArn) };
    return wait(
      config,
      obs,
      `${standalone.length} standalone task(s) finishing (grace ${config.standaloneGraceSeconds}s)`,
    );
  }
  return { kind: 'complete', result: 'CONTINUE', why: 'drained: no tasks, no targets' };
}

// ---------------------------------------------------------------------------------------------------------

function wait(
  config: LifecycleHookConfig,
  obs: { now: Date; clock: HookClock },
  what: string,
): LifecycleStep {
  const untilDeadline = Math.floor(seconds(obs.now, mustCompleteBy(obs.clock)));
  // The look after the wait starts no later than the next heartbeat's due point (see heartbeatDue).
  const untilHeartbeat = Math.ceil(secondsUntilHeartbeat(obs.clock, obs.now));
  return {
    kind: 'wait',
    seconds: Math.max(1, Math.min(nextLookIn(config, obs.clock), untilDeadline, untilHeartbeat)),
    why: `waiting for ${what}`,
  };
}

const refOf = (t: TargetView) => ({ targetGroupArn: t.targetGroupArn, port: t.port });
const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
