import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand as PutServicePolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingPolicy as ServicePolicy,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  AutoScalingServiceException,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  type ScalingPolicy as GroupPolicy,
  PutScalingPolicyCommand as PutGroupPolicyCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ClusterNotFoundException,
  DescribeServicesCommand,
  ECSClient,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsScalingControls, ScalingKnobNotFound, UnsupportedKnob } from '#adapters/aws/scalingControls';
import type { Knob, ScalingTarget, Setting } from '#domain/alarmReactions';

const autoScaling = mockClient(AutoScalingClient);
const applicationAutoScaling = mockClient(ApplicationAutoScalingClient);
const ecs = mockClient(ECSClient);
const controls = new AwsScalingControls({
  autoScaling: autoScaling as unknown as AutoScalingClient,
  applicationAutoScaling: applicationAutoScaling as unknown as ApplicationAutoScalingClient,
  ecs: ecs as unknown as ECSClient,
});

const GROUP: ScalingTarget = { kind: 'auto-scaling-group', name: 'prod-ecs-instances' };
const SERVICE: ScalingTarget = { kind: 'ecs-service', cluster: 'prod', service: 'web' };
const RESOURCE_ID = 'service/prod/web';
const knob = (target: ScalingTarget, setting: Setting): Knob => ({ target, setting });

/** A target-tracking policy as DescribePolicies returns it, with every field a person may have set. */
function trackingPolicy(changes: Partial<GroupPolicy> = {}): GroupPolicy {
  return {
    AutoScalingGroupName: 'prod-ecs-instances',
    PolicyName: 'cpu-reservation',
    PolicyARN:
      'arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:1:autoScalingGroupName/prod-ecs-instances:policyName/cpu-reservation',
    PolicyType: 'TargetTrackingScaling',
    EstimatedInstanceWarmup: 180,
    Enabled: true,
    Alarms: [{ AlarmName: 'TargetTracking-prod-ecs-instances-AlarmHigh-1', AlarmARN: 'arn:alarm:1' }],
    TargetTrackingConfiguration: {
      CustomizedMetricSpecification: {
        MetricName: 'CPUReservation',
        Namespace: 'AWS/ECS',
        Dimensions: [{ Name: 'ClusterName', Value: 'prod' }],
        Statistic: 'Average',
      },
      TargetValue: 70,
      DisableScaleIn: true,
    },
    ...changes,
  };
}

function stepPolicy(changes: Partial<GroupPolicy> = {}): GroupPolicy {
  return {
    AutoScalingGroupName: 'prod-ecs-instances',
    PolicyName: 'queue-age',
    PolicyARN:
      'arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:2:autoScalingGroupName/prod-ecs-instances:policyName/queue-age',
    PolicyType: 'StepScaling',
    AdjustmentType: 'PercentChangeInCapacity',
    MinAdjustmentStep: 2,
    MinAdjustmentMagnitude: 2,
    MetricAggregationType: 'Maximum',
    EstimatedInstanceWarmup: 120,
    // Set long ago; PutScalingPolicy takes Cooldown for simple scaling only.
    Cooldown: 300,
    Enabled: true,
    Alarms: [{ AlarmName: 'queue-age-high', AlarmARN: 'arn:alarm:2' }],
    StepAdjustments: [
      { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 60, ScalingAdjustment: 10 },
      { MetricIntervalLowerBound: 60, ScalingAdjustment: 30 },
    ],
    ...changes,
  };
}

function servicePolicy(changes: Partial<ServicePolicy> = {}): ServicePolicy {
  return {
    PolicyARN:
      'arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:3:resource/ecs/service/prod/web:policyName/requests',
    PolicyName: 'requests',
    ServiceNamespace: 'ecs',
    ResourceId: RESOURCE_ID,
    ScalableDimension: 'ecs:service:DesiredCount',
    PolicyType: 'TargetTrackingScaling',
    CreationTime: new Date('2026-01-01T00:00:00Z'),
    Alarms: [{ AlarmName: 'TargetTracking-service/prod/web-AlarmHigh', AlarmARN: 'arn:alarm:3' }],
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: 1000,
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget',
        ResourceLabel: 'app/web/50dc6c495c0c9188/targetgroup/web/6d0ecf831eec9f09',
      },
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
      DisableScaleIn: false,
    },
    ...changes,
  };
}

const groupNotFound = () =>
  new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    message: 'Group prod-ecs-instances not found',
    $metadata: {},
  });

