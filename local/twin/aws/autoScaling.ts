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
  LifecycleState,
  PutScalingPolicyCommandInput,
  RecordLifecycleActionHeartbeatCommandInput,
  ScalingPolicy,
  SetDesiredCapacityCommandInput,
  Tag,
  TagDescription,
} from '@aws-sdk/client-auto-scaling';
import type { StepAdjustment } from '#domain/alarmReactions';
import { LIFECYCLE_TRANSITIONS } from '#events/autoscaling';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import { autoScalingGroupArn } from '#local/twin/aws/ecs';
import { compare, page, queryPages, withNextToken } from '#local/twin/aws/paging';
import { globalTimeoutSeconds, type TwinLifecycle } from '#local/twin/lifecycle';
import type { TwinAsgPolicy, TwinAutoScalingGroup, TwinScaling } from '#local/twin/scaling';
import type { World } from '#local/twin/world';

const GROUP_TAG = 'auto-scaling-group';
const MAX_TAGS_PER_GROUP = 50;
const MAX_NAMES = 50;

const invalid = (message: string) => new AwsServiceError('ValidationError', message);

/** DescribeTags' filters: the field of a tag each one matches its values against. */
const TAG_FILTERS: Record<string, (tag: TagDescription) => string | undefined> = {
  'auto-scaling-group': (tag) => tag.ResourceId,
  key: (tag) => tag.Key,
  value: (tag) => tag.Value,
  'propagate-at-launch': (tag) => String(tag.PropagateAtLaunch),
};

type LifecycleActionInput = RecordLifecycleActionHeartbeatCommandInput;

