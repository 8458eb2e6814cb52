// Amazon CloudWatch as the twin answers it: DescribeAlarms and ListTagsForResource over the twin's alarms
// (local/twin/alarms.ts evaluates them), GetMetricData over the metrics the twin's traffic publishes. Input
// checks, error names, paging and the order of datapoints as the CloudWatch API reference documents them.
import type {
  CompositeAlarm,
  DescribeAlarmsCommandInput,
  DescribeAlarmsCommandOutput,
  GetMetricDataCommandInput,
  GetMetricDataCommandOutput,
  ListTagsForResourceCommandInput,
  MetricAlarm,
  MetricDataQuery,
  MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { MetricQuery } from '#domain/rolloutAnalysis';
import { type AlarmView, namespaceOf, type TwinCloudWatch, type TwinMetricAlarm } from '#local/twin/alarms';
import { AwsServiceError, constraintError, read, type ServiceModel } from '#local/twin/aws/client';
import { offsetOf, page, queryPages, tokenAt } from '#local/twin/aws/paging';
import { MINUTE_MS } from '#local/twin/metricsMath';

/** Where GetMetricData's datapoints come from: one value per query over a window (the twin's traffic). */
export interface MetricStore {
  query(queries: MetricQuery[], window: { start: Date; end: Date }): Record<string, number | undefined>;
}

const MAX_ALARM_NAMES = 100;
const MAX_QUERIES = 500;
const MAX_DATAPOINTS = 100_800;
const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;
const QUERY_ID_MAX_LENGTH = 255;
const HIGH_RESOLUTION_PERIODS = [1, 5, 10, 20, 30];
const STANDARD_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];

// CloudWatch speaks JSON now, compatible with its Query past: the wire code ValidationError arrives in the
// SDK as its modeled ValidationException.
const validation = (message: string) => new AwsServiceError('ValidationException', message);
/** DescribeAlarms' pages: the Query APIs' rules, with CloudWatch's name for a size out of range. */
const ALARM_PAGES = { ...queryPages(100), badSize: 'ValidationException' };

export function cloudWatchModel(cloudWatch: TwinCloudWatch, metrics: MetricStore): ServiceModel {
  return {
    DescribeAlarms: read(
      (input: DescribeAlarmsCommandInput) => (input.AlarmNames ?? [input.AlarmNamePrefix ?? '*']).join(','),
      (input: DescribeAlarmsCommandInput): Partial<DescribeAlarmsCommandOutput> => {
        const names = input.AlarmNames;
        if (names && names.length > MAX_ALARM_NAMES)
          throw constraintError('ValidationException', 'alarmNames', {
            value: `[${names.join(', ')}]`,
            constraint: `Member must have length less than or equal to ${MAX_ALARM_NAMES}`,
          });
        if (names && input.AlarmNamePrefix !== undefined)
          throw new AwsServiceError(
            'InvalidParameterCombinationException',
            'AlarmNames and AlarmNamePrefix cannot be used together.',
          );
        // Without AlarmTypes, metric alarms only (the API reference's default).
        const types = input.AlarmTypes ?? ['MetricAlarm'];
        const wanted = cloudWatch
          .list()
          .filter(
            (view) =>
              types.includes(view.alarm.kind === 'metric' ? 'MetricAlarm' : 'CompositeAlarm') &&
              (!names || names.includes(view.alarm.name)) &&
              (input.AlarmNamePrefix === undefined || view.alarm.name.startsWith(input.AlarmNamePrefix)) &&
              (input.StateValue === undefined || view.state === input.StateValue),
          );
        const found = page(wanted, { max: input.MaxRecords, token: input.NextToken }, ALARM_PAGES);
        return {
          MetricAlarms: found.items.flatMap((v) =>
            v.alarm.kind === 'metric' ? [metricAlarm(v, v.alarm)] : [],
          ),
          CompositeAlarms: found.items.flatMap((v): CompositeAlarm[] =>
            v.alarm.kind === 'composite' ? [{ ...alarmState(v), AlarmRule: v.alarm.rule }] : [],
          ),
          ...(found.next ? { NextToken: found.next } : {}),
        };
      },
    ),

    ListTagsForResource: read(
      (input: ListTagsForResourceCommandInput) => input.ResourceARN ?? '',
      (input: ListTagsForResourceCommandInput) => {
        const view = cloudWatch.list().find((v) => v.arn === input.ResourceARN);
        if (!view)
          throw new AwsServiceError(
            'ResourceNotFoundException',
            'The specified resource does not exist.',
            404,
          );
        return { Tags: Object.entries(view.alarm.tags).map(([Key, Value]) => ({ Key, Value })) };
      },
    ),

    GetMetricData: read(
      (input: GetMetricDataCommandInput) => (input.MetricDataQueries ?? []).map((q) => q.Id).join(','),
      (input: GetMetricDataCommandInput) => getMetricData(metrics, input),
    ),
  };
}

