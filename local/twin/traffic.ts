// Traffic in the twin: App Mesh routes and ALB listener rules that split requests between versions by
// weight, a fault profile per version, and the CloudWatch metrics those requests leave behind, so that a
// rollout shifts real (simulated) traffic and its analysis reads what CloudWatch would hold.
//
// Requests are counted as expected values, integrated over virtual time: a weight, rate or profile change
// in the middle of a minute counts from that instant on, and a minute's count is rounded from the running
// total, so totals over a window are exact and every run gives the same numbers. Latency follows a
// log-normal shape through the profile's p50 and p99; a minute keeps its mixture of shapes, so any
// percentile over any window can be answered the way CloudWatch answers it from raw samples.
//
// Metrics: ALB target groups publish to AWS/ApplicationELB (RequestCount, HTTPCode_Target_5XX_Count,
// TargetResponseTime in seconds) with the LoadBalancer and TargetGroup dimensions. App Mesh has no
// namespace of its own: Envoy's stats reach CloudWatch through the CloudWatch agent under a namespace the
// operator picks; the twin uses AppMesh/Envoy (RequestCount, HTTPCode_5XX_Count, ResponseTime in ms) with
// the Mesh and VirtualNode dimensions. As in CloudWatch, a minute without requests has no datapoint, and
// ALB publishes no 5xx datapoint for a minute without a 5xx.
import { routeKey, type WeightedTarget } from '#domain/rolloutRoutes';
import type { AlarmMetricQuery } from '#local/twin/alarms';
import type { World } from '#local/twin/world';
import type { MetricQuery } from '#ports';

export type Writer = 'reflex' | 'person';

// --- App Mesh shapes (the SDK's, as DescribeRoute returns them) ---------------------------------------

export type MeshProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

export interface MeshWeightedTarget {
  virtualNode: string;
  weight: number;
  port?: number;
}

export interface MeshRouteBody {
  action: { weightedTargets: MeshWeightedTarget[] };
  match?: Record<string, unknown>;
  retryPolicy?: Record<string, unknown>;
  timeout?: Record<string, unknown>;
}

export interface MeshRouteSpec {
  priority?: number;
  httpRoute?: MeshRouteBody;
  http2Route?: MeshRouteBody;
  grpcRoute?: MeshRouteBody;
  tcpRoute?: MeshRouteBody;
}

export interface MeshRouteData {
  meshName: string;
  virtualRouterName: string;
  routeName: string;
  spec: MeshRouteSpec;
  metadata: {
    arn: string;
    uid: string;
    version: number;
    createdAt: Date;
    lastUpdatedAt: Date;
    meshOwner: string;
    resourceOwner: string;
  };
  status: { status: 'ACTIVE' };
}

export interface MeshRouteId {
  meshName: string;
  /** The mesh owner's account; absent: this account. */
  meshOwner?: string;
  virtualRouterName: string;
  routeName: string;
}

export const MESH_ROUTE_FIELDS = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;
export type MeshRouteField = (typeof MESH_ROUTE_FIELDS)[number];
const FIELD_OF: Record<MeshProtocol, MeshRouteField> = {
  http: 'httpRoute',
  http2: 'http2Route',
  grpc: 'grpcRoute',
  tcp: 'tcpRoute',
};

// --- ELBv2 shapes (the SDK's, as DescribeRules and DescribeListeners return them) ---------------------

export interface AlbTargetGroupTuple {
  TargetGroupArn: string;
  Weight?: number;
}

export interface AlbForwardConfig {
  TargetGroups: AlbTargetGroupTuple[];
  TargetGroupStickinessConfig?: { Enabled: boolean; DurationSeconds?: number };
}

export interface AlbAction {
  Type: string;
  Order?: number;
  TargetGroupArn?: string;
  ForwardConfig?: AlbForwardConfig;
  FixedResponseConfig?: { StatusCode: string; ContentType?: string; MessageBody?: string };
  RedirectConfig?: Record<string, unknown>;
  AuthenticateOidcConfig?: Record<string, unknown>;
  AuthenticateCognitoConfig?: Record<string, unknown>;
}

export interface AlbCondition {
  Field: string;
  Values?: string[];
  PathPatternConfig?: { Values: string[] };
  HostHeaderConfig?: { Values: string[] };
}

export interface AlbRule {
  RuleArn: string;
  Priority: string;
  Conditions: AlbCondition[];
  Actions: AlbAction[];
  IsDefault: boolean;
}

export interface AlbListener {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: string;
  DefaultActions: AlbAction[];
}

export interface AlbTag {
  Key: string;
  Value?: string;
}

// --- traffic -----------------------------------------------------------------------------------------

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

/** App Mesh's limits on a route's weighted targets, and ELB's on a forward action. */
const MESH_MAX_TARGETS = 10;
const MESH_MAX_WEIGHT = 100;
const ALB_MAX_TARGET_GROUPS = 5;
const ALB_MAX_WEIGHT = 999;
const ALB_MAX_STICKINESS_SECONDS = 604_800;
const MAX_TAGS = 50;
const GET_METRIC_DATA_MAX_QUERIES = 500;
const MINUTE_MS = 60_000;
/** Φ⁻¹(0.99): how many standard deviations p99 lies above the median of a normal. */
const Z99 = 2.3263478740408408;

