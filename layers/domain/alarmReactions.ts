// The alarm reactor's decisions. An alarm maps to reactions; a reaction turns one scaling knob to an
// absolute value while its alarm is in ALARM, and puts the knob back when the alarm is OK again (or
// after an expiry), unless a person moved the knob in between. Pure: the current alarm state, the
// knob's current value and what the reactor remembers come in, one decision comes out.
import * as z from 'zod';

// --- configuration -----------------------------------------------------------------------------------

const StepSchema = z.strictObject({
  lower: z.number().optional(),
  upper: z.number().optional(),
  adjustment: z.number().int(),
});
export type StepAdjustment = z.infer<typeof StepSchema>;

const TargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('auto-scaling-group'), name: z.string().min(1) }),
  z.strictObject({ kind: z.literal('ecs-service'), cluster: z.string().min(1), service: z.string().min(1) }),
]);
export type ScalingTarget = z.infer<typeof TargetSchema>;

const ActionSchema = z.discriminatedUnion('kind', [
  /** ASG desired capacity, or an ECS service's desired count (services without a scaling policy). */
  z.strictObject({
    kind: z.literal('add-capacity'),
    by: z
      .number()
      .int()
      .refine((n) => n !== 0, 'by must not be 0'),
  }),
  /** A target-tracking policy's target value (ASG policy, or the service's Application Auto Scaling policy). */
  z.strictObject({
    kind: z.literal('set-target-value'),
    policy: z.string().min(1),
    value: z.number().positive(),
  }),
  /** An ASG step-scaling policy's step adjustments. */
  z.strictObject({
    kind: z.literal('set-step-adjustments'),
    policy: z.string().min(1),
    steps: z.array(StepSchema).min(1).max(4),
  }),
  /** Stop a target-tracking policy from scaling in while the alarm lasts. */
  z.strictObject({ kind: z.literal('suspend-scale-in'), policy: z.string().min(1) }),
  /** An ECS service's Application Auto Scaling min and max capacity. */
  z.strictObject({
    kind: z.literal('set-capacity-range'),
    min: z.number().int().min(0),
    max: z.number().int().min(0),
  }),
]);
export type ReactionAction = z.infer<typeof ActionSchema>;

export const ReactionSchema = z
  .strictObject({
    /** Short and stable: it names what the reactor remembers on the target (a tag key). */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, - and _, at most 40'),
    alarm: z
      .strictObject({
        name: z.string().min(1).optional(),
        prefix: z.string().min(1).optional(),
        tag: z.strictObject({ key: z.string().min(1), value: z.string().optional() }).optional(),
      })
      .refine(
        (a) => [a.name, a.prefix, a.tag].filter(Boolean).length === 1,
        'name exactly one of name, prefix, tag',
      ),
    target: TargetSchema,
    action: ActionSchema,
    /** The knob never leaves these bounds, whatever the action computes. */
    bounds: z.strictObject({ min: z.number(), max: z.number() }).optional(),
    cooldownSeconds: z.number().int().min(0).max(86_400).default(300),
    onOk: z.enum(['restore', 'keep']).default('restore'),
    /** Put the knob back after this long even if the alarm is still in ALARM. */
    expireAfterSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional(),
  })
  .superRefine((r, ctx) => {
    const serviceOnly = r.action.kind === 'set-capacity-range';
    const asgOnly = r.action.kind === 'set-step-adjustments' || r.action.kind === 'suspend-scale-in';
    if (serviceOnly && r.target.kind !== 'ecs-service') {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `${r.action.kind} applies to ecs-service targets`,
      });
    }
    if (asgOnly && r.target.kind !== 'auto-scaling-group') {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `${r.action.kind} applies to auto-scaling-group targets`,
      });
    }
    if (r.bounds && r.bounds.min > r.bounds.max)
      ctx.addIssue({ code: 'custom', path: ['bounds'], message: 'min > max' });
    if (r.action.kind === 'set-capacity-range' && r.action.min > r.action.max) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: 'min > max' });
    }
  });
export type Reaction = z.infer<typeof ReactionSchema>;

