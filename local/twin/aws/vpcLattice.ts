// VPC Lattice as the twin answers it: services with one HTTP listener each, the listener's rules and default
// action forwarding to weighted target groups, tags on rules and listeners, the checks the API reference
// gives (identifier patterns, 1..10 target groups in a forward, weights 0..999, fixed responses 404 or 500)
// and its error names, for the commands the Lattice router sends (GetRule, GetListener, UpdateRule,
// UpdateListener, ListTagsForResource, TagResource, UntagResource). The traffic (local/twin/traffic.ts)
// hears every change of a rule's or default action's target groups.
import type {
  GetListenerRequest,
  GetRuleRequest,
  ListTagsForResourceRequest,
  RuleAction,
  RuleMatch,
  TagResourceRequest,
  UntagResourceRequest,
  UpdateListenerRequest,
  UpdateRuleRequest,
  WeightedTargetGroup,
} from '@aws-sdk/client-vpc-lattice';
import { routeKey, type WeightedTarget } from '#domain/rolloutRoutes';
import { AwsServiceError, constraintError, read, type ServiceModel, write } from '#local/twin/aws/client';
import type { RouteHandle, RouteObserver, Writer } from '#local/twin/traffic';
import type { World } from '#local/twin/world';

const MAX_TARGET_GROUPS = 10;
const MAX_WEIGHT = 999;
const MAX_TAGS = 50;
const ID = '[0-9a-z]{17}';
const ARN = 'arn:[a-z0-9-]+:vpc-lattice:[a-zA-Z0-9-]+:\\d{12}:';
/** Each identifier is an ID or an ARN (API reference, request parameters). */
const PATTERNS = {
  service: new RegExp(`^((svc-${ID})|(${ARN}service/svc-${ID}))$`),
  listener: new RegExp(`^((listener-${ID})|(${ARN}service/svc-${ID}/listener/listener-${ID}))$`),
  rule: new RegExp(`^((rule-${ID})|(${ARN}service/svc-${ID}/listener/listener-${ID}/rule/rule-${ID}))$`),
  targetGroup: new RegExp(`^((tg-${ID})|(${ARN}targetgroup/tg-${ID}))$`),
};

const invalid = (message: string) => new AwsServiceError('ValidationException', message);
const notFound = (what: string, id: string) =>
  new AwsServiceError('ResourceNotFoundException', `${what} ${id} not found`, 404);
/** routeKey() of a Lattice rule, or of a listener's default action when there is no rule. */
const latticeRouteKey = (listenerArn: string, ruleArn?: string) =>
  routeKey({ router: 'lattice', listenerArn, ...(ruleArn ? { ruleArn } : {}), stable: '', canary: '' });
/** The ID an identifier names: the last part of an ARN, or the ID itself. */
const idOf = (identifier: string) => identifier.slice(identifier.lastIndexOf('/') + 1);

/** What Lattice keeps of a listener and of a rule alike. */
interface ResourceState {
  arn: string;
  id: string;
  name: string;
  /** A rule's action; a listener's default action. */
  action: RuleAction;
  tags: Map<string, string>;
  createdAt: Date;
  lastUpdatedAt: Date;
}

interface ListenerState extends ResourceState {
  serviceArn: string;
  defaultRuleId: string;
}

interface RuleState extends ResourceState {
  listenerArn: string;
  priority: number;
  match: RuleMatch;
}

/** A Lattice route as a scenario declares it: a rule, or the default action of its service's listener. */
export interface LatticeRouteInput {
  service?: string;
  default?: boolean;
  priority?: number;
  /** Target group by name (made on first mention) and its weight. */
  targetGroups: { targetGroup: string; weight: number }[];
}

