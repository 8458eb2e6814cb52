import * as z from 'zod';
import { DeclaredRouteSchema, RolloutSpecSchema, RouteSchema } from '#events/rollout';

/*
 * The ops API's contract: every route with the zod schemas of its path, query and body, and of its
 * answer. The handlers validate with these schemas and the OpenAPI document is generated from them
 * (events/openapi.ts), so the two cannot disagree.
 */

const Name = z.string().min(1).max(255);
// Write bodies are strict: a misspelt `dryRun` must be a 400, never a write that really runs.
const DryRun = z.boolean().default(false).describe('log what would be done, do nothing');
const Reason = z.string().max(500).optional();
/** A write that takes only why it is done and a dry-run flag (abort, recycle), both optional. */
const ReasonedWrite = z.strictObject({ reason: Reason, dryRun: DryRun }).default({ dryRun: false });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    /** The fields at fault: JSON pointer-ish paths into the request (`body.schedule.weight`). */
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .describe('RFC 9457 problem details');

const WeightsSchema = z.object({ stable: z.number().int(), canary: z.number().int() });

const ActionSchema = z.object({
  at: z.string(),
  reflex: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string(),
  outcome: z.enum(['done', 'dry-run', 'held', 'failed']),
  /** What the reflex logged with it: a shift's weights (`from`, `to`), an analysis's `outcomes`, ... */
  detail: z.record(z.string(), z.unknown()).optional(),
});

const RunStatusSchema = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']);

const RolloutSummarySchema = z.object({
  name: z.string(),
  status: RunStatusSchema,
  startDate: z.string(),
  stopDate: z.string().optional(),
});

const RolloutViewSchema = RolloutSummarySchema.extend({
  service: z.string().optional(),
  route: z.string().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  /**
   * Where it is: the step (1-based; 0 before the first shift) whose weights it wrote last and judges or
   * waits after, of `steps` before promotion; the weights the route holds; what comes next.
   */
  step: z.number().int().optional(),
  steps: z.number().int().optional(),
  weights: WeightsSchema.optional(),
  next: z.string().optional(),
  /** While it waits at a gate: why, since when, and when it rolls back unless a person answers. */
  gate: z
    .object({
      reason: z.string(),
      /** The step it waits after: the view's `step`. */
      afterStep: z.number().int(),
      /** Left out while the gate's journal line has not reached the action history yet. */
      since: z.string().optional(),
      rollsBackAt: z.string().optional(),
      secondsLeft: z.number().int().optional(),
    })
    .optional(),
  lastAnalysis: z
    .object({
      at: z.string(),
      result: z.string(),
      outcomes: z.array(z.object({ check: z.string(), result: z.string(), reason: z.string() }).loose()),
    })
    .optional(),
  /** The rollout's actions (shifts, analyses, gates, promotion or rollback), oldest first. */
  history: z.array(ActionSchema),
});

const RouteViewSchema = z.object({
  name: z.string(),
  key: z.string(),
  /** As declared: what a rollout request on this route names, and the services behind it. */
  route: RouteSchema,
  services: DeclaredRouteSchema.shape.services,
  weights: WeightsSchema,
  targets: z.array(z.object({ id: z.string(), weight: z.number() })),
  owner: z.string().optional(),
});

const ServiceViewSchema = z.object({
  cluster: z.string(),
  name: z.string(),
  desired: z.number().int(),
  running: z.number().int(),
  pending: z.number().int(),
  taskDefinition: z.string(),
  deployments: z.array(
    z.object({
      id: z.string(),
      status: z.string(),
      taskDefinition: z.string(),
      rolloutState: z.string().optional(),
    }),
  ),
  targetGroups: z.array(z.string()),
  /** The service's tasks as its target groups see them (initial, draining and unused count as other). */
  taskHealth: z.object({ healthy: z.number().int(), unhealthy: z.number().int(), other: z.number().int() }),
  recentActions: z.array(ActionSchema),
});

