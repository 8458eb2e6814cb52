import * as z from 'zod';
import {
  LifecycleActionEventSchema,
  LifecycleDeliverySchema,
  LifecycleNotificationSchema,
  normaliseLifecycleAction,
} from '#events/autoscaling';
import { alarmKind, CloudWatchAlarmStateChangeSchema } from '#events/cloudwatch';
import {
  ECS_STOP_CODES,
  EcsContainerInstanceStateChangeSchema,
  EcsDeploymentStateChangeSchema,
  EcsServiceActionSchema,
  EcsTaskStateChangeSchema,
  isKnownStopCode,
  parseEcsGroup,
} from '#events/ecs';
import { EventBridgeEnvelopeSchema } from '#events/envelope';
import { loadSample, sampleNames } from '#events/samples';
import { ExecutionStatusChangeSchema } from '#events/stepfunctions';

type Path = readonly (string | number)[];
type Change = { remove: true } | { set: unknown };

// Every sample file must be listed here, so a new sample without a schema fails the suite.
const SAMPLE_SCHEMAS: Record<string, z.ZodType> = {
  'asg-lifecycle-launch-eventbridge': LifecycleActionEventSchema,
  'asg-lifecycle-sns-notification': LifecycleDeliverySchema,
  'asg-lifecycle-sqs-body': LifecycleNotificationSchema,
  'asg-lifecycle-terminate-eventbridge': LifecycleActionEventSchema,
  'asg-test-notification': LifecycleNotificationSchema,
  'cloudwatch-alarm-composite': CloudWatchAlarmStateChangeSchema,
  'cloudwatch-alarm-metric-alarm': CloudWatchAlarmStateChangeSchema,
  'cloudwatch-alarm-metric-insufficient-data': CloudWatchAlarmStateChangeSchema,
  'cloudwatch-alarm-metric-math': CloudWatchAlarmStateChangeSchema,
  'cloudwatch-alarm-metric-ok': CloudWatchAlarmStateChangeSchema,
  'ecs-container-instance-draining': EcsContainerInstanceStateChangeSchema,
  'ecs-deployment-completed': EcsDeploymentStateChangeSchema,
  'ecs-deployment-failed': EcsDeploymentStateChangeSchema,
  'ecs-deployment-rollback-in-progress': EcsDeploymentStateChangeSchema,
  'ecs-service-placement-failure-fargate-spot': EcsServiceActionSchema,
  'ecs-service-placement-failure-memory': EcsServiceActionSchema,
  'ecs-service-steady-state': EcsServiceActionSchema,
  'ecs-service-task-start-impaired': EcsServiceActionSchema,
  'ecs-task-running': EcsTaskStateChangeSchema,
  'ecs-task-spot-interruption': EcsTaskStateChangeSchema,
  'ecs-task-stopped-essential-exit': EcsTaskStateChangeSchema,
  'ecs-task-stopped-failed-to-start': EcsTaskStateChangeSchema,
  'ecs-task-stopped-oom': EcsTaskStateChangeSchema,
  'ecs-task-stopped-standalone-batch': EcsTaskStateChangeSchema,
  'sfn-rollout-execution-failed': ExecutionStatusChangeSchema,
};

function changed(value: unknown, path: Path, change: Change): unknown {
  const copy = structuredClone(value);
  let cursor = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last === undefined) throw new Error('path must not be empty');
  if ('remove' in change) Reflect.deleteProperty(cursor, last);
  else cursor[last] = change.set;
  return copy;
}

function issuePaths(error: z.ZodError | undefined): PropertyKey[][] {
  return (error?.issues ?? []).map((issue) => [...issue.path]);
}

