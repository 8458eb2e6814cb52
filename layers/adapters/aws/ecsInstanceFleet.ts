// A cluster's container instances over ECS, for the ops API: every page of ListContainerInstances, then
// DescribeContainerInstances (at most 100 a call) for their state and task counts.
import {
  DescribeContainerInstancesCommand,
  type ECSClient,
  ListContainerInstancesCommand,
} from '@aws-sdk/client-ecs';
import type { InstanceFleet } from '#ports';

const DESCRIBE_BATCH = 100;

export class EcsInstanceFleet implements InstanceFleet {
  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async list(cluster: string) {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListContainerInstancesCommand({ cluster, nextToken, maxResults: 100 }),
      );
      arns.push(...(page.containerInstanceArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const instances = [];
    for (let at = 0; at < arns.length; at += DESCRIBE_BATCH) {
      const output = await this.ecs.send(
        new DescribeContainerInstancesCommand({
          cluster,
          containerInstances: arns.slice(at, at + DESCRIBE_BATCH),
        }),
      );
      for (const instance of output.containerInstances ?? []) {
        if (!instance.ec2InstanceId) continue;
        instances.push({
          ec2InstanceId: instance.ec2InstanceId,
          status: instance.status ?? 'REGISTERING',
          agentConnected: instance.agentConnected ?? false,
          runningTasks: instance.runningTasksCount ?? 0,
          pendingTasks: instance.pendingTasksCount ?? 0,
        });
      }
    }
    return instances;
  }
}
