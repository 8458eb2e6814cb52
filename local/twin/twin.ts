// The local twin assembled: the simulated world, its event bus and queues wired like serverless.yml,
// and the real handlers running against the twin's ports. Tests, `npm run simulate` and `npm start` all
// build this one thing.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIFECYCLE_WORKFLOW, type LifecyclePorts, type LifecycleSettings } from '#app/instanceLifecycle';
import type { OpsPorts } from '#app/opsApi';
import type { AlarmReactorSettings } from '#app/reactToAlarm';
import { ROLLOUT_WORKFLOW } from '#app/rollout';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import { recheckMessage } from '#events/recheck';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { createInstanceLifecycleStepHandler } from '#functions/instanceLifecycleStep';
import { createLifecycleHookHandler } from '#functions/lifecycleHook';
import { createRolloutSafetyNetHandler } from '#functions/rolloutSafetyNet';
import { createRolloutStepHandler } from '#functions/rolloutStep';
import { createTaskRecyclerHandler } from '#functions/taskRecycler';
import { createTaskRecyclerSweepHandler } from '#functions/taskRecyclerSweep';
import { TwinStepFunctions } from '#local/stepfunctions/runner';
import { twinAlarmReactorPorts } from '#local/twin/alarmReactorPorts';
import { TwinCloudWatch } from '#local/twin/alarms';
import { TwinSendLayer } from '#local/twin/aws/client';
import {
  type DeliveryObserver,
  lambdaContext,
  type ScheduledHandler,
  type SqsHandler,
  TwinAsyncFunction,
  TwinEventBus,
  TwinQueue,
} from '#local/twin/delivery';
import { type MidwayCrash, runtimeGone, TwinLambdas } from '#local/twin/lambdas';
import { TwinLifecycle } from '#local/twin/lifecycle';
import { twinLifecyclePorts } from '#local/twin/lifecyclePorts';
import {
  twinActionHistory,
  twinIdempotencyStore,
  twinInstanceFleet,
  twinServiceOperations,
} from '#local/twin/opsPorts';
import { Faults, recordedCalls, type TwinRecorders, twinRecyclerPorts } from '#local/twin/ports';
import { twinMetrics, twinRolloutRouters, twinRouteClaims } from '#local/twin/rolloutPorts';
import { TwinScaling } from '#local/twin/scaling';
import { VirtualScheduler } from '#local/twin/scheduler';
import { Timeline } from '#local/twin/timeline';
import { TwinTraffic } from '#local/twin/traffic';
import { alarmReactorWiring, lifecycleWiring, rolloutWiring, taskRecyclerWiring } from '#local/twin/wiring';
import { twinWorkflowRuns, twinWorkflows } from '#local/twin/workflows';
import { World } from '#local/twin/world';
import type { AlarmReactorPorts, JournalEntry, RecyclerPorts, RolloutPorts } from '#ports';
import type { RecyclerSettings } from '#runtime/config';

export interface TwinOptions {
  seed: number;
  start?: Date;
  settings: RecyclerSettings;
  alarmReactor?: AlarmReactorSettings;
  lifecycle?: LifecycleSettings;
  /** False for tests that invoke a handler themselves: the twin's events then reach no handler. */
  deliverEvents?: boolean;
}

export class Twin {
  readonly scheduler: VirtualScheduler;
  readonly world: World;
  readonly faults: Faults;
  /** The send layer every twin SDK client answers through: records each attempt, draws its faults. */
  readonly aws: TwinSendLayer;
  readonly timeline: Timeline;
  /** Every action any reflex (or the ops API) recorded, with its virtual time. */
  readonly journal: (JournalEntry & { at: Date })[] = [];
  readonly recorders: TwinRecorders;
  readonly ports: RecyclerPorts;
  readonly bus: TwinEventBus;
  readonly queue: TwinQueue;
  readonly scaling: TwinScaling;
  readonly cloudWatch: TwinCloudWatch;
  readonly alarmPorts: AlarmReactorPorts;
  readonly alarmReactor: TwinAsyncFunction;
  readonly lifecycle: TwinLifecycle;
  readonly lifecyclePorts: LifecyclePorts;
  readonly lifecycleHook: TwinAsyncFunction;
  /** Hooks with a notification target deliver there too (the older form), read by the same intake. */
  readonly lifecycleNotifications: TwinQueue;
  readonly stepFunctions: TwinStepFunctions;
  /** Routes (App Mesh, ALB rules), the requests they split, and the metrics those produce. */
  readonly traffic: TwinTraffic;
  readonly rolloutPorts: RolloutPorts;
  /**
   * The routes rollouts may run on, with their services (OPS_ROUTES in AWS): a scenario declares each of its
   * routes; a test that builds a twin by hand pushes its own. The rollout ports read this very list.
   */
  readonly declaredRoutes: DeclaredRoute[] = [];
  readonly rolloutSafetyNet: TwinAsyncFunction;
  /** What the ops API sees and steers, over this twin. */
  readonly opsPorts: OpsPorts;
  /** Every Lambda invocation, the AWS calls each made, and the runtimes made to die. */
  readonly lambdas: TwinLambdas;
  /** Functions whose runtime dies on every invocation until then (a scenario's crashFunction). */
  readonly crashUntil: Map<string, Date>;
  readonly invocations = { total: 0, failedRecords: 0 };
  private readonly settings: RecyclerSettings;
  private readonly alarmSettings: AlarmReactorSettings;
  private readonly lifecycleSettings: LifecycleSettings;

