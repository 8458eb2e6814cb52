// The tasks of one group over the ECS API: list and describe them, start a copy, stop one, tag one.
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  type ECSClient,
  type Container as EcsContainer,
  type Task as EcsTask,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  type RunTaskCommandOutput,
  StopTaskCommand,
  type Tag,
  TagResourceCommand,
  type TaskOverride,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import type { Container, GroupRef, Task } from '#domain/model';
import type { LaunchResult, TaskFleet, TaskLaunch, TaskStatusFilter } from '#ports';

/** DescribeTasks and DescribeContainerInstances take at most 100 ARNs a call. */
const DESCRIBE_BATCH = 100;
const STOP_REASON_MAX = 255;

/** Stopped tasks remembered per Lambda instance; past this, the oldest is described again if listed. */
const STOPPED_TASKS_KEPT = 5_000;

export class EcsTaskFleet implements TaskFleet {
  /**
   * A task ECS has stopped (lastStatus STOPPED) does not change again, so it is described once: a storm
   * of crashes otherwise describes the same hundreds of stopped tasks on every look. Only what ListTasks
   * still returns is used, so a task ECS has forgotten is forgotten here too.
   */
  private readonly stopped = new Map<string, Task>();

  constructor(private readonly ecs: Pick<ECSClient, 'send'>) {}

  async listTasks(cluster: string, group: GroupRef, status: TaskStatusFilter): Promise<Task[]> {
    const taskArns = await this.listTaskArns(cluster, group, status);
    const described = await this.describeTasks(
      cluster,
      taskArns.filter((arn) => !this.stopped.has(arn)),
    );
    // ListTasks filters by task definition family, so a family listing also holds the service tasks that
    // run the same family. Those belong to the ECS scheduler: keep only the group that was asked for.
    const wanted = `${group.kind}:${group.name}`;
    const inGroup = described.filter((task) => task.group === wanted);
    const instanceIds = await this.ec2InstanceIds(cluster, inGroup);
    const fresh = new Map(
      inGroup.flatMap((task) => {
        const mapped = toDomainTask(task, instanceIds);
        return mapped ? [[mapped.taskArn, mapped] as const] : [];
      }),
    );
    for (const task of fresh.values()) if (task.lastStatus === 'STOPPED') this.rememberStopped(task);
    return taskArns.flatMap((arn) => {
      const task = fresh.get(arn) ?? this.stopped.get(arn);
      return task && task.group === wanted ? [task] : [];
    });
  }

  private rememberStopped(task: Task): void {
    this.stopped.set(task.taskArn, task);
    if (this.stopped.size > STOPPED_TASKS_KEPT) this.stopped.delete(this.stopped.keys().next().value!);
  }

  async runTask(launch: TaskLaunch): Promise<LaunchResult> {
    let output: RunTaskCommandOutput;
    try {
      output = await this.ecs.send(new RunTaskCommand(runTaskInput(launch)));
    } catch (error) {
      // With no container instance at all (the cluster, or its capacity provider, is empty), RunTask
      // throws instead of answering with `failures`. It is the same "no room", found by the port contract.
      if (isNoContainerInstances(error)) return { started: false, reason: (error as Error).message };
      throw error;
    }
    const taskArn = output.tasks?.[0]?.taskArn;
    if (taskArn) return { started: true, taskArn };
    const failure = output.failures?.[0];
    // RunTask answers 200 with `failures` when it cannot place the task (RESOURCE:MEMORY, AGENT, ...).
    return { started: false, reason: failure?.reason ?? 'RunTask started no task and gave no reason' };
  }

  async stopTask(cluster: string, taskArn: string, reason: string): Promise<void> {
    try {
      await this.ecs.send(
        new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, STOP_REASON_MAX) }),
      );
    } catch (error) {
      // A task ECS has already forgotten (stopped long enough ago) fails with InvalidParameterException
      // "The referenced task was not found." It is stopped, which is all we wanted. Any other invalid
      // parameter (a malformed ARN, say) is a real error and surfaces.
      if (isTaskNotFound(error)) return;
      throw error;
    }
  }

  async tagTask(_cluster: string, taskArn: string, tags: Record<string, string | null>): Promise<void> {
    const entries = Object.entries(tags);
    const toSet = entries.flatMap(([key, value]) => (value === null ? [] : [{ key, value }]));
    const toRemove = entries.flatMap(([key, value]) => (value === null ? [key] : []));
    if (toSet.length > 0) await this.ecs.send(new TagResourceCommand({ resourceArn: taskArn, tags: toSet }));
    if (toRemove.length > 0) {
      await this.ecs.send(new UntagResourceCommand({ resourceArn: taskArn, tagKeys: toRemove }));
    }
  }

  private async listTaskArns(cluster: string, group: GroupRef, status: TaskStatusFilter): Promise<string[]> {
    const byGroup = group.kind === 'service' ? { serviceName: group.name } : { family: group.name };
    const taskArns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(
        new ListTasksCommand({
          cluster,
          ...byGroup,
          desiredStatus: status,
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      taskArns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return taskArns;
  }

  private async describeTasks(cluster: string, taskArns: string[]): Promise<EcsTask[]> {
    // A task that ECS forgets between the listing and this call comes back in `failures`: it is gone, skip it.
    const pages = await Promise.all(
      inBatches(taskArns, DESCRIBE_BATCH).map((batch) =>
        this.ecs.send(new DescribeTasksCommand({ cluster, tasks: batch, include: ['TAGS'] })),
      ),
    );
    return pages.flatMap((page) => page.tasks ?? []);
  }

  /** Bridge and host tasks are load-balancer targets as instance + host port, so they need their instance. */
  private async ec2InstanceIds(cluster: string, tasks: EcsTask[]): Promise<Map<string, string>> {
    const containerInstanceArns = [
      ...new Set(tasks.flatMap((task) => (task.containerInstanceArn ? [task.containerInstanceArn] : []))),
    ];
    const pages = await Promise.all(
      inBatches(containerInstanceArns, DESCRIBE_BATCH).map((batch) =>
        this.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: batch })),
      ),
    );
    const instanceIds = new Map<string, string>();
    for (const instance of pages.flatMap((page) => page.containerInstances ?? [])) {
      if (instance.containerInstanceArn && instance.ec2InstanceId) {
        instanceIds.set(instance.containerInstanceArn, instance.ec2InstanceId);
      }
    }
    return instanceIds;
  }
}

