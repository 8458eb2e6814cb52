// A knob and the reactor's memory on its target, read together. A group's desired capacity and its tags
// come in one DescribeAutoScalingGroups, a service's desired count and its tags in one DescribeServices
// (include TAGS): reading them apart would describe the same target twice in one look. Policy knobs live
// elsewhere (DescribePolicies, DescribeScalingPolicies), so there the memory is a read of its own.
import {
  type AwsScalingControls,
  groupDesiredReading,
  serviceDesiredReading,
} from '#adapters/aws/scalingControls';
import { groupMemoryOf, serviceMemoryOf, type TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import type { Knob } from '#domain/alarmReactions';
import type { ScalingTargetReader, TargetReading } from '#ports';

export class AwsScalingTargetReader implements ScalingTargetReader {
  constructor(
    private readonly controls: AwsScalingControls,
    private readonly memory: TagReactionMemory,
  ) {}

  async read(knob: Knob): Promise<TargetReading> {
    const { target, setting } = knob;
    if (setting.kind === 'desired' && target.kind === 'auto-scaling-group') {
      const group = await this.controls.describeGroup(target.name);
      return { current: groupDesiredReading(group), memory: groupMemoryOf(group) };
    }
    if (setting.kind === 'desired' && target.kind === 'ecs-service') {
      // Under Application Auto Scaling the desired count is not the reactor's knob (it would be undone).
      const [range, service] = await Promise.all([
        this.controls.readServiceRange(target),
        this.memory.describeService(target),
      ]);
      return {
        current: range ? undefined : serviceDesiredReading(service),
        memory: serviceMemoryOf(service),
      };
    }
    const [current, memory] = await Promise.all([this.controls.read(knob), this.memory.load(target)]);
    return { current, memory };
  }
}