beforeEach(() => {
  autoScaling.reset();
  applicationAutoScaling.reset();
  ecs.reset();
});

describe('Auto Scaling group desired capacity', () => {
  const desired = knob(GROUP, { kind: 'desired' });

  it('reads desired capacity with the group min and max as its limits', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'prod-ecs-instances',
          DesiredCapacity: 4,
          MinSize: 2,
          MaxSize: 10,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-west-1a'],
          HealthCheckType: 'EC2',
          CreatedTime: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    });

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toEqual({ value: 4, limits: { min: 2, max: 10 } });
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupNames: ['prod-ecs-instances'] },
    ]);
  });

  it('reads undefined for a group that does not exist', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('sets desired capacity without honouring the group cooldown', async () => {
    // Prepare
    autoScaling.on(SetDesiredCapacityCommand).resolves({});

    // Act
    await controls.write(desired, 6);

    // Assess
    expect(autoScaling.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'prod-ecs-instances', DesiredCapacity: 6, HonorCooldown: false },
    ]);
  });

  it('refuses a value that is not a count, before sending anything', async () => {
    // Act
    const writing = controls.write(desired, 2.5);

    // Assess
    await expect(writing).rejects.toThrow(UnsupportedKnob);
    await expect(writing).rejects.toHaveProperty('name', 'UnsupportedKnob');
    expect(autoScaling).not.toHaveReceivedAnyCommand();
  });
});

describe('Auto Scaling group target-tracking target value', () => {
  const targetValue = knob(GROUP, { kind: 'target-value', policy: 'cpu-reservation' });

  it('reads the target value of the named policy of the group', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [trackingPolicy()] });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toEqual({ value: 70 });
    expect(autoScaling.commandCalls(DescribePoliciesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'prod-ecs-instances', PolicyNames: ['cpu-reservation'] },
    ]);
  });

  it('reads undefined when the policy does not exist', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('reads undefined when the group does not exist', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).rejects(groupNotFound());

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('reads undefined when the policy is not a target-tracking one', async () => {
    // Prepare
    autoScaling
      .on(DescribePoliciesCommand)
      .resolves({ ScalingPolicies: [stepPolicy({ PolicyName: 'cpu-reservation' })] });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('writes back the policy its read answered in the same look, without reading it again', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [trackingPolicy()] });
    autoScaling.on(PutGroupPolicyCommand).resolves({});
    const reading = await controls.read(targetValue);

    // Act
    await controls.write(targetValue, 55, reading);

    // Assess
    expect(autoScaling.commandCalls(DescribePoliciesCommand)).toHaveLength(1);
    const [put] = autoScaling.commandCalls(PutGroupPolicyCommand).map((c) => c.args[0].input);
    expect(put?.TargetTrackingConfiguration?.TargetValue).toBe(55);
    expect(put?.EstimatedInstanceWarmup).toBe(180);
  });

  it('puts the whole policy back with only the target value changed', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [trackingPolicy()] });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(targetValue, 55);

    // Assess
    expect(autoScaling.commandCalls(PutGroupPolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'prod-ecs-instances',
        PolicyName: 'cpu-reservation',
        PolicyType: 'TargetTrackingScaling',
        Enabled: true,
        EstimatedInstanceWarmup: 180,
        TargetTrackingConfiguration: {
          CustomizedMetricSpecification: {
            MetricName: 'CPUReservation',
            Namespace: 'AWS/ECS',
            Dimensions: [{ Name: 'ClusterName', Value: 'prod' }],
            Statistic: 'Average',
          },
          TargetValue: 55,
          DisableScaleIn: true,
        },
      },
    ]);
  });

  it('keeps a metric-math customized metric as it is', async () => {
    // Prepare
    const metrics = [
      {
        Id: 'm1',
        MetricStat: {
          Metric: { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' },
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      { Id: 'e1', Expression: 'm1 / 4', Label: 'backlog per instance', ReturnData: true },
    ];
    autoScaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [
        trackingPolicy({
          EstimatedInstanceWarmup: undefined,
          TargetTrackingConfiguration: {
            CustomizedMetricSpecification: { Metrics: metrics },
            TargetValue: 100,
          },
        }),
      ],
    });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(targetValue, 50);

    // Assess
    const input = autoScaling.commandCalls(PutGroupPolicyCommand)[0]!.args[0].input;
    expect(input.TargetTrackingConfiguration).toEqual({
      CustomizedMetricSpecification: { Metrics: metrics },
      TargetValue: 50,
    });
    expect(input).not.toHaveProperty('EstimatedInstanceWarmup');
  });

  it('sends nothing when the policy already has that value', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [trackingPolicy()] });

    // Act
    await controls.write(targetValue, 70);

    // Assess
    expect(autoScaling).not.toHaveReceivedCommand(PutGroupPolicyCommand);
  });

  it('fails with ScalingKnobNotFound when the policy is gone, never creating one', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });

    // Act
    const writing = controls.write(targetValue, 55);

    // Assess
    await expect(writing).rejects.toThrow(ScalingKnobNotFound);
    await expect(writing).rejects.toHaveProperty('name', 'ScalingKnobNotFound');
    expect(autoScaling).not.toHaveReceivedCommand(PutGroupPolicyCommand);
  });
});