function runTaskInput(launch: TaskLaunch): RunTaskCommandInput {
  const network: Pick<RunTaskCommandInput, 'networkConfiguration'> = launch.network
    ? {
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: launch.network.subnets,
            securityGroups: launch.network.securityGroups,
            assignPublicIp: launch.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
      }
    : {};
  const overrides: Pick<RunTaskCommandInput, 'overrides'> =
    launch.overrides === undefined ? {} : { overrides: launch.overrides as TaskOverride };
  const tags: Tag[] = Object.entries(launch.tags).map(([key, value]) => ({ key, value }));
  return {
    cluster: launch.cluster,
    taskDefinition: launch.taskDefinitionArn,
    group: launch.group,
    startedBy: launch.startedBy,
    ...placementOf(launch),
    ...overrides,
    ...network,
    ...(tags.length > 0 ? { tags } : {}),
    clientToken: launch.clientToken,
  };
}

/**
 * The launch as it is: what ECS would refuse (a launch type beside a strategy, a provider of weight 0,
 * `aws:` tags) is the caller's to leave out (#domain/runTaskLimits), and ECS's refusal surfaces, as it
 * does from the twin. With neither a launch type nor a strategy the cluster's default strategy applies.
 */
function placementOf(
  launch: TaskLaunch,
): Pick<RunTaskCommandInput, 'launchType' | 'capacityProviderStrategy'> {
  return {
    ...(launch.capacityProviderStrategy
      ? { capacityProviderStrategy: launch.capacityProviderStrategy.map((item) => ({ ...item })) }
      : {}),
    ...(launch.launchType ? { launchType: launch.launchType as RunTaskCommandInput['launchType'] } : {}),
  };
}

function isNoContainerInstances(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'InvalidParameterException' &&
    /No Container Instances were found/i.test(error.message)
  );
}

function isTaskNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'InvalidParameterException' &&
    /referenced task was not found/i.test(error.message)
  );
}

function toDomainTask(task: EcsTask, instanceIds: Map<string, string>): Task | undefined {
  if (!task.taskArn) return undefined;
  const eni = task.attachments?.find((attachment) => attachment.type === 'ElasticNetworkInterface');
  const eniDetail = (name: string) => eni?.details?.find((detail) => detail.name === name)?.value;
  return {
    taskArn: task.taskArn,
    clusterArn: task.clusterArn ?? '',
    group: task.group ?? '',
    taskDefinitionArn: task.taskDefinitionArn ?? '',
    lastStatus: task.lastStatus ?? '',
    desiredStatus: task.desiredStatus ?? '',
    version: task.version ?? 0,
    startedBy: task.startedBy,
    launchType: task.launchType,
    capacityProviderName: task.capacityProviderName,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    stoppedAt: task.stoppedAt,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    containers: (task.containers ?? []).map(toDomainContainer),
    ec2InstanceId: task.containerInstanceArn ? instanceIds.get(task.containerInstanceArn) : undefined,
    privateIp: eniDetail('privateIPv4Address'),
    subnetId: eniDetail('subnetId'),
    overrides: task.overrides,
    tags: Object.fromEntries(
      (task.tags ?? []).flatMap((tag) => (tag.key ? [[tag.key, tag.value ?? '']] : [])),
    ),
  };
}

function toDomainContainer(container: EcsContainer): Container {
  const bindings = (container.networkBindings ?? []).flatMap((binding) =>
    binding.containerPort !== undefined && binding.hostPort !== undefined
      ? [{ containerPort: binding.containerPort, hostPort: binding.hostPort }]
      : [],
  );
  return {
    name: container.name ?? '',
    exitCode: container.exitCode,
    reason: container.reason,
    ...(bindings.length > 0 ? { bindings } : {}),
  };
}

function inBatches<T>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