describe('samples', () => {
  it('has a schema for every sample file and a file for every listed sample', () => {
    // Prepare
    const listed = Object.keys(SAMPLE_SCHEMAS).sort();

    // Act
    const names = sampleNames();

    // Assess
    expect(names).toEqual(listed);
  });

  it.each(Object.entries(SAMPLE_SCHEMAS))('%s parses with its schema', (name, schema) => {
    // Prepare
    const sample = loadSample(name);

    // Act
    const result = schema.safeParse(sample);

    // Assess
    expect(result.error?.issues).toBeUndefined();
    expect(result.success).toBe(true);
  });

  it('every EventBridge sample also parses as a plain envelope in eu-west-1 for account 111122223333', () => {
    // Prepare
    const names = sampleNames().filter((name) => !/sns|sqs|test-notification/.test(name));

    // Act
    const envelopes = names.map((name) => EventBridgeEnvelopeSchema.parse(loadSample(name)));

    // Assess
    for (const envelope of envelopes) {
      expect(envelope.region).toBe('eu-west-1');
      expect(envelope.account).toBe('111122223333');
    }
  });

  it('returns a fresh object on every load', () => {
    // Prepare
    const first = loadSample('ecs-task-running') as { detail: { lastStatus: string } };
    first.detail.lastStatus = 'MUTATED';

    // Act
    const second = loadSample('ecs-task-running.json') as { detail: { lastStatus: string } };

    // Assess
    expect(second.detail.lastStatus).toBe('RUNNING');
    expect(second).not.toBe(first);
  });

  it('refuses a name that is a path', () => {
    // Prepare
    const name = '../envelope';

    // Act
    const load = () => loadSample(name);

    // Assess
    expect(load).toThrow(/bare file names/);
  });
});

describe('schemas reject a broken required field, naming it in the error path', () => {
  // Each case breaks one field of a sample; expectedPath defaults to the changed path.
  const cases: Array<{
    description: string;
    schema: z.ZodType;
    sample: string;
    path: Path;
    change: Change;
    expectedPath?: Path;
  }> = [
    {
      description: 'envelope without id',
      schema: EventBridgeEnvelopeSchema,
      sample: 'ecs-task-running',
      path: ['id'],
      change: { remove: true },
    },
    {
      description: 'envelope time not a date',
      schema: EventBridgeEnvelopeSchema,
      sample: 'ecs-task-running',
      path: ['time'],
      change: { set: 'yesterday' },
    },
    {
      description: 'task with another detail-type',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-running',
      path: ['detail-type'],
      change: { set: 'ECS Service Action' },
    },
    {
      description: 'task from another source',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-running',
      path: ['source'],
      change: { set: 'aws.ec2' },
    },
    {
      description: 'task without taskArn',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'taskArn'],
      change: { remove: true },
    },
    {
      description: 'task without group',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'group'],
      change: { remove: true },
    },
    {
      description: 'task version as string',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'version'],
      change: { set: '5' },
    },
    {
      description: 'task createdAt as epoch',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-running',
      path: ['detail', 'createdAt'],
      change: { set: 1718179364530 },
    },
    {
      description: 'task stopCode as number',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'stopCode'],
      change: { set: 7 },
    },
    {
      description: 'container without name',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'containers', 0, 'name'],
      change: { remove: true },
    },
    {
      description: 'container exitCode as string',
      schema: EcsTaskStateChangeSchema,
      sample: 'ecs-task-stopped-oom',
      path: ['detail', 'containers', 0, 'exitCode'],
      change: { set: '137' },
    },
    {
      description: 'service action without clusterArn',
      schema: EcsServiceActionSchema,
      sample: 'ecs-service-placement-failure-memory',
      path: ['detail', 'clusterArn'],
      change: { remove: true },
    },
    {
      description: 'service action with unknown eventType',
      schema: EcsServiceActionSchema,
      sample: 'ecs-service-placement-failure-memory',
      path: ['detail', 'eventType'],
      change: { set: 'DEBUG' },
    },
    {
      description: 'deployment without deploymentId',
      schema: EcsDeploymentStateChangeSchema,
      sample: 'ecs-deployment-failed',
      path: ['detail', 'deploymentId'],
      change: { remove: true },
    },
    {
      description: 'deployment with unknown eventName',
      schema: EcsDeploymentStateChangeSchema,
      sample: 'ecs-deployment-failed',
      path: ['detail', 'eventName'],
      change: { set: 'SERVICE_DEPLOYMENT_PAUSED' },
    },
    {
      description: 'container instance agentConnected as string',
      schema: EcsContainerInstanceStateChangeSchema,
      sample: 'ecs-container-instance-draining',
      path: ['detail', 'agentConnected'],
      change: { set: 'true' },
    },
    {
      description: 'container instance without containerInstanceArn',
      schema: EcsContainerInstanceStateChangeSchema,
      sample: 'ecs-container-instance-draining',
      path: ['detail', 'containerInstanceArn'],
      change: { remove: true },
    },
    {
      description: 'alarm without alarmName',
      schema: CloudWatchAlarmStateChangeSchema,
      sample: 'cloudwatch-alarm-metric-alarm',
      path: ['detail', 'alarmName'],
      change: { remove: true },
    },
    {
      description: 'alarm state with unknown value',
      schema: CloudWatchAlarmStateChangeSchema,
      sample: 'cloudwatch-alarm-metric-alarm',
      path: ['detail', 'state', 'value'],
      change: { set: 'WARNING' },
    },
    {
      description: 'alarm previousState timestamp as number',
      schema: CloudWatchAlarmStateChangeSchema,
      sample: 'cloudwatch-alarm-metric-ok',
      path: ['detail', 'previousState', 'timestamp'],
      change: { set: 1718211727459 },
    },
    {
      description: 'composite alarm without alarmRule',
      schema: CloudWatchAlarmStateChangeSchema,
      sample: 'cloudwatch-alarm-composite',
      path: ['detail', 'configuration', 'alarmRule'],
      change: { remove: true },
      expectedPath: ['detail', 'configuration'],
    },
    {
      description: 'lifecycle event without token',
      schema: LifecycleActionEventSchema,
      sample: 'asg-lifecycle-terminate-eventbridge',
      path: ['detail', 'LifecycleActionToken'],
      change: { remove: true },
    },
    {
      description: 'lifecycle event whose transition contradicts its detail-type',
      schema: LifecycleActionEventSchema,
      sample: 'asg-lifecycle-terminate-eventbridge',
      path: ['detail', 'LifecycleTransition'],
      change: { set: 'autoscaling:EC2_INSTANCE_LAUNCHING' },
    },
    {
      description: 'lifecycle message without instance id',
      schema: LifecycleNotificationSchema,
      sample: 'asg-lifecycle-sqs-body',
      path: ['EC2InstanceId'],
      change: { remove: true },
    },
    {
      description: 'test notification without group ARN',
      schema: LifecycleNotificationSchema,
      sample: 'asg-test-notification',
      path: ['AutoScalingGroupARN'],
      change: { remove: true },
    },
  ];

  it.each(cases)('$description', ({ schema, sample, path, change, expectedPath }) => {
    // Prepare
    const broken = changed(loadSample(sample), path, change);

    // Act
    const result = schema.safeParse(broken);

    // Assess
    expect(result.success).toBe(false);
    expect(issuePaths(result.error)).toContainEqual([...(expectedPath ?? path)]);
  });
});