/** An error with the name the AWS service gives it (the SDK's exception name): adapters match on it. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** routeKey() of an App Mesh route, without a RouteRef: the owner shows only for a mesh shared with us. */
export function meshRouteKey(id: MeshRouteId): string {
  return routeKey({ router: 'appmesh', ...id, stable: '', canary: '' });
}

/** routeKey() of an ALB rule, or of a listener's default action when there is no rule. */
export function albRouteKey(listenerArn: string, ruleArn?: string): string {
  return routeKey({ router: 'alb', listenerArn, ...(ruleArn ? { ruleArn } : {}), stable: '', canary: '' });
}

interface MeshRouteState {
  data: MeshRouteData;
  tags: Map<string, string>;
}

interface LoadBalancerState {
  arn: string;
  /** `app/NAME/ID`, the LoadBalancer dimension. */
  dimension: string;
}

interface ListenerState {
  listener: AlbListener;
  defaultRuleArn: string;
  loadBalancer: LoadBalancerState;
  tags: Map<string, string>;
  nextPriority: number;
}

interface RuleState {
  rule: AlbRule;
  listenerArn: string;
  tags: Map<string, string>;
}

type RouteEntry =
  | { kind: 'appmesh'; name: string; key: string; stateKey: string; rps: number }
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

/** One log-normal part of a latency mixture, in the metric's unit. */
interface Shape {
  weight: number;
  mu: number;
  sigma: number;
}

/** A minute's statistic set, as CloudWatch keeps it; a latency datapoint keeps its shape for percentiles. */
interface Datapoint {
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
  mixture?: Shape[];
}

