// ECS native deployments (BLUE_GREEN, LINEAR, CANARY) as ECS itself describes them: what the deployment
// hook checks a payload's claims against, and where it finds each revision's target groups.
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
  type ServiceDeploymentBrief,
  type ServiceRevisionSummary,
} from '@aws-sdk/client-ecs';
import { DEPLOYMENT_PAGE } from '#adapters/aws/ecsServiceControl';
import type { NativeDeployment, NativeDeployments, NativeRevision, RevisionShare } from '#ports';

/** DescribeServiceRevisions takes at most 20 ARNs a call. */
export const MAX_REVISIONS_PER_CALL = 20;
/** DescribeServiceDeployments takes at most 20 ARNs a call: the most `recent` reads. */
export const MAX_DEPLOYMENTS_PER_CALL = 20;

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
    return found ? deploymentOf(found) : undefined;
  }

  async recent(cluster: string, service: string, limit: number): Promise<NativeDeployment[]> {
    const wanted = Math.min(limit, MAX_DEPLOYMENTS_PER_CALL);
    if (wanted <= 0) return [];
    // ECS documents no order for the listing, so the newest can be on any page: every page is read (a
    // service keeps few deployments; the createdAt filter would need a cut-off nobody knows), then sorted.
    const listed: ServiceDeploymentBrief[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListServiceDeploymentsCommand({ cluster, service, maxResults: DEPLOYMENT_PAGE, nextToken }),
      );
      listed.push(...(page.serviceDeployments ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const arns = listed
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))
      .flatMap((brief) => (brief.serviceDeploymentArn ? [brief.serviceDeploymentArn] : []))
      .slice(0, wanted);
    if (arns.length === 0) return [];
    const described = await this.ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns }),
    );
    const byArn = new Map(
      (described.serviceDeployments ?? []).map((d) => [d.serviceDeploymentArn, deploymentOf(d)]),
    );
    // Newest first; one that ended between the two calls and is no longer described is left out.
    return arns.flatMap((arn) => {
      const deployment = byArn.get(arn);
      return deployment ? [deployment] : [];
    });
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

function deploymentOf(found: ServiceDeployment): NativeDeployment | undefined {
  if (!found.serviceDeploymentArn || !found.serviceArn || !found.targetServiceRevision?.arn) return undefined;
  const configuration = found.deploymentConfiguration;
  return {
    arn: found.serviceDeploymentArn,
    serviceArn: found.serviceArn,
    clusterArn: found.clusterArn ?? '',
    status: found.status ?? 'UNKNOWN',
    ...(found.lifecycleStage ? { lifecycleStage: found.lifecycleStage } : {}),
    target: shareOf(found.targetServiceRevision),
    sources: (found.sourceServiceRevisions ?? []).map(shareOf).filter((s) => s.arn),
    hooks: (configuration?.lifecycleHooks ?? []).flatMap((hook) =>
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
    ...(configuration?.strategy ? { strategy: configuration.strategy } : {}),
    ...(found.statusReason ? { statusReason: found.statusReason } : {}),
    ...(found.createdAt ? { createdAt: found.createdAt } : {}),
    ...(found.finishedAt ? { finishedAt: found.finishedAt } : {}),
    ...(found.stoppedAt ? { stoppedAt: found.stoppedAt } : {}),
    ...(found.rollback
      ? {
          rollback: {
            ...(found.rollback.reason ? { reason: found.rollback.reason } : {}),
            ...(found.rollback.startedAt ? { startedAt: found.rollback.startedAt } : {}),
          },
        }
      : {}),
    ...(found.lifecycleHookDetails
      ? {
          hookRuns: found.lifecycleHookDetails.map((run) => ({
            ...(run.targetArn ? { hookTargetArn: run.targetArn } : {}),
            ...(run.status ? { status: run.status } : {}),
            ...(run.expiresAt ? { expiresAt: run.expiresAt } : {}),
          })),
        }
      : {}),
  };
}
