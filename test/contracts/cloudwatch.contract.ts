// The CloudWatch ports' contract: what the alarm reactor and the rollouts rely on CloudWatch to answer
// (AlarmStates, MetricsSource), checked on a metric nobody publishes, a metric alarm over it with tags and
// a composite alarm over that alarm (actions off: nothing is notified).

import type { MetricQuery } from '#domain/rolloutAnalysis';
import type { AlarmStates, Clock, MetricsSource } from '#ports';
import type { Eventually } from './harness';

export interface CloudWatchWorld {
  /** A metric no datapoint was ever published to. */
  silentMetric: Pick<MetricQuery, 'namespace' | 'metricName' | 'dimensions'>;
  /** A metric alarm on the silent metric, missing data treated as missing, created with `tags`. */
  metricAlarm: string;
  /** A composite alarm `ALARM("<metricAlarm>")`, created with `tags`. */
  compositeAlarm: string;
  tags: Record<string, string>;
}

export interface CloudWatchHarness {
  alarms: AlarmStates;
  metrics: MetricsSource;
  clock: Clock;
  eventually: Eventually;
  given(): Promise<CloudWatchWorld>;
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;

export function cloudWatchContract(harness: () => CloudWatchHarness): void {
  let cloudWatch: CloudWatchHarness;
  let world: CloudWatchWorld;

  beforeAll(async () => {
    cloudWatch = harness();
    world = await cloudWatch.given();
  });

  describe('AlarmStates', () => {
    it('describes a metric alarm without data as INSUFFICIENT_DATA, with its ARN and tags', async () => {
      // Act
      const alarm = await cloudWatch.eventually(
        () => cloudWatch.alarms.describe(world.metricAlarm, { withTags: true }),
        (a) => Object.keys(a?.tags ?? {}).length > 0,
      );

      // Assess
      expect(alarm).toMatchObject({
        name: world.metricAlarm,
        state: 'INSUFFICIENT_DATA',
        type: 'metric',
        tags: world.tags,
      });
      expect(alarm?.arn).toMatch(/^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:/);
      expect(alarm?.arn.endsWith(`:alarm:${world.metricAlarm}`)).toBe(true);
    });

    it('reads no tags when not asked for them', async () => {
      // Act
      const alarm = await cloudWatch.alarms.describe(world.metricAlarm, { withTags: false });

      // Assess
      expect(alarm?.tags).toEqual({});
    });

    it('describes a composite alarm, OK once evaluated while the alarm it watches is not in ALARM', async () => {
      // Act
      const alarm = await cloudWatch.eventually(
        () => cloudWatch.alarms.describe(world.compositeAlarm, { withTags: true }),
        (a) => a?.state === 'OK' && Object.keys(a.tags).length > 0,
      );

      // Assess
      expect(alarm).toMatchObject({
        name: world.compositeAlarm,
        state: 'OK',
        type: 'composite',
        tags: world.tags,
      });
    });

    it('answers undefined for an alarm that does not exist', async () => {
      // Act
      const alarm = await cloudWatch.alarms.describe(`${world.metricAlarm}-missing`, { withTags: true });

      // Assess
      expect(alarm).toBeUndefined();
    });
  });

  describe('MetricsSource', () => {
    const windowNow = () => {
      const end = cloudWatch.clock.now();
      return { start: new Date(end.getTime() - FIVE_MINUTES_MS), end };
    };

    it('answers undefined for each statistic of a metric with no datapoint in the window', async () => {
      // Prepare
      const queries: MetricQuery[] = ['Sum', 'Average', 'p99'].map((stat) => ({
        ...world.silentMetric,
        id: `silent_${stat.toLowerCase()}`,
        stat,
      }));

      // Act
      const values = await cloudWatch.metrics.query(queries, windowNow());

      // Assess
      expect(Object.keys(values).sort()).toEqual(['silent_average', 'silent_p99', 'silent_sum']);
      expect(Object.values(values)).toEqual([undefined, undefined, undefined]);
    });

    it('refuses, before asking, an id GetMetricData would refuse and a window that does not end after it starts', async () => {
      // Prepare
      const query = { ...world.silentMetric, id: 'silent', stat: 'Sum' };
      const window = windowNow();

      // Act / Assess (one at a time: a rejection nobody awaits yet is an unhandled one)
      await expect(cloudWatch.metrics.query([{ ...query, id: 'Silent-Sum' }], window)).rejects.toMatchObject({
        name: 'InvalidInputError',
      });
      await expect(cloudWatch.metrics.query([query, query], window)).rejects.toMatchObject({
        name: 'InvalidInputError',
      });
      await expect(
        cloudWatch.metrics.query([query], { start: window.end, end: window.start }),
      ).rejects.toMatchObject({ name: 'InvalidInputError' });
    });
  });
}
