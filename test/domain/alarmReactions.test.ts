import fc from 'fast-check';
import {
  computeValue,
  decideReaction,
  matchesAlarm,
  type Reaction,
  type ReactionObservation,
  ReactionSchema,
  ReactionsSchema,
} from '#domain/alarmReactions';

const now = new Date('2026-11-02T10:00:00Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);

function reaction(changes: Partial<Reaction> = {}): Reaction {
  return ReactionSchema.parse({
    id: 'surge',
    alarm: { name: 'prod-web-requests-high' },
    target: { kind: 'auto-scaling-group', name: 'prod-asg' },
    action: { kind: 'add-capacity', by: 2 },
    bounds: { min: 2, max: 6 },
    ...changes,
  });
}

function observe(changes: Partial<ReactionObservation> = {}): ReactionObservation {
  return {
    now,
    reaction: reaction(),
    alarmState: 'ALARM',
    alarmName: 'prod-web-requests-high',
    current: { value: 2, limits: { min: 1, max: 10 } },
    memory: { records: {} },
    ...changes,
  };
}

describe('decideReaction', () => {
  it('applies an absolute value computed from the current state', () => {
    // Act
    const decision = decideReaction(observe());

    // Assess
    expect(decision).toEqual({ kind: 'apply', value: 4, before: 2 });
  });

  it('never leaves the reaction bounds or the group limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: -5, max: 5 }).filter((n) => n !== 0),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        (current, by, a, b) => {
          const bounds = { min: Math.min(a, b), max: Math.max(a, b) };
          const value = computeValue(reaction({ action: { kind: 'add-capacity', by }, bounds }), {
            value: current,
            limits: { min: 1, max: 8 },
          }) as number;
          expect(value).toBeLessThanOrEqual(8);
          expect(value).toBeGreaterThanOrEqual(1);
          if (bounds.max >= 1 && bounds.min <= 8) {
            expect(value).toBeLessThanOrEqual(Math.max(bounds.max, 1));
          }
        },
      ),
    );
  });

  it('holds when the bound is reached, saying so', () => {
    // Act
    const decision = decideReaction(observe({ current: { value: 6, limits: { min: 1, max: 10 } } }));

    // Assess
    expect(decision).toEqual({ kind: 'hold', why: expect.stringContaining('bound reached') });
  });

  it('holds inside the cooldown of the target', () => {
    // Act
    const decision = decideReaction(observe({ memory: { records: {}, lastChangeAt: secondsAgo(60) } }));

    // Assess
    expect(decision).toEqual({ kind: 'hold', why: expect.stringContaining('cooldown') });
  });

  it('does nothing for a duplicate ALARM once the change is in place', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(30) };

    // Act
    const decision = decideReaction(
      observe({ current: { value: 4 }, memory: { records: { surge: record }, lastChangeAt: record.at } }),
    );

    // Assess
    expect(decision.kind).toBe('none');
  });

  it('finishes a change whose record was written but whose write failed, keeping its time', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(30), pending: true };

    // Act
    const decision = decideReaction(
      observe({ memory: { records: { surge: record }, lastChangeAt: record.at } }),
    );

    // Assess
    expect(decision).toEqual({ kind: 'apply', value: 4, before: 2, recordedAt: record.at });
  });

  it('does not fight a person who moved the knob back during the alarm', () => {
    // Prepare: the change was written (not pending); someone set desired back to 2
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(300) };

    // Act
    const decision = decideReaction(
      observe({ memory: { records: { surge: record }, lastChangeAt: record.at } }),
    );

    // Assess
    expect(decision.kind).toBe('none');
  });

  it('leaves a change made for one alarm alone when another alarm of the reaction goes OK', () => {
    // Prepare: a prefix reaction; the change was made for ...-requests-high, ...-5xx went OK
    const prefixed = reaction({ alarm: { prefix: 'prod-web-' } });
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(300) };

    // Act
    const decision = decideReaction(
      observe({
        reaction: prefixed,
        alarmName: 'prod-web-5xx',
        alarmState: 'OK',
        current: { value: 4 },
        memory: { records: { surge: record } },
      }),
    );

    // Assess
    expect(decision).toEqual({ kind: 'none', why: expect.stringContaining('prod-web-requests-high') });
  });

  it('never removes capacity to add capacity: above the bound is a hold, not a cut', () => {
    // Act
    const decision = decideReaction(observe({ current: { value: 8, limits: { min: 1, max: 10 } } }));

    // Assess
    expect(decision).toEqual({ kind: 'hold', why: expect.stringContaining('bound reached') });
  });

  it('undoes the change of an alarm that no longer exists', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(300) };

    // Act
    const decision = decideReaction(
      observe({ alarmState: 'missing', current: { value: 4 }, memory: { records: { surge: record } } }),
    );

    // Assess
    expect(decision).toMatchObject({ kind: 'restore', value: 2 });
  });

  it('restores the value from before when the alarm is OK', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(600) };

    // Act
    const decision = decideReaction(
      observe({ alarmState: 'OK', current: { value: 4 }, memory: { records: { surge: record } } }),
    );

    // Assess
    expect(decision).toEqual({ kind: 'restore', value: 2, set: 4, why: expect.stringContaining('is OK') });
  });

  it('leaves a value a person changed since, and forgets its own change', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(600) };

    // Act
    const decision = decideReaction(
      observe({ alarmState: 'OK', current: { value: 5 }, memory: { records: { surge: record } } }),
    );

    // Assess
    expect(decision).toEqual({ kind: 'forget', why: expect.stringContaining('left as it is') });
  });

  it('restores after the expiry even while the alarm is still in ALARM', () => {
    // Prepare
    const expiring = reaction({ expireAfterSeconds: 900 });
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(901) };

    // Act
    const decision = decideReaction(
      observe({ reaction: expiring, current: { value: 4 }, memory: { records: { surge: record } } }),
    );

    // Assess
    expect(decision).toEqual(
      expect.objectContaining({ kind: 'restore', value: 2, why: expect.stringContaining('expired') }),
    );
  });

  it('treats INSUFFICIENT_DATA as neither ALARM nor OK', () => {
    // Prepare
    const record = { alarm: 'prod-web-requests-high', before: 2, set: 4, at: secondsAgo(60) };

    // Act
    const fresh = decideReaction(observe({ alarmState: 'INSUFFICIENT_DATA' }));
    const applied = decideReaction(
      observe({
        alarmState: 'INSUFFICIENT_DATA',
        current: { value: 4 },
        memory: { records: { surge: record } },
      }),
    );

    // Assess
    expect(fresh.kind).toBe('none');
    expect(applied.kind).toBe('none');
  });

  it('holds when the knob does not exist', () => {
    // Act
    const decision = decideReaction(observe({ current: undefined }));

    // Assess
    expect(decision).toEqual({ kind: 'hold', why: expect.stringContaining('not found') });
  });

  it('sets target values, step adjustments, scale-in and capacity ranges as absolute values', () => {
    // Prepare
    const steps = [
      { lower: 0, upper: 10, adjustment: 1 },
      { lower: 10, adjustment: 3 },
    ];

    // Act
    const target = computeValue(
      reaction({ action: { kind: 'set-target-value', policy: 'cpu', value: 40 }, bounds: undefined }),
      { value: 60 },
    );
    const stepValue = computeValue(
      reaction({ action: { kind: 'set-step-adjustments', policy: 'steps', steps } }),
      { value: [] },
    );
    const scaleIn = computeValue(reaction({ action: { kind: 'suspend-scale-in', policy: 'cpu' } }), {
      value: true,
    });
    const range = computeValue(
      reaction({
        target: { kind: 'ecs-service', cluster: 'prod', service: 'web' },
        action: { kind: 'set-capacity-range', min: 4, max: 20 },
        bounds: { min: 2, max: 12 },
      }),
      { value: { min: 2, max: 8 } },
    );

    // Assess
    expect(target).toBe(40);
    expect(stepValue).toEqual(steps);
    expect(scaleIn).toBe(false);
    expect(range).toEqual({ min: 4, max: 12 });
  });
});

