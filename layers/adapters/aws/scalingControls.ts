// The scaling knobs the alarm reactor turns, over EC2 Auto Scaling (group desired capacity and the group's
// scaling policies), ECS (a service's desired count) and Application Auto Scaling (a service's
// target-tracking policies and its min/max capacity).
import {
  type ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand as PutServicePolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingPolicy as ServicePolicy,
} from '@aws-sdk/client-application-auto-scaling';
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  type StepAdjustment as AwsStepAdjustment,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  type ScalingPolicy as GroupPolicy,
  PutScalingPolicyCommand as PutGroupPolicyCommand,
  type PutScalingPolicyCommandInput as PutGroupPolicyInput,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeServicesCommand,
  type ECSClient,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  type CapacityRange,
  describeKnob,
  type Knob,
  type KnobReading,
  type KnobValue,
  type ScalingTarget,
  type StepAdjustment,
  sameValue,
} from '#domain/alarmReactions';
import type { ScalingControls } from '#ports';

export interface ScalingClients {
  autoScaling: Pick<AutoScalingClient, 'send'>;
  applicationAutoScaling: Pick<ApplicationAutoScalingClient, 'send'>;
  ecs: Pick<ECSClient, 'send'>;
}

/** A write to a group, service or policy that does not exist (any more). */
export class ScalingKnobNotFound extends Error {
  override readonly name = 'ScalingKnobNotFound';
  constructor(readonly knob: string) {
    super(`${knob} not found`);
  }
}

/** A knob this adapter cannot turn: a target/setting pair, a policy type or a value that do not fit. */
export class UnsupportedKnob extends Error {
  override readonly name = 'UnsupportedKnob';
  constructor(
    readonly knob: string,
    problem: string,
  ) {
    super(`${knob}: ${problem}`);
  }
}

type ServiceTarget = Extract<ScalingTarget, { kind: 'ecs-service' }>;
type PolicySetting = 'target-value' | 'step-adjustments' | 'scale-in';

const ECS_NAMESPACE = 'ecs';
const SERVICE_DIMENSION = 'ecs:service:DesiredCount';

export class AwsScalingControls implements ScalingControls {
  /** The policy each reading `read` answered was read from, for a write in the same look. */
  private readonly policies = new WeakMap<KnobReading, GroupPolicy | ServicePolicy>();

  constructor(private readonly clients: ScalingClients) {}

  /**
   * undefined when the group, service, scalable target or policy does not exist, and also when the policy
   * is of another type (a step policy has no target value): the reaction then holds instead of failing and
   * being retried for a knob that cannot be there. A setting the target kind does not have at all is a
   * configuration the schema refuses, so it throws.
   */
  async read(knob: Knob): Promise<KnobReading | undefined> {
    const { target, setting } = knob;
    if (target.kind === 'auto-scaling-group') {
      switch (setting.kind) {
        case 'desired':
          return this.readGroupDesired(target.name);
        case 'capacity-range':
          throw new UnsupportedKnob(describeKnob(knob), 'an Auto Scaling group has no capacity-range knob');
        default: {
          const policy = await this.groupPolicy(target.name, setting.policy);
          return this.remembered(policy && readGroupPolicy(policy, setting.kind), policy);
        }
      }
    }
    switch (setting.kind) {
      case 'desired':
        // A service under Application Auto Scaling has its desired count set by it: changing the count
        // would be undone at the next evaluation. The knob is not there; the reaction holds.
        if (await this.readServiceRange(target)) return undefined;
        return this.readServiceDesired(target);
      case 'capacity-range':
        return this.readServiceRange(target);
      case 'target-value': {
        const policy = await this.servicePolicy(target, setting.policy);
        const config = policy ? targetTrackingOf(policy) : undefined;
        return this.remembered(
          config?.TargetValue === undefined ? undefined : { value: config.TargetValue },
          policy,
        );
      }
      default:
        throw new UnsupportedKnob(describeKnob(knob), `an ECS service has no ${setting.kind} knob`);
    }
  }

  private remembered(
    reading: KnobReading | undefined,
    policy: GroupPolicy | ServicePolicy | undefined,
  ): KnobReading | undefined {
    if (reading && policy) this.policies.set(reading, policy);
    return reading;
  }

