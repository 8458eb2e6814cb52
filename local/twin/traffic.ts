// Traffic in the twin: requests through App Mesh routes, ALB and VPC Lattice listener rules, split between versions by
// the routes' weights, a fault profile per version, and the CloudWatch metrics those requests leave
// behind, so that a rollout shifts real (simulated) traffic and its analysis reads what CloudWatch would
// hold. The routes themselves are the APIs' (local/twin/aws/appMesh.ts, elbv2.ts, vpcLattice.ts); this module hears
// every change of their targets and counts up to it first.
//
// Requests are counted as expected values, integrated over virtual time: a weight, rate or profile change
// in the middle of a minute counts from that instant on, and a minute's count is rounded from the running
// total, so totals over a window are exact and every run gives the same numbers. Latency follows a
// log-normal shape through the profile's p50 and p99 (local/twin/metricsMath.ts).
//
// Metrics (METRICS below): ALB target groups publish to AWS/ApplicationELB with the LoadBalancer and
// TargetGroup dimensions. App Mesh has no namespace of its own: Envoy's stats reach CloudWatch through the
// CloudWatch agent under a namespace the operator picks; the twin uses AppMesh/Envoy with the Mesh and
// VirtualNode dimensions. VPC Lattice publishes to AWS/VpcLattice per target group (the TargetGroup
// dimension, its ID), RequestTime in milliseconds. As in CloudWatch, a minute without requests has no datapoint, and ALB
// publishes no 5xx datapoint for a minute without a 5xx.

import type { WeightedTarget } from '#domain/rolloutRoutes';
import type { AlarmMetricQuery } from '#local/twin/alarms';
import { type MeshRouteInput, TwinAppMesh } from '#local/twin/aws/appMesh';
import { type AlbRouteInput, TwinLoadBalancers } from '#local/twin/aws/elbv2';
import { type LatticeRouteInput, TwinLattice } from '#local/twin/aws/vpcLattice';
import { aggregate, countPoint, latencyPoint, MetricStore, MINUTE_MS } from '#local/twin/metricsMath';
import type { World } from '#local/twin/world';
import type { MetricQuery } from '#ports';

/** Who changed a route: the rollout (through the API), a person by hand (console, CLI), or ECS itself (a native deployment). */
export type Writer = 'reflex' | 'person' | 'ecs';

/**
 * What hears a write of a route's targets in App Mesh, ELB or VPC Lattice, before it takes effect: the
 * traffic, which counts up to the change first.
 */
export type RouteObserver = (
  change: { key: string; api: RouteWrite['api']; targets: WeightedTarget[] },
  by: Writer,
) => void;

/** A route as its API model (App Mesh, ELB, VPC Lattice) hands it to the traffic. */
export interface RouteHandle {
  info: Omit<TrafficRouteInfo, 'name' | 'kind'>;
  /** The route's targets now: virtual node names, ALB target group ARNs, or Lattice target group IDs. */
  targets(): WeightedTarget[];
  /** The dimensions a target's metrics are published with. */
  dimensions(target: string): Record<string, string>;
  /** A person's edit by hand (not an AWS call of the reflexes): the targets given become the whole list. */
  edit(targets: WeightedTarget[]): void;
}

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
  api: 'UpdateRoute' | 'ModifyRule' | 'ModifyListener' | 'UpdateRule' | 'UpdateListener';
  /** Raw targets as the router holds them: virtual node names, target group ARNs, or Lattice IDs. */
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
  kind: 'appmesh' | 'alb' | 'lattice';
  /** routeKey() of the route. */
  key: string;
  listenerArn?: string;
  ruleArn?: string;
  /** `app/NAME/ID`: the LoadBalancer dimension of an ALB route's metrics. */
  loadBalancer?: string;
}

export const ENVOY_NAMESPACE = 'AppMesh/Envoy';
export const ALB_NAMESPACE = 'AWS/ApplicationELB';
export const LATTICE_NAMESPACE = 'AWS/VpcLattice';

/** Each kind's metric names; a version's dimensions complete them. */
const METRICS = {
  appmesh: {
    namespace: ENVOY_NAMESPACE,
    requests: 'RequestCount',
    errors: 'HTTPCode_5XX_Count',
    latency: 'ResponseTime',
    latencyUnit: 'Milliseconds',
  },
  alb: {
    namespace: ALB_NAMESPACE,
    requests: 'RequestCount',
    errors: 'HTTPCode_Target_5XX_Count',
    latency: 'TargetResponseTime',
    latencyUnit: 'Seconds',
  },
  lattice: {
    namespace: LATTICE_NAMESPACE,
    requests: 'TotalRequestCount',
    errors: 'HTTPCode_5XX_Count',
    latency: 'RequestTime',
    latencyUnit: 'Milliseconds',
  },
} as const;

