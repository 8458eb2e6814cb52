// ECS native deployments (deployment controller ECS, strategy BLUE_GREEN, LINEAR or CANARY) as the twin
// runs them, in virtual time: the green revision scales up beside the blue one in the alternate target
// group, test traffic moves on the test listener rule, production traffic moves on the production rule in the
// strategy's steps, the deployment bakes, then the blue revision goes. At each stage the service's lifecycle
// hooks are invoked with ECS's payload; IN_PROGRESS is asked again after `callBackDelay`; FAILED, an
// invalid answer, a crashed or unknown function, a deployment alarm in ALARM or StopServiceDeployment roll
// the deployment back. Each change is an `ECS Deployment State Change` event on the bus.
//
// What the API accepts and answers (UpdateService's settings, DescribeServiceDeployments...) lives in
// local/twin/aws/ecs.ts; the world keeps the tasks (a service under a native deployment keeps its blue
// tasks, world.ts). Sources: the ECS developer guide's "Amazon ECS blue/green / linear / canary
// deployments", "Lifecycle hooks for Amazon ECS service deployments", "Lambda hooks for Amazon ECS service
// deployments", "Amazon ECS service deployment state change events", and the API reference's
// DeploymentConfiguration, DeploymentLifecycleHook, ServiceDeployment and StopServiceDeployment.
import type * as Ecs from '@aws-sdk/client-ecs';
import type { DeploymentRecord } from '#domain/model';
import type { TwinLoadBalancers } from '#local/twin/aws/elbv2';
import { deploymentStateChange } from '#local/twin/events';
import type { TwinLambdas } from '#local/twin/lambdas';
import { settled } from '#local/twin/scheduler';
import type { DeploymentState, ServiceState } from '#local/twin/state';
import type { World } from '#local/twin/world';

export type NativeStrategy = 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
export type HookStage = Ecs.DeploymentLifecycleHookStage;

/** What UpdateService configured for a service's native deployments (ecs.ts checks it). */
export interface NativeSettings {
  strategy: NativeStrategy;
  bakeTimeInMinutes: number;
  canary: { percent: number; bakeMinutes: number };
  linear: { stepPercent: number; stepBakeMinutes: number };
  hooks: Ecs.DeploymentLifecycleHook[];
  alarms?: { alarmNames: string[]; rollback: boolean; enable: boolean };
  /** The ALB listener rule (or NLB listener) traffic moves on; the production target group is blue. */
  loadBalancer?: {
    targetGroupArn: string;
    alternateTargetGroupArn: string;
    productionListenerRule: string;
    testListenerRule?: string;
  };
}

export interface NativeDeployment {
  arn: string;
  service: ServiceState;
  settings: NativeSettings;
  blue: DeploymentState;
  green: DeploymentState;
  sourceRevisionArn: string;
  targetRevisionArn: string;
  status: Ecs.ServiceDeploymentStatus;
  statusReason?: string;
  /** ServiceDeployment's stages, and PRE_PRODUCTION_TRAFFIC_SHIFT, which its reference lists but its enum lacks. */
  lifecycleStage: Ecs.ServiceDeploymentLifecycleStage | HookStage;
  createdAt: Date;
  updatedAt: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  /** Green's share of production and of test traffic, in percent. */
  production: number;
  test: number;
  hookDetails: Ecs.DeploymentLifecycleHookDetail[];
  rollback?: Ecs.Rollback;
  triggeredAlarms: string[];
  /** What each hook (by its place in the settings) handed back so far: ECS keeps it for the deployment. */
  hookState: Map<number, Record<string, unknown>>;
  /** The line it left in the service's history once it ended (other reflexes read the history). */
  record?: DeploymentRecord;
  /** The deployment stopped moving forward (rolled back, or stopped by an alarm without rollback). */
  halted: boolean;
}

/** What ECS sends a hook function (the "Lambda hooks" guide's payload). */
export interface HookPayload {
  executionId: string;
  lifecycleStage: HookStage;
  resourceArn: string;
  executionDetails: {
    serviceArn: string;
    targetServiceRevisionArn: string;
    testTrafficWeights: Record<string, number>;
    productionTrafficWeights: Record<string, number>;
  };
  hookDetails?: unknown;
}

