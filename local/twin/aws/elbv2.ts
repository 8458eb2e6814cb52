// Elastic Load Balancing v2 as the twin answers it: the world's target groups (who is registered, how
// healthy, taking a target in or out), and ALB listeners and rules with their actions and tags, with the
// checks ELB makes on every write (1..5 target groups in a forward, weights 0..999) and its error names.
// The traffic (local/twin/traffic.ts) hears every change of a rule's or listener's actions; target
// health and draining stay with the simulated world (local/twin/world.ts).
import type {
  AddTagsInput,
  DeregisterTargetsInput,
  DescribeListenersInput,
  DescribeRulesInput,
  DescribeTagsInput,
  DescribeTargetHealthInput,
  ModifyListenerInput,
  ModifyRuleInput,
  RegisterTargetsInput,
  RemoveTagsInput,
  TargetDescription,
  TargetHealthDescription,
  TargetHealthReasonEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { routeKey } from '#domain/rolloutRoutes';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import type { TargetGroupState, World } from '#local/twin/world';

// --- shapes (the SDK's, as DescribeRules and DescribeListeners return them) --------------------------------

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

/** Who changed a rule or listener: the rollout (through the API), or a person by hand. */
export type Writer = 'reflex' | 'person';

/** What hears a rule's or a listener's actions change: the traffic, which counts up to the change first. */
export interface AlbRouteObserver {
  changing(): void;
  written(
    change: { api: 'ModifyRule' | 'ModifyListener'; listenerArn: string; ruleArn?: string },
    actions: AlbAction[],
    by: Writer,
  ): void;
}

// --- limits, as the ELB quotas and the API reference give them ----------------------------------------------

const ALB_MAX_TARGET_GROUPS = 5;
const ALB_MAX_WEIGHT = 999;
const ALB_MAX_STICKINESS_SECONDS = 604_800;
const MAX_TAGS = 50;
/** DescribeTags, AddTags and RemoveTags take up to 20 resources. */
const MAX_TAG_RESOURCES = 20;
/** DescribeRules and DescribeListeners: PageSize 1..400. */
const MAX_PAGE_SIZE = 400;
const MAX_TARGETS_PER_GROUP = 1000;

/** routeKey() of an ALB rule, or of a listener's default action when there is no rule. */
export function albRouteKey(listenerArn: string, ruleArn?: string): string {
  return routeKey({ router: 'alb', listenerArn, ...(ruleArn ? { ruleArn } : {}), stable: '', canary: '' });
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

/** ALB listeners and their rules (ALB itself is not modelled beyond them and the world's target groups). */
export class TwinLoadBalancers {
  private readonly loadBalancers = new Map<string, LoadBalancerState>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();

  constructor(
    private readonly world: World,
    private readonly observer: AlbRouteObserver = { changing: () => undefined, written: () => undefined },
  ) {}

  // --- building --------------------------------------------------------------------------------------------

  /** A listener on a load balancer the twin makes up; its default action answers 404. */
  addListener(input: { loadBalancer?: string; port?: number; protocol?: string } = {}): AlbListener {
    const lb = this.loadBalancer(input.loadBalancer ?? 'twin-alb');
    const listenerArn = `${lb.arn.replace(':loadbalancer/', ':listener/')}/${this.world.newId().slice(0, 16)}`;
    return structuredClone(
      this.createListener(listenerArn, lb, input.port ?? 80, input.protocol ?? 'HTTP').listener,
    );
  }

  /**
   * The listener a route goes on: the one given (an unknown ARN, a scenario's realistic one, becomes a
   * listener of the load balancer it names), or the twin's listener of `loadBalancer`.
   */
  listenerFor(listenerArn: string | undefined, loadBalancer: string | undefined): AlbListener {
    if (listenerArn) {
      const known = this.listeners.get(listenerArn);
      if (known) return known.listener;
      const match = /:listener\/app\/([^/]+)\/([^/]+)\/[^/]+$/.exec(listenerArn);
      if (!match) throw new Error(`not an ALB listener ARN: ${listenerArn}`);
      return this.createListener(listenerArn, this.loadBalancer(match[1]!, match[2]!), 80, 'HTTP').listener;
    }
    const lb = this.loadBalancer(loadBalancer ?? 'twin-alb');
    const existing = [...this.listeners.values()].find((l) => l.loadBalancer === lb);
    if (existing) return existing.listener;
    return this.listeners.get(this.addListener({ loadBalancer: loadBalancer ?? 'twin-alb' }).ListenerArn)!
      .listener;
  }

  /** A forward action to the world's target groups by weight, checked as ELB checks it. */
  forwardAction(
    targetGroups: { targetGroup: string; weight: number }[],
    stickiness?: { enabled: boolean; durationSeconds: number },
  ): AlbAction[] {
    const forward: AlbAction = {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: targetGroups.map((t) => ({
          TargetGroupArn: this.world.targetGroup(t.targetGroup).arn,
          Weight: t.weight,
        })),
        ...(stickiness
          ? {
              TargetGroupStickinessConfig: {
                Enabled: stickiness.enabled,
                DurationSeconds: stickiness.durationSeconds,
              },
            }
          : {}),
      },
    };
    return normalizeActions(this.validateActions([forward]));
  }

  /** The listener's default action as it is before the scenario starts (not a write). */
  setDefaultActions(listenerArn: string, actions: AlbAction[], tags: Record<string, string> = {}): void {
    const listener = this.listenerState(listenerArn);
    listener.listener.DefaultActions = structuredClone(actions);
    for (const [k, v] of Object.entries(tags)) listener.tags.set(k, v);
  }

  /** A rule as it is before the scenario starts (not a write). */
  addRule(input: {
    listenerArn: string;
    ruleArn?: string;
    priority?: number;
    conditions?: AlbCondition[];
    actions: AlbAction[];
    tags?: Record<string, string>;
  }): AlbRule {
    const listener = this.listenerState(input.listenerArn);
    const ruleArn =
      input.ruleArn ??
      `${input.listenerArn.replace(':listener/', ':listener-rule/')}/${this.world.newId().slice(0, 16)}`;
    if (this.rules.has(ruleArn) || [...this.listeners.values()].some((l) => l.defaultRuleArn === ruleArn))
      throw new AwsServiceError('DuplicateRuleException', `rule ${ruleArn} already exists`);
    const priority = input.priority ?? listener.nextPriority;
    if (
      [...this.rules.values()].some(
        (r) => r.listenerArn === input.listenerArn && r.rule.Priority === String(priority),
      )
    )
      throw new AwsServiceError('PriorityInUseException', `Priority '${priority}' is currently in use`);
    listener.nextPriority = Math.max(listener.nextPriority, priority + 1);
    const rule: AlbRule = {
      RuleArn: ruleArn,
      Priority: String(priority),
      Conditions: structuredClone(input.conditions ?? [{ Field: 'path-pattern', Values: ['/*'] }]),
      Actions: structuredClone(input.actions),
      IsDefault: false,
    };
    this.rules.set(ruleArn, {
      rule,
      listenerArn: input.listenerArn,
      tags: new Map(Object.entries(input.tags ?? {})),
    });
    return structuredClone(rule);
  }

  // --- the simulation's view -------------------------------------------------------------------------------

  /** The actions of a rule, or of the listener's default action (no copy: not to be changed). */
  actionsOf(listenerArn: string, ruleArn?: string): AlbAction[] {
    return ruleArn
      ? this.rules.get(ruleArn)!.rule.Actions
      : this.listeners.get(listenerArn)!.listener.DefaultActions;
  }

  /** `app/NAME/ID` of the listener's load balancer: the LoadBalancer dimension of its metrics. */
  loadBalancerDimension(listenerArn: string): string {
    return this.listeners.get(listenerArn)!.loadBalancer.dimension;
  }

  // --- the API ---------------------------------------------------------------------------------------------

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
        throw new AwsServiceError('RuleNotFoundException', `One or more rules not found: ${arn}`);
      }),
    );
  }

  /** DescribeListeners by listener ARNs, or every listener of a load balancer. */
  describeListeners(input: { listenerArns: string[] } | { loadBalancerArn: string }): AlbListener[] {
    if ('loadBalancerArn' in input) {
      const lb = [...this.loadBalancers.values()].find((l) => l.arn === input.loadBalancerArn);
      if (!lb)
        throw new AwsServiceError(
          'LoadBalancerNotFoundException',
          `One or more load balancers not found: ${input.loadBalancerArn}`,
        );
      return structuredClone(
        [...this.listeners.values()].filter((l) => l.loadBalancer === lb).map((l) => l.listener),
      );
    }
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
        throw new AwsServiceError(
          'OperationNotPermittedException',
          'The default rule cannot be modified: use ModifyListener',
        );
      throw new AwsServiceError('RuleNotFoundException', `One or more rules not found: ${input.ruleArn}`);
    }
    const actions = input.actions && normalizeActions(this.validateActions(input.actions));
    this.observer.changing();
    if (input.conditions) state.rule.Conditions = structuredClone(input.conditions);
    if (actions) {
      state.rule.Actions = actions;
      this.observer.written(
        { api: 'ModifyRule', listenerArn: state.listenerArn, ruleArn: input.ruleArn },
        actions,
        by,
      );
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
    this.observer.changing();
    if (input.port !== undefined) state.listener.Port = input.port;
    if (input.protocol !== undefined) state.listener.Protocol = input.protocol;
    if (actions) {
      state.listener.DefaultActions = actions;
      this.observer.written({ api: 'ModifyListener', listenerArn: input.listenerArn }, actions, by);
    }
    return structuredClone(state.listener);
  }

  addTags(resourceArns: string[], tags: AlbTag[]): void {
    const keys = tags.map((t) => t.Key);
    if (new Set(keys).size !== keys.length)
      throw new AwsServiceError('DuplicateTagKeysException', 'A tag key was specified more than once');
    // ELB checks every resource before it tags any.
    const holders = resourceArns.map((arn) => {
      const holder = this.tagHolder(arn);
      const next = new Map(holder.tags);
      for (const tag of tags) next.set(tag.Key, tag.Value ?? '');
      if (next.size > MAX_TAGS)
        throw new AwsServiceError('TooManyTagsException', `${arn} would have more than ${MAX_TAGS} tags`);
      return { holder, next };
    });
    for (const { holder, next } of holders) holder.tags = next;
  }

  removeTags(resourceArns: string[], tagKeys: string[]): void {
    const holders = resourceArns.map((arn) => this.tagHolder(arn));
    for (const holder of holders) for (const key of tagKeys) holder.tags.delete(key);
  }

  describeTags(resourceArns: string[]): { ResourceArn: string; Tags: AlbTag[] }[] {
    return resourceArns.map((arn) => ({
      ResourceArn: arn,
      Tags: [...this.tagHolder(arn).tags].map(([Key, Value]) => ({ Key, Value })),
    }));
  }

  // --- lookups ---------------------------------------------------------------------------------------------

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

  private listenerState(arn: string): ListenerState {
    const state = this.listeners.get(arn);
    if (!state)
      throw new AwsServiceError('ListenerNotFoundException', `One or more listeners not found: ${arn}`);
    return state;
  }

  private tagHolder(arn: string): { tags: Map<string, string> } {
    const holder = this.rules.get(arn) ?? this.listeners.get(arn);
    if (holder) return holder;
    if (arn.includes(':listener-rule/'))
      throw new AwsServiceError('RuleNotFoundException', `One or more rules not found: ${arn}`);
    if (arn.includes(':listener/'))
      throw new AwsServiceError('ListenerNotFoundException', `One or more listeners not found: ${arn}`);
    if (arn.includes(':targetgroup/'))
      throw new AwsServiceError(
        'TargetGroupNotFoundException',
        `One or more target groups not found: ${arn}`,
      );
    throw new AwsServiceError('LoadBalancerNotFoundException', `One or more resources not found: ${arn}`);
  }

  /** ELB's checks of a forward action: 1..5 target groups, weights 0..999, groups that exist. */
  private validateActions(actions: AlbAction[]): AlbAction[] {
    if (actions.length === 0)
      throw new AwsServiceError('ValidationError', 'Actions must contain at least one action');
    for (const action of actions) {
      if (action.Type !== 'forward') continue;
      const groups = action.ForwardConfig?.TargetGroups;
      if (
        groups &&
        action.TargetGroupArn !== undefined &&
        (groups.length !== 1 || groups[0]!.TargetGroupArn !== action.TargetGroupArn)
      )
        throw new AwsServiceError(
          'ValidationError',
          'You cannot specify both a target group ARN and a forward config with other target groups',
        );
      const tuples = groups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn }] : []);
      if (tuples.length < 1 || tuples.length > ALB_MAX_TARGET_GROUPS)
        throw new AwsServiceError(
          'ValidationError',
          `A forward action takes 1 to ${ALB_MAX_TARGET_GROUPS} target groups, not ${tuples.length}`,
        );
      for (const tuple of tuples) {
        const weight = tuple.Weight ?? 1;
        if (!Number.isInteger(weight) || weight < 0 || weight > ALB_MAX_WEIGHT)
          throw new AwsServiceError(
            'ValidationError',
            `1 validation error detected: Value '${weight}' at 'actions.member.forwardConfig.targetGroups.member.weight' failed to satisfy constraint: Member must have value between 0 and ${ALB_MAX_WEIGHT}`,
          );
        if (!this.world.targetGroups.has(tuple.TargetGroupArn))
          throw new AwsServiceError(
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
        throw new AwsServiceError(
          'ValidationError',
          `Target group stickiness duration must be between 1 and ${ALB_MAX_STICKINESS_SECONDS} seconds, not ${seconds}`,
        );
    }
    return actions;
  }
}

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

