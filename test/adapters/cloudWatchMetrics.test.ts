import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { cloudWatchMetrics, periodOf } from '#adapters/aws/cloudWatchMetrics';
import type { MetricQuery } from '#ports';
import { InvalidInputError, MetricsUnavailableError } from '#runtime/errors';

const cloudWatch = mockClient(CloudWatchClient);
const metrics = cloudWatchMetrics(cloudWatch as unknown as CloudWatchClient);

const WINDOW = { start: new Date('2026-06-11T14:00:00Z'), end: new Date('2026-06-11T14:05:00Z') };
const LOAD_BALANCER = 'app/shop/50dc6c495c0c9188';

function targetGroupQuery(id: string, metricName: string, stat: string, targetGroup: string): MetricQuery {
  return {
    id,
    namespace: 'AWS/ApplicationELB',
    metricName,
    dimensions: { LoadBalancer: LOAD_BALANCER, TargetGroup: targetGroup },
    stat,
  };
}

const REQUESTS = targetGroupQuery(
  'c0_requests_canary',
  'RequestCount',
  'Sum',
  'targetgroup/web-v2/73e2d6bc24d8a067',
);
const ERRORS = targetGroupQuery(
  'c0_errors_canary',
  'HTTPCode_Target_5XX_Count',
  'Sum',
  'targetgroup/web-v2/73e2d6bc24d8a067',
);
const LATENCY = targetGroupQuery(
  'c1_latency_canary',
  'TargetResponseTime',
  'p99',
  'targetgroup/web-v2/73e2d6bc24d8a067',
);

const complete = (id: string, values: number[]): MetricDataResult => ({
  Id: id,
  Label: id,
  Timestamps: values.map((_, n) => new Date(WINDOW.start.getTime() - n * 300_000)),
  Values: values,
  StatusCode: 'Complete',
});

const sentInputs = () => cloudWatch.commandCalls(GetMetricDataCommand).map((call) => call.args[0].input);

beforeEach(() => cloudWatch.reset());