describe('Auto Scaling group step adjustments', () => {
  const stepAdjustments = knob(GROUP, { kind: 'step-adjustments', policy: 'queue-age' });

  it('reads the steps, an open bound left out', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [stepPolicy()] });

    // Act
    const reading = await controls.read(stepAdjustments);

    // Assess
    expect(reading).toEqual({
      value: [
        { lower: 0, upper: 60, adjustment: 10 },
        { lower: 60, adjustment: 30 },
      ],
    });
    // The domain compares values as JSON: key order matters.
    expect(JSON.stringify(reading?.value)).toBe(
      '[{"lower":0,"upper":60,"adjustment":10},{"lower":60,"adjustment":30}]',
    );
  });

  it('reads undefined for a target-tracking policy', async () => {
    // Prepare
    autoScaling
      .on(DescribePoliciesCommand)
      .resolves({ ScalingPolicies: [trackingPolicy({ PolicyName: 'queue-age' })] });

    // Act
    const reading = await controls.read(stepAdjustments);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('puts the whole step policy back with the new steps, leaving out what only simple scaling takes', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [stepPolicy()] });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(stepAdjustments, [
      { upper: 0, adjustment: -10 },
      { lower: 0, upper: 30, adjustment: 20 },
      { lower: 30, adjustment: 50 },
    ]);

    // Assess
    expect(autoScaling.commandCalls(PutGroupPolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'prod-ecs-instances',
        PolicyName: 'queue-age',
        PolicyType: 'StepScaling',
        Enabled: true,
        EstimatedInstanceWarmup: 120,
        AdjustmentType: 'PercentChangeInCapacity',
        MinAdjustmentMagnitude: 2,
        MetricAggregationType: 'Maximum',
        StepAdjustments: [
          { MetricIntervalUpperBound: 0, ScalingAdjustment: -10 },
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 30, ScalingAdjustment: 20 },
          { MetricIntervalLowerBound: 30, ScalingAdjustment: 50 },
        ],
      },
    ]);
  });

  it('sends the deprecated MinAdjustmentStep as MinAdjustmentMagnitude', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [stepPolicy({ MinAdjustmentMagnitude: undefined, MinAdjustmentStep: 3 })],
    });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(stepAdjustments, [{ lower: 0, adjustment: 1 }]);

    // Assess
    const input = autoScaling.commandCalls(PutGroupPolicyCommand)[0]!.args[0].input;
    expect(input.MinAdjustmentMagnitude).toBe(3);
    expect(input).not.toHaveProperty('MinAdjustmentStep');
  });

  it('sends nothing when the steps are already those', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [stepPolicy()] });

    // Act
    await controls.write(stepAdjustments, [
      { lower: 0, upper: 60, adjustment: 10 },
      { lower: 60, adjustment: 30 },
    ]);

    // Assess
    expect(autoScaling).not.toHaveReceivedCommand(PutGroupPolicyCommand);
  });

  it('refuses steps on a target-tracking policy', async () => {
    // Prepare
    autoScaling
      .on(DescribePoliciesCommand)
      .resolves({ ScalingPolicies: [trackingPolicy({ PolicyName: 'queue-age' })] });

    // Act
    const writing = controls.write(stepAdjustments, [{ lower: 0, adjustment: 1 }]);

    // Assess
    await expect(writing).rejects.toThrow(UnsupportedKnob);
    expect(autoScaling).not.toHaveReceivedCommand(PutGroupPolicyCommand);
  });
});

