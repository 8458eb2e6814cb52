// Scaling in the twin: EC2 Auto Scaling groups that give an ECS cluster its instances, their scaling
// policies, and Application Auto Scaling targets and policies for ECS services. Desired capacity is
// live (instances launch and join the cluster, or terminate); policies are stored with their real
// limits but not run: in AWS the services run them, and the reflexes only read and set their values.
import type {
  MetricType,
  TargetTrackingScalingPolicyConfiguration,
} from '@aws-sdk/client-application-auto-scaling';
import type { StepAdjustment } from '#domain/alarmReactions';
import type { LifecycleMove, TwinLifecycle } from '#local/twin/lifecycle';
import type { AgentStart, GivenInstanceIds, World } from '#local/twin/world';

export type TwinAsgPolicy =
  | {
      name: string;
      type: 'TargetTrackingScaling';
      targetValue: number;
      disableScaleIn: boolean;
      metric: string;
    }
  | { name: string; type: 'StepScaling'; steps: StepAdjustment[]; adjustmentType: 'ChangeInCapacity' };

/** A group as a scenario declares it. */
export interface TwinAutoScalingGroupSpec {
  name: string;
  cluster: string;
  min: number;
  max: number;
  desired: number;
  instance: { cpu: number; memory: number };
  launchSeconds: number;
  /** A warm pool of stopped instances, kept at `minSize` beside the group; unset: none. */
  warmPool?: { minSize: number };
  /** When the ECS agent of an instance this group launches registers; unset: at once. */
  agent?: AgentStart;
  /** An ECS capacity provider over this group drains its instances itself (managed instance draining). */
  managedDraining?: boolean;
  /** Target groups attached to the group: Auto Scaling registers its in-service instances there itself. */
  targetGroups?: { arn: string; port: number }[];
  policies: Map<string, TwinAsgPolicy>;
}

export interface TwinAutoScalingGroup extends TwinAutoScalingGroupSpec {
  /** Instances in service, oldest first, and those still launching. */
  instances: string[];
  launching: number;
  /** Launched and held by a launch lifecycle hook (Pending:Wait): running, but not in service. */
  pending: string[];
  /** Chosen for scale-in and held by a terminate lifecycle hook (Terminating:Wait): still running. */
  terminating: string[];
  /** Launched into the warm pool and held by a launch hook there (Warmed:Pending:Wait). */
  warming: string[];
  /** Stopped in the warm pool, ready to be started into the group (Warmed:Stopped). */
  warm: string[];
  warmLaunching: number;
  tags: Record<string, string>;
  createdAt: Date;
}

export interface TwinServiceScaling {
  cluster: string;
  service: string;
  min: number;
  max: number;
  /** Target tracking policies by name, each configuration as PutScalingPolicy gave it. */
  policies: Map<string, TargetTrackingScalingPolicyConfiguration>;
}

/** A scenario's target tracking policy: a predefined metric type (ECSService...) or a custom metric's name. */
type ServicePolicySpec = { targetValue: number; metric: string };

const RECONCILE_SECONDS = 10;
/** A stopped warm pool instance starts much faster than a new one boots. */
const WARM_START_SECONDS = 15;

export class TwinScaling {
  readonly groups = new Map<string, TwinAutoScalingGroup>();
  readonly services = new Map<string, TwinServiceScaling>();
  /**
   * The lifecycle hooks, once TwinLifecycle attaches itself: an instance that launches or is chosen for
   * scale-in may be held in a wait state (`hold` says whether it is); they call back
   * `enterService`, `enterWarmPool` or `terminateNow` when the action completes.
   */
  lifecycle?: TwinLifecycle;

  constructor(
    private readonly world: World,
    private readonly note: (text: string) => void,
  ) {}

  addGroup(
    spec: TwinAutoScalingGroupSpec,
    /** Ids for its first instances (a replay's given ones); the rest are generated. */
    given: GivenInstanceIds[] = [],
  ): TwinAutoScalingGroup {
    const group: TwinAutoScalingGroup = {
      ...spec,
      instances: [],
      launching: 0,
      pending: [],
      terminating: [],
      warming: [],
      warm: [],
      warmLaunching: 0,
      tags: {},
      createdAt: this.world.clock.now(),
    };
    // A group that exists before the scenario starts is in service already.
    for (let i = 0; i < spec.desired; i++) {
      const instanceId = this.boot(group, undefined, given[i]);
      group.instances.push(instanceId);
      this.attachTargets(group, instanceId, 'healthy');
    }
    this.groups.set(spec.name, group);
    return group;
  }