  constructor(options: TwinOptions) {
    this.settings = options.settings;
    this.alarmSettings = options.alarmReactor ?? { dryRun: false, reactions: [] };
    this.lifecycleSettings = options.lifecycle ?? { dryRun: false, hooks: [] };
    this.scheduler = new VirtualScheduler(options.start ?? new Date('2026-11-02T09:00:00Z'));
    this.timeline = new Timeline(() => this.scheduler.elapsedSeconds());
    this.lambdas = new TwinLambdas(this.scheduler, (text) => this.timeline.add('lambda', text));
    this.crashUntil = this.lambdas.crashUntil;
    this.faults = new Faults(options.seed);
    this.world = new World(
      this.scheduler,
      { event: (event) => this.bus.put(event), note: (text) => this.timeline.add('world', text) },
      options.seed,
    );
    this.aws = new TwinSendLayer({ clock: this.scheduler, calls: this.world.apiCalls, faults: this.faults });
    this.recorders = {
      journal: { record: (entry) => this.recordJournal(entry) },
      notifications: [],
      shortfalls: [],
      parked: [],
      recheck: (cluster, group, at) => this.sendRecheck(cluster, group, at),
      // The recycler's CapacityShortfall EMF metric, which an alarm can watch.
      onShortfall: (shortfall) =>
        this.cloudWatch.count('CapacityShortfall', { ClusterName: shortfall.cluster }),
    };
    this.ports = twinRecyclerPorts(this.world, this.faults, this.recorders, (reason) =>
      this.timeline.add('lambda', `input parked in the dead-letter queue: ${reason}`),
    );

    const note = (text: string) => this.timeline.add('world', text);
    this.scaling = new TwinScaling(this.world, note);
    this.traffic = new TwinTraffic(this.world, note);
    this.cloudWatch = new TwinCloudWatch(
      this.world,
      (event) => this.bus.put(event),
      note,
      (query) => this.traffic.alarmSample(query),
    );
    this.alarmPorts = twinAlarmReactorPorts(
      this.world,
      this.cloudWatch,
      this.scaling,
      recordedCalls(this.world, this.faults),
      this.recorders.journal,
      this.ports.deadLetters,
    );

    this.lifecycle = new TwinLifecycle(
      this.world,
      this.scaling,
      (event) => this.bus.put(event),
      note,
      (body) => this.lifecycleNotifications.send(body),
    );
    this.stepFunctions = new TwinStepFunctions(this.scheduler, {
      region: this.world.region,
      accountId: this.world.account,
      onStatusChange: (event) => this.bus.put(event),
    });
    this.lifecyclePorts = {
      ...twinLifecyclePorts(this.world, this.scaling, this.lifecycle, recordedCalls(this.world, this.faults)),
      workflows: twinWorkflows(
        this.stepFunctions,
        { [LIFECYCLE_WORKFLOW]: lifecycleWiring.stateMachine },
        recordedCalls(this.world, this.faults),
      ),
      notifier: this.ports.notifier,
      clock: this.scheduler,
      journal: this.recorders.journal,
      deadLetters: this.ports.deadLetters,
    };

    const delivery = this.deliveryObserver();
    this.bus = new TwinEventBus(this.scheduler, delivery);
    const lifecycleDeps = () => ({ ports: this.lifecyclePorts, settings: this.lifecycleSettings });
    const stepHandler = this.lambdas.function(lifecycleWiring.stepFunctionName, () =>
      createInstanceLifecycleStepHandler(lifecycleDeps),
    );
    const definition = readFileSync(join(__dirname, '..', '..', lifecycleWiring.definitionFile), 'utf8');
    const stepArn = `arn:aws:lambda:${this.world.region}:${this.world.account}:function:${lifecycleWiring.stepFunctionName}`;
    this.stepFunctions.createStateMachine(
      lifecycleWiring.stateMachine,
      JSON.parse(definition.replaceAll(['$', '{InstanceLifecycleStepFunctionArn}'].join(''), stepArn)),
      { [stepArn]: (payload) => stepHandler(payload, lambdaContext(lifecycleWiring.stepFunctionName)) },
    );
    const hookHandler = this.lambdas.function(lifecycleWiring.intakeFunctionName, () =>
      createLifecycleHookHandler(lifecycleDeps),
    );
    this.lifecycleHook = new TwinAsyncFunction(
      this.scheduler,
      lifecycleWiring.intakeFunctionName,
      () => hookHandler,
      lifecycleWiring.retryAttempts,
      delivery,
    );
    this.lifecycleNotifications = new TwinQueue(
      lifecycleWiring.notificationQueue,
      this.scheduler,
      {
        visibilityTimeoutSeconds: lifecycleWiring.visibilityTimeoutSeconds,
        maxReceiveCount: lifecycleWiring.maxReceiveCount,
        batchSize: lifecycleWiring.batchSize,
        functionName: lifecycleWiring.intakeFunctionName,
        // An SQS batch gets the batch answer (processPartialResponse) from the same handler.
        handler: () => (event, context) => hookHandler(event, context) as ReturnType<SqsHandler>,
      },
      delivery,
    );
    this.rolloutPorts = this.buildRolloutPorts();
    const rolloutMachineArn = `arn:aws:states:${this.world.region}:${this.world.account}:stateMachine:${rolloutWiring.twinStateMachineName}`;
    const rolloutDeps = () => ({ ports: this.rolloutPorts, stateMachineArn: rolloutMachineArn });
    const rolloutStep = this.lambdas.function(rolloutWiring.stepFunctionName, () =>
      createRolloutStepHandler(rolloutDeps),
    );
    const rolloutStepArn = `arn:aws:lambda:${this.world.region}:${this.world.account}:function:${rolloutWiring.stepFunctionName}`;
    const rolloutDefinition = readFileSync(join(__dirname, '..', '..', rolloutWiring.definitionFile), 'utf8');
    this.stepFunctions.createStateMachine(
      rolloutWiring.twinStateMachineName,
      JSON.parse(
        rolloutDefinition.replaceAll(['$', `{${rolloutWiring.stepArnPlaceholder}}`].join(''), rolloutStepArn),
      ),
      {
        [rolloutStepArn]: (payload) => rolloutStep(payload, lambdaContext(rolloutWiring.stepFunctionName)),
      },
    );
    const safetyNet = this.lambdas.function(rolloutWiring.safetyNetFunctionName, () =>
      createRolloutSafetyNetHandler(rolloutDeps),
    );
    this.rolloutSafetyNet = new TwinAsyncFunction(
      this.scheduler,
      rolloutWiring.safetyNetFunctionName,
      () => safetyNet,
      rolloutWiring.retryAttempts,
      delivery,
    );
    const opsCall = recordedCalls(this.world, this.faults);
    this.opsPorts = {
      rollouts: this.rolloutPorts,
      journal: this.recorders.journal,
      workflows: twinWorkflows(
        this.stepFunctions,
        { [ROLLOUT_WORKFLOW]: rolloutWiring.twinStateMachineName },
        opsCall,
      ),
      services: this.ports.services,
      serviceOperations: twinServiceOperations(this.world, opsCall),
      instances: this.lifecyclePorts.instances,
      instanceFleet: twinInstanceFleet(this.world, opsCall),
      lifecycleRuns: twinWorkflowRuns(
        this.stepFunctions,
        { [LIFECYCLE_WORKFLOW]: lifecycleWiring.stateMachine },
        opsCall,
      ),
      actions: twinActionHistory(() => this.journal, this.scheduler),
      idempotency: twinIdempotencyStore(this.scheduler),
    };
    const alarmDeps = () => ({
      ports: this.alarmPorts,
      settings: this.alarmSettings,
      rollouts: { ports: this.rolloutPorts },
    });
    const alarmHandler = this.lambdas.function(alarmReactorWiring.functionName, () =>
      createAlarmReactorHandler(alarmDeps),
    );
    this.alarmReactor = new TwinAsyncFunction(
      this.scheduler,
      alarmReactorWiring.functionName,
      () => alarmHandler,
      alarmReactorWiring.retryAttempts,
      delivery,
    );
    const deps = () => ({ ports: this.ports, settings: this.settings });
    const recycler = this.lambdas.function(taskRecyclerWiring.functionName, () =>
      createTaskRecyclerHandler(deps),
    );
    this.queue = new TwinQueue(
      taskRecyclerWiring.queue,
      this.scheduler,
      {
        visibilityTimeoutSeconds: taskRecyclerWiring.visibilityTimeoutSeconds,
        maxReceiveCount: taskRecyclerWiring.maxReceiveCount,
        batchSize: taskRecyclerWiring.batchSize,
        functionName: taskRecyclerWiring.functionName,
        handler: () => recycler,
      },
      delivery,
    );
    if (options.deliverEvents === false) return;
    for (const rule of taskRecyclerWiring.rules) {
      this.bus.addRule(rule.name, rule.patternFile, (event) => this.queue.send(JSON.stringify(event)));
    }
    this.bus.addRule(alarmReactorWiring.rule.name, alarmReactorWiring.rule.patternFile, (event) =>
      this.alarmReactor.invoke(event),
    );
    this.bus.addRule(lifecycleWiring.rule.name, lifecycleWiring.rule.patternFile, (event) =>
      this.lifecycleHook.invoke(event),
    );
    this.bus.addRule(rolloutWiring.safetyNetRule.name, rolloutWiring.safetyNetRule.patternFile, (event) =>
      this.rolloutSafetyNet.invoke(event),
    );
    this.every(
      taskRecyclerWiring.sweepRateSeconds,
      taskRecyclerWiring.sweepFunctionName,
      this.lambdas.function(taskRecyclerWiring.sweepFunctionName, () => createTaskRecyclerSweepHandler(deps)),
    );
    // The alarm reactor's schedule invokes the reactor itself, asynchronously, like its alarm rule.
    const everyMinute = () => {
      this.alarmReactor.invoke({
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        version: '0',
        id: this.world.newId(),
        account: this.world.account,
        time: this.scheduler.now().toISOString(),
        region: this.world.region,
        resources: [],
        detail: {},
      });
      this.scheduler.after(alarmReactorWiring.sweepRateSeconds, 'alarm reactor schedule', everyMinute);
    };
    this.scheduler.after(alarmReactorWiring.sweepRateSeconds, 'alarm reactor schedule', everyMinute);
  }

