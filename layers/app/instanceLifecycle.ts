// The instance lifecycle reflex's use cases. The intake starts one workflow per lifecycle action (its
// name comes from the instance and the action's token, so a duplicate delivery cannot start a second
// one, and a second action on the same instance, warm pool then group, gets its own). The
// workflow's Look step first confirms from Auto Scaling that the action is really pending, then re-reads
// the instance, takes at most one step and says how long to wait; the fail-safe completes the action
// with the hook's default result when anything went wrong.

import { steer } from '#app/steering';
import {
  type ContainerInstanceView,
  decideLaunch,
  decideTerminate,
  type HookClock,
  heartbeatDue,
  type LifecycleHookConfig,
  type LifecycleStep,
} from '#domain/instanceLifecycle';
import type {
  ActionJournal,
  Clock,
  ContainerInstances,
  DeadLetters,
  InstanceTargets,
  JournalEntry,
  LifecycleActionRef,
  LifecycleActions,
  Notifier,
  Workflows,
} from '#ports';

export const LIFECYCLE_REFLEX = 'instance-lifecycle';
export const LIFECYCLE_WORKFLOW = 'instance-lifecycle';

export interface LifecycleSettings {
  dryRun: boolean;
  hooks: LifecycleHookConfig[];
}

export interface LifecyclePorts {
  actions: LifecycleActions;
  instances: ContainerInstances;
  targets: InstanceTargets;
  workflows: Workflows;
  notifier: Notifier;
  clock: Clock;
  journal: ActionJournal;
  deadLetters: DeadLetters;
}

/** The workflow's step neither starts workflows nor parks input: the intake does. */
export type LifecycleStepPorts = Omit<LifecyclePorts, 'workflows' | 'deadLetters'>;

/** The workflow's state: everything a step needs, since steps keep no memory of their own. */
export interface LifecycleWorkflowState {
  hook: LifecycleActionRef & {
    transition: 'launch' | 'terminate';
    cluster: string;
    startedAt: string;
    /** Warm pools: where the instance comes from and goes to (EC2, AutoScalingGroup, WarmPool). */
    origin?: string;
    destination?: string;
  };
  progress: {
    looks: number;
    /** When Auto Scaling confirmed that this action is pending: nothing is written before. */
    confirmedAt?: string;
    heartbeatTimeoutSeconds?: number;
    defaultResult?: 'CONTINUE' | 'ABANDON';
    managedDraining?: boolean;
    lastHeartbeatAt?: string;
    agentReadyAt?: string;
    drainStartedAt?: string;
  };
}

export interface LookResult extends LifecycleWorkflowState {
  done: boolean;
  waitSeconds: number;
}

export class HookNotConfigured extends Error {
  override readonly name = 'HookNotConfigured';
}

export type IntakeOutcome =
  | { status: 'ignored'; why: string }
  | { status: 'started' | 'already-running'; runId: string };

export async function startLifecycleWorkflow(
  action: {
    transition: 'launch' | 'terminate';
    groupName: string;
    hookName: string;
    instanceId: string;
    token: string;
    at: Date;
    origin?: string;
    destination?: string;
    topicArn?: string;
  },
  ports: Pick<LifecyclePorts, 'workflows' | 'journal' | 'clock'>,
  settings: LifecycleSettings,
): Promise<IntakeOutcome> {
  const config = hookConfig(settings, action.groupName, action.hookName);
  if (!config)
    return { status: 'ignored', why: `hook ${action.groupName}/${action.hookName} is not configured` };
  // The queue admits the topics of every configured hook: one hook's topic does not speak for another.
  if (action.topicArn !== undefined && action.topicArn !== config.notificationTopicArn)
    return { status: 'ignored', why: `came through ${action.topicArn}, not the topic of this hook` };
  const state: LifecycleWorkflowState = {
    hook: {
      groupName: action.groupName,
      hookName: action.hookName,
      instanceId: action.instanceId,
      token: action.token,
      transition: action.transition,
      cluster: config.cluster,
      // The hook's budgets count from here. An event stamped in the future (a skewed clock, or a forgery)
      // must not lend the action more time than Auto Scaling gives it: min(event time, now).
      startedAt: new Date(Math.min(action.at.getTime(), ports.clock.now().getTime())).toISOString(),
      ...(action.origin !== undefined ? { origin: action.origin } : {}),
      ...(action.destination !== undefined ? { destination: action.destination } : {}),
    },
    progress: { looks: 0 },
  };
  const { started, runId } = await ports.workflows.start(
    LIFECYCLE_WORKFLOW,
    executionName(state.hook),
    state,
  );
  return { status: started ? 'started' : 'already-running', runId };
}

