// The twin's traffic: App Mesh routes and ALB rules splitting requests by weight, fault profiles per
// version, the CloudWatch metrics they leave, the limits AWS enforces on every write, and the rollout
// routers and metrics source over all of it.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { type RouteRef, routeKey } from '#domain/rolloutRoutes';
import { TwinCloudWatch } from '#local/twin/alarms';
import { TwinSendLayer } from '#local/twin/aws/client';
import { cloudWatchModel } from '#local/twin/aws/cloudWatch';
import { Faults, recordedCalls } from '#local/twin/ports';
import { ROLLOUT_OWNER_TAG, twinRolloutRouters } from '#local/twin/rolloutPorts';
import { VirtualScheduler } from '#local/twin/scheduler';
import { ALB_NAMESPACE, ENVOY_NAMESPACE, TwinTraffic } from '#local/twin/traffic';
import { World } from '#local/twin/world';
import type { MetricQuery } from '#ports';

const START = new Date('2026-11-02T09:00:00Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

function aWorld(targetGroups: string[] = ['web-blue', 'web-green']) {
  const clock = new VirtualScheduler(START);
  const notes: string[] = [];
  const world = new World(clock, { event: () => undefined, note: (text) => notes.push(text) }, 7);
  for (const name of targetGroups)
    world.addTargetGroup({ name, port: 8080, targetType: 'ip', deregistrationDelaySeconds: 30 });
  const traffic = new TwinTraffic(world, (text) => notes.push(text));
  const faults = new Faults(3);
  const call = recordedCalls(world, faults);
  const routers = twinRolloutRouters(traffic, call);
  // The rollout's metrics source is the real adapter over the twin's CloudWatch.
  const cloudWatch = new TwinCloudWatch(
    world,
    () => undefined,
    () => undefined,
  );
  const aws = new TwinSendLayer({ clock, calls: world.apiCalls, faults });
  const metrics = cloudWatchMetrics(aws.client(CloudWatchClient, cloudWatchModel(cloudWatch, traffic)));
  const runFor = (seconds: number) => clock.runUntil(new Date(clock.now().getTime() + seconds * 1000));
  const writeCalls = () => world.apiCalls.filter((c) => c.write && !c.failed).map((c) => c.api);
  return { clock, world, traffic, faults, routers, metrics, runFor, writeCalls, notes };
}

/** A mesh route `web` in mesh `prod` between virtual nodes web-v1 (stable) and web-v2 (canary). */
function withMeshRoute(world: ReturnType<typeof aWorld>, weights: [number, number] = [100, 0]) {
  world.traffic.addMeshRoute({
    meshName: 'prod',
    virtualRouterName: 'web-router',
    routeName: 'web',
    protocol: 'http',
    targets: [
      { virtualNode: 'web-v1', weight: weights[0], port: 8080 },
      { virtualNode: 'web-v2', weight: weights[1], port: 8080 },
    ],
    match: { prefix: '/api', headers: [{ name: 'x-tenant', match: { exact: 'blue' } }] },
    retryPolicy: {
      maxRetries: 2,
      perRetryTimeout: { unit: 'ms', value: 500 },
      httpRetryEvents: ['server-error', 'gateway-error'],
    },
    timeout: { perRequest: { unit: 's', value: 15 }, idle: { unit: 's', value: 300 } },
    priority: 5,
  });
  const ref: RouteRef = {
    router: 'appmesh',
    meshName: 'prod',
    virtualRouterName: 'web-router',
    routeName: 'web',
    stable: 'web-v1',
    canary: 'web-v2',
  };
  return ref;
}

/** An ALB rule `web` forwarding to web-blue (stable) and web-green (canary). */
function withAlbRule(world: ReturnType<typeof aWorld>, weights: [number, number] = [100, 0], name = 'web') {
  const info = world.traffic.addListenerRule({
    name,
    targetGroups: [
      { targetGroup: 'web-blue', weight: weights[0] },
      { targetGroup: 'web-green', weight: weights[1] },
    ],
    stickiness: { enabled: true, durationSeconds: 300 },
  });
  const ref: RouteRef = {
    router: 'alb',
    listenerArn: info.listenerArn!,
    ruleArn: info.ruleArn!,
    stable: world.world.targetGroup('web-blue').arn,
    canary: world.world.targetGroup('web-green').arn,
  };
  return { ref, info };
}

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

describe('TwinTraffic: what App Mesh and ELB refuse', () => {
  it('refuses App Mesh routes with more than 10 targets or weights outside 0..100', () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [100, 0]);
    const id = { meshName: 'prod', virtualRouterName: 'web-router', routeName: 'web' };
    const spec = w.traffic.describeRoute(id).spec;
    const withTargets = (weightedTargets: { virtualNode: string; weight: number }[]) => ({
      ...spec,
      httpRoute: { ...spec.httpRoute!, action: { weightedTargets } },
    });

    // Act & Assess
    expect(() =>
      w.traffic.addMeshRoute({
        meshName: 'prod',
        virtualRouterName: 'web-router',
        routeName: 'wide',
        protocol: 'http',
        targets: Array.from({ length: 11 }, (_, i) => ({ virtualNode: `n${i}`, weight: 9 })),
      }),
    ).toThrow(expect.objectContaining({ name: 'BadRequestException' }));
    for (const weightedTargets of [
      [{ virtualNode: 'web-v1', weight: 101 }],
      [{ virtualNode: 'web-v1', weight: 50.5 }],
      [{ virtualNode: 'web-v1', weight: -1 }],
      [],
    ])
      expect(() => w.traffic.updateRoute({ ...id, spec: withTargets(weightedTargets) })).toThrow(
        expect.objectContaining({ name: 'BadRequestException' }),
      );
    expect(w.traffic.describeRoute(id).metadata.version).toBe(1);
    expect(w.traffic.writes).toEqual([]);
    expect(ref.routeName).toBe('web');
  });

  it('refuses ALB forwards with more than 5 target groups or weights outside 0..999', () => {
    // Prepare
    const w = aWorld(['tg1', 'tg2', 'tg3', 'tg4', 'tg5', 'tg6', 'web-blue', 'web-green']);
    const { info } = withAlbRule(w, [100, 0]);
    const [rule] = w.traffic.describeRules({ ruleArns: [info.ruleArn!] });
    const forwardTo = (groups: { name: string; weight: number }[]) => [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: groups.map((g) => ({
            TargetGroupArn: w.world.targetGroup(g.name).arn,
            Weight: g.weight,
          })),
        },
      },
    ];

    // Act & Assess
    expect(() =>
      w.traffic.addListenerRule({
        name: 'wide',
        targetGroups: ['tg1', 'tg2', 'tg3', 'tg4', 'tg5', 'tg6'].map((targetGroup) => ({
          targetGroup,
          weight: 1,
        })),
      }),
    ).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() =>
      w.traffic.modifyRule({
        ruleArn: info.ruleArn!,
        actions: forwardTo([
          { name: 'web-blue', weight: 1000 },
          { name: 'web-green', weight: 0 },
        ]),
      }),
    ).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() =>
      w.traffic.modifyRule({
        ruleArn: info.ruleArn!,
        actions: forwardTo([1, 2, 3, 4, 5, 6].map((n) => ({ name: `tg${n}`, weight: 1 }))),
      }),
    ).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(w.traffic.describeRules({ ruleArns: [info.ruleArn!] })).toEqual([rule]);
    expect(w.traffic.writes).toEqual([]);
  });

  it('keeps the match, retry policy, timeout, priority and ports when the router shifts weights', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [100, 0]);
    const id = { meshName: 'prod', virtualRouterName: 'web-router', routeName: 'web' };
    const before = w.traffic.describeRoute(id);

    // Act
    await w.routers.appmesh.setWeights(ref, { stable: 80, canary: 20 });

    // Assess
    const after = w.traffic.describeRoute(id);
    expect(after.spec).toEqual({
      ...before.spec,
      httpRoute: {
        ...before.spec.httpRoute,
        action: {
          weightedTargets: [
            { virtualNode: 'web-v1', weight: 80, port: 8080 },
            { virtualNode: 'web-v2', weight: 20, port: 8080 },
          ],
        },
      },
    });
    expect(after.metadata.version).toBe(2);
    expect(w.writeCalls()).toEqual(['UpdateRoute']);
  });

  it('keeps the rest of a mesh route when a person edits its targets by hand', () => {
    // Prepare
    const w = aWorld();
    withMeshRoute(w, [50, 50]);
    const id = { meshName: 'prod', virtualRouterName: 'web-router', routeName: 'web' };
    const before = w.traffic.describeRoute(id);

    // Act
    w.traffic.manualEdit('web', { 'web-v1': 100, 'web-v2': 0 });

    // Assess
    const { httpRoute } = w.traffic.describeRoute(id).spec;
    expect({ ...httpRoute, action: undefined }).toEqual({ ...before.spec.httpRoute, action: undefined });
    expect(httpRoute!.action.weightedTargets).toEqual([
      { virtualNode: 'web-v1', weight: 100, port: 8080 },
      { virtualNode: 'web-v2', weight: 0, port: 8080 },
    ]);
    expect(w.traffic.writes.map((write) => [write.by, write.api, write.weights])).toEqual([
      ['person', 'UpdateRoute', { 'web-v1': 100, 'web-v2': 0 }],
    ]);
    expect(w.writeCalls()).toEqual([]);
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
    const [rule] = w.traffic.describeRules({ ruleArns: [info.ruleArn!] });
    expect(rule!.Actions[0]!.ForwardConfig!.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 300,
    });
  });
});

