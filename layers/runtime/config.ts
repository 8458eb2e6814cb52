// Configuration comes from the environment, parsed once per cold start. A bad value stops the function
// at init with an error that names the variable, instead of surfacing later as a wrong action.
import * as z from 'zod';
import { type Reaction, ReactionsSchema } from '#domain/alarmReactions';
import { type LifecycleHookConfig, LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { type RecyclerPolicy, RecyclerPolicySchema } from '#domain/recyclerPolicy';
import { ConfigError } from '#runtime/errors';

type Env = Record<string, string | undefined>;

const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

/** A comma-separated list, its items trimmed and empty ones dropped. */
const splitCommas = (v: string) =>
  v
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const commaList = z.string().default('').transform(splitCommas);

const clusterList = z
  .string()
  .min(1, 'name at least one cluster')
  .transform(splitCommas)
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'cluster names, not ARNs')).min(1));

const jsonOf = <T extends z.ZodType>(schema: T, empty = '{}') =>
  z
    .string()
    .default(empty)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    })
    .pipe(schema);

const maxAttempts = z.coerce.number().int().min(1).max(10).default(4);

const RecyclerEnvSchema = z.object({
  CLUSTERS: clusterList,
  DRY_RUN: booleanFlag,
  RECHECK_QUEUE_URL: z.url(),
  DEAD_LETTER_QUEUE_URL: z.url(),
  NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
  RECYCLER_POLICY: jsonOf(RecyclerPolicySchema),
  AWS_MAX_ATTEMPTS: maxAttempts,
});

export interface RecyclerSettings {
  clusters: string[];
  dryRun: boolean;
  policy: RecyclerPolicy;
}

export interface RecyclerConfig extends RecyclerSettings {
  recheckQueueUrl: string;
  deadLetterQueueUrl: string;
  notifyTopicArn?: string;
  maxAttempts: number;
}

export function loadRecyclerConfig(env: Env = process.env): RecyclerConfig {
  const env_ = parseEnv(RecyclerEnvSchema, env);
  return {
    clusters: env_.CLUSTERS,
    dryRun: env_.DRY_RUN,
    policy: env_.RECYCLER_POLICY,
    recheckQueueUrl: env_.RECHECK_QUEUE_URL,
    deadLetterQueueUrl: env_.DEAD_LETTER_QUEUE_URL,
    notifyTopicArn: env_.NOTIFY_TOPIC_ARN,
    maxAttempts: env_.AWS_MAX_ATTEMPTS,
  };
}

const RouterEnvSchema = z.object({
  TASK_GROUP_QUEUE_URL: z.url().endsWith('.fifo'),
  AWS_MAX_ATTEMPTS: maxAttempts,
});

/** The task recycler's router: where each task group's messages go, and nothing of the recycler's policy. */
export interface RouterConfig {
  taskGroupQueueUrl: string;
  maxAttempts: number;
}

export function loadRouterConfig(env: Env = process.env): RouterConfig {
  const env_ = parseEnv(RouterEnvSchema, env);
  return { taskGroupQueueUrl: env_.TASK_GROUP_QUEUE_URL, maxAttempts: env_.AWS_MAX_ATTEMPTS };
}

const AlarmReactorEnvSchema = z.object({
  DRY_RUN: booleanFlag,
  DEAD_LETTER_QUEUE_URL: z.url(),
  ALARM_REACTIONS: jsonOf(ReactionsSchema, '[]'),
  /** Each change of a knob, and each restore, tells people here (without it: a log line). */
  NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
  AWS_MAX_ATTEMPTS: maxAttempts,
});

export interface AlarmReactorConfig {
  dryRun: boolean;
  reactions: Reaction[];
  deadLetterQueueUrl: string;
  notifyTopicArn?: string;
  maxAttempts: number;
}

export function loadAlarmReactorConfig(env: Env = process.env): AlarmReactorConfig {
  const parsed = parseEnv(AlarmReactorEnvSchema, env);
  return {
    dryRun: parsed.DRY_RUN,
    reactions: parsed.ALARM_REACTIONS,
    deadLetterQueueUrl: parsed.DEAD_LETTER_QUEUE_URL,
    notifyTopicArn: parsed.NOTIFY_TOPIC_ARN,
    maxAttempts: parsed.AWS_MAX_ATTEMPTS,
  };
}

function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const [variable, ...rest] = issue.path.map(String);
  const where = rest.length > 0 ? ` at ${rest.join('.')}` : '';
  throw new ConfigError(variable ?? '(environment)', `${issue.message}${where}`);
}

const LifecycleEnvSchema = z.object({
  DRY_RUN: booleanFlag,
  LIFECYCLE_HOOKS: jsonOf(z.array(LifecycleHookConfigSchema), '[]'),
  STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  DEAD_LETTER_QUEUE_URL: z.url(),
  NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
  AWS_MAX_ATTEMPTS: maxAttempts,
});