  async write(knob: Knob, value: KnobValue, read?: KnobReading): Promise<void> {
    const seen = read && this.policies.get(read);
    const { target, setting } = knob;
    const name = describeKnob(knob);
    if (target.kind === 'auto-scaling-group') {
      switch (setting.kind) {
        case 'desired':
          // HonorCooldown false: the reactor keeps its own cooldown, and a change the alarm asks for must
          // not be refused because the group scaled a moment ago for another reason.
          await this.clients.autoScaling.send(
            new SetDesiredCapacityCommand({
              AutoScalingGroupName: target.name,
              DesiredCapacity: wholeNumber(name, value),
              HonorCooldown: false,
            }),
          );
          return;
        case 'capacity-range':
          throw new UnsupportedKnob(name, 'an Auto Scaling group has no capacity-range knob');
        default:
          return this.writeGroupPolicy(
            name,
            target.name,
            setting.policy,
            setting.kind,
            value,
            seen as GroupPolicy | undefined,
          );
      }
    }
    switch (setting.kind) {
      case 'desired':
        await this.clients.ecs.send(
          new UpdateServiceCommand({
            cluster: target.cluster,
            service: target.service,
            desiredCount: wholeNumber(name, value),
          }),
        );
        return;
      case 'capacity-range': {
        const range = capacityRange(name, value);
        // On a registered target RegisterScalableTarget changes only what it is given: the role and the
        // suspended state stay as they are.
        await this.clients.applicationAutoScaling.send(
          new RegisterScalableTargetCommand({
            ServiceNamespace: ECS_NAMESPACE,
            ResourceId: resourceIdOf(target),
            ScalableDimension: SERVICE_DIMENSION,
            MinCapacity: range.min,
            MaxCapacity: range.max,
          }),
        );
        return;
      }
      case 'target-value':
        return this.writeServiceTargetValue(
          name,
          target,
          setting.policy,
          value,
          seen as ServicePolicy | undefined,
        );
      default:
        throw new UnsupportedKnob(name, `an ECS service has no ${setting.kind} knob`);
    }
  }

  private async readGroupDesired(groupName: string): Promise<KnobReading | undefined> {
    return groupDesiredReading(await this.describeGroup(groupName));
  }

  /**
   * The group as DescribeAutoScalingGroups answers it (its desired capacity, limits and tags), or undefined
   * when there is no such group.
   */
  async describeGroup(groupName: string): Promise<AutoScalingGroup | undefined> {
    const output = await this.clients.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    return output.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === groupName);
  }

  private async groupPolicy(groupName: string, policyName: string): Promise<GroupPolicy | undefined> {
    try {
      const output = await this.clients.autoScaling.send(
        new DescribePoliciesCommand({ AutoScalingGroupName: groupName, PolicyNames: [policyName] }),
      );
      return output.ScalingPolicies?.find((p) => p.PolicyName === policyName);
    } catch (error) {
      // A group that does not exist is a missing knob, not a failure to retry.
      if (isGroupNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * PutScalingPolicy replaces the whole policy: whatever is not sent is reset to its default (the metric,
   * DisableScaleIn, the warm-up, ...). So the policy is read, one field changed, and all of it sent back.
   */
  private async writeGroupPolicy(
    name: string,
    groupName: string,
    policyName: string,
    setting: PolicySetting,
    value: KnobValue,
    seen?: GroupPolicy,
  ): Promise<void> {
    const change = groupPolicyChange(name, setting, value);
    const policy = seen ?? (await this.groupPolicy(groupName, policyName));
    if (!policy) throw new ScalingKnobNotFound(name);
    const current = readGroupPolicy(policy, setting);
    if (!current) {
      throw new UnsupportedKnob(name, `a ${policy.PolicyType ?? 'SimpleScaling'} policy has no ${setting}`);
    }
    if (sameValue(current.value, value)) return;
    const input = groupPolicyInput(policy);
    change(input);
    await this.clients.autoScaling.send(new PutGroupPolicyCommand(input));
  }

  private async readServiceDesired(target: ServiceTarget): Promise<KnobReading | undefined> {
    try {
      const output = await this.clients.ecs.send(
        new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }),
      );
      return serviceDesiredReading(output.services?.[0]);
    } catch (error) {
      if (error instanceof Error && error.name === 'ClusterNotFoundException') return undefined;
      throw error;
    }
  }

  /** The service's Application Auto Scaling min and max; undefined when it has no scalable target. */
  async readServiceRange(target: ServiceTarget): Promise<KnobReading | undefined> {
    const resourceId = resourceIdOf(target);
    const output = await this.clients.applicationAutoScaling.send(
      new DescribeScalableTargetsCommand({
        ServiceNamespace: ECS_NAMESPACE,
        ResourceIds: [resourceId],
        ScalableDimension: SERVICE_DIMENSION,
      }),
    );
    const scalable = output.ScalableTargets?.find((t) => t.ResourceId === resourceId);
    if (scalable?.MinCapacity === undefined || scalable.MaxCapacity === undefined) return undefined;
    return { value: { min: scalable.MinCapacity, max: scalable.MaxCapacity } };
  }

  private async servicePolicy(target: ServiceTarget, policyName: string): Promise<ServicePolicy | undefined> {
    const output = await this.clients.applicationAutoScaling.send(
      new DescribeScalingPoliciesCommand({
        ServiceNamespace: ECS_NAMESPACE,
        ResourceId: resourceIdOf(target),
        ScalableDimension: SERVICE_DIMENSION,
        PolicyNames: [policyName],
      }),
    );
    return output.ScalingPolicies?.find((p) => p.PolicyName === policyName);
  }

  /** Application Auto Scaling's PutScalingPolicy replaces the policy too: the whole configuration goes back. */
  private async writeServiceTargetValue(
    name: string,
    target: ServiceTarget,
    policyName: string,
    value: KnobValue,
    seen?: ServicePolicy,
  ): Promise<void> {
    const targetValue = positive(name, value);
    const policy = seen ?? (await this.servicePolicy(target, policyName));
    if (!policy) throw new ScalingKnobNotFound(name);
    const config = targetTrackingOf(policy);
    if (!config) {
      throw new UnsupportedKnob(name, `policy type ${policy.PolicyType ?? 'unknown'} has no target value`);
    }
    if (config.TargetValue === targetValue) return;
    await this.clients.applicationAutoScaling.send(
      new PutServicePolicyCommand({
        PolicyName: policyName,
        ServiceNamespace: ECS_NAMESPACE,
        ResourceId: resourceIdOf(target),
        ScalableDimension: SERVICE_DIMENSION,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { ...config, TargetValue: targetValue },
      }),
    );
  }
}

