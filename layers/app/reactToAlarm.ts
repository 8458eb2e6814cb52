// The alarm reactor's use case. An alarm state change is a hint: the alarm's current state is read
// from CloudWatch, each matching reaction's knob and memory are read from the target, the domain decides,
// and the decision is carried out. Duplicates and reordered events therefore change nothing.

import { steer } from '#app/steering';
import {
  type AlarmState,
  decideReaction,
  describeKnob,
  describeValue,
  type KnobReading,
  knobOf,
  matchesAlarm,
  type Reaction,
  type ReactionDecision,
  type TargetMemory,
  targetKey,
} from '#domain/alarmReactions';
import type { AlarmDescription, AlarmReactorPorts, JournalEntry, TargetReading } from '#ports';
import { ActionsFailedError } from '#runtime/errors';

export const ALARM_REFLEX = 'alarm-reactor';

/**
 * Errors a retry cannot fix: the knob is gone, the value is not one it takes, the record does not fit. AWS
 * names a refused value ValidationError in EC2 Auto Scaling and ValidationException in Application Auto
 * Scaling and CloudWatch.
 */
const PERMANENT_ERRORS = new Set([
  'ScalingKnobNotFound',
  'UnsupportedKnob',
  'ReactionRecordTooLarge',
  'ValidationError',
  'ValidationException',
]);

export interface AlarmReactorSettings {
  dryRun: boolean;
  reactions: Reaction[];
}

export type AlarmOutcome =
  | { status: 'ignored'; why: string }
  | { status: 'handled'; decisions: ReactionDecision['kind'][] };

/** What a look already read of the target: its memory, and the knob too when it came in the same call. */
type Known = { memory: TargetMemory } | TargetReading;

type Due = {
  reaction: Reaction;
  alarmName: string;
  alarm: AlarmDescription | undefined;
  known?: Known;
};

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
 * The sweep: every reaction with a change in place, and every reaction naming its alarm, is looked at
 * again. An OK event that never arrived, an expiry, a change whose write failed, an ALARM that was held
 * by a cooldown since run out: each is taken care of within a minute.
 */
