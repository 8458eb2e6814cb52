// The alarm reactor's ports over the twin: alarms from the twin's CloudWatch, knobs on the twin's Auto
// Scaling groups, Application Auto Scaling targets and ECS services, and the reactor's memory kept on
// the target (as the AWS adapter keeps it in tags). Every call is recorded and can fail like AWS does.
import { isDeepStrictEqual } from 'node:util';
import { ScalingKnobNotFound, UnsupportedKnob } from '#adapters/aws/scalingControls';
import {
  describeKnob,
  type Knob,
  type KnobReading,
  type KnobValue,
  type ReactionRecord,
  type StepAdjustment,
  type TargetMemory,
} from '#domain/alarmReactions';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import type { TwinScaling } from '#local/twin/scaling';
import type { World } from '#local/twin/world';
import type { ActionJournal, AlarmReactorPorts, DeadLetters } from '#ports';

type Call = RecordedCall;

export function twinAlarmReactorPorts(
  world: World,
  scaling: TwinScaling,
  call: Call,
  journal: ActionJournal,
  deadLetters: DeadLetters,
): Omit<AlarmReactorPorts, 'alarms'> {
  /** Per target: the records and the last change, as the AWS adapter keeps them in the target's tags. */
  const memories = new Map<string, TargetMemory>();
  const keyOf = (target: { kind: string; name?: string; cluster?: string; service?: string }) =>
    target.kind === 'auto-scaling-group'
      ? `asg/${target.name}`
      : `service/${target.cluster}/${target.service}`;

  return {
    scaling: {
      async read(knob): Promise<KnobReading | undefined> {
        const { target, setting } = knob;
        if (target.kind === 'auto-scaling-group') {
          call(
            setting.kind === 'desired' ? 'DescribeAutoScalingGroups' : 'DescribePolicies',
            target.name,
            false,
          );
          const group = scaling.groups.get(target.name);
          if (!group) return undefined;
          if (setting.kind === 'desired')
            return { value: group.desired, limits: { min: group.min, max: group.max } };
          if (setting.kind === 'capacity-range') throw noCapacityRange(knob);
          const policy = group.policies.get(setting.policy);
          if (!policy) return undefined;
          if (setting.kind === 'step-adjustments') {
            return policy.type === 'StepScaling' ? { value: policy.steps.map((s) => ({ ...s })) } : undefined;
          }
          if (policy.type !== 'TargetTrackingScaling') return undefined;
          return setting.kind === 'target-value'
            ? { value: policy.targetValue }
            : { value: !policy.disableScaleIn };
        }
        const where = `${target.cluster}/${target.service}`;
        if (setting.kind === 'desired') {
          // As the adapter: a service under Application Auto Scaling has no desired-count knob to turn.
          call('DescribeScalableTargets', where, false);
          if (scaling.serviceScaling(target.cluster, target.service)) return undefined;
          call('DescribeServices', where, false);
          const service = world.service(target.cluster, target.service);
          return service ? { value: service.desiredCount } : undefined;
        }
        const scalable = scaling.serviceScaling(target.cluster, target.service);
        if (setting.kind === 'capacity-range') {
          call('DescribeScalableTargets', where, false);
          return scalable ? { value: { min: scalable.min, max: scalable.max } } : undefined;
        }
        if (setting.kind !== 'target-value') return undefined;
        call('DescribeScalingPolicies', where, false);
        const policy = scalable?.policies.get(setting.policy);
        return policy ? { value: policy.targetValue } : undefined;
      },

      async write(knob, value: KnobValue) {
        const { target, setting } = knob;
        if (target.kind === 'auto-scaling-group') {
          if (setting.kind === 'desired') {
            call('SetDesiredCapacity', `${target.name} desired=${value}`, true, () =>
              scaling.setDesiredCapacity(target.name, value as number),
            );
            return;
          }
          if (setting.kind === 'capacity-range') throw noCapacityRange(knob);
          // As the adapter: the policy is read first (PutScalingPolicy replaces all of it), only one that is
          // there and has the setting is written, and a value it has already is not written again.
          call('DescribePolicies', `${target.name}/${setting.policy}`, false);
          const policy = scaling.groups.get(target.name)?.policies.get(setting.policy);
          if (!policy) throw new ScalingKnobNotFound(describeKnob(knob));
          const fits = setting.kind === 'step-adjustments' ? 'StepScaling' : 'TargetTrackingScaling';
          if (policy.type !== fits)
            throw new UnsupportedKnob(describeKnob(knob), `a ${policy.type} policy has no ${setting.kind}`);
          const current =
            policy.type === 'StepScaling'
              ? policy.steps
              : setting.kind === 'target-value'
                ? policy.targetValue
                : !policy.disableScaleIn;
          if (isDeepStrictEqual(current, value)) return;
          call('PutScalingPolicy', `${target.name}/${setting.policy} ${JSON.stringify(value)}`, true, () => {
            if (policy.type === 'StepScaling') policy.steps = value as StepAdjustment[];
            else if (setting.kind === 'target-value') policy.targetValue = value as number;
            else policy.disableScaleIn = !(value as boolean);
          });
          return;
        }
        const where = `${target.cluster}/${target.service}`;
        if (setting.kind === 'desired') {
          call('UpdateService', `${where} desiredCount=${value}`, true, () =>
            world.updateService(target.cluster, target.service, { desiredCount: value as number }),
          );
          return;
        }
        const scalable = scaling.serviceScaling(target.cluster, target.service);
        if (setting.kind === 'target-value') {
          // As the adapter: the policy is read first; one that is not there is a missing knob, and a value
          // it has already is not written again.
          call('DescribeScalingPolicies', where, false);
          const policy = scalable?.policies.get(setting.policy);
          if (!policy) throw new ScalingKnobNotFound(describeKnob(knob));
          if (policy.targetValue === value) return;
          call('PutScalingPolicy', `${where}/${setting.policy} ${value}`, true, () => {
            policy.targetValue = value as number;
          });
          return;
        }
        if (!scalable)
          throw Object.assign(new Error('no scalable target'), { name: 'ObjectNotFoundException' });
        if (setting.kind === 'capacity-range') {
          call('RegisterScalableTarget', `${where} ${JSON.stringify(value)}`, true, () => {
            Object.assign(scalable, value as { min: number; max: number });
            // Application Auto Scaling moves the desired count into the new range at once.
            const service = world.service(target.cluster, target.service);
            if (service) {
              const clamped = Math.min(scalable.max, Math.max(scalable.min, service.desiredCount));
              if (clamped !== service.desiredCount)
                world.updateService(target.cluster, target.service, { desiredCount: clamped });
            }
          });
          return;
        }
      },
    },
    memory: {
      async load(target) {
        call(
          target.kind === 'auto-scaling-group' ? 'DescribeTags' : 'DescribeServices',
          keyOf(target),
          false,
        );
        const memory = memories.get(keyOf(target));
        return { records: { ...(memory?.records ?? {}) }, lastChangeAt: memory?.lastChangeAt };
      },
      async save(target, change) {
        // As the adapter: the record and last-change are written together; dropping a record writes
        // last-change, then deletes the record's tag.
        const asg = target.kind === 'auto-scaling-group';
        // The memory changes with the last of the writes, as before a fault could let one take effect.
        const remember = () => {
          const memory = memories.get(keyOf(target)) ?? { records: {} as Record<string, ReactionRecord> };
          if (change.record) memory.records[change.reactionId] = change.record;
          else delete memory.records[change.reactionId];
          memory.lastChangeAt = change.lastChangeAt;
          memories.set(keyOf(target), memory);
        };
        const tags = `${keyOf(target)} ${change.reactionId}`;
        if (change.record === null) {
          call(asg ? 'CreateOrUpdateTags' : 'TagResource', tags, true);
          call(asg ? 'DeleteTags' : 'UntagResource', tags, true, remember);
        } else {
          call(asg ? 'CreateOrUpdateTags' : 'TagResource', tags, true, remember);
        }
      },
    },
    clock: world.clock,
    journal,
    deadLetters,
  };
}

/** What the adapter says for a knob an Auto Scaling group does not have (the configuration schema refuses it). */
function noCapacityRange(knob: Knob): UnsupportedKnob {
  return new UnsupportedKnob(describeKnob(knob), 'an Auto Scaling group has no capacity-range knob');
}
