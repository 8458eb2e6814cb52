// The routes this stack may roll out on, as configuration declares them (OPS_ROUTES), each with the services
// that are its stable and canary versions. A rollout request is a claim: it may name only a declared route,
// and scale down only that route's own services. Anything else is refused before anything is written.
import { type RouteRef, routeKey } from '#domain/rolloutRoutes';

export interface ServiceRef {
  cluster: string;
  service: string;
}

export interface DeclaredRoute {
  /** The name the ops API and the CLI use for the route. */
  name: string;
  route: RouteRef;
  /** The ECS services behind the route's two versions: the only services a rollout on it may scale. */
  services?: { stable?: ServiceRef; canary?: ServiceRef };
}

/** What a rollout request names that the allowance looks at. */
export interface RolloutClaim {
  route: RouteRef;
  promote: { scaleDownStable?: ServiceRef };
  rollback: { scaleDownCanary?: ServiceRef };
}

export type Allowance =
  | { allowed: true; declared: DeclaredRoute }
  | { allowed: false; problems: { path: string; message: string }[] };

/** The same route: same router, same resource, same stable and canary (optional fields compared too). */
export function sameRoute(a: RouteRef, b: RouteRef): boolean {
  return (
    routeKey(a) === routeKey(b) &&
    a.stable === b.stable &&
    a.canary === b.canary &&
    canonical(a) === canonical(b)
  );
}

const canonical = (route: RouteRef): string =>
  JSON.stringify(
    Object.entries(route)
      .filter(([, value]) => value !== undefined)
      .sort(([x], [y]) => x.localeCompare(y)),
  );

const sameService = (a: ServiceRef | undefined, b: ServiceRef): boolean =>
  a !== undefined && a.cluster === b.cluster && a.service === b.service;

/**
 * Whether a rollout may run as asked: its route is declared (exactly, stable and canary included), and each
 * service it would scale down is that route's declared stable (after promotion) or canary (after rollback).
 */
export function rolloutAllowance(claim: RolloutClaim, declared: readonly DeclaredRoute[]): Allowance {
  const found = declared.find((d) => sameRoute(d.route, claim.route));
  if (!found)
    return {
      allowed: false,
      problems: [
        {
          path: 'route',
          message: `route ${routeKey(claim.route)} (stable ${claim.route.stable}, canary ${claim.route.canary}) is not a configured route`,
        },
      ],
    };
  const problems: { path: string; message: string }[] = [];
  const stable = claim.promote.scaleDownStable;
  if (stable && !sameService(found.services?.stable, stable))
    problems.push({
      path: 'promote.scaleDownStable',
      message: `${stable.cluster}/${stable.service} is not the stable service route ${found.name} declares (${describe(found.services?.stable)})`,
    });
  const canary = claim.rollback.scaleDownCanary;
  if (canary && !sameService(found.services?.canary, canary))
    problems.push({
      path: 'rollback.scaleDownCanary',
      message: `${canary.cluster}/${canary.service} is not the canary service route ${found.name} declares (${describe(found.services?.canary)})`,
    });
  return problems.length > 0 ? { allowed: false, problems } : { allowed: true, declared: found };
}

const describe = (service: ServiceRef | undefined) =>
  service ? `${service.cluster}/${service.service}` : 'none';