/** ECS asks an IN_PROGRESS hook again after 30 seconds unless it gives a callBackDelay. */
const DEFAULT_CALLBACK_SECONDS = 30;
/** A hook's timeout when none is configured: 24 hours, then ROLLBACK. */
const DEFAULT_HOOK_TIMEOUT_MINUTES = 1440;
/** How often the twin's ECS looks at the green tasks' health and at the deployment alarms. */
const WATCH_SECONDS = 5;
/** From ROLLBACK_REQUESTED to the rollback's start: ECS documents no delay; one second makes the state seen. */
const ROLLBACK_START_SECONDS = 1;
const HOOK_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'IN_PROGRESS']);

export interface NativeDeploymentSources {
  loadBalancers: TwinLoadBalancers;
  /** Hook targets: any function of the twin's Lambda host, by the ARN its name gives. */
  lambdas: Pick<TwinLambdas, 'named'>;
  /** A CloudWatch alarm's state by name; undefined for an alarm that does not exist. */
  alarmState: (name: string) => string | undefined;
  emit: (event: unknown) => void;
  note: (text: string) => void;
}

export class NativeDeployments {
  /** Every native deployment, newest first. */
  readonly deployments: NativeDeployment[] = [];
  private readonly settings = new Map<string, NativeSettings>();

  constructor(
    private readonly world: World,
    private readonly sources: NativeDeploymentSources,
  ) {}

  /** The ARN a function of the twin's Lambda host answers to, as a hook's hookTargetArn names it. */
  functionArn(name: string): string {
    return `arn:aws:lambda:${this.world.region}:${this.world.account}:function:${name}`;
  }

  configure(service: ServiceState, settings: NativeSettings): void {
    this.settings.set(service.arn, settings);
    service.strategy = settings.strategy;
  }

  settingsOf(service: ServiceState): NativeSettings | undefined {
    return service.strategy === 'ROLLING' ? undefined : this.settings.get(service.arn);
  }

  inProgress(service: ServiceState): NativeDeployment | undefined {
    return this.deployments.find((d) => d.service === service && !d.finishedAt && !d.stoppedAt);
  }

  find(arn: string): NativeDeployment | undefined {
    return this.deployments.find((d) => d.arn === arn);
  }

  /** A service revision a native deployment names, as DescribeServiceRevisions answers it. */
  revision(arn: string): Ecs.ServiceRevision | undefined {
    const d = this.deployments.find((x) => x.sourceRevisionArn === arn || x.targetRevisionArn === arn);
    if (!d) return undefined;
    const deployment = arn === d.targetRevisionArn ? d.green : d.blue;
    const lb = d.settings.loadBalancer;
    const targetGroupArn = deployment === d.green ? lb?.alternateTargetGroupArn : lb?.targetGroupArn;
    return {
      serviceRevisionArn: arn,
      serviceArn: d.service.arn,
      clusterArn: this.world.arn('cluster', d.service.cluster),
      taskDefinition: deployment.taskDefinitionArn,
      launchType: 'EC2',
      createdAt: deployment.createdAt,
      ...(lb && targetGroupArn
        ? {
            loadBalancers: [
              {
                targetGroupArn,
                advancedConfiguration: {
                  alternateTargetGroupArn: lb.alternateTargetGroupArn,
                  productionListenerRule: lb.productionListenerRule,
                  testListenerRule: lb.testListenerRule,
                },
              },
            ],
            // Which of the two target groups this revision got: what a reader of one revision needs.
            resolvedConfiguration: {
              loadBalancers: [{ targetGroupArn, productionListenerRule: lb.productionListenerRule }],
            },
          }
        : {}),
    };
  }

