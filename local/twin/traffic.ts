// Traffic in the twin: requests through App Mesh routes and ALB listener rules, split between versions by
// the routes' weights, a fault profile per version, and the CloudWatch metrics those requests leave
// behind, so that a rollout shifts real (simulated) traffic and its analysis reads what CloudWatch would
// hold. The routes themselves are the APIs' (local/twin/aws/appMesh.ts, elbv2.ts); this module hears
// every change of their targets and counts up to it first.
//
// Requests are counted as expected values, integrated over virtual time: a weight, rate or profile change
// in the middle of a minute counts from that instant on, and a minute's count is rounded from the running
// total, so totals over a window are exact and every run gives the same numbers. Latency follows a
// log-normal shape through the profile's p50 and p99 (local/twin/metricsMath.ts).
//
// Metrics: ALB target groups publish to AWS/ApplicationELB (RequestCount, HTTPCode_Target_5XX_Count,
// TargetResponseTime in seconds) with the LoadBalancer and TargetGroup dimensions. App Mesh has no
// namespace of its own: Envoy's stats reach CloudWatch through the CloudWatch agent under a namespace the
// operator picks; the twin uses AppMesh/Envoy (RequestCount, HTTPCode_5XX_Count, ResponseTime in ms) with
// the Mesh and VirtualNode dimensions. As in CloudWatch, a minute without requests has no datapoint, and
// ALB publishes no 5xx datapoint for a minute without a 5xx.
import type { WeightedTarget } from '#domain/rolloutRoutes';
import type { AlarmMetricQuery } from '#local/twin/alarms';
import {
  type MeshProtocol,
  type MeshRouteData,
  type MeshRouteId,
  type MeshWeightedTarget,
  meshBody,
  meshField,
  meshIdOf,
  meshRouteKey,
  TwinAppMesh,
} from '#local/twin/aws/appMesh';
import { AwsServiceError } from '#local/twin/aws/client';
import {
  type AlbAction,
  type AlbCondition,
  type AlbListener,
  albRouteKey,
  TwinLoadBalancers,
} from '#local/twin/aws/elbv2';
import {
  aggregate,
  countPoint,
  latencyPoint,
  MetricStore,
  MINUTE_MS,
  parseStat,
} from '#local/twin/metricsMath';
import type { World } from '#local/twin/world';
import type { MetricQuery } from '#ports';

export type Writer = 'reflex' | 'person';

export interface FaultProfile {
  /** Share of requests answered with a 5xx, 0..1. */
  errorRate: number;
  latencyMs: { p50: number; p99: number };
}

export const DEFAULT_PROFILE: FaultProfile = { errorRate: 0.001, latencyMs: { p50: 40, p99: 120 } };

/** One write of a route's weights: what scenarios assert the weight sequence on. */
export interface RouteWrite {
  at: Date;
  /** routeKey() of the route, as a RouteRef naming it would give. */
  route: string;
  /** The twin's name for the route (setRate, manualEdit). */
  name: string;
  api: 'UpdateRoute' | 'ModifyRule' | 'ModifyListener';
  /** Raw targets as the router holds them: virtual node names, or target group ARNs. */
  targets: WeightedTarget[];
  /** The same weights by version name (virtual node, target group name), for reading. */
  weights: Record<string, number>;
  by: Writer;
}

/** Where a version's metrics are, under which names: what a rollout analysis is configured with. */
export interface VersionMetrics {
  namespace: string;
  dimensions: Record<string, string>;
  requests: string;
  errors: string;
  latency: string;
  latencyUnit: 'Seconds' | 'Milliseconds';
}

export interface TrafficRouteInfo {
  name: string;
  kind: 'appmesh' | 'alb';
  /** routeKey() of the route. */
  key: string;
  /** The App Mesh route's ARN, or the rule's (the listener's for its default action). */
  arn: string;
  listenerArn?: string;
  ruleArn?: string;
  /** `app/NAME/ID`: the LoadBalancer dimension of an ALB route's metrics. */
  loadBalancer?: string;
}

export const ENVOY_NAMESPACE = 'AppMesh/Envoy';
export const ALB_NAMESPACE = 'AWS/ApplicationELB';

const GET_METRIC_DATA_MAX_QUERIES = 500;

type RouteEntry =
  | { kind: 'appmesh'; name: string; key: string; id: MeshRouteId; rps: number }
  | { kind: 'alb'; name: string; key: string; listenerArn: string; ruleArn?: string; rps: number };

