// The progressive rollout's routers and metrics over the twin's traffic. Each method makes the AWS calls
// its adapter makes (layers/adapters/aws/appMeshRouter.ts, albRouter.ts, cloudWatchMetrics.ts), in the same
// order, with the same refusals before any write and the same "no write when nothing changes", and each
// call goes through the recorder, so scenarios see the calls and fault injection reaches them.
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG, sameTargetWeights } from '#adapters/aws/albRouter';
import { MAX_QUERIES_PER_CALL } from '#adapters/aws/cloudWatchMetrics';
import {
  type RouteRef,
  type RouteState,
  requestMarkOf,
  routeKey,
  sameWeights,
  targetsProblem,
  type WeightedTarget,
  weightsOf,
  weightsProblem,
  withWeights,
} from '#domain/rolloutRoutes';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import type {
  AlbAction,
  MeshRouteData,
  MeshRouteField,
  MeshRouteId,
  MeshWeightedTarget,
  TwinTraffic,
} from '#local/twin/traffic';
import { MESH_ROUTE_FIELDS } from '#local/twin/traffic';
import type { MetricsSource, RouteClaims, TrafficRouter } from '#ports';
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

export { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG };

type MeshRoute = Extract<RouteRef, { router: 'appmesh' }>;
type AlbRoute = Extract<RouteRef, { router: 'alb' }>;

export function twinRolloutRouters(
  traffic: TwinTraffic,
  call: RecordedCall,
): { appmesh: TrafficRouter; alb: TrafficRouter } {
  return { appmesh: appMeshRouter(traffic, call), alb: albRouter(traffic, call) };
}

// --- App Mesh ----------------------------------------------------------------------------------------------

interface MeshRead {
  data: MeshRouteData;
  field: MeshRouteField;
  weightedTargets: MeshWeightedTarget[];
  targets: WeightedTarget[];
}

