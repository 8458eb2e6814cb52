// Blast-radius invariants (issue 6), looked at after every step of the twin's clock (each callback
// `VirtualScheduler.runUntil` runs, with everything it awaited):
// - healthy-floor: a service never falls below its healthy floor because of a reflex;
// - last-healthy-target: a target group never loses its last healthy target because of a reflex;
// - router-limits: every route's weights stay within its router's limits, whoever wrote them;
// - desired-lowered: a reflex lowers a service's desired count (or scales it to zero) only where that is
//   configured: the scale-downs the scenario's rollouts name (promote.scaleDownStable,
//   rollback.scaleDownCanary) or the crash-loop breaker's scale-to-zero when its policy says so, each to
//   0; an alarm reaction putting back a value it raised may lower it to where it was before (the
//   service's baseline: its desired count as last set by anyone but a reflex), never below.
//
// "Because of a reflex" is decided per step from what was lost in it. The tasks (targets) healthy
// before the step's first write and not after the step are the ones lost; the step is the reflexes' doing when one of its
// successful AWS writes (`world.apiCalls`, which only the reflexes' ports record: a scenario's crashes,
// RunTasks and hand edits call the world directly) reaches one of them: StopTask of that task,
// DeregisterTargets of its target, draining or terminating (CompleteLifecycleAction) its instance, an
// UpdateService of its service. A lifecycle fail-safe's completion is the group's own scale-in going
// ahead (see releasedByFailSafe). A fall caused by the scenario in a step where a reflex also wrote
// elsewhere is not the reflex's. A write whose effect comes only in a later step of the twin's own
// clockwork (a desired count ECS acts on at its next tick, a drain ECS carries out by starting
// replacements first) is not caught by this; the floor below follows the desired count for that reason.
import { type RouterKind, targetsProblem } from '#domain/rolloutRoutes';
import { clockLabel } from '#local/twin/timeline';
import type { Twin } from '#local/twin/twin';
import type { ApiCall, TargetState, TaskState } from '#local/twin/world';

export type BlastRadiusInvariant =
  | 'healthy-floor'
  | 'last-healthy-target'
  | 'router-limits'
  | 'desired-lowered';

/** The scale-downs a scenario configures: where a reflex may take a service's desired count to 0. */
export interface ConfiguredScaleDowns {
  /** `cluster/name` of each service a rollout names as promote.scaleDownStable or rollback.scaleDownCanary. */
  services: string[];
  /** The recycler's crash-loop policy scales a service with no stable revision to zero. */
  crashLoopScaleToZero: boolean;
}

export interface BlastRadiusViolation {
  scenario: string;
  /** Virtual time since the scenario started, hh:mm:ss. */
  at: string;
  /** The scheduler step after which it was seen (its label: `tick`, `invoke taskRecycler`, ...). */
  step: string;
  invariant: BlastRadiusInvariant;
  /** The service (`cluster/name`), target group (name) or route (the twin's name). */
  subject: string;
  detail: string;
  /** The step's successful reflex writes that reached what was lost (or wrote the weights). */
  calls: string[];
}

export interface BlastRadiusReport {
  steps: number;
  violations: BlastRadiusViolation[];
}

/**
 * The fewest healthy tasks a reflex may leave a service with. The twin does not model ECS's
 * minimumHealthyPercent (a service has a desired count and maximumPercent only), so the floor is the
 * reflexes' own blast-radius rule: the task recycler lets at most max(1, floor(n x maxStopShare)) of a
 * group's n tasks be out of service because of it at once (`stopBudget` in layers/domain/taskRecycler.ts).
 * n is the desired count: a reflex that lowers it on purpose (an alarm reaction scaling in, the crash-loop
 * breaker's scale-to-zero) lowers the floor with it, as minimumHealthyPercent would.
 */
export function healthyFloor(desiredCount: number, maxStopShare: number): number {
  return Math.max(0, desiredCount - Math.max(1, Math.floor(desiredCount * maxStopShare)));
}

/** A target's name in the world and in API calls: `TARGET_GROUP_ARN ID` (ip or instance id). */
const targetHandle = (targetGroupArn: string, id: string) => `target:${targetGroupArn} ${id}`;

/**
 * What a successful write can take out of service, as handles (`task:ARN`, `instance:ID`,
 * `service:CLUSTER/NAME`, `target:TG_ARN ID`), read from the target string the twin's ports record.
 * Writes not named here (tags, notifications, messages, RunTask, RegisterTargets, weights, policies,
 * heartbeats, executions) cannot take a task or target out of service within their step.
 */