describe('Auto Scaling group scale-in', () => {
  const scaleIn = knob(GROUP, { kind: 'scale-in', policy: 'cpu-reservation' });

  it.each([
    [true, false],
    [false, true],
    [undefined, true],
  ])('reads DisableScaleIn %p as scale-in enabled %p', async (disableScaleIn, enabled) => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({
      ScalingPolicies: [
        trackingPolicy({ TargetTrackingConfiguration: { TargetValue: 70, DisableScaleIn: disableScaleIn } }),
      ],
    });

    // Act
    const reading = await controls.read(scaleIn);

    // Assess
    expect(reading).toEqual({ value: enabled });
  });

  it('suspends scale-in by setting DisableScaleIn, the rest of the policy kept', async () => {
    // Prepare
    const policy = trackingPolicy({
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
        TargetValue: 60,
      },
    });
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [policy] });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(scaleIn, false);

    // Assess
    expect(autoScaling.commandCalls(PutGroupPolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'prod-ecs-instances',
        PolicyName: 'cpu-reservation',
        PolicyType: 'TargetTrackingScaling',
        Enabled: true,
        EstimatedInstanceWarmup: 180,
        TargetTrackingConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
          TargetValue: 60,
          DisableScaleIn: true,
        },
      },
    ]);
  });

  it('resumes scale-in by clearing DisableScaleIn', async () => {
    // Prepare
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [trackingPolicy()] });
    autoScaling.on(PutGroupPolicyCommand).resolves({});

    // Act
    await controls.write(scaleIn, true);

    // Assess
    const input = autoScaling.commandCalls(PutGroupPolicyCommand)[0]!.args[0].input;
    expect(input.TargetTrackingConfiguration).toEqual({
      ...trackingPolicy().TargetTrackingConfiguration,
      DisableScaleIn: false,
    });
  });
});

describe('ECS service desired count', () => {
  const desired = knob(SERVICE, { kind: 'desired' });

  beforeEach(() => {
    // Not under Application Auto Scaling: the desired count is the reactor's to turn.
    applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
  });

  it('has no desired-count knob when Application Auto Scaling manages the service', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        {
          ServiceNamespace: 'ecs',
          ResourceId: 'service/prod/web',
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: 2,
          MaxCapacity: 8,
          RoleARN: 'arn:aws:iam::111122223333:role/aas',
          CreationTime: new Date(0),
        },
      ],
    });

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toBeUndefined();
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
  });

  it('reads the desired count of the service', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: 'web',
          serviceArn: 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web',
          status: 'ACTIVE',
          desiredCount: 3,
        },
      ],
    });

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toEqual({ value: 3 });
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', services: ['web'] },
    ]);
  });

  it.each([
    [
      'missing',
      {
        services: [],
        failures: [{ arn: 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web', reason: 'MISSING' }],
      },
    ],
    ['deleted', { services: [{ serviceName: 'web', status: 'INACTIVE', desiredCount: 0 }] }],
  ])('reads undefined for a %s service', async (_, output) => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves(output);

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('reads undefined when the cluster does not exist', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));

    // Act
    const reading = await controls.read(desired);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('sets the desired count', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).resolves({});

    // Act
    await controls.write(desired, 5);

    // Assess
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', desiredCount: 5 },
    ]);
  });
});

describe('ECS service target-tracking target value', () => {
  const targetValue = knob(SERVICE, { kind: 'target-value', policy: 'requests' });

  it('reads the target value of the service policy', async () => {
    // Prepare
    applicationAutoScaling
      .on(DescribeScalingPoliciesCommand)
      .resolves({ ScalingPolicies: [servicePolicy()] });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toEqual({ value: 1000 });
    expect(
      applicationAutoScaling.commandCalls(DescribeScalingPoliciesCommand).map((c) => c.args[0].input),
    ).toEqual([
      {
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE_ID,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyNames: ['requests'],
      },
    ]);
  });

  it('reads undefined when the service has no such policy', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('reads undefined when the policy is a step policy', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalingPoliciesCommand).resolves({
      ScalingPolicies: [
        servicePolicy({
          PolicyType: 'StepScaling',
          TargetTrackingScalingPolicyConfiguration: undefined,
          StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity' },
        }),
      ],
    });

    // Act
    const reading = await controls.read(targetValue);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('puts the whole target-tracking configuration back with only the target value changed', async () => {
    // Prepare
    applicationAutoScaling
      .on(DescribeScalingPoliciesCommand)
      .resolves({ ScalingPolicies: [servicePolicy()] });
    applicationAutoScaling.on(PutServicePolicyCommand).resolves({ PolicyARN: 'arn:policy', Alarms: [] });

    // Act
    await controls.write(targetValue, 600);

    // Assess
    expect(applicationAutoScaling.commandCalls(PutServicePolicyCommand).map((c) => c.args[0].input)).toEqual([
      {
        PolicyName: 'requests',
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE_ID,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 600,
          PredefinedMetricSpecification: {
            PredefinedMetricType: 'ALBRequestCountPerTarget',
            ResourceLabel: 'app/web/50dc6c495c0c9188/targetgroup/web/6d0ecf831eec9f09',
          },
          ScaleOutCooldown: 60,
          ScaleInCooldown: 300,
          DisableScaleIn: false,
        },
      },
    ]);
  });

  it('sends nothing when the policy already has that value', async () => {
    // Prepare
    applicationAutoScaling
      .on(DescribeScalingPoliciesCommand)
      .resolves({ ScalingPolicies: [servicePolicy()] });

    // Act
    await controls.write(targetValue, 1000);

    // Assess
    expect(applicationAutoScaling).not.toHaveReceivedCommand(PutServicePolicyCommand);
  });

  it('fails with ScalingKnobNotFound when the policy is gone', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalingPoliciesCommand).resolves({ ScalingPolicies: [] });

    // Act
    const writing = controls.write(targetValue, 600);

    // Assess
    await expect(writing).rejects.toThrow(ScalingKnobNotFound);
    expect(applicationAutoScaling).not.toHaveReceivedCommand(PutServicePolicyCommand);
  });
});

