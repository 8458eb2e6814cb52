// The EC2 Auto Scaling ports' contract: what the instance lifecycle (LifecycleActions) and the alarm
// reactor (ScalingControls, ReactionMemoryStore on a group) rely on Auto Scaling to do, checked on a group
// that can hold no instance (min = max = desired = 0: nothing launches, nothing costs), with two
// terminate hooks, a target tracking policy and a step policy.
//
// Lifecycle actions themselves need an instance that launches or terminates: only the answers for actions
// that are not there are checked (which is what a retried or late completion meets). The knobs of an ECS
// service (desired count, Application Auto Scaling range and target value) need a service and a scalable
// target; the adapter's unit tests cover them.

import type { Knob, ReactionRecord, ScalingTarget } from '#domain/alarmReactions';
import type { LifecycleActions, ReactionMemoryStore, ScalingControls } from '#ports';
import type { Eventually } from './harness';

export interface AutoScalingWorld {
  /** MinSize 0, MaxSize 0, DesiredCapacity 0. */
  group: string;
  /** A terminate hook with HeartbeatTimeout 300 and DefaultResult CONTINUE. */
  hook: string;
  /** A terminate hook created without a heartbeat timeout or a default result. */
  defaultsHook: string;
  /** Target tracking on the group's average CPU, target value 50, scale-in on. */
  trackingPolicy: string;
  /** Step scaling, ChangeInCapacity, one step: +1 from 0 up. */
  stepPolicy: string;
}

export interface AutoScalingHarness {
  lifecycle: LifecycleActions;
  scaling: ScalingControls;
  memory: ReactionMemoryStore;
  eventually: Eventually;
  given(): Promise<AutoScalingWorld>;
}

/** Well-formed, and no action of this group ever had them. */
const NO_SUCH_TOKEN = '0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1';
const NO_SUCH_INSTANCE = 'i-0123456789abcdef0';

