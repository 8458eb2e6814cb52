// The twin's EC2 Auto Scaling, Application Auto Scaling and CloudWatch, reached through real SDK clients:
// the answers, refusals and pages the adapters meet must be the ones the API references document.
import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  type DescribeScalableTargetsCommandInput,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand as PutServicePolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeTagsCommand,
  LimitExceededFault,
  PutScalingPolicyCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  InvalidParameterCombinationException,
  MissingRequiredParameterException,
  ValidationException,
} from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { TwinCloudWatch } from '#local/twin/alarms';
import { applicationAutoScalingModel } from '#local/twin/aws/applicationAutoScaling';
import { autoScalingModel } from '#local/twin/aws/autoScaling';
import { TwinSendLayer } from '#local/twin/aws/client';
import { cloudWatchModel, type MetricStore } from '#local/twin/aws/cloudWatch';
import { ecsModel } from '#local/twin/aws/ecs';
import { Faults } from '#local/twin/aws/faults';
import { TwinLifecycle } from '#local/twin/lifecycle';
import { TwinScaling } from '#local/twin/scaling';
import { VirtualScheduler } from '#local/twin/scheduler';
import { World } from '#local/twin/world';

const START = new Date('2026-11-02T09:00:00Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

function aTwin(metrics: MetricStore = { query: () => ({}) }) {
  const clock = new VirtualScheduler(START);
  const world = new World(clock, { event: () => undefined, note: () => undefined }, 5);
  world.addCluster('prod');
  const scaling = new TwinScaling(world, () => undefined);
  scaling.addGroup({
    name: 'prod-asg',
    cluster: 'prod',
    min: 1,
    max: 4,
    desired: 2,
    instance: { cpu: 2048, memory: 4096 },
    launchSeconds: 30,
    policies: new Map([
      [
        'cpu',
        {
          name: 'cpu',
          type: 'TargetTrackingScaling',
          targetValue: 50,
          disableScaleIn: false,
          metric: 'ASGAverageCPUUtilization',
        },
      ],
    ]),
  });
  const lifecycle = new TwinLifecycle(world, scaling, () => undefined);
  const cloudWatch = new TwinCloudWatch(
    world,
    () => undefined,
    () => undefined,
  );
  const faults = new Faults(1);
  const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults });
  return {
    clock,
    faults,
    lifecycle,
    world,
    scaling,
    cloudWatch,
    autoScaling: aws.client(AutoScalingClient, autoScalingModel(world, scaling, lifecycle)),
    ecs: aws.client(ECSClient, ecsModel(world, { autoScalingGroups: () => scaling.groups.values() })),
    applicationAutoScaling: aws.client(
      ApplicationAutoScalingClient,
      applicationAutoScalingModel(world, scaling),
    ),
    cloudWatchClient: aws.client(CloudWatchClient, cloudWatchModel(cloudWatch, metrics)),
  };
}

