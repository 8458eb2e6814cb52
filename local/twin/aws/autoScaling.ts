// Amazon EC2 Auto Scaling as the twin answers it: groups, their instances and warm pools, lifecycle hooks
// and actions, tags and scaling policies, over the simulated groups of local/twin/scaling.ts and the hooks
// of local/twin/lifecycle.ts. Input checks, error names, paging and shapes as the EC2 Auto Scaling API
// reference documents them; every refusal is a ValidationError (the Query API's name for a bad request)
// unless the reference names another.
import type {
  AutoScalingGroup,
  CompleteLifecycleActionCommandInput,
  CreateOrUpdateTagsCommandInput,
  DeleteTagsCommandInput,
  DescribeAutoScalingGroupsCommandInput,
  DescribeAutoScalingInstancesCommandInput,
  DescribeLifecycleHooksCommandInput,
  DescribePoliciesCommandInput,
  DescribeTagsCommandInput,
  DescribeWarmPoolCommandInput,
  PutScalingPolicyCommandInput,
  RecordLifecycleActionHeartbeatCommandInput,
  ScalingPolicy,
  SetDesiredCapacityCommandInput,
  TagDescription,
} from '@aws-sdk/client-auto-scaling';
import type { StepAdjustment } from '#domain/alarmReactions';
import { LIFECYCLE_TRANSITIONS } from '#events/autoscaling';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import { type PageRules, page } from '#local/twin/aws/paging';
import {
  globalTimeoutSeconds,
  type LifecycleActionCall,
  type TwinLifecycle,
  type TwinLifecycleAction,
} from '#local/twin/lifecycle';
import type { TwinAsgPolicy, TwinAutoScalingGroup, TwinScaling } from '#local/twin/scaling';
import type { World } from '#local/twin/world';

const GROUP_TAG = 'auto-scaling-group';
const MAX_TAGS_PER_GROUP = 50;
const MAX_NAMES = 50;
const HEALTHY = 'Healthy';

const invalid = (message: string) => new AwsServiceError('ValidationError', message);
const groupNotFound = (name: string | undefined) =>
  invalid(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);

const rules = (defaultMax: number, limit: number): PageRules => ({
  defaultMax,
  limit,
  badToken: 'InvalidNextToken',
  badSize: 'ValidationError',
  sizeName: 'maxRecords',
});