function reachOf(call: ApiCall, twin: Twin): string[] {
  const words = call.target.split(' ');
  switch (call.api) {
    case 'StopTask':
      return [`task:${call.target}`];
    case 'DeregisterTargets': {
      // The recycler names `ID:PORT,ID:PORT`, the lifecycle reflex the instance id alone; any port counts.
      const [targetGroupArn = '', refs = ''] = words;
      return refs.split(',').map((ref) => targetHandle(targetGroupArn, ref.split(':')[0]!));
    }
    case 'UpdateContainerInstancesState': // `CLUSTER INSTANCE DRAINING`
      return [`instance:${words[1]}`];
    case 'CompleteLifecycleAction': // `GROUP INSTANCE`: a terminate action completed ends the instance
      return releasedByFailSafe(call) ? [] : [`instance:${words[1]}`];
    case 'UpdateService': // `CLUSTER/NAME change`
    case 'RegisterScalableTarget':
      return [`service:${words[0]}`];
    case 'SetDesiredCapacity': {
      const group = twin.scaling.groups.get(words[0]!);
      return [...(group?.instances ?? []), ...(group?.terminating ?? [])].map((id) => `instance:${id}`);
    }
    default:
      return [];
  }
}

/**
 * A completion the lifecycle workflow's fail-safe step made (the call comes from its `fail-safe`
 * invocation). The workflow could not drain the instance, and the fail-safe lets the Auto Scaling
 * group's own termination go ahead rather than hold it until the hook times out (issue 6's fail-safe:
 * the action completed before its timeout). Without the hook the group would have terminated it just
 * the same, at once: what is lost is the scale-in's, not the reflex's. A completion on any other path,
 * of an instance still serving, is counted.
 */
const releasedByFailSafe = (call: ApiCall): boolean => call.by?.endsWith(':fail-safe') ?? false;

/** Who serves, before and after a step that wrote. */
interface Snapshot {
  /** Healthy task ARNs per service, `cluster/name` (a list: read only where a service fell). */
  healthyTasks: Map<string, string[]>;
  /** Healthy targets per target group ARN. */
  healthyTargets: Map<string, Set<TargetState>>;
}

export class BlastRadiusChecker {
  private steps = 0;
  private readonly violations: BlastRadiusViolation[] = [];
  /**
   * The world as the step's first write found it. Taken then rather than after every step: most steps
   * (clock ticks, reads, invocations that decide to do nothing) write nothing, and a step's losses are
   * looked for only where it wrote. A step that writes is an invocation's: its reads change nothing, and
   * the twin's own clockwork (ticks, a scenario's crashes) runs in steps of its own.
   */
  private beforeFirstWrite: Snapshot | undefined;
  /** Desired count per service, `cluster/name`, after the last step. */
  private desiredBefore: Map<string, number>;
  private callsSeen: number;
  /** The weights problem last reported per route: a route stays out of limits until written again. */
  private readonly weightProblems = new Map<string, string>();
  /** Per service: its desired count as last set by anyone but a reflex (or by a configured scale-down). */
  private readonly baseline = new Map<string, number>();

  constructor(
    private readonly twin: Twin,
    private readonly options: {
      scenario: string;
      maxStopShare: number;
      scaleDowns?: ConfiguredScaleDowns;
    },
  ) {
    this.desiredBefore = this.desiredCounts();
    for (const [key, desired] of this.desiredBefore) this.baseline.set(key, desired);
    this.callsSeen = twin.world.apiCalls.length;
    twin.beforeEachWrite(() => {
      this.beforeFirstWrite ??= this.snapshot();
    });
    this.checkWeights('start', []);
  }

  /** For `runUntil`'s afterEachStep. */
  readonly afterEachStep = (label: string): void => {
    this.steps += 1;
    const { apiCalls } = this.twin.world;
    const writes = apiCalls.slice(this.callsSeen).filter((c) => c.write && !c.failed);
    this.callsSeen = apiCalls.length;
    const reach = this.reachOf(writes);
    if (writes.length > 0) {
      const before = this.beforeFirstWrite;
      if (!before) throw new Error(`a write in step ${label} was not seen before it reached the twin`);
      const after = this.snapshot();
      this.checkServices(label, before, after, reach);
      this.checkTargetGroups(label, before, after, reach);
    }
    this.beforeFirstWrite = undefined;
    const desired = this.desiredCounts();
    this.checkDesired(label, desired, reach, writes);
    this.checkWeights(label, writes);
    this.desiredBefore = desired;
  };

