// Routes and weights of a progressive rollout, in the domain's words. A rollout always talks about two
// versions, stable and canary, in percent of the traffic between them; each router translates that to its
// own weights and checks its own limits before it calls anything.

/**
 * An App Mesh route whose action has weighted targets (virtual nodes), an ALB listener rule, or a VPC Lattice
 * listener rule, each forwarding to weighted target groups.
 */
export type RouteRef =
  | {
      router: 'appmesh';
      meshName: string;
      /** The mesh owner's account, for a mesh shared with this account (AWS RAM). */
      meshOwner?: string;
      virtualRouterName: string;
      routeName: string;
      /** Virtual node names of the two versions. */
      stable: string;
      canary: string;
    }
  | {
      router: 'alb';
      listenerArn: string;
      /** Absent: the listener's default action. */
      ruleArn?: string;
      /** Target group ARNs of the two versions. */
      stable: string;
      canary: string;
    }
  | {
      router: 'lattice';
      /** The listener's ARN, which names its service: `…:service/svc-…/listener/listener-…`. */
      listenerArn: string;
      /** Absent: the listener's default action. Else a rule of that listener (`<listenerArn>/rule/rule-…`). */
      ruleArn?: string;
      /** VPC Lattice target groups (ID `tg-…` or ARN) of the two versions. */
      stable: string;
      canary: string;
    };

export type RouterKind = RouteRef['router'];

/** Percent of the traffic between the two versions: integers, summing to 100. */
export interface Weights {
  stable: number;
  canary: number;
}

/** One weighted target as the router holds it (virtual node name or target group ARN, raw weight). */
export interface WeightedTarget {
  id: string;
  weight: number;
}

export interface RouteState {
  /** Stable and canary as percent of their sum (100 % stable when both are 0). */
  weights: Weights;
  /** Every weighted target of the route, raw, others included. */
  targets: WeightedTarget[];
  /** The rollout (execution name) that owns the route: a tag on the route, rule or listener. */
  owner?: string;
  /**
   * What a person asked of the rollout that owns the route, for its next step to act on (a tag next to
   * the owner's): Step Functions has no pause, and a step keeps no memory.
   */
  request?: RolloutRequest;
}

/** A person's request to a running rollout, marked on its route: wait at a gate, or promote now. */
export type RolloutRequest = 'pause' | 'promote';

/** The request a route's tag value names; anything else is no request. */
export const requestMarkOf = (value: string | undefined): RolloutRequest | undefined =>
  value === 'pause' || value === 'promote' ? value : undefined;

export interface RouterLimits {
  maxWeight: number;
  /** The most all of a route's weights may add up to, where the router sets one. */
  maxTotal?: number;
  minTargets: number;
  maxTargets: number;
}

/**
 * App Mesh: integer weights 0–100 totalling at most 100, 1–10 weighted targets. ALB forward: weights
 * 0–999, 1–5 target groups.
 * VPC Lattice forward (API reference, ForwardAction and WeightedTargetGroup): weights 0–999, 1–10 target groups.
 */
export const ROUTER_LIMITS: Record<RouterKind, RouterLimits> = {
  appmesh: { maxWeight: 100, maxTotal: 100, minTargets: 1, maxTargets: 10 },
  alb: { maxWeight: 999, minTargets: 1, maxTargets: 5 },
  lattice: { maxWeight: 999, minTargets: 1, maxTargets: 10 },
};

export const ALL_STABLE: Weights = { stable: 100, canary: 0 };
export const ALL_CANARY: Weights = { stable: 0, canary: 100 };

export const weightsFor = (canaryPercent: number): Weights => ({
  stable: 100 - canaryPercent,
  canary: canaryPercent,
});

export const sameWeights = (a: Weights, b: Weights): boolean =>
  a.stable === b.stable && a.canary === b.canary;

/** A rollout's weights: integer percent, 0..100 each, summing to 100. Undefined when they are. */
export function weightsProblem(weights: Weights): string | undefined {
  const { stable, canary } = weights;
  if (!Number.isInteger(stable) || !Number.isInteger(canary))
    return `weights must be integers (stable ${stable}, canary ${canary})`;
  if (stable < 0 || canary < 0) return `weights must not be negative (stable ${stable}, canary ${canary})`;
  if (stable + canary !== 100) return `weights must sum to 100 (stable ${stable} + canary ${canary})`;
  return undefined;
}

/**
 * The route's targets after setting stable and canary, others kept: undefined when that is within the
 * router's limits, else why not. Checked before any call.
 */
export function targetsProblem(kind: RouterKind, targets: WeightedTarget[]): string | undefined {
  const limits = ROUTER_LIMITS[kind];
  for (const t of targets) {
    if (!Number.isInteger(t.weight) || t.weight < 0 || t.weight > limits.maxWeight)
      return `${kind} weight of ${t.id} must be an integer 0..${limits.maxWeight}, not ${t.weight}`;
  }
  if (targets.length < limits.minTargets || targets.length > limits.maxTargets)
    return `${kind} takes ${limits.minTargets}..${limits.maxTargets} weighted targets, not ${targets.length}`;
  if (targets.every((t) => t.weight === 0)) return `${kind} needs at least one target with a weight above 0`;
  // Another target's weight (a mirror kept at 10) leaves stable and canary less than 100 between them.
  const total = targets.reduce((sum, t) => sum + t.weight, 0);
  if (limits.maxTotal !== undefined && total > limits.maxTotal)
    return `${kind} weights must total at most ${limits.maxTotal}, not ${total} (${targets.map((t) => `${t.id}=${t.weight}`).join(', ')})`;
  return undefined;
}

/** Sets stable and canary in a route's targets (adding either if missing), every other target kept. */
export function withWeights(route: RouteRef, targets: WeightedTarget[], weights: Weights): WeightedTarget[] {
  const rest = targets.filter((t) => t.id !== route.stable && t.id !== route.canary);
  const ordered = targets.filter((t) => t.id === route.stable || t.id === route.canary).map((t) => t.id);
  for (const id of [route.stable, route.canary]) if (!ordered.includes(id)) ordered.push(id);
  const set = ordered.map((id) => ({ id, weight: id === route.stable ? weights.stable : weights.canary }));
  return [...set, ...rest];
}

/** Stable and canary as percent of their sum, from raw router weights. */
export function weightsOf(route: RouteRef, targets: WeightedTarget[]): Weights {
  const weightOf = (id: string) => targets.find((t) => t.id === id)?.weight ?? 0;
  const stable = weightOf(route.stable);
  const canary = weightOf(route.canary);
  if (stable + canary === 0) return ALL_STABLE;
  const canaryPercent = Math.round((100 * canary) / (stable + canary));
  return weightsFor(canaryPercent);
}

/** A stable key for a route: one rollout at a time per key. */
export function routeKey(route: RouteRef): string {
  return route.router === 'appmesh'
    ? `appmesh:${route.meshOwner ? `${route.meshOwner}/` : ''}${route.meshName}/${route.virtualRouterName}/${route.routeName}`
    : `${route.router}:${route.ruleArn ?? `${route.listenerArn}#default`}`;
}

/**
 * Whether two target lists send the same traffic: a target that is missing takes none, like one that
 * weighs 0, so adding the canary at 0 to a route that never had it is no change worth a write.
 */
export function sameTargetWeights(current: WeightedTarget[], next: WeightedTarget[]): boolean {
  const weightIn = (targets: WeightedTarget[], id: string) => targets.find((t) => t.id === id)?.weight ?? 0;
  const ids = new Set([...current, ...next].map((target) => target.id));
  return [...ids].every((id) => weightIn(current, id) === weightIn(next, id));
}
