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
import { type RouteOf, weightedRoutes } from '#adapters/aws/weightedRoutes';
import type { WeightedTarget } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { InvalidInputError, RouteNotFoundError } from '#runtime/errors';

type LatticeRoute = RouteOf<'lattice'>;

interface ForwardingAction {
  /** The forward's groups as Lattice answered them (identifiers as it gives them), in order. */
  groups: WeightedTargetGroup[];
  targets: WeightedTarget[];
}

export function latticeRouter(client: Pick<VPCLatticeClient, 'send'>): TrafficRouter {
  const routes = weightedRoutes<'lattice', ForwardingAction>({
    kind: 'lattice',
    name: 'VPC Lattice',
    describeRoute,
    notFound: new Set(['ResourceNotFoundException']),
  });

  async function describe(route: LatticeRoute): Promise<ForwardingAction> {
    const ids = identifiersOf(route);
    const { action, isDefault } = route.ruleArn
      ? await client.send(new GetRuleCommand({ ...ids, ruleIdentifier: route.ruleArn }))
      : { action: (await client.send(new GetListenerCommand(ids))).defaultAction, isDefault: false };
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
    await (route.ruleArn
      ? client.send(new UpdateRuleCommand({ ...ids, ruleIdentifier: route.ruleArn, action }))
      : client.send(new UpdateListenerCommand({ ...ids, defaultAction: action })));
  }

  /** The owner and request marks, in one ListTagsForResource (it answers every tag, with no pages). */
  async function marksOf(route: LatticeRoute) {
    const { tags } = await client.send(new ListTagsForResourceCommand({ resourceArn: taggedArn(route) }));
    return { owner: tags?.[ROLLOUT_OWNER_TAG], request: tags?.[ROLLOUT_REQUEST_TAG] };
  }

  async function tag(route: LatticeRoute, key: string, value: string): Promise<void> {
    await client.send(new TagResourceCommand({ resourceArn: taggedArn(route), tags: { [key]: value } }));
  }

  async function untag(route: LatticeRoute, keys: string[]): Promise<void> {
    await client.send(new UntagResourceCommand({ resourceArn: taggedArn(route), tagKeys: keys }));
  }

  return {
    read: (route) => routes.read(route, describe, marksOf),
    setWeights: (route, weights, from) => routes.setWeights(route, weights, from, describe, write),
    verifyWeights: (route, weights) => routes.verifyWeights(route, weights, describe),
    setOwner: (route, owner) =>
      routes.mark(route, (lattice) =>
        owner === null
          ? untag(lattice, [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG])
          : tag(lattice, ROLLOUT_OWNER_TAG, owner),
      ),
    setRequest: (route, request) =>
      routes.mark(route, (lattice) =>
        request === null ? untag(lattice, [ROLLOUT_REQUEST_TAG]) : tag(lattice, ROLLOUT_REQUEST_TAG, request),
      ),
  };
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