describe('schemas tolerate fields AWS may add', () => {
  const cases: Array<{ sample: string; schema: z.ZodType; path: Path }> = [
    {
      sample: 'ecs-task-stopped-essential-exit',
      schema: EcsTaskStateChangeSchema,
      path: ['detail', 'containers', 0, 'futureField'],
    },
    {
      sample: 'ecs-task-stopped-essential-exit',
      schema: EcsTaskStateChangeSchema,
      path: ['detail', 'futureField'],
    },
    {
      sample: 'ecs-service-placement-failure-memory',
      schema: EcsServiceActionSchema,
      path: ['detail', 'futureField'],
    },
    {
      sample: 'ecs-deployment-failed',
      schema: EcsDeploymentStateChangeSchema,
      path: ['detail', 'futureField'],
    },
    {
      sample: 'ecs-container-instance-draining',
      schema: EcsContainerInstanceStateChangeSchema,
      path: ['detail', 'futureField'],
    },
    {
      sample: 'cloudwatch-alarm-metric-math',
      schema: CloudWatchAlarmStateChangeSchema,
      path: ['detail', 'configuration', 'metrics', 1, 'futureField'],
    },
    {
      sample: 'cloudwatch-alarm-composite',
      schema: CloudWatchAlarmStateChangeSchema,
      path: ['detail', 'state', 'futureField'],
    },
    {
      sample: 'asg-lifecycle-launch-eventbridge',
      schema: LifecycleActionEventSchema,
      path: ['detail', 'futureField'],
    },
    { sample: 'asg-lifecycle-sqs-body', schema: LifecycleNotificationSchema, path: ['futureField'] },
    { sample: 'asg-test-notification', schema: LifecycleNotificationSchema, path: ['futureField'] },
    { sample: 'ecs-task-running', schema: EcsTaskStateChangeSchema, path: ['futureField'] },
  ];

  it.each(cases)('$sample keeps an unknown field at $path', ({ sample, schema, path }) => {
    // Prepare
    const extended = changed(loadSample(sample), path, { set: { added: 'by AWS' } });

    // Act
    const parsed = schema.parse(extended);

    // Assess
    expect(parsed).toEqual(extended);
  });
});