const TargetHealthSchema = z.object({
  targetGroupArn: z.string(),
  targets: z.array(z.object({ id: z.string(), port: z.number().optional(), state: z.string() })),
});

/** The reflexes other than rollouts, as they stand (GET /reflexes); each says whether it runs in dry-run. */
const ReflexesViewSchema = z.object({
  alarmReactor: z.object({
    dryRun: z.boolean(),
    /** Each knob a reaction has changed and not yet put back: what it was, what it is, why, until when. */
    changes: z.array(
      z.object({
        reaction: z.string(),
        target: z.string(),
        knob: z.string(),
        alarm: z.string(),
        from: z.string(),
        to: z.string(),
        since: z.string(),
        /** Recorded before the write: the knob may not show the change yet. */
        pending: z.boolean().optional(),
        reverts: z.string(),
        /** With an expiry: when the knob goes back even if the alarm lasts. */
        revertsAt: z.string().optional(),
        secondsLeft: z.number().int().optional(),
      }),
    ),
  }),
  taskRecycler: z.object({
    dryRun: z.boolean(),
    /** Standalone tasks the recycler stopped restarting, most recent first. */
    gaveUp: z.array(
      z.object({
        at: z.string(),
        taskArn: z.string(),
        cluster: z.string().optional(),
        reason: z.string(),
        outcome: z.string(),
      }),
    ),
    /** Running tasks marked unhealthy in a watched target group: stopped once the grace ends (blast radius permitting). */
    unhealthy: z.array(
      z.object({
        cluster: z.string(),
        group: z.string(),
        taskArn: z.string(),
        since: z.string(),
        stopsAt: z.string(),
        secondsLeft: z.number().int(),
      }),
    ),
  }),
  instanceLifecycle: z.object({
    dryRun: z.boolean(),
    /** Lifecycle actions the reflex holds: when Auto Scaling applies the hook's default result unless it hears more. */
    actions: z.array(
      z.object({
        run: z.string(),
        transition: z.enum(['launch', 'terminate']),
        group: z.string(),
        hook: z.string(),
        instanceId: z.string(),
        cluster: z.string(),
        startedAt: z.string(),
        lastHeartbeatAt: z.string().optional(),
        heartbeatTimeoutSeconds: z.number().int().optional(),
        defaultResult: z.enum(['CONTINUE', 'ABANDON']).optional(),
        expiresAt: z.string().optional(),
        secondsLeft: z.number().int().optional(),
      }),
    ),
  }),
  /** Every dead-letter queue of the stack: a message here is input a reflex could not take. */
  deadLetters: z.array(
    z.object({
      queue: z.string(),
      url: z.string(),
      messages: z.number().int().optional(),
      inFlight: z.number().int().optional(),
      /** The queue is gone (deleted by hand): nothing can be parked in it. */
      missing: z.boolean().optional(),
    }),
  ),
});

const OutcomeSchema = z
  .object({
    check: z.string(),
    result: z.enum(['pass', 'fail', 'inconclusive', 'error']),
    canary: z.number().optional(),
    stable: z.number().optional(),
    limit: z.number().optional(),
    reason: z.string(),
  })
  .loose();
const AnalysisSchema = z.object({
  at: z.string(),
  result: z.enum(['pass', 'fail', 'inconclusive', 'error']),
  outcomes: z.array(OutcomeSchema),
});
const HookStatusSchema = z.enum(['SUCCEEDED', 'FAILED', 'IN_PROGRESS']);
const GateAnswerSchema = z.object({ decision: z.enum(['resume', 'abort']), by: z.string(), at: z.string() });
/** A hook gate: waiting (until when, and a person's answer the hook has yet to read), or how it closed. */
const HookGateSchema = z.object({
  status: z.enum(['waiting', 'resumed', 'aborted', 'timed-out']),
  openedAt: z.string().optional(),
  timesOutAt: z.string().optional(),
  secondsLeft: z.number().int().optional(),
  /** Resumed or aborted: who (the signed caller) and when the ops API took the answer. */
  by: z.string().optional(),
  at: z.string().optional(),
  answered: GateAnswerSchema.optional(),
});
const RevisionShareSchema = z.object({
  arn: z.string(),
  productionWeight: z.number(),
  testWeight: z.number(),
});