  get settingsForTests(): RecyclerSettings {
    return this.settings;
  }

  /** Starts the world's clockwork; call once the scenario has built its world. */
  start(): void {
    this.world.start();
    this.scaling.start();
    this.cloudWatch.start();
    this.traffic.start();
  }

  /** Like StartExecution on the rollout workflow (what a pipeline or the ops API does). */
  startRollout(name: string, rollout: unknown): { executionArn: string } {
    this.timeline.add('event', `rollout ${name} started`);
    return this.stepFunctions.startExecution(rolloutWiring.twinStateMachineName, {
      name,
      input: { rollout },
    });
  }

  /**
   * The `invocation`-th invocation of `function` (1 for its first) dies once it has made `afterCalls`
   * AWS calls: nothing it does after that reaches AWS, and its invoker sees Runtime.ExitError.
   */
  crashMidway(crash: MidwayCrash): void {
    this.lambdas.crashMidway(crash);
  }

  /** A rollout execution as DescribeExecution shows it, by name. */
  rolloutRun(name: string): { status: string; error?: string } | undefined {
    const machine = rolloutWiring.twinStateMachineName;
    const run = this.stepFunctions.listExecutions(machine).find((e) => e.name === name);
    return run && this.stepFunctions.describeExecution(run.executionArn);
  }