// --- DescribeAlarms ------------------------------------------------------------------------------------

/** What DescribeAlarms shows of every alarm, metric or composite: its name, actions and state. */
function alarmState(view: AlarmView) {
  return {
    AlarmName: view.alarm.name,
    AlarmArn: view.arn,
    AlarmConfigurationUpdatedTimestamp: view.createdAt,
    ActionsEnabled: true,
    OKActions: [],
    AlarmActions: [],
    InsufficientDataActions: [],
    StateValue: view.state,
    StateReason: view.reason,
    StateUpdatedTimestamp: view.changedAt,
    StateTransitionedTimestamp: view.changedAt,
  };
}

function metricAlarm(view: AlarmView, alarm: TwinMetricAlarm): MetricAlarm {
  const statistic = alarm.statistic ?? 'Average';
  return {
    ...alarmState(view),
    MetricName: alarm.metric,
    Namespace: alarm.namespace ?? namespaceOf(alarm.metric),
    ...(STANDARD_STATISTICS.includes(statistic)
      ? { Statistic: statistic as MetricAlarm['Statistic'] }
      : { ExtendedStatistic: statistic }),
    Dimensions: Object.entries(alarm.dimensions).map(([Name, Value]) => ({ Name, Value })),
    Period: alarm.periodSeconds,
    EvaluationPeriods: alarm.evaluationPeriods,
    DatapointsToAlarm: alarm.datapointsToAlarm,
    Threshold: alarm.threshold,
    ComparisonOperator: alarm.comparison,
    TreatMissingData: 'missing',
  };
}

// --- GetMetricData -------------------------------------------------------------------------------------

type Stat = { label: string; query: MetricQuery; period: number };

