import * as z from 'zod';
import type { CheckSpec, MetricSourceSpec } from '#domain/rolloutAnalysis';
import { ROUTER_LIMITS, type RouteRef } from '#domain/rolloutRoutes';
import { gatesProblem, MAX_STEPS, planSteps, type Schedule, scheduleProblem } from '#domain/rolloutSchedule';
import { checksBudgetProblem, TrafficCheckSchema } from '#domain/trafficChecks';

/*
 * What a rollout is asked to do: the input of the rollout workflow, checked by its first step (and, later,
 * by the ops API, which shares this schema). Strict: a misspelt field in something that moves production
 * traffic is an error, not a default.
 */

const Name = z.string().min(1).max(255);
const Arn = z.string().regex(/^arn:[^:]+:[^:]+:/, 'an ARN');
/** VPC Lattice's patterns (API reference): a listener ARN names its service, a rule ARN its listener. */
const LATTICE_LISTENER_ARN =
  /^arn:[a-z0-9-]+:vpc-lattice:[a-zA-Z0-9-]+:\d{12}:service\/svc-[0-9a-z]{17}\/listener\/listener-[0-9a-z]{17}$/;
const LATTICE_RULE_ARN = /^(.*)\/rule\/rule-[0-9a-z]{17}$/;
const LatticeTargetGroup = z
  .string()
  .regex(
    /^((tg-[0-9a-z]{17})|(arn:[a-z0-9-]+:vpc-lattice:[a-zA-Z0-9-]+:\d{12}:targetgroup\/tg-[0-9a-z]{17}))$/,
    'a VPC Lattice target group ID (tg-…) or ARN',
  );

export const RouteSchema: z.ZodType<RouteRef> = z.discriminatedUnion('router', [
  z.strictObject({
    router: z.literal('appmesh'),
    meshName: Name,
    meshOwner: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit account id')
      .optional(),
    virtualRouterName: Name,
    routeName: Name,
    stable: Name,
    canary: Name,
  }),
  z.strictObject({
    router: z.literal('alb'),
    listenerArn: Arn,
    ruleArn: Arn.optional(),
    stable: Arn,
    canary: Arn,
  }),
  z
    .strictObject({
      router: z.literal('lattice'),
      listenerArn: z
        .string()
        .regex(LATTICE_LISTENER_ARN, 'a VPC Lattice listener ARN (…:service/svc-…/listener/listener-…)'),
      ruleArn: z
        .string()
        .regex(LATTICE_RULE_ARN, 'a VPC Lattice rule ARN (<listener ARN>/rule/rule-…)')
        .optional(),
      stable: LatticeTargetGroup,
      canary: LatticeTargetGroup,
    })
    .refine((route) => !route.ruleArn || LATTICE_RULE_ARN.exec(route.ruleArn)?.[1] === route.listenerArn, {
      path: ['ruleArn'],
      message: 'the rule must be a rule of the listener named',
    }),
]);

/** Marks an issue as a repeated item: the ops API answers it with 422 rather than 400. */
export const DUPLICATE_ISSUE = 'duplicate';

/**
 * A list of at most `max` items, none repeated (by `key`): every list a request can carry is bounded
 * (in the schema, so the OpenAPI document says so too) and a repeat is named with both its places.
 */
function distinctList<T extends z.ZodType>(
  item: T,
  max: number,
  what: string,
  key: (value: z.output<T>) => unknown = (value) => value,
) {
  return z
    .array(item)
    .max(max)
    .superRefine((items, ctx) => {
      const seen = new Map<unknown, number>();
      items.forEach((value, i) => {
        const k = key(value);
        const first = seen.get(k);
        if (first === undefined) seen.set(k, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `${what} ${JSON.stringify(k)} is repeated (first at ${first})`,
            params: { kind: DUPLICATE_ISSUE },
            // Aborting: the checks that read the whole list (weights rising, gates in range) would only
            // say the same thing less clearly.
            continue: false,
          });
      });
    })
    .meta({ uniqueItems: true });
}

