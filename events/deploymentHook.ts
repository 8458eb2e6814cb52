import * as z from 'zod';
import { HOOK_STAGES, type HookCheck, type HookSettings, type HookState } from '#domain/deploymentHook';
import { checksBudgetProblem } from '#domain/trafficChecks';
import { hasThreshold, TrafficCheckListSchema, threshold } from '#events/rollout';

/*
 * What ECS sends a deployment lifecycle hook (the developer guide's "Lifecycle payloads"), the settings a
 * service gives the hook, and the state the hook keeps in hookDetails. The payload is a claim: the use
 * case confirms every ARN in it with ECS before answering anything but an error.
 */

const Name = z.string().min(1).max(255);
const arnOf = (resource: string) =>
  z
    .string()
    .max(1600)
    .regex(
      new RegExp(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\\d{12}:${resource}/[^/]+/[^/]+(/[^/]+)?$`),
      `an ECS ${resource} ARN`,
    );

export const ServiceArn = arnOf('service');
export const ServiceRevisionArn = arnOf('service-revision');
export const ServiceDeploymentArn = arnOf('service-deployment');

/** Weights by service revision ARN, percent; `{}` at stages where that traffic does not move. */
const Weights = z.record(ServiceRevisionArn, z.number().min(0).max(100));

export const HookPayloadSchema = z.object({
  executionId: z.string().min(1).max(128),
  lifecycleStage: z.enum(HOOK_STAGES),
  resourceArn: ServiceDeploymentArn,
  executionDetails: z.object({
    serviceArn: ServiceArn,
    targetServiceRevisionArn: ServiceRevisionArn,
    testTrafficWeights: Weights,
    productionTrafficWeights: Weights,
  }),
  /** What the service configured for the hook, merged by ECS with what the last IN_PROGRESS returned. */
  hookDetails: z.record(z.string(), z.unknown()).optional(),
});
export type HookPayload = z.infer<typeof HookPayloadSchema>;

/** The key of the hook's settings in the hookDetails a service configures for it. */
export const HOOK_SETTINGS_KEY = 'ecsReflex';

const HookCheckSchema = z.discriminatedUnion('kind', [
  z
    .strictObject({
      name: Name,
      kind: z.literal('errorRate'),
      minRequests: z.number().int().min(1).default(100),
      ...threshold,
      max: z.number().min(0).max(1).optional(),
    })
    .refine(hasThreshold, 'an errorRate check needs max or maxRelativeToStable'),
  z
    .strictObject({
      name: Name,
      kind: z.literal('latency'),
      percentile: z.number().min(50).max(99.9),
      minRequests: z.number().int().min(1).default(100),
      ...threshold,
    })
    .refine(hasThreshold, 'a latency check needs max (ms) or maxRelativeToStable'),
  z.strictObject({ name: Name, kind: z.literal('alarm'), alarmName: Name }),
  z.strictObject({
    name: Name,
    kind: z.literal('targetHealth'),
    minHealthyPercent: z.number().min(0).max(100).default(100),
  }),
]) as unknown as z.ZodType<HookCheck>;

const distinct = <T>(items: T[], key: (item: T) => unknown) => new Set(items.map(key)).size === items.length;

/** Strict: a misspelt setting in something that decides whether production rolls back is an error. */
export const HookSettingsSchema = z.strictObject({
  checks: z
    .array(HookCheckSchema)
    .max(20)
    .refine((checks) => distinct(checks, (c) => c.name), 'check names repeat')
    .default([]),
  /** Tests before traffic at the stages named: the rollouts' http and lambda checks, one list per stage. */
  tests: z
    .array(
      z
        .strictObject({ stage: z.enum(HOOK_STAGES), checks: TrafficCheckListSchema.min(1) })
        .superRefine((tests, ctx) => {
          // They run inside one invocation, beside the analysis's reads (the function stops at 45 s).
          const budget = checksBudgetProblem(tests.checks);
          if (budget) ctx.addIssue({ code: 'custom', path: ['checks'], message: budget });
        }),
    )
    .max(HOOK_STAGES.length)
    .refine((tests) => distinct(tests, (t) => t.stage), 'one list of tests per stage')
    .default([]),
  guardAlarms: z
    .array(Name)
    .max(20)
    .refine((names) => distinct(names, (n) => n), 'guard alarms repeat')
    .default([]),
  limits: z
    .strictObject({
      intervalSeconds: z.number().int().min(5).max(300).default(60),
      passesRequired: z.number().int().min(1).max(20).default(1),
      failureLimit: z.number().int().min(0).max(20).default(0),
      inconclusiveLimit: z.number().int().min(0).max(60).default(10),
      errorLimit: z.number().int().min(0).max(20).default(3),
    })
    .prefault({}),
  gates: z
    .array(
      z.strictObject({
        stage: z.enum(HOOK_STAGES),
        // A Lambda hook's own timeout is 1..1440 minutes (timeoutConfiguration); a gate ends before it.
        timeoutSeconds: z
          .number()
          .int()
          .min(60)
          .max(23 * 3600)
          .default(3600),
      }),
    )
    .max(HOOK_STAGES.length)
    .refine((gates) => distinct(gates, (g) => g.stage), 'one gate per stage')
    .default([]),
}) as unknown as z.ZodType<HookSettings>;

const Counts = z.strictObject({
  failures: z.number().int().min(0),
  inconclusive: z.number().int().min(0),
  errors: z.number().int().min(0),
});
const Result = z.enum(['pass', 'fail', 'inconclusive', 'error']);
const Instant = z.iso.datetime();

export const HookStateSchema = z.strictObject({
  stage: z.enum(HOOK_STAGES),
  weight: z.number().min(0).max(100),
  startedAt: Instant,
  windowStart: Instant,
  counts: Counts,
  passes: z.number().int().min(0),
  analyses: z.number().int().min(0),
  analysed: z.boolean().optional(),
  gateOpenedAt: Instant.optional(),
  last: z
    .strictObject({
      at: Instant,
      result: Result,
      outcomes: z.array(z.strictObject({ check: Name, result: Result })).max(41),
    })
    .optional(),
  tests: z
    .strictObject({
      counts: Counts,
      runs: z.number().int().min(0),
      passed: z.boolean().optional(),
      last: z
        .strictObject({
          at: Instant,
          result: Result,
          // At most 10 checks, or the one error saying they did not run.
          outcomes: z.array(z.strictObject({ check: Name, result: Result })).max(10),
        })
        .optional(),
    })
    .optional(),
}) as unknown as z.ZodType<HookState>;

/** The services the stack's hook serves, with their default settings (DEPLOYMENT_HOOK_SERVICES). */
export const HookServicesSchema = z
  .array(
    z.strictObject({
      cluster: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'a cluster name'),
      service: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'a service name'),
      settings: HookSettingsSchema.optional(),
    }),
  )
  .max(100);
export type HookService = z.infer<typeof HookServicesSchema>[number];
