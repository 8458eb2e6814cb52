// Narrow, domain-shaped interfaces between the use cases and the world. The AWS adapters implement them
// over SDK v3 clients; the local twin implements all of them over one simulated cluster.
import type {
  AlarmState,
  Knob,
  KnobReading,
  KnobValue,
  ReactionRecord,
  ScalingTarget,
  TargetMemory,
} from '#domain/alarmReactions';
import type { DeclaredRoute } from '#domain/declaredRoutes';
import type { GateAnswerSeen } from '#domain/deploymentHook';
import type { ContainerInstanceView, TargetView } from '#domain/instanceLifecycle';
import type { DeploymentRecord, GroupRef, Service, TargetGroupHealth, TargetRef, Task } from '#domain/model';
import type { MetricQuery } from '#domain/rolloutAnalysis';
import type { RolloutRequest, RouteRef, RouteState, Weights } from '#domain/rolloutRoutes';
import type { CapacityProviderShare } from '#domain/runTaskLimits';
import type { HttpCheck, LambdaCheck, TrafficCheckObservation } from '#domain/trafficChecks';

export type TaskStatusFilter = 'RUNNING' | 'STOPPED';

/**
 * What RunTask needs to start a copy of a task: same definition, overrides, launch type or capacity
 * provider, network, tags. Passed to ECS as it is: a launch ECS would refuse (a launch type with a
 * strategy, `aws:` tags, over 50 tags, ...; see #domain/runTaskLimits) is refused by both backends
 * with InvalidParameterException.
 */
export interface TaskLaunch {
  cluster: string;
  taskDefinitionArn: string;
  group: string;
  startedBy: string;
  launchType?: string;
  capacityProviderStrategy?: CapacityProviderShare[];
  overrides?: unknown;
  network?: { subnets: string[]; securityGroups: string[]; assignPublicIp: boolean };
  tags: Record<string, string>;
  /** RunTask's own idempotency token: a retried restart never starts a second task. */
  clientToken: string;
}

export type LaunchResult = { started: true; taskArn: string } | { started: false; reason: string };

export interface TaskFleet {
  /** Tasks of one group, with tags. Stopped tasks stay listable for about an hour after they stop. */
  listTasks(cluster: string, group: GroupRef, status: TaskStatusFilter): Promise<Task[]>;
  runTask(launch: TaskLaunch): Promise<LaunchResult>;
  /** Stopping a task that is already stopping or stopped succeeds. */
  stopTask(cluster: string, taskArn: string, reason: string): Promise<void>;
  /** Tags are the reflexes' only memory between invocations; a `null` value removes the key. */
  tagTask(cluster: string, taskArn: string, tags: Record<string, string | null>): Promise<void>;
}

export interface ServiceControl {
  describeService(cluster: string, serviceName: string): Promise<Service | undefined>;
  /** Deployments of every status, newest first, as far back as ECS remembers (90 days). */
  deploymentHistory(cluster: string, serviceName: string): Promise<DeploymentRecord[]>;
  /** Points the service at another task definition; ECS then runs a normal deployment. */
  setTaskDefinition(cluster: string, serviceName: string, taskDefinitionArn: string): Promise<void>;
  setDesiredCount(cluster: string, serviceName: string, desiredCount: number): Promise<void>;
  tagService(cluster: string, serviceName: string, tags: Record<string, string>): Promise<void>;
}

/** What an operator does to services through the ops API, beyond what the reflexes need. */
export interface ServiceOperations {
  /** The names of the cluster's services (every page). */
  listServices(cluster: string): Promise<string[]>;
  /**
   * A rolling replacement of every task (UpdateService forceNewDeployment): ECS keeps the service's
   * deployment configuration (minimum healthy percent, circuit breaker), which is the blast radius.
   */
  forceNewDeployment(cluster: string, serviceName: string): Promise<void>;
}

export interface TargetRegistry {
  targetHealth(targetGroupArn: string): Promise<TargetGroupHealth>;
  /** Deregistering a target that is not registered succeeds. */
  deregister(targetGroupArn: string, targets: TargetRef[]): Promise<void>;
}

