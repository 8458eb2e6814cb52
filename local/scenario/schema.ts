// The scenario file format (documented in local/scenarios/README.md). A scenario is the world, the
// reflex config, a timeline of what happens, and what must be true afterwards.
import * as z from 'zod';
import { ReactionsSchema } from '#domain/alarmReactions';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { RecyclerPolicySchema } from '#domain/recyclerPolicy';
import { HookServicesSchema } from '#events/deploymentHook';
import {
  AlarmArn,
  ContainerInstanceArn,
  checkGivenIdentities,
  Ec2InstanceId,
  GivenInstance,
  LifecycleActionToken,
  SnsTopicArn,
  TaskArn,
} from '#local/scenario/identities';
import { parseDuration } from '#local/twin/scheduler';
import { lifecycleWiring, taskRecyclerWiring } from '#local/twin/wiring';

const Duration = z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const Group = z.string().regex(/^(service|family):.+/, 'service:NAME or family:NAME');

const BehaviourSchema = z.strictObject({
  startSeconds: z.number().nonnegative().optional(),
  crashAfterSeconds: z.number().nonnegative().optional(),
  exitCode: z.number().int().optional(),
  oom: z.boolean().optional(),
  completeAfterSeconds: z.number().nonnegative().optional(),
  imagePullFails: z.boolean().optional(),
  healthy: z.boolean().optional(),
});

const ServiceRef = z.strictObject({ cluster: z.string(), service: z.string() });
/** The services behind a route's stable and canary (first and second target): what a rollout may scale. */
const RouteServices = z
  .strictObject({ stable: ServiceRef.optional(), canary: ServiceRef.optional() })
  .optional();

const Dimensions = z.record(z.string(), z.string()).default({});

const AsgPolicySchema = z.discriminatedUnion('type', [
  z.strictObject({
    name: z.string(),
    type: z.literal('TargetTrackingScaling'),
    targetValue: z.number().positive(),
    disableScaleIn: z.boolean().default(false),
    metric: z.string().default('CPUReservation'),
  }),
  z.strictObject({
    name: z.string(),
    type: z.literal('StepScaling'),
    steps: z.array(
      z.strictObject({
        lower: z.number().optional(),
        upper: z.number().optional(),
        adjustment: z.number().int(),
      }),
    ),
  }),
]);

const AlarmSchema = z.union([
  z.strictObject({
    name: z.string(),
    metric: z.string(),
    dimensions: Dimensions,
    /** The alarm's ARN as a real account had it: it must be the twin's own for this name. */
    arn: AlarmArn.optional(),
    comparison: z.enum([
      'GreaterThanThreshold',
      'GreaterThanOrEqualToThreshold',
      'LessThanThreshold',
      'LessThanOrEqualToThreshold',
    ]),
    threshold: z.number(),
    /** For metrics of the traffic model (AWS/ApplicationELB, AppMesh/Envoy): where, and which statistic. */
    namespace: z.string().optional(),
    statistic: z.string().optional(),
    evaluationPeriods: z.number().int().min(1).default(3),
    datapointsToAlarm: z.number().int().min(1).optional(),
    tags: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({
    name: z.string(),
    arn: AlarmArn.optional(),
    rule: z.string(),
    tags: z.record(z.string(), z.string()).default({}),
  }),
]);

/** The twin's SQS queues a scenario may send to, by name (local/twin/wiring.ts). */
export const TWIN_QUEUES = [taskRecyclerWiring.queue, lifecycleWiring.notificationQueue] as const;

const FaultProfileSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.strictObject({ p50: z.number().positive(), p99: z.number().positive() }).optional(),
});

