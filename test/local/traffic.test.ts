// The twin's traffic: requests through App Mesh routes and ALB rules split by weight, fault profiles per
// version, the CloudWatch metrics they leave, and the write log of every route's weights. What App Mesh
// and ELB answer is tested with their models (test/local/aws/).
import { routeKey } from '#domain/rolloutRoutes';
import { TwinCloudWatch } from '#local/twin/alarms';
import { ALB_NAMESPACE, ENVOY_NAMESPACE, type TwinTraffic } from '#local/twin/traffic';
import type { MetricQuery } from '#ports';
import { at, aWorld, withAlbRule, withMeshRoute } from '../support/trafficWorld';

const sum = (traffic: TwinTraffic, route: string, version: string, metric: 'requests' | 'errors') => {
  const m = traffic.versionMetrics(route, version);
  return {
    id: `q${version.replace(/\W/g, '_')}`,
    namespace: m.namespace,
    metricName: m[metric],
    dimensions: m.dimensions,
  };
};

describe('TwinTraffic: requests and metrics', () => {
  it('splits a route’s requests between its targets by weight', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w, [90, 10]);
    w.traffic.setRate('web', 10);
    w.traffic.start();

    // Act
    await w.runFor(180);
    const values = await w.metrics.query(
      [
        { ...sum(w.traffic, 'web', 'web-v1', 'requests'), id: 'stable', stat: 'Sum' },
        { ...sum(w.traffic, 'web', 'web-v2', 'requests'), id: 'canary', stat: 'Sum' },
      ],
      { start: at(0), end: at(3) },
    );

    // Assess
    expect(values).toEqual({ stable: 1620, canary: 180 });
    expect(w.traffic.versionMetrics('web', 'web-v2')).toEqual({
      namespace: ENVOY_NAMESPACE,
      dimensions: { Mesh: 'prod', VirtualNode: 'web-v2' },
      requests: 'RequestCount',
      errors: 'HTTPCode_5XX_Count',
      latency: 'ResponseTime',
      latencyUnit: 'Milliseconds',
    });
    expect(w.world.apiCalls.map((c) => c.api)).toEqual(['GetMetricData']);
  });

  it('counts a weight change in the middle of a minute from that instant on', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [100, 0]);
    w.traffic.setRate('web', 10);
    w.traffic.start();
    await w.runFor(30);

    // Act: half a minute at 100/0, then half a minute at 50/50
    await w.routers.appmesh.setWeights(ref, { stable: 50, canary: 50 });
    await w.runFor(30);

    // Assess
    const requests = (node: string) =>
      w.traffic.datapoints(ENVOY_NAMESPACE, 'RequestCount', { Mesh: 'prod', VirtualNode: node });
    expect(requests('web-v1')).toEqual([{ at: at(0), value: 450 }]);
    expect(requests('web-v2')).toEqual([{ at: at(0), value: 150 }]);
  });

  it('shows a bad canary in its 5xx count and its response times (ALB, seconds)', async () => {
    // Prepare
    const w = aWorld();
    withAlbRule(w, [50, 50]);
    w.traffic.setRate('web', 20);
    w.traffic.setProfile('web-green', { errorRate: 0.05, latencyMs: { p50: 300, p99: 1500 } });
    w.traffic.start();

    // Act
    await w.runFor(180);
    const of = (version: string, id: string, metric: 'errors' | 'latency', stat: string): MetricQuery => {
      const m = w.traffic.versionMetrics('web', version);
      return { id, namespace: m.namespace, metricName: m[metric], dimensions: m.dimensions, stat };
    };
    const values = await w.metrics.query(
      [
        of('web-green', 'canary5xx', 'errors', 'Sum'),
        of('web-blue', 'stable5xx', 'errors', 'Sum'),
        of('web-green', 'canaryP50', 'latency', 'p50'),
        of('web-green', 'canaryP99', 'latency', 'p99'),
        of('web-blue', 'stableP99', 'latency', 'p99'),
      ],
      { start: at(0), end: at(3) },
    );

    // Assess: 600 requests a minute each; the stable's 0.1 % rounds to 2 over three minutes
    expect(w.traffic.versionMetrics('web', 'web-green')).toMatchObject({
      namespace: ALB_NAMESPACE,
      dimensions: {
        LoadBalancer: expect.stringMatching(/^app\/twin-alb\/[0-9a-f]{16}$/),
        TargetGroup: expect.stringMatching(/^targetgroup\/web-green\/[0-9a-f]{16}$/),
      },
      errors: 'HTTPCode_Target_5XX_Count',
      latency: 'TargetResponseTime',
    });
    expect(values.canary5xx).toBe(90);
    expect(values.stable5xx).toBe(2);
    expect(values.canaryP50).toBeCloseTo(0.3, 3);
    expect(values.canaryP99).toBeCloseTo(1.5, 3);
    expect(values.stableP99).toBeCloseTo(0.12, 3);
  });

  it('answers any percentile of a window, its minutes weighted by their requests', async () => {
    // Prepare: a minute of 600 fast requests, then a minute of 1800 slow ones
    const w = aWorld();
    withMeshRoute(w, [100, 0]);
    w.traffic.setRate('web', 10);
    w.traffic.start();
    await w.runFor(60);
    w.traffic.setRate('web', 30);
    w.traffic.setProfile('web-v1', { latencyMs: { p50: 100, p99: 300 } });
    await w.runFor(60);

    // Act
    const dims = { Mesh: 'prod', VirtualNode: 'web-v1' };
    const q = (id: string, stat: string): MetricQuery => ({
      id,
      namespace: ENVOY_NAMESPACE,
      metricName: 'ResponseTime',
      dimensions: dims,
      stat,
    });
    const stats = ['p10', 'p50', 'p90', 'p99', 'p99.9'];
    const both = await w.traffic.query(
      [...stats.map((s) => q(s.replace('.', '_'), s)), q('n', 'SampleCount'), q('avg', 'Average')],
      { start: at(0), end: at(2) },
    );
    const first = w.traffic.query([q('p50', 'p50'), q('p99', 'p99')], { start: at(0), end: at(1) });

    // Assess
    expect(first.p50).toBeCloseTo(40, 2);
    expect(first.p99).toBeCloseTo(120, 2);
    expect(both.n).toBe(2400);
    const percentiles = stats.map((s) => both[s.replace('.', '_')]!);
    expect(percentiles).toEqual([...percentiles].sort((a, b) => a - b));
    expect(new Set(percentiles).size).toBe(percentiles.length);
    // Three quarters of the requests are the slow minute's: the median is well into its shape.
    expect(both.p50).toBeGreaterThan(70);
    expect(both.p50).toBeLessThan(100);
    expect(both.avg).toBeGreaterThan(40);
    expect(both.avg).toBeLessThan(120);
  });

  it('publishes no 5xx datapoint for a minute without a 5xx, as ALB does', async () => {
    // Prepare: 600 requests a minute at 0.04 % errors: an error now and then, most minutes none
    const w = aWorld();
    withAlbRule(w, [100, 0]);
    w.traffic.setRate('web', 10);
    w.traffic.setProfile('web-blue', { errorRate: 0.0004 });
    w.traffic.start();

    // Act
    await w.runFor(7 * 60);

    // Assess
    const m = w.traffic.versionMetrics('web', 'web-blue');
    expect(w.traffic.datapoints(m.namespace, m.requests, m.dimensions)).toHaveLength(7);
    expect(w.traffic.datapoints(m.namespace, m.errors, m.dimensions)).toEqual([
      { at: at(2), value: 1 },
      { at: at(6), value: 1 },
    ]);
    const quiet = await w.metrics.query(
      [{ ...sum(w.traffic, 'web', 'web-blue', 'errors'), id: 'e', stat: 'Sum' }],
      {
        start: at(3),
        end: at(6),
      },
    );
    expect(quiet).toEqual({ e: undefined });
  });

  it('leaves a version with little or no traffic without data: inconclusive, not zero', async () => {
    // Prepare: a canary at 5 % of one request every 100 seconds
    const w = aWorld();
    withAlbRule(w, [95, 5]);
    w.traffic.setRate('web', 0.01);
    w.traffic.start();

    // Act
    await w.runFor(300);
    const values = await w.metrics.query(
      [
        { ...sum(w.traffic, 'web', 'web-green', 'requests'), id: 'canary', stat: 'Sum' },
        { ...sum(w.traffic, 'web', 'web-green', 'errors'), id: 'canaryErrors', stat: 'Sum' },
      ],
      { start: at(0), end: at(5) },
    );

    // Assess
    expect(values).toEqual({ canary: undefined, canaryErrors: undefined });
  });
});