// --- the commands ----------------------------------------------------------------------------------------------

/** The ELBv2 commands the target and router adapters send, over the world's target groups and the twin's ALB. */
export function elbv2Model(world: World, elb: TwinLoadBalancers): ServiceModel {
  const targetGroup = (arn: string | undefined): TargetGroupState => {
    if (!arn) throw new AwsServiceError('ValidationError', 'TargetGroupArn is required');
    const tg = world.targetGroups.get(arn);
    if (!tg)
      throw new AwsServiceError(
        'TargetGroupNotFoundException',
        `One or more target groups not found: ${arn}`,
      );
    return tg;
  };
  /** A target as ELB resolves it: without a port, the target group's. */
  const targetsOf = (tg: TargetGroupState, targets: TargetDescription[] | undefined) => {
    if (!targets || targets.length === 0)
      throw new AwsServiceError('ValidationError', 'Targets must hold at least one target');
    return targets.map((t) => {
      if (!t.Id) throw new AwsServiceError('ValidationError', 'A target needs an Id');
      const port = t.Port ?? tg.port;
      if (!Number.isInteger(port) || port < 1 || port > 65_535)
        throw new AwsServiceError('ValidationError', `Port ${port} is not between 1 and 65535`);
      return { id: t.Id, port };
    });
  };
  const targetsText = (input: { TargetGroupArn?: string; Targets?: TargetDescription[] }) =>
    `${input.TargetGroupArn} ${(input.Targets ?? [])
      .map((t) => (t.Port === undefined ? t.Id : `${t.Id}:${t.Port}`))
      .join(',')}`;
  const page = <T>(items: T[], input: { Marker?: string; PageSize?: number }) => {
    const size = input.PageSize ?? MAX_PAGE_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      throw new AwsServiceError('ValidationError', `PageSize must be between 1 and ${MAX_PAGE_SIZE}`);
    const from = input.Marker ? Number(input.Marker) : 0;
    if (!Number.isInteger(from) || from < 0 || from > items.length)
      throw new AwsServiceError('ValidationError', `Invalid marker ${input.Marker}`);
    const next = from + size < items.length ? String(from + size) : undefined;
    return { items: items.slice(from, from + size), ...(next ? { NextMarker: next } : {}) };
  };
  const tagResources = (arns: string[] | undefined) => {
    if (!arns || arns.length === 0 || arns.length > MAX_TAG_RESOURCES)
      throw new AwsServiceError('ValidationError', `ResourceArns takes 1 to ${MAX_TAG_RESOURCES} resources`);
    return arns;
  };

  return {
    DescribeTargetHealth: read(
      (input: DescribeTargetHealthInput) => input.TargetGroupArn ?? '',
      (input: DescribeTargetHealthInput) => {
        const tg = targetGroup(input.TargetGroupArn);
        const describe = (t: TargetGroupState['targets'][number]): TargetHealthDescription => ({
          Target: { Id: t.id, Port: t.port },
          HealthCheckPort: String(t.port),
          TargetHealth: {
            State: t.state,
            ...(t.reason ? { Reason: t.reason as TargetHealthReasonEnum } : {}),
          },
        });
        if (!input.Targets) return { TargetHealthDescriptions: tg.targets.map(describe) };
        // A named target that is not registered comes back all the same: unused, Target.NotRegistered.
        return {
          TargetHealthDescriptions: targetsOf(tg, input.Targets).flatMap(
            ({ id, port }): TargetHealthDescription[] => {
              const found = tg.targets.filter((t) => t.id === id && t.port === port);
              if (found.length > 0) return found.map(describe);
              return [
                {
                  Target: { Id: id, Port: port },
                  HealthCheckPort: String(port),
                  TargetHealth: {
                    State: 'unused',
                    Reason: 'Target.NotRegistered',
                    Description: 'Target is not registered to the target group',
                  },
                },
              ];
            },
          ),
        };
      },
    ),
    RegisterTargets: write(targetsText, (input: RegisterTargetsInput) => {
      const tg = targetGroup(input.TargetGroupArn);
      const targets = targetsOf(tg, input.Targets);
      const now = world.clock.now().getTime();
      const added = targets.filter(
        // Registering a registered target is a no-op; a draining one is registered anew.
        ({ id, port }) => !tg.targets.some((t) => t.id === id && t.port === port && t.state !== 'draining'),
      );
      if (tg.targets.length + added.length > MAX_TARGETS_PER_GROUP)
        throw new AwsServiceError('TooManyTargetsException', `${tg.arn} would hold more than 1000 targets`);
      for (const { id, port } of added) tg.targets.push({ id, port, state: 'initial', registeredAt: now });
      return {};
    }),
    DeregisterTargets: write(targetsText, (input: DeregisterTargetsInput) => {
      const tg = targetGroup(input.TargetGroupArn);
      // A target that is not registered (or draining already): ELB answers success.
      for (const { id, port } of targetsOf(tg, input.Targets))
        for (const target of tg.targets.filter(
          (t) => t.id === id && t.port === port && t.state !== 'draining',
        ))
          world.drain(tg, target);
      return {};
    }),
    DescribeRules: read(
      (input: DescribeRulesInput) => (input.RuleArns ?? []).join(',') || (input.ListenerArn ?? ''),
      (input: DescribeRulesInput) => {
        if (!input.ListenerArn === !input.RuleArns)
          throw new AwsServiceError('ValidationError', 'You must specify either a listener or rules');
        const rules = input.ListenerArn
          ? elb.describeRules({ listenerArn: input.ListenerArn })
          : elb.describeRules({ ruleArns: input.RuleArns ?? [] });
        const { items, ...next } = page(rules, input);
        return { Rules: items, ...next };
      },
    ),
    DescribeListeners: read(
      (input: DescribeListenersInput) =>
        (input.ListenerArns ?? []).join(',') || (input.LoadBalancerArn ?? ''),
      (input: DescribeListenersInput) => {
        if (!input.LoadBalancerArn === !input.ListenerArns)
          throw new AwsServiceError(
            'ValidationError',
            'You must specify either a load balancer or listeners',
          );
        const listeners = input.LoadBalancerArn
          ? elb.describeListeners({ loadBalancerArn: input.LoadBalancerArn })
          : elb.describeListeners({ listenerArns: input.ListenerArns ?? [] });
        const { items, ...next } = page(listeners, input);
        return { Listeners: items, ...next };
      },
    ),
    ModifyRule: write(
      (input: ModifyRuleInput) => `${input.RuleArn} ${forwardText(input.Actions as AlbAction[] | undefined)}`,
      (input: ModifyRuleInput) => {
        if (!input.RuleArn) throw new AwsServiceError('ValidationError', 'RuleArn is required');
        const rule = elb.modifyRule({
          ruleArn: input.RuleArn,
          ...(input.Actions ? { actions: input.Actions as AlbAction[] } : {}),
          ...(input.Conditions ? { conditions: input.Conditions as AlbCondition[] } : {}),
        });
        return { Rules: [rule] };
      },
    ),
    ModifyListener: write(
      (input: ModifyListenerInput) =>
        `${input.ListenerArn} ${forwardText(input.DefaultActions as AlbAction[] | undefined)}`,
      (input: ModifyListenerInput) => {
        if (!input.ListenerArn) throw new AwsServiceError('ValidationError', 'ListenerArn is required');
        const listener = elb.modifyListener({
          listenerArn: input.ListenerArn,
          ...(input.DefaultActions ? { defaultActions: input.DefaultActions as AlbAction[] } : {}),
          ...(input.Port !== undefined ? { port: input.Port } : {}),
          ...(input.Protocol !== undefined ? { protocol: input.Protocol } : {}),
        });
        return { Listeners: [listener] };
      },
    ),
    AddTags: write(
      (input: AddTagsInput) =>
        `${(input.ResourceArns ?? []).join(',')} ${(input.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).join(',')}`,
      (input: AddTagsInput) => {
        if (!input.Tags || input.Tags.length === 0)
          throw new AwsServiceError('ValidationError', 'Tags must hold at least one tag');
        elb.addTags(tagResources(input.ResourceArns), input.Tags as AlbTag[]);
        return {};
      },
    ),
    RemoveTags: write(
      (input: RemoveTagsInput) =>
        `${(input.ResourceArns ?? []).join(',')} ${(input.TagKeys ?? []).join(',')}`,
      (input: RemoveTagsInput) => {
        elb.removeTags(tagResources(input.ResourceArns), input.TagKeys ?? []);
        return {};
      },
    ),
    DescribeTags: read(
      (input: DescribeTagsInput) => (input.ResourceArns ?? []).join(','),
      (input: DescribeTagsInput) => ({ TagDescriptions: elb.describeTags(tagResources(input.ResourceArns)) }),
    ),
  };
}

/** The forward's weights, as a write's target shows them: `targetgroup/NAME/ID=90 ...`. */
function forwardText(actions: AlbAction[] | undefined): string {
  const forward = actions?.find((a) => a.Type === 'forward');
  const groups =
    forward?.ForwardConfig?.TargetGroups ??
    (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
  return groups
    .map((g) => `${g.TargetGroupArn.slice(g.TargetGroupArn.lastIndexOf(':') + 1)}=${g.Weight ?? 1}`)
    .join(' ');
}
