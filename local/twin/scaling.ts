// Scaling in the twin: EC2 Auto Scaling groups that give an ECS cluster its instances, their scaling
// policies, and Application Auto Scaling targets and policies for ECS services. Desired capacity is
// live (instances launch and join the cluster, or terminate); policies are stored with their real
// limits but not run: in AWS the services run them, and the reflexes only read and set their values.
import type { StepAdjustment } from '#domain/alarmReactions';
import type { World } from '#local/twin/world';

export type TwinAsgPolicy =
  | {
      name: string;
      type: 'TargetTrackingScaling';
      targetValue: number;
      disableScaleIn: boolean;
      metric: string;
    }
  | { name: string; type: 'StepScaling'; steps: StepAdjustment[]; adjustmentType: 'ChangeInCapacity' };

export interface TwinAutoScalingGroup {
  name: string;
  cluster: string;
  min: number;
  max: number;
  desired: number;
  instance: { cpu: number; memory: number };
  launchSeconds: number;
  /** Instances in service, oldest first, and those still launching. */
  instances: string[];
  launching: number;
  policies: Map<string, TwinAsgPolicy>;
  tags: Record<string, string>;
}

export interface TwinServiceScaling {
  cluster: string;
  service: string;
  min: number;
  max: number;
  policies: Map<string, { name: string; targetValue: number; metric: string }>;
}

const RECONCILE_SECONDS = 10;

export class TwinScaling {
  readonly groups = new Map<string, TwinAutoScalingGroup>();
  readonly services = new Map<string, TwinServiceScaling>();

  constructor(
    private readonly world: World,
    private readonly note: (text: string) => void,
  ) {}

  addGroup(group: Omit<TwinAutoScalingGroup, 'instances' | 'launching' | 'tags'>): TwinAutoScalingGroup {
    const state: TwinAutoScalingGroup = { ...group, instances: [], launching: 0, tags: {} };
    // A group that exists before the scenario starts is in service already.
    for (let i = 0; i < group.desired; i++) {
      state.instances.push(
        this.world.addInstance(group.cluster, group.instance.cpu, group.instance.memory).instanceId,
      );
    }
    this.groups.set(group.name, state);
    return state;
  }

  addServiceScaling(scaling: TwinServiceScaling): void {
    this.services.set(serviceKey(scaling.cluster, scaling.service), scaling);
  }

  serviceScaling(cluster: string, service: string): TwinServiceScaling | undefined {
    return this.services.get(serviceKey(cluster, service));
  }

  /** SetDesiredCapacity: AWS refuses a value outside min..max (ValidationError). */
  setDesiredCapacity(name: string, desired: number): void {
    const group = this.group(name);
    if (desired < group.min || desired > group.max) {
      throw Object.assign(
        new Error(`New SetDesiredCapacity value ${desired} is outside ${group.min}..${group.max}`),
        {
          name: 'ValidationError',
        },
      );
    }
    if (group.desired !== desired)
      this.note(`auto scaling group ${name} desired ${group.desired} -> ${desired}`);
    group.desired = desired;
  }

  group(name: string): TwinAutoScalingGroup {
    const group = this.groups.get(name);
    if (!group) throw Object.assign(new Error(`group ${name} not found`), { name: 'ValidationError' });
    return group;
  }

  start(): void {
    this.world.clock.after(RECONCILE_SECONDS, 'auto scaling', () => this.reconcile());
  }

  private reconcile(): void {
    for (const group of this.groups.values()) {
      const have = group.instances.length + group.launching;
      for (let i = have; i < group.desired; i++) this.launch(group);
      if (group.instances.length > group.desired)
        this.terminate(group, group.instances.length - group.desired);
    }
    this.world.clock.after(RECONCILE_SECONDS, 'auto scaling', () => this.reconcile());
  }

  private launch(group: TwinAutoScalingGroup): void {
    group.launching += 1;
    this.world.clock.after(group.launchSeconds, `launch into ${group.name}`, () => {
      group.launching -= 1;
      const instance = this.world.addInstance(group.cluster, group.instance.cpu, group.instance.memory);
      group.instances.push(instance.instanceId);
      this.note(`instance ${instance.instanceId} from ${group.name} joined ${group.cluster}`);
    });
  }

  /** The default termination policy, simplified: the instances running the fewest tasks go first. */
  private terminate(group: TwinAutoScalingGroup, count: number): void {
    const victims = [...group.instances]
      .sort((a, b) => this.world.tasksOn(a).length - this.world.tasksOn(b).length)
      .slice(0, count);
    for (const instanceId of victims) {
      group.instances.splice(group.instances.indexOf(instanceId), 1);
      this.world.removeInstance(instanceId);
      this.note(`instance ${instanceId} of ${group.name} terminated`);
    }
  }
}

const serviceKey = (cluster: string, service: string) => `${cluster}/${service}`;
