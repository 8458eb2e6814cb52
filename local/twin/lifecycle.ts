// EC2 Auto Scaling lifecycle hooks in the twin. A hook holds an instance the group launches in
// Pending:Wait, or one it scales in in Terminating:Wait, announces the wait with the EventBridge event
// AWS sends, and lets go when the action is completed, or when it times out: no heartbeat within the
// heartbeat timeout, or the global timeout min(48 h, 100 x heartbeat timeout), applies the default result.
// Completions and heartbeats are recorded, so scenarios can assert who completed what, when, and how.
import { AUTOSCALING_SOURCE, LIFECYCLE_DETAIL_TYPES, LIFECYCLE_TRANSITIONS } from '#events/autoscaling';
import { autoScalingGroupArn } from '#local/twin/aws/ecs';
import { eventEnvelope } from '#local/twin/events';
import type { TwinAutoScalingGroup, TwinScaling } from '#local/twin/scaling';
import { DuplicateIdentityError, type World } from '#local/twin/world';

export type LifecycleResult = 'CONTINUE' | 'ABANDON';

/** Where a lifecycle action moves an instance: the event's Origin and Destination. */
export interface LifecycleMove {
  origin: 'EC2' | 'AutoScalingGroup' | 'WarmPool';
  destination: 'EC2' | 'AutoScalingGroup' | 'WarmPool';
}

export interface TwinLifecycleHook {
  name: string;
  transition: 'launch' | 'terminate';
  /** 30..7200 s, as PutLifecycleHook accepts. */
  heartbeatTimeoutSeconds: number;
  defaultResult: LifecycleResult;
  notificationMetadata?: string;
  /**
   * The hook also notifies the reflex's SQS queue (PutLifecycleHook NotificationTargetARN, the older form):
   * Auto Scaling sends `autoscaling:TEST_NOTIFICATION` there when the hook is created, then every action
   * there as well as to EventBridge, which always gets it.
   */
  notifiesQueue?: boolean;
}

export interface TwinLifecycleAction {
  token: string;
  groupName: string;
  hookName: string;
  instanceId: string;
  transition: 'launch' | 'terminate';
  /** The event's Origin and Destination: EC2 -> AutoScalingGroup, EC2 -> WarmPool, WarmPool -> AutoScalingGroup, ... */
  move: LifecycleMove;
  startedAt: Date;
  /** No heartbeat or completion by then: the default result applies. Moves with each heartbeat. */
  heartbeatDeadline: Date;
  completion?: LifecycleCompletion;
}

export interface LifecycleCompletion
  extends Pick<TwinLifecycleAction, 'token' | 'groupName' | 'hookName' | 'instanceId' | 'transition'> {
  result: LifecycleResult;
  at: Date;
  by: 'call' | 'heartbeat-timeout' | 'global-timeout';
  /** Released while still serving: a target not draining, or service tasks still running on it. */
  stillServing: boolean;
}

/** What a lifecycle call names: the token, the instance, or both (each given one must match). */
export type LifecycleActionCall = Pick<TwinLifecycleAction, 'groupName' | 'hookName'> &
  Partial<Pick<TwinLifecycleAction, 'instanceId' | 'token'>>;

/** Where each transition moves an instance, but for the warm pool's (TwinScaling names those). */
const MOVES: Record<TwinLifecycleHook['transition'], LifecycleMove> = {
  launch: { origin: 'EC2', destination: 'AutoScalingGroup' },
  terminate: { origin: 'AutoScalingGroup', destination: 'EC2' },
};

export const globalTimeoutSeconds = (heartbeatTimeoutSeconds: number): number =>
  Math.min(48 * 3600, 100 * heartbeatTimeoutSeconds);

export class TwinLifecycle {
  /** Hooks per group name. */
  readonly hooks = new Map<string, TwinLifecycleHook[]>();
  /** Every action ever started, by token. */
  readonly actions = new Map<string, TwinLifecycleAction>();
  readonly completions: LifecycleCompletion[] = [];
  readonly heartbeats: { token: string; instanceId: string; at: Date }[] = [];
  /** The lifecycle events emitted, in order. */
  readonly emitted: unknown[] = [];

  constructor(
    private readonly world: World,
    private readonly scaling: TwinScaling,
    private readonly emit: (event: unknown) => void,
    private readonly note: (text: string) => void = () => undefined,
    /** The notification target: the body of one SQS message, as Auto Scaling writes it. */
    private readonly notify: (body: string) => void = () => undefined,
  ) {
    scaling.lifecycle = this;
  }

