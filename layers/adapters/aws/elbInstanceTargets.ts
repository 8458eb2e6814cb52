// An EC2 instance as a target (target type `instance`: the id is the instance id) in ELBv2 target groups:
// where it is registered and how healthy, and registering or deregistering it on given ports.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetView } from '#domain/instanceLifecycle';
import type { InstanceTargets } from '#ports';

type TargetRef = { targetGroupArn: string; port: number };

/** An absent target has no port; the domain never reads the port of one (it only registers configured ports). */
const NO_PORT = 0;

export class ElbInstanceTargets implements InstanceTargets {
  constructor(private readonly elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>) {}

  /**
   * One DescribeTargetHealth per target group, without naming the instance: a named target that is not
   * registered comes back all the same (state `unused`, reason Target.NotRegistered), which would read as
   * registered. Listing the group shows the instance on every port it is registered on, and nothing when
   * it is not: `absent`. A target group that no longer exists holds no target either.
   */
  async targetsOf(ec2InstanceId: string, targetGroupArns: string[]): Promise<TargetView[]> {
    const perGroup = await Promise.all(
      [...new Set(targetGroupArns)].map(async (targetGroupArn): Promise<TargetView[]> => {
        const descriptions = await this.describe(targetGroupArn);
        const mine = descriptions.filter((d) => d.Target?.Id === ec2InstanceId);
        if (mine.length === 0) return [{ targetGroupArn, port: NO_PORT, state: 'absent' }];
        return mine.map((d) => ({
          targetGroupArn,
          port: d.Target?.Port ?? NO_PORT,
          state: toTargetState(d.TargetHealth?.State),
        }));
      }),
    );
    return perGroup.flat();
  }

  /** Registering a target that is already registered succeeds (ELB treats it as a no-op). */
  async register(ec2InstanceId: string, targets: TargetRef[]): Promise<void> {
    for (const [targetGroupArn, ports] of byTargetGroup(targets)) {
      await this.elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: targetGroupArn,
          Targets: asTargets(ec2InstanceId, ports),
        }),
      );
    }
  }

  /**
   * ELB answers success for a target that is not registered, so a repeated deregistration needs no special
   * case. The port is always sent: without it ELB deregisters only the default port.
   */
  async deregister(ec2InstanceId: string, targets: TargetRef[]): Promise<void> {
    for (const [targetGroupArn, ports] of byTargetGroup(targets)) {
      await this.elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: targetGroupArn,
          Targets: asTargets(ec2InstanceId, ports),
        }),
      );
    }
  }

  private async describe(targetGroupArn: string) {
    try {
      // Not paginated: one call returns every registered target of the group.
      const output = await this.elbv2.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
      );
      return output.TargetHealthDescriptions ?? [];
    } catch (error) {
      if (error instanceof Error && error.name === 'TargetGroupNotFoundException') return [];
      throw error;
    }
  }
}

/** One call per target group, each port once: a target group takes all of an instance's ports in one call. */
function byTargetGroup(targets: TargetRef[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const { targetGroupArn, port } of targets) {
    const ports = groups.get(targetGroupArn) ?? [];
    if (!ports.includes(port)) ports.push(port);
    groups.set(targetGroupArn, ports);
  }
  return groups;
}

function asTargets(ec2InstanceId: string, ports: number[]): TargetDescription[] {
  return ports.map((port) => ({ Id: ec2InstanceId, Port: port }));
}

function toTargetState(state: string | undefined): TargetView['state'] {
  switch (state) {
    case 'initial':
    case 'healthy':
    case 'unhealthy':
    case 'unused':
    case 'draining':
    case 'unavailable':
      return state;
    // An unhealthy target that keeps its connections while it drains (NLB): it is leaving either way.
    case 'unhealthy.draining':
      return 'draining';
    default:
      return 'unavailable';
  }
}