/**
 * Execution names: 1-80 of letters, digits, - and _. One per lifecycle action: the instance, the transition
 * and the action's token, which Auto Scaling gives each action anew (warm pools give an instance several
 * launch actions: into the pool, then into the group). A duplicate delivery of the same action carries the
 * same token, by EventBridge or by notification alike, and so gets the same name. Origin and destination
 * stay out of the name: an older notification may lack them where the EventBridge event has them, and the
 * two must still meet. 19 + 10 + 36 characters: the token always fits.
 */
export function executionName(hook: { instanceId: string; transition: string; token: string }): string {
  return `${hook.instanceId}-${hook.transition}-${hook.token}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/**
 * The lifecycle states an instance is in while this action waits on it. Auto Scaling lists no pending
 * actions by token; what it exposes is the instance's state in the group (DescribeAutoScalingInstances,
 * DescribeWarmPool), with the hook existing (DescribeLifecycleHooks). A delivery that does not say where
 * the instance goes (an older notification) may be either the plain or the warm pool form.
 */
export function waitingStates(hook: LifecycleWorkflowState['hook']): string[] {
  const warm = hook.transition === 'launch' ? hook.destination : hook.origin;
  const plain = hook.transition === 'launch' ? 'Pending:Wait' : 'Terminating:Wait';
  if (warm === 'WarmPool') return [`Warmed:${plain}`];
  if (warm === undefined) return [plain, `Warmed:${plain}`];
  // Scale-in back into the warm pool (an instance reuse policy): the user guide's diagram is the only
  // account of the state it waits in, so both readings are taken; the token's heartbeat still decides.
  if (hook.transition === 'terminate' && hook.destination === 'WarmPool')
    return [plain, 'Warmed:Pending:Wait'];
  return [plain];
}

export async function lookAtInstance(
  state: LifecycleWorkflowState,
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
): Promise<LookResult> {
  const { hook } = state;
  const config = hookConfig(settings, hook.groupName, hook.hookName);
  if (!config) throw new HookNotConfigured(`hook ${hook.groupName}/${hook.hookName} is no longer configured`);
  const now = ports.clock.now();
  let progress = { ...state.progress, looks: state.progress.looks + 1 };
  if (progress.heartbeatTimeoutSeconds === undefined) {
    const hookSettings = await ports.actions.hookSettings(hook.groupName, hook.hookName);
    // The hook (or its group) is gone: nothing waits on this action any more.
    if (!hookSettings) return finished(state, progress, ports, settings, 'the hook no longer exists');
    progress = { ...progress, ...hookSettings };
  }
  if (!progress.confirmedAt) {
    // Before the first write: the message is a claim until Auto Scaling confirms the action is pending.
    const refusal = await confirmPending(hook, ports, settings);
    if (refusal) {
      // Someone or something sent a lifecycle action Auto Scaling does not hold: a person should know.
      await ports.notifier.notify({
        subject: `ecs-reflex: refused a lifecycle message for ${hook.instanceId}: no such action is pending`,
        severity: 'warning',
        reflex: LIFECYCLE_REFLEX,
        target: hook.instanceId,
        summary: `A lifecycle message named ${hook.instanceId} (${hook.groupName}/${hook.hookName}), but Auto Scaling holds no such pending action (${refusal}): nothing was drained or completed. Something other than Auto Scaling may be sending to the reflex's queue.`,
        steer: [steer.lookAtInstances(hook.cluster)],
        detail: { ...hook, token: undefined, why: refusal },
      });
      return refused(state, progress, ports, settings, refusal);
    }
    progress = {
      ...progress,
      confirmedAt: now.toISOString(),
      ...(settings.dryRun ? {} : { lastHeartbeatAt: now.toISOString() }),
    };
  }
  // Into a (stopped) warm pool: the instance will not join the cluster before it leaves the pool, so
  // there is no agent to wait for. It is completed at once; leaving the pool is its own launch action.
  if (hook.transition === 'launch' && hook.destination === 'WarmPool')
    return complete(state, progress, ports, settings, 'CONTINUE', 'launched into the warm pool');
  // The heartbeat first, whatever the look goes on to do: reads that back off or fail, or a slow write,
  // must not hold it back (the margin is counted in heartbeatDue). Recorded as when it was sent, read
  // before the call: never later than when Auto Scaling took it, however long the SDK's retries took.
  if (heartbeatDue(hookClock(hook, progress), now)) {
    const sentAt = ports.clock.now();
    await writeStep(ports, settings, hook, 'heartbeat', 'the heartbeat is due', () =>
      ports.actions.heartbeat(hook),
    );
    progress = { ...progress, lastHeartbeatAt: sentAt.toISOString() };
  }
  const clock = hookClock(hook, progress);
  const [instance, targets] = await Promise.all([
    ports.instances.describe(hook.cluster, hook.instanceId),
    ports.targets.targetsOf(
      hook.instanceId,
      config.targetGroups.map((tg) => tg.arn),
    ),
  ]);
  if (instance?.status === 'ACTIVE' && instance.agentConnected && !progress.agentReadyAt) {
    progress = { ...progress, agentReadyAt: now.toISOString() };
  }
  const step =
    hook.transition === 'launch'
      ? decideLaunch(
          { now, clock, containerInstance: instance, targets, agentReadyAt: date(progress.agentReadyAt) },
          config,
        )
      : decideTerminate(
          {
            now,
            clock,
            containerInstance: instance,
            targets,
            drainStartedAt: date(progress.drainStartedAt),
            managedDraining: progress.managedDraining ?? false,
          },
          config,
        );
  return carryOut(step, { ...state, progress }, ports, settings, now, instance);
}