describe('twin rollout routers', () => {
  it('reads weights and the owner mark of an App Mesh route', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w, [75, 25]);

    // Act
    await w.routers.appmesh.setOwner(ref, 'rollout-1');
    const owned = await w.routers.appmesh.read(ref);
    await w.routers.appmesh.setOwner(ref, null);
    const released = await w.routers.appmesh.read(ref);

    // Assess
    expect(owned).toEqual({
      weights: { stable: 75, canary: 25 },
      targets: [
        { id: 'web-v1', weight: 75 },
        { id: 'web-v2', weight: 25 },
      ],
      owner: 'rollout-1',
    });
    expect(released.owner).toBeUndefined();
    expect(w.world.apiCalls.map((c) => c.api)).toEqual([
      'DescribeRoute',
      'TagResource',
      'DescribeRoute',
      'ListTagsForResource',
      'DescribeRoute',
      'UntagResource',
      'DescribeRoute',
      'ListTagsForResource',
    ]);
    expect(ROLLOUT_OWNER_TAG).toBe('ecs-reflex:rollout');
  });

  it('writes nothing when the weights already hold, and verifies with a read of its own', async () => {
    // Prepare
    const w = aWorld();
    const { ref } = withAlbRule(w, [90, 10]);

    // Act
    await w.routers.alb.setWeights(ref, { stable: 90, canary: 10 });
    const holds = await w.routers.alb.verifyWeights(ref, { stable: 90, canary: 10 });
    const other = await w.routers.alb.verifyWeights(ref, { stable: 50, canary: 50 });

    // Assess
    expect([holds, other]).toEqual([true, false]);
    expect(w.world.apiCalls.map((c) => c.api)).toEqual(['DescribeRules', 'DescribeRules', 'DescribeRules']);
    expect(w.traffic.writes).toEqual([]);
  });

  it('refuses weights outside the router’s limits before any write', async () => {
    // Prepare: a mesh route with 10 targets already, none of them the canary
    const w = aWorld(['tg1', 'tg2', 'tg3', 'tg4', 'web-blue', 'web-green']);
    w.traffic.addMeshRoute({
      meshName: 'prod',
      virtualRouterName: 'web-router',
      routeName: 'full',
      protocol: 'http',
      targets: Array.from({ length: 10 }, (_, i) => ({ virtualNode: `n${i}`, weight: 10 })),
    });
    const mesh: RouteRef = {
      router: 'appmesh',
      meshName: 'prod',
      virtualRouterName: 'web-router',
      routeName: 'full',
      stable: 'n0',
      canary: 'web-v2',
    };
    const alb = w.traffic.addListenerRule({
      name: 'five',
      targetGroups: ['tg1', 'tg2', 'tg3', 'tg4', 'web-blue'].map((targetGroup) => ({
        targetGroup,
        weight: 1,
      })),
    });
    const albRef: RouteRef = {
      router: 'alb',
      listenerArn: alb.listenerArn!,
      ruleArn: alb.ruleArn!,
      stable: w.world.targetGroup('web-blue').arn,
      canary: w.world.targetGroup('web-green').arn,
    };

    // Act & Assess
    await expect(w.routers.appmesh.setWeights(mesh, { stable: 90, canary: 10 })).rejects.toMatchObject({
      name: 'WeightOutOfRangeError',
      message: expect.stringContaining('1..10 weighted targets'),
    });
    await expect(w.routers.alb.setWeights(albRef, { stable: 90, canary: 10 })).rejects.toMatchObject({
      name: 'WeightOutOfRangeError',
      message: expect.stringContaining('1..5 weighted targets'),
    });
    await expect(w.routers.alb.setWeights(albRef, { stable: 90, canary: 20 })).rejects.toMatchObject({
      name: 'WeightOutOfRangeError',
    });
    expect(w.writeCalls()).toEqual([]);
    expect(w.traffic.writes).toEqual([]);
  });

  it('says RouteNotFoundError for a route that does not exist', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w);
    const { ref: albRef, info } = withAlbRule(w, [100, 0], 'web-alb');
    const goneListener = info.listenerArn!.replace(/[^/]+$/, 'no-such-listener');

    // Act & Assess
    await expect(w.routers.appmesh.read({ ...ref, routeName: 'gone' })).rejects.toMatchObject({
      name: 'RouteNotFoundError',
    });
    await expect(
      w.routers.alb.setWeights({ ...albRef, ruleArn: `${info.ruleArn}0` }, { stable: 50, canary: 50 }),
    ).rejects.toMatchObject({ name: 'RouteNotFoundError' });
    await expect(
      w.routers.alb.setOwner({ ...albRef, ruleArn: undefined, listenerArn: goneListener }, 'rollout-1'),
    ).rejects.toMatchObject({ name: 'RouteNotFoundError' });
    expect(w.traffic.writes).toEqual([]);
  });

  it('shifts a listener’s default action through ModifyListener and marks the listener', async () => {
    // Prepare
    const w = aWorld();
    const info = w.traffic.addListenerRule({
      name: 'default',
      default: true,
      targetGroups: [{ targetGroup: 'web-blue', weight: 1 }],
    });
    const ref: RouteRef = {
      router: 'alb',
      listenerArn: info.listenerArn!,
      stable: w.world.targetGroup('web-blue').arn,
      canary: w.world.targetGroup('web-green').arn,
    };

    // Act
    await w.routers.alb.setOwner(ref, 'rollout-7');
    await w.routers.alb.setWeights(ref, { stable: 95, canary: 5 });
    const state = await w.routers.alb.read(ref);

    // Assess
    expect(state).toMatchObject({ weights: { stable: 95, canary: 5 }, owner: 'rollout-7' });
    expect(w.traffic.weightsNow('default')).toEqual({ 'web-blue': 95, 'web-green': 5 });
    expect(w.writeCalls()).toEqual(['AddTags', 'ModifyListener']);
    expect(w.traffic.writes[0]).toMatchObject({ route: routeKey(ref), api: 'ModifyListener', by: 'reflex' });
  });

  it('retries a throttled call as the SDK does, recording each attempt', async () => {
    // Prepare
    const w = aWorld();
    const ref = withMeshRoute(w);
    w.faults.add({ api: 'UpdateRoute', from: START, until: at(1), rate: 1, error: 'ThrottlingException' });

    // Act & Assess
    await expect(w.routers.appmesh.setWeights(ref, { stable: 90, canary: 10 })).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(w.world.apiCalls.filter((c) => c.api === 'UpdateRoute').map((c) => c.failed)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ThrottlingException',
      'ThrottlingException',
    ]);
    expect(w.traffic.writes).toEqual([]);
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
    ).toThrow(expect.objectContaining({ name: 'ValidationError' }));
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