const WorldSchema = z.strictObject({
  clusters: z.array(
    z.strictObject({
      name: z.string(),
      instances: z.array(
        z.strictObject({
          count: z.number().int().min(1),
          cpu: z.number(),
          memory: z.number(),
          /** Ids for the first instances of this entry, as a real account had them. */
          ids: z.array(GivenInstance).optional(),
        }),
      ),
    }),
  ),
  taskDefinitions: z.array(
    z.strictObject({
      family: z.string(),
      revision: z.number().int().min(1),
      cpu: z.number().default(256),
      memory: z.number().default(512),
      networkMode: z.enum(['awsvpc', 'bridge']).default('awsvpc'),
      container: z
        .strictObject({ name: z.string(), port: z.number().int() })
        .default({ name: 'app', port: 8080 }),
      behaviour: BehaviourSchema.default({}),
    }),
  ),
  targetGroups: z
    .array(
      z.strictObject({
        name: z.string(),
        port: z.number().int(),
        targetType: z.enum(['ip', 'instance']).default('ip'),
        deregistrationDelay: Duration.default(30),
      }),
    )
    .default([]),
  services: z
    .array(
      z.strictObject({
        cluster: z.string(),
        name: z.string(),
        taskDefinition: z.string(),
        desiredCount: z.number().int().min(0),
        targetGroups: z.array(z.string()).default([]),
        circuitBreaker: z.boolean().default(false),
        /** Who deploys it: ECS (the twin's scheduler), or CodeDeploy / an external controller. */
        deploymentController: z.enum(['ECS', 'CODE_DEPLOY', 'EXTERNAL']).default('ECS'),
        /** ECS's native strategy; without `native` settings the twin deploys it as a rolling deployment. */
        strategy: z.enum(['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY']).default('ROLLING'),
        /**
         * ECS native deployment settings as UpdateService takes them (checked as the API does): its
         * `deploymentConfiguration` and `loadBalancers` (with `advancedConfiguration`). `@tg:NAME`,
         * `@rule:ROUTE`, `@listener:ROUTE` and `@lambda:FUNCTION` stand for the twin's values.
         */
        native: z
          .strictObject({
            deploymentConfiguration: z.record(z.string(), z.unknown()),
            loadBalancers: z.array(z.record(z.string(), z.unknown())).optional(),
          })
          .optional(),
        maximumPercent: z.number().int().min(100).max(200).default(200),
        healthCheckGracePeriod: Duration.default(60),
        /** ARNs for its first tasks, as a real account had them; the rest are generated. */
        taskArns: z.array(TaskArn).default([]),
        /** Deployments before the scenario starts, newest first, relative to the start. */
        history: z
          .array(z.strictObject({ taskDefinition: z.string(), startedAgo: Duration, finishedAgo: Duration }))
          .default([]),
      }),
    )
    .default([]),
  autoScalingGroups: z
    .array(
      z.strictObject({
        name: z.string(),
        cluster: z.string(),
        min: z.number().int().min(0),
        max: z.number().int().min(0),
        desired: z.number().int().min(0),
        instance: z.strictObject({ cpu: z.number(), memory: z.number() }),
        launchTime: Duration.default(60),
        policies: z.array(AsgPolicySchema).default([]),
        /** When the ECS agent of a launched instance registers ("never": it never does). */
        agent: z.union([z.literal('never'), z.strictObject({ delay: Duration })]).optional(),
        managedDraining: z.boolean().default(false),
        /** A warm pool of stopped instances beside the group, kept at `minSize`. */
        warmPool: z.strictObject({ minSize: z.number().int().min(0) }).optional(),
        /** Target groups attached to the group (Auto Scaling registers in-service instances): `name:port`. */
        targetGroups: z.array(z.string().regex(/^.+:\d+$/, 'NAME:PORT')).default([]),
        /** Ids for the first instances in service, as a real account had them. */
        ids: z.array(GivenInstance).default([]),
        /**
         * Lifecycle actions already waiting at the start, as a real account had them: the instance held by the
         * hook (Pending:Wait, counted in `desired`; Terminating:Wait, beside it) with the action's token. Nothing
         * is announced: the scenario replays the captured event or message.
         */
        lifecycleActions: z
          .array(
            z.strictObject({
              hook: z.string(),
              ec2InstanceId: Ec2InstanceId,
              containerInstanceArn: ContainerInstanceArn.optional(),
              lifecycleActionToken: LifecycleActionToken,
              startedAgo: Duration.default(0),
            }),
          )
          .default([]),
        hooks: z
          .array(
            z.strictObject({
              name: z.string(),
              transition: z.enum(['launch', 'terminate']),
              heartbeatTimeout: Duration.default(300),
              defaultResult: z.enum(['CONTINUE', 'ABANDON']).default('ABANDON'),
              /**
               * The hook also notifies the reflex's SQS queue (the older form): a test notification when
               * it is created, then each action there as well as on EventBridge.
               */
              notifiesQueue: z.boolean().default(false),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  serviceScaling: z
    .array(
      z.strictObject({
        cluster: z.string(),
        service: z.string(),
        min: z.number().int().min(0),
        max: z.number().int().min(0),
        policies: z
          .array(
            z.strictObject({
              name: z.string(),
              targetValue: z.number().positive(),
              metric: z.string().default('ECSServiceAverageCPUUtilization'),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  alarms: z.array(AlarmSchema).default([]),
  /**
   * Small Lambda functions of the twin, which a native deployment's hooks (`@lambda:NAME`) and lambda checks
   * (tests before traffic) may name: each answers its answers in turn, the last one again and again, or
   * throws.
   */
  functions: z
    .array(
      z.union([
        z.strictObject({ name: z.string(), answers: z.array(z.unknown()).min(1) }),
        z.strictObject({ name: z.string(), throws: z.string() }),
      ]),
    )
    .default([]),
  /** Routes with weighted targets and the requests they split: what rollouts shift. */
  traffic: z
    .strictObject({
      meshRoutes: z
        .array(
          z.strictObject({
            meshName: z.string(),
            virtualRouterName: z.string(),
            routeName: z.string(),
            protocol: z.enum(['http', 'http2', 'grpc', 'tcp']).default('http'),
            targets: z.array(z.strictObject({ virtualNode: z.string(), weight: z.number() })),
            match: z.record(z.string(), z.unknown()).optional(),
            retryPolicy: z.record(z.string(), z.unknown()).optional(),
            timeout: z.record(z.string(), z.unknown()).optional(),
            rps: z.number().min(0).default(0),
            services: RouteServices,
          }),
        )
        .default([]),
      /** An ALB listener rule (or the listener's default action) forwarding to the world's target groups. */
      listenerRules: z
        .array(
          z.strictObject({
            name: z.string(),
            loadBalancer: z.string().default('shop'),
            default: z.boolean().default(false),
            targetGroups: z.array(z.strictObject({ targetGroup: z.string(), weight: z.number() })),
            stickiness: z
              .strictObject({ enabled: z.boolean(), durationSeconds: z.number().int() })
              .optional(),
            rps: z.number().min(0).default(0),
            services: RouteServices,
          }),
        )
        .default([]),
      /**
       * A VPC Lattice listener rule (or the default action of the service's listener) forwarding to
       * Lattice target groups, by name (made on first mention).
       */
      latticeRoutes: z
        .array(
          z.strictObject({
            name: z.string(),
            service: z.string().default('shop'),
            default: z.boolean().default(false),
            targetGroups: z.array(z.strictObject({ targetGroup: z.string(), weight: z.number() })),
            rps: z.number().min(0).default(0),
            services: RouteServices,
          }),
        )
        .default([]),
      /** Fault profile per version (virtual node or target group name). */
      profiles: z.record(z.string(), FaultProfileSchema).default({}),
    })
    .prefault({}),
});

const Step = z.union([
  z.strictObject({ at: Duration, note: z.string() }),
  z.strictObject({
    at: Duration,
    deploy: z.strictObject({ cluster: z.string(), service: z.string(), taskDefinition: z.string() }),
  }),
  z.strictObject({
    at: Duration,
    scale: z.strictObject({
      cluster: z.string(),
      service: z.string(),
      desiredCount: z.number().int().min(0),
    }),
  }),
  z.strictObject({
    at: Duration,
    runTask: z.strictObject({
      cluster: z.string(),
      taskDefinition: z.string(),
      count: z.number().int().min(1).default(1),
      tags: z.record(z.string(), z.string()).default({}),
      registerIn: z.array(z.string()).default([]),
      /** The capacity provider the task runs on (ECS reports it on the task and in its events). */
      capacityProvider: z.string().min(1).optional(),
      behaviour: BehaviourSchema.optional(),
      /** ARNs for the tasks started, as a real account had them (at most `count`). */
      taskArns: z.array(TaskArn).optional(),
    }),
  }),
  z.strictObject({
    at: Duration,
    crash: z.strictObject({
      cluster: z.string(),
      group: Group,
      exitCode: z.number().int().default(1),
      oom: z.boolean().default(false),
      count: z.number().int().min(1).default(1),
      /** The same crash again every `every`, `times` times in all: a storm at a steady rate. */
      repeat: z.strictObject({ every: Duration, times: z.number().int().min(1).max(10_000) }).optional(),
    }),
  }),
  z.strictObject({
    at: Duration,
    setBehaviour: z.strictObject({ taskDefinition: z.string(), behaviour: BehaviourSchema }),
  }),
  z.strictObject({
    at: Duration,
    failHealthChecks: z.strictObject({
      cluster: z.string(),
      group: Group,
      count: z.number().int().min(1).optional(),
    }),
  }),
  z.strictObject({
    at: Duration,
    recoverHealthChecks: z.strictObject({ cluster: z.string(), group: Group }),
  }),
  z.strictObject({
    at: Duration,
    fault: z.strictObject({
      api: z.string(),
      for: Duration,
      rate: z.number().min(0).max(1).default(1),
      error: z
        .enum(['ThrottlingException', 'ServerException', 'TimeoutError'])
        .default('ThrottlingException'),
    }),
  }),
  z.strictObject({
    at: Duration,
    addInstances: z.strictObject({
      cluster: z.string(),
      count: z.number().int().min(1),
      cpu: z.number(),
      memory: z.number(),
    }),
  }),
  /**
   * A raw event from a file (absolute, or relative to the scenario file), put on the bus like PutEvents.
   * Strings `@instance:GROUP:N` in it stand for the Nth in-service instance of that group.
   */
  z.strictObject({ at: Duration, inject: z.strictObject({ file: z.string().min(1) }) }),
  /**
   * A message body sent to one of the twin's SQS queues, as a principal of the account or an SNS topic the
   * queue admits could send it: `body` (JSON, sent as its text, or a string sent as it is) or `bodyFile`
   * (absolute, or relative to the scenario file; JSON is sent compact, other text as it is). With `sns`, the
   * body arrives wrapped in the envelope SNS delivers to SQS without raw message delivery. `@instance:GROUP:N`
   * in JSON stands for the group's Nth in-service instance.
   */
  z.strictObject({
    at: Duration,
    sendMessage: z
      .strictObject({
        queue: z.string().refine((name) => (TWIN_QUEUES as readonly string[]).includes(name), {
          error: (issue) =>
            `unknown queue ${JSON.stringify(issue.input)}; the twin's queues are ${TWIN_QUEUES.join(', ')}`,
        }),
        body: z.unknown().optional(),
        bodyFile: z.string().min(1).optional(),
        sns: z.strictObject({ topicArn: SnsTopicArn, subject: z.string().min(1).optional() }).optional(),
      })
      .refine((m) => (m.body === undefined) !== (m.bodyFile === undefined), {
        error: 'give exactly one of body and bodyFile',
      }),
  }),
  z.strictObject({
    at: Duration,
    setMetric: z.strictObject({ metric: z.string(), dimensions: Dimensions, value: z.number() }),
  }),
  /** EventBridge at its worst: every event delivered `copies` times, in shuffled order, for a while. */
  z.strictObject({
    at: Duration,
    duplicateEvents: z.strictObject({
      for: Duration,
      copies: z.number().int().min(1).max(5).default(2),
      jitter: Duration.default(30),
    }),
  }),
  /**
   * A rollout started (StartExecution of the rollout workflow). In `request`, strings `@tg:NAME` (target group
   * ARN), `@tgDimension:NAME` (`targetgroup/NAME/ID`), `@loadBalancer:ROUTE` (`app/NAME/ID`), `@listener:ROUTE`
   * and `@rule:ROUTE` stand for the twin's generated values.
   */
  z.strictObject({
    at: Duration,
    startRollout: z.strictObject({ name: z.string(), request: z.record(z.string(), z.unknown()) }),
  }),
  /**
   * A person steers a rollout, as the ops API does: resume it at a gate; pause it (it waits at a gate from
   * its next step on) or promote it (at a gate, or from its next step on); abort it anywhere.
   */
  z.strictObject({ at: Duration, resumeRollout: z.strictObject({ name: z.string() }) }),
  z.strictObject({ at: Duration, pauseRollout: z.strictObject({ name: z.string() }) }),
  z.strictObject({ at: Duration, promoteRollout: z.strictObject({ name: z.string() }) }),
  z.strictObject({ at: Duration, abortRollout: z.strictObject({ name: z.string() }) }),
  /**
   * A person answers the deployment hook's gate at the stage the service's native deployment in progress
   * waits at, through the ops API (POST /deployments/{cluster}/{service}/{deployment}/resume|abort).
   */
  z.strictObject({
    at: Duration,
    answerDeploymentGate: z.strictObject({
      cluster: z.string(),
      service: z.string(),
      decision: z.enum(['resume', 'abort']),
    }),
  }),
  /** A Lambda function crashes on every invocation for a while (the runtime dies, not the code). */
  z.strictObject({ at: Duration, crashFunction: z.strictObject({ function: z.string(), for: Duration }) }),
  /** A version starts (or stops) misbehaving. */
  z.strictObject({
    at: Duration,
    setProfile: z.strictObject({ version: z.string() }).extend(FaultProfileSchema.shape),
  }),
  z.strictObject({ at: Duration, setRate: z.strictObject({ route: z.string(), rps: z.number().min(0) }) }),
  /** A person sets a route's weights by hand (version name -> raw weight). */
  z.strictObject({
    at: Duration,
    editWeights: z.strictObject({ route: z.string(), weights: z.record(z.string(), z.number()) }),
  }),
  /** A person changes a scaling setting by hand (the console, the CLI). */
  z.strictObject({
    at: Duration,
    manualEdit: z.union([
      z.strictObject({ group: z.string(), desired: z.number().int().min(0) }),
      z.strictObject({ group: z.string(), policy: z.string(), targetValue: z.number().positive() }),
    ]),
  }),
]);

const Count = {
  count: z.number().int().min(0).optional(),
  atLeast: z.number().int().min(0).optional(),
  atMost: z.number().int().min(0).optional(),
};

const Expectation = z.union([
  /**
   * The AWS reads the task recycler made per event its rules delivered (a storm's cost): at most
   * `atMost`, which may be a fraction.
   */
  z.strictObject({ readsPerEvent: z.literal('taskRecycler'), atMost: z.number().nonnegative() }),
  z.strictObject({
    action: z.string(),
    outcome: z.enum(['done', 'dry-run', 'held', 'failed']).optional(),
    target: z.string().optional(),
    ...Count,
  }),
  /** Successful calls; with `failed: true`, the calls AWS (the twin's faults) refused instead. */
  z.strictObject({
    api: z.string(),
    target: z.string().optional(),
    failed: z.boolean().optional(),
    ...Count,
  }),
  z.strictObject({ apiOrder: z.array(z.string()).min(2), target: z.string().optional() }),
  z.strictObject({
    service: z.strictObject({ cluster: z.string(), name: z.string() }),
    taskDefinition: z.string().optional(),
    runningCount: z.number().int().optional(),
    desiredCount: z.number().int().optional(),
    rolloutState: z.enum(['IN_PROGRESS', 'COMPLETED']).optional(),
  }),
  z.strictObject({ running: z.strictObject({ cluster: z.string(), group: Group }), ...Count }),
  /** The fewest running tasks the group had at any tick after `after`: the blast radius, observed. */
  z.strictObject({
    lowWater: z.strictObject({ cluster: z.string(), group: Group, after: Duration.default(0) }),
    ...Count,
  }),
  z.strictObject({ deadLetters: z.literal(true), ...Count }),
  /** Timeline lines containing `timeline` (of one `kind`), e.g. "matched no rule" for an injected event. */
  z.strictObject({
    timeline: z.string().min(1),
    kind: z.enum(['event', 'decision', 'action', 'world', 'fault', 'lambda']).optional(),
    ...Count,
  }),
  z.strictObject({ notifications: z.literal(true), subject: z.string().optional(), ...Count }),
  z.strictObject({ shortfalls: z.literal(true), ...Count }),
  z.strictObject({
    autoScalingGroup: z.string(),
    desired: z.number().int().optional(),
    inService: z.number().int().optional(),
    /** Instances stopped in the group's warm pool, ready (Warmed:Stopped). */
    warmStopped: z.number().int().optional(),
  }),
  z.strictObject({
    asgPolicy: z.strictObject({ group: z.string(), name: z.string() }),
    targetValue: z.number().optional(),
    scaleInEnabled: z.boolean().optional(),
  }),
  z.strictObject({ alarm: z.string(), state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']) }),
  /**
   * The canary's share (percent of the route's weights) after each write by the reflexes, in order, and/or
   * now; `handEdits` counts writes by a person; `stillBetween: [from, to]`: no write by the reflexes then.
   */
  z.strictObject({
    /** `by: "ecs"`: the writes of ECS's native deployments instead of the reflexes'. */
    weights: z.strictObject({
      route: z.string(),
      canary: z.string(),
      by: z.enum(['reflex', 'ecs']).optional(),
    }),
    sequence: z.array(z.number()).optional(),
    final: z.number().optional(),
    handEdits: z.number().int().optional(),
    stillBetween: z.tuple([Duration, Duration]).optional(),
  }),
  /** All traffic back on stable within `seconds` (virtual) of the alarm's first ALARM event. */
  z.strictObject({
    stableWithin: z.strictObject({ route: z.string(), canary: z.string(), afterAlarm: z.string() }),
    seconds: z.number().positive(),
  }),
  /** The service's newest ECS native deployment: its status, and words its status reason contains. */
  z.strictObject({
    nativeDeployment: z.strictObject({ cluster: z.string(), service: z.string() }),
    status: z.enum(['PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL']),
    reason: z.string().optional(),
  }),
  /** 5xx answers a version (target group) served through a route, as its published minutes count them. */
  z.strictObject({ badRequests: z.strictObject({ route: z.string(), version: z.string() }), ...Count }),
  /** How a rollout execution ended (or that it still runs), and with which error. */
  z.strictObject({
    rollout: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']),
    error: z.string().optional(),
  }),
  z.strictObject({
    lifecycleCompletions: z.strictObject({
      group: z.string().optional(),
      transition: z.enum(['launch', 'terminate']).optional(),
      result: z.enum(['CONTINUE', 'ABANDON']).optional(),
      by: z.enum(['call', 'heartbeat-timeout', 'global-timeout']).optional(),
      /** Only terminate actions completed while the instance still served (targets or service tasks). */
      stillServing: z.boolean().optional(),
      /** Only the action with this token (a seeded one's, say). */
      token: z.string().optional(),
    }),
    ...Count,
  }),
]);

export const ScenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string(),
    description: z.string(),
    seed: z.number().int().default(1),
    duration: Duration,
    world: WorldSchema,
    config: z.strictObject({
      clusters: z.array(z.string()).min(1),
      dryRun: z.boolean().default(false),
      policy: RecyclerPolicySchema.prefault({}),
      alarmReactor: z
        .strictObject({ dryRun: z.boolean().default(false), reactions: ReactionsSchema.default([]) })
        .prefault({}),
      lifecycle: z
        .strictObject({
          dryRun: z.boolean().default(false),
          hooks: z.array(LifecycleHookConfigSchema).default([]),
        })
        .prefault({}),
      /** The services the twin's real deployment hook serves, as the stage config gives them. */
      deploymentHookServices: HookServicesSchema.default([]),
    }),
    timeline: z.array(Step).default([]),
    expect: z.array(Expectation).default([]),
  })
  .superRefine(checkGivenIdentities);

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioStep = Scenario['timeline'][number];
export type ScenarioExpectation = Scenario['expect'][number];