  /** The rollout ports over the twin: its routes and metrics, its CloudWatch, ECS and Step Functions. */
  private buildRolloutPorts(): RolloutPorts {
    const call = recordedCalls(this.world, this.faults);
    return {
      routers: twinRolloutRouters(this.traffic, call),
      declaredRoutes: this.declaredRoutes,
      // A conditional write DynamoDB refuses reaches AWS (and its faults) and fails with its name.
      claims: twinRouteClaims(call),
      metrics: twinMetrics(this.traffic, call),
      alarms: this.alarmPorts.alarms,
      targets: this.ports.targets,
      services: this.ports.services,
      runs: twinWorkflowRuns(
        this.stepFunctions,
        { [ROLLOUT_WORKFLOW]: rolloutWiring.twinStateMachineName },
        call,
      ),
      notifier: this.ports.notifier,
      clock: this.scheduler,
      journal: this.recorders.journal,
    };
  }

  async runFor(seconds: number): Promise<void> {
    await this.scheduler.runUntil(new Date(this.scheduler.now().getTime() + seconds * 1000));
  }

  /** An event from outside (a JSON file in a scenario), put on the bus like PutEvents would. */
  inject(event: unknown): void {
    this.timeline.add('event', `injected ${describeEvent(event)}`);
    this.bus.put(event);
  }