describe('reaction configuration', () => {
  it('matches alarms by name, prefix or tag', () => {
    // Act + Assess
    expect(matchesAlarm(reaction(), 'prod-web-requests-high', {})).toBe(true);
    expect(matchesAlarm(reaction({ alarm: { prefix: 'prod-web-' } }), 'prod-web-latency', {})).toBe(true);
    expect(
      matchesAlarm(reaction({ alarm: { tag: { key: 'reflex', value: 'scale' } } }), 'x', { reflex: 'scale' }),
    ).toBe(true);
    expect(
      matchesAlarm(reaction({ alarm: { tag: { key: 'reflex', value: 'scale' } } }), 'x', { reflex: 'other' }),
    ).toBe(false);
  });

  it.each([
    [{ id: 'has spaces' }, 'id'],
    [{ alarm: { name: 'a', prefix: 'b' } }, 'alarm'],
    [{ action: { kind: 'add-capacity', by: 0 } }, 'action'],
    [{ action: { kind: 'set-capacity-range', min: 1, max: 3 } }, 'action'],
    [
      {
        target: { kind: 'ecs-service', cluster: 'prod', service: 'web' },
        action: { kind: 'suspend-scale-in', policy: 'p' },
      },
      'action',
    ],
    [{ bounds: { min: 5, max: 2 } }, 'bounds'],
    [{ unknown: true }, ''],
  ])('rejects %j', (changes, field) => {
    // Act
    const parsed = ReactionSchema.safeParse({ ...reaction(), ...changes });

    // Assess
    expect(parsed.success).toBe(false);
    if (field)
      expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContainEqual(
        expect.stringContaining(field),
      );
  });

  it('refuses two reactions on the same knob: each would take the other for a person', () => {
    // Act
    const parsed = ReactionsSchema.safeParse([reaction(), { ...reaction(), id: 'other' }]);

    // Assess
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toContain('same knob');
  });

  it('refuses two reactions with the same id: each names a tag on its target', () => {
    // Act
    const parsed = ReactionsSchema.safeParse([reaction(), reaction()]);

    // Assess
    expect(parsed.success).toBe(false);
  });
});
