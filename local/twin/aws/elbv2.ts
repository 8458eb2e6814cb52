// Elastic Load Balancing v2 as the twin answers it: the world's target groups (who is registered, how
// healthy, taking a target in or out), and ALB listeners and rules with their actions and tags, with the
// checks ELB makes on every write (1..5 target groups in a forward, weights 0..999) and its error names.
// The traffic (local/twin/traffic.ts) hears every change of a rule's or listener's actions; target
// health and draining stay with the simulated world (local/twin/world.ts).
import type {
  Action,
  AddTagsInput,
  DeregisterTargetsInput,
  DescribeListenersInput,
  DescribeRulesInput,
  DescribeTagsInput,
  DescribeTargetHealthInput,
  Listener,
  ModifyListenerInput,
  ModifyRuleInput,
  RegisterTargetsInput,
  RemoveTagsInput,
  Rule,
  RuleCondition,
  TargetDescription,
  TargetGroupTuple,
  TargetHealth,
  TargetHealthReasonEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { routeKey, type WeightedTarget } from '#domain/rolloutRoutes';
import { AwsServiceError, constraintError, read, type ServiceModel, write } from '#local/twin/aws/client';
import { type PageRules, page } from '#local/twin/aws/paging';
import type { RouteHandle, RouteObserver, Writer } from '#local/twin/traffic';
import type { TargetGroupState, World } from '#local/twin/world';

// --- limits, as the ELB quotas and the API reference give them ----------------------------------------------

const ALB_MAX_TARGET_GROUPS = 5;
const ALB_MAX_WEIGHT = 999;
const ALB_MAX_STICKINESS_SECONDS = 604_800;
const MAX_TAGS = 50;
/** DescribeTags, AddTags and RemoveTags take up to 20 resources. */
const MAX_TAG_RESOURCES = 20;
const MAX_TARGETS_PER_GROUP = 1000;
/** DescribeRules and DescribeListeners: PageSize 1..400, all of them without one. */
const PAGES: PageRules = {
  defaultMax: 400,
  limit: 400,
  badToken: 'ValidationError',
  badSize: 'ValidationError',
  sizeName: 'pageSize',
};

/** routeKey() of an ALB rule, or of a listener's default action when there is no rule. */
function albRouteKey(listenerArn: string, ruleArn?: string): string {
  return routeKey({ router: 'alb', listenerArn, ...(ruleArn ? { ruleArn } : {}), stable: '', canary: '' });
}

const notFound = (name: string, what: string, arn: string) =>
  new AwsServiceError(name, `One or more ${what} not found: ${arn}`);
const invalid = (message: string) => new AwsServiceError('ValidationError', message);
const inRange = (n: number | undefined, min: number, max: number) =>
  n !== undefined && Number.isInteger(n) && n >= min && n <= max;

interface ListenerState {
  listener: Listener & { ListenerArn: string; DefaultActions: Action[] };
  defaultRuleArn: string;
  tags: Map<string, string>;
  /** The traffic's route that is the listener's default action, by name. */
  route?: string;
}

interface RuleState {
  rule: Rule & { RuleArn: string; Actions: Action[] };
  listenerArn: string;
  tags: Map<string, string>;
}

/** An ALB route as a scenario declares it, forwarding to the world's target groups by weight. */
export interface AlbRouteInput {
  loadBalancer?: string;
  /** The listener's default action rather than a rule. */
  default?: boolean;
  priority?: number;
  conditions?: RuleCondition[];
  /** Target group name or ARN (the world's), and its weight. */
  targetGroups: { targetGroup: string; weight: number }[];
  stickiness?: { enabled: boolean; durationSeconds: number };
}

/** ALB listeners and their rules (ALB itself is not modelled beyond them and the world's target groups). */
export class TwinLoadBalancers {
  /** The twin's one listener of each load balancer it made up, by the load balancer's name. */
  private readonly listenerOf = new Map<string, string>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();

  constructor(
    private readonly world: World,
    private readonly observer: RouteObserver,
  ) {}

  /**
   * The route `name` as it is before the scenario starts (not a write): a rule, or the listener's default
   * action, on the one listener the twin makes up for the load balancer on first use.
   */
  addRoute(name: string, input: AlbRouteInput): RouteHandle {
    const { stickiness: s } = input;
    const ForwardConfig = {
      TargetGroups: this.tuples(input.targetGroups.map((t) => ({ id: t.targetGroup, weight: t.weight }))),
      TargetGroupStickinessConfig: s && { Enabled: s.enabled, DurationSeconds: s.durationSeconds },
    };
    const actions = this.checked([{ Type: 'forward', ForwardConfig }]);
    const listenerArn = this.listenerFor(input.loadBalancer ?? 'twin-alb');
    const listener = this.listener(listenerArn);
    const loadBalancer = listener.listener.LoadBalancerArn!.replace(/^.*:loadbalancer\//, '');
    const ruleArn = input.default ? undefined : this.addRule(listenerArn, input, actions);
    if (!ruleArn) {
      if (listener.route)
        throw new Error(`the default action of ${listenerArn} already is route ${listener.route}`);
      listener.route = name;
      listener.listener.DefaultActions = actions;
    }
    const actionsNow = () =>
      ruleArn ? this.rules.get(ruleArn)!.rule.Actions : listener.listener.DefaultActions;
    return {
      info: {
        key: albRouteKey(listenerArn, ruleArn),
        listenerArn,
        ...(ruleArn ? { ruleArn } : {}),
        loadBalancer,
      },
      targets: () => forwardTargets(actionsNow()),
      // The LoadBalancer and TargetGroup dimensions: `app/NAME/ID` and `targetgroup/NAME/ID`.
      dimensions: (arn) => ({ LoadBalancer: loadBalancer, TargetGroup: arn.slice(arn.lastIndexOf(':') + 1) }),
      edit: (targets) => {
        const actions = actionsNow();
        const index = actions.findIndex((a) => a.Type === 'forward');
        if (index < 0) throw new Error(`route ${name} has no forward action to edit`);
        const { TargetGroupArn: _shortForm, ...forward } = actions[index]!;
        const ForwardConfig = { ...forward.ForwardConfig, TargetGroups: this.tuples(targets) };
        const next = actions.with(index, { ...forward, ForwardConfig });
        this.modify(ruleArn ? 'ModifyRule' : 'ModifyListener', ruleArn ?? listenerArn, next, 'person');
      },
    };
  }

  /** The world's target groups (by name or ARN) with their weights, as a forward names them. */
  private tuples(targets: WeightedTarget[]): TargetGroupTuple[] {
    return targets.map((t) => ({ TargetGroupArn: this.world.targetGroup(t.id).arn, Weight: t.weight }));
  }

  /** The listener of a load balancer the twin makes up on first use; its default action answers 404. */
  private listenerFor(loadBalancer: string): string {
    const known = this.listenerOf.get(loadBalancer);
    if (known) return known;
    const id = () => this.world.newId().slice(0, 16);
    const { region, account } = this.world;
    const lbArn = `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/app/${loadBalancer}/${id()}`;
    const arn = `${lbArn.replace(':loadbalancer/', ':listener/')}/${id()}`;
    this.listeners.set(arn, {
      listener: {
        ListenerArn: arn,
        LoadBalancerArn: lbArn,
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [
          { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } },
        ],
      },
      defaultRuleArn: `${arn.replace(':listener/', ':listener-rule/')}/${id()}`,
      tags: new Map(),
    });
    this.listenerOf.set(loadBalancer, arn);
    return arn;
  }

  /** A rule with the actions given; its ARN. */
  private addRule(listenerArn: string, input: AlbRouteInput, actions: Action[]): string {
    const priorities = this.rulesOf(listenerArn)
      .filter((r) => !r.IsDefault)
      .map((r) => Number(r.Priority));
    const RuleArn = `${listenerArn.replace(':listener/', ':listener-rule/')}/${this.world.newId().slice(0, 16)}`;
    const priority = input.priority ?? Math.max(0, ...priorities) + 1;
    if (priorities.includes(priority))
      throw new AwsServiceError('PriorityInUseException', `Priority '${priority}' is currently in use`);
    const rule = {
      RuleArn,
      Priority: String(priority),
      Conditions: structuredClone(input.conditions ?? [{ Field: 'path-pattern', Values: ['/*'] }]),
      Actions: actions,
      IsDefault: false,
    };
    this.rules.set(RuleArn, { rule, listenerArn, tags: new Map() });
    return RuleArn;
  }

  // --- the API's lookups and writes ------------------------------------------------------------------------

  listener(arn: string): ListenerState {
    const state = this.listeners.get(arn);
    if (!state) throw notFound('ListenerNotFoundException', 'listeners', arn);
    return state;
  }

  /** A rule by its ARN, a listener's default rule too. */
  rule(arn: string): Rule {
    const rule = this.rules.get(arn)?.rule;
    if (rule) return rule;
    const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === arn);
    if (listener) return defaultRule(listener);
    throw notFound('RuleNotFoundException', 'rules', arn);
  }

  /** Every rule of a listener by priority, its default rule last. */
  rulesOf(listenerArn: string): Rule[] {
    const listener = this.listener(listenerArn);
    const rules = [...this.rules.values()]
      .filter((r) => r.listenerArn === listenerArn)
      .map((r) => r.rule)
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
    return [...rules, defaultRule(listener)];
  }

  /** ModifyRule (a rule ARN) or ModifyListener (a listener ARN): the actions given replace all of them. */
  modify(
    api: 'ModifyRule' | 'ModifyListener',
    arn: string,
    given: Action[] | undefined,
    by: Writer = 'reflex',
  ): Rule | Listener {
    const rule = api === 'ModifyRule' ? this.rules.get(arn) : undefined;
    // A rule ARN that is not a rule of ours: a listener's default rule, or none at all (RuleNotFound).
    if (api === 'ModifyRule' && !rule && this.rule(arn).IsDefault)
      throw new AwsServiceError(
        'OperationNotPermittedException',
        'The default rule cannot be modified: use ModifyListener',
      );
    const listener = rule ? undefined : this.listener(arn).listener;
    const actions = given && this.checked(given);
    if (actions) {
      const key = albRouteKey(rule?.listenerArn ?? arn, rule?.rule.RuleArn);
      this.observer({ key, api, targets: forwardTargets(actions) }, by);
      if (rule) rule.rule.Actions = actions;
      else listener!.DefaultActions = actions;
    }
    return rule?.rule ?? listener!;
  }

  /** What carries a resource's tags: a rule or a listener. */
  tagHolder(arn: string): { tags: Map<string, string> } {
    const holder = this.rules.get(arn) ?? this.listeners.get(arn);
    if (holder) return holder;
    if (arn.includes(':listener-rule/')) throw notFound('RuleNotFoundException', 'rules', arn);
    if (arn.includes(':listener/')) throw notFound('ListenerNotFoundException', 'listeners', arn);
    if (arn.includes(':targetgroup/')) throw notFound('TargetGroupNotFoundException', 'target groups', arn);
    throw notFound('LoadBalancerNotFoundException', 'resources', arn);
  }

  /**
   * ELB's checks of a forward action (1..5 target groups, weights 0..999, groups that exist), and the
   * actions as ELB reports them.
   */
  private checked(actions: Action[]): Action[] {
    if (actions.length === 0) throw invalid('Actions must contain at least one action');
    for (const action of actions) {
      if (action.Type !== 'forward') continue;
      const groups = action.ForwardConfig?.TargetGroups;
      if (
        groups &&
        action.TargetGroupArn !== undefined &&
        (groups.length !== 1 || groups[0]!.TargetGroupArn !== action.TargetGroupArn)
      )
        throw invalid(
          'You cannot specify both a target group ARN and a forward config with other target groups',
        );
      const tuples = tuplesOf(action);
      if (tuples.length < 1 || tuples.length > ALB_MAX_TARGET_GROUPS)
        throw invalid(
          `A forward action takes 1 to ${ALB_MAX_TARGET_GROUPS} target groups, not ${tuples.length}`,
        );
      for (const tuple of tuples) {
        const weight = tuple.Weight ?? 1;
        if (!inRange(weight, 0, ALB_MAX_WEIGHT))
          throw constraintError(
            'ValidationError',
            'actions.member.forwardConfig.targetGroups.member.weight',
            {
              value: weight,
              constraint: `Member must have value between 0 and ${ALB_MAX_WEIGHT}`,
            },
          );
        if (!this.world.targetGroups.has(tuple.TargetGroupArn!))
          throw notFound('TargetGroupNotFoundException', 'target groups', `${tuple.TargetGroupArn}`);
      }
      const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
      const seconds = stickiness?.DurationSeconds;
      if (stickiness?.Enabled && !inRange(seconds, 1, ALB_MAX_STICKINESS_SECONDS))
        throw invalid(
          `Target group stickiness duration must be between 1 and ${ALB_MAX_STICKINESS_SECONDS} seconds, not ${seconds}`,
        );
    }
    return normalized(actions);
  }
}