  /**
   * A message on the lifecycle notification queue from outside Auto Scaling: what an SNS topic the queue
   * admits, or a principal allowed to SendMessage, could send. The intake takes it as any other.
   */
  injectLifecycleMessage(message: unknown): void {
    this.timeline.add('event', `injected a message on ${lifecycleWiring.notificationQueue}`);
    this.lifecycleNotifications.send(JSON.stringify(message));
  }

  get deadLetters(): string[] {
    return [
      ...this.queue.deadLetters,
      ...this.recorders.parked.map((p) => p.input),
      ...this.alarmReactor.failures.map((e) => JSON.stringify(e)),
      ...this.lifecycleHook.failures.map((e) => JSON.stringify(e)),
      ...this.lifecycleNotifications.deadLetters,
      ...this.rolloutSafetyNet.failures.map((e) => JSON.stringify(e)),
    ];
  }

  private recordJournal(entry: JournalEntry): void {
    // The journal is log lines: a runtime that has died writes none.
    if (runtimeGone()) return;
    this.journal.push({ ...entry, at: this.scheduler.now() });
    const kind = entry.outcome === 'held' ? 'decision' : 'action';
    const target = shortArn(entry.target);
    this.timeline.add(kind, `${entry.action} ${target}: ${entry.reason} [${entry.outcome}]`, { ...entry });
  }

  private sendRecheck(cluster: string, group: string, at: Date): void {
    const now = this.scheduler.now();
    const { account, region } = this.world;
    const body = recheckMessage({ cluster, group, dueAt: at, id: this.world.newId(), now, account, region });
    this.queue.send(JSON.stringify(body), Math.ceil((at.getTime() - now.getTime()) / 1000));
  }

  /** A scheduled rule: the function runs every `seconds`, a failed run shows on the timeline. */
  private every(seconds: number, functionName: string, handler: ScheduledHandler): void {
    const run = async () => {
      try {
        await handler(
          {
            'detail-type': 'Scheduled Event',
            source: 'aws.events',
            time: this.scheduler.now().toISOString(),
          },
          lambdaContext(functionName),
        );
      } catch (error) {
        this.timeline.add('lambda', `${functionName} failed: ${(error as Error).message}`);
      }
      this.scheduler.after(seconds, functionName, run);
    };
    this.scheduler.after(seconds, functionName, run);
  }

  private deliveryObserver(): DeliveryObserver {
    return {
      routed: (event, rule) => this.timeline.add('event', `${describeEvent(event)} -> ${rule}`, { event }),
      unrouted: () => undefined,
      invoked: (fn, records, failed, error) => {
        this.invocations.total += 1;
        this.invocations.failedRecords += failed;
        if (failed > 0)
          this.timeline.add(
            'lambda',
            `${fn}: ${failed}/${records} record(s) failed, will be retried${error ? ` (${error})` : ''}`,
          );
      },
      deadLettered: (queue) =>
        this.timeline.add('lambda', `a message exhausted its receives on ${queue}: dead-lettered`),
    };
  }
}

export const shortArn = (text: string): string =>
  text.replace(/arn:aws:[^\s]*?\/([^\s/]+)(?=\s|$)/g, (_m, id: string) =>
    id.length > 12 ? id.slice(0, 8) : id,
  );

export function describeEvent(event: unknown): string {
  const e = event as { 'detail-type'?: string; detail?: Record<string, unknown>; resources?: string[] };
  const detail = e.detail ?? {};
  if (e['detail-type'] === 'ECS Task State Change') {
    const id = String(detail.taskArn ?? '')
      .split('/')
      .pop()
      ?.slice(0, 8);
    const why = [detail.stopCode, detail.stoppedReason].filter(Boolean).join(': ');
    return `task ${id} ${detail.group} ${detail.lastStatus}${why ? ` (${why})` : ''}`;
  }
  if (e['detail-type'] === 'ECS Service Action')
    return `service action ${detail.eventName} ${detail.reason ?? ''}`.trim();
  if (e['detail-type'] === 'Task Group Recheck') return `recheck ${detail.group}`;
  return `${e['detail-type'] ?? 'unknown event'}`;
}