  addHook(groupName: string, hook: TwinLifecycleHook): void {
    this.scaling.group(groupName);
    if (hook.heartbeatTimeoutSeconds < 30 || hook.heartbeatTimeoutSeconds > 7200)
      throw new RangeError(`HeartbeatTimeout ${hook.heartbeatTimeoutSeconds} is outside 30..7200`);
    const hooks = (this.hooks.get(groupName) ?? []).filter((h) => h.name !== hook.name);
    this.hooks.set(groupName, [...hooks, hook]);
    if (hook.notifiesQueue) this.notify(JSON.stringify(this.testNotification(groupName)));
  }

  hook(groupName: string, hookName: string): TwinLifecycleHook | undefined {
    return this.hooks.get(groupName)?.find((h) => h.name === hookName);
  }

  /** The action still waiting on this instance and hook, if any. */
  activeAction(call: LifecycleActionCall): TwinLifecycleAction | undefined {
    return this.pending().find(
      (a) =>
        a.groupName === call.groupName &&
        a.hookName === call.hookName &&
        (call.token === undefined || a.token === call.token) &&
        (call.instanceId === undefined || a.instanceId === call.instanceId),
    );
  }

  /** Actions still waiting, optionally for one instance. */
  pending(instanceId?: string): TwinLifecycleAction[] {
    return [...this.actions.values()].filter(
      (a) => !a.completion && (instanceId === undefined || a.instanceId === instanceId),
    );
  }

  /**
   * An action already waiting when the scenario starts, with the token a real account gave it (a replay):
   * its instance is held by the group already (TwinScaling's `addHeld`), its budgets count from `startedAt`,
   * and nothing is announced, since the scenario replays what was delivered.
   */
  seedAction(
    input: Pick<TwinLifecycleAction, 'groupName' | 'hookName' | 'instanceId' | 'token' | 'startedAt'>,
  ): TwinLifecycleAction {
    const group = this.scaling.group(input.groupName);
    const hook = this.hook(input.groupName, input.hookName);
    if (!hook) throw new RangeError(`No lifecycle hook ${input.hookName} on ${input.groupName}`);
    if (this.actions.has(input.token))
      throw new DuplicateIdentityError(`lifecycle action token ${input.token} is in use already`);
    return this.begin(group, hook, input.instanceId, MOVES[hook.transition], input);
  }

  // --- what the calls do (local/twin/aws/autoScaling.ts answers them) -------------------------------

  /** A waiting action completes: by a CompleteLifecycleAction call, or by a timeout's default result. */
  complete(
    action: TwinLifecycleAction,
    result: LifecycleResult,
    by: LifecycleCompletion['by'] = 'call',
  ): void {
    const { token, groupName, hookName, instanceId, transition } = action;
    const at = this.world.clock.now();
    const stillServing = this.serving(instanceId);
    const completion = { token, groupName, hookName, instanceId, transition, result, at, by, stillServing };
    action.completion = completion;
    this.completions.push(completion);
    this.note(`lifecycle action ${hookName} on ${instanceId}: ${result}${by === 'call' ? '' : ` (${by})`}`);
    // ABANDON on one launch hook is enough to give the instance up; otherwise wait for the other hooks.
    const abandoned = transition === 'launch' && result === 'ABANDON';
    const siblings = this.pending(instanceId).filter((a) => a.transition === transition);
    if (abandoned) {
      for (const sibling of siblings) sibling.completion = { ...completion, token: sibling.token };
    } else if (siblings.length > 0) return;
    const why = `${hookName} ${result}${by === 'call' ? '' : ` by ${by}`}`;
    if (transition === 'terminate' || abandoned) this.scaling.terminateNow(groupName, instanceId, why);
    else if (action.move.destination === 'WarmPool') this.scaling.enterWarmPool(groupName, instanceId);
    else this.scaling.enterService(groupName, instanceId);
  }

  /** A heartbeat for a waiting action: the heartbeat timeout starts over; the global timeout stays. */
  heartbeat(action: TwinLifecycleAction): void {
    const hook = this.hook(action.groupName, action.hookName)!;
    const now = this.world.clock.now();
    this.heartbeats.push({ token: action.token, instanceId: action.instanceId, at: now });
    action.heartbeatDeadline = new Date(now.getTime() + hook.heartbeatTimeoutSeconds * 1000);
    this.watchHeartbeat(action);
  }

  // --- the group's side (TwinScaling) ----------------------------------------------------------------