describe('TwinTraffic: the write log', () => {
  it('records each write of the weights with who made it: the rollout, or a person by hand', async () => {
    // Prepare
    const w = aWorld();
    const { ref, info } = withAlbRule(w, [100, 0]);
    const blue = w.world.targetGroup('web-blue').arn;
    const green = w.world.targetGroup('web-green').arn;

    // Act
    await w.routers.alb.setWeights(ref, { stable: 90, canary: 10 });
    await w.runFor(60);
    w.traffic.manualEdit('web', { 'web-blue': 50, 'web-green': 50 });
    await w.runFor(60);
    await w.routers.alb.setWeights(ref, { stable: 0, canary: 100 });

    // Assess
    expect(
      w.traffic.writesTo('web').map(({ at: when, by, weights, api }) => ({ when, by, weights, api })),
    ).toEqual([
      { when: at(0), by: 'reflex', weights: { 'web-blue': 90, 'web-green': 10 }, api: 'ModifyRule' },
      { when: at(1), by: 'person', weights: { 'web-blue': 50, 'web-green': 50 }, api: 'ModifyRule' },
      { when: at(2), by: 'reflex', weights: { 'web-blue': 0, 'web-green': 100 }, api: 'ModifyRule' },
    ]);
    expect(w.traffic.writes[0]).toMatchObject({
      route: routeKey(ref),
      targets: [
        { id: blue, weight: 90 },
        { id: green, weight: 10 },
      ],
    });
    // A person's edit is no AWS call the reflexes made.
    expect(w.writeCalls()).toEqual(['ModifyRule', 'ModifyRule']);
    // The stickiness the rule had survives every write.
    const rule = w.traffic.loadBalancers.rule(info.ruleArn!);
    expect(rule.Actions![0]!.ForwardConfig!.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 300,
    });
  });
});