export function autoScalingContract(harness: () => AutoScalingHarness): void {
  let asg: AutoScalingHarness;
  let world: AutoScalingWorld;
  let group: ScalingTarget;
  const knob = (setting: Knob['setting']): Knob => ({ target: group, setting });

  beforeAll(async () => {
    asg = harness();
    world = await asg.given();
    group = { kind: 'auto-scaling-group', name: world.group };
  });

  describe('LifecycleActions', () => {
    it("reads the hook's heartbeat timeout and default result; no capacity provider drains the group", async () => {
      // Act
      const settings = await asg.eventually(
        () => asg.lifecycle.hookSettings(world.group, world.hook),
        (s) => s !== undefined,
      );

      // Assess
      expect(settings).toEqual({
        heartbeatTimeoutSeconds: 300,
        defaultResult: 'CONTINUE',
        managedDraining: false,
      });
    });

    it("reads Auto Scaling's defaults for a hook created without them: an hour, ABANDON", async () => {
      // Act
      const settings = await asg.eventually(
        () => asg.lifecycle.hookSettings(world.group, world.defaultsHook),
        (s) => s !== undefined,
      );

      // Assess
      expect(settings).toEqual({
        heartbeatTimeoutSeconds: 3600,
        defaultResult: 'ABANDON',
        managedDraining: false,
      });
    });

    it('answers undefined for a hook or a group that does not exist', async () => {
      // Act
      const missingHook = await asg.lifecycle.hookSettings(world.group, `${world.hook}-missing`);
      const missingGroup = await asg.lifecycle.hookSettings(`${world.group}-missing`, world.hook);

      // Assess
      expect([missingHook, missingGroup]).toEqual([undefined, undefined]);
    });

    it('completes an action that is not there (completed already, or timed out) without an error', async () => {
      // Act
      const completing = asg.lifecycle.complete(
        { groupName: world.group, hookName: world.hook, instanceId: NO_SUCH_INSTANCE, token: NO_SUCH_TOKEN },
        'CONTINUE',
      );

      // Assess
      await expect(completing).resolves.toBeUndefined();
    });

    it('fails a heartbeat for an action that is not there with LifecycleActionNotFound', async () => {
      // Act
      const beating = asg.lifecycle.heartbeat({
        groupName: world.group,
        hookName: world.hook,
        instanceId: NO_SUCH_INSTANCE,
        token: NO_SUCH_TOKEN,
      });

      // Assess
      await expect(beating).rejects.toMatchObject({ name: 'LifecycleActionNotFound' });
    });

    it('knows no lifecycle state for an instance the group does not hold, nor for a group that does not exist', async () => {
      // Act: neither in the group nor in its warm pool; then a group that is not there at all
      const notHeld = await asg.lifecycle.lifecycleState(world.group, NO_SUCH_INSTANCE);
      const noGroup = await asg.lifecycle.lifecycleState(`${world.group}-missing`, NO_SUCH_INSTANCE);

      // Assess: a message naming either is about no pending action
      expect([notHeld, noGroup]).toEqual([undefined, undefined]);
    });
  });

  describe('ScalingControls on an Auto Scaling group', () => {
    it('reads the desired capacity with the limits of the group', async () => {
      // Act
      const reading = await asg.scaling.read(knob({ kind: 'desired' }));

      // Assess
      expect(reading).toEqual({ value: 0, limits: { min: 0, max: 0 } });
    });

    it('writes the desired capacity the group has as a no-op', async () => {
      // Act
      await asg.scaling.write(knob({ kind: 'desired' }), 0);
      const reading = await asg.scaling.read(knob({ kind: 'desired' }));

      // Assess
      expect(reading?.value).toBe(0);
    });

    it('refuses a desired capacity above the maximum with ValidationError', async () => {
      // Act
      const writing = asg.scaling.write(knob({ kind: 'desired' }), 1);

      // Assess
      await expect(writing).rejects.toMatchObject({ name: 'ValidationError' });
    });

    it("writes a target tracking policy's target value and scale-in, and writing them again changes nothing", async () => {
      // Prepare
      const targetValue = knob({ kind: 'target-value', policy: world.trackingPolicy });
      const scaleIn = knob({ kind: 'scale-in', policy: world.trackingPolicy });
      const before = await asg.eventually(
        () => asg.scaling.read(targetValue),
        (r) => r !== undefined,
      );

      // Act
      await asg.scaling.write(targetValue, 60);
      await asg.scaling.write(scaleIn, false);
      await asg.scaling.write(targetValue, 60);
      const after = await asg.eventually(
        () => Promise.all([asg.scaling.read(targetValue), asg.scaling.read(scaleIn)]),
        ([value, scale]) => value?.value === 60 && scale?.value === false,
      );

      // Assess
      expect(before).toEqual({ value: 50 });
      expect(after).toEqual([{ value: 60 }, { value: false }]);
    });

    it("writes a step policy's adjustments", async () => {
      // Prepare
      const steps = knob({ kind: 'step-adjustments', policy: world.stepPolicy });
      const before = await asg.eventually(
        () => asg.scaling.read(steps),
        (r) => r !== undefined,
      );
      const wanted = [
        { lower: 0, upper: 10, adjustment: 1 },
        { lower: 10, adjustment: 2 },
      ];

      // Act
      await asg.scaling.write(steps, wanted);
      const after = await asg.eventually(
        () => asg.scaling.read(steps),
        (r) => JSON.stringify(r?.value) === JSON.stringify(wanted),
      );

      // Assess
      expect(before).toEqual({ value: [{ lower: 0, adjustment: 1 }] });
      expect(after).toEqual({ value: wanted });
    });

    it('answers undefined for a group or policy that does not exist, and for a setting the policy type lacks', async () => {
      // Act
      const readings = await Promise.all([
        asg.scaling.read({
          target: { kind: 'auto-scaling-group', name: `${world.group}-missing` },
          setting: { kind: 'desired' },
        }),
        asg.scaling.read(knob({ kind: 'target-value', policy: `${world.trackingPolicy}-missing` })),
        asg.scaling.read(knob({ kind: 'target-value', policy: world.stepPolicy })),
        asg.scaling.read(knob({ kind: 'step-adjustments', policy: world.trackingPolicy })),
      ]);

      // Assess
      expect(readings).toEqual([undefined, undefined, undefined, undefined]);
    });

    it('refuses to write a policy that does not exist (ScalingKnobNotFound) or a setting its type lacks (UnsupportedKnob)', async () => {
      // Act / Assess (one at a time: a rejection nobody awaits yet is an unhandled one)
      await expect(
        asg.scaling.write(knob({ kind: 'target-value', policy: `${world.trackingPolicy}-missing` }), 60),
      ).rejects.toMatchObject({ name: 'ScalingKnobNotFound' });
      await expect(
        asg.scaling.write(knob({ kind: 'target-value', policy: world.stepPolicy }), 60),
      ).rejects.toMatchObject({ name: 'UnsupportedKnob' });
    });

    it('has no capacity-range knob on a group: UnsupportedKnob', async () => {
      // Act
      const reading = asg.scaling.read(knob({ kind: 'capacity-range' }));

      // Assess
      await expect(reading).rejects.toMatchObject({ name: 'UnsupportedKnob' });
    });
  });

  describe('ReactionMemoryStore on an Auto Scaling group', () => {
    const record: ReactionRecord = {
      alarm: 'web latency > 2 s (p99)',
      before: [{ lower: 0, adjustment: 1 }],
      set: [
        { lower: 0, upper: 10, adjustment: 1 },
        { lower: 10, adjustment: 2 },
      ],
      at: new Date('2026-11-02T09:00:00.123Z'),
      pending: true,
    };

    it('remembers nothing about a group it never changed, nor about a group that does not exist', async () => {
      // Act
      const fresh = await asg.memory.load(group);
      const missing = await asg.memory.load({ kind: 'auto-scaling-group', name: `${world.group}-missing` });

      // Assess
      expect([fresh, missing]).toEqual([{ records: {} }, { records: {} }]);
    });

    it('loads the record and the last change it saved', async () => {
      // Prepare
      const lastChangeAt = new Date('2026-11-02T09:00:01.000Z');

      // Act
      await asg.memory.save(group, { reactionId: 'contract-steps', record, lastChangeAt });
      const memory = await asg.eventually(
        () => asg.memory.load(group),
        (m) => m.records['contract-steps'] !== undefined,
      );

      // Assess
      expect(memory).toEqual({ records: { 'contract-steps': record }, lastChangeAt });
    });

    it('forgets a record saved as null and keeps the new last change', async () => {
      // Prepare
      const lastChangeAt = new Date('2026-11-02T09:10:00.000Z');
      await asg.memory.save(group, { reactionId: 'contract-forget', record, lastChangeAt });
      await asg.eventually(
        () => asg.memory.load(group),
        (m) => m.records['contract-forget'] !== undefined,
      );

      // Act
      await asg.memory.save(group, { reactionId: 'contract-forget', record: null, lastChangeAt });
      const memory = await asg.eventually(
        () => asg.memory.load(group),
        (m) => m.records['contract-forget'] === undefined,
      );

      // Assess
      expect(memory.records['contract-forget']).toBeUndefined();
      expect(memory.lastChangeAt).toEqual(lastChangeAt);
    });
  });
}