describe('twin EC2 Auto Scaling', () => {
  it('refuses a desired capacity outside min..max with ValidationError, and sets one inside', async () => {
    // Prepare
    const { autoScaling, scaling, world } = aTwin();

    // Act & Assess
    await expect(
      autoScaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'prod-asg', DesiredCapacity: 5 }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup.',
    });
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'prod-asg', DesiredCapacity: 3 }),
    );
    expect(scaling.group('prod-asg').desired).toBe(3);
    expect(world.apiCalls.map((c) => [c.api, c.target, c.failed])).toEqual([
      ['SetDesiredCapacity', 'prod-asg desired=5', 'ValidationError'],
      ['SetDesiredCapacity', 'prod-asg desired=3', undefined],
    ]);
  });

  it('answers an empty list for a group that does not exist, and the group with its instances', async () => {
    // Prepare
    const { autoScaling } = aTwin();

    // Act
    const missing = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope'] }),
    );
    const found = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['prod-asg'] }),
    );

    // Assess
    expect(missing.AutoScalingGroups).toEqual([]);
    expect(found.AutoScalingGroups?.[0]).toMatchObject({
      AutoScalingGroupName: 'prod-asg',
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 2,
    });
    expect(found.AutoScalingGroups?.[0]?.AutoScalingGroupARN).toMatch(/:autoScalingGroupName\/prod-asg$/);
    expect(found.AutoScalingGroups?.[0]?.Instances?.map((i) => i.LifecycleState)).toEqual([
      'InService',
      'InService',
    ]);
  });

  it('pages tags with NextToken and refuses a token it did not hand out', async () => {
    // Prepare
    const { autoScaling } = aTwin();
    const tag = (Key: string) => ({
      ResourceId: 'prod-asg',
      ResourceType: 'auto-scaling-group',
      Key,
      Value: Key,
      PropagateAtLaunch: false,
    });
    await autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('a'), tag('b'), tag('c')] }));
    const filters = [{ Name: 'auto-scaling-group', Values: ['prod-asg'] }];

    // Act
    const first = await autoScaling.send(new DescribeTagsCommand({ Filters: filters, MaxRecords: 2 }));
    const second = await autoScaling.send(
      new DescribeTagsCommand({ Filters: filters, MaxRecords: 2, NextToken: first.NextToken }),
    );

    // Assess
    expect(first.Tags?.map((t) => t.Key)).toEqual(['a', 'b']);
    expect(second.Tags?.map((t) => t.Key)).toEqual(['c']);
    expect(second.NextToken).toBeUndefined();
    await expect(
      autoScaling.send(new DescribeTagsCommand({ Filters: filters, NextToken: 'forged' })),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });

  it('refuses tags past 50 on a group with the name the SDK gives the error, and writes none of them', async () => {
    // Prepare
    const { autoScaling, scaling } = aTwin();
    const tags = Array.from({ length: 51 }, (_, i) => ({
      ResourceId: 'prod-asg',
      ResourceType: 'auto-scaling-group',
      Key: `k${i}`,
      Value: 'v',
      PropagateAtLaunch: false,
    }));

    // Act
    const refused = autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: tags }));

    // Assess: Auto Scaling answers the code LimitExceeded, which the SDK raises as LimitExceededFault.
    await expect(refused).rejects.toMatchObject({ name: LimitExceededFault.name });
    expect(scaling.groups.get('prod-asg')?.tags).toEqual({});
  });

  it('answers "No active Lifecycle Action" for an action that is not there', async () => {
    // Prepare
    const { autoScaling } = aTwin();

    // Act
    const completing = autoScaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'prod-asg',
        LifecycleHookName: 'drain',
        InstanceId: 'i-0123456789abcdef0',
        LifecycleActionResult: 'CONTINUE',
      }),
    );

    // Assess
    await expect(completing).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'No active Lifecycle Action found with instance ID i-0123456789abcdef0',
    });
  });

  it('completes an action once when the completion took effect and its answer was lost: the SDK retries, Auto Scaling says it is gone, the adapter is done', async () => {
    // Prepare: an instance held in Terminating:Wait, and every completion timing out after it took effect
    const { autoScaling, ecs, clock, faults, lifecycle, scaling, world } = aTwin();
    lifecycle.addHook('prod-asg', {
      name: 'drain',
      transition: 'terminate',
      heartbeatTimeoutSeconds: 300,
      defaultResult: 'ABANDON',
    });
    scaling.start();
    scaling.setDesiredCapacity('prod-asg', 1);
    await clock.runUntil(at(1));
    const [action] = lifecycle.pending();
    faults.add({
      api: 'CompleteLifecycleAction',
      from: at(0),
      until: at(60),
      rate: 1,
      error: 'TimeoutError',
      applied: true,
    });
    const actions = new AutoScalingLifecycleActions({ autoScaling, ecs });

    // Act: inside the twin's clock, so the SDK's backoff waits in virtual time
    let outcome = 'pending';
    clock.after(0, 'complete', async () => {
      outcome = await actions
        .complete(
          { groupName: 'prod-asg', hookName: 'drain', instanceId: action!.instanceId, token: action!.token },
          'CONTINUE',
        )
        .then(
          () => 'done',
          (error: Error) => error.name,
        );
    });
    await clock.runUntil(at(2));

    // Assess
    expect(outcome).toBe('done');
    expect(lifecycle.completions.map((c) => [c.instanceId, c.result, c.by])).toEqual([
      [action!.instanceId, 'CONTINUE', 'call'],
    ]);
    expect(
      world.apiCalls
        .filter((c) => c.api === 'CompleteLifecycleAction')
        .map((c) => [c.attempt, c.answered ?? c.failed]),
    ).toEqual([
      [undefined, 'TimeoutError'],
      [2, 'ValidationError'],
    ]);
  });

  it('replaces the whole policy on PutScalingPolicy: what is left out takes its default', async () => {
    // Prepare
    const { autoScaling } = aTwin();
    const put = (DisableScaleIn?: boolean) =>
      autoScaling.send(
        new PutScalingPolicyCommand({
          AutoScalingGroupName: 'prod-asg',
          PolicyName: 'cpu',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingConfiguration: {
            PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
            TargetValue: 60,
            ...(DisableScaleIn === undefined ? {} : { DisableScaleIn }),
          },
        }),
      );
    const read = async () =>
      (await autoScaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: 'prod-asg' })))
        .ScalingPolicies?.[0]?.TargetTrackingConfiguration;

    // Act
    await put(true);
    const disabled = await read();
    await put();
    const reset = await read();

    // Assess
    expect([disabled?.TargetValue, disabled?.DisableScaleIn]).toEqual([60, true]);
    expect(reset?.DisableScaleIn).toBe(false);
  });
});

