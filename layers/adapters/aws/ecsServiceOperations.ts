// Service operations over ECS for the ops API: listing a cluster's services and a rolling restart. Kept
// apart from EcsServiceControl so that the reflexes' roles do not carry what only operators use.
import { type ECSClient, ListServicesCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { ServiceOperations } from '#ports';

export class EcsServiceOperations implements ServiceOperations {
  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async listServices(cluster: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(new ListServicesCommand({ cluster, nextToken, maxResults: 100 }));
      names.push(...(page.serviceArns ?? []).map((arn) => arn.split('/').pop() ?? arn));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async forceNewDeployment(cluster: string, serviceName: string): Promise<void> {
    await this.ecs.send(
      new UpdateServiceCommand({ cluster, service: serviceName, forceNewDeployment: true }),
    );
  }
}