  /**
   * A new revision for a service: a native deployment when the service has native settings, a rolling one
   * (the world's) otherwise. A deployment already under way is refused: the twin does not model one
   * superseding another.
   */
  deploy(service: ServiceState, taskDefinitionArn: string): NativeDeployment | undefined {
    const settings = this.settingsOf(service);
    if (!settings) {
      this.world.updateService(service.cluster, service.name, { taskDefinitionArn });
      return undefined;
    }
    if (this.inProgress(service))
      throw new Error(`${service.name} has a native deployment in progress; the twin runs one at a time`);
    const blue = service.deployments.find((d) => d.status === 'PRIMARY')!;
    const now = this.world.clock.now();
    const id = this.world.newId().slice(0, 21);
    const path = `${service.cluster}/${service.name}`;
    const revisionArn = (x: DeploymentState) =>
      this.world.arn('service-revision', `${path}/${x.id.replace(/^ecs-svc\//, '')}`);
    // Green is the world's deployment only from SCALE_UP on (its tasks start then), in the alternate
    // target group only; ListServiceDeployments shows the native deployment from the start.
    const green: DeploymentState = {
      id: `ecs-svc/${this.world.newId().slice(0, 19)}`,
      status: 'PRIMARY',
      taskDefinitionArn: this.world.taskDefinition(taskDefinitionArn).arn,
      rolloutState: 'IN_PROGRESS',
      createdAt: now,
      updatedAt: now,
      targetGroupArns: settings.loadBalancer ? [settings.loadBalancer.alternateTargetGroupArn] : [],
    };
    const d: NativeDeployment = {
      arn: this.world.arn('service-deployment', `${path}/${id}`),
      service,
      settings: structuredClone(settings),
      blue,
      green,
      sourceRevisionArn: revisionArn(blue),
      targetRevisionArn: revisionArn(green),
      status: 'PENDING',
      lifecycleStage: 'RECONCILE_SERVICE',
      createdAt: now,
      updatedAt: now,
      production: 0,
      test: 0,
      hookDetails: [],
      hookState: new Map(),
      triggeredAlarms: [],
      halted: false,
    };
    this.deployments.unshift(d);
    service.nativeDeploymentInProgress = true;
    this.world.clock.after(0, `native deployment ${id}`, () => {
      void this.run(d);
      return settled();
    });
    return d;
  }

  /**
   * StopServiceDeployment with ROLLBACK: ROLLBACK_REQUESTED at once, nothing moves forward any more, and the
   * rollback starts a moment later (the developer guide's "Stopping Amazon ECS service deployments").
   */
  stop(d: NativeDeployment): void {
    if (d.halted || d.finishedAt) return;
    d.halted = true;
    d.status = 'ROLLBACK_REQUESTED';
    d.updatedAt = this.world.clock.now();
    this.world.clock.after(ROLLBACK_START_SECONDS, 'native deployment rollback', () =>
      this.rollBack(d, 'Service deployment rolled back by StopServiceDeployment.', true),
    );
  }

  // --- the deployment, stage by stage ------------------------------------------------------------------

  private async run(d: NativeDeployment): Promise<void> {
    const { service, settings } = d;
    if (d.halted) return; // stopped while PENDING
    d.status = 'IN_PROGRESS';
    this.emit(d, 'SERVICE_DEPLOYMENT_IN_PROGRESS', 'INFO', `ECS deployment ${d.green.id} in progress.`);
    this.sources.note(`native ${settings.strategy} deployment of ${service.name} started`);
    this.watchAlarms(d);
    try {
      // RECONCILE_SERVICE runs only when more than one revision is ACTIVE when the deployment starts.
      if (service.deployments.length > 1) await this.stage(d, 'RECONCILE_SERVICE');
      await this.stage(d, 'PRE_SCALE_UP');
      this.at(d, 'SCALE_UP');
      await this.scaleUp(d);
      await this.stage(d, 'POST_SCALE_UP');
      if (settings.loadBalancer?.testListenerRule) {
        this.at(d, 'TEST_TRAFFIC_SHIFT');
        this.shift(d, 'test', 100);
        await this.hooks(d, 'TEST_TRAFFIC_SHIFT');
      }
      await this.stage(d, 'POST_TEST_TRAFFIC_SHIFT');
      const steps = productionSteps(settings);
      for (const [index, step] of steps.entries()) {
        await this.stage(d, 'PRE_PRODUCTION_TRAFFIC_SHIFT');
        this.at(d, 'PRODUCTION_TRAFFIC_SHIFT');
        this.shift(d, 'production', step.percent);
        await this.hooks(d, 'PRODUCTION_TRAFFIC_SHIFT');
        if (index < steps.length - 1) await this.sleep(d, step.bakeMinutes * 60);
      }
      await this.stage(d, 'POST_PRODUCTION_TRAFFIC_SHIFT');
      this.at(d, 'BAKE_TIME');
      await this.sleep(d, settings.bakeTimeInMinutes * 60);
      this.at(d, 'CLEAN_UP');
      this.complete(d);
    } catch (error) {
      if (!(error instanceof Halted)) throw error;
    }
  }