describe('twin Application Auto Scaling', () => {
  it('registers a target only with both capacities, moves the desired count into a new range, and refuses a policy without a target', async () => {
    // Prepare
    const { applicationAutoScaling, world } = aTwin();
    world.addTaskDefinition({
      family: 'web',
      revision: 1,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'app',
      containerPort: 8080,
      behaviour: { startSeconds: 10, healthy: true },
    });
    world.addService({
      cluster: 'prod',
      name: 'web',
      taskDefinition: 'web:1',
      desiredCount: 2,
      targetGroups: [],
      maximumPercent: 200,
      circuitBreaker: false,
      healthCheckGraceSeconds: 60,
      history: [],
    });
    const target = {
      ServiceNamespace: 'ecs' as const,
      ResourceId: 'service/prod/web',
      ScalableDimension: 'ecs:service:DesiredCount' as const,
    };

    // Act & Assess
    await expect(
      applicationAutoScaling.send(
        new PutServicePolicyCommand({
          ...target,
          PolicyName: 'cpu',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 50 },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ObjectNotFoundException' });
    await expect(
      applicationAutoScaling.send(new RegisterScalableTargetCommand({ ...target, MinCapacity: 3 })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await applicationAutoScaling.send(
      new RegisterScalableTargetCommand({ ...target, MinCapacity: 3, MaxCapacity: 6 }),
    );
    const described = await applicationAutoScaling.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: 'ecs', ResourceIds: [target.ResourceId] }),
    );
    expect(described.ScalableTargets?.map((t) => [t.ResourceId, t.MinCapacity, t.MaxCapacity])).toEqual([
      ['service/prod/web', 3, 6],
    ]);
    expect(world.service('prod', 'web')?.desiredCount).toBe(3);
  });

  it('refuses a namespace it does not know, and one not given, in the API validation wording', async () => {
    // Prepare
    const { applicationAutoScaling } = aTwin();
    const describe = (ServiceNamespace: string | undefined) =>
      applicationAutoScaling.send(
        new DescribeScalableTargetsCommand({ ServiceNamespace } as DescribeScalableTargetsCommandInput),
      );

    // Act & Assess
    await expect(describe('ecz')).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(
        /^1 validation error detected: Value 'ecz' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: \[ecs, /,
      ),
    });
    await expect(describe(undefined)).rejects.toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null",
    });
  });

  it('keeps a target tracking policy as it was put, and describes it back with DisableScaleIn written out', async () => {
    // Prepare
    const { applicationAutoScaling, scaling } = aTwin();
    scaling.addServiceScaling({ cluster: 'prod', service: 'web', min: 1, max: 4, policies: new Map() });
    const target = {
      ServiceNamespace: 'ecs' as const,
      ResourceId: 'service/prod/web',
      ScalableDimension: 'ecs:service:DesiredCount' as const,
    };
    const configuration = {
      TargetValue: 40,
      CustomizedMetricSpecification: { MetricName: 'Backlog', Namespace: 'Shop', Statistic: 'Sum' as const },
      ScaleOutCooldown: 60,
    };

    // Act
    await applicationAutoScaling.send(
      new PutServicePolicyCommand({
        ...target,
        PolicyName: 'backlog',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: configuration,
      }),
    );
    const described = await applicationAutoScaling.send(
      new DescribeScalingPoliciesCommand({ ...target, PolicyNames: ['backlog'] }),
    );

    // Assess
    expect(described.ScalingPolicies).toEqual([
      expect.objectContaining({
        PolicyName: 'backlog',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { ...configuration, DisableScaleIn: false },
      }),
    ]);
  });
});