/** An ECS native deployment as ECS describes it, with the deployment hook's answers at each stage. */
const NativeDeploymentViewSchema = z.object({
  cluster: z.string(),
  service: z.string(),
  id: z.string(),
  arn: z.string(),
  status: z.string(),
  statusReason: z.string().optional(),
  strategy: z.string().optional(),
  lifecycleStage: z.string().optional(),
  sourceRevisions: z.array(RevisionShareSchema),
  targetRevision: RevisionShareSchema,
  createdAt: z.string().optional(),
  finishedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  rollback: z.object({ reason: z.string().optional(), startedAt: z.string().optional() }).optional(),
  /** ECS's own state of each hook run (lifecycleHookDetails): where it is, not what it answered. */
  hookRuns: z.array(
    z.object({
      hookTargetArn: z.string().optional(),
      status: z.string().optional(),
      expiresAt: z.string().optional(),
    }),
  ),
  /** Each stage the hook answered at, in order: its latest answer, its analyses, its gate. */
  stages: z.array(
    z.object({
      stage: z.string(),
      answer: HookStatusSchema,
      reason: z.string(),
      firstAt: z.string(),
      lastAt: z.string(),
      invocations: z.number().int(),
      analyses: z.array(AnalysisSchema),
      gate: HookGateSchema.optional(),
    }),
  ),
  /** The gate the deployment waits at now, if any: what POST …/resume and …/abort answer. */
  gate: HookGateSchema.extend({ stage: z.string() }).optional(),
  /** The hook's last SUCCEEDED or FAILED, and why. */
  verdict: z
    .object({ stage: z.string(), hookStatus: HookStatusSchema, reason: z.string(), at: z.string() })
    .optional(),
  lastAnswerAt: z.string().optional(),
  /** One service's view only: every answer of the hook, oldest first. */
  history: z
    .array(
      z.object({
        at: z.string(),
        stage: z.string(),
        hookStatus: HookStatusSchema,
        reason: z.string(),
        callBackDelay: z.number().optional(),
        result: z.enum(['pass', 'fail', 'inconclusive', 'error']).optional(),
        outcomes: z.array(OutcomeSchema).optional(),
        gate: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
});

const DeploymentsViewSchema = z.object({
  deployments: z.array(NativeDeploymentViewSchema),
  truncated: z
    .literal(true)
    .optional()
    .describe("a service's journal held more lines than one view reads: its oldest verdicts may be missing"),
});

const Accepted = z.object({ status: z.string(), dryRun: z.boolean(), detail: z.string() });

export type Access = 'read' | 'write';

export interface OpsRoute {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT';
  /** API Gateway route syntax: `{name}` is one path segment. */
  path: string;
  summary: string;
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success status and the answer's schema. */
  status: number;
  response: z.ZodType;
  /** Error statuses this route can answer, beyond 400 / 403 / 413 / 429 / 500. */
  errors: number[];
}

const RolloutName = z.object({ name: Name.regex(/^[A-Za-z0-9_-]{1,80}$/, 'an execution name') });
const ServiceRef = z.object({ cluster: Name, service: Name });

export const opsRoutes: OpsRoute[] = [
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/openapi.json',
    summary: 'This API, as an OpenAPI 3.1 document',
    access: 'read',
    status: 200,
    response: z.record(z.string(), z.unknown()),
    errors: [],
  },
  {
    operationId: 'listRollouts',
    method: 'GET',
    path: '/rollouts',
    summary: 'Rollouts, newest first',
    access: 'read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
    status: 200,
    response: z.object({ rollouts: z.array(RolloutSummarySchema) }),
    errors: [],
  },
  {
    operationId: 'startRollout',
    method: 'POST',
    path: '/rollouts',
    summary: 'Start a rollout (refused while another rollout owns the route)',
    access: 'write',
    body: z.strictObject({
      name: RolloutName.shape.name.optional().describe('execution name; generated when absent'),
      rollout: RolloutSpecSchema,
      dryRun: DryRun,
    }),
    status: 202,
    response: Accepted.extend({ name: z.string() }),
    errors: [409, 422],
  },
  {
    operationId: 'getRollout',
    method: 'GET',
    path: '/rollouts/{name}',
    summary: 'One rollout: state, step, weights, analysis results and its history',
    access: 'read',
    params: RolloutName,
    status: 200,
    response: RolloutViewSchema,
    errors: [404],
  },
  ...(['pause', 'resume', 'promote', 'abort'] as const).map(
    (verb): OpsRoute => ({
      operationId: `${verb}Rollout`,
      method: 'POST',
      path: `/rollouts/{name}/${verb}`,
      summary: {
        pause: 'Pause a rollout at its next step (it waits at a gate)',
        resume: 'Resume a rollout waiting at a gate',
        promote: 'Promote a rollout now, skipping its remaining steps',
        abort: 'Abort a rollout: all traffic back on stable',
      }[verb],
      access: 'write',
      params: RolloutName,
      body: ReasonedWrite,
      status: 202,
      response: Accepted,
      errors: [404, 409, 422],
    }),
  ),
  {
    operationId: 'listRoutes',
    method: 'GET',
    path: '/routes',
    summary: 'The configured routes and their weights',
    access: 'read',
    status: 200,
    response: z.object({ routes: z.array(RouteViewSchema) }),
    errors: [],
  },
  {
    operationId: 'getRoute',
    method: 'GET',
    path: '/routes/{route}',
    summary: 'A configured route and its weights',
    access: 'read',
    params: z.object({ route: Name }),
    status: 200,
    response: RouteViewSchema,
    errors: [404],
  },
  {
    operationId: 'setRouteWeights',
    method: 'PUT',
    path: '/routes/{route}/weights',
    summary: "Set a route's weights by hand (refused while a rollout owns it, unless forced)",
    access: 'write',
    params: z.object({ route: Name }),
    body: z.strictObject({
      canary: z.number().int().min(0).max(100).describe('percent of the traffic to the canary'),
      force: z.boolean().default(false).describe('set them even while a rollout owns the route'),
      reason: z.string().max(500).optional(),
      dryRun: DryRun,
    }),
    status: 200,
    response: Accepted.extend({ weights: WeightsSchema }),
    errors: [404, 409, 422],
  },
  {
    operationId: 'getService',
    method: 'GET',
    path: '/services/{cluster}/{service}',
    summary: "A service: counts, deployments, target groups and the reflexes' recent actions on it",
    access: 'read',
    params: ServiceRef,
    status: 200,
    response: ServiceViewSchema,
    errors: [404],
  },
  {
    operationId: 'listClusters',
    method: 'GET',
    path: '/clusters',
    summary: 'The clusters this API shows and acts on',
    access: 'read',
    status: 200,
    response: z.object({ clusters: z.array(z.string()) }),
    errors: [],
  },
  {
    operationId: 'listServices',
    method: 'GET',
    path: '/services/{cluster}',
    summary: 'The services of a cluster',
    access: 'read',
    params: z.object({ cluster: Name }),
    status: 200,
    response: z.object({ services: z.array(z.string()) }),
    errors: [404],
  },
  {
    operationId: 'recycleService',
    method: 'POST',
    path: '/services/{cluster}/{service}/recycle',
    summary: 'Replace every task of a service, rolling, within its deployment configuration',
    access: 'write',
    params: ServiceRef,
    body: ReasonedWrite,
    status: 202,
    response: Accepted,
    errors: [404, 409, 422],
  },
  {
    operationId: 'listDeployments',
    method: 'GET',
    path: '/deployments',
    summary:
      "ECS native deployments of the services the deployment hook serves, newest first, with the hook's verdicts at each stage",
    access: 'read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(20).default(5).describe('per service') }),
    status: 200,
    response: DeploymentsViewSchema,
    errors: [],
  },
  {
    operationId: 'getServiceDeployments',
    method: 'GET',
    path: '/deployments/{cluster}/{service}',
    summary:
      "One service's recent ECS native deployments, with every answer of the deployment hook (404 for a service it does not serve)",
    access: 'read',
    params: ServiceRef,
    query: z.object({ limit: z.coerce.number().int().min(1).max(20).default(10) }),
    status: 200,
    response: DeploymentsViewSchema,
    errors: [404],
  },
  ...(['resume', 'abort'] as const).map(
    (verb): OpsRoute => ({
      operationId: `${verb}DeploymentGate`,
      method: 'POST',
      path: `/deployments/{cluster}/{service}/{deployment}/${verb}`,
      summary:
        verb === 'resume'
          ? "Resume an ECS native deployment waiting at the deployment hook's gate"
          : "Abort an ECS native deployment at the deployment hook's gate: the hook fails, ECS rolls back",
      access: 'write',
      params: ServiceRef.extend({
        deployment: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a service deployment id'),
      }),
      body: ReasonedWrite,
      status: 202,
      response: Accepted,
      errors: [404, 409],
    }),
  ),
  {
    operationId: 'getTargetHealth',
    method: 'GET',
    path: '/target-groups',
    summary: "A target group's targets and their health",
    access: 'read',
    query: z.object({ arn: z.string().regex(/^arn:[^:]+:elasticloadbalancing:/, 'a target group ARN') }),
    status: 200,
    response: TargetHealthSchema,
    errors: [404],
  },
  {
    operationId: 'listInstances',
    method: 'GET',
    path: '/instances/{cluster}',
    summary: "A cluster's container instances and the instance lifecycle workflows",
    access: 'read',
    params: z.object({ cluster: Name }),
    status: 200,
    response: z.object({
      instances: z.array(
        z.object({
          ec2InstanceId: z.string(),
          status: z.string(),
          agentConnected: z.boolean(),
          runningTasks: z.number().int(),
          pendingTasks: z.number().int(),
        }),
      ),
      lifecycleWorkflows: z.array(RolloutSummarySchema),
    }),
    errors: [404],
  },
  {
    operationId: 'drainInstance',
    method: 'POST',
    path: '/instances/{instanceId}/drain',
    summary: 'Drain a container instance before maintenance',
    access: 'write',
    params: z.object({ instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an EC2 instance id') }),
    body: z.strictObject({ cluster: Name, reason: Reason, dryRun: DryRun }),
    status: 202,
    response: Accepted,
    errors: [404, 422],
  },
  {
    operationId: 'getReflexes',
    method: 'GET',
    path: '/reflexes',
    summary:
      "The other reflexes as they stand: the alarm reactor's changes in place, the recycler's give-ups and unhealthy marks, lifecycle actions in progress, dead-letter queue depths, and dry-run",
    access: 'read',
    status: 200,
    response: ReflexesViewSchema,
    errors: [],
  },
  {
    operationId: 'listActions',
    method: 'GET',
    path: '/actions',
    summary: "The reflexes' recent actions, most recent first",
    access: 'read',
    query: z.object({
      reflex: z.string().optional(),
      target: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    status: 200,
    response: z.object({ actions: z.array(ActionSchema) }),
    errors: [],
  },
];

/** Requests larger than this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** No request nests deeper than a rollout's metric checks (5 levels); deeper bodies are refused with 400. */
export const MAX_BODY_DEPTH = 16;