export interface LifecycleConfig {
  dryRun: boolean;
  hooks: LifecycleHookConfig[];
  stateMachineArn: string;
  deadLetterQueueUrl: string;
  notifyTopicArn?: string;
  maxAttempts: number;
}

export function loadLifecycleConfig(env: Env = process.env): LifecycleConfig {
  const parsed = parseEnv(LifecycleEnvSchema, env);
  return {
    dryRun: parsed.DRY_RUN,
    hooks: parsed.LIFECYCLE_HOOKS,
    stateMachineArn: parsed.STATE_MACHINE_ARN,
    deadLetterQueueUrl: parsed.DEAD_LETTER_QUEUE_URL,
    notifyTopicArn: parsed.NOTIFY_TOPIC_ARN,
    maxAttempts: parsed.AWS_MAX_ATTEMPTS,
  };
}

/** The functions lambda checks (tests before traffic) may invoke, by name, comma-separated: the stage's. */
const TrafficCheckFunctions = commaList.pipe(
  z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names, not ARNs')),
);

const RolloutEnvSchema = z.object({
  ROLLOUT_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  /** The routes rollouts may run on, with their services (the ops API's OPS_ROUTES). */
  OPS_ROUTES: jsonOf(z.array(z.unknown()), '[]'),
  /** Where routes are claimed (a conditional write): the ops API's idempotency table. */
  ROUTE_CLAIMS_TABLE: z.string().min(3).max(255),
  NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
  AWS_MAX_ATTEMPTS: maxAttempts,
  TRAFFIC_CHECK_FUNCTIONS: TrafficCheckFunctions,
});

export interface RolloutConfig {
  stateMachineArn: string;
  /** Declared routes as given; each is checked against DeclaredRouteSchema by the caller (events/rollout.ts). */
  routes: unknown[];
  routeClaimsTable: string;
  notifyTopicArn?: string;
  maxAttempts: number;
  trafficCheckFunctions: string[];
}

/** The rollout steps, the safety net, and the alarm reactor's guard-alarm aborts share this. */
export function loadRolloutConfig(env: Env = process.env): RolloutConfig {
  const parsed = parseEnv(RolloutEnvSchema, env);
  return {
    stateMachineArn: parsed.ROLLOUT_STATE_MACHINE_ARN,
    routes: parsed.OPS_ROUTES,
    routeClaimsTable: parsed.ROUTE_CLAIMS_TABLE,
    notifyTopicArn: parsed.NOTIFY_TOPIC_ARN,
    maxAttempts: parsed.AWS_MAX_ATTEMPTS,
    trafficCheckFunctions: parsed.TRAFFIC_CHECK_FUNCTIONS,
  };
}

const OpsRoutesSchema = z.array(
  z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a route name'),
    route: z.unknown(),
    services: z.unknown().optional(),
  }),
);

const OpsEnvSchema = z
  .object({
    CLUSTERS: clusterList,
    /** Named routes the API shows and sets: `[{"name": "web", "route": <a rollout route>}]`. */
    OPS_ROUTES: jsonOf(OpsRoutesSchema, '[]'),
    ROLLOUT_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
    LIFECYCLE_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
    IDEMPOTENCY_TABLE: z.string().min(3).max(255),
    /** The functions whose log groups hold the reflexes' actions, comma-separated, and their groups' prefix. */
    ACTION_LOG_GROUPS: commaList.pipe(z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'function names'))),
    ACTION_LOG_GROUP_PREFIX: z
      .string()
      .regex(/^\/aws\/lambda\/[A-Za-z0-9_-]*$/)
      .optional(),
    NOTIFY_TOPIC_ARN: z.string().startsWith('arn:').optional(),
    /** The deployment hook's services (its gates are answered here): `[{"cluster": …, "service": …}]`. */
    DEPLOYMENT_HOOK_SERVICES: jsonOf(z.array(z.unknown()), '[]'),
    AWS_MAX_ATTEMPTS: maxAttempts,
    // GET /reflexes: the other reflexes' configuration, the same stage values they read. REFLEXES_DRY_RUN,
    // not DRY_RUN: the API's own writes take dryRun per request.
    REFLEXES_DRY_RUN: booleanFlag,
    ALARM_REACTIONS: jsonOf(ReactionsSchema, '[]'),
    RECYCLER_POLICY: jsonOf(RecyclerPolicySchema),
    /** Every dead-letter queue of the stack: comma-separated names after the prefix of their URLs. */
    DEAD_LETTER_QUEUES: commaList.pipe(
      z.array(z.string().regex(/^[A-Za-z0-9_-]{1,75}(\.fifo)?$/, 'queue names after the prefix')),
    ),
    DEAD_LETTER_QUEUE_URL_PREFIX: z.url().optional(),
  })
  // A list of names without the prefix that makes them log groups or URLs would read the wrong resources
  // (or none): a stack that forgets the prefix is refused, not given a guess.
  .superRefine((env, context) => {
    for (const [list, prefix] of [
      ['ACTION_LOG_GROUPS', 'ACTION_LOG_GROUP_PREFIX'],
      ['DEAD_LETTER_QUEUES', 'DEAD_LETTER_QUEUE_URL_PREFIX'],
    ] as const)
      if (env[list].length > 0 && env[prefix] === undefined)
        context.addIssue({ code: 'custom', path: [prefix], message: `required with ${list}` });
  });