  /**
   * An instance of the group that a lifecycle hook already holds when the scenario starts (a replay's given
   * action): launched and in Pending:Wait (its agent as the group's), or chosen for scale-in and in
   * Terminating:Wait, still registered and serving. The hook's action itself is TwinLifecycle's `seedAction`.
   */
  addHeld(groupName: string, transition: 'launch' | 'terminate', given: GivenInstanceIds): string {
    const group = this.group(groupName);
    const instanceId = this.boot(group, transition === 'launch' ? group.agent : undefined, given);
    if (transition === 'launch') group.pending.push(instanceId);
    else {
      group.terminating.push(instanceId);
      this.attachTargets(group, instanceId, 'healthy');
    }
    return instanceId;
  }

  /** A service's scalable target, under `CLUSTER/SERVICE`, with a scenario's policies. */
  addServiceScaling(
    scaling: Omit<TwinServiceScaling, 'policies'> & { policies: Map<string, ServicePolicySpec> },
  ): void {
    const configuration = ({ targetValue, metric }: ServicePolicySpec) => ({
      TargetValue: targetValue,
      ...(metric.startsWith('ECSService')
        ? { PredefinedMetricSpecification: { PredefinedMetricType: metric as MetricType } }
        : {
            CustomizedMetricSpecification: {
              MetricName: metric,
              Namespace: 'Custom',
              Statistic: 'Average' as const,
            },
          }),
    });
    const policies = [...scaling.policies].map(([name, policy]) => [name, configuration(policy)] as const);
    this.services.set(`${scaling.cluster}/${scaling.service}`, { ...scaling, policies: new Map(policies) });
  }

  /**
   * The group's desired capacity changes (SetDesiredCapacity, or a person's edit). What the API refuses
   * (a value outside min..max) is refused by local/twin/aws/autoScaling.ts before it gets here.
   */
  setDesiredCapacity(name: string, desired: number): void {
    const group = this.group(name);
    if (desired < group.min || desired > group.max)
      throw new RangeError(`desired ${desired} of ${name} is outside ${group.min}..${group.max}`);
    if (group.desired !== desired)
      this.note(`auto scaling group ${name} desired ${group.desired} -> ${desired}`);
    group.desired = desired;
  }

  group(name: string): TwinAutoScalingGroup {
    const group = this.groups.get(name);
    if (!group) throw new RangeError(`group ${name} not found`);
    return group;
  }

  /** Auto Scaling's view of an instance of any group, as DescribeAutoScalingInstances names it. */
  lifecycleState(instanceId: string): 'Pending:Wait' | 'InService' | 'Terminating:Wait' | undefined {
    for (const group of this.groups.values()) {
      if (group.pending.includes(instanceId)) return 'Pending:Wait';
      if (group.terminating.includes(instanceId)) return 'Terminating:Wait';
      if (group.instances.includes(instanceId)) return 'InService';
    }
    return undefined;
  }

  /** A launch action into the warm pool completed with CONTINUE: the instance stops there, ready. */
  enterWarmPool(groupName: string, instanceId: string): void {
    const group = this.group(groupName);
    if (!remove(group.warming, instanceId)) return;
    group.warm.push(instanceId);
    this.note(`instance ${instanceId} of ${group.name} stopped in the warm pool: Warmed:Stopped`);
  }

  /** A launch lifecycle action completed with CONTINUE: the instance is in service. */
  enterService(groupName: string, instanceId: string): void {
    const group = this.group(groupName);
    if (remove(group.pending, instanceId)) this.inService(group, instanceId, `of ${group.name} in service`);
  }

  /**
   * A held instance terminates: a launch abandoned, or a terminate action completed. The group launches a
   * replacement on its next reconcile when it is below desired.
   */
  terminateNow(groupName: string, instanceId: string, why: string): void {
    const group = this.group(groupName);
    if (![group.pending, group.terminating, group.warming].some((held) => remove(held, instanceId))) return;
    this.world.removeInstance(instanceId);
    this.note(`instance ${instanceId} of ${group.name} terminated (${why})`);
  }

  start(): void {
    this.world.clock.after(RECONCILE_SECONDS, 'auto scaling', () => this.reconcile());
  }

  private reconcile(): void {
    for (const group of this.groups.values()) {
      const have = group.instances.length + group.pending.length + group.launching;
      for (let i = have; i < group.desired; i++) this.launch(group);
      // Instances held in Pending:Wait count toward desired; only instances in service are scaled in.
      const excess = Math.min(
        group.instances.length,
        group.instances.length + group.pending.length - group.desired,
      );
      if (excess > 0) this.terminate(group, excess);
      if (group.warmPool) {
        const warm = group.warm.length + group.warming.length + group.warmLaunching;
        for (let i = warm; i < group.warmPool.minSize; i++) this.launchIntoWarmPool(group);
      }
    }
    this.world.clock.after(RECONCILE_SECONDS, 'auto scaling', () => this.reconcile());
  }

