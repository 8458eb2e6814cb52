// The simulated cluster: one consistent in-memory model of ECS clusters, container instances, task
// definitions, services with their scheduler, standalone tasks and load balancer target groups. It
// behaves the way the reflexes depend on ECS behaving (a service scheduler that keeps the desired count
// and backs off on repeated failure, stopped tasks listable for an hour, target health and deregistration
// delay) and it announces every task change as a real-shaped EventBridge event.

import { AwsServiceError } from '#local/twin/aws/client';
import { deploymentCompleted, placementFailure, taskChange } from '#local/twin/events';
import { seededRandom, type VirtualScheduler } from '#local/twin/scheduler';
import type {
  AgentStart,
  Behaviour,
  DeploymentState,
  InstanceState,
  ServiceState,
  TaskDefinitionState,
  TaskState,
} from '#local/twin/state';

export type * from '#local/twin/state';

export interface TargetState {
  id: string;
  port: number;
  state: 'initial' | 'healthy' | 'unhealthy' | 'draining';
  reason?: string;
  taskArn?: string;
  registeredAt: number;
  drainingUntil?: number;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  port: number;
  targetType: 'ip' | 'instance';
  deregistrationDelaySeconds: number;
  targets: TargetState[];
}

/** A call the reflexes made against the twin's "AWS": the order of these is what scenarios assert. */
export interface ApiCall {
  at: Date;
  api: string;
  target: string;
  write: boolean;
  failed?: string;
  /** It took effect, but the client saw this error (its answer was lost) and retried. */
  answered?: string;
  /** The SDK's attempt at the command, from 2 on: a retry of the call recorded just before. */
  attempt?: number;
  /** The Lambda invocation that made it (`function` or `function:action`); none from outside a Lambda. */
  by?: string;
}

export interface WorldObserver {
  event(event: unknown): void;
  note(text: string): void;
}

/** The one account and region the twin runs in: every ARN it makes, and every ARN a scenario gives it. */
export const TWIN_ACCOUNT = '111122223333';
export const TWIN_REGION = 'eu-west-1';

/** Ids a scenario gives an instance (what a real account used), instead of generated ones. */
export interface GivenInstanceIds {
  ec2InstanceId?: string;
  containerInstanceArn?: string;
}

/** A scenario gave an id, ARN or token the twin already holds. */
export class DuplicateIdentityError extends Error {
  override readonly name = 'DuplicateIdentityError' as const;
}

const TICK_SECONDS = 5;
const HEX_DIGITS = '0123456789abcdef';
const oldestFirst = (a: TaskState, b: TaskState) => a.createdAt.getTime() - b.createdAt.getTime();
const STOP_SECONDS = 5;
const HEALTHY_AFTER_SECONDS = 20;
const STOPPED_TASK_RETENTION_SECONDS = 3600;
/** Replacements the scheduler starts per service and tick for tasks on draining instances. */
const DRAIN_REPLACEMENTS_PER_TICK = 2;
export const DRAINING_STOP_REASON = 'Task stopped because the container instance is draining';

export class World {
  readonly account = TWIN_ACCOUNT;
  readonly region = TWIN_REGION;
  readonly taskDefinitions = new Map<string, TaskDefinitionState>();
  readonly instances: InstanceState[] = [];
  readonly tasks = new Map<string, TaskState>();
  /**
   * The tasks not yet stopped, in the order they were launched. Stopped tasks stay in `tasks` for an hour, as ECS
   * keeps them; placement and the scheduler's tick read only these, so a crash storm's thousands of stopped
   * tasks cost them nothing.
   */
  private readonly live = new Map<string, TaskState>();
  /** reservedByInstance's answer, until the live tasks change. */
  private reservations: Map<string, { cpu: number; memory: number }> | undefined;
  /** Every group a task has ever run in (`CLUSTER GROUP`): the running count of each is recorded. */
  private readonly groupsSeen = new Set<string>();
  readonly services = new Map<string, ServiceState>();
  readonly targetGroups = new Map<string, TargetGroupState>();
  readonly apiCalls: ApiCall[] = [];
  readonly clusters = new Set<string>();
  /** Running tasks per group, recorded at every change of the count: the blast-radius record. */
  readonly runningHistory = new Map<string, { at: Date; running: number }[]>();
  private readonly random: () => number;
  private nextIp = 10;

