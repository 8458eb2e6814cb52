// Stopping an ECS native deployment: which of a service's deployments ECS has not finished, and
// StopServiceDeployment with ROLLBACK (the only stop type the API reference calls valid).
import {
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeploymentStatus,
  StopServiceDeploymentCommand,
} from '@aws-sdk/client-ecs';
import { DEPLOYMENT_PAGE } from '#adapters/aws/ecsServiceControl';
import type { NativeDeploymentStops } from '#ports';

/** Statuses in which a deployment can still move traffic, or is rolling back (the developer guide's list). */
const UNFINISHED: ServiceDeploymentStatus[] = [
  'PENDING',
  'IN_PROGRESS',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
];

/**
 * What ECS answers a stop it cannot carry out. The API reference lists ConflictException ("conflict in the
 * current state of the resource") and ServiceDeploymentNotFoundException; it does not say which one a
 * deployment that has ended gets, so both mean "nothing left to stop".
 */
const NOTHING_TO_STOP = new Set(['ConflictException', 'ServiceDeploymentNotFoundException']);

export class EcsDeploymentStops implements NativeDeploymentStops {
  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async unfinished(cluster: string, service: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListServiceDeploymentsCommand({
          cluster,
          service,
          status: UNFINISHED,
          maxResults: DEPLOYMENT_PAGE,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const d of page.serviceDeployments ?? [])
        if (d.serviceDeploymentArn) arns.push(d.serviceDeploymentArn);
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  async stop(deploymentArn: string): Promise<{ stopped: true } | { stopped: false; why: string }> {
    try {
      await this.ecs.send(
        new StopServiceDeploymentCommand({ serviceDeploymentArn: deploymentArn, stopType: 'ROLLBACK' }),
      );
      return { stopped: true };
    } catch (error) {
      const { name, message } = error as Error;
      if (NOTHING_TO_STOP.has(name)) return { stopped: false, why: `${name}: ${message}` };
      throw error;
    }
  }
}