  private at(d: NativeDeployment, stage: NativeDeployment['lifecycleStage']): void {
    d.lifecycleStage = stage;
    d.updatedAt = this.world.clock.now();
    this.sources.note(`native deployment of ${d.service.name}: ${stage}`);
  }

  /** A hook stage: the stage is entered, its hooks run to an answer. */
  private async stage(d: NativeDeployment, stage: HookStage): Promise<void> {
    this.at(d, stage);
    await this.hooks(d, stage);
  }

  /** Green to the service's full count beside blue, until every green task serves in its target group. */
  private async scaleUp(d: NativeDeployment): Promise<void> {
    const { service } = d;
    for (const x of service.deployments) x.status = 'ACTIVE';
    service.deployments.unshift(d.green);
    service.deploymentFailures = 0;
    service.nextLaunchAt = 0;
    const healthyIn = (arn: string, taskArn: string) =>
      this.world.targetGroups.get(arn)?.targets.some((x) => x.taskArn === taskArn && x.state === 'healthy');
    for (;;) {
      const serving = this.serviceTasks(d, d.green).filter(
        (t) =>
          t.lastStatus === 'RUNNING' && (d.green.targetGroupArns ?? []).every((arn) => healthyIn(arn, t.arn)),
      );
      if (serving.length >= service.desiredCount) return;
      await this.sleep(d, WATCH_SECONDS);
    }
  }

  /** Every hook configured at the stage, asked until it answers SUCCEEDED; anything else rolls back. */
  private async hooks(d: NativeDeployment, stage: HookStage): Promise<void> {
    const hooks = d.settings.hooks.filter((h) => h.lifecycleStages?.includes(stage));
    const outcomes = await Promise.all(hooks.map((hook) => this.runHook(d, hook, stage)));
    const failure = outcomes.find((o) => o !== undefined);
    if (failure) this.rollBack(d, failure);
    if (d.halted) throw new Halted();
  }

  /** One hook at one stage, to its end: undefined when it succeeded (or timed out into CONTINUE), else why not. */
  private async runHook(d: NativeDeployment, hook: Ecs.DeploymentLifecycleHook, stage: HookStage) {
    const target = hook.hookTargetArn!;
    const timeout = hook.timeoutConfiguration;
    const now = this.world.clock.now();
    const detail: Ecs.DeploymentLifecycleHookDetail = {
      hookId: this.world.newId().slice(0, 16),
      targetType: 'AWS_LAMBDA',
      targetArn: target,
      status: 'IN_PROGRESS',
      expiresAt: new Date(
        now.getTime() + (timeout?.timeoutInMinutes ?? DEFAULT_HOOK_TIMEOUT_MINUTES) * 60_000,
      ),
      timeoutAction: timeout?.action ?? 'ROLLBACK',
    };
    d.hookDetails = [...d.hookDetails.filter((h) => h.targetArn !== target), detail];
    const index = d.settings.hooks.indexOf(hook);
    const name = target.split(':').pop();
    for (;;) {
      if (d.halted) return undefined;
      const answer = await this.invoke(target, this.payload(d, stage, hook));
      if (d.halted) return undefined;
      const status = answer.ok ? answer.value.hookStatus : undefined;
      if (!answer.ok || typeof status !== 'string' || !HOOK_STATUSES.has(status)) {
        detail.status = 'FAILED';
        const why = answer.ok
          ? `answered no valid hookStatus (${JSON.stringify(answer.value)})`
          : answer.error;
        return `Lifecycle hook ${name} at ${stage} failed: ${why}.`;
      }
      this.sources.note(`hook ${name} at ${stage}: ${status}`);
      if (status !== 'IN_PROGRESS') {
        detail.status = status as 'SUCCEEDED' | 'FAILED';
        return status === 'FAILED' ? `Lifecycle hook ${name} at ${stage} answered FAILED.` : undefined;
      }
      // ECS merges what an IN_PROGRESS answer hands back and passes it to the same hook's later invocations
      // within this deployment ("Lambda hooks for Amazon ECS service deployments", Passing state).
      const returned = answer.value.hookDetails;
      if (returned && typeof returned === 'object' && !Array.isArray(returned))
        d.hookState.set(index, { ...d.hookState.get(index), ...(returned as Record<string, unknown>) });
      const delay = Number(answer.value.callBackDelay ?? DEFAULT_CALLBACK_SECONDS);
      const seconds = Number.isFinite(delay) && delay >= 0 ? delay : DEFAULT_CALLBACK_SECONDS;
      if (this.world.clock.now().getTime() + seconds * 1000 > detail.expiresAt!.getTime()) {
        detail.status = 'TIMED_OUT';
        return detail.timeoutAction === 'CONTINUE'
          ? undefined
          : `Lifecycle hook ${name} at ${stage} timed out.`;
      }
      await this.sleep(d, seconds, false);
    }
  }