export function autoScalingModel(world: World, scaling: TwinScaling, lifecycle: TwinLifecycle): ServiceModel {
  const group = (name: string | undefined): TwinAutoScalingGroup => {
    const found = name === undefined ? undefined : scaling.groups.get(name);
    if (!found) throw groupNotFound(name);
    return found;
  };
  const zone = `${world.region}a`;
  const policyArns = new Map<string, string>();
  const policyArn = (groupName: string, policyName: string) => {
    const key = `${groupName}/${policyName}`;
    let arn = policyArns.get(key);
    if (!arn) {
      arn = `arn:aws:autoscaling:${world.region}:${world.account}:scalingPolicy:${uuid(world.newId())}:autoScalingGroupName/${groupName}:policyName/${policyName}`;
      policyArns.set(key, arn);
    }
    return arn;
  };

  /** The action a lifecycle call names: the token, the instance, or both (each given one must match). */
  const activeAction = (input: LifecycleActionInput): TwinLifecycleAction => {
    if (!input.AutoScalingGroupName || !input.LifecycleHookName)
      throw invalid('AutoScalingGroupName and LifecycleHookName are required.');
    if (input.LifecycleActionToken === undefined && input.InstanceId === undefined)
      throw invalid('Either LifecycleActionToken or InstanceId must be specified.');
    const call: LifecycleActionCall = {
      groupName: input.AutoScalingGroupName,
      hookName: input.LifecycleHookName,
      ...(input.InstanceId !== undefined ? { instanceId: input.InstanceId } : {}),
      ...(input.LifecycleActionToken !== undefined ? { token: input.LifecycleActionToken } : {}),
    };
    const action = lifecycle.activeAction(call);
    if (!action)
      throw invalid(
        call.instanceId
          ? `No active Lifecycle Action found with instance ID ${call.instanceId}`
          : `No active Lifecycle Action found with token ${call.token}`,
      );
    return action;
  };

  const tagsOf = (g: TwinAutoScalingGroup): TagDescription[] =>
    Object.keys(g.tags)
      .sort()
      .map((Key) => ({
        ResourceId: g.name,
        ResourceType: GROUP_TAG,
        Key,
        Value: g.tags[Key],
        PropagateAtLaunch: false,
      }));

  const describeGroup = (g: TwinAutoScalingGroup): AutoScalingGroup => ({
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: lifecycle.groupArn(g.name),
    MinSize: g.min,
    MaxSize: g.max,
    DesiredCapacity: g.desired,
    DefaultCooldown: 300,
    AvailabilityZones: [zone],
    LoadBalancerNames: [],
    TargetGroupARNs: (g.targetGroups ?? []).map((t) => t.arn),
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    Instances: [...g.pending, ...g.instances, ...g.terminating].map((InstanceId) => ({
      InstanceId,
      AvailabilityZone: zone,
      LifecycleState: scaling.lifecycleState(InstanceId),
      HealthStatus: HEALTHY,
      ProtectedFromScaleIn: false,
    })),
    CreatedTime: g.createdAt,
    SuspendedProcesses: [],
    EnabledMetrics: [],
    Tags: tagsOf(g),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    CapacityRebalance: false,
    ...(g.warmPool
      ? {
          WarmPoolConfiguration: { MinSize: g.warmPool.minSize, PoolState: 'Stopped' },
          WarmPoolSize: g.warm.length + g.warming.length,
        }
      : {}),
  });

  return {
    DescribeAutoScalingGroups: read(
      (input: DescribeAutoScalingGroupsCommandInput) => (input.AutoScalingGroupNames ?? ['*']).join(','),
      (input: DescribeAutoScalingGroupsCommandInput) => {
        const names = input.AutoScalingGroupNames;
        const filters = input.Filters ?? [];
        // Names that are not there are left out: no error.
        const groups = [...scaling.groups.values()]
          .filter((g) => !names || names.includes(g.name))
          .filter((g) => filters.every((f) => matchesFilter(g.tags, f.Name, f.Values ?? [])))
          .sort((a, b) => compare(a.name, b.name));
        const found = page(groups, { max: input.MaxRecords, token: input.NextToken }, rules(50, 100));
        return { AutoScalingGroups: found.items.map(describeGroup), ...next(found.next) };
      },
    ),

    DescribeAutoScalingInstances: read(
      (input: DescribeAutoScalingInstancesCommandInput) => (input.InstanceIds ?? ['*']).join(','),
      (input: DescribeAutoScalingInstancesCommandInput) => {
        const ids = input.InstanceIds;
        if (ids && ids.length > MAX_NAMES)
          throw invalid(`The maximum number of instance IDs is ${MAX_NAMES}.`);
        // An instance of any group of the account and region; an id no group holds is left out. Warm pool
        // instances are DescribeWarmPool's.
        const all = [...scaling.groups.values()]
          .flatMap((g) => [...g.pending, ...g.instances, ...g.terminating].map((id) => ({ id, g })))
          .filter(({ id }) => !ids || ids.includes(id))
          .sort((a, b) => compare(a.id, b.id));
        const found = page(all, { max: input.MaxRecords, token: input.NextToken }, rules(50, 50));
        return {
          AutoScalingInstances: found.items.map(({ id, g }) => ({
            InstanceId: id,
            AutoScalingGroupName: g.name,
            AvailabilityZone: zone,
            LifecycleState: scaling.lifecycleState(id),
            // This API writes the health status in capitals, DescribeAutoScalingGroups does not.
            HealthStatus: 'HEALTHY',
            ProtectedFromScaleIn: false,
          })),
          ...next(found.next),
        };
      },
    ),

    DescribeWarmPool: read(
      (input: DescribeWarmPoolCommandInput) => input.AutoScalingGroupName ?? '',
      (input: DescribeWarmPoolCommandInput) => {
        const g = group(input.AutoScalingGroupName);
        const instances = [
          ...g.warming.map((id) => ({ id, state: 'Warmed:Pending:Wait' as const })),
          ...g.warm.map((id) => ({ id, state: 'Warmed:Stopped' as const })),
        ];
        const found = page(instances, { max: input.MaxRecords, token: input.NextToken }, rules(50, 50));
        return {
          ...(g.warmPool
            ? { WarmPoolConfiguration: { MinSize: g.warmPool.minSize, PoolState: 'Stopped' as const } }
            : {}),
          Instances: found.items.map(({ id, state }) => ({
            InstanceId: id,
            AvailabilityZone: zone,
            LifecycleState: state,
            HealthStatus: HEALTHY,
            ProtectedFromScaleIn: false,
          })),
          ...next(found.next),
        };
      },
    ),

    DescribeLifecycleHooks: read(
      (input: DescribeLifecycleHooksCommandInput) =>
        `${input.AutoScalingGroupName} ${(input.LifecycleHookNames ?? ['*']).join(',')}`,
      (input: DescribeLifecycleHooksCommandInput) => {
        const g = group(input.AutoScalingGroupName);
        const names = input.LifecycleHookNames;
        if (names && names.length > MAX_NAMES)
          throw invalid(`The maximum number of lifecycle hook names is ${MAX_NAMES}.`);
        const hooks = (lifecycle.hooks.get(g.name) ?? []).filter((h) => !names || names.includes(h.name));
        return {
          LifecycleHooks: hooks.map((hook) => ({
            LifecycleHookName: hook.name,
            AutoScalingGroupName: g.name,
            LifecycleTransition: LIFECYCLE_TRANSITIONS[hook.transition],
            ...(hook.notificationMetadata !== undefined
              ? { NotificationMetadata: hook.notificationMetadata }
              : {}),
            HeartbeatTimeout: hook.heartbeatTimeoutSeconds,
            GlobalTimeout: globalTimeoutSeconds(hook.heartbeatTimeoutSeconds),
            DefaultResult: hook.defaultResult,
          })),
        };
      },
    ),

    CompleteLifecycleAction: write(
      (input: CompleteLifecycleActionCommandInput) => `${input.AutoScalingGroupName} ${instanceOf(input)}`,
      (input: CompleteLifecycleActionCommandInput) => {
        const result = input.LifecycleActionResult;
        if (result !== 'CONTINUE' && result !== 'ABANDON')
          throw invalid(`LifecycleActionResult must be CONTINUE or ABANDON, not ${result}.`);
        lifecycle.complete(activeAction(input), result);
        return {};
      },
    ),

    RecordLifecycleActionHeartbeat: write(
      (input: RecordLifecycleActionHeartbeatCommandInput) =>
        `${input.AutoScalingGroupName} ${instanceOf(input)}`,
      (input: RecordLifecycleActionHeartbeatCommandInput) => {
        lifecycle.heartbeat(activeAction(input));
        return {};
      },
    ),

    SetDesiredCapacity: write(
      (input: SetDesiredCapacityCommandInput) =>
        `${input.AutoScalingGroupName} desired=${input.DesiredCapacity}`,
      (input: SetDesiredCapacityCommandInput) => {
        const g = group(input.AutoScalingGroupName);
        const desired = input.DesiredCapacity;
        if (desired === undefined || !Number.isInteger(desired) || desired < 0)
          throw invalid(`The value ${desired} for DesiredCapacity is not valid.`);
        if (desired > g.max)
          throw invalid(
            `New SetDesiredCapacity value ${desired} is above max value ${g.max} for the AutoScalingGroup.`,
          );
        if (desired < g.min)
          throw invalid(
            `New SetDesiredCapacity value ${desired} is below min value ${g.min} for the AutoScalingGroup.`,
          );
        // HonorCooldown: the twin's groups keep no cooldown (no simple scaling policy runs), so there is
        // never a scaling activity in progress to refuse it for.
        scaling.setDesiredCapacity(g.name, desired);
        return {};
      },
    ),

    CreateOrUpdateTags: write(
      (input: CreateOrUpdateTagsCommandInput) => tagsTarget(input.Tags),
      (input: CreateOrUpdateTagsCommandInput) => {
        const tags = checkTags(input.Tags, scaling, true);
        // All or nothing: a group that would hold more than 50 tags refuses the whole call.
        for (const [g, keys] of byGroup(tags)) {
          const after = new Set([...Object.keys(g.tags), ...keys]);
          if (after.size > MAX_TAGS_PER_GROUP)
            throw new AwsServiceError(
              'LimitExceeded',
              `The number of tags on ${g.name} would exceed the limit of ${MAX_TAGS_PER_GROUP}.`,
            );
        }
        for (const { g, key, value } of tags) g.tags[key] = value;
        return {};
      },
    ),

    DeleteTags: write(
      (input: DeleteTagsCommandInput) => tagsTarget(input.Tags),
      (input: DeleteTagsCommandInput) => {
        // A tag that is not there is no error.
        for (const { g, key } of checkTags(input.Tags, scaling, false)) delete g.tags[key];
        return {};
      },
    ),

    DescribeTags: read(
      (input: DescribeTagsCommandInput) =>
        (input.Filters ?? [])
          .map((f) =>
            f.Name === GROUP_TAG
              ? (f.Values ?? []).map((v) => `asg/${v}`).join(',')
              : `${f.Name}=${(f.Values ?? []).join(',')}`,
          )
          .join(' ') || '*',
      (input: DescribeTagsCommandInput) => {
        const filters = input.Filters ?? [];
        for (const f of filters) {
          if (!['auto-scaling-group', 'key', 'value', 'propagate-at-launch'].includes(f.Name ?? ''))
            throw invalid(`The filter name ${f.Name} is not valid.`);
        }
        const tags = [...scaling.groups.values()]
          .sort((a, b) => compare(a.name, b.name))
          .flatMap(tagsOf)
          .filter((tag) =>
            filters.every((f) => {
              const values = f.Values ?? [];
              switch (f.Name) {
                case 'auto-scaling-group':
                  return values.includes(tag.ResourceId ?? '');
                case 'key':
                  return values.includes(tag.Key ?? '');
                case 'value':
                  return values.includes(tag.Value ?? '');
                default:
                  return values.includes(String(tag.PropagateAtLaunch));
              }
            }),
          );
        const found = page(tags, { max: input.MaxRecords, token: input.NextToken }, rules(50, 100));
        return { Tags: found.items, ...next(found.next) };
      },
    ),

    DescribePolicies: read(
      (input: DescribePoliciesCommandInput) =>
        `${input.AutoScalingGroupName ?? '*'}/${(input.PolicyNames ?? ['*']).join(',')}`,
      (input: DescribePoliciesCommandInput) => {
        const names = input.PolicyNames;
        if (names && names.length > MAX_NAMES)
          throw invalid(`The maximum number of policy names is ${MAX_NAMES}.`);
        const groups =
          input.AutoScalingGroupName === undefined
            ? [...scaling.groups.values()]
            : [group(input.AutoScalingGroupName)];
        const policies = groups
          .sort((a, b) => compare(a.name, b.name))
          .flatMap((g) =>
            [...g.policies.values()]
              .filter((p) => !names || names.includes(p.name))
              .filter((p) => !input.PolicyTypes || input.PolicyTypes.includes(p.type))
              .sort((a, b) => compare(a.name, b.name))
              .map((p) => describePolicy(g.name, p, policyArn(g.name, p.name))),
          );
        const found = page(policies, { max: input.MaxRecords, token: input.NextToken }, rules(50, 100));
        return { ScalingPolicies: found.items, ...next(found.next) };
      },
    ),

    PutScalingPolicy: write(
      (input: PutScalingPolicyCommandInput) =>
        `${input.AutoScalingGroupName}/${input.PolicyName} ${policyValue(input)}`,
      (input: PutScalingPolicyCommandInput) => {
        const g = group(input.AutoScalingGroupName);
        if (!input.PolicyName) throw invalid('PolicyName is required.');
        // The whole policy is replaced: what the call leaves out takes its default.
        g.policies.set(input.PolicyName, policyOf(input, input.PolicyName));
        return { PolicyARN: policyArn(g.name, input.PolicyName), Alarms: [] };
      },
    ),
  };
}

