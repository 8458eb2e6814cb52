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
import {
  type RouteRef,
  type RouteState,
  requestMarkOf,
  routeKey,
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
import { logger } from '#runtime/powertools';

export interface AppMeshRouterOptions {
  warn?: (message: string, extra?: object) => void;
}

export const APP_MESH_END_OF_SUPPORT = '2026-09-30';

type MeshRoute = Extract<RouteRef, { router: 'appmesh' }>;

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
  /** What each state `read` answered was read from, for the write that follows it in the same step. */
  const answers = new WeakMap<RouteState, WeightedRoute>();
  /**
   * Route ARNs seen in any answer, by route key, for tagging with no look-up first. An App Mesh route's ARN
   * is made of its mesh, owner, router and route names, so a route of the same key always has the same one.
   */
  const arns = new Map<string, string>();
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
    const output = await withRouteNotFound(route, () =>
      client.send(
        new DescribeRouteCommand({
          meshName: route.meshName,
          ...(route.meshOwner ? { meshOwner: route.meshOwner } : {}),
          virtualRouterName: route.virtualRouterName,
          routeName: route.routeName,
        }),
      ),
    );
    const data = output.route;
    const spec = data?.spec;
    const kind = spec && ROUTE_KINDS.find((candidate) => spec[candidate] !== undefined);
    const weightedTargets = (kind && spec[kind]?.action?.weightedTargets) || [];
    if (!data || !spec || !kind || weightedTargets.length === 0 || data.status?.status === 'DELETED')
      throw new RouteNotFoundError(`App Mesh route ${routeKey(route)} has no weighted targets`);
    const targets = weightedTargets.map((target) => ({
      id: target.virtualNode ?? '',
      weight: target.weight ?? 0,
    }));
    if (data.metadata?.arn) arns.set(routeKey(route), data.metadata.arn);
    return { data, spec, kind, weightedTargets, targets };
  }

  async function arnOf(route: MeshRoute): Promise<string> {
    const arn = arns.get(routeKey(route)) ?? (await describe(route)).data.metadata?.arn;
    if (!arn) throw new RouteNotFoundError(`App Mesh route ${routeKey(route)} has no ARN to tag`);
    return arn;
  }

  /**
   * The owner and request marks, from the same ListTagsForResource (one page: a route holds at most 50
   * tags, a page 100; a later page is read only when there is one).
   */
  async function marksOf(route: MeshRoute, arn: string): Promise<Pick<RouteState, 'owner' | 'request'>> {
    let owner: string | undefined;
    let request: string | undefined;
    let nextToken: string | undefined;
    do {
      const output = await withRouteNotFound(route, () =>
        client.send(
          new ListTagsForResourceCommand({ resourceArn: arn, ...(nextToken ? { nextToken } : {}) }),
        ),
      );
      owner ??= output.tags?.find((candidate) => candidate.key === ROLLOUT_OWNER_TAG)?.value;
      request ??= output.tags?.find((candidate) => candidate.key === ROLLOUT_REQUEST_TAG)?.value;
      nextToken = owner !== undefined && request !== undefined ? undefined : output.nextToken;
    } while (nextToken);
    const mark = requestMarkOf(request);
    return { ...(owner !== undefined ? { owner } : {}), ...(mark ? { request: mark } : {}) };
  }

  async function write(route: MeshRoute, read: WeightedRoute, next: WeightedTarget[]): Promise<void> {
    const weightedTargets = withTargetWeights(read.weightedTargets, next);
    const current = read.spec[read.kind];
    const spec: RouteSpec = {
      ...read.spec,
      [read.kind]: { ...current, action: { ...current?.action, weightedTargets } },
    };
    await withRouteNotFound(route, () =>
      client.send(
        new UpdateRouteCommand({
          meshName: route.meshName,
          ...(route.meshOwner ? { meshOwner: route.meshOwner } : {}),
          virtualRouterName: route.virtualRouterName,
          routeName: route.routeName,
          spec,
          clientToken: clientToken(read.data, weightedTargets),
        }),
      ),
    );
  }

  return {
    async read(route) {
      const mesh = meshRoute(route);
      warnEndOfSupport();
      const described = await describe(mesh);
      const { data, targets } = described;
      const arn = data.metadata?.arn;
      const marks = arn ? await marksOf(mesh, arn) : {};
      const state = { weights: weightsOf(mesh, targets), targets, ...marks };
      answers.set(state, described);
      return state;
    },

    async setWeights(route, weights, from) {
      const mesh = meshRoute(route);
      warnEndOfSupport();
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`App Mesh route ${routeKey(mesh)}: ${problem}`);
      const read = (from && answers.get(from)) ?? (await describe(mesh));
      const next = withWeights(mesh, read.targets, weights);
      const limit = targetsProblem('appmesh', next);
      if (limit) throw new WeightOutOfRangeError(`App Mesh route ${routeKey(mesh)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      await write(mesh, read, next);
    },

    async verifyWeights(route, weights) {
      const mesh = meshRoute(route);
      warnEndOfSupport();
      const { targets } = await describe(mesh);
      return sameWeights(weightsOf(mesh, targets), weights);
    },

    async setOwner(route, owner) {
      const mesh = meshRoute(route);
      warnEndOfSupport();
      const arn = await arnOf(mesh);
      await withRouteNotFound(mesh, () =>
        owner === null
          ? client.send(
              new UntagResourceCommand({
                resourceArn: arn,
                tagKeys: [ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG],
              }),
            )
          : client.send(
              new TagResourceCommand({ resourceArn: arn, tags: [{ key: ROLLOUT_OWNER_TAG, value: owner }] }),
            ),
      );
    },

    async setRequest(route, request) {
      const mesh = meshRoute(route);
      warnEndOfSupport();
      const arn = await arnOf(mesh);
      await withRouteNotFound(mesh, () =>
        request === null
          ? client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [ROLLOUT_REQUEST_TAG] }))
          : client.send(
              new TagResourceCommand({
                resourceArn: arn,
                tags: [{ key: ROLLOUT_REQUEST_TAG, value: request }],
              }),
            ),
      );
    },
  };
}

function meshRoute(route: RouteRef): MeshRoute {
  if (route.router !== 'appmesh')
    throw new InvalidInputError(`the App Mesh router cannot serve a ${route.router} route`);
  return route;
}

async function withRouteNotFound<T>(route: MeshRoute, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'NotFoundException')
      throw new RouteNotFoundError(`App Mesh route ${routeKey(route)} does not exist: ${error.message}`);
    throw error;
  }
}

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
function clientToken(data: RouteData, weightedTargets: MeshWeightedTarget[]): string {
  const identity = [data.metadata?.arn, data.metadata?.version, weightedTargets];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32);
}