export const ReactionsSchema = z.array(ReactionSchema).superRefine((reactions, ctx) => {
  const ids = reactions.map((r) => r.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) ctx.addIssue({ code: 'custom', message: `reaction id ${twice} is used twice` });
  // Two reactions on one knob would each take the other's change for a person's and restore wrongly.
  const knobs = reactions.map((r) => JSON.stringify(knobOf(r)));
  const shared = knobs.findIndex((k, i) => knobs.indexOf(k) !== i);
  if (shared >= 0) {
    const first = reactions[knobs.indexOf(knobs[shared]!)]!.id;
    ctx.addIssue({
      code: 'custom',
      message: `reactions ${first} and ${reactions[shared]!.id} turn the same knob; combine their alarms in a composite alarm`,
    });
  }
});

// --- knobs ---------------------------------------------------------------------------------------------

/** The one setting a reaction turns. */
export type Setting =
  | { kind: 'desired' }
  | { kind: 'target-value'; policy: string }
  | { kind: 'step-adjustments'; policy: string }
  | { kind: 'scale-in'; policy: string }
  | { kind: 'capacity-range' };

export interface Knob {
  target: ScalingTarget;
  setting: Setting;
}

export type CapacityRange = { min: number; max: number };
export type KnobValue = number | boolean | StepAdjustment[] | CapacityRange;

export interface KnobReading {
  value: KnobValue;
  /** The target's own limits on this value (an ASG's min and max for its desired capacity). */
  limits?: CapacityRange;
}

export function knobOf(reaction: Reaction): Knob {
  const { action, target } = reaction;
  switch (action.kind) {
    case 'add-capacity':
      return { target, setting: { kind: 'desired' } };
    case 'set-target-value':
      return { target, setting: { kind: 'target-value', policy: action.policy } };
    case 'set-step-adjustments':
      return { target, setting: { kind: 'step-adjustments', policy: action.policy } };
    case 'suspend-scale-in':
      return { target, setting: { kind: 'scale-in', policy: action.policy } };
    case 'set-capacity-range':
      return { target, setting: { kind: 'capacity-range' } };
  }
}

export const targetKey = (target: ScalingTarget): string =>
  target.kind === 'auto-scaling-group' ? `asg/${target.name}` : `service/${target.cluster}/${target.service}`;

export function sameValue(a: KnobValue, b: KnobValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function describeValue(value: KnobValue): string {
  if (typeof value === 'boolean') return value ? 'scale-in enabled' : 'scale-in suspended';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value))
    return value.map((s) => `[${s.lower ?? '-inf'},${s.upper ?? '+inf'}):${s.adjustment}`).join(' ');
  return `${value.min}..${value.max}`;
}

// --- what the reactor remembers ---------------------------------------------------------------------------

/** What was there before a change, and what the change set: enough to undo it, or to see it was overridden. */
export interface ReactionRecord {
  alarm: string;
  before: KnobValue;
  set: KnobValue;
  at: Date;
  /** Recorded, not yet written: only a pending change is finished when the knob still shows `before`. */
  pending?: boolean;
}

export interface TargetMemory {
  records: Record<string, ReactionRecord>;
  lastChangeAt?: Date;
}

// --- the decision ------------------------------------------------------------------------------------------

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface ReactionObservation {
  now: Date;
  reaction: Reaction;
  /** The alarm's state now (read from CloudWatch, not taken from the event, which may be stale). */
  alarmState: AlarmState | 'missing';
  alarmName: string;
  /** undefined: the target or its policy does not exist. */
  current?: KnobReading;
  memory: TargetMemory;
}

export type ReactionDecision =
  | { kind: 'apply'; value: KnobValue; before: KnobValue; recordedAt?: Date }
  | { kind: 'restore'; value: KnobValue; set: KnobValue; why: string }
  | { kind: 'forget'; why: string }
  | { kind: 'hold'; why: string }
  | { kind: 'none'; why: string };

