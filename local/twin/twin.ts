// The local twin assembled: the simulated world, its event bus and queues wired like serverless.yml,
// and the real handlers running against the twin's ports. Tests, `npm run simulate` and `npm start` all
// build this one thing.

import { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type PublishInput, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';
import type { LifecyclePorts, LifecycleSettings } from '#app/instanceLifecycle';
import type { OpsPorts } from '#app/opsApi';
import type { AlarmReactorSettings } from '#app/reactToAlarm';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import type { HookService } from '#events/deploymentHook';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { createDeploymentHookHandler } from '#functions/deploymentHook';
import { createInstanceLifecycleStepHandler } from '#functions/instanceLifecycleStep';
import { createLifecycleHookHandler } from '#functions/lifecycleHook';
import { createRolloutSafetyNetHandler } from '#functions/rolloutSafetyNet';
import { createRolloutStepHandler } from '#functions/rolloutStep';
import { createTaskRecyclerHandler, type TaskRecyclerOptions } from '#functions/taskRecycler';
import { createTaskRecyclerRouterHandler } from '#functions/taskRecyclerRouter';
import { createTaskRecyclerSweepHandler } from '#functions/taskRecyclerSweep';
import { repoFile } from '#local/repoRoot';
import { TwinStepFunctions } from '#local/stepfunctions/runner';
import { TwinCloudWatch } from '#local/twin/alarms';
import { applicationAutoScalingModel } from '#local/twin/aws/applicationAutoScaling';
import { appMeshModel } from '#local/twin/aws/appMesh';
import { autoScalingModel } from '#local/twin/aws/autoScaling';
import { type LatencyProfile, TwinSendLayer } from '#local/twin/aws/client';
import { cloudWatchModel } from '#local/twin/aws/cloudWatch';
import { cloudWatchLogsModel, TwinLogs } from '#local/twin/aws/cloudWatchLogs';
import { dynamoDbModel } from '#local/twin/aws/dynamodb';
import { ecsModel } from '#local/twin/aws/ecs';
import { elbv2Model } from '#local/twin/aws/elbv2';
import { Faults } from '#local/twin/aws/faults';
import { lambdaModel } from '#local/twin/aws/lambda';
import { sfnModel } from '#local/twin/aws/sfn';
import { messageFor, snsModel } from '#local/twin/aws/sns';
import { QueueDoesNotExist, queueUrl, type SqsQueue, sqsModel } from '#local/twin/aws/sqs';
import { vpcLatticeModel } from '#local/twin/aws/vpcLattice';
import {
  type Delivery,
  describeEvent,
  type SqsHandler,
  TwinAsyncFunction,
  TwinEventBus,
  TwinQueue,
} from '#local/twin/delivery';
import { eventEnvelope } from '#local/twin/events';
import { currentFunction, type Handler, runtimeGone, TwinLambdas } from '#local/twin/lambdas';
import { TwinLifecycle } from '#local/twin/lifecycle';
import { NativeDeployments } from '#local/twin/nativeDeployments';
import { TwinScaling } from '#local/twin/scaling';
import { VirtualScheduler } from '#local/twin/scheduler';
import { testListener } from '#local/twin/testListener';
import { Timeline } from '#local/twin/timeline';
import { TwinTraffic } from '#local/twin/traffic';
import {
  actionLogFunctions,
  alarmReactorWiring,
  deadLetterQueueNames,
  deploymentHookWiring,
  lifecycleWiring,
  rolloutWiring,
  taskRecyclerWiring,
} from '#local/twin/wiring';
import { World } from '#local/twin/world';
import type {
  AlarmReactorPorts,
  CapacitySignal,
  JournalEntry,
  Notification,
  RecyclerPorts,
  RolloutPorts,
} from '#ports';
import { DEFAULT_MAX_ATTEMPTS, type ReflexClients } from '#runtime/clients';
import type { RecyclerSettings, ReflexSettings } from '#runtime/config';
import { alarmReactorPorts, guardedDeploymentPorts } from '#wiring/alarmReactor';
import { deploymentHookPorts } from '#wiring/deploymentHook';
import type { Host } from '#wiring/host';
import { lambdaChecksOver } from '#wiring/lambdaChecks';
import { lifecyclePorts } from '#wiring/lifecycle';
import { JOURNALED_REFLEXES, opsPorts } from '#wiring/ops';
import { recyclerPorts, routerDeps } from '#wiring/recycler';
import { rolloutPorts } from '#wiring/rollout';

const logGroupOf = (functionName: string) => `/aws/lambda/${functionName}`;
/** Where a line of this reflex is logged when no function is running: opsWrite's, unless it never journals it. */
const functionJournaling = (reflex: string): string =>
  ['opsWrite', ...Object.keys(JOURNALED_REFLEXES)].find((name) =>
    JOURNALED_REFLEXES[name]?.includes(reflex),
  ) ?? 'opsWrite';

/** Batches Lambda's pollers take from a standard queue at once, before scaling up (none of the twin's runs do). */
const STANDARD_QUEUE_POLLERS = 5;

/** The ops API's DynamoDB table (OpsIdempotencyTable): Idempotency-Key items and route claims. */
const OPS_TABLE = 'ops-idempotency';

export interface TwinOptions {
  seed: number;
  start?: Date;
  settings: RecyclerSettings;
  alarmReactor?: AlarmReactorSettings;
  lifecycle?: LifecycleSettings;
  /** The services the deployment hook serves (the stage's deploymentHookServices); none unless given. */
  deploymentHookServices?: HookService[];
  /** False for tests that invoke a handler themselves: the twin's events then reach no handler. */
  deliverEvents?: boolean;
  /** How the task recycler's handler is built (the bench turns coalescing off to compare). */
  recycler?: TaskRecyclerOptions;
  /** Each AWS call's round trip, in virtual time (none unless asked: the fleet scenario and the bench). */
  awsLatency?: LatencyProfile;
  /**
   * How the task recycler is fed. `task-group-fifo`, as deployed: the buffer's router sends each message
   * into its task group's message group of a FIFO queue, which the recycler consumes at its maximum
   * concurrency. `one-at-a-time`, the design before it (the bench's comparison): the buffer straight to
   * the recycler at reserved concurrency 1, one batch of the whole account at a time.
   */
  recyclerDeployment?: 'task-group-fifo' | 'one-at-a-time';
}

export class Twin {
  readonly scheduler: VirtualScheduler;
  readonly world: World;
  readonly faults: Faults;
  /** The twin's AWS as the adapters reach it: real SDK clients answered by the models in local/twin/aws. */
  readonly clients: ReflexClients;
  readonly timeline = new Timeline(() => this.scheduler.elapsedSeconds());
  /** Every action any reflex (or the ops API) recorded, with its virtual time. */
  readonly journal: (JournalEntry & { at: Date })[] = [];
  /** What the twin keeps of what the reflexes sent out: tests and scenarios read these. */
  readonly recorders = {
    journal: { record: (entry: JournalEntry) => this.recordJournal(entry) },
    /** As a queue subscriber of the topic receives them: the notification itself. */
    notifications: [] as Notification[],
    /** As people receive them: the e-mail text, and the chat integration's custom notification. */
    notificationMessages: [] as { email: string; chat: unknown }[],
    shortfalls: [] as Parameters<CapacitySignal['reportShortfall']>[0][],
    parked: [] as { input: string; reason: string; source: string }[],
  };
  readonly ports: RecyclerPorts;
  readonly bus: TwinEventBus;
  readonly queue: TwinQueue;
  /** The queue the task recycler itself consumes: the FIFO queue as deployed, the buffer one at a time. */
  readonly recyclerQueue: TwinQueue;
  readonly scaling: TwinScaling;
  readonly cloudWatch: TwinCloudWatch;
  readonly alarmPorts: AlarmReactorPorts;
  readonly lifecycle: TwinLifecycle;
  readonly lifecyclePorts: LifecyclePorts;
  readonly stepFunctions: TwinStepFunctions;
  /** Routes (App Mesh, ALB rules), the requests they split, and the metrics those produce. */
  readonly traffic: TwinTraffic;
  /** ECS native deployments (BLUE_GREEN, LINEAR, CANARY): hook targets are the twin's functions, by ARN. */
  readonly nativeDeployments: NativeDeployments;
  readonly rolloutPorts: RolloutPorts;
  /**
   * The routes rollouts may run on, with their services (OPS_ROUTES in AWS): a scenario declares each of its
   * routes; a test that builds a twin by hand pushes its own. The rollout ports read this very list.
   */
  readonly declaredRoutes: DeclaredRoute[] = [];
  /** The functions lambda checks may invoke (a stage's trafficCheckFunctions): a scenario's registered ones. */
  readonly trafficCheckFunctions: string[] = [];
  /** What the ops API sees and steers, over this twin. */
  readonly opsPorts: OpsPorts;
  /** Every Lambda invocation, the AWS calls each made, and the runtimes made to die. */
  readonly lambdas: TwinLambdas;
  /** The twin's CloudWatch Logs: each function's log group, where its journal lines land. */
  private readonly logs: TwinLogs;
  /** The reflexes' settings and dead-letter queues, as the ops API is told them (GET /reflexes). */
  readonly reflexSettings: ReflexSettings;
  /** The services the deployment hook serves: its gates are the ones the ops API answers. */
  readonly deploymentHookServices: HookService[];
  /** The task recycler's settings, which a test calling its handler passes too. */
  readonly settings: RecyclerSettings;
  private readonly delivery: Delivery;
  private readonly aws: TwinSendLayer;
  /** Hooks with a notification target deliver there too (the older form), read by the same intake. */
  private readonly lifecycleNotifications: TwinQueue;

  constructor(options: TwinOptions) {
    this.settings = options.settings;
    const alarmSettings = options.alarmReactor ?? { dryRun: false, reactions: [] };
    const lifecycleSettings = options.lifecycle ?? { dryRun: false, hooks: [] };
    this.scheduler = new VirtualScheduler(options.start ?? new Date('2026-11-02T09:00:00Z'));
    this.lambdas = new TwinLambdas(this.scheduler, (text) => this.timeline.add('lambda', text));
    this.faults = new Faults(options.seed);
    const note = (text: string) => this.timeline.add('world', text);
    const toBus = (event: unknown) => this.bus.put(event);
    this.world = new World(this.scheduler, { event: toBus, note }, options.seed);
    const aws = new TwinSendLayer({ clock: this.scheduler, calls: this.world.apiCalls, faults: this.faults });
    this.aws = aws;
    if (options.awsLatency) aws.withLatency(options.awsLatency, options.seed);
    this.traffic = new TwinTraffic(this.world, note);
    this.scaling = new TwinScaling(this.world, note);
    this.cloudWatch = new TwinCloudWatch(this.world, toBus, note, (query) => this.traffic.alarmSample(query));
    this.lifecycle = new TwinLifecycle(this.world, this.scaling, toBus, note, (body) =>
      this.lifecycleNotifications.send(body),
    );
    const { region, account } = this.world;
    this.stepFunctions = new TwinStepFunctions(this.scheduler, {
      region,
      accountId: account,
      onStatusChange: toBus,
    });
    const queues = new Map<string, SqsQueue>();
    /** Makes the queue reachable at its URL, which it answers. */
    const addQueue = (queue: SqsQueue) => {
      const url = queueUrl(this.world, queue.name);
      queues.set(url, queue);
      return url;
    };
    const notifyTopicArn = `arn:aws:sns:${region}:${account}:ecs-reflex-notifications`;
    const notify = (published: PublishInput) => {
      this.recorders.notifications.push(JSON.parse(messageFor(published, 'sqs')));
      this.recorders.notificationMessages.push({
        email: messageFor(published, 'email'),
        chat: JSON.parse(messageFor(published, 'https')),
      });
    };
    this.logs = new TwinLogs(this.scheduler);
    for (const name of actionLogFunctions()) this.logs.createLogGroup(logGroupOf(name));

    // The twin's AWS, as every adapter reaches it: one model per service, real SDK clients over them.
    this.nativeDeployments = new NativeDeployments(this.world, {
      loadBalancers: this.traffic.loadBalancers,
      lambdas: this.lambdas,
      alarmState: (name) => this.cloudWatch.describe(name)?.state,
      emit: toBus,
      note,
    });
    const ecs = ecsModel(this.world, {
      autoScalingGroups: () => this.scaling.groups.values(),
      native: this.nativeDeployments,
    });
    this.clients = {
      ecs: aws.client(ECSClient, ecs),
      // UpdateService has no client token: as in Lambda, the ops API sends it over a single-attempt client.
      ecsSingleAttempt: aws.client(ECSClient, ecs, { maxAttempts: 1 }),
      elbv2: aws.client(ElasticLoadBalancingV2Client, elbv2Model(this.world, this.traffic.loadBalancers)),
      appMesh: aws.client(AppMeshClient, appMeshModel(this.traffic.mesh)),
      vpcLattice: aws.client(VPCLatticeClient, vpcLatticeModel(this.traffic.lattice)),
      autoScaling: aws.client(AutoScalingClient, autoScalingModel(this.world, this.scaling, this.lifecycle)),
      applicationAutoScaling: aws.client(
        ApplicationAutoScalingClient,
        applicationAutoScalingModel(this.world, this.scaling),
      ),
      cloudWatch: aws.client(CloudWatchClient, cloudWatchModel(this.cloudWatch, this.traffic)),
      cloudWatchLogs: aws.client(CloudWatchLogsClient, cloudWatchLogsModel(this.logs)),
      dynamoDb: aws.client(DynamoDBClient, dynamoDbModel({ [OPS_TABLE]: 'pk' })),
      sfn: aws.client(SFNClient, sfnModel(this.stepFunctions, region)),
      sns: aws.client(SNSClient, snsModel({ [notifyTopicArn]: notify })),
      sqs: aws.client(SQSClient, sqsModel(queues)),
    };
    // A dead-letter queue nothing polls: each message is parked as it arrives.
    const deadLetterQueueUrl = (name: string) => {
      let depth = 0;
      return addQueue({
        name,
        get depth() {
          return depth;
        },
        send: (input, _delaySeconds, attributes = {}) => {
          depth += 1;
          const reason = attributes.reason?.StringValue ?? '';
          this.recorders.parked.push({ input, reason, source: attributes.source?.StringValue ?? '' });
          this.timeline.add('lambda', `input parked in the dead-letter queue: ${reason}`);
        },
      });
    };
    const host: Host = {
      clock: this.scheduler,
      journal: this.recorders.journal,
      logNotifier: { notify: async () => undefined },
      newId: () => this.world.newId(),
      http: testListener(
        (group) => [...this.world.targetGroups.values()].some((tg) => tg.name === group),
        (group) => this.traffic.profileOf(group),
      ),
    };
    const rolloutMachineArn = this.stateMachineArn(rolloutWiring.twinStateMachineName);
    // The recycler's CapacityShortfall, an EMF log line in Lambda that CloudWatch turns into a metric an
    // alarm can watch: a runtime that has died writes none.
    const capacity: CapacitySignal = {
      reportShortfall: async (shortfall) => {
        if (runtimeGone()) return;
        this.recorders.shortfalls.push(shortfall);
        this.cloudWatch.count('CapacityShortfall', { ClusterName: shortfall.cluster });
      },
    };

    // Every dead-letter queue of the stack, made once; the functions name theirs by URL.
    const deadLetterQueueUrls = deadLetterQueueNames().map(deadLetterQueueUrl);
    const deadLetters = (name: string) => queueUrl(this.world, name);

    // The ports, built as in Lambda (layers/wiring), over the twin's clients.
    this.ports = recyclerPorts(
      this.clients,
      {
        recheckQueueUrl: queueUrl(this.world, taskRecyclerWiring.queue),
        deadLetterQueueUrl: deadLetters('task-recycler-dlq'),
        notifyTopicArn,
      },
      { ...host, capacity },
    );
    this.alarmPorts = alarmReactorPorts(
      this.clients,
      { deadLetterQueueUrl: deadLetters('alarm-reactor-dlq'), notifyTopicArn },
      host,
    );
    this.lifecyclePorts = lifecyclePorts(
      this.clients,
      {
        stateMachineArn: this.stateMachineArn(lifecycleWiring.stateMachine),
        deadLetterQueueUrl: deadLetters('lifecycle-dlq'),
        notifyTopicArn,
      },
      host,
    );
    this.rolloutPorts = rolloutPorts(
      this.clients,
      {
        stateMachineArn: rolloutMachineArn,
        routeClaimsTable: OPS_TABLE,
        notifyTopicArn,
        trafficCheckFunctions: this.trafficCheckFunctions,
      },
      this.declaredRoutes,
      host,
      lambdaChecksOver(aws.client(LambdaClient, lambdaModel(this.lambdas, this.world))),
    );
    this.reflexSettings = {
      dryRun: {
        taskRecycler: this.settings.dryRun,
        alarmReactor: alarmSettings.dryRun,
        instanceLifecycle: lifecycleSettings.dryRun,
      },
      reactions: alarmSettings.reactions,
      recyclerPolicy: this.settings.policy,
      deadLetterQueueUrls,
    };
    this.opsPorts = opsPorts(
      this.clients,
      {
        stateMachineArn: rolloutMachineArn,
        lifecycleStateMachineArn: this.stateMachineArn(lifecycleWiring.stateMachine),
        actionLogGroups: Object.fromEntries(actionLogFunctions().map((name) => [name, logGroupOf(name)])),
        idempotencyTable: OPS_TABLE,
        maxAttempts: DEFAULT_MAX_ATTEMPTS,
      },
      this.rolloutPorts,
      host,
    );

    // The functions, each run as Lambda runs it, behind the triggers serverless.yml gives it.
    const delivery: Delivery = { clock: this.scheduler, timeline: this.timeline, deadLetters: [] };
    this.delivery = delivery;
    this.bus = new TwinEventBus(delivery);
    const lifecycleDeps = () => ({ ports: this.lifecyclePorts, settings: lifecycleSettings });
    this.workflow(lifecycleWiring.stateMachine, lifecycleWiring, () =>
      createInstanceLifecycleStepHandler(lifecycleDeps),
    );
    const hook = this.lambdas.function(lifecycleWiring.intakeFunctionName, () =>
      createLifecycleHookHandler(lifecycleDeps),
    );
    const lifecycleHook = new TwinAsyncFunction(hook, lifecycleWiring, delivery);
    // An SQS batch gets the batch answer (processPartialResponse) from the same handler.
    const notifications = lifecycleWiring.notificationQueue;
    this.lifecycleNotifications = new TwinQueue(notifications, lifecycleWiring, hook as SqsHandler, delivery);
    addQueue(this.lifecycleNotifications);
    const rolloutDeps = () => ({ ports: this.rolloutPorts, stateMachineArn: rolloutMachineArn });
    this.workflow(rolloutWiring.twinStateMachineName, rolloutWiring, () =>
      createRolloutStepHandler(rolloutDeps),
    );
    const safetyNet = this.lambdas.function(rolloutWiring.safetyNetFunctionName, () =>
      createRolloutSafetyNetHandler(rolloutDeps),
    );
    const rolloutSafetyNet = new TwinAsyncFunction(safetyNet, rolloutWiring, delivery);
    // The real deployment hook, a target a native deployment's hookTargetArn can name (`@lambda:deploymentHook`).
    this.deploymentHookServices = options.deploymentHookServices ?? [];
    const hookSettings = {
      services: this.deploymentHookServices,
      functionName: deploymentHookWiring.functionName,
    };
    // Lambda checks at hook stages invoke the same registered functions as the rollouts' do.
    const hookPorts = deploymentHookPorts(this.clients, host, {
      lambda: this.rolloutPorts.trafficChecks.lambda,
      functions: this.trafficCheckFunctions,
    });
    this.lambdas.function(deploymentHookWiring.functionName, () =>
      createDeploymentHookHandler(() => ({ ports: hookPorts, settings: hookSettings })),
    );
    // The guard alarms of the hook's services stop their native deployments through the alarm reactor.
    const stopSettings = {
      dryRun: alarmSettings.dryRun,
      services: this.deploymentHookServices,
      hookFunctionName: deploymentHookWiring.functionName,
    };
    const guardedPorts = guardedDeploymentPorts(this.clients, this.alarmPorts);
    const alarmDeps = () => ({
      ports: this.alarmPorts,
      settings: alarmSettings,
      rollouts: { ports: this.rolloutPorts },
      deployments: { ports: guardedPorts, settings: stopSettings },
    });
    const alarmReactorFunction = this.lambdas.function(alarmReactorWiring.functionName, () =>
      createAlarmReactorHandler(alarmDeps),
    );
    const alarmReactor = new TwinAsyncFunction(alarmReactorFunction, alarmReactorWiring, delivery);
    const deps = () => ({ ports: this.ports, settings: this.settings });
    const recycler = this.lambdas.function(taskRecyclerWiring.functionName, () =>
      createTaskRecyclerHandler(deps, options.recycler),
    );
    if (options.recyclerDeployment === 'one-at-a-time') {
      this.queue = new TwinQueue(
        taskRecyclerWiring.queue,
        { ...taskRecyclerWiring, concurrency: 1 },
        recycler,
        delivery,
      );
      this.recyclerQueue = this.queue;
    } else {
      const { taskGroupQueue, maximumConcurrency, routerFunctionName } = taskRecyclerWiring;
      const groups = new TwinQueue(
        taskGroupQueue,
        { ...taskRecyclerWiring, fifo: true, concurrency: maximumConcurrency },
        recycler,
        delivery,
      );
      const groupsUrl = addQueue(groups);
      this.recyclerQueue = groups;
      const router = this.lambdas.function(routerFunctionName, () =>
        createTaskRecyclerRouterHandler(() => routerDeps(this.clients.sqs, groupsUrl)),
      );
      // Lambda polls a standard queue with five batches at once to start with (and scales up from there
      // while messages keep coming); the router has no reserved concurrency to hold it back.
      this.queue = new TwinQueue(
        taskRecyclerWiring.queue,
        { ...taskRecyclerWiring, concurrency: STANDARD_QUEUE_POLLERS },
        router as SqsHandler,
        delivery,
      );
    }
    addQueue(this.queue);
    if (options.deliverEvents === false) return;
    for (const rule of taskRecyclerWiring.rules)
      this.bus.addRule(rule, (e) => this.queue.send(JSON.stringify(e)));
    this.bus.addRule(alarmReactorWiring.rule, (e) => alarmReactor.invoke(e));
    this.bus.addRule(lifecycleWiring.rule, (e) => lifecycleHook.invoke(e));
    this.bus.addRule(rolloutWiring.safetyNetRule, (e) => rolloutSafetyNet.invoke(e));
    // The sweep's schedule: the function runs every minute, a failed run shows on the timeline. (An
    // awaited try, not .catch(): the extra step would shift parked invocations, as TwinAsyncFunction says.)
    const { sweepFunctionName, sweepRateSeconds } = taskRecyclerWiring;
    const sweep = this.lambdas.function(sweepFunctionName, () => createTaskRecyclerSweepHandler(deps));
    const sweepOnce = async () => {
      const time = this.scheduler.now().toISOString();
      try {
        await sweep({ 'detail-type': 'Scheduled Event', source: 'aws.events', time });
      } catch (error) {
        this.timeline.add('lambda', `${sweepFunctionName} failed: ${(error as Error).message}`);
      }
      this.scheduler.after(sweepRateSeconds, sweepFunctionName, sweepOnce);
    };
    this.scheduler.after(sweepRateSeconds, sweepFunctionName, sweepOnce);
    // The alarm reactor's schedule invokes the reactor itself, asynchronously, like its alarm rule.
    const everyMinute = () => {
      alarmReactor.invoke(eventEnvelope(this.world, 'aws.events', 'Scheduled Event', [], {}));
      this.scheduler.after(alarmReactorWiring.sweepRateSeconds, 'alarm reactor schedule', everyMinute);
    };
    this.scheduler.after(alarmReactorWiring.sweepRateSeconds, 'alarm reactor schedule', everyMinute);
  }

  /** Starts the world's clockwork; call once the scenario has built its world. */
  start(): void {
    this.world.start();
    this.scaling.start();
    this.cloudWatch.start();
    this.traffic.start();
  }

  /** `listener` runs before each attempt at a write a client sends: the world just before it may change. */
  beforeEachWrite(listener: () => void): void {
    this.aws.beforeEachWrite(listener);
  }

  /** Like StartExecution on the rollout workflow (what a pipeline or the ops API does). */
  startRollout(name: string, rollout: unknown): { executionArn: string } {
    this.timeline.add('event', `rollout ${name} started`);
    return this.stepFunctions.startExecution(rolloutWiring.twinStateMachineName, {
      name,
      input: { rollout },
    });
  }

  /** The ARN of one of the twin's state machines. */
  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.world.region}:${this.world.account}:stateMachine:${name}`;
  }

  /** A rollout execution as DescribeExecution shows it, by name. */
  rolloutRun(name: string): { status: string; error?: string } | undefined {
    const machine = rolloutWiring.twinStateMachineName;
    const run = this.stepFunctions.listExecutions(machine).find((e) => e.name === name);
    return run && this.stepFunctions.describeExecution(run.executionArn);
  }

  /** Moves the virtual clock `seconds` on, running everything due meanwhile. */
  async runFor(seconds: number): Promise<void> {
    await this.scheduler.runUntil(new Date(this.scheduler.now().getTime() + seconds * 1000));
  }

  /**
   * Runs `act` (a handler a test calls directly) on the twin's clock until it settles, as the twin runs
   * its own invocations: the SDK's backoff between attempts takes virtual seconds, not real ones.
   */
  settle<T>(act: () => Promise<T>): Promise<T> {
    return this.scheduler.runUntilSettled('called from a test', act);
  }

  /**
   * An event from outside (a JSON file in a scenario), put on the bus like PutEvents would. One that no
   * rule matches reaches nothing, and the timeline says so.
   */
  inject(event: unknown): void {
    const injected = `injected ${describeEvent(event)}`;
    if (this.bus.put(event) > 0) this.timeline.add('event', injected);
    else this.timeline.add('event', `${injected}: matched no rule`, { unmatched: event });
  }

  /** The twin's SQS queues by name, as wiring.ts names them. */
  get sqsQueues(): TwinQueue[] {
    return [this.queue, this.lifecycleNotifications];
  }

  /**
   * A message on one of the twin's queues from outside (a scenario): what a principal allowed to
   * SendMessage, or an SNS topic the queue admits (`topicArn`), could send. The consumer takes it as any other.
   */
  sendMessage(queueName: string, body: string, topicArn?: string): void {
    const queue = this.sqsQueues.find((q) => q.name === queueName);
    if (!queue)
      throw new QueueDoesNotExist(
        `no queue ${queueName}; the twin's queues are ${this.sqsQueues.map((q) => q.name).join(', ')}`,
      );
    const via = topicArn ? ` through SNS topic ${topicArn.split(':').pop()}` : '';
    this.timeline.add('event', `message sent to ${queueName}${via}`, { queue: queueName, body });
    queue.send(body);
  }

  /** What no function took (messages past their receives, events past their retries), then what they parked. */
  get deadLetters(): string[] {
    return [...this.delivery.deadLetters, ...this.recorders.parked.map((p) => p.input)];
  }

  /** A workflow whose one Lambda step is `create`'s handler, its ARN put in the definition as packaging does. */
  private workflow(
    machine: string,
    wiring: { definitionFile: string; stepArnPlaceholder: string; stepFunctionName: string },
    create: () => Handler,
  ): void {
    const name = wiring.stepFunctionName;
    const arn = `arn:aws:lambda:${this.world.region}:${this.world.account}:function:${name}`;
    const step = this.lambdas.function(name, create);
    const definition = repoFile(wiring.definitionFile);
    const placeholder = ['$', `{${wiring.stepArnPlaceholder}}`].join('');
    this.stepFunctions.createStateMachine(machine, JSON.parse(definition.replaceAll(placeholder, arn)), {
      [arn]: (payload) => step(payload),
    });
  }

  private recordJournal(entry: JournalEntry): void {
    // The journal is log lines: a runtime that has died writes none.
    if (runtimeGone()) return;
    const at = this.scheduler.now();
    this.journal.push({ ...entry, at });
    // The line powertoolsJournal logs, in the log group of the function that logs it. Recorded while no
    // Lambda of the twin's runs (a person's request, a test filling the journal), it lands where a function
    // that journals its reflex would log it: the ops API's write function first, as a person's request does.
    const fn = currentFunction() ?? functionJournaling(entry.reflex);
    this.logs.put(
      logGroupOf(fn),
      'twin',
      JSON.stringify({
        level: entry.outcome === 'failed' ? 'WARN' : 'INFO',
        message: `${entry.reflex} ${entry.action} ${entry.outcome}`,
        service: 'ecs-reflex',
        timestamp: at.toISOString(),
        function_name: fn,
        ...entry,
      }),
    );
    const kind = entry.outcome === 'held' ? 'decision' : 'action';
    const target = shortArn(entry.target);
    this.timeline.add(kind, `${entry.action} ${target}: ${entry.reason} [${entry.outcome}]`, { ...entry });
  }
}

export const shortArn = (text: string): string =>
  text.replace(/arn:aws:[^\s]*?\/([^\s/]+)(?=\s|$)/g, (_m, id: string) =>
    id.length > 12 ? id.slice(0, 8) : id,
  );