/** One way to steer what a notification reports: the CLI command and the API call behind it. */
export interface Steer {
  /** In a few words: "resume the rollout", "abort it", "look at the service". */
  what: string;
  command: string;
  api: string;
}

/** What a person is told: which reflex, about what (by its short name), what happened and why, what next. */
export interface Notification {
  subject: string;
  severity: 'info' | 'warning' | 'critical';
  reflex: string;
  /** The service, group, route or instance, by the short name a person knows it by. */
  target: string;
  /** What happened and why, in a sentence or two. */
  summary: string;
  steer: Steer[];
  detail: Record<string, unknown>;
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

export interface CapacityShortfall {
  cluster: string;
  group: string;
  reason: string;
  at: Date;
}

/** Placement failures are reported here so the alarm and scaling reflexes can add capacity later. */
export interface CapacitySignal {
  reportShortfall(shortfall: CapacityShortfall): Promise<void>;
}

/** A later look at a group, for waits too short for a workflow and too long for a Lambda (backoff, grace). */
export interface Rechecks {
  recheckAt(cluster: string, group: string, at: Date): Promise<void>;
}

/**
 * The recycler's FIFO queue: a message sent in its task group's message group is received only once the
 * group's earlier messages are done, so each group has one actor while groups run side by side.
 */
export interface TaskGroupQueue {
  /** Sends each message in its group (deduplicated by its id); answers the ids SQS did not take. */
  enqueue(messages: { id: string; body: string; group: string }[]): Promise<string[]>;
}

/** Input that can never succeed is parked here with its reason: not retried, not lost. */
export interface DeadLetters {
  park(input: string, reason: string, source: string): Promise<void>;
}

/** How many messages wait on a queue, as SQS approximates them; `missing` for a queue that is gone. */
export interface QueueDepths {
  depth(queueUrl: string): Promise<{ messages: number; inFlight: number } | { missing: true }>;
}

export interface Clock {
  now(): Date;
}

/** Where every decided action is recorded: a structured log line and a metric in AWS, the timeline locally. */
export interface ActionJournal {
  record(entry: JournalEntry): void;
}

export interface JournalEntry {
  reflex: string;
  action: string;
  target: string;
  reason: string;
  dryRun: boolean;
  /** done: carried out; dry-run: only logged; held: a guard stopped it; failed: the world said no. */
  outcome: 'done' | 'dry-run' | 'held' | 'failed';
  detail?: Record<string, unknown>;
}

/** Everything the task recycler touches. */
export interface RecyclerPorts {
  tasks: TaskFleet;
  services: ServiceControl;
  targets: TargetRegistry;
  notifier: Notifier;
  capacity: CapacitySignal;
  rechecks: Rechecks;
  clock: Clock;
  journal: ActionJournal;
  deadLetters: DeadLetters;
}

// --- alarm reactor --------------------------------------------------------------------------------------

export interface AlarmDescription {
  name: string;
  arn: string;
  state: AlarmState;
  type: 'metric' | 'composite';
  tags: Record<string, string>;
}

export interface AlarmStates {
  /** The alarm as CloudWatch has it now; undefined when it does not exist (any more). */
  describe(alarmName: string, options: { withTags: boolean }): Promise<AlarmDescription | undefined>;
  /** The states of many alarms now, in as few calls as CloudWatch allows; an alarm that does not exist is absent. */
  statesOf(alarmNames: readonly string[]): Promise<Map<string, AlarmState>>;
}

export interface ScalingControls {
  /** The knob's current value; undefined when the target or the policy does not exist. */
  read(knob: Knob): Promise<KnobReading | undefined>;
  /**
   * Absolute write: setting a knob to the value it has is a no-op, never an error. Given the reading this
   * adapter's `read` answered in the same look (`read`), a knob written whole (a scaling policy) is sent
   * back from that answer, with no second read.
   */
  write(knob: Knob, value: KnobValue, read?: KnobReading): Promise<void>;
}

/** What the reactor remembers about a target: records of its own changes, and when it last changed it. */
export interface ReactionMemoryStore {
  load(target: ScalingTarget): Promise<TargetMemory>;
  save(
    target: ScalingTarget,
    change: { reactionId: string; record: ReactionRecord | null; lastChangeAt: Date },
  ): Promise<void>;
}

/** A knob's reading and its target's memory, as one look takes them. */
export interface TargetReading {
  current: KnobReading | undefined;
  memory: TargetMemory;
}

/**
 * The knob and the memory together, in one call where the target's description carries its tags (a group's
 * or a service's desired count); apart where the knob lives elsewhere (a scaling policy).
 */
export interface ScalingTargetReader {
  read(knob: Knob): Promise<TargetReading>;
}

export interface AlarmReactorPorts {
  alarms: AlarmStates;
  scaling: ScalingControls;
  memory: ReactionMemoryStore;
  targets: ScalingTargetReader;
  clock: Clock;
  journal: ActionJournal;
  notifier: Notifier;
  deadLetters: DeadLetters;
}

// --- instance lifecycle ---------------------------------------------------------------------------------

export interface LifecycleActionRef {
  groupName: string;
  hookName: string;
  instanceId: string;
  token: string;
}

export interface LifecycleActions {
  /** Completing an action that is already complete (or timed out) succeeds: the hook is done either way. */
  complete(action: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<void>;
  heartbeat(action: LifecycleActionRef): Promise<void>;
  /**
   * The instance's lifecycle state in this group, as Auto Scaling has it now (`Pending:Wait`,
   * `Terminating:Wait`, `Warmed:Pending:Wait`, `InService`, ...), or undefined when the group does not hold
   * it. Auto Scaling lists no pending actions by token: the instance waiting in the group is what it
   * exposes; a heartbeat with the token then shows whether the token is live.
   */
  lifecycleState(groupName: string, instanceId: string): Promise<string | undefined>;
  /** The hook's heartbeat timeout and default result, and whether the group's capacity provider drains. */
  hookSettings(
    groupName: string,
    hookName: string,
  ): Promise<
    | { heartbeatTimeoutSeconds: number; defaultResult: 'CONTINUE' | 'ABANDON'; managedDraining: boolean }
    | undefined
  >;
}

export interface ContainerInstances {
  /** The ECS container instance on an EC2 instance, with its tasks; undefined before the agent registers. */
  describe(cluster: string, ec2InstanceId: string): Promise<ContainerInstanceView | undefined>;
  /**
   * Draining an instance that is already draining succeeds. Given the view this adapter's `describe`
   * answered in the same look (`seen`), the instance it read is the one drained, with no second look-up.
   */
  drain(cluster: string, ec2InstanceId: string, seen?: ContainerInstanceView): Promise<void>;
  stopTasks(cluster: string, taskArns: string[], reason: string): Promise<void>;
}

export interface InstanceTargets {
  /** Where the instance is a target (instance targets: id = instance id), in the given target groups. */
  targetsOf(ec2InstanceId: string, targetGroupArns: string[]): Promise<TargetView[]>;
  register(ec2InstanceId: string, targets: { targetGroupArn: string; port: number }[]): Promise<void>;
  deregister(ec2InstanceId: string, targets: { targetGroupArn: string; port: number }[]): Promise<void>;
}

export interface Workflows {
  /** Starts a workflow run; a run with the same name already started is not an error: `started: false`. */
  start(workflow: string, name: string, input: unknown): Promise<{ started: boolean; runId: string }>;
}

export type { MetricQuery };

// --- progressive rollouts -------------------------------------------------------------------------------

/**
 * One traffic router (App Mesh route, ALB listener rule): four methods, one small implementation per
 * router, in the manner of Flagger's. Weights are absolute, in percent between stable and canary; the
 * router keeps everything else of the route as it is.
 */
export interface TrafficRouter {
  /** The route as it is now; throws RouteNotFoundError when it does not exist or holds no weighted targets. */
  read(route: RouteRef): Promise<RouteState>;
  /**
   * Writes stable and canary (read, change the two weights, write back the whole route). Throws
   * WeightOutOfRangeError before any write when the result would leave the router's limits. Given the
   * state this router's `read` answered in the same step (`read`), the route it holds is what is written
   * back, with no second read: the answer the ownership and hand-edit checks looked at is the spec to write.
   */
  setWeights(route: RouteRef, weights: Weights, read?: RouteState): Promise<void>;
  /** Whether the route holds exactly these weights now (a separate read, after setWeights). */
  verifyWeights(route: RouteRef, weights: Weights): Promise<boolean>;
  /**
   * Marks the rollout that owns the route (a tag), or clears the mark with null: then any request mark goes
   * too, in the same call (a released route carries nothing for a later rollout to act on).
   */
  setOwner(route: RouteRef, owner: string | null): Promise<void>;
  /**
   * Marks a person's request for the rollout that owns the route (a tag next to the owner's, read with it
   * by `read`), or clears it with null. The rollout acts on it at its next step.
   */
  setRequest(route: RouteRef, request: RolloutRequest | null): Promise<void>;
}

/**
 * Who holds each route for a rollout, apart from the route itself (whose tags are last-writer-wins): one
 * holder at a time, taken with a conditional write, so that of two rollouts claiming a route at once exactly
 * one wins and the other writes nothing. Keyed by `routeKey`.
 */
export interface RouteClaims {
  /**
   * Takes the route for the run when nobody holds it, the run holds it already, or `replacing` holds it (a
   * holder the caller found ended). Otherwise nothing is written and the holder that kept it is answered.
   */
  claim(
    routeKey: string,
    runId: string,
    replacing?: string,
  ): Promise<{ claimed: true } | { claimed: false; holder: string | undefined }>;
  /** Lets the route go if the run holds it; a route another run holds (or nobody) is left as it is. */
  release(routeKey: string, runId: string): Promise<void>;
  /** The run that holds the route now, if any. */
  holder(routeKey: string): Promise<string | undefined>;
}

export interface MetricsSource {
  /**
   * One value per query, aggregated over the whole window (the window is one period, whole minutes);
   * undefined where CloudWatch has no datapoint. Throws when the provider itself fails.
   */
  query(
    queries: MetricQuery[],
    window: { start: Date; end: Date },
  ): Promise<Record<string, number | undefined>>;
}

/**
 * A person's answer at a manual gate: go on (`{"decision":"resume"}`), promote now (`{"decision":"promote"}`),
 * or fail the gate with RolloutAborted and the cause.
 */
export type GateAnswer = { resume: true } | { promote: true } | { abort: string };

/** Runs of a long workflow, by name: whether one still goes, which go (with their input), stopping one. */
export interface WorkflowRuns {
  /** `unknown`: never started, or forgotten (Step Functions keeps ended runs for 90 days). */
  status(workflow: string, name: string): Promise<'running' | 'ended' | 'unknown'>;
  running(workflow: string): Promise<{ name: string; input: unknown }[]>;
  /** Stopping a run that has ended already succeeds. */
  stop(workflow: string, name: string, cause: string): Promise<void>;
  /**
   * Answers the callback the run waits on (a manual gate): resume it, promote it now, or fail it with
   * RolloutAborted and the cause. False when the run waits on nothing (no gate open, or it has ended).
   */
  answerGate(workflow: string, name: string, answer: GateAnswer): Promise<boolean>;
  /** One run as it stands, with the state its latest finished step returned; undefined when unknown. */
  describe(workflow: string, name: string): Promise<RunView | undefined>;
  /** Runs of the workflow, newest first, at most `limit`. */
  list(workflow: string, limit: number): Promise<RunSummary[]>;
}

export interface RunSummary {
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
  startDate: Date;
  stopDate?: Date;
}

export interface RunView extends RunSummary {
  input: unknown;
  error?: string;
  cause?: string;
  /** The output of the latest step that finished (for a rollout, `{state: RolloutState}`), if any. */
  latest?: unknown;
}

/** Everything a rollout step touches. */
export interface RolloutPorts {
  routers: Record<RouteRef['router'], TrafficRouter>;
  /**
   * Not a port to the world but the stack's configuration every rollout step needs: the routes it may roll
   * out on (OPS_ROUTES), each with the services it may scale. A request naming anything else is refused.
   */
  declaredRoutes: readonly DeclaredRoute[];
  claims: RouteClaims;
  metrics: MetricsSource;
  alarms: Pick<AlarmStates, 'describe'>;
  targets: Pick<TargetRegistry, 'targetHealth'>;
  /** The route's declared services: who deploys them (read before every weight write), and scaling down. */
  services: Pick<ServiceControl, 'describeService' | 'setDesiredCount'>;
  runs: WorkflowRuns;
  notifier: Notifier;
  clock: Clock;
  journal: ActionJournal;
  /** Tests before traffic: the checks a rollout runs before its first shift. */
  trafficChecks: TrafficChecks;
  /** Configuration, as declaredRoutes: the functions lambda checks may invoke (the stage's). */
  trafficCheckFunctions: readonly string[];
}

/**
 * Runs one test-before-traffic check and says what it saw. Never throws for what the check finds (no answer,
 * a function that is missing or throws): that is an observation, which the domain judges.
 */
export interface TrafficCheckRunner<C> {
  /** `context` is what a function under test is told: which check, which rollout or hook stage. */
  run(check: C, context: Record<string, string>): Promise<TrafficCheckObservation>;
}

/** One runner per kind of check, as routers are one per kind of route. */
export interface TrafficChecks {
  http: TrafficCheckRunner<HttpCheck>;
  lambda: TrafficCheckRunner<LambdaCheck>;
}

// --- ops API ----------------------------------------------------------------------------------------------

/** A stored answer to a write, so that a retry with the same Idempotency-Key gets it again. */
export interface IdempotentRecord {
  /** Hash of what the first request asked (method, path, body): the same key with another request is refused. */
  requestHash: string;
  /** `in-progress` while the first request runs: a concurrent retry is told to wait (409). */
  status: 'in-progress' | 'done';
  response?: { statusCode: number; body: string };
}

/** A cluster's container instances at a glance, for operators (the ops API). */
export interface InstanceFleet {
  list(cluster: string): Promise<
    {
      ec2InstanceId: string;
      status: string;
      agentConnected: boolean;
      runningTasks: number;
      pendingTasks: number;
    }[]
  >;
}

/** What the reflexes did, most recent first: the journal as it was written (logs in AWS). */
export interface ActionHistory {
  recent(filter: {
    reflex?: string;
    target?: string;
    /** Only targets that start with this: one service's lines among everything its reflex journals. */
    targetPrefix?: string;
    /** Only these actions. */
    actions?: readonly string[];
    since?: Date;
    limit: number;
  }): Promise<(JournalEntry & { at: Date })[]>;
}

export interface IdempotencyStore {
  /**
   * Claims the key for this request: `claimed` the first time; otherwise the record that holds it. Keys are
   * per caller (the caller's identity is part of the key), and expire after a day.
   */
  claim(
    key: string,
    requestHash: string,
  ): Promise<{ claimed: true } | { claimed: false; record: IdempotentRecord }>;
  /** Stores the answer of a claimed key. */
  complete(key: string, response: { statusCode: number; body: string }): Promise<void>;
  /** Lets the key go after a failure that must not be replayed (a 5xx): the retry runs again. */
  release(key: string): Promise<void>;
}

/**
 * People's answers at the deployment hook's gates, one per gate (a deployment at a stage). ECS tags have no
 * conditional write, so the answer the hook reads is written only after it is recorded here.
 */
export interface GateAnswers {
  /** Records this answer unless the gate holds one already; either way, the answer the gate holds now. */
  record(gate: string, answer: GateAnswerSeen): Promise<GateAnswerSeen>;
}

// --- deployment hook --------------------------------------------------------------------------------------

/** One revision's share of a native deployment's traffic, percent, as ECS requested it. */
export interface RevisionShare {
  arn: string;
  productionWeight: number;
  testWeight: number;
}

/** An ECS native deployment (DescribeServiceDeployments) as the deployment hook needs it. */
export interface NativeDeployment {
  arn: string;
  serviceArn: string;
  clusterArn: string;
  /** PENDING, IN_PROGRESS, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, SUCCESSFUL, STOPPED, ... */
  status: string;
  lifecycleStage?: string;
  target: RevisionShare;
  sources: RevisionShare[];
  /** The Lambda hooks the deployment runs, with the hookDetails the service configured for each. */
  hooks: { hookTargetArn: string; lifecycleStages: string[]; hookDetails?: unknown }[];
  /** BLUE_GREEN, LINEAR, CANARY (or ROLLING for a deployment ECS shifts no traffic in). */
  strategy?: string;
  statusReason?: string;
  createdAt?: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  rollback?: { reason?: string; startedAt?: Date };
  /** ECS's own state of each hook it ran (lifecycleHookDetails): not what the hook answered, only where it is. */
  hookRuns?: { hookTargetArn?: string; status?: string; expiresAt?: Date }[];
}

/** A service revision (DescribeServiceRevisions): where its traffic goes. */
export interface NativeRevision {
  arn: string;
  serviceArn: string;
  /** Resolved target groups of the revision and the production listener or rule sending to each. */
  loadBalancers: { targetGroupArn: string; productionListenerRule?: string }[];
  serviceConnect: boolean;
}

export interface NativeDeployments {
  /** Undefined when ECS does not know it. */
  deployment(deploymentArn: string): Promise<NativeDeployment | undefined>;
  /** The revisions ECS knows among these (at most 20); unknown ones are left out. */
  revisions(revisionArns: string[]): Promise<NativeRevision[]>;
  /** A service's most recent deployments by `createdAt` (at most 20), newest first, from every listed page. */
  recent(cluster: string, service: string, limit: number): Promise<NativeDeployment[]>;
}

/** What stopping a native deployment takes beyond reading it: ECS's list of a service's deployments, and the stop. */
export interface NativeDeploymentStops {
  /** The service's deployments ECS has not finished (PENDING, IN_PROGRESS, ROLLBACK_*), by ARN. */
  unfinished(cluster: string, service: string): Promise<string[]>;
  /**
   * StopServiceDeployment with ROLLBACK. `stopped`: ECS took it; `refused`: ECS says the deployment cannot
   * be stopped (it ended since it was read, or it is gone), with ECS's words.
   */
  stop(deploymentArn: string): Promise<{ stopped: true } | { stopped: false; why: string }>;
}

/** What the alarm reactor needs to stop the native deployments a guard alarm guards. */
export interface GuardedDeploymentPorts {
  alarms: AlarmStates;
  deployments: Pick<NativeDeployments, 'deployment'>;
  stops: NativeDeploymentStops;
  clock: Clock;
  journal: ActionJournal;
  notifier: Notifier;
}

/** Everything the deployment hook touches: it reads, and writes nothing but its journal. */
export interface DeploymentHookPorts {
  deployments: NativeDeployments;
  /** The service's tags hold a person's answer at a gate. */
  services: Pick<ServiceControl, 'describeService'>;
  metrics: MetricsSource;
  alarms: Pick<AlarmStates, 'describe'>;
  targets: Pick<TargetRegistry, 'targetHealth'>;
  /** Tests before traffic at a stage, as rollouts run theirs. */
  trafficChecks: TrafficChecks;
  /** Configuration, as for rollouts: the functions lambda checks may invoke (the stage's). */
  trafficCheckFunctions: readonly string[];
  clock: Clock;
  journal: ActionJournal;
}