describe('query', () => {
  it('asks for every query over the window as one period, newest first', async () => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        complete(REQUESTS.id, [1520]),
        complete(ERRORS.id, [3]),
        complete(LATENCY.id, [0.42]),
      ],
      Messages: [],
    });

    // Act
    const values = await metrics.query([REQUESTS, ERRORS, LATENCY], WINDOW);

    // Assess
    expect(values).toEqual({ c0_requests_canary: 1520, c0_errors_canary: 3, c1_latency_canary: 0.42 });
    expect(sentInputs()).toEqual([
      {
        MetricDataQueries: [REQUESTS, ERRORS, LATENCY].map((query) => ({
          Id: query.id,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApplicationELB',
              MetricName: query.metricName,
              Dimensions: [
                { Name: 'LoadBalancer', Value: LOAD_BALANCER },
                { Name: 'TargetGroup', Value: 'targetgroup/web-v2/73e2d6bc24d8a067' },
              ],
            },
            Period: 300,
            Stat: query.stat,
          },
          ReturnData: true,
        })),
        StartTime: WINDOW.start,
        EndTime: WINDOW.end,
        ScanBy: 'TimestampDescending',
      },
    ]);
  });

  it('answers undefined for a series without datapoints, and for a query CloudWatch left out', async () => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [complete(REQUESTS.id, [0]), complete(ERRORS.id, [])],
    });

    // Act
    const values = await metrics.query([REQUESTS, ERRORS, LATENCY], WINDOW);

    // Assess
    expect(values).toEqual({
      c0_requests_canary: 0,
      c0_errors_canary: undefined,
      c1_latency_canary: undefined,
    });
    expect(Object.keys(values)).toEqual(['c0_requests_canary', 'c0_errors_canary', 'c1_latency_canary']);
  });

  it('takes the newest datapoint when the window spans two', async () => {
    // Prepare
    cloudWatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [complete(REQUESTS.id, [1520, 1400])] });

    // Act
    const values = await metrics.query([REQUESTS], WINDOW);

    // Assess
    expect(values).toEqual({ c0_requests_canary: 1520 });
  });

  it('follows NextToken with the same request and keeps the first value of each query', async () => {
    // Prepare
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          complete(REQUESTS.id, [1520]),
          { Id: ERRORS.id, Label: ERRORS.id, Timestamps: [], Values: [], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ MetricDataResults: [complete(REQUESTS.id, [1400]), complete(ERRORS.id, [3])] });

    // Act
    const values = await metrics.query([REQUESTS, ERRORS], WINDOW);

    // Assess
    expect(values).toEqual({ c0_requests_canary: 1520, c0_errors_canary: 3 });
    const [first, second] = sentInputs();
    expect(first?.NextToken).toBeUndefined();
    expect(second).toEqual({ ...first, NextToken: 'page-2' });
  });

  it('sends at most 500 queries a call', async () => {
    // Prepare
    const queries = Array.from({ length: 501 }, (_, n) => ({ ...REQUESTS, id: `q${n}` }));
    cloudWatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.map((query) => complete(query.Id, [1])),
    }));

    // Act
    const values = await metrics.query(queries, WINDOW);

    // Assess
    expect(sentInputs().map((input) => input.MetricDataQueries?.length)).toEqual([500, 1]);
    expect(sentInputs()[1]?.MetricDataQueries?.[0]?.Id).toBe('q500');
    expect(Object.keys(values)).toHaveLength(501);
    expect(values.q500).toBe(1);
  });

  it('makes no call for no queries', async () => {
    // Act
    const values = await metrics.query([], WINDOW);

    // Assess
    expect(values).toEqual({});
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });

  it.each<[string, MetricDataResult['StatusCode']]>([
    ['an internal error', 'InternalError'],
    ['a refused read', 'Forbidden'],
  ])('throws MetricsUnavailableError for %s', async (_case, StatusCode) => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        complete(REQUESTS.id, [1520]),
        {
          Id: ERRORS.id,
          Label: ERRORS.id,
          Timestamps: [],
          Values: [],
          StatusCode,
          Messages: [{ Code: StatusCode, Value: 'Unable to retrieve data' }],
        },
      ],
    });

    // Act
    const error = await metrics.query([REQUESTS, ERRORS], WINDOW).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(MetricsUnavailableError);
    expect(error).toHaveProperty('name', 'MetricsUnavailableError');
    expect((error as Error).message).toContain('c0_errors_canary');
  });

  it('throws MetricsUnavailableError when the last page still has partial data and no value', async () => {
    // Prepare
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: REQUESTS.id, Label: REQUESTS.id, Timestamps: [], Values: [], StatusCode: 'PartialData' },
      ],
    });

    // Act
    const querying = metrics.query([REQUESTS], WINDOW);

    // Assess
    await expect(querying).rejects.toBeInstanceOf(MetricsUnavailableError);
  });

  it.each([
    ['an upper-case first letter', 'C0_requests'],
    ['a digit first', '0_requests'],
    ['a hyphen', 'c0-requests'],
    ['more than 255 characters', `c${'x'.repeat(255)}`],
  ])('refuses an id with %s without calling CloudWatch', async (_case, id) => {
    // Act
    const error = await metrics.query([{ ...REQUESTS, id }], WINDOW).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toHaveProperty('issues', [{ path: 'queries.0.id', message: expect.stringContaining(id) }]);
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });

  it('refuses an id used twice without calling CloudWatch', async () => {
    // Act
    const error = await metrics
      .query([REQUESTS, { ...ERRORS, id: REQUESTS.id }], WINDOW)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toHaveProperty('issues', [
      { path: 'queries.1.id', message: expect.stringContaining('twice') },
    ]);
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });

  it('refuses a window that does not end after it starts', async () => {
    // Act
    const querying = metrics.query([REQUESTS], { start: WINDOW.end, end: WINDOW.start });

    // Assess
    await expect(querying).rejects.toBeInstanceOf(InvalidInputError);
    expect(cloudWatch).not.toHaveReceivedAnyCommand();
  });
});

describe('periodOf', () => {
  it.each([
    [10, 60],
    [60, 60],
    [61, 120],
    [300, 300],
    [299.5, 300],
    [3601, 3660],
  ])('makes a window of %s s one period of %s s', (seconds, period) => {
    // Prepare
    const start = new Date('2026-06-11T14:00:00Z');
    const end = new Date(start.getTime() + seconds * 1000);

    // Act
    const computed = periodOf({ start, end });

    // Assess
    expect(computed).toBe(period);
  });
});