/** A group's desired capacity with its min and max, as DescribeAutoScalingGroups gave them. */
export function groupDesiredReading(group: AutoScalingGroup | undefined): KnobReading | undefined {
  if (group?.DesiredCapacity === undefined) return undefined;
  const limits =
    group.MinSize !== undefined && group.MaxSize !== undefined
      ? { limits: { min: group.MinSize, max: group.MaxSize } }
      : {};
  return { value: group.DesiredCapacity, ...limits };
}

/** A service's desired count, as DescribeServices gave it. */
export function serviceDesiredReading(service: Service | undefined): KnobReading | undefined {
  // A missing service comes back in `failures` (reason MISSING), a deleted one with status INACTIVE.
  if (!service || service.status === 'INACTIVE' || service.desiredCount === undefined) return undefined;
  return { value: service.desiredCount };
}

// --- EC2 Auto Scaling policies -------------------------------------------------------------------------

function readGroupPolicy(policy: GroupPolicy, setting: PolicySetting): KnobReading | undefined {
  const tracking =
    policy.PolicyType === 'TargetTrackingScaling' ? policy.TargetTrackingConfiguration : undefined;
  switch (setting) {
    case 'target-value':
      return tracking?.TargetValue === undefined ? undefined : { value: tracking.TargetValue };
    case 'scale-in':
      // The knob reads "scale-in enabled", the policy stores the opposite; absent means enabled.
      return tracking ? { value: !(tracking.DisableScaleIn ?? false) } : undefined;
    case 'step-adjustments':
      return policy.PolicyType === 'StepScaling'
        ? { value: (policy.StepAdjustments ?? []).map(fromAwsStep) }
        : undefined;
  }
}

