// The alarm reactor's use case. An alarm state change is a hint: the alarm's current state is read
// from CloudWatch, each matching reaction's knob and memory are read from the target, the domain decides,
// and the decision is carried out. Duplicates and reordered events therefore change nothing.
import {
  type AlarmState,
  decideReaction,
  describeKnob,
  describeValue,
  knobOf,
  matchesAlarm,
  type Reaction,
  type ReactionDecision,
} from '#domain/alarmReactions';
import type { AlarmDescription, AlarmReactorPorts, JournalEntry } from '#ports';
import { ActionsFailedError } from '#runtime/errors';

export const ALARM_REFLEX = 'alarm-reactor';

const PERMANENT_ERRORS = new Set([
  'ScalingKnobNotFound',
  'UnsupportedKnob',
  'ReactionRecordTooLarge',
  'ValidationError',
]);

export interface AlarmReactorSettings {
  dryRun: boolean;
  reactions: Reaction[];
}

export type AlarmOutcome =
  | { status: 'ignored'; why: string }
  | { status: 'handled'; decisions: ReactionDecision['kind'][] };

/** An alarm changed state: look at every reaction it drives. */
export async function reactToAlarm(
  alarmName: string,
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<AlarmOutcome> {
  const byName = settings.reactions.filter((r) => matchesAlarm(r, alarmName, {}));
  const byTag = settings.reactions.filter((r) => r.alarm.tag);
  if (byName.length === 0 && byTag.length === 0)
    return { status: 'ignored', why: `no reaction for ${alarmName}` };

  const alarm = await ports.alarms.describe(alarmName, { withTags: byTag.length > 0 });
  const reactions = settings.reactions.filter((r) => matchesAlarm(r, alarmName, alarm?.tags ?? {}));
  if (reactions.length === 0) return { status: 'ignored', why: `no reaction for ${alarmName}` };
  return runReactions(
    reactions.map((reaction) => ({ reaction, alarmName, alarm })),
    ports,
    settings,
  );
}

/**
 * The sweep: every reaction that has a change in place is looked at again, so an OK event that never
 * arrived, or an expiry, still puts the knob back.
 */
export async function reviewReactions(
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<AlarmOutcome> {
  const pending: { reaction: Reaction; alarmName: string; alarm: AlarmDescription | undefined }[] = [];
  const alarms = new Map<string, AlarmDescription | undefined>();
  for (const reaction of settings.reactions) {
    const memory = await ports.memory.load(reaction.target);
    const record = memory.records[reaction.id];
    if (!record) continue;
    if (!alarms.has(record.alarm))
      alarms.set(record.alarm, await ports.alarms.describe(record.alarm, { withTags: false }));
    pending.push({ reaction, alarmName: record.alarm, alarm: alarms.get(record.alarm) });
  }
  return runReactions(pending, ports, settings);
}

async function runReactions(
  items: { reaction: Reaction; alarmName: string; alarm: AlarmDescription | undefined }[],
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<AlarmOutcome> {
  const decisions: ReactionDecision['kind'][] = [];
  const failures: ActionsFailedError['failures'] = [];
  // One after another: two reactions on one target must each see the other's change.
  for (const { reaction, alarmName, alarm } of items) {
    try {
      decisions.push(await runReaction(reaction, alarmName, alarm?.state ?? 'missing', ports, settings));
    } catch (error) {
      const message = `${(error as Error).name}: ${(error as Error).message}`;
      const decided = (error as { decision?: string }).decision;
      record(ports, settings, reaction, alarmName, 'failed', decided ?? 'look', message);
      // A retry cannot fix these (the knob is gone, the value is not one it takes, the record does
      // not fit a tag): logged and metered as failed, and the other reactions go on.
      if (!PERMANENT_ERRORS.has((error as Error).name)) {
        failures.push({ action: reaction.id, target: describeKnob(knobOf(reaction)), error: message });
      }
    }
  }
  if (failures.length > 0) throw new ActionsFailedError(failures);
  return { status: 'handled', decisions };
}

async function runReaction(
  reaction: Reaction,
  alarmName: string,
  alarmState: AlarmState | 'missing',
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<ReactionDecision['kind']> {
  const knob = knobOf(reaction);
  const [memory, current] = await Promise.all([ports.memory.load(reaction.target), ports.scaling.read(knob)]);
  const now = ports.clock.now();
  const decision = decideReaction({ now, reaction, alarmState, alarmName, current, memory });

  // Nothing to do is not an action: no journal line, no metric.
  if (decision.kind === 'none') return decision.kind;
  if (decision.kind === 'hold') {
    record(ports, settings, reaction, alarmName, 'held', decision.kind, decision.why);
    return decision.kind;
  }
  if (settings.dryRun) {
    record(ports, settings, reaction, alarmName, 'dry-run', decision.kind, explain(decision));
    return decision.kind;
  }
  try {
    await carryOut(decision, reaction, alarmName, now, memory.lastChangeAt, ports);
  } catch (error) {
    throw Object.assign(error as Error, { decision: decision.kind });
  }
  record(ports, settings, reaction, alarmName, 'done', decision.kind, explain(decision));
  return decision.kind;
}

async function carryOut(
  decision: Exclude<ReactionDecision, { kind: 'none' | 'hold' }>,
  reaction: Reaction,
  alarmName: string,
  now: Date,
  lastChangeAt: Date | undefined,
  ports: AlarmReactorPorts,
): Promise<void> {
  const knob = knobOf(reaction);
  switch (decision.kind) {
    case 'apply':
      // Remember first: a write that then fails is finished by the retry (the record says what to set);
      // a write before the record could be applied twice ("add 2" on top of the first 2).
      await ports.memory.save(reaction.target, {
        reactionId: reaction.id,
        record: { alarm: alarmName, before: decision.before, set: decision.value, at: now },
        lastChangeAt: now,
      });
      await ports.scaling.write(knob, decision.value);
      break;
    case 'restore':
      await ports.scaling.write(knob, decision.value);
      await ports.memory.save(reaction.target, { reactionId: reaction.id, record: null, lastChangeAt: now });
      break;
    case 'forget':
      await ports.memory.save(reaction.target, {
        reactionId: reaction.id,
        record: null,
        lastChangeAt: lastChangeAt ?? now,
      });
      break;
  }
}

function explain(decision: Exclude<ReactionDecision, { kind: 'none' | 'hold' }>): string {
  switch (decision.kind) {
    case 'apply':
      return `${describeValue(decision.before)} -> ${describeValue(decision.value)}`;
    case 'restore':
      return `${describeValue(decision.set)} -> ${describeValue(decision.value)} (${decision.why})`;
    case 'forget':
      return decision.why;
  }
}

function record(
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
  reaction: Reaction,
  alarmName: string,
  outcome: JournalEntry['outcome'],
  action: string,
  reason: string,
): void {
  ports.journal.record({
    reflex: ALARM_REFLEX,
    action,
    target: describeKnob(knobOf(reaction)),
    reason,
    dryRun: settings.dryRun,
    outcome,
    detail: { alarm: alarmName, reaction: reaction.id },
  });
}