  /** A new instance of the group's type in its cluster. */
  private boot(group: TwinAutoScalingGroup, agent: AgentStart | undefined, given?: GivenInstanceIds): string {
    const { cpu, memory } = group.instance;
    return this.world.addInstance(group.cluster, cpu, memory, agent, given).instanceId;
  }

  private launch(group: TwinAutoScalingGroup): void {
    const fromPool = group.warm.shift();
    if (fromPool) this.startFromWarmPool(group, fromPool);
    else {
      group.launching += 1;
      this.world.clock.after(group.launchSeconds, `launch into ${group.name}`, () => {
        group.launching -= 1;
        const instanceId = this.boot(group, group.agent);
        this.join(group, instanceId, undefined, `from ${group.name} launched`, `from ${group.name} joined`);
      });
    }
  }

  /** A new instance for the warm pool: it boots, is held by the launch hooks, then stops there. */
  private launchIntoWarmPool(group: TwinAutoScalingGroup): void {
    group.warmLaunching += 1;
    this.world.clock.after(group.launchSeconds, `launch into the warm pool of ${group.name}`, () => {
      group.warmLaunching -= 1;
      // The ECS agent does not register while the instance is in the warm pool (ECS_WARM_POOLS_CHECK).
      const instanceId = this.boot(group, 'never');
      if (this.lifecycle?.hold(group, instanceId, 'launch', { origin: 'EC2', destination: 'WarmPool' })) {
        group.warming.push(instanceId);
        this.note(`instance ${instanceId} launched into the warm pool of ${group.name}: Warmed:Pending:Wait`);
        return;
      }
      group.warm.push(instanceId);
      this.note(`instance ${instanceId} stopped in the warm pool of ${group.name}: Warmed:Stopped`);
    });
  }

  /** A stopped warm pool instance starts and joins the group: its agent registers now, as on a launch. */
  private startFromWarmPool(group: TwinAutoScalingGroup, instanceId: string): void {
    group.launching += 1;
    this.world.clock.after(WARM_START_SECONDS, `start ${instanceId} from the warm pool`, () => {
      group.launching -= 1;
      const agent = group.agent;
      if (agent === undefined) this.world.connectAgent(instanceId);
      else if (agent !== 'never')
        this.world.clock.after(agent.delaySeconds, `agent on ${instanceId}`, () =>
          this.world.connectAgent(instanceId),
        );
      const move = { origin: 'WarmPool', destination: 'AutoScalingGroup' } as const;
      this.join(
        group,
        instanceId,
        move,
        `leaves the warm pool for ${group.name}`,
        'left the warm pool and joined',
      );
    });
  }

  /** A launched instance joins the group's cluster, unless a launch hook holds it in Pending:Wait first. */
  private join(
    group: TwinAutoScalingGroup,
    instanceId: string,
    move: LifecycleMove | undefined,
    held: string,
    joined: string,
  ): void {
    if (this.lifecycle?.hold(group, instanceId, 'launch', move)) {
      group.pending.push(instanceId);
      this.note(`instance ${instanceId} ${held}: Pending:Wait`);
    } else this.inService(group, instanceId, `${joined} ${group.cluster}`);
  }

  private inService(group: TwinAutoScalingGroup, instanceId: string, how: string): void {
    group.instances.push(instanceId);
    this.attachTargets(group, instanceId, 'initial');
    this.note(`instance ${instanceId} ${how}`);
  }

  /** What a target group attachment does: the instance becomes a target when it enters service. */
  private attachTargets(group: TwinAutoScalingGroup, instanceId: string, state: 'initial' | 'healthy'): void {
    const now = this.world.clock.now().getTime();
    for (const { arn, port } of group.targetGroups ?? []) {
      const tg = this.world.targetGroup(arn);
      if (tg.targets.some((t) => t.id === instanceId && t.port === port && t.state !== 'draining')) continue;
      tg.targets.push({ id: instanceId, port, state, registeredAt: now });
    }
  }

  /** The default termination policy, simplified: the instances running the fewest tasks go first. */
  private terminate(group: TwinAutoScalingGroup, count: number): void {
    const victims = [...group.instances]
      .sort((a, b) => this.world.tasksOn(a).length - this.world.tasksOn(b).length)
      .slice(0, count);
    for (const instanceId of victims) {
      remove(group.instances, instanceId);
      if (this.lifecycle?.hold(group, instanceId, 'terminate')) {
        group.terminating.push(instanceId);
        this.note(`instance ${instanceId} of ${group.name} chosen for scale-in: Terminating:Wait`);
        continue;
      }
      this.world.removeInstance(instanceId);
      this.note(`instance ${instanceId} of ${group.name} terminated`);
    }
  }
}

function remove(list: string[], item: string): boolean {
  const index = list.indexOf(item);
  if (index < 0) return false;
  list.splice(index, 1);
  return true;
}