export class TwinLattice {
  /** Target groups by ID, and their names (a version's name in profiles and write logs). */
  private readonly groups = new Map<string, { arn: string; name: string }>();
  private readonly listenerOf = new Map<string, string>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();
  /** The route keys the traffic carries: only their writes are its to hear. */
  private readonly routed = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly observer: RouteObserver,
  ) {}

  /** The target group of that name (made on first use) or ID: its ID and ARN. */
  targetGroup(ref: string): { id: string; arn: string } {
    const byId = this.groups.get(idOf(ref));
    if (byId) return { id: idOf(ref), arn: byId.arn };
    const found = [...this.groups].find(([, g]) => g.name === ref);
    if (found) return { id: found[0], arn: found[1].arn };
    const id = this.newId('tg');
    const arn = `arn:aws:vpc-lattice:${this.world.region}:${this.world.account}:targetgroup/${id}`;
    this.groups.set(id, { arn, name: ref });
    return { id, arn };
  }

  /** A target group's name, by ID or ARN; one the twin did not make by its identifier. */
  nameOf(identifier: string): string {
    return this.groups.get(idOf(identifier))?.name ?? identifier;
  }

  /** The route `name` as it is before the scenario starts (not a write). */
  addRoute(name: string, input: LatticeRouteInput): RouteHandle {
    const action = this.checked({
      forward: {
        targetGroups: input.targetGroups.map((t) => ({
          targetGroupIdentifier: this.targetGroup(t.targetGroup).id,
          weight: t.weight,
        })),
      },
    });
    const listener = this.listenerFor(input.service ?? 'twin-svc');
    const now = this.world.clock.now();
    let rule: RuleState | undefined;
    if (input.default) listener.action = action;
    else {
      const id = this.newId('rule');
      const priorities = [...this.rules.values()].filter((r) => r.listenerArn === listener.arn);
      rule = {
        arn: `${listener.arn}/rule/${id}`,
        id,
        name,
        listenerArn: listener.arn,
        priority: input.priority ?? Math.max(0, ...priorities.map((r) => r.priority)) + 1,
        match: { httpMatch: { pathMatch: { match: { prefix: `/${name}` }, caseSensitive: false } } },
        action,
        tags: new Map(),
        createdAt: now,
        lastUpdatedAt: now,
      };
      this.rules.set(rule.arn, rule);
    }
    const routed = rule ?? listener;
    const key = latticeRouteKey(listener.arn, rule?.arn);
    this.routed.add(key);
    return {
      info: {
        key,
        listenerArn: listener.arn,
        ...(rule ? { ruleArn: rule.arn } : {}),
      },
      targets: () => forwardTargets(routed.action),
      dimensions: (id) => ({ TargetGroup: id }),
      edit: (targets) => {
        const next = {
          forward: { targetGroups: targets.map((t) => ({ targetGroupIdentifier: t.id, weight: t.weight })) },
        };
        this.update(routed, next, 'person');
      },
    };
  }

  /** A listener by its service and listener identifiers (each an ID or ARN), as every command names it. */
  listener(serviceIdentifier: string | undefined, listenerIdentifier: string | undefined): ListenerState {
    checked('serviceIdentifier', serviceIdentifier, PATTERNS.service);
    checked('listenerIdentifier', listenerIdentifier, PATTERNS.listener);
    const found = [...this.listeners.values()].find(
      (l) => l.id === idOf(listenerIdentifier!) && idOf(l.serviceArn) === idOf(serviceIdentifier!),
    );
    if (!found) throw notFound('Listener', listenerIdentifier!);
    return found;
  }

  /** A rule of the listener; its default rule answers as a rule too (isDefault), with no state of its own. */
  rule(listener: ListenerState, ruleIdentifier: string | undefined): RuleState | 'default' {
    checked('ruleIdentifier', ruleIdentifier, PATTERNS.rule);
    if (idOf(ruleIdentifier!) === listener.defaultRuleId) return 'default';
    const found = [...this.rules.values()].find(
      (r) => r.id === idOf(ruleIdentifier!) && r.listenerArn === listener.arn,
    );
    if (!found) throw notFound('Rule', ruleIdentifier!);
    return found;
  }

  /** UpdateRule of a rule's action, or UpdateListener of a listener's default action. */
  update(resource: RuleState | ListenerState, given: RuleAction, by: Writer = 'reflex'): void {
    const action = this.checked(given);
    const rule = 'listenerArn' in resource ? resource : undefined;
    const key = latticeRouteKey(rule?.listenerArn ?? resource.arn, rule?.arn);
    const api = rule ? 'UpdateRule' : 'UpdateListener';
    if (this.routed.has(key)) this.observer({ key, api, targets: forwardTargets(action) }, by);
    resource.action = action;
    resource.lastUpdatedAt = this.world.clock.now();
  }

  /** The tags of a rule or listener, by its ARN. */
  tagsOf(resourceArn: string | undefined): Map<string, string> {
    if (!resourceArn) throw invalid('resourceArn is required');
    const holder = this.rules.get(resourceArn) ?? this.listeners.get(resourceArn);
    if (!holder) throw notFound('Resource', resourceArn);
    return holder.tags;
  }

  /** The one HTTP listener the twin makes up for a service on first use; its default action answers 404. */
  private listenerFor(service: string): ListenerState {
    const known = this.listenerOf.get(service);
    if (known) return this.listeners.get(known)!;
    const { region, account } = this.world;
    const serviceArn = `arn:aws:vpc-lattice:${region}:${account}:service/${this.newId('svc')}`;
    const id = this.newId('listener');
    const now = this.world.clock.now();
    const listener: ListenerState = {
      arn: `${serviceArn}/listener/${id}`,
      id,
      name: `${service}-http`,
      serviceArn,
      defaultRuleId: this.newId('rule'),
      action: { fixedResponse: { statusCode: 404 } },
      tags: new Map(),
      createdAt: now,
      lastUpdatedAt: now,
    };
    this.listeners.set(listener.arn, listener);
    this.listenerOf.set(service, listener.arn);
    return listener;
  }

  /** A new resource ID: its kind's prefix and 17 characters (the ID patterns above). */
  private newId(prefix: 'svc' | 'listener' | 'rule' | 'tg'): string {
    return `${prefix}-${this.world.newId().slice(0, 17)}`;
  }

  /**
   * The API reference's checks of an action (exactly one of forward and fixedResponse; 1..10 target groups,
   * each once, that exist, weights 0..999, a weight on each when there are several; status 404 or 500), and
   * the action as Lattice reports it: target groups by ID, each with its weight.
   */
  private checked(action: RuleAction | undefined): RuleAction {
    const kinds = Object.keys(action ?? {}).filter((k) => k === 'forward' || k === 'fixedResponse');
    if (!action || kinds.length !== 1)
      throw invalid('An action must be exactly one of forward, fixedResponse');
    if ('fixedResponse' in action && action.fixedResponse) {
      const status = action.fixedResponse.statusCode;
      if (status !== 404 && status !== 500)
        throw invalid(`Only 404 and 500 status codes are supported, not ${status}`);
      return { fixedResponse: { statusCode: status } };
    }
    const groups: WeightedTargetGroup[] = ('forward' in action && action.forward?.targetGroups) || [];
    if (groups.length < 1 || groups.length > MAX_TARGET_GROUPS)
      throw constraintError('ValidationException', 'action.forward.targetGroups', {
        constraint: `Member must have length between 1 and ${MAX_TARGET_GROUPS}`,
      });
    const ids = groups.map((g) => {
      checked('targetGroupIdentifier', g.targetGroupIdentifier, PATTERNS.targetGroup);
      const id = idOf(g.targetGroupIdentifier!);
      if (!this.groups.has(id)) throw notFound('Target group', g.targetGroupIdentifier!);
      return id;
    });
    if (new Set(ids).size !== ids.length) throw invalid('A target group can be named only once in an action');
    for (const { weight } of groups) {
      if (weight === undefined && groups.length > 1)
        throw invalid('A weight is required for each target group when there are several');
      if (weight !== undefined && !(Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT))
        throw constraintError('ValidationException', 'action.forward.targetGroups.member.weight', {
          value: weight,
          constraint: `Member must have value between 0 and ${MAX_WEIGHT}`,
        });
    }
    return {
      forward: {
        targetGroups: groups.map((g, i) => ({ targetGroupIdentifier: ids[i], weight: g.weight ?? 100 })),
      },
    };
  }
}

