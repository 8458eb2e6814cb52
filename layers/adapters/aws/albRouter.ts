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
import {
  type RouteRef,
  type RouteState,
  requestMarkOf,
  sameTargetWeights,
  sameWeights,
  targetsProblem,
  type WeightedTarget,
  type Weights,
  weightsOf,
  weightsProblem,
  withWeights,
} from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

type AlbRoute = Extract<RouteRef, { router: 'alb' }>;

interface ForwardingActions {
  actions: Action[];
  forward: Action;
  targets: WeightedTarget[];
  /** A rule that is the listener's default rule can only be changed through ModifyListener. */
  viaListener: boolean;
}

const NOT_FOUND = new Set(['RuleNotFoundException', 'ListenerNotFoundException']);

export function albRouter(client: Pick<ElasticLoadBalancingV2Client, 'send'>): TrafficRouter {
  /** What each state `read` answered was read from, for the write that follows it in the same step. */
  const answers = new WeakMap<RouteState, ForwardingActions>();

  async function describe(route: AlbRoute): Promise<ForwardingActions> {
    const { actions, viaListener } = await withRouteNotFound(route, async () => {
      if (route.ruleArn) {
        const output = await client.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn] }));
        const rule = output.Rules?.find((candidate) => candidate.RuleArn === route.ruleArn);
        return { actions: rule?.Actions ?? [], viaListener: rule?.IsDefault === true };
      }
      const output = await client.send(new DescribeListenersCommand({ ListenerArns: [route.listenerArn] }));
      const listener = output.Listeners?.find((candidate) => candidate.ListenerArn === route.listenerArn);
      return { actions: listener?.DefaultActions ?? [], viaListener: true };
    });
    const forward = actions.find((action) => action.Type === 'forward');
    const targets = forward ? tuplesOf(forward).map(toTarget) : [];
    if (!forward || targets.length === 0)
      throw new RouteNotFoundError(`${describeRoute(route)} has no forward action with target groups`);
    return { actions, forward, targets, viaListener };
  }

  /** The owner and request marks, in one DescribeTags. */
  async function marksOf(route: AlbRoute): Promise<Pick<RouteState, 'owner' | 'request'>> {
    const arn = taggedArn(route);
    const output = await withRouteNotFound(route, () =>
      client.send(new DescribeTagsCommand({ ResourceArns: [arn] })),
    );
    const tags = output.TagDescriptions?.find((description) => description.ResourceArn === arn)?.Tags;
    const owner = tags?.find((tag) => tag.Key === ROLLOUT_OWNER_TAG)?.Value;
    const request = requestMarkOf(tags?.find((tag) => tag.Key === ROLLOUT_REQUEST_TAG)?.Value);
    return { ...(owner !== undefined ? { owner } : {}), ...(request ? { request } : {}) };
  }

  async function write(route: AlbRoute, read: ForwardingActions, next: WeightedTarget[]): Promise<void> {
    const actions = read.actions.map((action) =>
      action === read.forward ? withTargetGroups(action, next) : asWritable(action),
    );
    await withRouteNotFound(route, () =>
      route.ruleArn && !read.viaListener
        ? client.send(new ModifyRuleCommand({ RuleArn: route.ruleArn, Actions: actions }))
        : client.send(new ModifyListenerCommand({ ListenerArn: route.listenerArn, DefaultActions: actions })),
    );
  }

  return {
    async read(route) {
      const alb = albRoute(route);
      const described = await describe(alb);
      const { targets } = described;
      const state = { weights: weightsOf(alb, targets), targets, ...(await marksOf(alb)) };
      answers.set(state, described);
      return state;
    },

    async setWeights(route, weights, from) {
      const alb = albRoute(route);
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`${describeRoute(alb)}: ${problem}`);
      const read = (from && answers.get(from)) ?? (await describe(alb));
      const next = withWeights(alb, read.targets, weights);
      const limit = targetsProblem('alb', next);
      if (limit) throw new WeightOutOfRangeError(`${describeRoute(alb)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      await write(alb, read, next);
    },

    async verifyWeights(route, weights: Weights) {
      const alb = albRoute(route);
      const { targets } = await describe(alb);
      return sameWeights(weightsOf(alb, targets), weights);
    },

    async setOwner(route, owner) {
      const alb = albRoute(route);
      const arn = taggedArn(alb);
      await withRouteNotFound(alb, () =>
        owner === null
          ? client.send(
              new RemoveTagsCommand({
                ResourceArns: [arn],
                TagKeys: [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG],
              }),
            )
          : client.send(
              new AddTagsCommand({ ResourceArns: [arn], Tags: [{ Key: ROLLOUT_OWNER_TAG, Value: owner }] }),
            ),
      );
    },

    async setRequest(route, request) {
      const alb = albRoute(route);
      const arn = taggedArn(alb);
      await withRouteNotFound(alb, () =>
        request === null
          ? client.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: [ROLLOUT_REQUEST_TAG] }))
          : client.send(
              new AddTagsCommand({
                ResourceArns: [arn],
                Tags: [{ Key: ROLLOUT_REQUEST_TAG, Value: request }],
              }),
            ),
      );
    },
  };
}

function albRoute(route: RouteRef): AlbRoute {
  if (route.router !== 'alb')
    throw new InvalidInputError(`the ALB router cannot serve a ${route.router} route`);
  return route;
}

/** The listener's default action has no rule ARN of its own to tag here, so the listener carries the mark. */
const taggedArn = (route: AlbRoute): string => route.ruleArn ?? route.listenerArn;

const describeRoute = (route: AlbRoute): string =>
  route.ruleArn ? `ALB rule ${route.ruleArn}` : `default action of ALB listener ${route.listenerArn}`;

async function withRouteNotFound<T>(route: AlbRoute, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && NOT_FOUND.has(error.name))
      throw new RouteNotFoundError(`${describeRoute(route)} does not exist: ${error.message}`);
    throw error;
  }
}

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