function appMeshRouter(traffic: TwinTraffic, call: RecordedCall): TrafficRouter {
  const idOf = (route: MeshRoute): MeshRouteId => ({
    meshName: route.meshName,
    ...(route.meshOwner ? { meshOwner: route.meshOwner } : {}),
    virtualRouterName: route.virtualRouterName,
    routeName: route.routeName,
  });

  const describe = (route: MeshRoute): MeshRead => {
    call('DescribeRoute', routeKey(route), false);
    const data = meshNotFound(route, () => traffic.describeRoute(idOf(route)));
    const field = MESH_ROUTE_FIELDS.find((f) => data.spec[f] !== undefined);
    const weightedTargets = (field && data.spec[field]?.action.weightedTargets) || [];
    if (!field || weightedTargets.length === 0)
      throw new RouteNotFoundError(`App Mesh route ${routeKey(route)} has no weighted targets`);
    const targets = weightedTargets.map((t) => ({ id: t.virtualNode, weight: t.weight }));
    return { data, field, weightedTargets, targets };
  };

  return {
    async read(route) {
      const mesh = meshRoute(route);
      const { data, targets } = describe(mesh);
      call('ListTagsForResource', data.metadata.arn, false);
      const tags = meshNotFound(mesh, () => traffic.listTagsForResource(data.metadata.arn));
      return {
        weights: weightsOf(mesh, targets),
        targets,
        ...marks(
          tags.find((t) => t.key === ROLLOUT_OWNER_TAG)?.value,
          tags.find((t) => t.key === ROLLOUT_REQUEST_TAG)?.value,
        ),
      };
    },

    async setWeights(route, weights) {
      const mesh = meshRoute(route);
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`App Mesh route ${routeKey(mesh)}: ${problem}`);
      const read = describe(mesh);
      const next = withWeights(mesh, read.targets, weights);
      const limit = targetsProblem('appmesh', next);
      if (limit) throw new WeightOutOfRangeError(`App Mesh route ${routeKey(mesh)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      // The whole spec goes back: App Mesh replaces it, so match, retries and timeouts ride along.
      const body = read.data.spec[read.field]!;
      const spec = {
        ...read.data.spec,
        [read.field]: {
          ...body,
          action: { ...body.action, weightedTargets: withTargetWeights(read.weightedTargets, next) },
        },
      };
      call('UpdateRoute', routeKey(mesh), true, () =>
        meshNotFound(mesh, () => traffic.updateRoute({ ...idOf(mesh), spec })),
      );
    },

    async verifyWeights(route, weights) {
      const mesh = meshRoute(route);
      return sameWeights(weightsOf(mesh, describe(mesh).targets), weights);
    },

    async setOwner(route, owner) {
      const mesh = meshRoute(route);
      const { arn } = describe(mesh).data.metadata;
      if (owner === null) {
        call('UntagResource', arn, true, () =>
          meshNotFound(mesh, () => traffic.untagResource(arn, [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG])),
        );
      } else {
        call('TagResource', arn, true, () =>
          meshNotFound(mesh, () => traffic.tagResource(arn, [{ key: ROLLOUT_OWNER_TAG, value: owner }])),
        );
      }
    },

    async setRequest(route, request) {
      const mesh = meshRoute(route);
      const { arn } = describe(mesh).data.metadata;
      if (request === null) {
        call('UntagResource', arn, true, () =>
          meshNotFound(mesh, () => traffic.untagResource(arn, [ROLLOUT_REQUEST_TAG])),
        );
      } else {
        call('TagResource', arn, true, () =>
          meshNotFound(mesh, () => traffic.tagResource(arn, [{ key: ROLLOUT_REQUEST_TAG, value: request }])),
        );
      }
    },
  };
}

/** The owner and request marks as a route state carries them: absent when the route has none. */
function marks(
  owner: string | undefined,
  request: string | undefined,
): Pick<RouteState, 'owner' | 'request'> {
  const mark = requestMarkOf(request);
  return { ...(owner !== undefined ? { owner } : {}), ...(mark ? { request: mark } : {}) };
}

function meshRoute(route: RouteRef): MeshRoute {
  if (route.router !== 'appmesh')
    throw new InvalidInputError(`the App Mesh router cannot serve a ${route.router} route`);
  return route;
}

function meshNotFound<T>(route: MeshRoute, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Error && error.name === 'NotFoundException')
      throw new RouteNotFoundError(`App Mesh route ${routeKey(route)} does not exist: ${error.message}`);
    throw error;
  }
}

/** New weights in the targets' own order, each keeping its port; a new target takes the others' port. */
function withTargetWeights(targets: MeshWeightedTarget[], next: WeightedTarget[]): MeshWeightedTarget[] {
  const weightOf = (node: string) => next.find((t) => t.id === node)?.weight;
  const known = new Set(targets.map((t) => t.virtualNode));
  const port = targets.find((t) => t.port !== undefined)?.port;
  return [
    ...targets.map((t) => ({ ...t, weight: weightOf(t.virtualNode) ?? t.weight })),
    ...next
      .filter((t) => !known.has(t.id))
      .map((t) => ({ virtualNode: t.id, weight: t.weight, ...(port === undefined ? {} : { port }) })),
  ];
}

// --- ALB ---------------------------------------------------------------------------------------------------

interface AlbRead {
  actions: AlbAction[];
  forward: AlbAction;
  targets: WeightedTarget[];
  /** The listener's default rule changes only through ModifyListener. */
  viaListener: boolean;
}

const ALB_NOT_FOUND = new Set(['RuleNotFoundException', 'ListenerNotFoundException']);

function albRouter(traffic: TwinTraffic, call: RecordedCall): TrafficRouter {
  const describe = (route: AlbRoute): AlbRead => {
    const { actions, viaListener } = albNotFound(route, () => {
      if (route.ruleArn) {
        call('DescribeRules', route.ruleArn, false);
        const rule = traffic.describeRules({ ruleArns: [route.ruleArn] })[0];
        return { actions: rule?.Actions ?? [], viaListener: rule?.IsDefault === true };
      }
      call('DescribeListeners', route.listenerArn, false);
      const listener = traffic.describeListeners({ listenerArns: [route.listenerArn] })[0];
      return { actions: listener?.DefaultActions ?? [], viaListener: true };
    });
    const forward = actions.find((a) => a.Type === 'forward');
    const targets = forward ? tuplesOf(forward) : [];
    if (!forward || targets.length === 0)
      throw new RouteNotFoundError(`${describeAlbRoute(route)} has no forward action with target groups`);
    return { actions, forward, targets, viaListener };
  };

  return {
    async read(route) {
      const alb = albRoute(route);
      const { targets } = describe(alb);
      const arn = alb.ruleArn ?? alb.listenerArn;
      call('DescribeTags', arn, false);
      const tags = albNotFound(alb, () => traffic.describeTags([arn]))[0]?.Tags ?? [];
      return {
        weights: weightsOf(alb, targets),
        targets,
        ...marks(
          tags.find((t) => t.Key === ROLLOUT_OWNER_TAG)?.Value,
          tags.find((t) => t.Key === ROLLOUT_REQUEST_TAG)?.Value,
        ),
      };
    },

    async setWeights(route, weights) {
      const alb = albRoute(route);
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`${describeAlbRoute(alb)}: ${problem}`);
      const read = describe(alb);
      const next = withWeights(alb, read.targets, weights);
      const limit = targetsProblem('alb', next);
      if (limit) throw new WeightOutOfRangeError(`${describeAlbRoute(alb)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      const actions = read.actions.map((a) => (a === read.forward ? withTargetGroups(a, next) : a));
      if (alb.ruleArn && !read.viaListener) {
        const ruleArn = alb.ruleArn;
        call('ModifyRule', ruleArn, true, () =>
          albNotFound(alb, () => traffic.modifyRule({ ruleArn, actions })),
        );
      } else {
        call('ModifyListener', alb.listenerArn, true, () =>
          albNotFound(alb, () =>
            traffic.modifyListener({ listenerArn: alb.listenerArn, defaultActions: actions }),
          ),
        );
      }
    },

    async verifyWeights(route, weights) {
      const alb = albRoute(route);
      return sameWeights(weightsOf(alb, describe(alb).targets), weights);
    },

    async setOwner(route, owner) {
      const alb = albRoute(route);
      // The default action has no rule ARN here to tag: the listener carries the mark.
      const arn = alb.ruleArn ?? alb.listenerArn;
      if (owner === null) {
        call('RemoveTags', arn, true, () =>
          albNotFound(alb, () => traffic.removeTags([arn], [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG])),
        );
      } else {
        call('AddTags', arn, true, () =>
          albNotFound(alb, () => traffic.addTags([arn], [{ Key: ROLLOUT_OWNER_TAG, Value: owner }])),
        );
      }
    },

    async setRequest(route, request) {
      const alb = albRoute(route);
      const arn = alb.ruleArn ?? alb.listenerArn;
      if (request === null) {
        call('RemoveTags', arn, true, () =>
          albNotFound(alb, () => traffic.removeTags([arn], [ROLLOUT_REQUEST_TAG])),
        );
      } else {
        call('AddTags', arn, true, () =>
          albNotFound(alb, () => traffic.addTags([arn], [{ Key: ROLLOUT_REQUEST_TAG, Value: request }])),
        );
      }
    },
  };
}

function albRoute(route: RouteRef): AlbRoute {
  if (route.router !== 'alb')
    throw new InvalidInputError(`the ALB router cannot serve a ${route.router} route`);
  return route;
}

const describeAlbRoute = (route: AlbRoute): string =>
  route.ruleArn ? `ALB rule ${route.ruleArn}` : `default action of ALB listener ${route.listenerArn}`;

function albNotFound<T>(route: AlbRoute, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof Error && ALB_NOT_FOUND.has(error.name))
      throw new RouteNotFoundError(`${describeAlbRoute(route)} does not exist: ${error.message}`);
    throw error;
  }
}

