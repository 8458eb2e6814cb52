// A rollout's traffic over an App Mesh route's weighted targets (virtual nodes). UpdateRoute replaces the
// whole spec, so every write is: read the spec, change the weights of the stable and canary targets, write
// all of it back (match, retry policy, timeouts, priority and target ports included).
import { createHash } from 'node:crypto';
import {
  type AppMeshClient,
  DescribeRouteCommand,
  ListTagsForResourceCommand,
  type WeightedTarget as MeshWeightedTarget,
  type RouteData,
  type RouteSpec,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateRouteCommand,
} from '@aws-sdk/client-app-mesh';
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG } from '#adapters/aws/routeMarks';
import { type RouteOf, weightedRoutes } from '#adapters/aws/weightedRoutes';
import { routeKey, type WeightedTarget } from '#domain/rolloutRoutes';
import type { TrafficRouter } from '#ports';
import { RouteNotFoundError } from '#runtime/errors';
import { logger } from '#runtime/powertools';

export interface AppMeshRouterOptions {
  warn?: (message: string, extra?: object) => void;
}

export const APP_MESH_END_OF_SUPPORT = '2026-09-30';

type MeshRoute = RouteOf<'appmesh'>;

/** A route spec holds exactly one of these; each kind's action carries the weighted targets. */
const ROUTE_KINDS = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;
type RouteKind = (typeof ROUTE_KINDS)[number];

interface WeightedRoute {
  data: RouteData;
  spec: RouteSpec;
  kind: RouteKind;
  weightedTargets: MeshWeightedTarget[];
  targets: WeightedTarget[];
}

/** Per cold start: one warning is a signal, one per route read would be noise. */
let endOfSupportWarned = false;