  report(): BlastRadiusReport {
    return { steps: this.steps, violations: [...this.violations] };
  }

  private desiredCounts(): Map<string, number> {
    const desired = new Map<string, number>();
    for (const service of this.twin.world.services.values())
      desired.set(serviceKey(service), service.desiredCount);
    return desired;
  }

  /**
   * Healthy, as the twin's load balancers see it: a service task RUNNING and meant to run, every target it
   * has healthy, and at least one target when its service has target groups (a new task's targets are
   * `initial` until their first health checks pass). ECS's own notion (`isServing` in world.ts) looks at
   * the service's target groups only; here every target group counts, so a task failing in a group the
   * recycler watches for it is not healthy, and stopping it is not a loss.
   */
  private snapshot(): Snapshot {
    const { world } = this.twin;
    const healthyTargets = new Map<string, Set<TargetState>>();
    const targetsOfTask = new Map<string, TargetState[]>();
    for (const tg of world.targetGroups.values()) {
      const healthy = new Set<TargetState>();
      for (const target of tg.targets) {
        if (target.state === 'healthy') healthy.add(target);
        if (!target.taskArn) continue;
        const ofTask = targetsOfTask.get(target.taskArn);
        if (ofTask) ofTask.push(target);
        else targetsOfTask.set(target.taskArn, [target]);
      }
      healthyTargets.set(tg.arn, healthy);
    }
    const healthyTasks = new Map<string, string[]>();
    // Per cluster, per service name: a task finds its service without building a key (a snapshot goes over
    // every task still running).
    const services = new Map<string, Map<string, { healthy: string[]; hasTargetGroups: boolean }>>();
    for (const service of world.services.values()) {
      const healthy: string[] = [];
      healthyTasks.set(serviceKey(service), healthy);
      const ofCluster = services.get(service.cluster) ?? new Map();
      ofCluster.set(service.name, { healthy, hasTargetGroups: service.targetGroupArns.length > 0 });
      services.set(service.cluster, ofCluster);
    }
    for (const task of world.liveTasks()) {
      if (!task.serviceName || task.lastStatus !== 'RUNNING' || task.desiredStatus !== 'RUNNING') continue;
      const service = services.get(task.cluster)?.get(task.serviceName);
      if (!service) continue;
      const targets = targetsOfTask.get(task.arn);
      const healthy = targets ? targets.every((t) => t.state === 'healthy') : !service.hasTargetGroups;
      if (healthy) service.healthy.push(task.arn);
    }
    return { healthyTasks, healthyTargets };
  }

  /**
   * A desired count that went down in a step in which a reflex wrote to its service (UpdateService,
   * RegisterScalableTarget) must be a configured scale-down to 0, or no lower than the service's baseline.
   */
  private checkDesired(
    label: string,
    desired: Map<string, number>,
    reach: Map<string, string[]>,
    writes: ApiCall[],
  ): void {
    const scaleDowns = this.options.scaleDowns ?? { services: [], crashLoopScaleToZero: false };
    for (const [key, now] of desired) {
      const was = this.desiredBefore.get(key) ?? now;
      const calls = reach.get(`service:${key}`) ?? [];
      if (calls.length === 0) {
        // Set by the scenario or by a person (or not at all): that is the value a reaction restores to.
        if (now !== was) this.baseline.set(key, now);
        continue;
      }
      if (now >= was) continue;
      const baseline = this.baseline.get(key) ?? was;
      const byRecycler = writes.some(
        (c) =>
          c.api === 'UpdateService' && c.target.startsWith(`${key} `) && c.by?.startsWith('taskRecycler'),
      );
      const configured =
        now === 0 && (scaleDowns.services.includes(key) || (scaleDowns.crashLoopScaleToZero && byRecycler));
      if (configured) {
        this.baseline.set(key, now);
        continue;
      }
      if (now >= baseline) continue;
      this.violations.push(
        this.violation(label, 'desired-lowered', key, {
          detail: `desired count ${was} -> ${now}, below ${baseline} and not a configured scale-down`,
          calls,
        }),
      );
    }
  }

  /** Each handle the step's writes reach, with the writes that reach it. */
  private reachOf(writes: ApiCall[]): Map<string, string[]> {
    const reach = new Map<string, string[]>();
    for (const call of writes)
      for (const handle of reachOf(call, this.twin))
        reach.set(handle, [...(reach.get(handle) ?? []), `${call.api} ${call.target}`]);
    return reach;
  }

