import {
  CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';

const cloudWatch = mockClient(CloudWatchClient);
const alarms = new CloudWatchAlarmStates(cloudWatch as unknown as CloudWatchClient);

const alarmArn = (name: string) => `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${name}`;

function metricAlarm(name: string, changes: Partial<MetricAlarm> = {}): MetricAlarm {
  return {
    AlarmName: name,
    AlarmArn: alarmArn(name),
    StateValue: 'ALARM',
    MetricName: 'TargetResponseTime',
    Namespace: 'AWS/ApplicationELB',
    ...changes,
  };
}

function compositeAlarm(name: string, changes: Partial<CompositeAlarm> = {}): CompositeAlarm {
  return {
    AlarmName: name,
    AlarmArn: alarmArn(name),
    StateValue: 'ALARM',
    AlarmRule: 'ALARM(web-latency-high) AND ALARM(web-5xx-high)',
    ...changes,
  };
}

beforeEach(() => cloudWatch.reset());

describe('describe', () => {
  it('asks for metric and composite alarms by exact name and maps a metric alarm', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('web-latency-high')] });

    // Act
    const alarm = await alarms.describe('web-latency-high', { withTags: false });

    // Assess
    expect(alarm).toEqual({
      name: 'web-latency-high',
      arn: alarmArn('web-latency-high'),
      state: 'ALARM',
      type: 'metric',
      tags: {},
    });
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
      { AlarmNames: ['web-latency-high'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
    ]);
    expect(cloudWatch).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it('finds a composite alarm', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [],
      CompositeAlarms: [compositeAlarm('web-degraded', { StateValue: 'OK' })],
    });

    // Act
    const alarm = await alarms.describe('web-degraded', { withTags: false });

    // Assess
    expect(alarm).toMatchObject({ name: 'web-degraded', state: 'OK', type: 'composite' });
  });

  it('finds a metric-math alarm, which is a metric alarm without a metric name', async () => {
    // Prepare
    const mathAlarm = metricAlarm('web-error-rate', {
      StateValue: 'INSUFFICIENT_DATA',
      MetricName: undefined,
      Namespace: undefined,
      Metrics: [
        {
          Id: 'errors',
          MetricStat: { Metric: { MetricName: 'HTTPCode_Target_5XX_Count' }, Period: 60, Stat: 'Sum' },
        },
        { Id: 'rate', Expression: 'errors / 60', ReturnData: true },
      ],
    });
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [mathAlarm] });

    // Act
    const alarm = await alarms.describe('web-error-rate', { withTags: false });

    // Assess
    expect(alarm).toMatchObject({ name: 'web-error-rate', state: 'INSUFFICIENT_DATA', type: 'metric' });
  });

  it('reads the tags from the alarm ARN when asked for them', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('web-latency-high')] });
    cloudWatch.on(ListTagsForResourceCommand).resolves({
      Tags: [
        { Key: 'ecs-reflex/reaction', Value: 'scale-web' },
        { Key: 'team', Value: 'web' },
      ],
    });

    // Act
    const alarm = await alarms.describe('web-latency-high', { withTags: true });

    // Assess
    expect(alarm?.tags).toEqual({ 'ecs-reflex/reaction': 'scale-web', team: 'web' });
    expect(cloudWatch.commandCalls(ListTagsForResourceCommand).map((c) => c.args[0].input)).toEqual([
      { ResourceARN: alarmArn('web-latency-high') },
    ]);
  });

  it('returns undefined for an alarm that does not exist, without asking for tags', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], CompositeAlarms: [] });

    // Act
    const alarm = await alarms.describe('deleted-alarm', { withTags: true });

    // Assess
    expect(alarm).toBeUndefined();
    expect(cloudWatch).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it('takes only the alarm with the very name asked for', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [metricAlarm('web-latency-high-2')] });

    // Act
    const alarm = await alarms.describe('web-latency-high', { withTags: false });

    // Assess
    expect(alarm).toBeUndefined();
  });

  it('reads a state it does not know as INSUFFICIENT_DATA: neither ALARM nor OK', async () => {
    // Prepare
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [metricAlarm('web-latency-high', { StateValue: 'MUTED' as never })] });

    // Act
    const alarm = await alarms.describe('web-latency-high', { withTags: false });

    // Assess
    expect(alarm?.state).toBe('INSUFFICIENT_DATA');
  });
});

describe('tags of alarms the role may not read', () => {
  it('reads as no tags, so an unrelated alarm selects no reaction instead of failing', async () => {
    // Prepare
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'other-team-alarm',
          AlarmArn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:other-team-alarm',
          StateValue: 'ALARM',
        },
      ],
    });
    cloudWatch
      .on(ListTagsForResourceCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));

    // Act
    const alarm = await new CloudWatchAlarmStates(cloudWatch).describe('other-team-alarm', {
      withTags: true,
    });

    // Assess
    expect(alarm).toMatchObject({ state: 'ALARM', tags: {} });
  });
});

describe('statesOf', () => {
  it('asks for at most 100 names a call, the most DescribeAlarms takes, and maps metric and composite alarms', async () => {
    // Prepare: 150 guard alarms, one of them composite, one deleted
    const names = Array.from({ length: 150 }, (_, i) => `guard-${i}`);
    cloudWatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.filter((n) => n !== 'guard-7' && n !== 'guard-120').map((n) =>
        metricAlarm(n, { StateValue: n === 'guard-3' ? 'ALARM' : 'OK' }),
      ),
      CompositeAlarms: input.AlarmNames.includes('guard-120') ? [compositeAlarm('guard-120')] : [],
    }));

    // Act
    const states = await alarms.statesOf([...names, 'guard-3']);

    // Assess
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames)).toEqual([
      names.slice(0, 100),
      names.slice(100),
    ]);
    expect(states.get('guard-3')).toBe('ALARM');
    expect(states.get('guard-120')).toBe('ALARM');
    expect(states.get('guard-4')).toBe('OK');
    expect(states.has('guard-7')).toBe(false);
    expect(states.size).toBe(149);
  });

  it('follows NextToken within a batch', async () => {
    // Prepare
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [metricAlarm('a')], NextToken: 'more' })
      .resolvesOnce({ CompositeAlarms: [compositeAlarm('b', { StateValue: 'OK' })] });

    // Act
    const states = await alarms.statesOf(['a', 'b']);

    // Assess
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      'more',
    ]);
    expect([...states]).toEqual([
      ['a', 'ALARM'],
      ['b', 'OK'],
    ]);
  });
});