  /**
   * The guide's payload: the weights only where traffic moves (test weights at TEST_TRAFFIC_SHIFT, production
   * weights at PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT), empty maps at the other stages;
   * the hook's configured hookDetails with what it handed back earlier in this deployment laid over them.
   */
  private payload(d: NativeDeployment, stage: HookStage, hook: Ecs.DeploymentLifecycleHook): HookPayload {
    const weights = (green: number) => ({ [d.targetRevisionArn]: green, [d.sourceRevisionArn]: 100 - green });
    const production = stage === 'PRE_PRODUCTION_TRAFFIC_SHIFT' || stage === 'PRODUCTION_TRAFFIC_SHIFT';
    const kept = d.hookState.get(d.settings.hooks.indexOf(hook));
    const hookDetails = kept
      ? { ...(hook.hookDetails as Record<string, unknown> | undefined), ...kept }
      : hook.hookDetails;
    return {
      executionId: this.world.newId(),
      lifecycleStage: stage,
      resourceArn: d.arn,
      executionDetails: {
        serviceArn: d.service.arn,
        targetServiceRevisionArn: d.targetRevisionArn,
        testTrafficWeights: stage === 'TEST_TRAFFIC_SHIFT' ? weights(d.test) : {},
        productionTrafficWeights: production ? weights(d.production) : {},
      },
      ...(hookDetails !== undefined ? { hookDetails: structuredClone(hookDetails) } : {}),
    };
  }

  /** Invokes the hook function synchronously, as ECS does; an unknown function or its error is a failure. */
  private async invoke(arn: string, payload: HookPayload) {
    const name = arn.slice(this.functionArn('').length);
    const fn = arn.startsWith(this.functionArn('')) ? this.sources.lambdas.named.get(name) : undefined;
    if (!fn) return { ok: false as const, error: `ResourceNotFoundException: Function not found: ${arn}` };
    try {
      const value = (await fn(payload)) as Record<string, unknown> | null;
      return { ok: true as const, value: value && typeof value === 'object' ? value : {} };
    } catch (error) {
      const e = error as Error;
      return { ok: false as const, error: `${e.name}: ${e.message}` };
    }
  }

  // --- traffic, alarms, the end ---------------------------------------------------------------------------