function checked(name: string, value: string | undefined, pattern: RegExp): void {
  if (!value) throw invalid(`${name} is required`);
  if (!pattern.test(value))
    throw constraintError('ValidationException', name, {
      value,
      constraint: `Member must satisfy regular expression pattern: ${pattern.source}`,
    });
}

const forwardTargets = (action: RuleAction): WeightedTarget[] =>
  ('forward' in action ? (action.forward?.targetGroups ?? []) : []).map((g) => ({
    id: g.targetGroupIdentifier ?? '',
    weight: g.weight ?? 100,
  }));

// --- the commands ----------------------------------------------------------------------------------------------

/** The VPC Lattice commands the Lattice router sends, over the twin's services. */
export function vpcLatticeModel(lattice: TwinLattice): ServiceModel {
  const ruleOut = (listener: ListenerState, rule: RuleState | 'default') =>
    structuredClone(
      rule === 'default'
        ? {
            arn: `${listener.arn}/rule/${listener.defaultRuleId}`,
            id: listener.defaultRuleId,
            name: 'default',
            isDefault: true,
            action: listener.action,
            createdAt: listener.createdAt,
            lastUpdatedAt: listener.lastUpdatedAt,
          }
        : {
            arn: rule.arn,
            id: rule.id,
            name: rule.name,
            isDefault: false,
            match: rule.match,
            priority: rule.priority,
            action: rule.action,
            createdAt: rule.createdAt,
            lastUpdatedAt: rule.lastUpdatedAt,
          },
    );
  const listenerOut = (l: ListenerState) =>
    structuredClone({
      arn: l.arn,
      id: l.id,
      name: l.name,
      protocol: 'HTTP',
      port: 80,
      serviceArn: l.serviceArn,
      serviceId: idOf(l.serviceArn),
      defaultAction: l.action,
      createdAt: l.createdAt,
      lastUpdatedAt: l.lastUpdatedAt,
    });
  const weightsText = (action: RuleAction | undefined) =>
    (action && 'forward' in action ? (action.forward?.targetGroups ?? []) : [])
      .map((g) => `${lattice.nameOf(g.targetGroupIdentifier ?? '')}=${g.weight}`)
      .join(' ');

  return {
    GetRule: read(
      (input: GetRuleRequest) => input.ruleIdentifier ?? '',
      (input: GetRuleRequest) => {
        const listener = lattice.listener(input.serviceIdentifier, input.listenerIdentifier);
        return ruleOut(listener, lattice.rule(listener, input.ruleIdentifier));
      },
    ),
    GetListener: read(
      (input: GetListenerRequest) => input.listenerIdentifier ?? '',
      (input: GetListenerRequest) =>
        listenerOut(lattice.listener(input.serviceIdentifier, input.listenerIdentifier)),
    ),
    UpdateRule: write(
      (input: UpdateRuleRequest) => `${input.ruleIdentifier} ${weightsText(input.action)}`,
      (input: UpdateRuleRequest) => {
        const listener = lattice.listener(input.serviceIdentifier, input.listenerIdentifier);
        const rule = lattice.rule(listener, input.ruleIdentifier);
        if (rule === 'default') throw invalid("You can't modify a default listener rule: use UpdateListener");
        if (input.match !== undefined || input.priority !== undefined)
          throw invalid('The twin models UpdateRule of the action only');
        if (input.action) lattice.update(rule, input.action);
        const { createdAt: _c, lastUpdatedAt: _u, ...answer } = ruleOut(listener, rule);
        return answer;
      },
    ),
    UpdateListener: write(
      (input: UpdateListenerRequest) => `${input.listenerIdentifier} ${weightsText(input.defaultAction)}`,
      (input: UpdateListenerRequest) => {
        const listener = lattice.listener(input.serviceIdentifier, input.listenerIdentifier);
        if (!input.defaultAction) throw invalid('defaultAction is required');
        lattice.update(listener, input.defaultAction);
        const { createdAt: _c, lastUpdatedAt: _u, ...answer } = listenerOut(listener);
        return answer;
      },
    ),
    ListTagsForResource: read(
      (input: ListTagsForResourceRequest) => input.resourceArn ?? '',
      (input: ListTagsForResourceRequest) => ({
        tags: Object.fromEntries(lattice.tagsOf(input.resourceArn)),
      }),
    ),
    TagResource: write(
      (input: TagResourceRequest) =>
        `${input.resourceArn} ${Object.entries(input.tags ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}`,
      (input: TagResourceRequest) => {
        const given = Object.entries(input.tags ?? {});
        if (given.length < 1 || given.length > MAX_TAGS) throw invalid(`tags takes 1 to ${MAX_TAGS} tags`);
        const tags = lattice.tagsOf(input.resourceArn);
        if (new Set([...tags.keys(), ...given.map(([k]) => k)]).size > MAX_TAGS)
          throw new AwsServiceError(
            'ServiceQuotaExceededException',
            `${input.resourceArn} would have more than ${MAX_TAGS} tags`,
            402,
          );
        for (const [key, value] of given) tags.set(key, value);
        return {};
      },
    ),
    UntagResource: write(
      (input: UntagResourceRequest) => `${input.resourceArn} ${(input.tagKeys ?? []).join(',')}`,
      (input: UntagResourceRequest) => {
        const keys = input.tagKeys ?? [];
        if (keys.length < 1 || keys.length > MAX_TAGS) throw invalid(`tagKeys takes 1 to ${MAX_TAGS} keys`);
        const tags = lattice.tagsOf(input.resourceArn);
        for (const key of keys) tags.delete(key);
        return {};
      },
    ),
  };
}