  constructor(
    readonly clock: VirtualScheduler,
    private readonly observer: WorldObserver,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  // --- building the world ------------------------------------------------------------------------

  arn(kind: string, path: string, service = 'ecs'): string {
    return `arn:aws:${service}:${this.region}:${this.account}:${kind}/${path}`;
  }

  newId(): string {
    let id = '';
    for (let i = 0; i < 32; i++) id += HEX_DIGITS[Math.floor(this.random() * 16)];
    return id;
  }

  /** A UUID as AWS writes its ids and tokens (Auto Scaling, App Mesh), drawn from the seeded ids. */
  newUuid(): string {
    const hex = this.newId();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  addCluster(name: string): void {
    this.clusters.add(name);
  }

  /**
   * An EC2 instance joins the cluster. Without `agent` its ECS agent is registered at once (the world a
   * scenario starts from, and every instance before the twin modelled the agent); with a delay it is
   * REGISTERING until then, and with 'never' it stays so (an AMI without a working agent).
   */
  addInstance(
    cluster: string,
    cpu: number,
    memory: number,
    agent?: AgentStart,
    given: GivenInstanceIds = {},
  ): InstanceState {
    const index = this.instances.length;
    const { ec2InstanceId: id, containerInstanceArn: arn } = given;
    if (this.instances.some((i) => i.instanceId === id || i.containerInstanceArn === arn))
      throw new DuplicateIdentityError(`instance ${id ?? arn} is in the world already`);
    const instance: InstanceState = {
      instanceId: id ?? `i-0${this.newId().slice(0, 16)}`,
      containerInstanceArn: arn ?? this.arn('container-instance', `${cluster}/${this.newId()}`),
      cluster,
      cpu,
      memory,
      subnetId: `subnet-0a${index % 3}`,
      availabilityZone: `${this.region}${'abc'[index % 3]}`,
      status: agent === undefined ? 'ACTIVE' : 'REGISTERING',
    };
    this.instances.push(instance);
    if (agent !== undefined && agent !== 'never')
      this.clock.after(agent.delaySeconds, `agent on ${instance.instanceId}`, () =>
        this.connectAgent(instance.instanceId),
      );
    return instance;
  }

  instance(instanceId: string): InstanceState | undefined {
    return this.instances.find((i) => i.instanceId === instanceId);
  }

  /** The ECS agent registers the container instance: it becomes ACTIVE and takes tasks. */
  connectAgent(instanceId: string): void {
    const instance = this.instance(instanceId);
    if (instance?.status !== 'REGISTERING') return;
    instance.status = 'ACTIVE';
    this.observer.note(`ECS agent on ${instanceId} registered: container instance ACTIVE`);
  }

  /**
   * UpdateContainerInstancesState on a registered instance. DRAINING: no new tasks, and the service
   * scheduler moves the service tasks elsewhere over the next ticks; standalone tasks stay until they
   * stop. ACTIVE undoes it. Setting the status it has is a no-op.
   */
  setInstanceStatus(instance: InstanceState, status: 'ACTIVE' | 'DRAINING'): void {
    if (instance.status === status) return;
    instance.status = status;
    this.observer.note(`container instance ${instance.instanceId} ${status}`);
  }

  /** The instance goes away (an Auto Scaling scale-in): its tasks stop, as they would on a terminated host. */
  removeInstance(instanceId: string): void {
    const index = this.instances.findIndex((i) => i.instanceId === instanceId);
    if (index < 0) return;
    this.instances.splice(index, 1);
    for (const task of this.tasksOn(instanceId))
      this.stopTask(
        task.arn,
        `Task stopped because the underlying EC2 instance ${instanceId} was terminated`,
        'TerminationNotice',
      );
  }

  /** Tasks still placed on an instance (not stopped). */
  tasksOn(instanceId: string): TaskState[] {
    // A loop, not a filter over a copy: scale-in ranks every instance by its tasks.
    const placed: TaskState[] = [];
    for (const task of this.live.values()) if (task.instance.instanceId === instanceId) placed.push(task);
    return placed;
  }

  /** The tasks not yet stopped (running, pending or stopping), oldest first. */
  liveTasks(): IterableIterator<TaskState> {
    return this.live.values();
  }

  /** Share of the cluster's registered CPU or memory that running and pending tasks reserve, in percent. */
  reservation(cluster: string, resource: 'cpu' | 'memory'): number | undefined {
    // Only registered container instances count; an instance whose agent has not registered adds nothing.
    const instances = this.instances.filter((i) => i.cluster === cluster && i.status !== 'REGISTERING');
    const capacity = instances.reduce((sum, i) => sum + i[resource], 0);
    if (capacity === 0) return undefined;
    const used = instances.reduce((sum, i) => sum + this.reserved(i, resource), 0);
    return (used / capacity) * 100;
  }

  /** What the tasks placed on an instance (not stopped) reserve of its CPU or memory. */
  reserved(instance: InstanceState, resource: 'cpu' | 'memory'): number {
    return this.reservedByInstance().get(instance.instanceId)?.[resource] ?? 0;
  }

  /**
   * What the tasks not stopped reserve on each instance, in one pass over them, kept until a task is
   * placed or stops (a task's instance and task definition never change): a placement weighs every
   * instance of the cluster, and a storm places a thousand tasks.
   */
  private reservedByInstance(): Map<string, { cpu: number; memory: number }> {
    if (this.reservations) return this.reservations;
    const reserved = new Map<string, { cpu: number; memory: number }>();
    this.reservations = reserved;
    for (const task of this.live.values()) {
      const { cpu, memory } = this.taskDefinition(task.taskDefinitionArn);
      const onInstance = reserved.get(task.instance.instanceId);
      if (onInstance) {
        onInstance.cpu += cpu;
        onInstance.memory += memory;
      } else reserved.set(task.instance.instanceId, { cpu, memory });
    }
    return reserved;
  }

  addTaskDefinition(td: Omit<TaskDefinitionState, 'arn'>): TaskDefinitionState {
    const state = { ...td, arn: this.arn('task-definition', `${td.family}:${td.revision}`) };
    this.taskDefinitions.set(state.arn, state);
    return state;
  }

  taskDefinition(ref: string): TaskDefinitionState {
    const td = this.taskDefinitions.get(ref) ?? this.taskDefinitions.get(this.arn('task-definition', ref));
    if (!td) throw new Error(`unknown task definition ${ref}`);
    return td;
  }

  addTargetGroup(tg: Omit<TargetGroupState, 'arn' | 'targets'>): TargetGroupState {
    const arn = this.arn('targetgroup', `${tg.name}/${this.newId().slice(0, 16)}`, 'elasticloadbalancing');
    const state = { ...tg, arn, targets: [] };
    this.targetGroups.set(arn, state);
    return state;
  }

  /** By ARN, or by name for scenarios; a group that is not there fails as ELB's TargetGroupNotFound does. */
  targetGroup(ref: string): TargetGroupState {
    const tg = this.targetGroups.get(ref) ?? [...this.targetGroups.values()].find((t) => t.name === ref);
    if (tg) return tg;
    throw new AwsServiceError('TargetGroupNotFoundException', `One or more target groups not found: ${ref}`);
  }

  addService(
    input: Pick<ServiceState, 'cluster' | 'name' | 'desiredCount' | 'maximumPercent' | 'circuitBreaker'> &
      Pick<ServiceState, 'healthCheckGraceSeconds' | 'history'> &
      Partial<Pick<ServiceState, 'deploymentController' | 'strategy'>> & {
        taskDefinition: string;
        targetGroups: string[];
        /** ARNs for its first tasks (a replay's given ones); the rest are generated. */
        taskArns?: string[];
      },
  ): ServiceState {
    const { taskDefinition, targetGroups, taskArns, ...given } = input;
    const deployment = this.deployment(this.taskDefinition(taskDefinition).arn, 'COMPLETED');
    const service: ServiceState = {
      ...given,
      arn: this.arn('service', `${input.cluster}/${input.name}`),
      deploymentController: input.deploymentController ?? 'ECS',
      strategy: input.strategy ?? 'ROLLING',
      targetGroupArns: targetGroups.map((ref) => this.targetGroup(ref).arn),
      deployments: [deployment],
      tags: {},
      deploymentFailures: 0,
      nextLaunchAt: 0,
      lastPlacementEventAt: -Infinity,
    };
    this.services.set(service.arn, service);
    // A service that exists before the scenario starts is already steady: its tasks run and are healthy.
    for (let i = 0; i < input.desiredCount; i++) {
      const task = this.launchFor(service, deployment, taskArns?.[i], { foundRunning: true });
      if (!task) throw new Error(`no room for ${input.name} in the initial world`);
      this.markRunning(task, true);
      for (const { target } of this.serviceTargets(service, task)) target.state = 'healthy';
    }
    return service;
  }

  service(cluster: string, name: string): ServiceState | undefined {
    return this.services.get(this.arn('service', `${cluster}/${name}`));
  }

  start(): void {
    this.clock.after(TICK_SECONDS, 'tick', () => this.tick());
  }

  // --- what ECS commands do to the cluster (local/twin/aws/ecs.ts answers them) ---------------------

  runTask(
    input: Pick<TaskState, 'cluster' | 'taskDefinitionArn'> &
      Partial<Pick<TaskState, 'group' | 'startedBy' | 'launchType' | 'capacityProviderName' | 'overrides'>> &
      Partial<Pick<TaskState, 'tags' | 'registerIn' | 'serviceName' | 'deploymentId'>> & {
        behaviour?: Partial<Behaviour>;
        /** The task's ARN (a replay's given one) instead of a generated one. */
        taskArn?: string;
        /**
         * A task of the world as the scenario finds it, started long before: no PENDING event announces
         * it now (its RUNNING one is not sent either, see markRunning).
         */
        foundRunning?: boolean;
      },
  ): TaskState | { failure: string } {
    const td = this.taskDefinition(input.taskDefinitionArn);
    if (input.taskArn !== undefined && this.tasks.has(input.taskArn))
      throw new DuplicateIdentityError(`task ${input.taskArn} is in the world already`);
    const instance = this.placeOn(input.cluster, td);
    if (typeof instance === 'string') return { failure: instance };
    const { taskArn, behaviour } = input;
    const id = taskArn?.split('/').pop() ?? this.newId();
    const now = this.clock.now();
    const ip = this.nextIp++;
    // Every task is built with the same fields in the same order (no spread of the input): objects of one
    // shape keep the property reads of a tick over thousands of tasks fast.
    const group = input.group ?? `family:${td.family}`;
    const task: TaskState = {
      arn: taskArn ?? this.arn('task', `${input.cluster}/${id}`),
      id,
      cluster: input.cluster,
      groupKey: `${input.cluster} ${group}`,
      taskDefinitionArn: td.arn,
      group,
      startedBy: input.startedBy,
      serviceName: input.serviceName,
      deploymentId: input.deploymentId,
      capacityProviderName: input.capacityProviderName,
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      version: 1,
      createdAt: now,
      updatedAt: now,
      launchType: input.capacityProviderName ? 'EC2' : (input.launchType ?? 'EC2'),
      instance,
      overrides: input.overrides ?? { containerOverrides: [] },
      tags: { ...input.tags },
      behaviour: { ...td.behaviour, ...behaviour },
      registerIn: input.registerIn ?? [],
      privateIp: td.networkMode === 'awsvpc' ? `10.0.${Math.floor(ip / 250)}.${(ip % 250) + 2}` : undefined,
      hostPort: td.networkMode === 'awsvpc' ? undefined : 32768 + (ip % 28000),
    };
    this.tasks.set(task.arn, task);
    this.live.set(task.arn, task);
    this.reservations = undefined;
    this.groupsSeen.add(task.groupKey);
    if (!input.foundRunning) this.observer.event(taskChange(this, task));
    this.clock.after(task.behaviour.startSeconds, `start ${id}`, () => this.started(task));
    return task;
  }

  stopTask(taskArn: string, reason: string, stopCode: TaskState['stopCode'] = 'UserInitiated'): void {
    const task = this.tasks.get(taskArn);
    if (!task || task.desiredStatus === 'STOPPED') return;
    const now = this.clock.now();
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = now;
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    // "Any tags associated with the task will be deleted" (StopTask API reference).
    task.tags = {};
    this.drainTargetsOf(task);
    this.changed(task);
    this.clock.after(STOP_SECONDS, `stop ${task.id}`, () => this.markStopped(task, {}));
  }

  updateService(
    cluster: string,
    name: string,
    change: { taskDefinitionArn?: string; desiredCount?: number; forceNewDeployment?: boolean },
  ): void {
    const service = this.service(cluster, name);
    if (!service) throw new AwsServiceError('ServiceNotFoundException', `service ${name} not found`);
    if (change.desiredCount !== undefined) service.desiredCount = change.desiredCount;
    const current = service.deployments.find((d) => d.status === 'PRIMARY')!;
    const target =
      change.taskDefinitionArn ?? (change.forceNewDeployment ? current.taskDefinitionArn : undefined);
    // A forced deployment replaces every task with the same revision, rolling, like a new revision would.
    if (target && (target !== current.taskDefinitionArn || change.forceNewDeployment)) {
      const td = this.taskDefinition(target);
      for (const d of service.deployments) d.status = 'ACTIVE';
      service.deployments.unshift(this.deployment(td.arn, 'IN_PROGRESS'));
      service.deploymentFailures = 0;
      service.nextLaunchAt = 0;
      this.observer.note(`deployment of ${td.family}:${td.revision} to ${name} started`);
    }
  }

  private deployment(taskDefinitionArn: string, rolloutState: 'IN_PROGRESS' | 'COMPLETED'): DeploymentState {
    const now = this.clock.now();
    const id = `ecs-svc/${this.newId().slice(0, 19)}`;
    return { id, status: 'PRIMARY', taskDefinitionArn, rolloutState, createdAt: now, updatedAt: now };
  }

  // --- scenario levers ---------------------------------------------------------------------------------

  /** The running tasks of a group, oldest first. */
  runningTasks(cluster: string, group: string): TaskState[] {
    return [...this.live.values()]
      .filter((t) => t.cluster === cluster && t.group === group && t.desiredStatus === 'RUNNING')
      .sort(oldestFirst);
  }

  /** runningTasks of every group at once, in one pass: a tick over a thousand services reads them all. */
  private runningByGroup(): Map<string, TaskState[]> {
    const groups = new Map<string, TaskState[]>();
    for (const task of this.live.values()) {
      if (task.desiredStatus !== 'RUNNING') continue;
      const tasks = groups.get(task.groupKey);
      if (tasks) tasks.push(task);
      else groups.set(task.groupKey, [task]);
    }
    for (const tasks of groups.values()) tasks.sort(oldestFirst);
    return groups;
  }

  crash(task: TaskState, exitCode: number, reason?: string): void {
    if (task.lastStatus !== 'RUNNING' || task.desiredStatus === 'STOPPED') return;
    task.exitCode = exitCode;
    task.containerReason = reason;
    this.markStopped(task, {
      stopCode: 'EssentialContainerExited',
      reason: 'Essential container in task exited',
    });
  }

  // --- the scheduler's heartbeat ---------------------------------------------------------------------

  private tick(): void {
    // Target health changes no task's status: the tasks meant to run are read once, before it.
    const running = this.runningByGroup();
    this.recordRunning(running);
    for (const tg of this.targetGroups.values()) this.evaluateTargets(tg);
    for (const service of this.services.values())
      this.reconcile(service, running.get(`${service.cluster} service:${service.name}`) ?? []);
    this.clock.after(TICK_SECONDS, 'tick', () => this.tick());
  }

  /** Each group's count of tasks running (and meant to), kept as it changes. */
  private recordRunning(meantToRun: Map<string, TaskState[]>): void {
    for (const key of this.groupsSeen) {
      let running = 0;
      for (const task of meantToRun.get(key) ?? []) if (task.lastStatus === 'RUNNING') running += 1;
      const history = this.runningHistory.get(key) ?? [];
      this.runningHistory.set(key, history);
      if (history.at(-1)?.running !== running) history.push({ at: this.clock.now(), running });
    }
  }

  private evaluateTargets(tg: TargetGroupState): void {
    const now = this.clock.now().getTime();
    tg.targets = tg.targets.filter((t) => t.state !== 'draining' || (t.drainingUntil ?? 0) > now);
    for (const target of tg.targets) {
      if (target.state === 'draining') continue;
      const task = target.taskArn ? this.tasks.get(target.taskArn) : undefined;
      const healthy = target.taskArn
        ? task?.lastStatus === 'RUNNING' && task.behaviour.healthy
        : this.instanceTargetHealthy(tg, target);
      if (target.state === 'initial' && now - target.registeredAt < HEALTHY_AFTER_SECONDS * 1000) continue;
      if (healthy) {
        target.state = 'healthy';
        target.reason = undefined;
      } else if (target.state !== 'unhealthy') {
        target.state = 'unhealthy';
        target.reason = 'Target.FailedHealthChecks';
      }
    }
  }

  /**
   * An instance target registered by hand (no task behind it, id = instance id) answers health checks
   * once the instance's agent has registered: on a real host that is when its containers can listen.
   * A terminated instance answers nothing.
   */
  private instanceTargetHealthy(tg: TargetGroupState, target: TargetState): boolean {
    if (tg.targetType !== 'instance') return false;
    const instance = this.instance(target.id);
    return instance !== undefined && instance.status !== 'REGISTERING';
  }

  /** What the ECS service scheduler does: deploy, replace, keep the count, back off on failure. */
  /** `group`: the service's running tasks, oldest first, as the tick found them. */
  private reconcile(service: ServiceState, group: TaskState[]): void {
    const now = this.clock.now();
    const primary = service.deployments.find((d) => d.status === 'PRIMARY')!;
    // A task on a draining instance whose replacement is under way no longer counts toward the service:
    // its replacement does, and the draining step below stops it once the replacement serves.
    const replaced = new Set(group.flatMap((t) => (t.replaces ? [t.replaces] : [])));
    const alive = group.filter((t) => !replaced.has(t.arn));
    const fresh = alive.filter((t) => t.deploymentId === primary.id);
    const old = alive.filter((t) => t.deploymentId !== primary.id);

    // ECS replaces tasks that fail health checks in the service's own target groups, after the grace.
    const grace = service.healthCheckGraceSeconds * 1000;
    for (const task of fresh) {
      if (!task.startedAt || now.getTime() - task.startedAt.getTime() <= grace) continue;
      const failing = this.serviceTargets(service, task).find(({ target }) => target.state === 'unhealthy');
      if (!failing) continue;
      const reason = `Task failed ELB health checks in (target-group ${failing.tg.arn})`;
      this.stopTask(task.arn, reason, 'ServiceSchedulerInitiated');
      this.failed(service);
    }

    const stillFresh = fresh.filter((t) => t.desiredStatus === 'RUNNING');
    const ceiling = Math.ceil((service.desiredCount * service.maximumPercent) / 100);
    const native = service.nativeDeploymentInProgress === true;
    const room = Math.min(
      service.desiredCount - stillFresh.length,
      native ? Infinity : ceiling - stillFresh.length - old.length,
    );
    if (now.getTime() >= service.nextLaunchAt)
      for (let i = 0; i < room; i++) if (!this.launchFor(service, primary)) break;

    // Old tasks go as fresh ones serve, then fresh ones beyond the desired count.
    const ready = stillFresh.filter((t) => t.lastStatus === 'RUNNING' && this.isServing(service, t));
    const replaceable = native ? 0 : Math.min(old.length, ready.length + old.length - service.desiredCount);
    const extra = stillFresh.length - service.desiredCount;
    const scaledIn = [...old.slice(0, Math.max(0, replaceable)), ...stillFresh.slice(0, Math.max(0, extra))];
    const reason = `Scaling activity initiated by (deployment ${primary.id})`;
    for (const task of scaledIn) this.stopTask(task.arn, reason, 'ServiceSchedulerInitiated');

    this.moveOffDraining(service, primary, group);

    if (primary.rolloutState !== 'IN_PROGRESS' || native) return;
    const { taskDefinitionArn, createdAt: startedAt } = primary;
    if (this.circuitBreakerTrips(service)) {
      const previous = service.deployments.find((d) => d.status === 'ACTIVE');
      service.history.unshift({
        taskDefinitionArn,
        status: 'ROLLBACK_SUCCESSFUL',
        startedAt,
        finishedAt: now,
      });
      this.observer.note(`deployment circuit breaker: ${primary.id} of ${service.name} failed, rolling back`);
      if (previous)
        this.updateService(service.cluster, service.name, { taskDefinitionArn: previous.taskDefinitionArn });
    } else if (old.length === 0 && ready.length >= service.desiredCount) {
      primary.rolloutState = 'COMPLETED';
      primary.updatedAt = now;
      service.deployments = [primary];
      service.history.unshift({ taskDefinitionArn, status: 'SUCCESSFUL', startedAt, finishedAt: now });
      this.observer.note(`deployment ${primary.id} of ${service.name} completed`);
      this.observer.event(deploymentCompleted(this, service, primary));
    }
  }

  /**
   * ECS moves service tasks off a draining instance within the deployment configuration: pending ones
   * stop at once, running ones get a replacement on an ACTIVE instance first (a few at a time, within
   * maximumPercent) and stop once the replacement serves. Nothing happens when no instance drains.
   */
  private moveOffDraining(service: ServiceState, primary: DeploymentState, group: TaskState[]): void {
    const onDraining = group.filter((t) => t.desiredStatus === 'RUNNING' && t.instance.status === 'DRAINING');
    if (onDraining.length === 0) return;
    const replacementOf = new Map(group.flatMap((t) => (t.replaces ? [[t.replaces, t] as const] : [])));
    for (const task of onDraining.filter((t) => t.lastStatus !== 'RUNNING' && !replacementOf.has(t.arn)))
      this.stopTask(task.arn, DRAINING_STOP_REASON, 'ServiceSchedulerInitiated');
    for (const task of onDraining) {
      const replacement = replacementOf.get(task.arn);
      if (replacement?.lastStatus === 'RUNNING' && this.isServing(service, replacement))
        this.stopTask(task.arn, DRAINING_STOP_REASON, 'ServiceSchedulerInitiated');
    }
    const ceiling = Math.ceil((service.desiredCount * service.maximumPercent) / 100);
    const inFlight = [...replacementOf.values()].filter((t) => t.desiredStatus === 'RUNNING').length;
    const headroom = Math.max(1, ceiling - service.desiredCount);
    let budget = Math.min(DRAIN_REPLACEMENTS_PER_TICK, headroom - inFlight);
    for (const task of onDraining) {
      if (budget <= 0) break;
      if (task.lastStatus !== 'RUNNING' || replacementOf.get(task.arn)?.desiredStatus === 'RUNNING') continue;
      const replacement = this.launchFor(service, primary);
      if (!replacement) return;
      replacement.replaces = task.arn;
      budget -= 1;
    }
  }

  /** ECS's threshold: half the desired count, at least 3 and at most 200 failed tasks. */
  private circuitBreakerTrips(service: ServiceState): boolean {
    if (!service.circuitBreaker) return false;
    const threshold = Math.min(200, Math.max(3, Math.ceil(service.desiredCount * 0.5)));
    return service.deploymentFailures >= threshold;
  }

  private isServing(service: ServiceState, task: TaskState): boolean {
    const targets = this.serviceTargets(service, task);
    return (
      service.targetGroupArns.length === 0 ||
      (targets.length > 0 && targets.every(({ target }) => target.state === 'healthy'))
    );
  }

  /** The task's targets in the service's own target groups, each with its group. */
  private serviceTargets(service: ServiceState, task: TaskState) {
    const arns = this.targetGroupsOf(service, task);
    return [...this.targetGroups.values()]
      .filter((tg) => arns.includes(tg.arn))
      .flatMap((tg) => tg.targets.filter((t) => t.taskArn === task.arn).map((target) => ({ tg, target })));
  }

  /** Where a service task registers: its deployment's target groups (a native green's), or the service's. */
  private targetGroupsOf(service: ServiceState, task: TaskState): string[] {
    const deployment = service.deployments.find((d) => d.id === task.deploymentId);
    return deployment?.targetGroupArns ?? service.targetGroupArns;
  }

  /** ECS throttles a service whose tasks keep failing: the more its deployment lost, the longer the pause. */
  private failed(service: ServiceState): void {
    service.deploymentFailures += 1;
    const n = service.deploymentFailures;
    const delaySeconds = n <= 3 ? 0 : Math.min(900, 10 * 2 ** (n - 4));
    service.nextLaunchAt = this.clock.now().getTime() + delaySeconds * 1000;
  }

  /** A task of the service's deployment; none when it cannot be placed (the scheduler reports why). */
  private launchFor(
    service: ServiceState,
    deployment: DeploymentState,
    taskArn?: string,
    { foundRunning = false } = {},
  ) {
    const task = this.runTask({
      cluster: service.cluster,
      taskDefinitionArn: deployment.taskDefinitionArn,
      group: `service:${service.name}`,
      startedBy: deployment.id,
      serviceName: service.name,
      deploymentId: deployment.id,
      taskArn,
      foundRunning,
    });
    if ('arn' in task) return task;
    this.placementFailed(service, task.failure);
    return undefined;
  }

  private placementFailed(service: ServiceState, reason: string): void {
    const now = this.clock.now().getTime();
    if (now - service.lastPlacementEventAt < 60_000) return;
    service.lastPlacementEventAt = now;
    this.observer.note(`service ${service.name} cannot place a task: ${reason}`);
    this.observer.event(placementFailure(this, service, reason));
  }

  // --- task lifecycle ------------------------------------------------------------------------------------

  private placeOn(cluster: string, td: TaskDefinitionState): InstanceState | string {
    const candidates = this.instances.filter((i) => i.cluster === cluster && i.status === 'ACTIVE');
    const fits = candidates.filter((i) => i.memory - this.reserved(i, 'memory') >= td.memory);
    if (fits.length === 0) return 'RESOURCE:MEMORY';
    const withCpu = fits.filter((i) => i.cpu - this.reserved(i, 'cpu') >= td.cpu);
    if (withCpu.length === 0) return 'RESOURCE:CPU';
    // Spread: the least loaded instance, as ECS's default spread-by-instance placement would.
    return withCpu.sort((a, b) => this.reserved(a, 'memory') - this.reserved(b, 'memory'))[0]!;
  }

  private started(task: TaskState): void {
    if (task.desiredStatus === 'STOPPED') return;
    if (task.behaviour.imagePullFails) {
      task.containerReason = `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${this.taskDefinition(task.taskDefinitionArn).family}:missing: not found`;
      this.markStopped(task, { stopCode: 'TaskFailedToStart', reason: task.containerReason });
      return;
    }
    // A task of the initial world runs already (marked silently when the world was built): registering it
    // again would list it twice in its target groups.
    if (task.lastStatus !== 'RUNNING') this.markRunning(task, false);
    const { crashAfterSeconds, completeAfterSeconds, exitCode, oom } = task.behaviour;
    const reason = oom ? 'OutOfMemoryError: Container killed due to memory usage' : undefined;
    const code = oom ? 137 : (exitCode ?? 1);
    if (crashAfterSeconds !== undefined)
      this.clock.after(crashAfterSeconds, `crash ${task.id}`, () => this.crash(task, code, reason));
    if (completeAfterSeconds !== undefined)
      this.clock.after(completeAfterSeconds, `complete ${task.id}`, () => this.crash(task, 0));
  }

  /** Silently for a task of the initial world, which announces nothing. */
  private markRunning(task: TaskState, silent: boolean): void {
    const now = this.clock.now();
    task.lastStatus = 'RUNNING';
    task.startedAt = now;
    const service = task.serviceName ? this.service(task.cluster, task.serviceName) : undefined;
    const groupTargetGroups = service ? this.targetGroupsOf(service, task) : task.registerIn;
    for (const arn of groupTargetGroups) {
      const tg = this.targetGroups.get(arn);
      if (!tg) continue;
      const id = tg.targetType === 'ip' ? task.privateIp! : task.instance.instanceId;
      const port = tg.targetType === 'ip' ? tg.port : (task.hostPort ?? tg.port);
      tg.targets.push({ id, port, state: 'initial', taskArn: task.arn, registeredAt: now.getTime() });
    }
    if (!silent) this.changed(task);
  }

  private markStopped(task: TaskState, stop: { stopCode?: TaskState['stopCode']; reason?: string }): void {
    if (task.lastStatus === 'STOPPED') return;
    const now = this.clock.now();
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPED';
    task.stoppedAt = now;
    task.stoppingAt ??= now;
    task.stopCode ??= stop.stopCode;
    task.stoppedReason ??= stop.reason;
    this.live.delete(task.arn);
    this.reservations = undefined;
    this.drainTargetsOf(task);
    this.changed(task);
    this.observer.note(
      `task ${task.id.slice(0, 8)} (${task.group}) stopped: ${task.stopCode} ${task.stoppedReason ?? ''}`.trim(),
    );
    const service = task.serviceName ? this.service(task.cluster, task.serviceName) : undefined;
    if (service && task.stopCode !== 'ServiceSchedulerInitiated' && task.stopCode !== 'UserInitiated')
      this.failed(service);
    // ECS forgets stopped tasks after about an hour; so does the twin, so nothing relies on more.
    this.clock.after(STOPPED_TASK_RETENTION_SECONDS, `forget ${task.id}`, () => {
      this.tasks.delete(task.arn);
    });
  }

  private changed(task: TaskState): void {
    task.version += 1;
    task.updatedAt = this.clock.now();
    this.observer.event(taskChange(this, task));
  }

  private drainTargetsOf(task: TaskState): void {
    for (const tg of this.targetGroups.values())
      for (const target of tg.targets)
        if (target.taskArn === task.arn && target.state !== 'draining') this.drain(tg, target);
  }

  drain(tg: TargetGroupState, target: TargetState): void {
    target.state = 'draining';
    target.reason = 'Target.DeregistrationInProgress';
    target.drainingUntil = this.clock.now().getTime() + tg.deregistrationDelaySeconds * 1000;
  }
}