/** The one field a write changes, its value checked before anything is read or sent. */
function groupPolicyChange(
  knob: string,
  setting: PolicySetting,
  value: KnobValue,
): (input: PutGroupPolicyInput) => void {
  switch (setting) {
    case 'target-value': {
      const targetValue = positive(knob, value);
      return (input) => {
        // readGroupPolicy found a target-tracking configuration, so there is one to change.
        input.TargetTrackingConfiguration = {
          ...input.TargetTrackingConfiguration!,
          TargetValue: targetValue,
        };
      };
    }
    case 'scale-in': {
      const disableScaleIn = !flag(knob, value);
      return (input) => {
        input.TargetTrackingConfiguration = {
          ...input.TargetTrackingConfiguration!,
          DisableScaleIn: disableScaleIn,
        };
      };
    }
    case 'step-adjustments': {
      const stepAdjustments = steps(knob, value).map(toAwsStep);
      return (input) => {
        input.StepAdjustments = stepAdjustments;
      };
    }
  }
}

/**
 * Everything of the policy PutScalingPolicy takes back for its type. Per the API reference, Cooldown and
 * ScalingAdjustment are for simple scaling only (a step policy refuses Cooldown in some regions), and
 * MinAdjustmentStep is the deprecated name of MinAdjustmentMagnitude: sending both is asking for trouble.
 */
function groupPolicyInput(policy: GroupPolicy): PutGroupPolicyInput {
  const common = {
    AutoScalingGroupName: policy.AutoScalingGroupName,
    PolicyName: policy.PolicyName,
    PolicyType: policy.PolicyType,
    Enabled: policy.Enabled,
    EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup,
  };
  if (policy.PolicyType === 'TargetTrackingScaling') {
    return definedOnly({ ...common, TargetTrackingConfiguration: policy.TargetTrackingConfiguration });
  }
  return definedOnly({
    ...common,
    AdjustmentType: policy.AdjustmentType,
    MinAdjustmentMagnitude: policy.MinAdjustmentMagnitude ?? policy.MinAdjustmentStep,
    MetricAggregationType: policy.MetricAggregationType,
    StepAdjustments: policy.StepAdjustments,
  });
}

/** Keys in the domain's order (lower, upper, adjustment) and no undefined ones: values are compared as JSON. */
function fromAwsStep(step: AwsStepAdjustment): StepAdjustment {
  return {
    ...(step.MetricIntervalLowerBound === undefined ? {} : { lower: step.MetricIntervalLowerBound }),
    ...(step.MetricIntervalUpperBound === undefined ? {} : { upper: step.MetricIntervalUpperBound }),
    adjustment: step.ScalingAdjustment ?? 0,
  };
}

function toAwsStep(step: StepAdjustment): AwsStepAdjustment {
  return definedOnly({
    MetricIntervalLowerBound: step.lower,
    MetricIntervalUpperBound: step.upper,
    ScalingAdjustment: step.adjustment,
  });
}

function isGroupNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && /not found/i.test(error.message);
}

// --- ECS services ------------------------------------------------------------------------------------------

function targetTrackingOf(policy: ServicePolicy) {
  return policy.PolicyType === 'TargetTrackingScaling'
    ? policy.TargetTrackingScalingPolicyConfiguration
    : undefined;
}

/** Application Auto Scaling names an ECS service by cluster NAME and service name, never by ARN. */
function resourceIdOf(target: ServiceTarget): string {
  const cluster = target.cluster.startsWith('arn:')
    ? target.cluster.slice(target.cluster.lastIndexOf('/') + 1)
    : target.cluster;
  return `service/${cluster}/${target.service}`;
}

// --- values ------------------------------------------------------------------------------------------------

function wholeNumber(knob: string, value: KnobValue): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new UnsupportedKnob(knob, `a count must be a whole number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positive(knob: string, value: KnobValue): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UnsupportedKnob(knob, `a target value must be a number > 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function flag(knob: string, value: KnobValue): boolean {
  if (typeof value !== 'boolean')
    throw new UnsupportedKnob(knob, `scale-in must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function steps(knob: string, value: KnobValue): StepAdjustment[] {
  const fits =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((s) => typeof s === 'object' && s !== null && typeof s.adjustment === 'number');
  if (!fits)
    throw new UnsupportedKnob(
      knob,
      `step adjustments must be a non-empty list, got ${JSON.stringify(value)}`,
    );
  return value;
}

function capacityRange(knob: string, value: KnobValue): CapacityRange {
  const fits =
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Number.isInteger(value.min) &&
    Number.isInteger(value.max) &&
    value.min >= 0 &&
    value.min <= value.max;
  if (!fits)
    throw new UnsupportedKnob(
      knob,
      `a capacity range must be whole numbers 0 <= min <= max, got ${JSON.stringify(value)}`,
    );
  return value;
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
