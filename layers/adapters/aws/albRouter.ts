// A rollout's traffic over an ALB listener rule (or a listener's default action) that forwards to weighted
// target groups. ModifyRule and ModifyListener replace the whole action list, so every write is: read the
// actions, change the weights of the stable and canary groups in the forward action, write all of it back.
import {
  type Action,
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  type TargetGroupTuple,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG } from '#adapters/aws/routeMarks';
import { type RouteOf, weightedRoutes } from '#adapters/aws/weightedRoutes';
import type { WeightedTarget } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { RouteNotFoundError } from '#runtime/errors';

type AlbRoute = RouteOf<'alb'>;

interface ForwardingActions {
  actions: Action[];
  forward: Action;
  targets: WeightedTarget[];
  /** A rule that is the listener's default rule can only be changed through ModifyListener. */
  viaListener: boolean;
}

export function albRouter(client: Pick<ElasticLoadBalancingV2Client, 'send'>): TrafficRouter {
  const routes = weightedRoutes<'alb', ForwardingActions>({
    kind: 'alb',
    name: 'ALB',
    describeRoute,
    notFound: new Set(['RuleNotFoundException', 'ListenerNotFoundException']),
  });

  async function describe(route: AlbRoute): Promise<ForwardingActions> {
    const { actions, viaListener } = await actionsOf(route);
    const forward = actions.find((action) => action.Type === 'forward');
    const targets = forward ? tuplesOf(forward).map(toTarget) : [];
    if (!forward || targets.length === 0)
      throw new RouteNotFoundError(`${describeRoute(route)} has no forward action with target groups`);
    return { actions, forward, targets, viaListener };
  }

  async function actionsOf(route: AlbRoute): Promise<Pick<ForwardingActions, 'actions' | 'viaListener'>> {
    if (route.ruleArn) {
      const output = await client.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn] }));
      const rule = output.Rules?.find((candidate) => candidate.RuleArn === route.ruleArn);
      return { actions: rule?.Actions ?? [], viaListener: rule?.IsDefault === true };
    }
    const output = await client.send(new DescribeListenersCommand({ ListenerArns: [route.listenerArn] }));
    const listener = output.Listeners?.find((candidate) => candidate.ListenerArn === route.listenerArn);
    return { actions: listener?.DefaultActions ?? [], viaListener: true };
  }

  async function write(route: AlbRoute, read: ForwardingActions, next: WeightedTarget[]): Promise<void> {
    const actions = read.actions.map((action) =>
      action === read.forward ? withTargetGroups(action, next) : asWritable(action),
    );
    await (route.ruleArn && !read.viaListener
      ? client.send(new ModifyRuleCommand({ RuleArn: route.ruleArn, Actions: actions }))
      : client.send(new ModifyListenerCommand({ ListenerArn: route.listenerArn, DefaultActions: actions })));
  }

  /** The owner and request marks, in one DescribeTags. */
  async function marksOf(route: AlbRoute) {
    const arn = taggedArn(route);
    const output = await client.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
    const tags = output.TagDescriptions?.find((description) => description.ResourceArn === arn)?.Tags;
    const tagged = (key: string) => tags?.find((tag) => tag.Key === key)?.Value;
    return { owner: tagged(ROLLOUT_OWNER_TAG), request: tagged(ROLLOUT_REQUEST_TAG) };
  }

  async function tag(route: AlbRoute, key: string, value: string): Promise<void> {
    const Tags = [{ Key: key, Value: value }];
    await client.send(new AddTagsCommand({ ResourceArns: [taggedArn(route)], Tags }));
  }

  async function untag(route: AlbRoute, keys: string[]): Promise<void> {
    await client.send(new RemoveTagsCommand({ ResourceArns: [taggedArn(route)], TagKeys: keys }));
  }

  return {
    read: (route) => routes.read(route, describe, marksOf),
    setWeights: (route, weights, from) => routes.setWeights(route, weights, from, describe, write),
    verifyWeights: (route, weights) => routes.verifyWeights(route, weights, describe),
    setOwner: (route, owner) =>
      routes.mark(route, (alb) =>
        owner === null
          ? untag(alb, [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG])
          : tag(alb, ROLLOUT_OWNER_TAG, owner),
      ),
    setRequest: (route, request) =>
      routes.mark(route, (alb) =>
        request === null ? untag(alb, [ROLLOUT_REQUEST_TAG]) : tag(alb, ROLLOUT_REQUEST_TAG, request),
      ),
  };
}

/** The listener's default action has no rule ARN of its own to tag here, so the listener carries the mark. */
const taggedArn = (route: AlbRoute): string => route.ruleArn ?? route.listenerArn;

const describeRoute = (route: AlbRoute): string =>
  route.ruleArn ? `ALB rule ${route.ruleArn}` : `default action of ALB listener ${route.listenerArn}`;

/**
 * A forward written the short way, with only TargetGroupArn, is one group taking all the traffic. ELB
 * reports a weight for every group of a ForwardConfig; one missing counts as that same single share.
 */
function tuplesOf(forward: Action): TargetGroupTuple[] {
  const groups = forward.ForwardConfig?.TargetGroups ?? [];
  if (groups.length > 0) return groups;
  return forward.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : [];
}

const toTarget = (tuple: TargetGroupTuple): WeightedTarget => ({
  id: tuple.TargetGroupArn ?? '',
  weight: tuple.Weight ?? 1,
});

/**
 * The forward action with the new weights, groups in the order they were, new ones last, stickiness and
 * Order as they were. The top-level TargetGroupArn goes: ELB refuses it next to a ForwardConfig that
 * names other groups, and the ForwardConfig alone says everything.
 */
function withTargetGroups(forward: Action, next: WeightedTarget[]): Action {
  const { TargetGroupArn: _shortForm, ...rest } = forward;
  const tuples = tuplesOf(forward);
  const known = new Set(tuples.map((tuple) => tuple.TargetGroupArn));
  const weightOf = (arn: string | undefined) => next.find((target) => target.id === arn)?.weight;
  const TargetGroups = [
    ...tuples.map((tuple) => ({ ...tuple, Weight: weightOf(tuple.TargetGroupArn) ?? tuple.Weight ?? 1 })),
    ...next
      .filter((target) => !known.has(target.id))
      .map((target) => ({ TargetGroupArn: target.id, Weight: target.weight })),
  ];
  return { ...rest, ForwardConfig: { ...forward.ForwardConfig, TargetGroups } };
}

/**
 * Describe calls never return an OIDC client secret, and a write without one is refused unless it says
 * to keep the secret already stored.
 */
function asWritable(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  if (!oidc || oidc.ClientSecret !== undefined) return action;
  return { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
}