/** Where one version's requests through one route are published. */
interface SeriesRef {
  key: string;
  kind: 'appmesh' | 'alb';
  dimensions: Record<string, string>;
}

interface MinuteTraffic {
  series: SeriesRef;
  requests: number;
  errors: number;
  /** Expected requests per latency shape (p50/p99), to build the minute's mixture. */
  shapes: Map<string, { count: number; p50: number; p99: number }>;
}

export class TwinTraffic {
  /** Every write of every route's weights, in order. */
  readonly writes: RouteWrite[] = [];
  /** App Mesh's routes: what the App Mesh model answers from. */
  readonly mesh: TwinAppMesh;
  /** ALB listeners and rules: what the ELBv2 model answers from. */
  readonly loadBalancers: TwinLoadBalancers;
  private readonly routes = new Map<string, RouteEntry>();
  private readonly profiles = new Map<string, FaultProfile>();
  private readonly store = new MetricStore();
  private readonly open = new Map<string, MinuteTraffic>();
  /** Expected and published totals per series: a minute's count is the rounded total minus what went out. */
  private readonly totals = new Map<
    string,
    { requests: number; errors: number; sentRequests: number; sentErrors: number }
  >();
  /** Up to when requests have been counted; undefined until start(). */
  private countedUntil: number | undefined;

  constructor(
    private readonly world: World,
    private readonly note: (text: string) => void = () => undefined,
  ) {
    this.mesh = new TwinAppMesh(world, {
      changing: () => this.count(),
      written: (data, by) => this.meshWritten(data, by),
    });
    this.loadBalancers = new TwinLoadBalancers(world, {
      changing: () => this.count(),
      written: (change, actions, by) => this.albWritten(change, actions, by),
    });
  }

  // --- building the routes ---------------------------------------------------------------------------

  /** An App Mesh route as it exists before the scenario starts (not a write in the log). */
  addMeshRoute(input: {
    meshName: string;
    meshOwner?: string;
    virtualRouterName: string;
    routeName: string;
    /** The twin's name for the route (setRate, manualEdit); the route name by default. */
    name?: string;
    protocol: MeshProtocol;
    targets: MeshWeightedTarget[];
    match?: Record<string, unknown>;
    retryPolicy?: Record<string, unknown>;
    timeout?: Record<string, unknown>;
    priority?: number;
    tags?: Record<string, string>;
    rps?: number;
  }): TrafficRouteInfo {
    const name = input.name ?? input.routeName;
    this.assertNewName(name);
    const { name: _name, rps, ...route } = input;
    const data = this.mesh.addRoute(route);
    const id: MeshRouteId = {
      meshName: data.meshName,
      ...(data.metadata.meshOwner !== this.world.account ? { meshOwner: data.metadata.meshOwner } : {}),
      virtualRouterName: data.virtualRouterName,
      routeName: data.routeName,
    };
    const key = meshRouteKey(id);
    this.routes.set(name, { kind: 'appmesh', name, key, id, rps: rps ?? 0 });
    return { name, kind: 'appmesh', key, arn: data.metadata.arn };
  }

  /**
   * An ALB listener, on a load balancer the twin makes up (ALB itself is not modelled beyond its
   * listeners, rules and the target groups of the world). Its default action answers 404 until a route
   * takes it over.
   */
  addListener(input: { loadBalancer?: string; port?: number; protocol?: string } = {}): AlbListener {
    return this.loadBalancers.addListener(input);
  }