describe('ECS helpers', () => {
  it.each([
    ['service:web', { kind: 'service', name: 'web' }],
    ['family:batch', { kind: 'family', name: 'batch' }],
    // Service names may not contain a colon, but the split must still only use the first one.
    ['family:batch:v2', { kind: 'family', name: 'batch:v2' }],
    ['service:', undefined],
    [':web', undefined],
    ['web', undefined],
    ['daemon:agent', undefined],
    ['', undefined],
  ])('parseEcsGroup(%j)', (group, expected) => {
    // Prepare
    const input = group;

    // Act
    const parsed = parseEcsGroup(input);

    // Assess
    expect(parsed).toEqual(expected);
  });

  it('reads the group from a parsed task event', () => {
    // Prepare
    const event = EcsTaskStateChangeSchema.parse(loadSample('ecs-task-stopped-standalone-batch'));

    // Act
    const group = parseEcsGroup(event.detail.group);

    // Assess
    expect(group).toEqual({ kind: 'family', name: 'batch' });
  });

  it('knows the documented stop codes and keeps unknown ones parseable', () => {
    // Prepare
    const event = changed(loadSample('ecs-task-stopped-oom'), ['detail', 'stopCode'], {
      set: 'SomethingNew',
    });

    // Act
    const parsed = EcsTaskStateChangeSchema.parse(event);

    // Assess
    expect(parsed.detail.stopCode).toBe('SomethingNew');
    expect(isKnownStopCode(parsed.detail.stopCode)).toBe(false);
    expect(ECS_STOP_CODES.every((code) => isKnownStopCode(code))).toBe(true);
    expect(isKnownStopCode(undefined)).toBe(false);
  });
});

describe('CloudWatch alarm kinds', () => {
  it.each([
    ['cloudwatch-alarm-metric-alarm', 'metric'],
    ['cloudwatch-alarm-metric-math', 'metric-math'],
    ['cloudwatch-alarm-composite', 'composite'],
  ])('%s is a %s alarm', (sample, expected) => {
    // Prepare
    const event = CloudWatchAlarmStateChangeSchema.parse(loadSample(sample));

    // Act
    const kind = alarmKind(event.detail.configuration);

    // Assess
    expect(kind).toBe(expected);
  });
});

