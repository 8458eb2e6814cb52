// What every router does the same way, whatever API holds the route (Flagger's shape: one small router
// interface, one small implementation per API). A router file holds its API's parts: how to read the
// route's weighted targets, how to write them back with everything else the route holds, how to tag it, its
// names and its errors. The steps around them are this file's: the read a step makes once and remembers for
// the write, the limits checked before any call, the not-found errors, the read-back.
import {
  type RouteRef,
  type RouterKind,
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
import { InvalidInputError, RouteNotFoundError, WeightOutOfRangeError } from '#runtime/errors';

export type RouteOf<K extends RouterKind> = Extract<RouteRef, { router: K }>;

/** The route as one API answered it: its weighted targets, and whatever its write needs to put back. */
type Answer = { targets: WeightedTarget[] };

/** What one API is called, and how it says a route does not exist. */
export interface WeightedRouteApi<K extends RouterKind> {
  kind: K;
  /** As a person names the API: "the ALB router cannot serve …". */
  name: string;
  /** The route in error messages. */
  describeRoute(route: RouteOf<K>): string;
  /** The error names the API answers when the route (or what holds it) does not exist. */
  notFound: ReadonlySet<string>;
  /** Called on every use of the router, once the route is known to be this API's. */
  onUse?(): void;
}

/**
 * The port's steps for one API. Each takes the API's parts (read the route, write it, read its tags) as
 * arguments rather than holding them, so that each router's port methods name the parts they reach: the
 * stage's permissions are derived from exactly that (test/infra/codeActions.ts).
 */
export function weightedRoutes<K extends RouterKind, Read extends Answer>(api: WeightedRouteApi<K>) {
  /** What each state `read` answered was read from, for the write that follows it in the same step. */
  const answers = new WeakMap<RouteState, Read>();

  function ownRoute(route: RouteRef): RouteOf<K> {
    if (route.router !== api.kind)
      throw new InvalidInputError(`the ${api.name} router cannot serve a ${route.router} route`);
    api.onUse?.();
    return route as RouteOf<K>;
  }

  async function found<T>(route: RouteOf<K>, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof Error && api.notFound.has(error.name))
        throw new RouteNotFoundError(`${api.describeRoute(route)} does not exist: ${error.message}`);
      throw error;
    }
  }

  return {
    async read(
      route: RouteRef,
      describe: (route: RouteOf<K>) => Promise<Read>,
      marksOf: (
        route: RouteOf<K>,
        read: Read,
      ) => Promise<{ owner?: string | undefined; request?: string | undefined }>,
    ): Promise<RouteState> {
      const own = ownRoute(route);
      const read = await found(own, () => describe(own));
      const { owner, request } = await found(own, () => marksOf(own, read));
      const mark = requestMarkOf(request);
      const { targets } = read;
      const state = {
        weights: weightsOf(own, targets),
        targets,
        ...(owner !== undefined ? { owner } : {}),
        ...(mark ? { request: mark } : {}),
      };
      answers.set(state, read);
      return state;
    },

    /** The limits are checked before any call; weights a route already holds are not written again. */
    async setWeights(
      route: RouteRef,
      weights: Weights,
      from: RouteState | undefined,
      describe: (route: RouteOf<K>) => Promise<Read>,
      write: (route: RouteOf<K>, read: Read, next: WeightedTarget[]) => Promise<void>,
    ): Promise<void> {
      const own = ownRoute(route);
      const problem = weightsProblem(weights);
      if (problem) throw new WeightOutOfRangeError(`${api.describeRoute(own)}: ${problem}`);
      const read = (from && answers.get(from)) ?? (await found(own, () => describe(own)));
      const next = withWeights(own, read.targets, weights);
      const limit = targetsProblem(api.kind, next);
      if (limit) throw new WeightOutOfRangeError(`${api.describeRoute(own)}: ${limit}`);
      if (sameTargetWeights(read.targets, next)) return;
      await found(own, () => write(own, read, next));
    },

    async verifyWeights(
      route: RouteRef,
      weights: Weights,
      describe: (route: RouteOf<K>) => Promise<Read>,
    ): Promise<boolean> {
      const own = ownRoute(route);
      const { targets } = await found(own, () => describe(own));
      return sameWeights(weightsOf(own, targets), weights);
    },

    /** A tag write (the owner's or a request's): the branch stays in the port method, for the permissions. */
    async mark(route: RouteRef, write: (route: RouteOf<K>) => Promise<void>): Promise<void> {
      const own = ownRoute(route);
      await found(own, () => write(own));
    },
  };
}