// --- lifecycle actions -----------------------------------------------------------------------------------

type LifecycleActionInput = {
  AutoScalingGroupName?: string;
  LifecycleHookName?: string;
  LifecycleActionToken?: string;
  InstanceId?: string;
};

const instanceOf = (input: LifecycleActionInput) => input.InstanceId ?? input.LifecycleActionToken ?? '';

// --- tags ------------------------------------------------------------------------------------------------

type TagInput = { ResourceId?: string; ResourceType?: string; Key?: string; Value?: string };

/** `asg/GROUP KEY,KEY`, per group: the call log names a group as the reactor's memory does. */
const tagsTarget = (tags: TagInput[] | undefined) => {
  const byGroup = new Map<string, string[]>();
  for (const t of tags ?? [])
    byGroup.set(t.ResourceId ?? '', [...(byGroup.get(t.ResourceId ?? '') ?? []), t.Key ?? '']);
  return [...byGroup].map(([group, keys]) => `asg/${group} ${keys.join(',')}`).join(' ');
};

function checkTags(
  tags: TagInput[] | undefined,
  scaling: TwinScaling,
  withValues: boolean,
): { g: TwinAutoScalingGroup; key: string; value: string }[] {
  if (!tags || tags.length === 0) throw invalid('Tags must not be empty.');
  return tags.map((tag) => {
    if (tag.ResourceType !== GROUP_TAG)
      throw invalid(`The value ${tag.ResourceType} for ResourceType is not valid: use ${GROUP_TAG}.`);
    const g = tag.ResourceId === undefined ? undefined : scaling.groups.get(tag.ResourceId);
    if (!g) throw groupNotFound(tag.ResourceId);
    const key = tag.Key ?? '';
    if (key.length < 1 || key.length > 128) throw invalid(`The tag key ${key} must be 1 to 128 characters.`);
    const value = tag.Value ?? '';
    if (withValues && value.length > 256)
      throw invalid(`The value of tag ${key} must be at most 256 characters.`);
    return { g, key, value };
  });
}