  /**
   * An ALB route as it exists before the scenario starts (not a write in the log): a listener rule, or the
   * listener's default action (`default: true`), forwarding to the world's target groups by weight.
   * Without `listenerArn` the route goes on the twin's listener of `loadBalancer`; an unknown listener ARN
   * (a scenario's realistic one) becomes a listener of the load balancer it names.
   */
  addListenerRule(input: {
    name: string;
    listenerArn?: string;
    loadBalancer?: string;
    ruleArn?: string;
    default?: boolean;
    priority?: number;
    conditions?: AlbCondition[];
    /** Target group name or ARN (the world's), and its weight. */
    targetGroups: { targetGroup: string; weight: number }[];
    stickiness?: { enabled: boolean; durationSeconds: number };
    tags?: Record<string, string>;
    rps?: number;
  }): TrafficRouteInfo {
    this.assertNewName(input.name);
    const elb = this.loadBalancers;
    const actions = elb.forwardAction(input.targetGroups, input.stickiness);
    const { ListenerArn: listenerArn } = elb.listenerFor(input.listenerArn, input.loadBalancer);
    const loadBalancer = elb.loadBalancerDimension(listenerArn);
    if (input.default) {
      const taken = this.routeOnListenerDefault(listenerArn);
      if (taken) throw new Error(`the default action of ${listenerArn} already is route ${taken.name}`);
      elb.setDefaultActions(listenerArn, actions, input.tags);
      const key = albRouteKey(listenerArn);
      this.routes.set(input.name, { kind: 'alb', name: input.name, key, listenerArn, rps: input.rps ?? 0 });
      return { name: input.name, kind: 'alb', key, arn: listenerArn, listenerArn, loadBalancer };
    }
    const { RuleArn: ruleArn } = elb.addRule({
      listenerArn,
      ...(input.ruleArn ? { ruleArn: input.ruleArn } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.conditions ? { conditions: input.conditions } : {}),
      actions,
      ...(input.tags ? { tags: input.tags } : {}),
    });
    const key = albRouteKey(listenerArn, ruleArn);
    this.routes.set(input.name, {
      kind: 'alb',
      name: input.name,
      key,
      listenerArn,
      ruleArn,
      rps: input.rps ?? 0,
    });
    return { name: input.name, kind: 'alb', key, arn: ruleArn, listenerArn, ruleArn, loadBalancer };
  }

  route(name: string): TrafficRouteInfo {
    const route = this.entry(name);
    if (route.kind === 'appmesh') {
      const data = this.mesh.current(route.id);
      return { name, kind: 'appmesh', key: route.key, arn: data.metadata.arn };
    }
    return {
      name,
      kind: 'alb',
      key: route.key,
      arn: route.ruleArn ?? route.listenerArn,
      listenerArn: route.listenerArn,
      ...(route.ruleArn ? { ruleArn: route.ruleArn } : {}),
      loadBalancer: this.loadBalancers.loadBalancerDimension(route.listenerArn),
    };
  }

  /** The twin's names of every route, App Mesh and ALB. */
  routeNames(): string[] {
    return [...this.routes.keys()];
  }

  /** The route's weights now, by version name (virtual node, target group name). */
  weightsNow(name: string): Record<string, number> {
    return Object.fromEntries(this.flowsOf(this.entry(name)).map((f) => [f.version, f.weight]));
  }

  /** The writes of one route's weights, in order. */
  writesTo(name: string): RouteWrite[] {
    return this.writes.filter((w) => w.name === name);
  }

  // --- what a scenario does ------------------------------------------------------------------------------

  /**
   * A person edits the route by hand (console, CLI): the targets given become the route's whole target
   * list, everything else of the route kept. Versions by name (target group name or ARN for ALB). It goes
   * to the API as the person's UpdateRoute, ModifyRule or ModifyListener, not through the reflexes' calls.
   */
  manualEdit(name: string, targets: Record<string, number> | WeightedTarget[]): void {
    const list = Array.isArray(targets)
      ? targets
      : Object.entries(targets).map(([id, weight]) => ({ id, weight }));
    const route = this.entry(name);
    if (route.kind === 'appmesh') {
      const data = this.mesh.describeRoute(route.id);
      const field = meshField(data.spec);
      const body = data.spec[field]!;
      const ports = new Map(body.action.weightedTargets.map((t) => [t.virtualNode, t.port]));
      const weightedTargets = list.map((t) => {
        const port = ports.get(t.id);
        return { virtualNode: t.id, weight: t.weight, ...(port !== undefined ? { port } : {}) };
      });
      this.mesh.updateRoute(
        {
          ...meshIdOf(data),
          spec: { ...data.spec, [field]: { ...body, action: { ...body.action, weightedTargets } } },
        },
        'person',
      );
      return;
    }
    const actions = this.loadBalancers.actionsOf(route.listenerArn, route.ruleArn);
    const index = actions.findIndex((a) => a.Type === 'forward');
    if (index < 0) throw new Error(`route ${name} has no forward action to edit`);
    const { TargetGroupArn: _shortForm, ...forward } = actions[index]!;
    const TargetGroups = list.map((t) => ({ TargetGroupArn: this.targetGroupArn(t.id), Weight: t.weight }));
    const next = actions.map((a, i) =>
      i === index ? { ...forward, ForwardConfig: { ...forward.ForwardConfig, TargetGroups } } : a,
    );
    if (route.ruleArn) this.loadBalancers.modifyRule({ ruleArn: route.ruleArn, actions: next }, 'person');
    else
      this.loadBalancers.modifyListener({ listenerArn: route.listenerArn, defaultActions: next }, 'person');
  }

