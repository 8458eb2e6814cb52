// What the reflexes other than rollouts hold right now, for operators (GET /reflexes): each read from where
// the reflex itself keeps it, so the view cannot drift from what the reflex will do next.
//   - the alarm reactor's changes in place: its memory, in tags on each configured target;
//   - the recycler's give-ups (its journal: nothing is left on a stopped task) and its unhealthy marks (a tag
//     on each running task of the groups it watches), with when the grace ends and the task may be stopped;
//   - lifecycle actions in progress: the lifecycle workflow's running executions and the state each carries
//     (the hook's heartbeat timeout, the last heartbeat sent);
//   - the depth of every dead-letter queue of the stack.
import { LIFECYCLE_WORKFLOW, type LifecycleWorkflowState } from '#app/instanceLifecycle';
import { REFLEX as RECYCLER_REFLEX } from '#app/recycleTaskGroup';
import {
  describeKnob,
  describeValue,
  knobOf,
  type ScalingTarget,
  type TargetMemory,
  targetKey,
} from '#domain/alarmReactions';
import { globalTimeout } from '#domain/instanceLifecycle';
import { Tags } from '#domain/taskRecycler';
import type { ActionHistory, QueueDepths, ReactionMemoryStore, TaskFleet, WorkflowRuns } from '#ports';
import type { ReflexSettings } from '#runtime/config';

export type { ReflexSettings };

export const NO_REFLEX_SETTINGS: ReflexSettings = {
  dryRun: { taskRecycler: false, alarmReactor: false, instanceLifecycle: false },
  reactions: [],
  recyclerPolicy: { stopUnhealthy: { enabled: false, graceSeconds: 0, maxStopShare: 0.25, watch: [] } },
  deadLetterQueueUrls: [],
};

export interface ReflexViewPorts {
  reactionMemory: Pick<ReactionMemoryStore, 'load'>;
  tasks: Pick<TaskFleet, 'listTasks'>;
  lifecycleRuns: Pick<WorkflowRuns, 'list' | 'describe'>;
  actions: ActionHistory;
  queueDepths: QueueDepths;
}

/** Lifecycle runs looked at: a group that launches more at once than this is shown in part. */
const LIFECYCLE_RUNS_LOOKED_AT = 50;
/** Give-ups shown: the most recent, from the recycler's journal lines of this many. */
const RECYCLER_LINES_READ = 200;
const GIVE_UPS_SHOWN = 20;

export async function reflexesView(ports: ReflexViewPorts, settings: ReflexSettings, now: Date) {
  const [changes, gaveUp, unhealthy, lifecycleActions, deadLetters] = await Promise.all([
    alarmChanges(ports, settings, now),
    recyclerGiveUps(ports),
    unhealthyMarks(ports, settings, now),
    lifecycleActionsInProgress(ports, now),
    deadLetterDepths(ports, settings),
  ]);
  return {
    alarmReactor: { dryRun: settings.dryRun.alarmReactor, changes },
    taskRecycler: { dryRun: settings.dryRun.taskRecycler, gaveUp, unhealthy },
    instanceLifecycle: { dryRun: settings.dryRun.instanceLifecycle, actions: lifecycleActions },
    deadLetters,
  };
}

async function alarmChanges(ports: ReflexViewPorts, settings: ReflexSettings, now: Date) {
  // One read per target, whatever number of reactions turn its knobs.
  const memories = new Map<string, Promise<TargetMemory>>();
  const memoryOf = (target: ScalingTarget) => {
    const key = targetKey(target);
    if (!memories.has(key)) memories.set(key, ports.reactionMemory.load(target));
    return memories.get(key)!;
  };
  const changes = await Promise.all(
    settings.reactions.map(async (reaction) => {
      const record = (await memoryOf(reaction.target)).records[reaction.id];
      if (!record) return [];
      const expiresAt = reaction.expireAfterSeconds
        ? new Date(record.at.getTime() + reaction.expireAfterSeconds * 1000)
        : undefined;
      return [
        {
          reaction: reaction.id,
          target: targetKey(reaction.target),
          knob: describeKnob(knobOf(reaction)),
          alarm: record.alarm,
          from: describeValue(record.before),
          to: describeValue(record.set),
          since: record.at.toISOString(),
          // Recorded before the write: the knob may not show it yet.
          ...(record.pending ? { pending: true } : {}),
          reverts:
            reaction.onOk === 'restore'
              ? expiresAt
                ? 'when the alarm is OK, or at its expiry'
                : 'when the alarm is OK'
              : expiresAt
                ? 'at its expiry'
                : 'kept until a person changes it',
          ...(expiresAt
            ? { revertsAt: expiresAt.toISOString(), secondsLeft: secondsUntil(expiresAt, now) }
            : {}),
        },
      ];
    }),
  );
  return changes.flat();
}