function byGroup(tags: { g: TwinAutoScalingGroup; key: string }[]): Map<TwinAutoScalingGroup, string[]> {
  const groups = new Map<TwinAutoScalingGroup, string[]>();
  for (const { g, key } of tags) groups.set(g, [...(groups.get(g) ?? []), key]);
  return groups;
}

function matchesFilter(tags: Record<string, string>, name: string | undefined, values: string[]): boolean {
  if (name === 'tag-key') return Object.keys(tags).some((k) => values.includes(k));
  if (name === 'tag-value') return Object.values(tags).some((v) => values.includes(v));
  if (name?.startsWith('tag:')) {
    const value = tags[name.slice(4)];
    return value !== undefined && values.includes(value);
  }
  throw invalid(`The filter name ${name} is not valid.`);
}

// --- scaling policies ------------------------------------------------------------------------------------

function describePolicy(groupName: string, policy: TwinAsgPolicy, arn: string): ScalingPolicy {
  const common = {
    AutoScalingGroupName: groupName,
    PolicyName: policy.name,
    PolicyARN: arn,
    PolicyType: policy.type,
    Alarms: [],
    Enabled: true,
  };
  if (policy.type === 'TargetTrackingScaling')
    return {
      ...common,
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: policy.metric as 'ASGAverageCPUUtilization',
        },
        TargetValue: policy.targetValue,
        DisableScaleIn: policy.disableScaleIn,
      },
    };
  return {
    ...common,
    AdjustmentType: policy.adjustmentType,
    MetricAggregationType: 'Average',
    StepAdjustments: policy.steps.map((s) => ({
      ...(s.lower === undefined ? {} : { MetricIntervalLowerBound: s.lower }),
      ...(s.upper === undefined ? {} : { MetricIntervalUpperBound: s.upper }),
      ScalingAdjustment: s.adjustment,
    })),
  };
}

