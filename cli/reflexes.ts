// `ecs-reflex reflexes`: what the reflexes other than rollouts hold right now (GET /reflexes), a section
// each, for people. Times in UTC with the zone written out; names short, as the tables elsewhere.
import { type Style, shortArn, table, utcTime } from './render';

/** GET /reflexes, as the ops API documents it (events/opsApi.ts). */
export interface ReflexesView {
  alarmReactor: {
    dryRun: boolean;
    changes: {
      reaction: string;
      target: string;
      knob: string;
      alarm: string;
      from: string;
      to: string;
      since: string;
      pending?: boolean;
      reverts: string;
      revertsAt?: string;
      secondsLeft?: number;
    }[];
  };
  taskRecycler: {
    dryRun: boolean;
    gaveUp: { at: string; taskArn: string; cluster?: string; reason: string; outcome: string }[];
    unhealthy: {
      cluster: string;
      group: string;
      taskArn: string;
      since: string;
      stopsAt: string;
      secondsLeft: number;
    }[];
  };
  instanceLifecycle: {
    dryRun: boolean;
    actions: {
      run: string;
      transition: string;
      group: string;
      hook: string;
      instanceId: string;
      cluster: string;
      startedAt: string;
      lastHeartbeatAt?: string;
      heartbeatTimeoutSeconds?: number;
      defaultResult?: string;
      expiresAt?: string;
      secondsLeft?: number;
    }[];
  };
  deadLetters: { queue: string; url: string; messages?: number; inFlight?: number; missing?: boolean }[];
}

/** An instant as every reflex section shows it: `2026-11-02 09:04:01 UTC`. */

/** A time left, in the two largest units: `1 h 5 min`, `4 min 12 s`, `40 s`. */
export function durationText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${min} min`;
  if (min > 0) return `${min} min ${s} s`;
  return `${s} s`;
}

const until = (iso: string | undefined, secondsLeft: number | undefined) =>
  iso === undefined ? '' : `${utcTime(iso)} (${durationText(secondsLeft ?? 0)} left)`;

export function reflexesText(view: ReflexesView, style: Style): string {
  const { alarmReactor, taskRecycler, instanceLifecycle, deadLetters } = view;
  const section = (title: string, dryRun: boolean | undefined, body: string) =>
    `${style.bold(title)}${dryRun ? ` ${style.yellow('[dry-run: acts on nothing]')}` : ''}\n${body}`;
  const none = (what: string) => `  ${what}\n`;
  const parts = [
    section(
      'Alarm reactor: changes in place',
      alarmReactor.dryRun,
      alarmReactor.changes.length === 0
        ? none('no knob changed')
        : table(
            ['KNOB', 'FROM → TO', 'ALARM', 'SINCE', 'REVERTS'],
            alarmReactor.changes.map((c) => [
              c.knob,
              `${c.from} → ${c.to}${c.pending ? ' (pending)' : ''}`,
              c.alarm,
              utcTime(c.since),
              c.revertsAt ? `${c.reverts}: ${until(c.revertsAt, c.secondsLeft)}` : c.reverts,
            ]),
            style,
          ),
    ),
    section(
      'Task recycler: restarts given up',
      taskRecycler.dryRun,
      taskRecycler.gaveUp.length === 0
        ? none('none')
        : table(
            ['AT', 'CLUSTER', 'TASK', 'WHY'],
            taskRecycler.gaveUp.map((g) => [utcTime(g.at), g.cluster ?? '', shortArn(g.taskArn), g.reason]),
            style,
          ),
    ),
    section(
      'Task recycler: tasks marked unhealthy',
      undefined,
      taskRecycler.unhealthy.length === 0
        ? none('none')
        : table(
            ['CLUSTER', 'GROUP', 'TASK', 'UNHEALTHY SINCE', 'STOPPED FROM'],
            taskRecycler.unhealthy.map((u) => [
              u.cluster,
              u.group,
              shortArn(u.taskArn),
              utcTime(u.since),
              until(u.stopsAt, u.secondsLeft),
            ]),
            style,
          ),
    ),
    section(
      'Instance lifecycle: actions in progress',
      instanceLifecycle.dryRun,
      instanceLifecycle.actions.length === 0
        ? none('none')
        : table(
            ['GROUP', 'HOOK', 'INSTANCE', 'TRANSITION', 'LAST HEARTBEAT', 'DEFAULT RESULT AT'],
            instanceLifecycle.actions.map((a) => [
              a.group,
              a.hook,
              a.instanceId,
              a.transition,
              a.lastHeartbeatAt ? utcTime(a.lastHeartbeatAt) : '',
              a.expiresAt
                ? `${a.defaultResult ?? ''} ${until(a.expiresAt, a.secondsLeft)}`.trim()
                : 'not yet confirmed',
            ]),
            style,
          ),
    ),
    section(
      'Dead-letter queues',
      undefined,
      deadLetters.length === 0
        ? none('none configured')
        : table(
            ['QUEUE', 'MESSAGES'],
            deadLetters.map((q) => [
              q.queue,
              q.missing ? style.red('queue missing') : q.messages ? style.red(String(q.messages)) : '0',
            ]),
            style,
          ),
    ),
  ];
  return parts.join('\n');
}