const Percent = z.number().int().min(1).max(100);
const Seconds = z.number().int().min(1);

const ScheduleSchema: z.ZodType<Schedule> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('canary'), weight: Percent, bakeSeconds: Seconds }),
  z.strictObject({
    kind: z.literal('linear'),
    stepWeight: Percent,
    maxWeight: Percent,
    intervalSeconds: Seconds,
  }),
  z.strictObject({
    kind: z.literal('weights'),
    weights: distinctList(Percent, MAX_STEPS, 'weight').min(1),
    bakeSeconds: Seconds,
  }),
]);

const MetricSourceSchema: z.ZodType<MetricSourceSpec> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('alb'),
    loadBalancer: z.string().regex(/^app\/[^/]+\/[^/]+$/, 'app/NAME/ID'),
    stableTargetGroup: z.string().regex(/^targetgroup\/[^/]+\/[^/]+$/, 'targetgroup/NAME/ID'),
    canaryTargetGroup: z.string().regex(/^targetgroup\/[^/]+\/[^/]+$/, 'targetgroup/NAME/ID'),
  }),
  z.strictObject({
    kind: z.literal('envoy'),
    namespace: Name.default('AppMesh/Envoy'),
    mesh: Name,
    stableVirtualNode: Name,
    canaryVirtualNode: Name,
    names: z
      .strictObject({ requests: Name.optional(), errors: Name.optional(), latency: Name.optional() })
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('lattice'),
    stableTargetGroup: z.string().regex(/^tg-[0-9a-z]{17}$/, 'a VPC Lattice target group ID (tg-…)'),
    canaryTargetGroup: z.string().regex(/^tg-[0-9a-z]{17}$/, 'a VPC Lattice target group ID (tg-…)'),
  }),
]) as z.ZodType<MetricSourceSpec>;

/** A metric check's limit, absolute or against stable: shared with the deployment hook's checks. */
export const threshold = {
  max: z.number().min(0).optional(),
  maxRelativeToStable: z.number().positive().optional(),
};

export const hasThreshold = (check: { max?: number; maxRelativeToStable?: number }) =>
  check.max !== undefined || check.maxRelativeToStable !== undefined;

const CheckSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      name: Name,
      kind: z.literal('errorRate'),
      source: MetricSourceSchema,
      minRequests: z.number().int().min(1).default(100),
      ...threshold,
      max: z.number().min(0).max(1).optional(),
    })
    .refine(hasThreshold, 'an errorRate check needs max or maxRelativeToStable'),
  z
    .strictObject({
      name: Name,
      kind: z.literal('latency'),
      source: MetricSourceSchema,
      percentile: z.number().min(50).max(99.9),
      minRequests: z.number().int().min(1).default(100),
      ...threshold,
    })
    .refine(hasThreshold, 'a latency check needs max (ms) or maxRelativeToStable'),
  z.strictObject({ name: Name, kind: z.literal('alarm'), alarmName: Name }),
  z.strictObject({
    name: Name,
    kind: z.literal('targetHealth'),
    targetGroupArn: Arn,
    minHealthyPercent: z.number().min(0).max(100).default(100),
  }),
]) as unknown as z.ZodType<CheckSpec>;

const ServiceRef = z.strictObject({ cluster: Name, service: Name });

/**
 * A route this stack may roll out on (OPS_ROUTES, the stage's opsRoutes): its name, the route, and the
 * services behind its stable and canary versions, the only ones a rollout on it may scale down.
 */
/** Tests before traffic: at most 10, distinct names (a rollout's `beforeTraffic`, a hook stage's `checks`). */
export const TrafficCheckListSchema = distinctList(
  TrafficCheckSchema,
  10,
  'check name',
  (check) => check.name,
);

export const DeclaredRouteSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a route name'),
  route: RouteSchema,
  services: z.strictObject({ stable: ServiceRef.optional(), canary: ServiceRef.optional() }).optional(),
});