  /**
   * An instance launches or is chosen for scale-in: one action per hook of the transition, and true when
   * there is any. The instance moves on once every one of them completed.
   */
  hold(
    group: TwinAutoScalingGroup,
    instanceId: string,
    transition: 'launch' | 'terminate',
    move = MOVES[transition],
  ): boolean {
    const hooks = (this.hooks.get(group.name) ?? []).filter((h) => h.transition === transition);
    for (const hook of hooks) this.begin(group, hook, instanceId, move);
    return hooks.length > 0;
  }

  private begin(
    group: TwinAutoScalingGroup,
    hook: TwinLifecycleHook,
    instanceId: string,
    move: LifecycleMove,
    /** A seeded action: its given token and start, and no announcement. */
    given?: { token: string; startedAt: Date },
  ): TwinLifecycleAction {
    const now = given?.startedAt ?? this.world.clock.now();
    const action: TwinLifecycleAction = {
      token: given?.token ?? this.world.newUuid(),
      groupName: group.name,
      hookName: hook.name,
      instanceId,
      transition: hook.transition,
      move,
      startedAt: now,
      heartbeatDeadline: new Date(now.getTime() + hook.heartbeatTimeoutSeconds * 1000),
    };
    this.actions.set(action.token, action);
    this.watchHeartbeat(action);
    // The global timeout applies the default result, heartbeats or not.
    const globalDeadline = new Date(
      now.getTime() + globalTimeoutSeconds(hook.heartbeatTimeoutSeconds) * 1000,
    );
    this.world.clock.at(globalDeadline, `lifecycle global timeout ${instanceId}`, () => {
      if (!action.completion) this.complete(action, hook.defaultResult, 'global-timeout');
    });
    if (given) return action;
    const detail = this.detail(group.name, hook, action);
    const type = LIFECYCLE_DETAIL_TYPES[hook.transition];
    const arn = autoScalingGroupArn(this.world, group.name);
    const event = eventEnvelope(this.world, AUTOSCALING_SOURCE, type, [arn], detail);
    this.emitted.push(event);
    this.emit(event);
    if (hook.notifiesQueue) this.notify(JSON.stringify({ ...detail, ...this.messageFields() }));
    return action;
  }

  /** The check at the current heartbeat deadline; one scheduled by an earlier heartbeat finds it moved. */
  private watchHeartbeat(action: TwinLifecycleAction): void {
    const deadline = action.heartbeatDeadline;
    this.world.clock.at(deadline, `lifecycle heartbeat timeout ${action.instanceId}`, () => {
      if (action.completion || action.heartbeatDeadline !== deadline) return;
      const hook = this.hook(action.groupName, action.hookName);
      this.complete(action, hook?.defaultResult ?? 'ABANDON', 'heartbeat-timeout');
    });
  }

  private serving(instanceId: string): boolean {
    const targets = [...this.world.targetGroups.values()].flatMap((tg) => tg.targets);
    const liveTarget = targets.some((t) => t.id === instanceId && t.state !== 'draining');
    const serviceTasks = this.world
      .tasksOn(instanceId)
      .some((t) => t.group.startsWith('service:') && t.desiredStatus === 'RUNNING');
    return liveTarget || serviceTasks;
  }

  /**
   * The action as Auto Scaling announces it: the EventBridge event's detail (events/samples/
   * asg-lifecycle-*-eventbridge.json), and the notification-form message with the fields it adds
   * (asg-lifecycle-sqs-body.json).
   */
  private detail(groupName: string, hook: TwinLifecycleHook, action: TwinLifecycleAction) {
    return {
      LifecycleActionToken: action.token,
      AutoScalingGroupName: groupName,
      LifecycleHookName: hook.name,
      EC2InstanceId: action.instanceId,
      LifecycleTransition: LIFECYCLE_TRANSITIONS[hook.transition],
      ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
      Origin: action.move.origin,
      Destination: action.move.destination,
    };
  }

  /** What a new notification target receives first, as in events/samples/asg-test-notification.json. */
  private testNotification(groupName: string) {
    return {
      ...this.messageFields(),
      AutoScalingGroupARN: autoScalingGroupArn(this.world, groupName),
      AutoScalingGroupName: groupName,
      Event: 'autoscaling:TEST_NOTIFICATION',
    };
  }

  /** What every message to a notification target carries. */
  private messageFields() {
    return {
      AccountId: this.world.account,
      RequestId: this.world.newUuid(),
      Service: 'AWS Auto Scaling',
      Time: this.world.clock.now().toISOString(),
    };
  }
}