  /** Green gets `percent` of the rule's traffic, blue the rest (ALB weights are whole numbers: rounded). */
  private shift(d: NativeDeployment, which: 'production' | 'test', percent: number): void {
    d[which] = percent;
    const lb = d.settings.loadBalancer;
    const rule = which === 'production' ? lb?.productionListenerRule : lb?.testListenerRule;
    if (!lb || !rule) return;
    const { loadBalancers } = this.sources;
    const api = rule.includes(':listener-rule/') ? 'ModifyRule' : 'ModifyListener';
    const actions =
      api === 'ModifyRule'
        ? loadBalancers.rule(rule).Actions!
        : loadBalancers.listener(rule).listener.DefaultActions;
    const index = actions.findIndex((a) => a.Type === 'forward');
    if (index < 0) return;
    const green = Math.round(percent);
    const { TargetGroupArn: _single, ...forward } = actions[index]!;
    const TargetGroups = [
      { TargetGroupArn: lb.targetGroupArn, Weight: 100 - green },
      { TargetGroupArn: lb.alternateTargetGroupArn, Weight: green },
    ];
    const next = actions.with(index, {
      ...forward,
      ForwardConfig: { ...forward.ForwardConfig, TargetGroups },
    });
    loadBalancers.modify(api, rule, next, 'ecs');
  }

  /** Deployment alarms, watched from the start to the end of the bake time. */
  private watchAlarms(d: NativeDeployment): void {
    const alarms = d.settings.alarms;
    if (!alarms?.enable || alarms.alarmNames.length === 0) return;
    const lookLater = () => this.world.clock.after(WATCH_SECONDS, 'native deployment alarms', look);
    const look = () => {
      if (d.halted || d.finishedAt) return;
      const firing = alarms.alarmNames.filter((name) => this.sources.alarmState(name) === 'ALARM');
      if (firing.length === 0) return lookLater();
      d.triggeredAlarms = firing;
      const reason = `Service deployment failed: alarm(s) ${firing.join(', ')} in ALARM.`;
      if (alarms.rollback) this.rollBack(d, reason);
      else this.stopWithoutRollback(d, reason);
    };
    lookLater();
  }