/** The policy as the group keeps it, from a PutScalingPolicy input, or the refusal AWS gives it. */
function policyOf(input: PutScalingPolicyCommandInput, name: string): TwinAsgPolicy {
  const type = input.PolicyType ?? 'SimpleScaling';
  if (type === 'TargetTrackingScaling') {
    const config = input.TargetTrackingConfiguration;
    if (config?.TargetValue === undefined)
      throw invalid(
        'TargetTrackingConfiguration with a TargetValue is required for a TargetTrackingScaling policy.',
      );
    if (input.StepAdjustments || input.AdjustmentType || input.ScalingAdjustment !== undefined)
      throw invalid(
        'StepAdjustments, AdjustmentType and ScalingAdjustment are not valid for TargetTrackingScaling.',
      );
    const metric =
      config.PredefinedMetricSpecification?.PredefinedMetricType ??
      config.CustomizedMetricSpecification?.MetricName;
    if (!metric)
      throw invalid('Either PredefinedMetricSpecification or CustomizedMetricSpecification is required.');
    return {
      name,
      type,
      targetValue: config.TargetValue,
      disableScaleIn: config.DisableScaleIn ?? false,
      metric,
    };
  }
  if (type === 'StepScaling') {
    const steps = input.StepAdjustments ?? [];
    if (steps.length === 0) throw invalid('StepAdjustments are required for a StepScaling policy.');
    if (input.AdjustmentType !== 'ChangeInCapacity')
      // The twin keeps ChangeInCapacity policies only (ExactCapacity, PercentChangeInCapacity are not run).
      throw invalid(`AdjustmentType ${input.AdjustmentType} is not one the twin models (ChangeInCapacity).`);
    if (input.Cooldown !== undefined) throw invalid('Cooldown is not valid for a StepScaling policy.');
    return {
      name,
      type,
      adjustmentType: 'ChangeInCapacity',
      steps: steps.map(
        (s): StepAdjustment => ({
          ...(s.MetricIntervalLowerBound === undefined ? {} : { lower: s.MetricIntervalLowerBound }),
          ...(s.MetricIntervalUpperBound === undefined ? {} : { upper: s.MetricIntervalUpperBound }),
          adjustment: s.ScalingAdjustment ?? 0,
        }),
      ),
    };
  }
  throw invalid(`PolicyType ${type} is not one the twin models (TargetTrackingScaling, StepScaling).`);
}

/** What a scenario reads from the call log: the value the write sets. */
function policyValue(input: PutScalingPolicyCommandInput): string {
  const tracking = input.TargetTrackingConfiguration;
  if (tracking)
    return tracking.DisableScaleIn ? `${tracking.TargetValue} scale-in=off` : `${tracking.TargetValue}`;
  return JSON.stringify(
    (input.StepAdjustments ?? []).map((s) => ({
      lower: s.MetricIntervalLowerBound,
      upper: s.MetricIntervalUpperBound,
      adjustment: s.ScalingAdjustment,
    })),
  );
}

// --- helpers ---------------------------------------------------------------------------------------------

const next = (token: string | undefined) => (token ? { NextToken: token } : {});

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function uuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