/** A forward written the short way (TargetGroupArn only) is one group taking all the traffic. */
function tuplesOf(forward: AlbAction): WeightedTarget[] {
  const groups = forward.ForwardConfig?.TargetGroups ?? [];
  if (groups.length > 0) return groups.map((g) => ({ id: g.TargetGroupArn, weight: g.Weight ?? 1 }));
  return forward.TargetGroupArn ? [{ id: forward.TargetGroupArn, weight: 1 }] : [];
}

/** The forward with the new weights, groups in their order, new ones last; TargetGroupArn goes (ELB refuses it beside other groups). */
function withTargetGroups(forward: AlbAction, next: WeightedTarget[]): AlbAction {
  const { TargetGroupArn: _shortForm, ...rest } = forward;
  const tuples = tuplesOf(forward);
  const known = new Set(tuples.map((t) => t.id));
  const weightOf = (arn: string) => next.find((t) => t.id === arn)?.weight;
  const TargetGroups = [
    ...tuples.map((t) => ({ TargetGroupArn: t.id, Weight: weightOf(t.id) ?? t.weight })),
    ...next.filter((t) => !known.has(t.id)).map((t) => ({ TargetGroupArn: t.id, Weight: t.weight })),
  ];
  return { ...rest, ForwardConfig: { ...forward.ForwardConfig, TargetGroups } };
}