  private complete(d: NativeDeployment): void {
    const { service, blue, green } = d;
    const now = this.world.clock.now();
    this.stopTasksOf(d, blue, green);
    green.rolloutState = 'COMPLETED';
    green.updatedAt = now;
    service.deployments = [green];
    // Green's target group is production now; the next deployment brings its green up in the other one.
    const lb = d.settings.loadBalancer;
    if (lb) {
      service.targetGroupArns = [lb.alternateTargetGroupArn];
      const next = this.settings.get(service.arn)!.loadBalancer!;
      [next.targetGroupArn, next.alternateTargetGroupArn] = [lb.alternateTargetGroupArn, lb.targetGroupArn];
    }
    delete green.targetGroupArns;
    this.finish(d, 'SUCCESSFUL');
    this.sources.note(`native deployment of ${service.name} completed`);
    this.emit(d, 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO', 'ECS deployment completed.');
  }

  /**
   * Back to blue: traffic first (test and production, the hooks of those stages invoked once more, as the
   * guide says they are on a rollback; their answers cannot stop it), then green's tasks go. A requested
   * rollback (StopServiceDeployment) is ROLLBACK_IN_PROGRESS until ECS's next look; the others end at once.
   */
  private rollBack(d: NativeDeployment, reason: string, requested = false): void {
    if ((d.halted && !requested) || d.finishedAt) return;
    const { service, blue, green } = d;
    const now = this.world.clock.now();
    d.halted = true;
    d.status = 'ROLLBACK_IN_PROGRESS';
    d.statusReason = reason;
    d.rollback = { reason, startedAt: now, serviceRevisionArn: d.sourceRevisionArn };
    this.sources.note(`native deployment of ${service.name} rolling back: ${reason}`);
    this.emit(d, 'SERVICE_DEPLOYMENT_FAILED', 'ERROR', reason);
    this.emit(
      d,
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'INFO',
      `ECS deployment ${green.id} rolling back: ${reason}`,
    );
    if (d.test > 0) this.shift(d, 'test', 0);
    if (d.production > 0) this.shift(d, 'production', 0);
    for (const stage of ['TEST_TRAFFIC_SHIFT', 'PRODUCTION_TRAFFIC_SHIFT'] as const)
      for (const hook of d.settings.hooks.filter((h) => h.lifecycleStages?.includes(stage)))
        void this.invoke(hook.hookTargetArn!, this.payload(d, stage, hook));
    this.stopTasksOf(d, green, blue);
    blue.status = 'PRIMARY';
    blue.updatedAt = now;
    service.deployments = [blue];
    d.updatedAt = now;
    if (requested)
      this.world.clock.after(WATCH_SECONDS, 'native deployment rollback', () => this.rolledBack(d));
    else this.rolledBack(d);
  }

  private rolledBack(d: NativeDeployment): void {
    this.finish(d, 'ROLLBACK_SUCCESSFUL');
    this.emit(d, 'SERVICE_DEPLOYMENT_COMPLETED', 'INFO', `ECS deployment ${d.green.id} rolled back.`);
  }

  /** An alarm without rollback: the deployment stops where it is, both revisions kept. */
  private stopWithoutRollback(d: NativeDeployment, reason: string): void {
    d.halted = true;
    d.status = 'STOPPED';
    d.statusReason = reason;
    d.stoppedAt = this.world.clock.now();
    d.updatedAt = d.stoppedAt;
    this.emit(d, 'SERVICE_DEPLOYMENT_FAILED', 'ERROR', reason);
  }

  /** The running tasks of one of the deployment's two revisions. */
  private serviceTasks(d: NativeDeployment, revision: DeploymentState) {
    const { cluster, name } = d.service;
    return this.world.runningTasks(cluster, `service:${name}`).filter((t) => t.deploymentId === revision.id);
  }

  /** The scheduler stops the tasks of the revision that goes, in favour of the one that stays. */
  private stopTasksOf(d: NativeDeployment, going: DeploymentState, staying: DeploymentState): void {
    const reason = `Scaling activity initiated by (deployment ${staying.id})`;
    for (const task of this.serviceTasks(d, going))
      this.world.stopTask(task.arn, reason, 'ServiceSchedulerInitiated');
  }

  /** The deployment has ended: the scheduler has the service again, and its history gets the line. */
  private finish(d: NativeDeployment, status: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL'): void {
    d.service.nativeDeploymentInProgress = false;
    d.status = status;
    d.finishedAt = this.world.clock.now();
    d.updatedAt = d.finishedAt;
    const { taskDefinitionArn } = d.green;
    d.record = { taskDefinitionArn, status, startedAt: d.createdAt, finishedAt: d.finishedAt };
    d.service.history.unshift(d.record);
  }

  private emit(d: NativeDeployment, name: string, type: 'INFO' | 'ERROR', reason: string): void {
    this.sources.note(`ECS Deployment State Change ${name}: ${reason}`);
    this.sources.emit(
      deploymentStateChange(this.world, d.service, d.green.id, { eventName: name, eventType: type, reason }),
    );
  }

  /** Virtual seconds; a halted deployment does not go on (unless `halt` is false: a hook's own loop checks). */
  private sleep(d: NativeDeployment, seconds: number, halt = true): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.world.clock.after(seconds, `native deployment ${d.service.name}`, () => {
        if (halt && d.halted) reject(new Halted());
        else resolve();
        return settled();
      }),
    );
  }
}

/** The production steps of a strategy: the green share after each, and the bake before the next. */
export function productionSteps(settings: NativeSettings): { percent: number; bakeMinutes: number }[] {
  const steps: { percent: number; bakeMinutes: number }[] = [];
  if (settings.strategy === 'CANARY' && settings.canary.percent < 100) steps.push({ ...settings.canary });
  if (settings.strategy === 'LINEAR') {
    const { stepPercent, stepBakeMinutes } = settings.linear;
    // Tenths, so that 3 x 33.3 does not fall short of 100 by a rounding error.
    for (let tenths = Math.round(stepPercent * 10); tenths < 1000; tenths += Math.round(stepPercent * 10))
      steps.push({ percent: tenths / 10, bakeMinutes: stepBakeMinutes });
  }
  // Every strategy ends with all of production on green (BLUE_GREEN in that one step).
  steps.push({ percent: 100, bakeMinutes: 0 });
  return steps;
}

/** Thrown through a deployment's stages once it has halted: nothing after it runs. */
class Halted extends Error {
  override readonly name = 'Halted' as const;
}