describe('normaliseLifecycleAction', () => {
  const launch = {
    kind: 'lifecycle-action',
    transition: 'launch',
    groupName: 'prod-ecs-ondemand',
    hookName: 'ecs-reflex-launch',
    instanceId: 'i-0f9e8d7c6b5a43210',
    token: '3c5e7a9b-1d3f-4a5c-8e7b-9d1f3a5c7e9b',
    metadata: '{"clusterName":"prod"}',
    origin: 'EC2',
    destination: 'AutoScalingGroup',
  };
  const terminate = {
    kind: 'lifecycle-action',
    transition: 'terminate',
    groupName: 'prod-ecs-ondemand',
    hookName: 'ecs-reflex-terminate',
    instanceId: 'i-0a1b2c3d4e5f60718',
    token: '8e0a2c4e-6b8d-4f0a-9c4e-6b8d0f2a4c6e',
    metadata: '{"clusterName":"prod"}',
    origin: 'AutoScalingGroup',
    destination: 'EC2',
  };
  // Where it comes from: the envelope's account and region, or a notification's AccountId and its topic's region.
  const eventBridge = { account: '111122223333', region: 'eu-west-1' };
  const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:prod-ecs-lifecycle';

  it.each([
    [
      'an EventBridge launch event',
      () => loadSample('asg-lifecycle-launch-eventbridge'),
      { ...launch, at: '2024-06-14T05:31:12Z', ...eventBridge },
    ],
    [
      'an EventBridge terminate event',
      () => loadSample('asg-lifecycle-terminate-eventbridge'),
      { ...terminate, at: '2024-06-14T03:15:19Z', ...eventBridge },
    ],
    [
      'an EventBridge event delivered through SQS (body text)',
      () => JSON.stringify(loadSample('asg-lifecycle-terminate-eventbridge')),
      { ...terminate, at: '2024-06-14T03:15:19Z', ...eventBridge },
    ],
    [
      'an SQS message body (parsed)',
      () => loadSample('asg-lifecycle-sqs-body'),
      { ...launch, at: '2024-06-14T05:31:12.684Z', account: '111122223333' },
    ],
    [
      'an SQS message body (text)',
      () => JSON.stringify(loadSample('asg-lifecycle-sqs-body')),
      { ...launch, at: '2024-06-14T05:31:12.684Z', account: '111122223333' },
    ],
    [
      'an SNS notification',
      () => loadSample('asg-lifecycle-sns-notification'),
      { ...terminate, at: '2024-06-14T03:15:19.402Z', ...eventBridge, topicArn: TOPIC },
    ],
    [
      'an SNS notification delivered through SQS (body text)',
      () => JSON.stringify(loadSample('asg-lifecycle-sns-notification')),
      { ...terminate, at: '2024-06-14T03:15:19.402Z', ...eventBridge, topicArn: TOPIC },
    ],
  ])('normalises %s', (_form, input, expected) => {
    // Prepare
    const delivery = input();

    // Act
    const normalised = normaliseLifecycleAction(delivery);

    // Assess
    expect(normalised).toStrictEqual(expected);
  });

  it('leaves out optional fields the delivery does not carry', () => {
    // Prepare
    let message = changed(loadSample('asg-lifecycle-sqs-body'), ['NotificationMetadata'], { set: null });
    for (const key of ['Origin', 'Destination']) message = changed(message, [key], { remove: true });

    // Act
    const normalised = normaliseLifecycleAction(message);

    // Assess
    expect(normalised).toStrictEqual({
      kind: 'lifecycle-action',
      transition: 'launch',
      groupName: 'prod-ecs-ondemand',
      hookName: 'ecs-reflex-launch',
      instanceId: 'i-0f9e8d7c6b5a43210',
      token: '3c5e7a9b-1d3f-4a5c-8e7b-9d1f3a5c7e9b',
      at: '2024-06-14T05:31:12.684Z',
      account: '111122223333',
    });
  });

  it.each([
    ['the test notification (parsed)', () => loadSample('asg-test-notification')],
    ['the test notification (text)', () => JSON.stringify(loadSample('asg-test-notification'))],
    [
      'the test notification inside an SNS notification',
      () => ({
        ...(loadSample('asg-lifecycle-sns-notification') as object),
        Message: JSON.stringify(loadSample('asg-test-notification')),
      }),
    ],
    [
      'a test notification missing fields',
      () => ({ Event: 'autoscaling:TEST_NOTIFICATION', AutoScalingGroupName: 'prod-ecs-ondemand' }),
    ],
    [
      'a test notification shaped as an EventBridge event',
      () =>
        changed(loadSample('asg-lifecycle-terminate-eventbridge'), ['detail'], {
          set: {
            Event: 'autoscaling:TEST_NOTIFICATION',
            LifecycleTransition: 'autoscaling:TEST_NOTIFICATION',
          },
        }),
    ],
  ])('recognises %s and skips it', (_form, input) => {
    // Prepare
    const delivery = input();

    // Act
    const normalised = normaliseLifecycleAction(delivery);

    // Assess
    expect(normalised).toStrictEqual({ kind: 'test-notification' });
  });

  it.each([
    ['text that is not JSON', 'Service: AWS Auto Scaling', []],
    [
      'a message without a token',
      changed(loadSample('asg-lifecycle-sqs-body'), ['LifecycleActionToken'], { remove: true }),
      ['LifecycleActionToken'],
    ],
    [
      'an event with an unknown transition',
      changed(loadSample('asg-lifecycle-launch-eventbridge'), ['detail', 'LifecycleTransition'], {
        set: 'autoscaling:EC2_INSTANCE_REBOOTING',
      }),
      ['detail', 'LifecycleTransition'],
    ],
    ['a number', 42, []],
  ] as Array<[string, unknown, Path]>)('rejects %s with a structured reason', (_form, input, path) => {
    // Prepare
    const delivery = input;

    // Act
    const result = LifecycleDeliverySchema.safeParse(delivery);

    // Assess
    expect(result.success).toBe(false);
    expect(issuePaths(result.error)).toContainEqual([...path]);
    expect(() => normaliseLifecycleAction(delivery)).toThrow(z.ZodError);
  });
});
