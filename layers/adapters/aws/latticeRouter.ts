// A rollout's traffic over a VPC Lattice listener rule (or a listener's default action) that forwards to
// weighted target groups. UpdateRule and UpdateListener replace the whole action, so every write is: read
// the forward action, change the weights of the stable and canary groups, write all of its groups back. A
// rule's match and priority are not part of the write: UpdateRule keeps what it is not given.
import {
  GetListenerCommand,
  GetRuleCommand,
  ListTagsForResourceCommand,
  type RuleAction,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateListenerCommand,
  UpdateRuleCommand,
  type VPCLatticeClient,
  type WeightedTargetGroup,
} from '@aws-sdk/client-vpc-lattice';
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG } from '#adapters/aws/routeMarks';
import {
  type RouteRef,
  type RouteState,
  requestMarkOf,
  sameTargetWeights,
  sameWeights,
  targetsProblem,
  type WeightedTarget,
  weightsOf,
  weightsProblem,
  withWeights,
} from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

type LatticeRoute = Extract<RouteRef, { router: 'lattice' }>;

interface ForwardingAction {
  /** The forward's groups as Lattice answered them (identifiers as it gives them), in order. */
  groups: WeightedTargetGroup[];
  targets: WeightedTarget[];
}

export function latticeRouter(client: Pick<VPCLatticeClient, 'send'>): TrafficRouter {
  /** What each state `read` answered was read from, for the write that follows it in the same step. */
  const answers = new WeakMap<RouteState, ForwardingAction>();

  async function describe(route: LatticeRoute): Promise<ForwardingAction> {
    const ids = identifiersOf(route);
    const { action, isDefault } = await withRouteNotFound(route, async () => {
      if (route.ruleArn) return client.send(new GetRuleCommand({ ...ids, ruleIdentifier: route.ruleArn }));
      const listener = await client.send(new GetListenerCommand(ids));
      return { action: listener.defaultAction, isDefault: false };
    });
    // The default action has two names, the listener and its default rule's ARN, and a rollout's claim is
    // keyed by the name: taking both would let two rollouts hold one action. The listener is its one name.
    if (isDefault)
      throw new InvalidInputError(
        `${route.ruleArn} is the default rule of ${route.listenerArn}: name its default action by the listener alone, without ruleArn`,
      );
    const groups = forwardOf(action);
    if (groups.length === 0)
      throw new RouteNotFoundError(`${describeRoute(route)} has no forward action with target groups`);
    // A forward of one group may leave its weight out: that group takes all the traffic.
    const targets = groups.map((group) => ({
      id: targetIdIn(route, group.targetGroupIdentifier ?? ''),
      weight: group.weight ?? 100,
    }));
    return { groups, targets };
  }

  /** The owner and request marks, in one ListTagsForResource (it answers every tag, with no pages). */
  async function marksOf(route: LatticeRoute): Promise<Pick<RouteState, 'owner' | 'request'>> {
    const output = await withRouteNotFound(route, () =>
      client.send(new ListTagsForResourceCommand({ resourceArn: taggedArn(route) })),
    );
    const owner = output.tags?.[ROLLOUT_OWNER_TAG];
    const request = requestMarkOf(output.tags?.[ROLLOUT_REQUEST_TAG]);
    return { ...(owner !== undefined ? { owner } : {}), ...(request ? { request } : {}) };
  }

  async function write(route: LatticeRoute, read: ForwardingAction, next: WeightedTarget[]): Promise<void> {
    const weightOf = (identifier: string) =>
      next.find((target) => sameTargetGroup(target.id, identifier))?.weight;
    const known = read.groups.map((group) => group.targetGroupIdentifier ?? '');
    const targetGroups = [
      ...read.groups.map((group, i) => ({ ...group, weight: weightOf(known[i]!) ?? group.weight ?? 100 })),
      ...next
        .filter((target) => !known.some((identifier) => sameTargetGroup(identifier, target.id)))
        .map((target) => ({ targetGroupIdentifier: target.id, weight: target.weight })),
    ];
    const action: RuleAction = { forward: { targetGroups } };
    const ids = identifiersOf(route);
    await withRouteNotFound(route, () =>
      route.ruleArn
        ? client.send(new UpdateRuleCommand({ ...ids, ruleIdentifier: route.ruleArn, action }))
        : client.send(new UpdateListenerCommand({ ...ids, defaultAction: action })),
    );
  }

  return {
    async read(route) {
      const lattice = latticeRoute(route);
      const described = await describe(lattice);
      const { targets } = described;
      const state = { weights: weightsOf(lattice, targets), targets, ...(await marksOf(lattice)) };
      answers.set(state, described);
      return state;
    },

    async setWeights(route, weights, from) {
      const lattice = latticeRoute(route);
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`${describeRoute(lattice)}: ${problem}`);
      const read = (from && answers.get(from)) ?? (await describe(lattice));
      const next = withWeights(lattice, read.targets, weights);
      const limit = targetsProblem('lattice', next);
      if (limit) throw new WeightOutOfRangeError(`${describeRoute(lattice)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      await write(lattice, read, next);
    },

    async verifyWeights(route, weights) {
      const lattice = latticeRoute(route);
      const { targets } = await describe(lattice);
      return sameWeights(weightsOf(lattice, targets), weights);
    },

    async setOwner(route, owner) {
      const lattice = latticeRoute(route);
      const resourceArn = taggedArn(lattice);
      await withRouteNotFound(lattice, () =>
        owner === null
          ? client.send(
              new UntagResourceCommand({ resourceArn, tagKeys: [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG] }),
            )
          : client.send(new TagResourceCommand({ resourceArn, tags: { [ROLLOUT_OWNER_TAG]: owner } })),
      );
    },

    async setRequest(route, request) {
      const lattice = latticeRoute(route);
      const resourceArn = taggedArn(lattice);
      await withRouteNotFound(lattice, () =>
        request === null
          ? client.send(new UntagResourceCommand({ resourceArn, tagKeys: [ROLLOUT_REQUEST_TAG] }))
          : client.send(new TagResourceCommand({ resourceArn, tags: { [ROLLOUT_REQUEST_TAG]: request } })),
      );
    },
  };
}

function latticeRoute(route: RouteRef): LatticeRoute {
  if (route.router !== 'lattice')
    throw new InvalidInputError(`the VPC Lattice router cannot serve a ${route.router} route`);
  return route;
}

/** Lattice takes an ID or an ARN for each; the listener's ARN holds its service's. */
function identifiersOf(route: LatticeRoute): { serviceIdentifier: string; listenerIdentifier: string } {
  const at = route.listenerArn.indexOf('/listener/');
  if (at < 0) throw new InvalidInputError(`${route.listenerArn} is not a VPC Lattice listener ARN`);
  return { serviceIdentifier: route.listenerArn.slice(0, at), listenerIdentifier: route.listenerArn };
}

/** The listener's default action has no rule ARN of its own to tag here, so the listener carries the mark. */
const taggedArn = (route: LatticeRoute): string => route.ruleArn ?? route.listenerArn;

const describeRoute = (route: LatticeRoute): string =>
  route.ruleArn
    ? `VPC Lattice rule ${route.ruleArn}`
    : `default action of VPC Lattice listener ${route.listenerArn}`;

/** `tg-…`, whether it is given as the ID or inside the ARN (`…:targetgroup/tg-…`). */
const targetGroupId = (identifier: string): string => identifier.slice(identifier.lastIndexOf('/') + 1);

const sameTargetGroup = (a: string, b: string): boolean => targetGroupId(a) === targetGroupId(b);

/**
 * A group Lattice reports, named as the route names it when it is stable or canary (the route may say ID
 * where Lattice says ARN, or the other way round); any other group by Lattice's own identifier.
 */
function targetIdIn(route: LatticeRoute, identifier: string): string {
  if (sameTargetGroup(identifier, route.stable)) return route.stable;
  if (sameTargetGroup(identifier, route.canary)) return route.canary;
  return identifier;
}

const forwardOf = (action: RuleAction | undefined): WeightedTargetGroup[] =>
  (action && 'forward' in action ? action.forward?.targetGroups : undefined) ?? [];

async function withRouteNotFound<T>(route: LatticeRoute, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException')
      throw new RouteNotFoundError(`${describeRoute(route)} does not exist: ${error.message}`);
    throw error;
  }
}