export function decideReaction(obs: ReactionObservation): ReactionDecision {
  const { reaction, current, memory, now } = obs;
  const record = memory.records[reaction.id];
  if (!current) return { kind: 'hold', why: `${describeKnob(knobOf(reaction))} not found` };
  // A change belongs to the alarm that caused it: another alarm of a prefix or tag reaction neither
  // undoes it nor adds to it.
  if (record && record.alarm !== obs.alarmName)
    return { kind: 'none', why: `change in place for ${record.alarm}` };

  const expired =
    record &&
    reaction.expireAfterSeconds !== undefined &&
    secondsSince(record.at, now) >= reaction.expireAfterSeconds;
  // A deleted alarm will never say OK: its change is undone as if it had.
  const over = obs.alarmState === 'OK' || obs.alarmState === 'missing';
  if (record && (over || expired)) {
    const why = expired
      ? `expired after ${reaction.expireAfterSeconds}s`
      : `${obs.alarmName} is ${obs.alarmState}`;
    if (sameValue(current.value, record.before)) {
      return { kind: 'forget', why: `already back at ${describeValue(record.before)}` };
    }
    // A person (or another system) moved the knob after us: theirs is the newer decision.
    if (!sameValue(current.value, record.set)) {
      return {
        kind: 'forget',
        why: `changed since to ${describeValue(current.value)}; left as it is (${why})`,
      };
    }
    if (reaction.onOk === 'keep' && !expired) return { kind: 'forget', why: `${why}; onOk is keep` };
    return { kind: 'restore', value: record.before, set: record.set, why };
  }

  if (obs.alarmState !== 'ALARM') {
    return {
      kind: 'none',
      why: `${obs.alarmName} is ${obs.alarmState}${record ? ', change still in place' : ''}`,
    };
  }
  if (record?.pending && sameValue(current.value, record.before)) {
    // Recorded, then the write failed: finish it, keeping the record's time (expiry, cooldown).
    return { kind: 'apply', value: record.set, before: record.before, recordedAt: record.at };
  }
  if (record) return { kind: 'none', why: 'already applied for this alarm' };
  if (memory.lastChangeAt && secondsSince(memory.lastChangeAt, now) < reaction.cooldownSeconds) {
    const left = Math.ceil(reaction.cooldownSeconds - secondsSince(memory.lastChangeAt, now));
    return { kind: 'hold', why: `cooldown: ${targetKey(reaction.target)} changed ${left}s too recently` };
  }
  const wanted = computeValue(reaction, current);
  const { action } = reaction;
  // Bounds can pull a value the wrong way (desired 8, max 6): an "add" must never remove.
  const backwards =
    action.kind === 'add-capacity' &&
    (action.by > 0
      ? (wanted as number) <= (current.value as number)
      : (wanted as number) >= (current.value as number));
  if (sameValue(wanted, current.value) || backwards) {
    return {
      kind: 'hold',
      why: `bound reached: ${describeKnob(knobOf(reaction))} at ${describeValue(current.value)}, bounds allow ${describeValue(wanted)}`,
    };
  }
  return { kind: 'apply', value: wanted, before: current.value };
}

/** Absolute values from the current state: a duplicate ALARM computes the same value, never "+2 again". */
export function computeValue(reaction: Reaction, current: KnobReading): KnobValue {
  const { action, bounds } = reaction;
  const clamp = (n: number) => {
    let value = n;
    if (bounds) value = Math.min(bounds.max, Math.max(bounds.min, value));
    if (current.limits) value = Math.min(current.limits.max, Math.max(current.limits.min, value));
    return value;
  };
  switch (action.kind) {
    case 'add-capacity':
      return clamp((current.value as number) + action.by);
    case 'set-target-value':
      return clamp(action.value);
    case 'set-step-adjustments':
      return action.steps;
    case 'suspend-scale-in':
      return false;
    case 'set-capacity-range': {
      const min = bounds ? Math.min(bounds.max, Math.max(bounds.min, action.min)) : action.min;
      const max = bounds ? Math.min(bounds.max, Math.max(bounds.min, action.max)) : action.max;
      return { min, max };
    }
  }
}

export function describeKnob(knob: Knob): string {
  const where = targetKey(knob.target);
  const s = knob.setting;
  switch (s.kind) {
    case 'desired':
      return `${where} desired`;
    case 'capacity-range':
      return `${where} capacity range`;
    default:
      return `${where} policy ${s.policy} ${s.kind}`;
  }
}

export function matchesAlarm(
  reaction: Reaction,
  alarmName: string,
  alarmTags: Record<string, string>,
): boolean {
  const { name, prefix, tag } = reaction.alarm;
  if (name) return alarmName === name;
  if (prefix) return alarmName.startsWith(prefix);
  if (tag) return tag.key in alarmTags && (tag.value === undefined || alarmTags[tag.key] === tag.value);
  return false;
}

const secondsSince = (then: Date, now: Date) => (now.getTime() - then.getTime()) / 1000;