  /** Requests per second through the route from now on, split by its weights. */
  setRate(name: string, rps: number): void {
    if (!Number.isFinite(rps) || rps < 0) throw new Error(`request rate of ${name} must be >= 0, not ${rps}`);
    const route = this.entry(name);
    this.count();
    route.rps = rps;
    this.note(`route ${name}: ${rps} requests/s`);
  }

  /** How a version answers from now on: its share of 5xx and its latency; unset fields keep their value. */
  setProfile(version: string, profile: Partial<FaultProfile>): void {
    const next: FaultProfile = {
      ...(this.profiles.get(version) ?? DEFAULT_PROFILE),
      ...profile,
    };
    if (!(next.errorRate >= 0 && next.errorRate <= 1))
      throw new Error(`error rate of ${version} must be within 0..1, not ${next.errorRate}`);
    if (!(next.latencyMs.p50 > 0 && next.latencyMs.p99 >= next.latencyMs.p50))
      throw new Error(`latency of ${version} needs 0 < p50 <= p99, not ${JSON.stringify(next.latencyMs)}`);
    this.count();
    this.profiles.set(version, structuredClone(next));
    this.note(
      `${version}: ${next.errorRate * 100}% 5xx, p50 ${next.latencyMs.p50} ms, p99 ${next.latencyMs.p99} ms`,
    );
  }

  profile(version: string): FaultProfile {
    return structuredClone(this.profiles.get(version) ?? DEFAULT_PROFILE);
  }

  /** Where a version of a route publishes, and under which metric names. */
  versionMetrics(routeName: string, version: string): VersionMetrics {
    const route = this.entry(routeName);
    if (route.kind === 'appmesh') {
      return {
        namespace: ENVOY_NAMESPACE,
        dimensions: { Mesh: route.id.meshName, VirtualNode: version },
        requests: 'RequestCount',
        errors: 'HTTPCode_5XX_Count',
        latency: 'ResponseTime',
        latencyUnit: 'Milliseconds',
      };
    }
    return {
      namespace: ALB_NAMESPACE,
      dimensions: {
        LoadBalancer: this.loadBalancers.loadBalancerDimension(route.listenerArn),
        TargetGroup: targetGroupDimension(this.targetGroupArn(version)),
      },
      requests: 'RequestCount',
      errors: 'HTTPCode_Target_5XX_Count',
      latency: 'TargetResponseTime',
      latencyUnit: 'Seconds',
    };
  }