describe('twin CloudWatch', () => {
  const silence = {
    kind: 'metric' as const,
    metric: 'Silence',
    namespace: 'Test',
    dimensions: {},
    statistic: 'Sum',
    comparison: 'GreaterThanThreshold' as const,
    threshold: 1,
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    tags: {},
  };

  it('evaluates a composite rule with NOT, AND, OR and parentheses, NOT binding tightest and AND before OR', async () => {
    // Prepare: "a" breaches (a gauge of 5 over a threshold of 1), "b" does not
    const { clock, cloudWatch } = aTwin();
    cloudWatch.addAlarm({ ...silence, name: 'a', metric: 'A' });
    cloudWatch.addAlarm({ ...silence, name: 'b', metric: 'B' });
    cloudWatch.setGauge('A', {}, 5);
    cloudWatch.setGauge('B', {}, 0);
    const rules = {
      grouped: 'ALARM("b") AND (ALARM("a") OR ALARM("b"))',
      ungrouped: 'ALARM("b") AND ALARM("a") OR ALARM("a")',
      negated: 'NOT ALARM("b") AND NOT (OK("a") OR FALSE)',
    };
    for (const [name, rule] of Object.entries(rules))
      cloudWatch.addAlarm({ kind: 'composite', name, rule, tags: {} });

    // Act
    cloudWatch.start();
    await clock.runUntil(at(2));

    // Assess
    expect(Object.keys(rules).map((name) => [name, cloudWatch.describe(name)?.state])).toEqual([
      ['grouped', 'OK'],
      ['ungrouped', 'ALARM'],
      ['negated', 'ALARM'],
    ]);
  });

  it('describes metric alarms only unless asked for composites, and pages by MaxRecords', async () => {
    // Prepare
    const { cloudWatch, cloudWatchClient } = aTwin();
    cloudWatch.addAlarm({ ...silence, name: 'a' });
    cloudWatch.addAlarm({ ...silence, name: 'b' });
    cloudWatch.addAlarm({ kind: 'composite', name: 'c', rule: 'ALARM("a")', tags: {} });

    // Act
    const byDefault = await cloudWatchClient.send(new DescribeAlarmsCommand({ AlarmNames: ['a', 'c'] }));
    const first = await cloudWatchClient.send(
      new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 2 }),
    );
    const second = await cloudWatchClient.send(
      new DescribeAlarmsCommand({
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 2,
        NextToken: first.NextToken,
      }),
    );

    // Assess
    expect(byDefault.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['a']);
    expect(byDefault.CompositeAlarms).toEqual([]);
    expect(first.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue, a.Statistic])).toEqual([
      ['a', 'INSUFFICIENT_DATA', 'Sum'],
      ['b', 'INSUFFICIENT_DATA', 'Sum'],
    ]);
    expect(second.CompositeAlarms?.map((a) => [a.AlarmName, a.AlarmRule])).toEqual([['c', 'ALARM("a")']]);
    await expect(
      cloudWatchClient.send(
        new DescribeAlarmsCommand({ AlarmNames: Array.from({ length: 101 }, (_, i) => `alarm${i}`) }),
      ),
    ).rejects.toMatchObject({ name: ValidationException.name });
    await expect(cloudWatchClient.send(new DescribeAlarmsCommand({ MaxRecords: 101 }))).rejects.toMatchObject(
      { name: ValidationException.name },
    );
  });

  it('refuses names with a prefix, and GetMetricData without its times, with the names the SDK gives those errors', async () => {
    // Prepare
    const { cloudWatchClient } = aTwin();
    const query = {
      Id: 'q',
      MetricStat: { Metric: { Namespace: 'Test', MetricName: 'A' }, Period: 60, Stat: 'Sum' },
    };

    const both = new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' });
    const noTimes = new GetMetricDataCommand({
      MetricDataQueries: [query],
    } as unknown as GetMetricDataCommandInput);

    // Act & Assess: CloudWatch's codes InvalidParameterCombination and MissingParameter, as the SDK
    // raises them (each call sent as it is awaited: a failed assertion leaves no rejection unhandled).
    await expect(cloudWatchClient.send(both)).rejects.toMatchObject({
      name: InvalidParameterCombinationException.name,
    });
    await expect(cloudWatchClient.send(noTimes)).rejects.toMatchObject({
      name: MissingRequiredParameterException.name,
    });
  });

  it('answers GetMetricData per period, newest first unless asked otherwise, in pages of MaxDatapoints', async () => {
    // Prepare: the store answers the minute a window starts at, so each period shows which it was
    const metrics: MetricStore = {
      query: (queries, window) =>
        Object.fromEntries(queries.map((q) => [q.id, (window.start.getTime() - START.getTime()) / 60_000])),
    };
    const { cloudWatchClient } = aTwin(metrics);
    const query = (Id: string) => ({
      Id,
      MetricStat: { Metric: { Namespace: 'Test', MetricName: 'Requests' }, Period: 60, Stat: 'Sum' },
    });

    // Act
    const newest = await cloudWatchClient.send(
      new GetMetricDataCommand({ MetricDataQueries: [query('m')], StartTime: at(0), EndTime: at(3) }),
    );
    const oldest = await cloudWatchClient.send(
      new GetMetricDataCommand({
        MetricDataQueries: [query('m')],
        StartTime: at(0),
        EndTime: at(3),
        ScanBy: 'TimestampAscending',
      }),
    );
    const first = await cloudWatchClient.send(
      new GetMetricDataCommand({
        MetricDataQueries: [query('a'), query('b')],
        StartTime: at(0),
        EndTime: at(2),
        MaxDatapoints: 3,
      }),
    );
    const second = await cloudWatchClient.send(
      new GetMetricDataCommand({
        MetricDataQueries: [query('a'), query('b')],
        StartTime: at(0),
        EndTime: at(2),
        MaxDatapoints: 3,
        NextToken: first.NextToken,
      }),
    );

    // Assess
    expect(newest.MetricDataResults).toEqual([
      {
        Id: 'm',
        Label: 'Requests',
        Timestamps: [at(2), at(1), at(0)],
        Values: [2, 1, 0],
        StatusCode: 'Complete',
      },
    ]);
    expect(oldest.MetricDataResults?.[0]?.Values).toEqual([0, 1, 2]);
    expect(first.MetricDataResults?.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
      ['a', [1, 0], 'Complete'],
      ['b', [1], 'PartialData'],
    ]);
    expect(second.MetricDataResults?.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
      ['a', [], 'Complete'],
      ['b', [0], 'Complete'],
    ]);
    expect(second.NextToken).toBeUndefined();
    await expect(
      cloudWatchClient.send(
        new GetMetricDataCommand({
          MetricDataQueries: [query('m'), query('m')],
          StartTime: at(0),
          EndTime: at(1),
        }),
      ),
    ).rejects.toMatchObject({ name: ValidationException.name });
  });
});