/** What the ops API is told of the other reflexes' configuration (GET /reflexes). */
export interface ReflexSettings {
  dryRun: { taskRecycler: boolean; alarmReactor: boolean; instanceLifecycle: boolean };
  reactions: Reaction[];
  recyclerPolicy: Pick<RecyclerPolicy, 'stopUnhealthy'>;
  /** Every dead-letter queue of the stack, by URL (its name is the URL's last segment). */
  deadLetterQueueUrls: string[];
}

export interface OpsConfig {
  clusters: string[];
  /** Routes as given; each is checked against DeclaredRouteSchema by the caller (events/rollout.ts). */
  routes: { name: string; route: unknown; services?: unknown }[];
  stateMachineArn: string;
  lifecycleStateMachineArn: string;
  idempotencyTable: string;
  /** Each function's log group, by the function's name in serverless.yml. */
  actionLogGroups: Record<string, string>;
  notifyTopicArn?: string;
  /** As given; checked against HookServicesSchema by the wiring (events/deploymentHook.ts). */
  hookServices: unknown[];
  maxAttempts: number;
  reflexes: ReflexSettings;
}

export function loadOpsConfig(env: Env = process.env): OpsConfig {
  const parsed = parseEnv(OpsEnvSchema, env);
  return {
    clusters: parsed.CLUSTERS,
    routes: parsed.OPS_ROUTES,
    stateMachineArn: parsed.ROLLOUT_STATE_MACHINE_ARN,
    lifecycleStateMachineArn: parsed.LIFECYCLE_STATE_MACHINE_ARN,
    idempotencyTable: parsed.IDEMPOTENCY_TABLE,
    actionLogGroups: Object.fromEntries(
      parsed.ACTION_LOG_GROUPS.map((name) => [name, `${parsed.ACTION_LOG_GROUP_PREFIX ?? ''}${name}`]),
    ),
    notifyTopicArn: parsed.NOTIFY_TOPIC_ARN,
    hookServices: parsed.DEPLOYMENT_HOOK_SERVICES,
    maxAttempts: parsed.AWS_MAX_ATTEMPTS,
    reflexes: {
      // One stage switch puts every reflex in dry-run (serverless.yml gives each the same DRY_RUN).
      dryRun: {
        taskRecycler: parsed.REFLEXES_DRY_RUN,
        alarmReactor: parsed.REFLEXES_DRY_RUN,
        instanceLifecycle: parsed.REFLEXES_DRY_RUN,
      },
      reactions: parsed.ALARM_REACTIONS,
      recyclerPolicy: parsed.RECYCLER_POLICY,
      deadLetterQueueUrls: parsed.DEAD_LETTER_QUEUES.map(
        (name) => `${parsed.DEAD_LETTER_QUEUE_URL_PREFIX ?? ''}${name}`,
      ),
    },
  };
}

const DeploymentHookEnvSchema = z.object({
  /** The services the hook serves, with default settings: `[{"cluster": "prod", "service": "web"}]`. */
  DEPLOYMENT_HOOK_SERVICES: jsonOf(z.array(z.unknown()), '[]'),
  AWS_MAX_ATTEMPTS: maxAttempts,
  TRAFFIC_CHECK_FUNCTIONS: TrafficCheckFunctions,
});

export interface DeploymentHookConfig {
  /** As given; each is checked against HookServicesSchema by the wiring (events/deploymentHook.ts). */
  services: unknown[];
  maxAttempts: number;
  /** The functions a hook stage's lambda checks may invoke: the rollouts' list. */
  trafficCheckFunctions: string[];
}

export function loadDeploymentHookConfig(env: Env = process.env): DeploymentHookConfig {
  const parsed = parseEnv(DeploymentHookEnvSchema, env);
  return {
    services: parsed.DEPLOYMENT_HOOK_SERVICES,
    maxAttempts: parsed.AWS_MAX_ATTEMPTS,
    trafficCheckFunctions: parsed.TRAFFIC_CHECK_FUNCTIONS,
  };
}