async function carryOut(
  step: LifecycleStep,
  state: LifecycleWorkflowState,
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
  now: Date,
  /** The container instance as this look read it: the drain acts on that answer. */
  seen: ContainerInstanceView | undefined,
): Promise<LookResult> {
  const { hook } = state;
  let progress = state.progress;
  const next = (waitSeconds: number): LookResult => ({ ...state, progress, done: false, waitSeconds });
  const write = (action: string, reason: string, run: () => Promise<void>) =>
    writeStep(ports, settings, hook, action, reason, run);
  switch (step.kind) {
    case 'wait':
      return next(step.seconds);
    case 'register-targets':
      await write('register-targets', targetsText(step.targets), () =>
        ports.targets.register(hook.instanceId, step.targets),
      );
      return next(5);
    case 'deregister-targets':
      await write('deregister-targets', targetsText(step.targets), () =>
        ports.targets.deregister(hook.instanceId, step.targets),
      );
      if (step.afterwards === 'abandon')
        return complete(state, progress, ports, settings, 'ABANDON', 'gave up after deregistering');
      return next(5);
    case 'drain':
      await write('drain', `${hook.instanceId} leaves the cluster`, () =>
        ports.instances.drain(hook.cluster, hook.instanceId, seen),
      );
      progress = { ...progress, drainStartedAt: progress.drainStartedAt ?? now.toISOString() };
      return next(5);
    case 'stop-standalone':
      await write('stop-standalone-tasks', `${step.taskArns.length} task(s) past the grace`, () =>
        ports.instances.stopTasks(hook.cluster, step.taskArns, 'ecs-reflex: the instance is terminating'),
      );
      return next(5);
    case 'complete':
      return complete(state, progress, ports, settings, step.result, step.why);
  }
}

/**
 * Writes are skipped in dry-run, except completing the action: without it the instance would wait for the
 * hook's timeout, which is not observing, it is acting.
 */
async function writeStep(
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
  hook: LifecycleWorkflowState['hook'],
  action: string,
  reason: string,
  run: () => Promise<void>,
): Promise<void> {
  if (!settings.dryRun) await run();
  journal(ports, settings, hook, action, reason, settings.dryRun ? 'dry-run' : 'done');
}

function hookClock(
  hook: LifecycleWorkflowState['hook'],
  progress: LifecycleWorkflowState['progress'],
): HookClock {
  return {
    startedAt: new Date(hook.startedAt),
    heartbeatTimeoutSeconds: progress.heartbeatTimeoutSeconds!,
    lastHeartbeatAt: date(progress.lastHeartbeatAt),
  };
}

async function complete(
  state: LifecycleWorkflowState,
  progress: LifecycleWorkflowState['progress'],
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
  result: 'CONTINUE' | 'ABANDON',
  why: string,
): Promise<LookResult> {
  await ports.actions.complete(state.hook, result);
  journal(ports, settings, state.hook, `complete-${result.toLowerCase()}`, why, 'done');
  return { ...state, progress, done: true, waitSeconds: 0 };
}

/**
 * Why this action is not (or no longer) pending, or undefined when Auto Scaling confirms it: the instance
 * waits in the claimed group, in the state this transition holds it in, and (outside dry-run) a heartbeat
 * with the claimed token is accepted, which a made-up token is not ("No active Lifecycle Action found").
 */