async function recyclerGiveUps(ports: ReflexViewPorts) {
  const lines = await ports.actions.recent({ reflex: RECYCLER_REFLEX, limit: RECYCLER_LINES_READ });
  return lines
    .filter((line) => line.action === 'give-up-restarts')
    .slice(0, GIVE_UPS_SHOWN)
    .map((line) => ({
      at: line.at.toISOString(),
      taskArn: line.target,
      ...(typeof line.detail?.cluster === 'string' ? { cluster: line.detail.cluster } : {}),
      reason: line.reason,
      outcome: line.outcome,
    }));
}

async function unhealthyMarks(ports: ReflexViewPorts, settings: ReflexSettings, now: Date) {
  const rules = settings.recyclerPolicy.stopUnhealthy;
  if (!rules.enabled) return [];
  const marks = await Promise.all(
    rules.watch.map(async ({ cluster, group }) => {
      const [kind, ...name] = group.split(':');
      const tasks = await ports.tasks.listTasks(
        cluster,
        { kind: kind as 'service' | 'family', name: name.join(':') },
        'RUNNING',
      );
      return tasks.flatMap((task) => {
        const since = new Date(task.tags[Tags.unhealthySince] ?? '');
        if (Number.isNaN(since.getTime()) || task.desiredStatus === 'STOPPED') return [];
        // The grace is the earliest stop: the blast radius may hold it longer, a healthy target clears it.
        const stopsAt = new Date(since.getTime() + rules.graceSeconds * 1000);
        return [
          {
            cluster,
            group,
            taskArn: task.taskArn,
            since: since.toISOString(),
            stopsAt: stopsAt.toISOString(),
            secondsLeft: secondsUntil(stopsAt, now),
          },
        ];
      });
    }),
  );
  return marks.flat();
}

async function lifecycleActionsInProgress(ports: ReflexViewPorts, now: Date) {
  const runs = (await ports.lifecycleRuns.list(LIFECYCLE_WORKFLOW, LIFECYCLE_RUNS_LOOKED_AT)).filter(
    (run) => run.status === 'RUNNING',
  );
  const views = await Promise.all(
    runs.map(async (run) => {
      const described = await ports.lifecycleRuns.describe(LIFECYCLE_WORKFLOW, run.name);
      // The newest step's state; before the first look, the state the intake started the run with.
      const state = (described?.latest ?? described?.input) as Partial<LifecycleWorkflowState> | undefined;
      const hook = state?.hook;
      if (described?.status !== 'RUNNING' || !hook) return [];
      const progress = state.progress ?? { looks: 0 };
      const timeout = progress.heartbeatTimeoutSeconds;
      const lastBeat = new Date(progress.lastHeartbeatAt ?? hook.startedAt);
      // Auto Scaling applies the hook's default result at whichever comes first: a heartbeat timeout
      // without a heartbeat, or the global timeout counted from the start.
      const expiresAt =
        timeout === undefined
          ? undefined
          : new Date(
              Math.min(
                lastBeat.getTime() + timeout * 1000,
                new Date(hook.startedAt).getTime() + globalTimeout(timeout) * 1000,
              ),
            );
      return [
        {
          run: run.name,
          transition: hook.transition,
          group: hook.groupName,
          hook: hook.hookName,
          instanceId: hook.instanceId,
          cluster: hook.cluster,
          startedAt: new Date(hook.startedAt).toISOString(),
          ...(progress.lastHeartbeatAt ? { lastHeartbeatAt: progress.lastHeartbeatAt } : {}),
          ...(timeout !== undefined ? { heartbeatTimeoutSeconds: timeout } : {}),
          ...(progress.defaultResult ? { defaultResult: progress.defaultResult } : {}),
          ...(expiresAt
            ? { expiresAt: expiresAt.toISOString(), secondsLeft: secondsUntil(expiresAt, now) }
            : {}),
        },
      ];
    }),
  );
  return views.flat();
}

async function deadLetterDepths(ports: ReflexViewPorts, settings: ReflexSettings) {
  return Promise.all(
    settings.deadLetterQueueUrls.map(async (url) => ({
      queue: url.split('/').pop() ?? url,
      url,
      ...(await ports.queueDepths.depth(url)),
    })),
  );
}

const secondsUntil = (at: Date, now: Date) => Math.max(0, Math.round((at.getTime() - now.getTime()) / 1000));