/** A forward's target groups: its ForwardConfig's, or the one of its short form. */
const tuplesOf = (action: Action): TargetGroupTuple[] =>
  action.ForwardConfig?.TargetGroups ??
  (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn }] : []);

/** The target groups of the actions' forward with their weights (1 where none is given). */
const forwardTargets = (actions: Action[] | undefined): WeightedTarget[] => {
  const forward = actions?.find((a) => a.Type === 'forward');
  return (forward ? tuplesOf(forward) : []).map((t) => ({
    id: t.TargetGroupArn ?? '',
    weight: t.Weight ?? 1,
  }));
};

/** As ELB reports a forward: every group with its weight, and TargetGroupArn only for a single group. */
function normalized(actions: Action[]): Action[] {
  return structuredClone(actions).map((action) => {
    if (action.Type !== 'forward') return action;
    const { TargetGroupArn: _shortForm, ForwardConfig, ...rest } = action;
    const groups = tuplesOf(action).map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? 1 }));
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

function defaultRule(listener: ListenerState): Rule {
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
    if (!arn) throw invalid('TargetGroupArn is required');
    const tg = world.targetGroups.get(arn);
    if (!tg) throw notFound('TargetGroupNotFoundException', 'target groups', arn);
    return tg;
  };
  /** A target as ELB resolves it: without a port, the target group's. */
  const targetsOf = (tg: TargetGroupState, targets: TargetDescription[] | undefined) => {
    if (!targets || targets.length === 0) throw invalid('Targets must hold at least one target');
    return targets.map((t) => {
      if (!t.Id) throw invalid('A target needs an Id');
      const port = t.Port ?? tg.port;
      if (!inRange(port, 1, 65_535)) throw invalid(`Port ${port} is not between 1 and 65535`);
      return { id: t.Id, port };
    });
  };
  const targetsText = (input: { TargetGroupArn?: string; Targets?: TargetDescription[] }) =>
    `${input.TargetGroupArn} ${(input.Targets ?? [])
      .map((t) => (t.Port === undefined ? t.Id : `${t.Id}:${t.Port}`))
      .join(',')}`;
  /** A target's registrations that are not draining. */
  const registered = (tg: TargetGroupState, id: string, port: number) =>
    tg.targets.filter((t) => t.id === id && t.port === port && t.state !== 'draining');
  const health = (id: string, port: number, TargetHealth: TargetHealth) => ({
    Target: { Id: id, Port: port },
    HealthCheckPort: String(port),
    TargetHealth,
  });
  /** DescribeRules' and DescribeListeners' answer: a page of copies. */
  const described = <T>(field: string, input: { Marker?: string; PageSize?: number }, items: T[]) => {
    const found = page(items, { max: input.PageSize, token: input.Marker }, PAGES);
    return { [field]: structuredClone(found.items), ...(found.next ? { NextMarker: found.next } : {}) };
  };
  const either = (one: unknown, other: unknown, what: string) => {
    if (!one === !other) throw invalid(`You must specify either ${what}`);
  };
  const tagResources = (arns: string[] | undefined) => {
    if (!arns || arns.length === 0 || arns.length > MAX_TAG_RESOURCES)
      throw invalid(`ResourceArns takes 1 to ${MAX_TAG_RESOURCES} resources`);
    return arns;
  };

  return {
    DescribeTargetHealth: read(
      (input: DescribeTargetHealthInput) => input.TargetGroupArn ?? '',
      (input: DescribeTargetHealthInput) => {
        const tg = targetGroup(input.TargetGroupArn);
        const healthOf = (t: TargetGroupState['targets'][number]) =>
          health(t.id, t.port, {
            State: t.state,
            ...(t.reason ? { Reason: t.reason as TargetHealthReasonEnum } : {}),
          });
        if (!input.Targets) return { TargetHealthDescriptions: tg.targets.map(healthOf) };
        // A named target that is not registered comes back all the same: unused, Target.NotRegistered.
        const unused = {
          State: 'unused',
          Reason: 'Target.NotRegistered',
          Description: 'Target is not registered to the target group',
        } as const;
        return {
          TargetHealthDescriptions: targetsOf(tg, input.Targets).flatMap(({ id, port }) => {
            const found = tg.targets.filter((t) => t.id === id && t.port === port);
            return found.length > 0 ? found.map(healthOf) : [health(id, port, unused)];
          }),
        };
      },
    ),
    RegisterTargets: write(targetsText, (input: RegisterTargetsInput) => {
      const tg = targetGroup(input.TargetGroupArn);
      const targets = targetsOf(tg, input.Targets);
      // An instance that is not there (never was, or terminated) is refused; deregistering one is not.
      const gone = targets.find(
        ({ id }) => tg.targetType === 'instance' && !world.instances.some((i) => i.instanceId === id),
      );
      if (gone)
        throw new AwsServiceError(
          'InvalidTargetException',
          `The following targets are not valid: '${gone.id}'. The specified target does not exist.`,
        );
      const now = world.clock.now().getTime();
      // Registering a registered target is a no-op; a draining one is registered anew.
      const added = targets.filter(({ id, port }) => registered(tg, id, port).length === 0);
      if (tg.targets.length + added.length > MAX_TARGETS_PER_GROUP)
        throw new AwsServiceError('TooManyTargetsException', `${tg.arn} would hold more than 1000 targets`);
      for (const { id, port } of added) tg.targets.push({ id, port, state: 'initial', registeredAt: now });
      return {};
    }),
    DeregisterTargets: write(targetsText, (input: DeregisterTargetsInput) => {
      const tg = targetGroup(input.TargetGroupArn);
      // A target that is not registered (or draining already): ELB answers success.
      for (const { id, port } of targetsOf(tg, input.Targets))
        for (const target of registered(tg, id, port)) world.drain(tg, target);
      return {};
    }),
    DescribeRules: read(
      (input: DescribeRulesInput) => input.RuleArns?.join(',') || (input.ListenerArn ?? ''),
      (input: DescribeRulesInput) => {
        either(input.ListenerArn, input.RuleArns, 'a listener or rules');
        const rules = input.ListenerArn
          ? elb.rulesOf(input.ListenerArn)
          : input.RuleArns!.map((arn) => elb.rule(arn));
        return described('Rules', input, rules);
      },
    ),
    DescribeListeners: read(
      (input: DescribeListenersInput) => input.ListenerArns?.join(',') || (input.LoadBalancerArn ?? ''),
      (input: DescribeListenersInput) => {
        either(input.LoadBalancerArn, input.ListenerArns, 'a load balancer or listeners');
        // The router names its listeners; a load balancer's whole list is not modelled.
        if (input.LoadBalancerArn) throw invalid('The twin answers DescribeListeners by ListenerArns only');
        const listeners = input.ListenerArns!.map((arn) => elb.listener(arn).listener);
        return described('Listeners', input, listeners);
      },
    ),
    ModifyRule: write(
      (input: ModifyRuleInput) => `${input.RuleArn} ${forwardText(input.Actions)}`,
      (input: ModifyRuleInput) => {
        if (!input.RuleArn) throw invalid('RuleArn is required');
        const rule = elb.modify('ModifyRule', input.RuleArn, input.Actions) as Rule;
        if (input.Conditions) rule.Conditions = structuredClone(input.Conditions);
        return { Rules: [structuredClone(rule)] };
      },
    ),
    ModifyListener: write(
      (input: ModifyListenerInput) => `${input.ListenerArn} ${forwardText(input.DefaultActions)}`,
      (input: ModifyListenerInput) => {
        if (!input.ListenerArn) throw invalid('ListenerArn is required');
        const listener = elb.modify('ModifyListener', input.ListenerArn, input.DefaultActions) as Listener;
        // The fields not given are kept.
        if (input.Port !== undefined) listener.Port = input.Port;
        if (input.Protocol !== undefined) listener.Protocol = input.Protocol;
        return { Listeners: [structuredClone(listener)] };
      },
    ),
    AddTags: write(
      (input: AddTagsInput) =>
        `${(input.ResourceArns ?? []).join(',')} ${(input.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).join(',')}`,
      (input: AddTagsInput) => {
        const tags = input.Tags ?? [];
        if (tags.length === 0) throw invalid('Tags must hold at least one tag');
        const arns = tagResources(input.ResourceArns);
        if (new Set(tags.map((t) => t.Key)).size !== tags.length)
          throw new AwsServiceError('DuplicateTagKeysException', 'A tag key was specified more than once');
        // ELB checks every resource before it tags any.
        const tagged = arns.map((arn) => {
          const holder = elb.tagHolder(arn);
          const next = new Map(holder.tags);
          for (const tag of tags) next.set(tag.Key!, tag.Value ?? '');
          if (next.size > MAX_TAGS)
            throw new AwsServiceError('TooManyTagsException', `${arn} would have more than ${MAX_TAGS} tags`);
          return { holder, next };
        });
        for (const { holder, next } of tagged) holder.tags = next;
        return {};
      },
    ),
    RemoveTags: write(
      (input: RemoveTagsInput) =>
        `${(input.ResourceArns ?? []).join(',')} ${(input.TagKeys ?? []).join(',')}`,
      (input: RemoveTagsInput) => {
        const holders = tagResources(input.ResourceArns).map((arn) => elb.tagHolder(arn));
        for (const holder of holders) for (const key of input.TagKeys ?? []) holder.tags.delete(key);
        return {};
      },
    ),
    DescribeTags: read(
      (input: DescribeTagsInput) => (input.ResourceArns ?? []).join(','),
      (input: DescribeTagsInput) => ({
        TagDescriptions: tagResources(input.ResourceArns).map((arn) => ({
          ResourceArn: arn,
          Tags: [...elb.tagHolder(arn).tags].map(([Key, Value]) => ({ Key, Value })),
        })),
      }),
    ),
  };
}

/** The forward's weights, as a write's target shows them: `targetgroup/NAME/ID=90 ...`. */
function forwardText(actions: Action[] | undefined): string {
  return forwardTargets(actions)
    .map((t) => `${t.id.slice(t.id.lastIndexOf(':') + 1)}=${t.weight}`)
    .join(' ');
}