async function confirmPending(
  hook: LifecycleWorkflowState['hook'],
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
): Promise<string | undefined> {
  const notWaiting = await notWaitingWhy(hook, ports);
  if (notWaiting) return notWaiting;
  if (settings.dryRun) return undefined;
  try {
    await ports.actions.heartbeat(hook);
  } catch (error) {
    if (error instanceof Error && error.name === 'LifecycleActionNotFound')
      return `no lifecycle action of ${hook.hookName} is pending with this token`;
    throw error;
  }
  return undefined;
}

/** Why the instance is not waiting in the claimed group in this transition's state, if it is not. */
async function notWaitingWhy(
  hook: LifecycleWorkflowState['hook'],
  ports: LifecycleStepPorts,
): Promise<string | undefined> {
  const expected = waitingStates(hook);
  const state = await ports.actions.lifecycleState(hook.groupName, hook.instanceId);
  if (state === undefined) return `${hook.instanceId} is not an instance of ${hook.groupName}`;
  if (!expected.includes(state))
    return `${hook.instanceId} is ${state} in ${hook.groupName}, not ${expected.join(' or ')}`;
  return undefined;
}

function refused(
  state: LifecycleWorkflowState,
  progress: LifecycleWorkflowState['progress'],
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
  why: string,
): LookResult {
  journal(ports, settings, state.hook, 'refused', why, 'held');
  return { ...state, progress, done: true, waitSeconds: 0 };
}

function finished(
  state: LifecycleWorkflowState,
  progress: LifecycleWorkflowState['progress'],
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
  why: string,
): LookResult {
  journal(ports, settings, state.hook, 'nothing-to-complete', why, 'done');
  return { ...state, progress, done: true, waitSeconds: 0 };
}

/**
 * Something failed past its retries: complete the action with the hook's default result now, rather than
 * let the instance wait for the hook's timeout, and tell a person.
 */
export async function failSafe(
  state: LifecycleWorkflowState & { error?: { Error?: string; Cause?: string } },
  ports: LifecycleStepPorts,
  settings: LifecycleSettings,
): Promise<{ completed: 'CONTINUE' | 'ABANDON' | 'none' }> {
  const { hook } = state;
  // The fail-safe writes too: only for an action Auto Scaling still holds, and, when no look confirmed
  // this one (the first look failed), only once the token is confirmed as a look would: a forged message
  // naming a real waiting instance must not complete (or abandon) that instance's real action. When this
  // check fails as well, the hook's own timeout applies the same default result.
  const refusal = state.progress?.confirmedAt
    ? await notWaitingWhy(hook, ports)
    : await confirmPending(hook, ports, settings);
  if (refusal) {
    journal(ports, settings, hook, 'refused', `${refusal}: nothing to complete`, 'held');
    return { completed: 'none' };
  }
  const known =
    state.progress?.defaultResult ??
    (await ports.actions.hookSettings(hook.groupName, hook.hookName))?.defaultResult;
  const result = known ?? (hook.transition === 'terminate' ? 'CONTINUE' : 'ABANDON');
  await ports.actions.complete(hook, result);
  journal(
    ports,
    settings,
    hook,
    `fail-safe-${result.toLowerCase()}`,
    state.error?.Error ?? 'workflow failed',
    'failed',
  );
  await ports.notifier.notify({
    subject: `ecs-reflex: lifecycle workflow for ${hook.instanceId} failed; completed with ${result}`,
    severity: 'critical',
    reflex: LIFECYCLE_REFLEX,
    target: hook.instanceId,
    summary: `The ${hook.transition} workflow of ${hook.instanceId} failed (${state.error?.Error ?? 'workflow failed'}); as a fail-safe its lifecycle action was completed with ${result}, so the instance does not wait out the hook's timeout.`,
    steer: [steer.lookAtInstances(hook.cluster)],
    detail: { ...hook, token: undefined, error: state.error },
  });
  return { completed: result };
}

function hookConfig(settings: LifecycleSettings, groupName: string, hookName: string) {
  return settings.hooks.find((h) => h.groupName === groupName && h.hookName === hookName);
}

const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);
const targetsText = (targets: { targetGroupArn: string; port: number }[]) =>
  targets.map((t) => `${t.targetGroupArn.split('/').at(-2) ?? t.targetGroupArn}:${t.port}`).join(', ');

function journal(
  ports: Pick<LifecyclePorts, 'journal'>,
  settings: LifecycleSettings,
  hook: LifecycleWorkflowState['hook'],
  action: string,
  reason: string,
  outcome: JournalEntry['outcome'],
): void {
  ports.journal.record({
    reflex: LIFECYCLE_REFLEX,
    action,
    target: hook.instanceId,
    reason,
    dryRun: settings.dryRun,
    outcome,
    detail: { group: hook.groupName, hook: hook.hookName, transition: hook.transition },
  });
}