function getMetricData(
  metrics: MetricStore,
  input: GetMetricDataCommandInput,
): Partial<GetMetricDataCommandOutput> {
  const queries = input.MetricDataQueries ?? [];
  if (queries.length === 0 || queries.length > MAX_QUERIES)
    throw validation(
      `The collection MetricDataQueries must not have more than ${MAX_QUERIES} members and must not be empty.`,
    );
  if (!input.StartTime || !input.EndTime)
    throw new AwsServiceError(
      'MissingRequiredParameterException',
      'The parameters StartTime and EndTime are required.',
    );
  const start = new Date(input.StartTime);
  const end = new Date(input.EndTime);
  if (!(end.getTime() > start.getTime()))
    throw validation('The parameter StartTime must be less than the parameter EndTime.');
  const scanBy = input.ScanBy ?? 'TimestampDescending';
  if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
    throw validation(`The value ${scanBy} for parameter ScanBy is not valid.`);
  const maxDatapoints = input.MaxDatapoints ?? MAX_DATAPOINTS;
  if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)
    throw validation(`The value ${maxDatapoints} for parameter MaxDatapoints is not valid.`);
  const stats = checkQueries(queries);

  // CloudWatch rounds a recent start time down to the whole minute; each period starts from there.
  const from = Math.floor(start.getTime() / MINUTE_MS) * MINUTE_MS;
  const series = stats.map((stat) => {
    const points: { at: Date; value: number }[] = [];
    for (let at = from; at < end.getTime(); at += stat.period * 1000) {
      const window = { start: new Date(at), end: new Date(Math.min(at + stat.period * 1000, end.getTime())) };
      const value = answer(() => metrics.query([stat.query], window)[stat.query.id]);
      if (value !== undefined) points.push({ at: window.start, value });
    }
    return scanBy === 'TimestampDescending' ? points.reverse() : points;
  });

  // Pages of at most MaxDatapoints, query after query; a query the page cuts short is PartialData.
  const offset = input.NextToken === undefined ? 0 : offsetOf(input.NextToken, 'InvalidNextToken');
  const pageEnd = offset + maxDatapoints;
  let before = 0; // the datapoints of the queries before this one: all of them, once every query is shown
  const results = stats.map((stat, index): MetricDataResult => {
    const points = series[index]!;
    const shown = points.slice(Math.max(0, offset - before), Math.max(0, pageEnd - before));
    before += points.length;
    return {
      Id: stat.query.id,
      Label: stat.label,
      Timestamps: shown.map((p) => p.at),
      Values: shown.map((p) => p.value),
      StatusCode: before > pageEnd ? 'PartialData' : 'Complete',
    };
  });
  return {
    MetricDataResults: results,
    Messages: [],
    ...(before > pageEnd ? { NextToken: tokenAt(pageEnd) } : {}),
  };
}

/** The whole request is refused for one bad query, as GetMetricData does. */
function checkQueries(queries: MetricDataQuery[]): Stat[] {
  const seen = new Set<string>();
  return queries.map((query, index) => {
    const member = `MetricDataQueries.member.${index + 1}`;
    const id = query.Id ?? '';
    if (!QUERY_ID.test(id) || id.length > QUERY_ID_MAX_LENGTH)
      throw validation(`The value ${id} for parameter ${member}.Id is not valid.`);
    if (seen.has(id)) throw validation('The values for parameter id in MetricDataQueries are not unique.');
    seen.add(id);
    if (query.Expression !== undefined && query.MetricStat !== undefined)
      throw validation(`${member}: exactly one of Expression and MetricStat must be given.`);
    if (query.Expression !== undefined)
      // Metric math and Metrics Insights: nothing the adapters send; the twin does not evaluate them.
      throw validation(`${member}.Expression: the twin answers MetricStat queries only.`);
    const stat = query.MetricStat;
    const metric = stat?.Metric;
    if (!stat || !metric?.Namespace || !metric.MetricName || !stat.Stat)
      throw new AwsServiceError(
        'MissingRequiredParameterException',
        `${member}: MetricStat with Metric, Period and Stat is required.`,
      );
    const period = stat.Period;
    if (
      period === undefined ||
      !Number.isInteger(period) ||
      !(HIGH_RESOLUTION_PERIODS.includes(period) || (period > 0 && period % 60 === 0))
    )
      throw validation(
        `The value ${period} for parameter ${member}.MetricStat.Period is not valid: 1, 5, 10, 20, 30 or a multiple of 60.`,
      );
    return {
      label: query.Label ?? metric.MetricName,
      period,
      query: {
        id,
        namespace: metric.Namespace,
        metricName: metric.MetricName,
        dimensions: Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
        stat: stat.Stat,
      },
    };
  });
}

/** The store's refusals (a statistic it does not know) as CloudWatch's, which the SDK does not retry. */
function answer<T>(ask: () => T): T {
  try {
    return ask();
  } catch (error) {
    if (error instanceof AwsServiceError) throw error;
    throw validation((error as Error).message);
  }
}
