// Application Auto Scaling as the twin answers it, for ECS services (namespace `ecs`, dimension
// `ecs:service:DesiredCount`): scalable targets and their target tracking policies, over the twin's
// TwinScaling.services. Input checks, error names, paging and shapes as the Application Auto Scaling API
// reference documents them. Policies are kept, not run: in AWS the service runs them.
import {
  type DescribeScalableTargetsCommandInput,
  type DescribeScalingPoliciesCommandInput,
  type PutScalingPolicyCommandInput,
  type RegisterScalableTargetCommandInput,
  type ScalableTarget,
  type ScalingPolicy,
  ServiceNamespace,
  type TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import { AwsServiceError, constraintError, read, type ServiceModel, write } from '#local/twin/aws/client';
import { compare, type PageRules, page, withNextToken } from '#local/twin/aws/paging';
import type { TwinScaling, TwinServiceScaling } from '#local/twin/scaling';
import type { World } from '#local/twin/world';

// The namespaces as the API's enum-value error lists them.
const NAMESPACES =
  'ecs, elasticmapreduce, ec2, appstream, dynamodb, rds, sagemaker, custom-resource, comprehend, lambda, ' +
  'cassandra, kafka, elasticache, neptune, workspaces';
const ECS = 'ecs';
const DIMENSION = 'ecs:service:DesiredCount';
const MAX_IDS = 50;

/** What a command names a scalable target by. */
type Target = { ServiceNamespace?: string; ResourceId?: string; ScalableDimension?: string };
/** A registered target, by its resource ID (`service/CLUSTER/SERVICE`). */
type Registered = { resourceId: string; target: TwinServiceScaling };

const invalid = (message: string) => new AwsServiceError('ValidationException', message);

/** Pages of at most `limit` items, `limit` when MaxResults is not given. */
const rules = (limit: number): PageRules => ({
  defaultMax: limit,
  limit,
  badToken: 'InvalidNextTokenException',
  badSize: 'ValidationException',
  sizeName: 'maxResults',
});

export function applicationAutoScalingModel(world: World, scaling: TwinScaling): ServiceModel {
  const role = `arn:aws:iam::${world.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`;
  // What the service gives a target or a policy once and keeps: its ARN, its creation time.
  const kept = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => {
    if (!kept.has(key)) kept.set(key, make());
    return kept.get(key) as T;
  };
  const targetArn = (resourceId: string) =>
    once(
      `arn ${resourceId}`,
      () =>
        `arn:aws:application-autoscaling:${world.region}:${world.account}:scalable-target/${world.newId().slice(0, 28)}`,
    );
  const policyArn = (resourceId: string, name: string) =>
    once(
      `arn ${resourceId}|${name}`,
      () =>
        `arn:aws:autoscaling:${world.region}:${world.account}:scalingPolicy:${world.newUuid()}:resource/ecs/${resourceId}:policyName/${name}`,
    );
  const createdAt = (resourceId: string) => once(`created ${resourceId}`, () => world.clock.now());

  /** The registered targets of the namespace and dimension asked for (only ECS services have any), of `ids`. */
  const targets = (input: Target, ids?: string[]): Registered[] =>
    checkNamespace(input.ServiceNamespace) !== ECS || (input.ScalableDimension ?? DIMENSION) !== DIMENSION
      ? []
      : [...scaling.services.values()]
          .map((target) => ({ resourceId: `service/${target.cluster}/${target.service}`, target }))
          .filter(({ resourceId }) => !ids || ids.includes(resourceId))
          .sort((a, b) => compare(a.resourceId, b.resourceId));

  const describeTarget = ({ resourceId, target }: Registered): ScalableTarget => ({
    ServiceNamespace: ECS,
    ResourceId: resourceId,
    ScalableDimension: DIMENSION,
    MinCapacity: target.min,
    MaxCapacity: target.max,
    RoleARN: role,
    CreationTime: createdAt(resourceId),
    SuspendedState: {
      DynamicScalingInSuspended: false,
      DynamicScalingOutSuspended: false,
      ScheduledScalingSuspended: false,
    },
    ScalableTargetARN: targetArn(resourceId),
  });

  const describePolicy = (
    resourceId: string,
    [name, configuration]: [string, TargetTrackingScalingPolicyConfiguration],
  ): ScalingPolicy => ({
    PolicyARN: policyArn(resourceId, name),
    PolicyName: name,
    ServiceNamespace: ECS,
    ResourceId: resourceId,
    ScalableDimension: DIMENSION,
    PolicyType: 'TargetTrackingScaling',
    // A copy of the configuration as it was put, DisableScaleIn written out.
    TargetTrackingScalingPolicyConfiguration: {
      ...structuredClone(configuration),
      DisableScaleIn: configuration.DisableScaleIn ?? false,
    },
    Alarms: [],
    CreationTime: createdAt(resourceId),
  });

  return {
    DescribeScalableTargets: read(
      (input: DescribeScalableTargetsCommandInput) => shortIds(input.ResourceIds),
      (input: DescribeScalableTargetsCommandInput) => {
        const wanted = targets(input, input.ResourceIds);
        if ((input.ResourceIds?.length ?? 0) > MAX_IDS)
          throw invalid(`ResourceIds must have at most ${MAX_IDS} members.`);
        const found = page(wanted, { max: input.MaxResults, token: input.NextToken }, rules(50));
        return { ScalableTargets: found.items.map(describeTarget), ...withNextToken(found.next) };
      },
    ),

    RegisterScalableTarget: write(
      (input: RegisterScalableTargetCommandInput) =>
        `${shortId(input.ResourceId)} ${JSON.stringify({ min: input.MinCapacity, max: input.MaxCapacity })}`,
      (input: RegisterScalableTargetCommandInput) => {
        const key = ecsService(input);
        const [cluster, service] = key.split('/') as [string, string];
        const found = world.service(cluster, service);
        if (!found) throw invalid(`ECS service doesn't exist: ${input.ResourceId}`);
        const existing = scaling.services.get(key);
        const min = input.MinCapacity ?? existing?.min;
        const max = input.MaxCapacity ?? existing?.max;
        if (min === undefined || max === undefined)
          throw invalid('MinCapacity and MaxCapacity are required for registering a new scalable target.');
        if (min < 0 || max < 0) throw invalid('MinCapacity and MaxCapacity must not be negative.');
        if (min > max) throw invalid('Minimum capacity cannot be greater than maximum capacity.');
        if (existing) Object.assign(existing, { min, max });
        else scaling.addServiceScaling({ cluster, service, min, max, policies: new Map() });
        // Application Auto Scaling moves the desired count into the new range at once.
        found.desiredCount = Math.min(max, Math.max(min, found.desiredCount));
        return { ScalableTargetARN: targetArn(input.ResourceId!) };
      },
    ),

    DescribeScalingPolicies: read(
      (input: DescribeScalingPoliciesCommandInput) =>
        `${shortId(input.ResourceId)}/${(input.PolicyNames ?? ['*']).join(',')}`,
      (input: DescribeScalingPoliciesCommandInput) => {
        const wanted = targets(input, input.ResourceId === undefined ? undefined : [input.ResourceId]);
        const names = input.PolicyNames;
        if (names && names.length > MAX_IDS)
          throw invalid(`PolicyNames must have at most ${MAX_IDS} members.`);
        const policies = wanted.flatMap(({ resourceId, target }) =>
          [...target.policies]
            .filter(([name]) => !names || names.includes(name))
            .sort(([a], [b]) => compare(a, b))
            .map((policy) => describePolicy(resourceId, policy)),
        );
        const found = page(policies, { max: input.MaxResults, token: input.NextToken }, rules(10));
        return { ScalingPolicies: found.items, ...withNextToken(found.next) };
      },
    ),

    PutScalingPolicy: write(
      (input: PutScalingPolicyCommandInput) =>
        `${shortId(input.ResourceId)}/${input.PolicyName} ${input.TargetTrackingScalingPolicyConfiguration?.TargetValue ?? ''}`.trim(),
      (input: PutScalingPolicyCommandInput) => {
        const target = scaling.services.get(ecsService(input));
        if (!target)
          throw new AwsServiceError(
            'ObjectNotFoundException',
            `No scalable target registered for service namespace: ${ECS}, resource ID: ${input.ResourceId}, scalable dimension: ${DIMENSION}`,
          );
        if (!input.PolicyName) throw invalid('PolicyName is required.');
        const type = input.PolicyType ?? 'StepScaling';
        if (type !== 'TargetTrackingScaling')
          throw invalid(
            `PolicyType ${type} is not one the twin models for ECS services (TargetTrackingScaling).`,
          );
        const config = input.TargetTrackingScalingPolicyConfiguration;
        if (config?.TargetValue === undefined)
          throw invalid('TargetTrackingScalingPolicyConfiguration with a TargetValue is required.');
        if (
          !config.PredefinedMetricSpecification?.PredefinedMetricType &&
          !config.CustomizedMetricSpecification?.MetricName
        )
          throw invalid('Either PredefinedMetricSpecification or CustomizedMetricSpecification is required.');
        // The whole policy is replaced: what the call leaves out takes its default.
        target.policies.set(input.PolicyName, structuredClone(config));
        return { PolicyARN: policyArn(input.ResourceId!, input.PolicyName), Alarms: [] };
      },
    ),
  };
}

function checkNamespace(namespace: string | undefined): string {
  if (namespace === undefined)
    throw constraintError('ValidationException', 'serviceNamespace', {
      value: null,
      constraint: 'Member must not be null',
    });
  if (!Object.values<string>(ServiceNamespace).includes(namespace))
    throw constraintError('ValidationException', 'serviceNamespace', {
      value: namespace,
      constraint: `Member must satisfy enum value set: [${NAMESPACES}]`,
    });
  return namespace;
}

/**
 * `service/CLUSTER/SERVICE` in namespace ecs with its one dimension, as its key in TwinScaling.services
 * (`CLUSTER/SERVICE`); anything else is refused.
 */
function ecsService(input: Target): string {
  if (checkNamespace(input.ServiceNamespace) !== ECS)
    throw invalid(`The twin keeps scalable targets of namespace ${ECS} only.`);
  if (input.ScalableDimension !== DIMENSION)
    throw invalid(`Unsupported scalable dimension ${input.ScalableDimension} for namespace ${ECS}.`);
  if (!/^service\/[^/]+\/[^/]+$/.test(input.ResourceId ?? ''))
    throw invalid(`Unsupported service namespace, resource type or scalable dimension: ${input.ResourceId}`);
  return shortId(input.ResourceId);
}

/** The call log names a service `CLUSTER/NAME`, as ECS's calls do. */
const shortId = (resourceId: string | undefined) => (resourceId ?? '').replace(/^service\//, '');
const shortIds = (ids: string[] | undefined) => (ids ? ids.map(shortId).join(',') : '*');