describe('twin metrics source', () => {
  it('refuses query ids GetMetricData would refuse, before calling', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w);
    const query = { ...sum(w.traffic, 'web', 'web-v1', 'requests'), stat: 'Sum' };

    // Act & Assess
    await expect(
      w.metrics.query([{ ...query, id: 'Stable' }], { start: at(0), end: at(1) }),
    ).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(w.world.apiCalls).toEqual([]);
    expect(() =>
      w.traffic.query([{ ...query, id: 'a', stat: 'tm99' }], { start: at(0), end: at(1) }),
    ).toThrow(expect.objectContaining({ name: 'ValidationException' }));
  });

  it('passes on CloudWatch’s refusal of a statistic it does not know, named as the SDK names it', async () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w);
    const query = { ...sum(w.traffic, 'web', 'web-v1', 'requests'), id: 'a', stat: 'tm99' };

    // Act & Assess: CloudWatch's wire code ValidationError, raised by the SDK as ValidationException
    await expect(w.metrics.query([query], { start: at(0), end: at(1) })).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe('alarms on the traffic’s metrics', () => {
  it('turns an alarm on the canary’s 5xx to ALARM once the canary fails', async () => {
    // Prepare
    const w = aWorld();
    withAlbRule(w, [90, 10]);
    w.traffic.setRate('web', 50);
    const events: unknown[] = [];
    const cloudWatch = new TwinCloudWatch(
      w.world,
      (event) => events.push(event),
      () => undefined,
      (query) => w.traffic.alarmSample(query),
    );
    const canary = w.traffic.versionMetrics('web', 'web-green');
    cloudWatch.addAlarm({
      kind: 'metric',
      name: 'web-canary-5xx',
      namespace: canary.namespace,
      metric: canary.errors,
      dimensions: canary.dimensions,
      statistic: 'Sum',
      comparison: 'GreaterThanThreshold',
      threshold: 5,
      periodSeconds: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      tags: {},
    });
    w.traffic.start();
    cloudWatch.start();
    await w.runFor(120);
    const healthy = cloudWatch.describe('web-canary-5xx')!.state;

    // Act
    w.traffic.setProfile('web-green', { errorRate: 0.2 });
    await w.runFor(120);

    // Assess: 300 canary requests a minute, 60 of them 5xx
    expect(healthy).not.toBe('ALARM');
    expect(cloudWatch.describe('web-canary-5xx')!.state).toBe('ALARM');
    const last = events.at(-1) as { detail: { state: { reason: string }; configuration: unknown } };
    expect(last.detail.state.reason).toContain('[60]');
    expect(last.detail.configuration).toEqual({
      metrics: [
        expect.objectContaining({
          metricStat: expect.objectContaining({
            metric: {
              dimensions: canary.dimensions,
              name: 'HTTPCode_Target_5XX_Count',
              namespace: ALB_NAMESPACE,
            },
            stat: 'Sum',
          }),
        }),
      ],
    });
  });
});