// --- route claims ----------------------------------------------------------------------------------------

/**
 * Route claims as DynamoRouteClaims keeps them (layers/adapters/aws/dynamoRouteClaims.ts): the same calls, the
 * same conditions. A refused conditional put or delete changes nothing and is recorded as the failed call it
 * is in AWS.
 */
export function twinRouteClaims(call: RecordedCall): RouteClaims {
  const holders = new Map<string, string>();
  const holder = (routeKey: string) => call('GetItem', routeKey, false, () => holders.get(routeKey));
  // The condition is checked inside the write, so a put that took effect and then timed out is retried
  // against the world it left (the same run holds it: the retry passes, as in DynamoDB).
  const conditionally = (api: string, routeKey: string, effect: () => void): boolean => {
    try {
      call(api, routeKey, true, effect);
      return true;
    } catch (error) {
      if (error instanceof TwinConditionalCheckFailedError) return false;
      throw error;
    }
  };
  return {
    async claim(routeKey, runId, replacing) {
      const claimed = conditionally('PutItem', routeKey, () => {
        const held = holders.get(routeKey);
        if (held !== undefined && held !== runId && (replacing === undefined || held !== replacing))
          throw new TwinConditionalCheckFailedError('The conditional request failed');
        holders.set(routeKey, runId);
      });
      return claimed ? { claimed: true } : { claimed: false, holder: holder(routeKey) };
    },
    async release(routeKey, runId) {
      // Nobody holds it, or another run does: either way not this run's to let go.
      conditionally('DeleteItem', routeKey, () => {
        if (holders.get(routeKey) !== runId)
          throw new TwinConditionalCheckFailedError('The conditional request failed');
        holders.delete(routeKey);
      });
    },
    async holder(routeKey) {
      return holder(routeKey);
    },
  };
}

/** DynamoDB's answer to a conditional write whose condition does not hold. */
export class TwinConditionalCheckFailedError extends Error {
  override readonly name = 'ConditionalCheckFailedException';
}

// --- metrics -----------------------------------------------------------------------------------------------

const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

/** GetMetricData over the twin's metric store, batched as the adapter batches it. */
export function twinMetrics(traffic: TwinTraffic, call: RecordedCall): MetricsSource {
  return {
    async query(queries, window) {
      // The adapter refuses what GetMetricData would refuse, before calling: the same here.
      const seen = new Set<string>();
      const issues = queries.flatMap((query, index) => {
        const problem = !QUERY_ID.test(query.id)
          ? `"${query.id}" must start with a lowercase letter, then letters, digits or underscores`
          : seen.has(query.id)
            ? `"${query.id}" is used twice`
            : undefined;
        seen.add(query.id);
        return problem ? [{ path: `queries.${index}.id`, message: problem }] : [];
      });
      if (issues.length > 0)
        throw new InvalidInputError(`metric queries GetMetricData would refuse: ${issues.length}`, issues);
      if (!(window.end.getTime() > window.start.getTime()))
        throw new InvalidInputError('metric window must end after it starts', [
          { path: 'window', message: 'end must be after start' },
        ]);
      const values: Record<string, number | undefined> = Object.fromEntries(
        queries.map((query) => [query.id, undefined]),
      );
      for (let at = 0; at < queries.length; at += MAX_QUERIES_PER_CALL) {
        const batch = queries.slice(at, at + MAX_QUERIES_PER_CALL);
        call('GetMetricData', batch.map((q) => q.id).join(','), false);
        Object.assign(values, traffic.query(batch, window));
      }
      return values;
    },
  };
}