export class TwinTraffic {
  /** Every write of every route's weights, in order. */
  readonly writes: RouteWrite[] = [];
  private readonly routes = new Map<string, RouteEntry>();
  private readonly meshRoutes = new Map<string, MeshRouteState>();
  private readonly loadBalancers = new Map<string, LoadBalancerState>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();
  private readonly profiles = new Map<string, FaultProfile>();
  private readonly store = new Map<string, Map<number, Datapoint>>();
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
  ) {}

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
    const owner = input.meshOwner ?? this.world.account;
    const id: MeshRouteId = {
      meshName: input.meshName,
      ...(owner !== this.world.account ? { meshOwner: owner } : {}),
      virtualRouterName: input.virtualRouterName,
      routeName: input.routeName,
    };
    const stateKey = this.meshStateKey(id);
    if (this.meshRoutes.has(stateKey))
      throw awsError(
        'ConflictException',
        `Route ${input.routeName} already exists in ${input.virtualRouterName}`,
      );
    const body: MeshRouteBody = {
      action: { weightedTargets: input.targets.map((t) => ({ ...t })) },
      ...(input.match
        ? { match: input.match }
        : input.protocol === 'tcp'
          ? {}
          : { match: input.protocol === 'grpc' ? { serviceName: input.routeName } : { prefix: '/' } }),
      ...(input.retryPolicy ? { retryPolicy: input.retryPolicy } : {}),
      ...(input.timeout ? { timeout: input.timeout } : {}),
    };
    const spec: MeshRouteSpec = {
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      [FIELD_OF[input.protocol]]: body,
    };
    validateMeshSpec(spec);
    const now = this.world.clock.now();
    const data: MeshRouteData = {
      meshName: input.meshName,
      virtualRouterName: input.virtualRouterName,
      routeName: input.routeName,
      spec: structuredClone(spec),
      metadata: {
        arn: `arn:aws:appmesh:${this.world.region}:${owner}:mesh/${input.meshName}/virtualRouter/${input.virtualRouterName}/route/${input.routeName}`,
        uid: uuidOf(this.world.newId()),
        version: 1,
        createdAt: now,
        lastUpdatedAt: now,
        meshOwner: owner,
        resourceOwner: this.world.account,
      },
      status: { status: 'ACTIVE' },
    };
    this.meshRoutes.set(stateKey, { data, tags: new Map(Object.entries(input.tags ?? {})) });
    const key = meshRouteKey(id);
    this.routes.set(name, { kind: 'appmesh', name, key, stateKey, rps: input.rps ?? 0 });
    return { name, kind: 'appmesh', key, arn: data.metadata.arn };
  }

  /**
   * An ALB listener, on a load balancer the twin makes up (ALB itself is not modelled beyond its
   * listeners, rules and the target groups of the world). Its default action answers 404 until a route
   * takes it over.
   */
  addListener(input: { loadBalancer?: string; port?: number; protocol?: string } = {}): AlbListener {
    const lb = this.loadBalancer(input.loadBalancer ?? 'twin-alb');
    const listenerArn = `${lb.arn.replace(':loadbalancer/', ':listener/')}/${this.world.newId().slice(0, 16)}`;
    return structuredClone(
      this.createListener(listenerArn, lb, input.port ?? 80, input.protocol ?? 'HTTP').listener,
    );
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
    const forward: AlbAction = {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: input.targetGroups.map((t) => ({
          TargetGroupArn: this.world.targetGroup(t.targetGroup).arn,
          Weight: t.weight,
        })),
        ...(input.stickiness
          ? {
              TargetGroupStickinessConfig: {
                Enabled: input.stickiness.enabled,
                DurationSeconds: input.stickiness.durationSeconds,
              },
            }
          : {}),
      },
    };
    const actions = normalizeActions(this.validateActions([forward]));
    const listener = this.listenerFor(input.listenerArn, input.loadBalancer);
    const listenerArn = listener.listener.ListenerArn;
    if (input.default) {
      const taken = this.routeOnListenerDefault(listenerArn);
      if (taken) throw new Error(`the default action of ${listenerArn} already is route ${taken.name}`);
      listener.listener.DefaultActions = actions;
      for (const [k, v] of Object.entries(input.tags ?? {})) listener.tags.set(k, v);
      const key = albRouteKey(listenerArn);
      this.routes.set(input.name, { kind: 'alb', name: input.name, key, listenerArn, rps: input.rps ?? 0 });
      return {
        name: input.name,
        kind: 'alb',
        key,
        arn: listenerArn,
        listenerArn,
        loadBalancer: listener.loadBalancer.dimension,
      };
    }
    const ruleArn =
      input.ruleArn ??
      `${listenerArn.replace(':listener/', ':listener-rule/')}/${this.world.newId().slice(0, 16)}`;
    if (this.rules.has(ruleArn) || [...this.listeners.values()].some((l) => l.defaultRuleArn === ruleArn))
      throw awsError('DuplicateRuleException', `rule ${ruleArn} already exists`);
    const priority = input.priority ?? listener.nextPriority;
    if (
      [...this.rules.values()].some(
        (r) => r.listenerArn === listenerArn && r.rule.Priority === String(priority),
      )
    )
      throw awsError('PriorityInUseException', `Priority '${priority}' is currently in use`);
    listener.nextPriority = Math.max(listener.nextPriority, priority + 1);
    this.rules.set(ruleArn, {
      rule: {
        RuleArn: ruleArn,
        Priority: String(priority),
        Conditions: structuredClone(input.conditions ?? [{ Field: 'path-pattern', Values: ['/*'] }]),
        Actions: actions,
        IsDefault: false,
      },
      listenerArn,
      tags: new Map(Object.entries(input.tags ?? {})),
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
    return {
      name: input.name,
      kind: 'alb',
      key,
      arn: ruleArn,
      listenerArn,
      ruleArn,
      loadBalancer: listener.loadBalancer.dimension,
    };
  }

  route(name: string): TrafficRouteInfo {
    const route = this.entry(name);
    if (route.kind === 'appmesh') {
      const state = this.meshRoutes.get(route.stateKey)!;
      return { name, kind: 'appmesh', key: route.key, arn: state.data.metadata.arn };
    }
    const listener = this.listeners.get(route.listenerArn)!;
    return {
      name,
      kind: 'alb',
      key: route.key,
      arn: route.ruleArn ?? route.listenerArn,
      listenerArn: route.listenerArn,
      ...(route.ruleArn ? { ruleArn: route.ruleArn } : {}),
      loadBalancer: listener.loadBalancer.dimension,
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

  // --- App Mesh API ------------------------------------------------------------------------------------

  describeRoute(id: MeshRouteId): MeshRouteData {
    return structuredClone(this.meshRoute(id).data);
  }

  /** UpdateRoute: the spec given replaces the whole spec, as App Mesh does. */
  updateRoute(input: MeshRouteId & { spec: MeshRouteSpec }, by: Writer = 'reflex'): MeshRouteData {
    const state = this.meshRoute(input);
    validateMeshSpec(input.spec);
    this.count();
    state.data.spec = structuredClone(input.spec);
    state.data.metadata.version += 1;
    state.data.metadata.lastUpdatedAt = this.world.clock.now();
    const targets = meshBody(state.data.spec).action.weightedTargets.map((t) => ({
      id: t.virtualNode,
      weight: t.weight,
    }));
    this.recordWrite(this.routeOfMesh(state), 'UpdateRoute', targets, by);
    return structuredClone(state.data);
  }

  tagResource(resourceArn: string, tags: { key: string; value?: string }[]): void {
    const state = this.meshRouteByArn(resourceArn);
    const next = new Map(state.tags);
    for (const tag of tags) next.set(tag.key, tag.value ?? '');
    if (next.size > MAX_TAGS)
      throw awsError('TooManyTagsException', `${resourceArn} would have more than ${MAX_TAGS} tags`);
    state.tags = next;
  }

  untagResource(resourceArn: string, tagKeys: string[]): void {
    const state = this.meshRouteByArn(resourceArn);
    for (const key of tagKeys) state.tags.delete(key);
  }

  listTagsForResource(resourceArn: string): { key: string; value: string }[] {
    return [...this.meshRouteByArn(resourceArn).tags].map(([key, value]) => ({ key, value }));
  }

  // --- ELBv2 API ---------------------------------------------------------------------------------------

  /** DescribeRules by rule ARNs, or every rule of a listener (its default rule included, last). */
  describeRules(input: { ruleArns: string[] } | { listenerArn: string }): AlbRule[] {
    if ('listenerArn' in input) {
      const listener = this.listenerState(input.listenerArn);
      const rules = [...this.rules.values()]
        .filter((r) => r.listenerArn === input.listenerArn)
        .map((r) => r.rule)
        .sort((a, b) => Number(a.Priority) - Number(b.Priority));
      return structuredClone([...rules, defaultRule(listener)]);
    }
    return structuredClone(
      input.ruleArns.map((arn) => {
        const rule = this.rules.get(arn)?.rule;
        if (rule) return rule;
        const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === arn);
        if (listener) return defaultRule(listener);
        throw awsError('RuleNotFoundException', `One or more rules not found: ${arn}`);
      }),
    );
  }

  describeListeners(input: { listenerArns: string[] }): AlbListener[] {
    return structuredClone(input.listenerArns.map((arn) => this.listenerState(arn).listener));
  }

  /** ModifyRule: the actions given replace all of the rule's actions. */
  modifyRule(
    input: { ruleArn: string; actions?: AlbAction[]; conditions?: AlbCondition[] },
    by: Writer = 'reflex',
  ): AlbRule {
    const state = this.rules.get(input.ruleArn);
    if (!state) {
      if ([...this.listeners.values()].some((l) => l.defaultRuleArn === input.ruleArn))
        throw awsError(
          'OperationNotPermittedException',
          'The default rule cannot be modified: use ModifyListener',
        );
      throw awsError('RuleNotFoundException', `One or more rules not found: ${input.ruleArn}`);
    }
    const actions = input.actions && normalizeActions(this.validateActions(input.actions));
    this.count();
    if (input.conditions) state.rule.Conditions = structuredClone(input.conditions);
    if (actions) {
      state.rule.Actions = actions;
      const route = [...this.routes.values()].find((r) => r.kind === 'alb' && r.ruleArn === input.ruleArn);
      this.recordAlbWrite(route, 'ModifyRule', actions, by, albRouteKey(state.listenerArn, input.ruleArn));
    }
    return structuredClone(state.rule);
  }

  /** ModifyListener: default actions given replace all of them; the other fields are kept when absent. */
  modifyListener(
    input: { listenerArn: string; defaultActions?: AlbAction[]; port?: number; protocol?: string },
    by: Writer = 'reflex',
  ): AlbListener {
    const state = this.listenerState(input.listenerArn);
    const actions = input.defaultActions && normalizeActions(this.validateActions(input.defaultActions));
    this.count();
    if (input.port !== undefined) state.listener.Port = input.port;
    if (input.protocol !== undefined) state.listener.Protocol = input.protocol;
    if (actions) {
      state.listener.DefaultActions = actions;
      this.recordAlbWrite(
        this.routeOnListenerDefault(input.listenerArn),
        'ModifyListener',
        actions,
        by,
        albRouteKey(input.listenerArn),
      );
    }
    return structuredClone(state.listener);
  }

  addTags(resourceArns: string[], tags: AlbTag[]): void {
    for (const arn of resourceArns) {
      const holder = this.albTagHolder(arn);
      const next = new Map(holder.tags);
      for (const tag of tags) next.set(tag.Key, tag.Value ?? '');
      if (next.size > MAX_TAGS)
        throw awsError('TooManyTagsException', `${arn} would have more than ${MAX_TAGS} tags`);
      holder.tags = next;
    }
  }

  removeTags(resourceArns: string[], tagKeys: string[]): void {
    for (const arn of resourceArns) {
      const holder = this.albTagHolder(arn);
      for (const key of tagKeys) holder.tags.delete(key);
    }
  }

  describeTags(resourceArns: string[]): { ResourceArn: string; Tags: AlbTag[] }[] {
    return resourceArns.map((arn) => ({
      ResourceArn: arn,
      Tags: [...this.albTagHolder(arn).tags].map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  // --- what a scenario does ------------------------------------------------------------------------------

  /**
   * A person edits the route by hand (console, CLI): the targets given become the route's whole target
   * list, everything else of the route kept. Versions by name (target group name or ARN for ALB).
   */
  manualEdit(name: string, targets: Record<string, number> | WeightedTarget[]): void {
    const list = Array.isArray(targets)
      ? targets
      : Object.entries(targets).map(([id, weight]) => ({ id, weight }));
    const route = this.entry(name);
    if (route.kind === 'appmesh') {
      const { data } = this.meshRoutes.get(route.stateKey)!;
      const field = meshField(data.spec);
      const body = data.spec[field]!;
      const ports = new Map(body.action.weightedTargets.map((t) => [t.virtualNode, t.port]));
      const weightedTargets = list.map((t) => {
        const port = ports.get(t.id);
        return { virtualNode: t.id, weight: t.weight, ...(port !== undefined ? { port } : {}) };
      });
      this.updateRoute(
        {
          ...meshIdOf(data),
          spec: { ...data.spec, [field]: { ...body, action: { ...body.action, weightedTargets } } },
        },
        'person',
      );
      return;
    }
    const actions = this.albActions(route);
    const index = actions.findIndex((a) => a.Type === 'forward');
    if (index < 0) throw new Error(`route ${name} has no forward action to edit`);
    const { TargetGroupArn: _shortForm, ...forward } = actions[index]!;
    const TargetGroups = list.map((t) => ({ TargetGroupArn: this.targetGroupArn(t.id), Weight: t.weight }));
    const next = actions.map((a, i) =>
      i === index ? { ...forward, ForwardConfig: { ...forward.ForwardConfig, TargetGroups } } : a,
    );
    if (route.ruleArn) this.modifyRule({ ruleArn: route.ruleArn, actions: next }, 'person');
    else this.modifyListener({ listenerArn: route.listenerArn, defaultActions: next }, 'person');
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
      const { data } = this.meshRoutes.get(route.stateKey)!;
      return {
        namespace: ENVOY_NAMESPACE,
        dimensions: { Mesh: data.meshName, VirtualNode: version },
        requests: 'RequestCount',
        errors: 'HTTPCode_5XX_Count',
        latency: 'ResponseTime',
        latencyUnit: 'Milliseconds',
      };
    }
    return {
      namespace: ALB_NAMESPACE,
      dimensions: {
        LoadBalancer: this.listeners.get(route.listenerArn)!.loadBalancer.dimension,
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

  // --- CloudWatch --------------------------------------------------------------------------------------

  /**
   * GetMetricData: one value per query over the window, undefined where no datapoint falls in it. A
   * datapoint is a minute, counted in when the minute starts within the window (the start rounded down
   * to the minute, as CloudWatch aligns periods); the minute under way is not published yet.
   */
  query(queries: MetricQuery[], window: { start: Date; end: Date }): Record<string, number | undefined> {
    if (queries.length === 0 || queries.length > GET_METRIC_DATA_MAX_QUERIES)
      throw awsError(
        'ValidationError',
        `GetMetricData takes 1..${GET_METRIC_DATA_MAX_QUERIES} queries, not ${queries.length}`,
      );
    const ids = new Set<string>();
    for (const q of queries) {
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(q.id))
        throw awsError(
          'ValidationError',
          `The value ${q.id} for parameter MetricDataQueries.member.Id is not valid`,
        );
      if (ids.has(q.id))
        throw awsError('ValidationError', `The values for parameter id in MetricDataQueries are not unique`);
      ids.add(q.id);
      parseStat(q.stat);
    }
    if (!(window.end.getTime() > window.start.getTime()))
      throw awsError('ValidationError', 'The parameter StartTime must be less than the parameter EndTime');
    this.count();
    return Object.fromEntries(
      queries.map((q) => [
        q.id,
        aggregate(this.points(q.namespace, q.metricName, q.dimensions, window.start, window.end), q.stat),
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
    const series = this.store.get(seriesKey(namespace, metricName, dimensions)) ?? new Map();
    return [...series.entries()]
      .sort(([a], [b]) => a - b)
      .map(([at, point]) => ({ at: new Date(at), value: aggregate([point], stat)! }));
  }

  /**
   * What a metric alarm reads (TwinCloudWatch's metric source): the statistic over the last whole
   * period before now. Without a namespace, either traffic namespace with these dimensions.
   */
  alarmSample(query: AlarmMetricQuery): number | undefined {
    this.count();
    const namespaces = (query.namespace ? [query.namespace] : [ALB_NAMESPACE, ENVOY_NAMESPACE]).filter((ns) =>
      this.store.has(seriesKey(ns, query.metric, query.dimensions)),
    );
    // A series the traffic never published is not ours: the alarm falls back to gauges and counters.
    if (namespaces.length === 0) return undefined;
    const end = Math.floor(this.world.clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
    const start = new Date(end - query.periodSeconds * 1000);
    const points = namespaces.flatMap((ns) =>
      this.points(ns, query.metric, query.dimensions, start, new Date(end)),
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
      this.put(ns, 'RequestCount', series.dimensions, minute, countPoint(requests));
      if (errors > 0)
        this.put(
          ns,
          alb ? 'HTTPCode_Target_5XX_Count' : 'HTTPCode_5XX_Count',
          series.dimensions,
          minute,
          countPoint(errors),
        );
      const latency = latencyPoint(requests, [...traffic.shapes.values()], alb ? 0.001 : 1);
      this.put(ns, alb ? 'TargetResponseTime' : 'ResponseTime', series.dimensions, minute, latency);
    }
    this.open.clear();
  }

  private put(
    namespace: string,
    metric: string,
    dimensions: Record<string, string>,
    at: number,
    point: Datapoint,
  ) {
    const key = seriesKey(namespace, metric, dimensions);
    const series = this.store.get(key) ?? new Map<number, Datapoint>();
    series.set(at, point);
    this.store.set(key, series);
  }

  private points(
    namespace: string,
    metric: string,
    dimensions: Record<string, string>,
    start: Date,
    end: Date,
  ) {
    const from = Math.floor(start.getTime() / MINUTE_MS) * MINUTE_MS;
    const series = this.store.get(seriesKey(namespace, metric, dimensions));
    if (!series) return [];
    return [...series.entries()].filter(([at]) => at >= from && at < end.getTime()).map(([, point]) => point);
  }

  /** The route's targets now, each with its version name and the series it publishes to. */
  private flowsOf(route: RouteEntry): { version: string; weight: number; series: SeriesRef }[] {
    if (route.kind === 'appmesh') {
      const { data } = this.meshRoutes.get(route.stateKey)!;
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
    const lb = this.listeners.get(route.listenerArn)!.loadBalancer.dimension;
    const forward = this.albActions(route).find((a) => a.Type === 'forward');
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

  private recordWrite(
    route: RouteEntry | undefined,
    api: RouteWrite['api'],
    targets: WeightedTarget[],
    by: Writer,
    key?: string,
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
      route: route?.key ?? key ?? '',
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

  private recordAlbWrite(
    route: RouteEntry | undefined,
    api: RouteWrite['api'],
    actions: AlbAction[],
    by: Writer,
    key: string,
  ) {
    const forward = actions.find((a) => a.Type === 'forward');
    const targets = (forward?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
      id: t.TargetGroupArn,
      weight: t.Weight ?? 1,
    }));
    this.recordWrite(route, api, targets, by, key);
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

  private meshStateKey(id: MeshRouteId): string {
    return `${id.meshOwner ?? this.world.account}/${id.meshName}/${id.virtualRouterName}/${id.routeName}`;
  }

  private meshRoute(id: MeshRouteId): MeshRouteState {
    const state = this.meshRoutes.get(this.meshStateKey(id));
    if (!state)
      throw awsError(
        'NotFoundException',
        `Route ${id.routeName} not found in virtual router ${id.virtualRouterName} of mesh ${id.meshName}`,
      );
    return state;
  }

  private meshRouteByArn(arn: string): MeshRouteState {
    const state = [...this.meshRoutes.values()].find((s) => s.data.metadata.arn === arn);
    if (!state) throw awsError('NotFoundException', `Resource ${arn} not found`);
    return state;
  }

  private routeOfMesh(state: MeshRouteState): RouteEntry | undefined {
    return [...this.routes.values()].find(
      (r) => r.kind === 'appmesh' && this.meshRoutes.get(r.stateKey) === state,
    );
  }

  private loadBalancer(name: string, id?: string): LoadBalancerState {
    const known = this.loadBalancers.get(name);
    if (known && (id === undefined || known.dimension.endsWith(`/${id}`))) return known;
    const dimension = `app/${name}/${id ?? this.world.newId().slice(0, 16)}`;
    const lb = {
      arn: `arn:aws:elasticloadbalancing:${this.world.region}:${this.world.account}:loadbalancer/${dimension}`,
      dimension,
    };
    this.loadBalancers.set(name, lb);
    return lb;
  }

  private createListener(arn: string, lb: LoadBalancerState, port: number, protocol: string): ListenerState {
    const state: ListenerState = {
      listener: {
        ListenerArn: arn,
        LoadBalancerArn: lb.arn,
        Port: port,
        Protocol: protocol,
        DefaultActions: [
          { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } },
        ],
      },
      defaultRuleArn: `${arn.replace(':listener/', ':listener-rule/')}/${this.world.newId().slice(0, 16)}`,
      loadBalancer: lb,
      tags: new Map(),
      nextPriority: 1,
    };
    this.listeners.set(arn, state);
    return state;
  }

  private listenerFor(listenerArn: string | undefined, loadBalancer: string | undefined): ListenerState {
    if (listenerArn) {
      const known = this.listeners.get(listenerArn);
      if (known) return known;
      const match = /:listener\/app\/([^/]+)\/([^/]+)\/[^/]+$/.exec(listenerArn);
      if (!match) throw new Error(`not an ALB listener ARN: ${listenerArn}`);
      return this.createListener(listenerArn, this.loadBalancer(match[1]!, match[2]!), 80, 'HTTP');
    }
    const lb = this.loadBalancer(loadBalancer ?? 'twin-alb');
    const existing = [...this.listeners.values()].find((l) => l.loadBalancer === lb);
    if (existing) return existing;
    return this.listeners.get(this.addListener({ loadBalancer: loadBalancer ?? 'twin-alb' }).ListenerArn)!;
  }

  private listenerState(arn: string): ListenerState {
    const state = this.listeners.get(arn);
    if (!state) throw awsError('ListenerNotFoundException', `One or more listeners not found: ${arn}`);
    return state;
  }

  private routeOnListenerDefault(listenerArn: string): RouteEntry | undefined {
    return [...this.routes.values()].find(
      (r) => r.kind === 'alb' && r.listenerArn === listenerArn && !r.ruleArn,
    );
  }

  private albActions(route: Extract<RouteEntry, { kind: 'alb' }>): AlbAction[] {
    return route.ruleArn
      ? this.rules.get(route.ruleArn)!.rule.Actions
      : this.listeners.get(route.listenerArn)!.listener.DefaultActions;
  }

  private albTagHolder(arn: string): { tags: Map<string, string> } {
    const holder = this.rules.get(arn) ?? this.listeners.get(arn);
    if (holder) return holder;
    if (arn.includes(':listener-rule/'))
      throw awsError('RuleNotFoundException', `One or more rules not found: ${arn}`);
    if (arn.includes(':listener/'))
      throw awsError('ListenerNotFoundException', `One or more listeners not found: ${arn}`);
    throw awsError('LoadBalancerNotFoundException', `One or more resources not found: ${arn}`);
  }

  private targetGroupArn(ref: string): string {
    const tg =
      this.world.targetGroups.get(ref) ?? [...this.world.targetGroups.values()].find((t) => t.name === ref);
    if (!tg) throw awsError('TargetGroupNotFoundException', `One or more target groups not found: ${ref}`);
    return tg.arn;
  }

  /** ELB's checks of a forward action: 1..5 target groups, weights 0..999, groups that exist. */
  private validateActions(actions: AlbAction[]): AlbAction[] {
    if (actions.length === 0) throw awsError('ValidationError', 'Actions must contain at least one action');
    for (const action of actions) {
      if (action.Type !== 'forward') continue;
      const groups = action.ForwardConfig?.TargetGroups;
      if (
        groups &&
        action.TargetGroupArn !== undefined &&
        (groups.length !== 1 || groups[0]!.TargetGroupArn !== action.TargetGroupArn)
      )
        throw awsError(
          'ValidationError',
          'You cannot specify both a target group ARN and a forward config with other target groups',
        );
      const tuples = groups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn }] : []);
      if (tuples.length < 1 || tuples.length > ALB_MAX_TARGET_GROUPS)
        throw awsError(
          'ValidationError',
          `A forward action takes 1 to ${ALB_MAX_TARGET_GROUPS} target groups, not ${tuples.length}`,
        );
      for (const tuple of tuples) {
        const weight = tuple.Weight ?? 1;
        if (!Number.isInteger(weight) || weight < 0 || weight > ALB_MAX_WEIGHT)
          throw awsError(
            'ValidationError',
            `1 validation error detected: Value '${weight}' at 'actions.member.forwardConfig.targetGroups.member.weight' failed to satisfy constraint: Member must have value between 0 and ${ALB_MAX_WEIGHT}`,
          );
        if (!this.world.targetGroups.has(tuple.TargetGroupArn))
          throw awsError(
            'TargetGroupNotFoundException',
            `One or more target groups not found: ${tuple.TargetGroupArn}`,
          );
      }
      const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
      const seconds = stickiness?.DurationSeconds;
      if (
        stickiness?.Enabled &&
        (seconds === undefined ||
          !Number.isInteger(seconds) ||
          seconds < 1 ||
          seconds > ALB_MAX_STICKINESS_SECONDS)
      )
        throw awsError(
          'ValidationError',
          `Target group stickiness duration must be between 1 and ${ALB_MAX_STICKINESS_SECONDS} seconds, not ${seconds}`,
        );
    }
    return actions;
  }
}

// --- App Mesh checks -------------------------------------------------------------------------------------

function meshField(spec: MeshRouteSpec): MeshRouteField {
  const fields = MESH_ROUTE_FIELDS.filter((f) => spec[f] !== undefined);
  if (fields.length !== 1)
    throw awsError(
      'BadRequestException',
      'A route spec must have exactly one of httpRoute, http2Route, grpcRoute, tcpRoute',
    );
  return fields[0]!;
}

function meshBody(spec: MeshRouteSpec): MeshRouteBody {
  return spec[meshField(spec)]!;
}

const meshIdOf = (data: MeshRouteData): MeshRouteId => ({
  meshName: data.meshName,
  meshOwner: data.metadata.meshOwner,
  virtualRouterName: data.virtualRouterName,
  routeName: data.routeName,
});

/** App Mesh's checks on every write: 1..10 weighted targets, integer weights 0..100; no retries on TCP. */
function validateMeshSpec(spec: MeshRouteSpec): void {
  const field = meshField(spec);
  const body = spec[field]!;
  const targets = body.action?.weightedTargets;
  const at = `spec.${field}.action.weightedTargets`;
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > MESH_MAX_TARGETS)
    throw awsError(
      'BadRequestException',
      `1 validation error detected: Value at '${at}' failed to satisfy constraint: Member must have length between 1 and ${MESH_MAX_TARGETS}`,
    );
  for (const target of targets) {
    if (typeof target.virtualNode !== 'string' || target.virtualNode === '')
      throw awsError('BadRequestException', `Value at '${at}.member.virtualNode' must not be empty`);
    if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MESH_MAX_WEIGHT)
      throw awsError(
        'BadRequestException',
        `1 validation error detected: Value '${target.weight}' at '${at}.member.weight' failed to satisfy constraint: Member must have value between 0 and ${MESH_MAX_WEIGHT}`,
      );
  }
  if (field === 'tcpRoute' && body.retryPolicy !== undefined)
    throw awsError('BadRequestException', 'A TCP route has no retry policy');
}

// --- ELB helpers -------------------------------------------------------------------------------------------

/** As ELB reports a forward: every group with its weight, and TargetGroupArn only for a single group. */
function normalizeActions(actions: AlbAction[]): AlbAction[] {
  return structuredClone(actions).map((action) => {
    if (action.Type !== 'forward') return action;
    const { TargetGroupArn, ForwardConfig, ...rest } = action;
    const groups = (ForwardConfig?.TargetGroups ?? (TargetGroupArn ? [{ TargetGroupArn }] : [])).map((t) => ({
      TargetGroupArn: t.TargetGroupArn,
      Weight: t.Weight ?? 1,
    }));
    return {
      ...rest,
      ...(groups.length === 1 ? { TargetGroupArn: groups[0]!.TargetGroupArn } : {}),
      ForwardConfig: {
        TargetGroups: groups,
        TargetGroupStickinessConfig: ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false },
      },
    };
  });
}

function defaultRule(listener: ListenerState): AlbRule {
  return {
    RuleArn: listener.defaultRuleArn,
    Priority: 'default',
    Conditions: [],
    Actions: listener.listener.DefaultActions,
    IsDefault: true,
  };
}

/** The TargetGroup dimension: the ARN's resource part, `targetgroup/NAME/ID`. */
function targetGroupDimension(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// --- metric arithmetic -------------------------------------------------------------------------------------

const seriesKey = (namespace: string, metric: string, dimensions: Record<string, string>) =>
  `${namespace}|${metric}|${Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

/** ELB reports a count as one sample of 1 per request: Minimum, Maximum and Average are all 1. */
function countPoint(count: number): Datapoint {
  return { sampleCount: count, sum: count, minimum: 1, maximum: 1 };
}

/** A minute of response times: n samples from the mixture of the minute's shapes, in the metric's unit. */
function latencyPoint(
  n: number,
  shapes: { count: number; p50: number; p99: number }[],
  unit: number,
): Datapoint {
  const total = shapes.reduce((sum, s) => sum + s.count, 0);
  const mixture = shapes.map((s) => ({
    weight: s.count / total,
    mu: Math.log(s.p50 * unit),
    sigma: Math.log(s.p99 / s.p50) / Z99,
  }));
  const mean = mixture.reduce((sum, s) => sum + s.weight * Math.exp(s.mu + (s.sigma * s.sigma) / 2), 0);
  // The expected smallest and largest of n samples sit about half a sample in from either end.
  return {
    sampleCount: n,
    sum: n * mean,
    minimum: quantile(mixture, 0.5 / n),
    maximum: quantile(mixture, 1 - 0.5 / n),
    mixture,
  };
}

type Stat =
  | { kind: 'Sum' | 'Average' | 'SampleCount' | 'Maximum' | 'Minimum' }
  | { kind: 'percentile'; q: number };

function parseStat(stat: string): Stat {
  if (['Sum', 'Average', 'SampleCount', 'Maximum', 'Minimum'].includes(stat))
    return { kind: stat as 'Sum' | 'Average' | 'SampleCount' | 'Maximum' | 'Minimum' };
  const match = /^[pP](\d{1,3}(?:\.\d+)?)$/.exec(stat);
  const percent = match ? Number(match[1]) : Number.NaN;
  if (percent >= 0 && percent <= 100) return { kind: 'percentile', q: percent / 100 };
  throw awsError(
    'ValidationError',
    `The value ${stat} for parameter MetricDataQueries.member.MetricStat.Stat is not valid (the twin answers Sum, Average, SampleCount, Maximum, Minimum and pNN)`,
  );
}

/** One statistic over a window's datapoints, as CloudWatch combines them; undefined without any. */
function aggregate(points: Datapoint[], stat: string): number | undefined {
  const parsed = parseStat(stat);
  if (points.length === 0) return undefined;
  const samples = points.reduce((sum, p) => sum + p.sampleCount, 0);
  const sum = points.reduce((total, p) => total + p.sum, 0);
  const minimum = Math.min(...points.map((p) => p.minimum));
  const maximum = Math.max(...points.map((p) => p.maximum));
  switch (parsed.kind) {
    case 'Sum':
      return sum;
    case 'SampleCount':
      return samples;
    case 'Average':
      return sum / samples;
    case 'Minimum':
      return minimum;
    case 'Maximum':
      return maximum;
    case 'percentile': {
      if (parsed.q <= 0) return minimum;
      if (parsed.q >= 1) return maximum;
      // Count metrics hold only 1s; a latency window is the mixture of its minutes, by their requests.
      if (points.some((p) => !p.mixture)) return minimum;
      const mixture = points.flatMap((p) =>
        p.mixture!.map((s) => ({ ...s, weight: (s.weight * p.sampleCount) / samples })),
      );
      return Math.min(maximum, Math.max(minimum, quantile(mixture, parsed.q)));
    }
  }
}

/** The value below which a share q of the mixture lies: bisection on the log scale, monotonic in q. */
function quantile(mixture: Shape[], q: number): number {
  const cdf = (y: number) =>
    mixture.reduce(
      (sum, s) => sum + s.weight * (s.sigma === 0 ? (y >= s.mu ? 1 : 0) : normalCdf((y - s.mu) / s.sigma)),
      0,
    );
  let lo = Math.min(...mixture.map((s) => s.mu - 10 * s.sigma)) - 1;
  let hi = Math.max(...mixture.map((s) => s.mu + 10 * s.sigma)) + 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

/** Φ from erfc (Numerical Recipes' erfcc, fractional error below 1.2e-7): ample for percentiles. */
function normalCdf(z: number): number {
  const x = -z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const erfc =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return 0.5 * (x >= 0 ? erfc : 2 - erfc);
}