export function appMeshRouter(
  client: Pick<AppMeshClient, 'send'>,
  options: AppMeshRouterOptions = {},
): TrafficRouter {
  const warn = options.warn ?? ((message, extra) => logger.warn(message, { ...extra }));
  /**
   * Route ARNs seen in any answer, by route key, for tagging with no look-up first. An App Mesh route's ARN
   * is made of its mesh, owner, router and route names, so a route of the same key always has the same one.
   */
  const arns = new Map<string, string>();
  const routes = weightedRoutes<'appmesh', WeightedRoute>({
    kind: 'appmesh',
    name: 'App Mesh',
    describeRoute,
    notFound: new Set(['NotFoundException']),
    onUse: warnEndOfSupport,
  });
  // On first use, not when wired: a stage that only routes through ALB rules has nothing to move.
  function warnEndOfSupport(): void {
    if (endOfSupportWarned) return;
    endOfSupportWarned = true;
    warn(
      `AWS App Mesh reached end of support on ${APP_MESH_END_OF_SUPPORT}; this router keeps working while the ` +
        'service answers, but routes should move to the ALB router (weighted target groups on a listener rule)',
      { router: 'appmesh', endOfSupport: APP_MESH_END_OF_SUPPORT, replacement: 'alb' },
    );
  }

  async function describe(route: MeshRoute): Promise<WeightedRoute> {
    const { route: data } = await client.send(new DescribeRouteCommand(routeNames(route)));
    const spec = data?.spec;
    const kind = spec && ROUTE_KINDS.find((candidate) => spec[candidate] !== undefined);
    const weightedTargets = (kind && spec[kind]?.action?.weightedTargets) || [];
    if (!data || !spec || !kind || weightedTargets.length === 0 || data.status?.status === 'DELETED')
      throw new RouteNotFoundError(`${describeRoute(route)} has no weighted targets`);
    const targets = weightedTargets.map((target) => ({
      id: target.virtualNode ?? '',
      weight: target.weight ?? 0,
    }));
    if (data.metadata?.arn) arns.set(routeKey(route), data.metadata.arn);
    return { data, spec, kind, weightedTargets, targets };
  }

  async function arnOf(route: MeshRoute): Promise<string> {
    const arn = arns.get(routeKey(route)) ?? (await describe(route)).data.metadata?.arn;
    if (!arn) throw new RouteNotFoundError(`${describeRoute(route)} has no ARN to tag`);
    return arn;
  }

  async function write(route: MeshRoute, read: WeightedRoute, next: WeightedTarget[]): Promise<void> {
    const weightedTargets = withTargetWeights(read.weightedTargets, next);
    const current = read.spec[read.kind];
    const spec: RouteSpec = {
      ...read.spec,
      [read.kind]: { ...current, action: { ...current?.action, weightedTargets } },
    };
    const clientToken = clientTokenOf(read.data, weightedTargets);
    await client.send(new UpdateRouteCommand({ ...routeNames(route), spec, clientToken }));
  }

  /**
   * The owner and request marks, from the same ListTagsForResource (one page: a route holds at most 50
   * tags, a page 100; a later page is read only when there is one).
   */
  async function marksOf(_route: MeshRoute, read: WeightedRoute) {
    const resourceArn = read.data.metadata?.arn;
    if (!resourceArn) return {};
    let owner: string | undefined;
    let request: string | undefined;
    let nextToken: string | undefined;
    do {
      const output = await client.send(
        new ListTagsForResourceCommand({ resourceArn, ...(nextToken ? { nextToken } : {}) }),
      );
      owner ??= output.tags?.find((candidate) => candidate.key === ROLLOUT_OWNER_TAG)?.value;
      request ??= output.tags?.find((candidate) => candidate.key === ROLLOUT_REQUEST_TAG)?.value;
      nextToken = owner !== undefined && request !== undefined ? undefined : output.nextToken;
    } while (nextToken);
    return { owner, request };
  }

  async function tag(route: MeshRoute, key: string, value: string): Promise<void> {
    const resourceArn = await arnOf(route);
    await client.send(new TagResourceCommand({ resourceArn, tags: [{ key, value }] }));
  }

  async function untag(route: MeshRoute, tagKeys: string[]): Promise<void> {
    const resourceArn = await arnOf(route);
    await client.send(new UntagResourceCommand({ resourceArn, tagKeys }));
  }

  return {
    read: (route) => routes.read(route, describe, marksOf),
    setWeights: (route, weights, from) => routes.setWeights(route, weights, from, describe, write),
    verifyWeights: (route, weights) => routes.verifyWeights(route, weights, describe),
    setOwner: (route, owner) =>
      routes.mark(route, (mesh) =>
        owner === null
          ? untag(mesh, [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG])
          : tag(mesh, ROLLOUT_OWNER_TAG, owner),
      ),
    setRequest: (route, request) =>
      routes.mark(route, (mesh) =>
        request === null ? untag(mesh, [ROLLOUT_REQUEST_TAG]) : tag(mesh, ROLLOUT_REQUEST_TAG, request),
      ),
  };
}

const describeRoute = (route: MeshRoute): string => `App Mesh route ${routeKey(route)}`;

const routeNames = (route: MeshRoute) => ({
  meshName: route.meshName,
  ...(route.meshOwner ? { meshOwner: route.meshOwner } : {}),
  virtualRouterName: route.virtualRouterName,
  routeName: route.routeName,
});

/**
 * The targets with the new weights, in the order they were, each keeping its port. A target the route did
 * not have yet (the canary, the first time) takes the port the others name: with several listeners on the
 * virtual nodes, a route's targets all name the listener port the route is for.
 */
function withTargetWeights(targets: MeshWeightedTarget[], next: WeightedTarget[]): MeshWeightedTarget[] {
  const weightOf = (node: string | undefined) => next.find((target) => target.id === node)?.weight;
  const known = new Set(targets.map((target) => target.virtualNode));
  const port = targets.find((target) => target.port !== undefined)?.port;
  return [
    ...targets.map((target) => ({ ...target, weight: weightOf(target.virtualNode) ?? target.weight })),
    ...next
      .filter((target) => !known.has(target.id))
      .map((target) => ({
        virtualNode: target.id,
        weight: target.weight,
        ...(port === undefined ? {} : { port }),
      })),
  ];
}

/**
 * The same write of the same route version gets the same token, so a retried request cannot apply twice;
 * the version moves on every update, so no other write ever shares it. App Mesh takes up to 36 characters.
 */
function clientTokenOf(data: RouteData, weightedTargets: MeshWeightedTarget[]): string {
  const identity = [data.metadata?.arn, data.metadata?.version, weightedTargets];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}
