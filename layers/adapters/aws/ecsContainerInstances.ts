// The ECS container instance on one EC2 instance, over the ECS API: what state it is in and what still runs
// on it, draining it, and stopping the standalone tasks that draining leaves behind.
import {
  type ContainerInstance,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  type DesiredStatus,
  type ECSClient,
  type Task as EcsTask,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import type { ContainerInstanceView } from '#domain/instanceLifecycle';
import type { ContainerInstances } from '#ports';

/** DescribeTasks takes at most 100 ARNs a call. */
const DESCRIBE_BATCH = 100;
const STOP_REASON_MAX = 255;
const SERVICE_GROUP_PREFIX = 'service:';
const REFUSALS = new Set(['InvalidParameterException', 'ClientException']);

/** ECS refused to drain the container instance and it is not draining either. */
export class ContainerInstanceDrainFailed extends Error {
  override readonly name = 'ContainerInstanceDrainFailed';
  constructor(
    readonly ec2InstanceId: string,
    reason: string,
  ) {
    super(`could not drain the container instance on ${ec2InstanceId}: ${reason}`);
  }
}

export class EcsContainerInstances implements ContainerInstances {
  /** The container instance each view `describe` answered was read from, for a drain in the same look. */
  private readonly described = new WeakMap<ContainerInstanceView, ContainerInstance>();

  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async describe(cluster: string, ec2InstanceId: string): Promise<ContainerInstanceView | undefined> {
    const instance = await this.find(cluster, ec2InstanceId);
    if (!instance?.containerInstanceArn) return undefined;
    const tasks = await this.tasksOn(cluster, instance.containerInstanceArn);
    const service = tasks.filter((task) => task.group?.startsWith(SERVICE_GROUP_PREFIX));
    const standalone = tasks.filter((task) => !task.group?.startsWith(SERVICE_GROUP_PREFIX));
    const view: ContainerInstanceView = {
      status: instance.status ?? 'REGISTERING',
      agentConnected: instance.agentConnected ?? false,
      runningServiceTasks: service.length,
      runningStandaloneTasks: standalone.flatMap((task) =>
        task.taskArn
          ? [{ taskArn: task.taskArn, ...(task.startedAt ? { startedAt: task.startedAt } : {}) }]
          : [],
      ),
    };
    this.described.set(view, instance);
    return view;
  }

  /**
   * Only an ACTIVE instance can be set to DRAINING (the API reference: any other status is an error), so
   * the status is read first: DRAINING is the goal already, and an instance that is deregistering (or
   * not registered at all) is leaving on its own, with nothing left to drain. If the update still fails,
   * another run may have drained it in between: read again before calling it a failure.
   */
  async drain(cluster: string, ec2InstanceId: string, seen?: ContainerInstanceView): Promise<void> {
    const instance = (seen && this.described.get(seen)) ?? (await this.find(cluster, ec2InstanceId));
    if (!instance?.containerInstanceArn || instance.status !== 'ACTIVE') return;
    let reason: string;
    try {
      const output = await this.ecs.send(
        new UpdateContainerInstancesStateCommand({
          cluster,
          containerInstances: [instance.containerInstanceArn],
          status: 'DRAINING',
        }),
      );
      const failure = output.failures?.[0];
      if (!failure) return;
      reason = failure.reason ?? 'UpdateContainerInstancesState answered a failure without a reason';
    } catch (error) {
      // The documentation says "an error" without naming it: the two ECS uses for a request it refuses.
      if (!(error instanceof Error) || !REFUSALS.has(error.name)) throw error;
      reason = error.message;
    }
    const now = await this.find(cluster, ec2InstanceId);
    if (now?.status === 'DRAINING') return;
    throw new ContainerInstanceDrainFailed(ec2InstanceId, reason);
  }

  /** One StopTask each: ECS has no batch stop. A task ECS has already forgotten is stopped: success. */
  async stopTasks(cluster: string, taskArns: string[], reason: string): Promise<void> {
    for (const taskArn of taskArns) {
      try {
        await this.ecs.send(
          new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, STOP_REASON_MAX) }),
        );
      } catch (error) {
        // "The referenced task was not found." comes for a task stopped long enough ago; any other invalid
        // parameter (a malformed ARN) is a real error and surfaces.
        if (isTaskNotFound(error)) continue;
        throw error;
      }
    }
  }

  /**
   * The cluster query language finds the container instance by its EC2 instance id. Without a status
   * filter ListContainerInstances lists every status but INACTIVE: a deregistered instance reads as
   * "no container instance", which is what it is.
   */
  private async find(cluster: string, ec2InstanceId: string): Promise<ContainerInstance | undefined> {
    const listed = await this.ecs.send(
      new ListContainerInstancesCommand({ cluster, filter: `ec2InstanceId == ${ec2InstanceId}` }),
    );
    const arns = listed.containerInstanceArns ?? [];
    if (arns.length === 0) return undefined;
    const described = await this.ecs.send(
      new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }),
    );
    // An instance listed a moment ago and deregistered since comes back in `failures`: not there.
    return described.containerInstances?.find((ci) => ci.ec2InstanceId === ec2InstanceId);
  }

  /**
   * Every task still on the instance. A task ECS is stopping (desired STOPPED, last status not yet
   * STOPPED) is still running its containers and may still hold connections, so it counts as not yet
   * moved: the instance must not be released under it. So both desired statuses are listed, and only the
   * tasks that have fully stopped are left out.
   */
  private async tasksOn(cluster: string, containerInstanceArn: string): Promise<EcsTask[]> {
    const arns = [
      ...(await this.listTaskArns(cluster, containerInstanceArn, 'RUNNING')),
      ...(await this.listTaskArns(cluster, containerInstanceArn, 'STOPPED')),
    ];
    const pages = await Promise.all(
      inBatches([...new Set(arns)], DESCRIBE_BATCH).map((batch) =>
        this.ecs.send(new DescribeTasksCommand({ cluster, tasks: batch })),
      ),
    );
    return pages.flatMap((page) => page.tasks ?? []).filter((task) => task.lastStatus !== 'STOPPED');
  }

  private async listTaskArns(
    cluster: string,
    containerInstance: string,
    desiredStatus: DesiredStatus,
  ): Promise<string[]> {
    const taskArns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListTasksCommand({
          cluster,
          containerInstance,
          desiredStatus,
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      taskArns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return taskArns;
  }
}

function isTaskNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'InvalidParameterException' &&
    /referenced task was not found/i.test(error.message)
  );
}

function inBatches<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
