// Target groups over the Elastic Load Balancing v2 API: who is registered and how healthy, and taking a
// target out of rotation.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Target, TargetGroupHealth, TargetRef, TargetState } from '#domain/model';
import type { TargetRegistry } from '#ports';

export class ElbTargetRegistry implements TargetRegistry {
  constructor(private readonly elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>) {}

  /** DescribeTargetHealth is not paginated: one call returns every registered target. */
  async targetHealth(targetGroupArn: string): Promise<TargetGroupHealth> {
    const output = await this.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    const targets = (output.TargetHealthDescriptions ?? []).flatMap(toDomainTarget);
    return { targetGroupArn, targets };
  }

  /**
   * ELB answers success for a target that is not registered (documented: "If the specified target does
   * not exist, the action returns successfully"), so a repeated deregistration needs no special case.
   * InvalidTarget means something else (an instance that does not exist or sits in another VPC) and is
   * left to surface. The port matters: without it ELB answers success but leaves a target registered
   * on a port override in place.
   */
  async deregister(targetGroupArn: string, targets: TargetRef[]): Promise<void> {
    if (targets.length === 0) return;
    await this.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: targets.map((target) => ({
          Id: target.id,
          ...(target.port === undefined ? {} : { Port: target.port }),
        })),
      }),
    );
  }
}

function toDomainTarget(description: TargetHealthDescription): Target[] {
  const id = description.Target?.Id;
  if (!id) return [];
  const reason = description.TargetHealth?.Reason;
  return [
    {
      id,
      ...(description.Target?.Port === undefined ? {} : { port: description.Target.Port }),
      state: toTargetState(description.TargetHealth?.State),
      ...(reason ? { reason } : {}),
    },
  ];
}

function toTargetState(state: string | undefined): TargetState {
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