export async function reviewReactions(
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<AlarmOutcome> {
  const alarms = new Map<string, AlarmDescription | undefined>();
  const describe = async (name: string) => {
    if (!alarms.has(name)) alarms.set(name, await ports.alarms.describe(name, { withTags: false }));
    return alarms.get(name);
  };
  const due: Due[] = [];
  for (const reaction of settings.reactions) {
    // A reaction naming its alarm is looked at in any case: its knob is read with the memory, in one call
    // where the target's description holds its tags. The others need the memory first, to know whether
    // they have a change in place, and read the knob only then.
    const known: Known = (reaction.alarm.name && (await readQuietly(reaction, ports))) || {
      memory: await ports.memory.load(reaction.target),
    };
    // Prefix and tag reactions without a change in place name no alarm to look at.
    const alarmName = known.memory.records[reaction.id]?.alarm ?? reaction.alarm.name;
    if (alarmName) due.push({ reaction, alarmName, alarm: await describe(alarmName), known });
  }
  return runReactions(due, ports, settings);
}

/**
 * The knob with the memory, or undefined when the knob cannot be read: then the reaction's own look reads it
 * again and fails there, as a failure of that reaction (journaled, retried or not by its kind), never of the
 * whole sweep.
 */
async function readQuietly(reaction: Reaction, ports: AlarmReactorPorts): Promise<TargetReading | undefined> {
  try {
    return await ports.targets.read(knobOf(reaction));
  } catch {
    return undefined;
  }
}

async function runReactions(
  items: Due[],
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<AlarmOutcome> {
  const decisions: ReactionDecision['kind'][] = [];
  const failures: ActionsFailedError['failures'] = [];
  // One after another: two reactions on one target must each see the other's change.
  for (const [index, { reaction, alarmName, alarm, known }] of items.entries()) {
    // What the sweep already read is still current unless an earlier reaction looked at that target.
    const fresh = items
      .slice(0, index)
      .some((d) => targetKey(d.reaction.target) === targetKey(reaction.target));
    try {
      decisions.push(
        await runReaction(
          reaction,
          alarmName,
          alarm?.state ?? 'missing',
          ports,
          settings,
          fresh ? undefined : known,
        ),
      );
    } catch (error) {
      const message = `${(error as Error).name}: ${(error as Error).message}`;
      const decided = (error as { decision?: string }).decision;
      record(ports, settings, reaction, alarmName, 'failed', decided ?? 'look', message);
      if (PERMANENT_ERRORS.has((error as Error).name)) {
        // Logged and metered as failed, never retried; a change that never happened is not remembered.
        if (decided === 'apply') await forgetQuietly(reaction, ports);
        continue;
      }
      failures.push({ action: reaction.id, target: describeKnob(knobOf(reaction)), error: message });
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
  known?: Known,
): Promise<ReactionDecision['kind']> {
  const knob = knobOf(reaction);
  const { memory, current } = !known
    ? await ports.targets.read(knob)
    : 'current' in known
      ? known
      : { memory: known.memory, current: await ports.scaling.read(knob) };
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
    await carryOut(decision, reaction, alarmName, now, { lastChangeAt: memory.lastChangeAt, current }, ports);
  } catch (error) {
    throw Object.assign(error as Error, { decision: decision.kind });
  }
  record(ports, settings, reaction, alarmName, 'done', decision.kind, explain(decision));
  if (decision.kind !== 'forget') await tellCapacityChange(decision, reaction, alarmName, ports, settings);
  return decision.kind;
}

/**
 * Tells people a knob moved (or went back), and why. The change stands whether or not the message goes
 * out: a failed message is journaled, never retried with the change (which would count it twice).
 */
async function tellCapacityChange(
  decision: Extract<ReactionDecision, { kind: 'apply' | 'restore' }>,
  reaction: Reaction,
  alarmName: string,
  ports: AlarmReactorPorts,
  settings: AlarmReactorSettings,
): Promise<void> {
  const knob = knobOf(reaction);
  const target =
    reaction.target.kind === 'auto-scaling-group' ? reaction.target.name : reaction.target.service;
  const applied = decision.kind === 'apply';
  const from = describeValue(applied ? decision.before : decision.set);
  const expires = reaction.expireAfterSeconds;
  const comesBack =
    reaction.onOk === 'restore'
      ? ` It goes back when ${alarmName} returns to OK${expires ? `, or after ${expires} s` : ''}.`
      : expires
        ? ` It goes back after ${expires} s.`
        : '';
  await ports.notifier
    .notify({
      subject: `ecs-reflex: ${describeKnob(knob)} ${from} -> ${describeValue(decision.value)} (${applied ? alarmName : 'restored'})`,
      severity: applied ? 'warning' : 'info',
      reflex: ALARM_REFLEX,
      target,
      summary: applied
        ? `${alarmName} is in ALARM: reaction ${reaction.id} set ${describeKnob(knob)} from ${from} to ${describeValue(decision.value)}.${comesBack}`
        : `Reaction ${reaction.id} put ${describeKnob(knob)} back from ${from} to ${describeValue(decision.value)}: ${decision.why}.`,
      steer: [steer.actionsOn(describeKnob(knob))],
      detail: { alarm: alarmName, reaction: reaction.id, knob: describeKnob(knob) },
    })
    .catch((error: unknown) =>
      record(
        ports,
        settings,
        reaction,
        alarmName,
        'failed',
        'notify',
        `notification failed: ${(error as Error).message}`,
      ),
    );
}

async function carryOut(
  decision: Exclude<ReactionDecision, { kind: 'none' | 'hold' }>,
  reaction: Reaction,
  alarmName: string,
  now: Date,
  /** What the look read: the memory's last change, and the knob (written back from that answer). */
  { lastChangeAt, current }: { lastChangeAt: Date | undefined; current: KnobReading | undefined },
  ports: AlarmReactorPorts,
): Promise<void> {
  const knob = knobOf(reaction);
  const save = (record: Parameters<AlarmReactorPorts['memory']['save']>[1]['record'], at: Date) =>
    ports.memory.save(reaction.target, { reactionId: reaction.id, record, lastChangeAt: at });
  switch (decision.kind) {
    case 'apply': {
      // Remember first, as pending: a write that then fails is finished by the retry (the record says
      // what to set); a write before the record could be applied twice ("add 2" on top of the first 2).
      // Once written the record stops being pending, so a person moving the knob back is not undone.
      const at = decision.recordedAt ?? now;
      const done = { alarm: alarmName, before: decision.before, set: decision.value, at };
      await save({ ...done, pending: true }, at);
      await ports.scaling.write(knob, decision.value, current);
      await save(done, at);
      break;
    }
    case 'restore':
      // A restore is never delayed by the cooldown, but it starts one: the next change waits.
      await ports.scaling.write(knob, decision.value, current);
      await save(null, now);
      break;
    case 'forget':
      await save(null, lastChangeAt ?? now);
      break;
  }
}

async function forgetQuietly(reaction: Reaction, ports: AlarmReactorPorts): Promise<void> {
  try {
    const memory = await ports.memory.load(reaction.target);
    if (!memory.records[reaction.id]) return;
    const lastChangeAt = memory.lastChangeAt ?? ports.clock.now();
    await ports.memory.save(reaction.target, { reactionId: reaction.id, record: null, lastChangeAt });
  } catch {
    // The record stays; the next look meets the same permanent error and tries this again.
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