export const RolloutSpecSchema = z
  .strictObject({
    /** Shown in logs, notifications and the ops API. */
    service: Name,
    route: RouteSchema,
    schedule: ScheduleSchema,
    /**
     * Steps (0-based) after whose passing analysis a person must resume the rollout. A gate waits 24 hours
     * (the workflow's WaitForPerson timeout), then the rollout rolls back.
     */
    gates: distinctList(z.number().int().min(0), MAX_STEPS, 'gate').default([]),
    analysis: z
      .strictObject({
        checks: distinctList(CheckSchema, 20, 'check name', (check) => check.name).default([]),
        /** Re-analysis interval after a failed or inconclusive run, at the same weight. */
        intervalSeconds: z.number().int().min(60).max(3600).default(60),
        // Bounded: each run is a few history events, and the execution's history holds 25,000.
        failureLimit: z.number().int().min(0).max(20).default(0),
        inconclusiveLimit: z.number().int().min(0).max(20).default(2),
        errorLimit: z.number().int().min(0).max(20).default(3),
      })
      .prefault({}),
    /**
     * Tests before traffic: run before the first weight shift, judged as an analysis run (the same limits
     * and counts); nothing is shifted unless they pass.
     */
    beforeTraffic: TrafficCheckListSchema.default([]),
    /** Alarms whose ALARM aborts the rollout at once (the alarm event, not the next analysis). */
    guardAlarms: distinctList(Name, 20, 'guard alarm').default([]),
    /** A weight set by hand during the rollout: wait at a gate for a person, or roll back. */
    onManualChange: z.enum(['pause', 'abort']).default('pause'),
    promote: z
      .strictObject({
        /** The old version's service, scaled to zero after the delay once the new one takes all traffic. */
        scaleDownStable: ServiceRef.extend({
          delaySeconds: z.number().int().min(0).max(86400).default(600),
        }).optional(),
      })
      .prefault({}),
    rollback: z.strictObject({ scaleDownCanary: ServiceRef.optional() }).prefault({}),
  })
  .superRefine((spec, ctx) => {
    const problem = scheduleProblem(spec.schedule);
    if (problem) {
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: problem });
      return;
    }
    const budget = checksBudgetProblem(spec.beforeTraffic);
    if (budget) ctx.addIssue({ code: 'custom', path: ['beforeTraffic'], message: budget });
    const gates = gatesProblem(spec.gates, planSteps(spec.schedule).length);
    if (gates) ctx.addIssue({ code: 'custom', path: ['gates'], message: gates });
    // Lattice names a target group by ID or ARN: the same group either way is the same target.
    const targetOf = (id: string) =>
      spec.route.router === 'lattice' ? id.slice(id.lastIndexOf('/') + 1) : id;
    if (targetOf(spec.route.stable) === targetOf(spec.route.canary))
      ctx.addIssue({
        code: 'custom',
        path: ['route', 'canary'],
        message: 'canary and stable are the same target',
      });
    const maxWeight = ROUTER_LIMITS[spec.route.router].maxWeight;
    if (maxWeight < 100)
      ctx.addIssue({
        code: 'custom',
        path: ['route', 'router'],
        message: `router weights stop at ${maxWeight}`,
      });
  });

export type RolloutSpec = z.infer<typeof RolloutSpecSchema>;
export type RolloutSpecInput = z.input<typeof RolloutSpecSchema>;

/** The rollout request inside a workflow run's input (`{ "rollout": ... }`), or undefined when it is not one. */
export function rolloutRequestOf(input: unknown): RolloutSpec | undefined {
  const rollout = (input as { rollout?: unknown } | null)?.rollout;
  const parsed = RolloutSpecSchema.safeParse(rollout);
  return parsed.success ? parsed.data : undefined;
}

/**
 * What a rollback needs of a request, read leniently (unknown fields pass): the safety net restores a
 * route even when the request would not pass a newer, stricter schema.
 */
export const RestoreSchema = z.looseObject({
  service: z.string().default('unknown service'),
  route: RouteSchema,
  rollback: z.looseObject({ scaleDownCanary: ServiceRef.optional() }).prefault({}),
});