  /** Traffic flows from now on; each whole minute of the clock is published as it ends. */
  start(): void {
    if (this.countedUntil !== undefined) return;
    const now = this.world.clock.now().getTime();
    this.countedUntil = now;
    const tick = () => {
      this.count();
      this.world.clock.after(60, 'traffic minute', tick);
    };
    this.world.clock.at(
      new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS),
      'traffic minute',
      tick,
    );
  }

  // --- the metrics, as CloudWatch answers for them -------------------------------------------------------

  /**
   * GetMetricData: one value per query over the window, undefined where no datapoint falls in it. A
   * datapoint is a minute, counted in when the minute starts within the window (the start rounded down
   * to the minute, as CloudWatch aligns periods); the minute under way is not published yet.
   */
  query(queries: MetricQuery[], window: { start: Date; end: Date }): Record<string, number | undefined> {
    if (queries.length === 0 || queries.length > GET_METRIC_DATA_MAX_QUERIES)
      throw new AwsServiceError(
        'ValidationError',
        `GetMetricData takes 1..${GET_METRIC_DATA_MAX_QUERIES} queries, not ${queries.length}`,
      );
    const ids = new Set<string>();
    for (const q of queries) {
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.id))
        throw new AwsServiceError(
          'ValidationError',
          `The value ${q.id} for parameter MetricDataQueries.member.Id is not valid`,
        );
      if (ids.has(q.id))
        throw new AwsServiceError(
          'ValidationError',
          `The values for parameter id in MetricDataQueries are not unique`,
        );
      ids.add(q.id);
      parseStat(q.stat);
    }
    if (!(window.end.getTime() > window.start.getTime()))
      throw new AwsServiceError(
        'ValidationError',
        'The parameter StartTime must be less than the parameter EndTime',
      );
    this.count();
    return Object.fromEntries(
      queries.map((q) => [
        q.id,
        aggregate(
          this.store.points(q.namespace, q.metricName, q.dimensions, window.start, window.end),
          q.stat,
        ),
      ]),
    );
  }

  /** Every published minute of a series with one statistic: what a scenario asserts datapoints on. */
  datapoints(
    namespace: string,
    metricName: string,
    dimensions: Record<string, string>,
    stat = 'Sum',
  ): { at: Date; value: number }[] {
    this.count();
    return this.store
      .all(namespace, metricName, dimensions)
      .map(([at, point]) => ({ at: new Date(at), value: aggregate([point], stat)! }));
  }

  /**
   * What a metric alarm reads (TwinCloudWatch's metric source): the statistic over the last whole
   * period before now. Without a namespace, either traffic namespace with these dimensions.
   */
  alarmSample(query: AlarmMetricQuery): number | undefined {
    this.count();
    const namespaces = (query.namespace ? [query.namespace] : [ALB_NAMESPACE, ENVOY_NAMESPACE]).filter((ns) =>
      this.store.has(ns, query.metric, query.dimensions),
    );
    // A series the traffic never published is not ours: the alarm falls back to gauges and counters.
    if (namespaces.length === 0) return undefined;
    const end = Math.floor(this.world.clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
    const start = new Date(end - query.periodSeconds * 1000);
    const points = namespaces.flatMap((ns) =>
      this.store.points(ns, query.metric, query.dimensions, start, new Date(end)),
    );
    return aggregate(points, query.statistic);
  }

  // --- counting requests -----------------------------------------------------------------------------

  /** Counts the requests up to now with the routes, rates and profiles as they were; publishes whole minutes. */
  private count(): void {
    if (this.countedUntil === undefined) return;
    const now = this.world.clock.now().getTime();
    while (this.countedUntil < now) {
      const minute = Math.floor(this.countedUntil / MINUTE_MS) * MINUTE_MS;
      const until = Math.min(now, minute + MINUTE_MS);
      this.flow((until - this.countedUntil) / 1000);
      this.countedUntil = until;
      if (until === minute + MINUTE_MS) this.publish(minute);
    }
  }

  private flow(seconds: number): void {
    for (const route of this.routes.values()) {
      if (route.rps <= 0) continue;
      const flows = this.flowsOf(route);
      const total = flows.reduce((sum, f) => sum + f.weight, 0);
      if (total <= 0) continue;
      for (const f of flows) {
        if (f.weight <= 0) continue;
        const requests = (route.rps * seconds * f.weight) / total;
        const profile = this.profiles.get(f.version) ?? DEFAULT_PROFILE;
        const minute = this.open.get(f.series.key) ?? {
          series: f.series,
          requests: 0,
          errors: 0,
          shapes: new Map(),
        };
        this.open.set(f.series.key, minute);
        minute.requests += requests;
        minute.errors += requests * profile.errorRate;
        const { p50, p99 } = profile.latencyMs;
        const shape = minute.shapes.get(`${p50}/${p99}`) ?? { count: 0, p50, p99 };
        shape.count += requests;
        minute.shapes.set(`${p50}/${p99}`, shape);
      }
    }
  }

  private publish(minute: number): void {
    for (const traffic of this.open.values()) {
      const { series } = traffic;
      const totals = this.totals.get(series.key) ?? {
        requests: 0,
        errors: 0,
        sentRequests: 0,
        sentErrors: 0,
      };
      this.totals.set(series.key, totals);
      totals.requests += traffic.requests;
      totals.errors += traffic.errors;
      const requests = Math.max(0, Math.round(totals.requests) - totals.sentRequests);
      const errors = Math.max(0, Math.min(requests, Math.round(totals.errors) - totals.sentErrors));
      totals.sentRequests += requests;
      totals.sentErrors += errors;
      if (requests === 0) continue;
      const alb = series.kind === 'alb';
      const ns = alb ? ALB_NAMESPACE : ENVOY_NAMESPACE;
      this.store.put(ns, 'RequestCount', series.dimensions, minute, countPoint(requests));
      if (errors > 0)
        this.store.put(
          ns,
          alb ? 'HTTPCode_Target_5XX_Count' : 'HTTPCode_5XX_Count',
          series.dimensions,
          minute,
          countPoint(errors),
        );
      const latency = latencyPoint(requests, [...traffic.shapes.values()], alb ? 0.001 : 1);
      this.store.put(ns, alb ? 'TargetResponseTime' : 'ResponseTime', series.dimensions, minute, latency);
    }
    this.open.clear();
  }

  /** The route's targets now, each with its version name and the series it publishes to. */
  private flowsOf(route: RouteEntry): { version: string; weight: number; series: SeriesRef }[] {
    if (route.kind === 'appmesh') {
      const data = this.mesh.current(route.id);
      return meshBody(data.spec).action.weightedTargets.map((t) => ({
        version: t.virtualNode,
        weight: t.weight,
        series: {
          key: `appmesh|${data.meshName}|${t.virtualNode}`,
          kind: 'appmesh',
          dimensions: { Mesh: data.meshName, VirtualNode: t.virtualNode },
        },
      }));
    }
    const lb = this.loadBalancers.loadBalancerDimension(route.listenerArn);
    const forward = this.loadBalancers
      .actionsOf(route.listenerArn, route.ruleArn)
      .find((a) => a.Type === 'forward');
    return (forward?.ForwardConfig?.TargetGroups ?? []).map((t) => {
      const tg = targetGroupDimension(t.TargetGroupArn);
      return {
        version: this.world.targetGroups.get(t.TargetGroupArn)?.name ?? tg.split('/')[1]!,
        weight: t.Weight ?? 1,
        series: { key: `alb|${lb}|${tg}`, kind: 'alb', dimensions: { LoadBalancer: lb, TargetGroup: tg } },
      };
    });
  }

  // --- the write log -----------------------------------------------------------------------------------

  private meshWritten(data: MeshRouteData, by: Writer): void {
    const route = [...this.routes.values()].find(
      (r) => r.kind === 'appmesh' && this.mesh.current(r.id) === data,
    );
    const targets = meshBody(data.spec).action.weightedTargets.map((t) => ({
      id: t.virtualNode,
      weight: t.weight,
    }));
    this.recordWrite(route, 'UpdateRoute', targets, by, meshRouteKey(meshIdOf(data)));
  }

  private albWritten(
    change: { api: 'ModifyRule' | 'ModifyListener'; listenerArn: string; ruleArn?: string },
    actions: AlbAction[],
    by: Writer,
  ): void {
    const route = change.ruleArn
      ? [...this.routes.values()].find((r) => r.kind === 'alb' && r.ruleArn === change.ruleArn)
      : this.routeOnListenerDefault(change.listenerArn);
    const forward = actions.find((a) => a.Type === 'forward');
    const targets = (forward?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
      id: t.TargetGroupArn,
      weight: t.Weight ?? 1,
    }));
    this.recordWrite(route, change.api, targets, by, albRouteKey(change.listenerArn, change.ruleArn));
  }

  private recordWrite(
    route: RouteEntry | undefined,
    api: RouteWrite['api'],
    targets: WeightedTarget[],
    by: Writer,
    key: string,
  ) {
    const name = route?.name ?? '';
    const weights = Object.fromEntries(
      targets.map((t) => [
        api === 'UpdateRoute' ? t.id : (this.world.targetGroups.get(t.id)?.name ?? t.id),
        t.weight,
      ]),
    );
    this.writes.push({
      at: this.world.clock.now(),
      route: route?.key ?? key,
      name,
      api,
      targets,
      weights,
      by,
    });
    const text = Object.entries(weights)
      .map(([version, weight]) => `${version}=${weight}`)
      .join(' ');
    this.note(`route ${name || key} weights ${text} (${by}, ${api})`);
  }

  // --- lookups -----------------------------------------------------------------------------------------

  private entry(name: string): RouteEntry {
    const route = this.routes.get(name);
    if (!route) throw new Error(`no route named ${name} in the twin's traffic`);
    return route;
  }

  private assertNewName(name: string): void {
    if (this.routes.has(name)) throw new Error(`a route named ${name} exists already`);
  }

  private routeOnListenerDefault(listenerArn: string): RouteEntry | undefined {
    return [...this.routes.values()].find(
      (r) => r.kind === 'alb' && r.listenerArn === listenerArn && !r.ruleArn,
    );
  }

  private targetGroupArn(ref: string): string {
    const tg =
      this.world.targetGroups.get(ref) ?? [...this.world.targetGroups.values()].find((t) => t.name === ref);
    if (!tg)
      throw new AwsServiceError(
        'TargetGroupNotFoundException',
        `One or more target groups not found: ${ref}`,
      );
    return tg.arn;
  }
}

/** The TargetGroup dimension: the ARN's resource part, `targetgroup/NAME/ID`. */
function targetGroupDimension(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}