describe('ECS service capacity range', () => {
  const range = knob(SERVICE, { kind: 'capacity-range' });

  it('reads min and max of the scalable target', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({
      ScalableTargets: [
        {
          ServiceNamespace: 'ecs',
          ResourceId: RESOURCE_ID,
          ScalableDimension: 'ecs:service:DesiredCount',
          MinCapacity: 2,
          MaxCapacity: 20,
          RoleARN:
            'arn:aws:iam::111122223333:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService',
          CreationTime: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    });

    // Act
    const reading = await controls.read(range);

    // Assess
    expect(reading).toEqual({ value: { min: 2, max: 20 } });
    expect(
      applicationAutoScaling.commandCalls(DescribeScalableTargetsCommand).map((c) => c.args[0].input),
    ).toEqual([
      { ServiceNamespace: 'ecs', ResourceIds: [RESOURCE_ID], ScalableDimension: 'ecs:service:DesiredCount' },
    ]);
  });

  it('reads undefined when the service is not a scalable target', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });

    // Act
    const reading = await controls.read(range);

    // Assess
    expect(reading).toBeUndefined();
  });

  it('registers the new min and max and nothing else, so role and suspended state stay', async () => {
    // Prepare
    applicationAutoScaling.on(RegisterScalableTargetCommand).resolves({});

    // Act
    await controls.write(range, { min: 4, max: 30 });

    // Assess
    expect(
      applicationAutoScaling.commandCalls(RegisterScalableTargetCommand).map((c) => c.args[0].input),
    ).toEqual([
      {
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE_ID,
        ScalableDimension: 'ecs:service:DesiredCount',
        MinCapacity: 4,
        MaxCapacity: 30,
      },
    ]);
  });

  it('names the service by cluster name when the cluster is given as an ARN', async () => {
    // Prepare
    applicationAutoScaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    const byArn = knob(
      { kind: 'ecs-service', cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod', service: 'web' },
      { kind: 'capacity-range' },
    );

    // Act
    await controls.read(byArn);

    // Assess
    expect(
      applicationAutoScaling.commandCalls(DescribeScalableTargetsCommand)[0]!.args[0].input.ResourceIds,
    ).toEqual([RESOURCE_ID]);
  });

  it('refuses a range with min above max', async () => {
    // Act
    const writing = controls.write(range, { min: 5, max: 3 });

    // Assess
    await expect(writing).rejects.toThrow(UnsupportedKnob);
    expect(applicationAutoScaling).not.toHaveReceivedAnyCommand();
  });
});

describe('knobs a target does not have', () => {
  it.each([
    ['a group capacity range', knob(GROUP, { kind: 'capacity-range' })],
    ['service step adjustments', knob(SERVICE, { kind: 'step-adjustments', policy: 'requests' })],
    ['service scale-in', knob(SERVICE, { kind: 'scale-in', policy: 'requests' })],
  ])('refuses %s, on read and on write', async (_, unsupported) => {
    // Act / Assess
    await expect(controls.read(unsupported)).rejects.toThrow(UnsupportedKnob);
    await expect(controls.write(unsupported, 1)).rejects.toThrow(UnsupportedKnob);
  });
});