  private checkServices(
    label: string,
    before: Snapshot,
    after: Snapshot,
    reach: Map<string, string[]>,
  ): void {
    const { world } = this.twin;
    for (const service of world.services.values()) {
      const key = serviceKey(service);
      const was = before.healthyTasks.get(key) ?? [];
      const now = after.healthyTasks.get(key)!;
      const floor = healthyFloor(service.desiredCount, this.options.maxStopShare);
      if (now.length >= was.length || now.length >= floor) continue;
      const still = new Set(now);
      const lost = was.filter((arn) => !still.has(arn));
      const calls = lost.flatMap((arn) => {
        const task = world.tasks.get(arn);
        return task ? this.handlesOfTask(task).flatMap((h) => reach.get(h) ?? []) : [];
      });
      if (calls.length === 0) continue;
      this.violations.push(
        this.violation(label, 'healthy-floor', key, {
          detail: `healthy tasks ${was.length} -> ${now.length}, below the floor of ${floor} (desired ${service.desiredCount})`,
          calls,
        }),
      );
    }
  }

  private checkTargetGroups(
    label: string,
    before: Snapshot,
    after: Snapshot,
    reach: Map<string, string[]>,
  ): void {
    for (const tg of this.twin.world.targetGroups.values()) {
      const was = before.healthyTargets.get(tg.arn) ?? new Set<TargetState>();
      const now = after.healthyTargets.get(tg.arn)!;
      if (was.size === 0 || now.size > 0) continue;
      const calls = [...was].flatMap((target) =>
        this.handlesOfTarget(tg.arn, target).flatMap((h) => reach.get(h) ?? []),
      );
      if (calls.length === 0) continue;
      this.violations.push(
        this.violation(label, 'last-healthy-target', tg.name, {
          detail: `healthy targets ${was.size} -> 0`,
          calls,
        }),
      );
    }
  }

  /** App Mesh: integers 0..100, 1..10 targets; ALB: 0..999, 1..5; Lattice: 0..999, 1..10; some weight above 0. */
  private checkWeights(label: string, writes: ApiCall[]): void {
    const { traffic } = this.twin;
    for (const name of traffic.routeNames()) {
      const kind: RouterKind = traffic.route(name).kind;
      const targets = Object.entries(traffic.weightsNow(name)).map(([id, weight]) => ({ id, weight }));
      const problem = targetsProblem(kind, targets);
      if (problem === this.weightProblems.get(name)) continue;
      if (problem === undefined) {
        this.weightProblems.delete(name);
        continue;
      }
      this.weightProblems.set(name, problem);
      const weightWrites = writes.filter((c) => WEIGHT_APIS.has(c.api));
      this.violations.push(
        this.violation(label, 'router-limits', name, {
          detail: problem,
          calls: weightWrites.map((c) => `${c.api} ${c.target}`),
        }),
      );
    }
  }

  private handlesOfTask(task: TaskState): string[] {
    const handles = [`task:${task.arn}`, `instance:${task.instance.instanceId}`];
    if (task.serviceName) handles.push(`service:${task.cluster}/${task.serviceName}`);
    for (const tg of this.twin.world.targetGroups.values())
      for (const target of tg.targets)
        if (target.taskArn === task.arn) handles.push(targetHandle(tg.arn, target.id));
    return handles;
  }

  private handlesOfTarget(targetGroupArn: string, target: TargetState): string[] {
    const handles = [targetHandle(targetGroupArn, target.id)];
    const task = target.taskArn ? this.twin.world.tasks.get(target.taskArn) : undefined;
    if (!task) return [...handles, `instance:${target.id}`];
    handles.push(`task:${task.arn}`, `instance:${task.instance.instanceId}`);
    if (task.serviceName) handles.push(`service:${task.cluster}/${task.serviceName}`);
    return handles;
  }

  private violation(
    step: string,
    invariant: BlastRadiusInvariant,
    subject: string,
    what: { detail: string; calls: string[] },
  ): BlastRadiusViolation {
    return {
      scenario: this.options.scenario,
      at: clockLabel(this.twin.scheduler.elapsedSeconds()),
      step,
      invariant,
      subject,
      detail: what.detail,
      calls: [...new Set(what.calls)],
    };
  }
}

const WEIGHT_APIS = new Set(['UpdateRoute', 'ModifyRule', 'ModifyListener', 'UpdateRule', 'UpdateListener']);

const serviceKey = (service: { cluster: string; name: string }) => `${service.cluster}/${service.name}`;