export function autoScalingModel(world: World, scaling: TwinScaling, lifecycle: TwinLifecycle): ServiceModel {
  const group = (name: string | undefined): TwinAutoScalingGroup => {
    const found = name === undefined ? undefined : scaling.groups.get(name);
    if (!found) throw invalid(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return found;
  };
  const zone = `${world.region}a`;
  const groupsByName = () => [...scaling.groups.values()].sort((a, b) => compare(a.name, b.name));
  /** A group's instances but its warm pool's: held at launch, in service, held at scale-in. */
  const instanceIds = (g: TwinAutoScalingGroup) => [...g.pending, ...g.instances, ...g.terminating];
  const policyArns = new Map<string, string>();
  const policyArn = (groupName: string, policyName: string) => {
    const key = `${groupName}/${policyName}`;
    const arn =
      policyArns.get(key) ??
      `arn:aws:autoscaling:${world.region}:${world.account}:scalingPolicy:${world.newUuid()}:autoScalingGroupName/${groupName}:policyName/${policyName}`;
    policyArns.set(key, arn);
    return arn;
  };

  /** The action a lifecycle call names: the token, the instance, or both (each given one must match). */
  const activeAction = (input: LifecycleActionInput) => {
    const { LifecycleActionToken: token, InstanceId: instanceId } = input;
    const { AutoScalingGroupName: groupName, LifecycleHookName: hookName } = input;
    if (!groupName || !hookName) throw invalid('AutoScalingGroupName and LifecycleHookName are required.');
    if (token === undefined && instanceId === undefined)
      throw invalid('Either LifecycleActionToken or InstanceId must be specified.');
    const action = lifecycle.activeAction({ groupName, hookName, instanceId, token });
    if (action) return action;
    throw invalid(
      `No active Lifecycle Action found with ${instanceId ? `instance ID ${instanceId}` : `token ${token}`}`,
    );
  };

  /** Each tag of CreateOrUpdateTags or DeleteTags with its group, as Auto Scaling checks them. */
  const checkTags = (tags: Tag[] | undefined, withValues: boolean) => {
    if (!tags || tags.length === 0) throw invalid('Tags must not be empty.');
    return tags.map((tag) => {
      if (tag.ResourceType !== GROUP_TAG)
        throw invalid(`The value ${tag.ResourceType} for ResourceType is not valid: use ${GROUP_TAG}.`);
      const g = group(tag.ResourceId);
      const key = tag.Key ?? '';
      if (key.length < 1 || key.length > 128)
        throw invalid(`The tag key ${key} must be 1 to 128 characters.`);
      const value = tag.Value ?? '';
      if (withValues && value.length > 256)
        throw invalid(`The value of tag ${key} must be at most 256 characters.`);
      return { g, key, value };
    });
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

  const instance = (InstanceId: string, LifecycleState?: LifecycleState, HealthStatus = 'Healthy') => ({
    InstanceId,
    AvailabilityZone: zone,
    LifecycleState,
    HealthStatus,
    ProtectedFromScaleIn: false,
  });
  const warmPool = (g: TwinAutoScalingGroup) =>
    g.warmPool
      ? { WarmPoolConfiguration: { MinSize: g.warmPool.minSize, PoolState: 'Stopped' as const } }
      : {};

  const describeGroup = (g: TwinAutoScalingGroup): AutoScalingGroup => ({
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: autoScalingGroupArn(world, g.name),
    MinSize: g.min,
    MaxSize: g.max,
    DesiredCapacity: g.desired,
    DefaultCooldown: 300,
    AvailabilityZones: [zone],
    LoadBalancerNames: [],
    TargetGroupARNs: (g.targetGroups ?? []).map((t) => t.arn),
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    Instances: instanceIds(g).map((id) => instance(id, scaling.lifecycleState(id))),
    CreatedTime: g.createdAt,
    SuspendedProcesses: [],
    EnabledMetrics: [],
    Tags: tagsOf(g),
    TerminationPolicies: ['Default'],
    NewInstancesProtectedFromScaleIn: false,
    CapacityRebalance: false,
    ...(g.warmPool ? { ...warmPool(g), WarmPoolSize: g.warm.length + g.warming.length } : {}),
  });

  return {
    DescribeAutoScalingGroups: read(
      (input: DescribeAutoScalingGroupsCommandInput) => (input.AutoScalingGroupNames ?? ['*']).join(','),
      (input: DescribeAutoScalingGroupsCommandInput) => {
        // Filters (tag-key, tag-value, tag:KEY) are nothing the adapters send: refused, not ignored.
        if (input.Filters?.length)
          throw invalid('The twin answers DescribeAutoScalingGroups without Filters.');
        const names = input.AutoScalingGroupNames;
        // Names that are not there are left out: no error.
        const groups = groupsByName().filter((g) => !names || names.includes(g.name));
        return answerPage('AutoScalingGroups', groups, input, 100, describeGroup);
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
          .flatMap((g) => instanceIds(g).map((id) => ({ id, g })))
          .filter(({ id }) => !ids || ids.includes(id))
          .sort((a, b) => compare(a.id, b.id));
        // This API writes the health status in capitals, DescribeAutoScalingGroups does not.
        return answerPage('AutoScalingInstances', all, input, 50, ({ id, g }) => ({
          ...instance(id, scaling.lifecycleState(id), 'HEALTHY'),
          AutoScalingGroupName: g.name,
        }));
      },
    ),

    DescribeWarmPool: read(
      (input: DescribeWarmPoolCommandInput) => input.AutoScalingGroupName ?? '',
      (input: DescribeWarmPoolCommandInput) => {
        const g = group(input.AutoScalingGroupName);
        const instances = [
          ...g.warming.map((id) => instance(id, 'Warmed:Pending:Wait')),
          ...g.warm.map((id) => instance(id, 'Warmed:Stopped')),
        ];
        return { ...warmPool(g), ...answerPage('Instances', instances, input, 50, (i) => i) };
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

    CompleteLifecycleAction: write(actionTarget, (input: CompleteLifecycleActionCommandInput) => {
      const result = input.LifecycleActionResult;
      if (result !== 'CONTINUE' && result !== 'ABANDON')
        throw invalid(`LifecycleActionResult must be CONTINUE or ABANDON, not ${result}.`);
      lifecycle.complete(activeAction(input), result);
      return {};
    }),

    RecordLifecycleActionHeartbeat: write(actionTarget, (input: LifecycleActionInput) => {
      lifecycle.heartbeat(activeAction(input));
      return {};
    }),

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
        const tags = checkTags(input.Tags, true);
        // All or nothing: a group that would hold more than 50 tags refuses the whole call.
        for (const g of new Set(tags.map((t) => t.g))) {
          const keys = new Set([...Object.keys(g.tags), ...tags.filter((t) => t.g === g).map((t) => t.key)]);
          if (keys.size > MAX_TAGS_PER_GROUP)
            throw new AwsServiceError(
              'LimitExceededFault',
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
        for (const { g, key } of checkTags(input.Tags, false)) delete g.tags[key];
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
        const filters = (input.Filters ?? []).map((f) => {
          if (!Object.hasOwn(TAG_FILTERS, f.Name ?? ''))
            throw invalid(`The filter name ${f.Name} is not valid.`);
          return { field: TAG_FILTERS[f.Name!]!, values: f.Values ?? [] };
        });
        const tags = groupsByName()
          .flatMap(tagsOf)
          .filter((tag) => filters.every(({ field, values }) => values.includes(field(tag) ?? '')));
        return answerPage('Tags', tags, input, 100, (t) => t);
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
          input.AutoScalingGroupName === undefined ? groupsByName() : [group(input.AutoScalingGroupName)];
        const policies = groups.flatMap((g) =>
          [...g.policies.values()]
            .filter((p) => !names || names.includes(p.name))
            .filter((p) => !input.PolicyTypes || input.PolicyTypes.includes(p.type))
            .sort((a, b) => compare(a.name, b.name))
            .map((p) => describePolicy(g.name, p, policyArn(g.name, p.name))),
        );
        return answerPage('ScalingPolicies', policies, input, 100, (p) => p);
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

/** One page of a describe command's items under `key`, each shown as the answer writes it, and the token. */
function answerPage<T, U>(
  key: string,
  items: T[],
  input: { MaxRecords?: number; NextToken?: string },
  limit: number,
  show: (item: T) => U,
) {
  const found = page(items, { max: input.MaxRecords, token: input.NextToken }, queryPages(limit));
  return { [key]: found.items.map(show), ...withNextToken(found.next) };
}

const actionTarget = (input: LifecycleActionInput) =>
  `${input.AutoScalingGroupName} ${input.InstanceId ?? input.LifecycleActionToken ?? ''}`;

/** `asg/GROUP KEY,KEY`, per group: the call log names a group as the reactor's memory does. */
function tagsTarget(tags: Tag[] | undefined): string {
  const keys = new Map<string, string[]>();
  for (const t of tags ?? [])
    keys.set(t.ResourceId ?? '', [...(keys.get(t.ResourceId ?? '') ?? []), t.Key ?? '']);
  return [...keys].map(([group, names]) => `asg/${group} ${names.join(',')}`).join(' ');
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
    const disableScaleIn = config.DisableScaleIn ?? false;
    return { name, type, targetValue: config.TargetValue, disableScaleIn, metric };
  }
  if (type !== 'StepScaling')
    throw invalid(`PolicyType ${type} is not one the twin models (TargetTrackingScaling, StepScaling).`);
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