/** A route: what route() tells of it, its rate, and its model's handle. */
type RouteEntry = RouteHandle & { info: TrafficRouteInfo; rps: number };

interface MinuteTraffic {
  metrics: VersionMetrics;
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
  /** VPC Lattice services, listeners and rules: what the VPC Lattice model answers from. */
  readonly lattice: TwinLattice;
  private readonly routes = new Map<string, RouteEntry>();
  private readonly profiles = new Map<string, FaultProfile>();
  private readonly store = new MetricStore();
  /** The minute under way, per series. */
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
    const observer: RouteObserver = (change, by) => this.recordWrite(change, by);
    this.mesh = new TwinAppMesh(world, observer);
    this.loadBalancers = new TwinLoadBalancers(world, observer);
    this.lattice = new TwinLattice(world, observer);
  }

  // --- building the routes ---------------------------------------------------------------------------

  /** An App Mesh route as it exists before the scenario starts (not a write in the log), named by its route. */
  addMeshRoute(input: MeshRouteInput & { rps?: number }): TrafficRouteInfo {
    const { rps = 0, ...route } = input;
    return this.add(route.routeName, 'appmesh', rps, () => this.mesh.addRoute(route));
  }

  /**
   * An ALB route as it exists before the scenario starts (not a write in the log): a listener rule, or the
   * listener's default action (`default: true`), on the twin's listener of `loadBalancer`.
   */
  addListenerRule(input: AlbRouteInput & { name: string; rps?: number }): TrafficRouteInfo {
    const { name, rps = 0, ...rule } = input;
    return this.add(name, 'alb', rps, () => this.loadBalancers.addRoute(name, rule));
  }

  /**
   * A VPC Lattice route as it exists before the scenario starts (not a write in the log): a rule, or the
   * default action, of the one listener the twin makes up for `service`.
   */
  addLatticeRoute(input: LatticeRouteInput & { name: string; rps?: number }): TrafficRouteInfo {
    const { name, rps = 0, ...route } = input;
    return this.add(name, 'lattice', rps, () => this.lattice.addRoute(name, route));
  }

  route(name: string): TrafficRouteInfo {
    return this.entry(name).info;
  }

  /** The twin's names of every route, of every kind. */
  routeNames(): string[] {
    return [...this.routes.keys()];
  }

  /** The route's weights now, by version name (virtual node, target group name). */
  weightsNow(name: string): Record<string, number> {
    const route = this.entry(name);
    return this.byVersion(route.info.kind, route.targets());
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
    this.entry(name).edit(list);
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
    const next: FaultProfile = { ...this.profileOf(version), ...profile };
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

  /** How a version answers now: its profile, or the default one. */
  profileOf(version: string): FaultProfile {
    return this.profiles.get(version) ?? DEFAULT_PROFILE;
  }

  /** Where a version of a route publishes, and under which metric names. */
  versionMetrics(routeName: string, version: string): VersionMetrics {
    const route = this.entry(routeName);
    const kind = route.info.kind;
    const target =
      kind === 'appmesh'
        ? version
        : kind === 'lattice'
          ? this.lattice.targetGroup(version).id
          : this.world.targetGroup(version).arn;
    return this.metricsOf(route, target);
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
    this.world.clock.at(new Date(minuteStart(now) + MINUTE_MS), 'traffic minute', tick);
  }

  // --- the metrics, as CloudWatch answers for them -------------------------------------------------------

  /**
   * GetMetricData's values (the CloudWatch model checks the request; a statistic the twin does not know
   * is refused here): one value per query over the window, undefined where no datapoint falls in it. A
   * datapoint is a minute, counted in when the minute starts within the window (the start rounded down
   * to the minute, as CloudWatch aligns periods); the minute under way is not published yet.
   */
  query(queries: MetricQuery[], window: { start: Date; end: Date }): Record<string, number | undefined> {
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
    const minutes = [...(this.store.minutes(namespace, metricName, dimensions) ?? [])];
    return minutes.map(([at, point]) => ({ at: new Date(at), value: aggregate([point], stat)! }));
  }

  /**
   * What a metric alarm reads (TwinCloudWatch's metric source): the statistic over the last whole
   * period before now. Without a namespace, either traffic namespace with these dimensions.
   */
  alarmSample(query: AlarmMetricQuery): number | undefined {
    this.count();
    const all = [ALB_NAMESPACE, ENVOY_NAMESPACE, LATTICE_NAMESPACE];
    const namespaces = (query.namespace ? [query.namespace] : all).filter((ns) =>
      this.store.minutes(ns, query.metric, query.dimensions),
    );
    // A series the traffic never published is not ours: the alarm falls back to gauges and counters.
    if (namespaces.length === 0) return undefined;
    const end = minuteStart(this.world.clock.now().getTime());
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
      const minute = minuteStart(this.countedUntil);
      const until = Math.min(now, minute + MINUTE_MS);
      this.flow((until - this.countedUntil) / 1000);
      this.countedUntil = until;
      if (until === minute + MINUTE_MS) this.publish(minute);
    }
  }

  private flow(seconds: number): void {
    for (const route of this.routes.values()) {
      if (route.rps <= 0) continue;
      const targets = route.targets();
      const total = targets.reduce((sum, t) => sum + t.weight, 0);
      if (total <= 0) continue;
      for (const target of targets) {
        if (target.weight <= 0) continue;
        const requests = (route.rps * seconds * target.weight) / total;
        const profile = this.profileOf(this.versionOf(route.info.kind, target.id));
        const metrics = this.metricsOf(route, target.id);
        const series = `${metrics.namespace}|${Object.values(metrics.dimensions).join('|')}`;
        const minute = this.open.get(series) ?? { metrics, requests: 0, errors: 0, shapes: new Map() };
        this.open.set(series, minute);
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
    for (const [series, traffic] of this.open) {
      const totals = this.totals.get(series) ?? { requests: 0, errors: 0, sentRequests: 0, sentErrors: 0 };
      this.totals.set(series, totals);
      totals.requests += traffic.requests;
      totals.errors += traffic.errors;
      const requests = Math.max(0, Math.round(totals.requests) - totals.sentRequests);
      const errors = Math.max(0, Math.min(requests, Math.round(totals.errors) - totals.sentErrors));
      totals.sentRequests += requests;
      totals.sentErrors += errors;
      if (requests === 0) continue;
      const { namespace, dimensions, ...names } = traffic.metrics;
      this.store.put(namespace, names.requests, dimensions, minute, countPoint(requests));
      if (errors > 0) this.store.put(namespace, names.errors, dimensions, minute, countPoint(errors));
      const unit = names.latencyUnit === 'Seconds' ? 0.001 : 1;
      const latency = latencyPoint(requests, [...traffic.shapes.values()], unit);
      this.store.put(namespace, names.latency, dimensions, minute, latency);
    }
    this.open.clear();
  }

  // --- the routes' targets and the write log -------------------------------------------------------------

  /** A target's version name: the virtual node, or the target group's name. */
  private versionOf(kind: TrafficRouteInfo['kind'], target: string): string {
    if (kind === 'appmesh') return target;
    if (kind === 'lattice') return this.lattice.nameOf(target);
    // targetgroup/<name>/<id>: a group the world does not know is named by its ARN's name part.
    return this.world.targetGroups.get(target)?.name ?? target.split('/')[1] ?? target;
  }

  private byVersion(kind: TrafficRouteInfo['kind'], targets: WeightedTarget[]): Record<string, number> {
    return Object.fromEntries(targets.map((t) => [this.versionOf(kind, t.id), t.weight]));
  }

  /** Where a route's target (virtual node, target group ARN) publishes, under which names. */
  private metricsOf(route: RouteEntry, target: string): VersionMetrics {
    return { ...METRICS[route.info.kind], dimensions: route.dimensions(target) };
  }

  private recordWrite(...[{ key, api, targets }, by]: Parameters<RouteObserver>): void {
    // A listener or rule that carries none of the twin's routes (a listener's fixed-response default
    // under a routed rule): its actions change, and no modelled traffic with them.
    const route = [...this.routes.values()].find((r) => r.info.key === key);
    if (!route) return;
    this.count();
    const { name, kind } = route.info;
    const weights = this.byVersion(kind, targets);
    this.writes.push({ at: this.world.clock.now(), route: key, name, api, targets, weights, by });
    const text = Object.entries(weights)
      .map(([version, weight]) => `${version}=${weight}`)
      .join(' ');
    this.note(`route ${name} weights ${text} (${by}, ${api})`);
  }

  // --- lookups -----------------------------------------------------------------------------------------

  private add(name: string, kind: TrafficRouteInfo['kind'], rps: number, make: () => RouteHandle) {
    if (this.routes.has(name)) throw new Error(`a route named ${name} exists already`);
    const handle = make();
    const info = { name, kind, ...handle.info };
    this.routes.set(name, { ...handle, info, rps });
    return info;
  }

  private entry(name: string): RouteEntry {
    const route = this.routes.get(name);
    if (!route) throw new Error(`no route named ${name} in the twin's traffic`);
    return route;
  }
}

/** The start of the minute an instant (epoch milliseconds) falls in. */
const minuteStart = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
