// One ECS service over the ECS API: how it stands now, what it ran before, and the two writes a reflex
// may make to it (its task definition, its desired count) plus its tags.
import {
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  type ECSClient,
  type Deployment as EcsDeployment,
  type Service as EcsService,
  ListServiceDeploymentsCommand,
  type ServiceDeploymentBrief,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { Deployment, DeploymentRecord, Service } from '#domain/model';
import type { ServiceControl } from '#ports';

/** DescribeServiceRevisions takes at most 20 ARNs a call. */
const REVISION_BATCH = 20;
/** The largest page ListServiceDeployments gives (its default is 20). */
export const DEPLOYMENT_PAGE = 100;

export class EcsServiceControl implements ServiceControl {
  /**
   * Service ARNs seen by describeService, so tagService needs no second look (the recycler always
   * describes a service before it tags it). The ARN cannot be built from the name: it needs the account
   * id, and services created before the long ARN format keep `service/NAME` without the cluster. Every
   * describeService refreshes the entry, so a service recreated under the same name is picked up.
   */
  private readonly serviceArns = new Map<string, string>();

  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async describeService(cluster: string, serviceName: string): Promise<Service | undefined> {
    const output = await this.ecs.send(
      new DescribeServicesCommand({ cluster, services: [serviceName], include: ['TAGS'] }),
    );
    // A missing service comes back in `failures` (reason MISSING), a deleted one with status INACTIVE.
    const service = output.services?.[0];
    const key = serviceKey(cluster, serviceName);
    if (!service?.serviceArn || service.status === 'INACTIVE') {
      this.serviceArns.delete(key);
      return undefined;
    }
    this.serviceArns.set(key, service.serviceArn);
    return toDomainService(service);
  }

  /**
   * Every deployment ECS remembers (90 days), newest first, whatever its status: the crash-loop breaker
   * picks among the SUCCESSFUL ones but needs the start of the next deployment, of any outcome, to know
   * how long each one ran. ListServiceDeployments already carries status, start and finish; only the
   * task definition needs DescribeServiceRevisions.
   */
  async deploymentHistory(cluster: string, serviceName: string): Promise<DeploymentRecord[]> {
    const deployments = await this.listDeployments(cluster, serviceName);
    const revisionArns = [
      ...new Set(
        deployments.flatMap((d) => (d.targetServiceRevisionArn ? [d.targetServiceRevisionArn] : [])),
      ),
    ];
    const taskDefinitions = await this.taskDefinitionsOf(revisionArns);
    // The API does not promise an order. A deployment that has not started yet sorts by its creation.
    const newestFirst = [...deployments].sort((a, b) => startOf(b) - startOf(a));
    return newestFirst.flatMap((deployment): DeploymentRecord[] => {
      // Revisions created before 2024-10-25 cannot be described; without a task definition a deployment
      // can be neither a rollback target nor compared, so it is left out.
      const taskDefinitionArn = taskDefinitions.get(deployment.targetServiceRevisionArn ?? '');
      if (!taskDefinitionArn) return [];
      return [
        {
          taskDefinitionArn,
          status: deployment.status ?? 'UNKNOWN',
          startedAt: deployment.startedAt,
          finishedAt: deployment.finishedAt,
        },
      ];
    });
  }

  async setTaskDefinition(cluster: string, serviceName: string, taskDefinitionArn: string): Promise<void> {
    await this.ecs.send(
      new UpdateServiceCommand({ cluster, service: serviceName, taskDefinition: taskDefinitionArn }),
    );
  }

  async setDesiredCount(cluster: string, serviceName: string, desiredCount: number): Promise<void> {
    await this.ecs.send(new UpdateServiceCommand({ cluster, service: serviceName, desiredCount }));
  }

  async tagService(cluster: string, serviceName: string, tags: Record<string, string>): Promise<void> {
    const entries = Object.entries(tags).map(([key, value]) => ({ key, value }));
    if (entries.length === 0) return;
    const serviceArn = await this.serviceArn(cluster, serviceName);
    await this.ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: entries }));
  }

  private async serviceArn(cluster: string, serviceName: string): Promise<string> {
    const known = this.serviceArns.get(serviceKey(cluster, serviceName));
    if (known) return known;
    const service = await this.describeService(cluster, serviceName);
    if (!service) {
      throw Object.assign(new Error(`service ${serviceName} not found in cluster ${cluster}`), {
        name: 'ServiceNotFoundException',
      });
    }
    return service.serviceArn;
  }

  private async listDeployments(cluster: string, serviceName: string): Promise<ServiceDeploymentBrief[]> {
    const deployments: ServiceDeploymentBrief[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListServiceDeploymentsCommand({
          cluster,
          service: serviceName,
          maxResults: DEPLOYMENT_PAGE,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      deployments.push(...(page.serviceDeployments ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return deployments;
  }

  private async taskDefinitionsOf(revisionArns: string[]): Promise<Map<string, string>> {
    const pages = await Promise.all(
      inBatches(revisionArns, REVISION_BATCH).map((batch) =>
        this.ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: batch })),
      ),
    );
    const taskDefinitions = new Map<string, string>();
    for (const revision of pages.flatMap((page) => page.serviceRevisions ?? [])) {
      if (revision.serviceRevisionArn && revision.taskDefinition) {
        taskDefinitions.set(revision.serviceRevisionArn, revision.taskDefinition);
      }
    }
    return taskDefinitions;
  }
}

const serviceKey = (cluster: string, serviceName: string) => `${cluster}/${serviceName}`;

const startOf = (deployment: ServiceDeploymentBrief) =>
  (deployment.startedAt ?? deployment.createdAt)?.getTime() ?? 0;

function toDomainService(service: EcsService): Service {
  const deployments = (service.deployments ?? []).map(toDomainDeployment);
  return {
    serviceName: service.serviceName ?? '',
    serviceArn: service.serviceArn ?? '',
    clusterArn: service.clusterArn ?? '',
    // Services deployed through task sets (CodeDeploy, external) carry no task definition of their own.
    taskDefinitionArn:
      service.taskDefinition ?? deployments.find((d) => d.status === 'PRIMARY')?.taskDefinitionArn ?? '',
    desiredCount: service.desiredCount ?? 0,
    runningCount: service.runningCount ?? 0,
    pendingCount: service.pendingCount ?? 0,
    circuitBreaker: service.deploymentConfiguration?.deploymentCircuitBreaker?.enable ?? false,
    // Absent in older answers: ECS and ROLLING are the defaults.
    deploymentController: service.deploymentController?.type ?? 'ECS',
    deploymentStrategy: service.deploymentConfiguration?.strategy ?? 'ROLLING',
    deployments,
    targetGroupArns: [
      ...new Set(
        (service.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : [])),
      ),
    ],
    tags: Object.fromEntries(
      (service.tags ?? []).flatMap((tag) => (tag.key ? [[tag.key, tag.value ?? '']] : [])),
    ),
  };
}

function toDomainDeployment(deployment: EcsDeployment): Deployment {
  return {
    id: deployment.id ?? '',
    status: deployment.status ?? '',
    taskDefinitionArn: deployment.taskDefinition ?? '',
    rolloutState: deployment.rolloutState,
    runningCount: deployment.runningCount ?? 0,
    desiredCount: deployment.desiredCount ?? 0,
    createdAt: deployment.createdAt,
    updatedAt: deployment.updatedAt,
  };
}

function inBatches<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
