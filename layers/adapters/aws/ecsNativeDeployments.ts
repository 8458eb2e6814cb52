// ECS native deployments (BLUE_GREEN, LINEAR, CANARY) as ECS itself describes them: what the deployment
// hook checks a payload's claims against, and where it finds each revision's target groups.
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  type ECSClient,
  type ServiceRevisionSummary,
} from '@aws-sdk/client-ecs';
import type { NativeDeployment, NativeDeployments, NativeRevision, RevisionShare } from '#ports';

/** DescribeServiceRevisions takes at most 20 ARNs a call. */
export const MAX_REVISIONS_PER_CALL = 20;

const shareOf = (summary: ServiceRevisionSummary | undefined): RevisionShare => ({
  arn: summary?.arn ?? '',
  productionWeight: summary?.requestedProductionTrafficWeight ?? 0,
  testWeight: summary?.requestedTestTrafficWeight ?? 0,
});

export class EcsNativeDeployments implements NativeDeployments {
  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async deployment(deploymentArn: string): Promise<NativeDeployment | undefined> {
    // An unknown deployment comes back in `failures` (reason MISSING), not as an error.
    const output = await this.ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [deploymentArn] }),
    );
    const found = output.serviceDeployments?.find((d) => d.serviceDeploymentArn === deploymentArn);
    if (!found?.serviceArn || !found.targetServiceRevision?.arn) return undefined;
    return {
      arn: deploymentArn,
      serviceArn: found.serviceArn,
      clusterArn: found.clusterArn ?? '',
      status: found.status ?? 'UNKNOWN',
      ...(found.lifecycleStage ? { lifecycleStage: found.lifecycleStage } : {}),
      target: shareOf(found.targetServiceRevision),
      sources: (found.sourceServiceRevisions ?? []).map(shareOf).filter((s) => s.arn),
      hooks: (found.deploymentConfiguration?.lifecycleHooks ?? []).flatMap((hook) =>
        hook.hookTargetArn
          ? [
              {
                hookTargetArn: hook.hookTargetArn,
                lifecycleStages: hook.lifecycleStages ?? [],
                ...(hook.hookDetails !== undefined ? { hookDetails: hook.hookDetails } : {}),
              },
            ]
          : [],
      ),
    };
  }

  async revisions(revisionArns: string[]): Promise<NativeRevision[]> {
    if (revisionArns.length === 0) return [];
    if (revisionArns.length > MAX_REVISIONS_PER_CALL)
      throw new RangeError(`at most ${MAX_REVISIONS_PER_CALL} revisions a call, not ${revisionArns.length}`);
    const output = await this.ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns }),
    );
    return (output.serviceRevisions ?? []).flatMap((revision): NativeRevision[] => {
      if (!revision.serviceRevisionArn || !revision.serviceArn) return [];
      return [
        {
          arn: revision.serviceRevisionArn,
          serviceArn: revision.serviceArn,
          // The resolved configuration says which of the service's two target groups this revision got.
          loadBalancers: (revision.resolvedConfiguration?.loadBalancers ?? []).flatMap((lb) =>
            lb.targetGroupArn
              ? [
                  {
                    targetGroupArn: lb.targetGroupArn,
                    ...(lb.productionListenerRule
                      ? { productionListenerRule: lb.productionListenerRule }
                      : {}),
                  },
                ]
              : [],
          ),
          serviceConnect: revision.serviceConnectConfiguration?.enabled === true,
        },
      ];
    });
  }
}
