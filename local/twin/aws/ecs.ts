// Amazon ECS as the twin answers it: every command the adapters send, over the simulated cluster in
// world.ts, with the API reference's shapes, limits, pagination, `failures` arrays and error names. The
// world keeps the simulation (scheduler, placement, instances); what a command means as an API call
// (which refs it takes, what it refuses, what its answer looks like) lives here.
import type {
  CapacityProvider,
  ContainerInstance,
  Failure,
  ListServiceDeploymentsCommandInput,
  RunTaskCommandInput,
  Service,
  ServiceDeploymentBrief,
  ServiceDeploymentStatus,
  Tag,
  Task,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { type RunTaskShape, runTaskProblems } from '#domain/runTaskLimits';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import type { TwinAutoScalingGroup } from '#local/twin/scaling';
import { eniAttachments } from '#local/twin/state';
import type { InstanceState, ServiceState, TaskState, World } from '#local/twin/world';

/** The API reference's limits, per command. */
const LIMITS = {
  describeTasks: 100,
  describeServices: 10,
  describeContainerInstances: 100,
  updateContainerInstancesState: 10,
  describeServiceRevisions: 20,
  describeCapacityProviders: 100,
  runTaskCount: 10,
  tagsPerResource: 50,
} as const;
/** RunTask's client token lives 24 hours (ECS_Idempotency). */
const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const TASK_NOT_FOUND = 'The referenced task was not found.';

const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message);

/** Where ECS's answers come from: the world, and the Auto Scaling groups its capacity providers hold. */
export interface EcsModelSources {
  /** Each group stands for one capacity provider of the same name (managed draining as the group says). */
  autoScalingGroups?: () => Iterable<TwinAutoScalingGroup>;
}

export function ecsModel(world: World, sources: EcsModelSources = {}): ServiceModel {
  const api = new EcsApi(world, sources);
  return {
    ListTasks: read(
      (i) => api.listTasksTarget(i),
      (i) => api.listTasks(i),
    ),
    DescribeTasks: read(
      (i) => `${clusterName(i.cluster)} ${(i.tasks ?? []).map(shortId).join(',')}`,
      (i) => api.describeTasks(i),
    ),
    RunTask: write(
      // The client token names the command: a retry, or a later invocation sending it again, is the same.
      (i: RunTaskCommandInput) =>
        `${i.taskDefinition ?? ''}${i.clientToken ? ` clientToken=${i.clientToken}` : ''}`,
      (i) => api.runTask(i),
    ),
    StopTask: write(
      (i) => i.task ?? '',
      (i) => api.stopTask(i),
    ),
    DescribeServices: read(
      (i) => (i.services ?? []).map((s: string) => `${clusterName(i.cluster)}/${lastSegment(s)}`).join(','),
      (i) => api.describeServices(i),
    ),
    ListServices: read(
      (i) => clusterName(i.cluster),
      (i) => api.listServices(i),
    ),
    UpdateService: write(
      (i) => updateServiceTarget(i),
      (i) => api.updateService(i),
    ),
    ListServiceDeployments: read(
      (i) => `${clusterName(i.cluster)}/${lastSegment(i.service ?? '')}`,
      (i) => api.listServiceDeployments(i),
    ),
    DescribeServiceRevisions: read(
      (i) => (i.serviceRevisionArns ?? []).join(','),
      (i) => api.describeServiceRevisions(i),
    ),
    TagResource: write(
      (i) => `${resourceName(i.resourceArn)} ${(i.tags ?? []).map((t: Tag) => t.key).join(',')}`,
      (i) => api.tagResource(i),
    ),
    UntagResource: write(
      (i) => `${resourceName(i.resourceArn)} ${(i.tagKeys ?? []).join(',')}`,
      (i) => api.untagResource(i),
    ),
    ListTagsForResource: read(
      (i) => i.resourceArn ?? '',
      (i) => api.listTagsForResource(i),
    ),
    ListContainerInstances: read(
      (i) =>
        [clusterName(i.cluster), i.filter?.replace(/^ec2InstanceId\s*==\s*/, ''), i.status]
          .filter(Boolean)
          .join(' '),
      (i) => api.listContainerInstances(i),
    ),
    DescribeContainerInstances: read(
      (i) => `${clusterName(i.cluster)} ${api.instanceIdsOf(i.cluster, i.containerInstances)}`,
      (i) => api.describeContainerInstances(i),
    ),
    UpdateContainerInstancesState: write(
      // `CLUSTER INSTANCE STATUS`, with the EC2 instance id: what the timeline and the blast radius read.
      (i) => `${clusterName(i.cluster)} ${api.instanceIdsOf(i.cluster, i.containerInstances)} ${i.status}`,
      (i) => api.updateContainerInstancesState(i),
    ),
    DescribeCapacityProviders: read(
      (i) => (i.capacityProviders ?? []).join(','),
      (i) => api.describeCapacityProviders(i),
    ),
  };
}

/** A cluster as a short name or ARN; left out, the default cluster. */
export const clusterName = (ref: string | undefined): string => (ref ? lastSegment(ref) : 'default');
const lastSegment = (ref: string) => ref.split('/').pop() ?? ref;
/** A service as `cluster/name`, as the other service commands name it; any other resource by its ARN. */
const resourceName = (arn = '') => /^arn:[^:]*:ecs:[^:]*:[^:]*:service\/(.+)$/.exec(arn)?.[1] ?? arn;
const shortId = (ref: string) => lastSegment(ref).slice(0, 8);

function updateServiceTarget(input: UpdateServiceCommandInput): string {
  const changes = [
    input.desiredCount !== undefined ? `desiredCount=${input.desiredCount}` : '',
    input.taskDefinition ? `taskDefinition=${input.taskDefinition}` : '',
    input.forceNewDeployment ? 'forceNewDeployment' : '',
  ].filter(Boolean);
  return [`${clusterName(input.cluster)}/${lastSegment(input.service ?? '')}`, ...changes].join(' ');
}

/**
 * One page of a listing. The token is the offset, opaque to the caller as ECS's is; `maxResults`
 * outside 1..limit is refused, as ECS refuses it.
 */
function page<T>(
  items: T[],
  input: { maxResults?: number; nextToken?: string },
  limit: number,
  fallback: number,
) {
  const size = input.maxResults ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > limit)
    throw invalid(`maxResults must be between 1 and ${limit}`);
  let offset = 0;
  if (input.nextToken) {
    const decoded = Number(Buffer.from(input.nextToken, 'base64url').toString('utf8').replace(/^o:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw invalid('Invalid nextToken');
    offset = decoded;
  }
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    nextToken: end < items.length ? Buffer.from(`o:${end}`, 'utf8').toString('base64url') : undefined,
  };
}

interface TokenRecord {
  request: string;
  taskArns: string[];
  expiresAt: number;
}

class EcsApi {
  /** RunTask's client tokens per cluster: the request they came with and the tasks they started. */
  private readonly tokens = new Map<string, TokenRecord>();
  /** Service revisions handed out by ListServiceDeployments, for DescribeServiceRevisions. */
  private readonly revisions = new Map<
    string,
    { service: ServiceState; taskDefinitionArn: string; at?: Date }
  >();
  private readonly recordIds = new WeakMap<object, string>();

  constructor(
    private readonly world: World,
    private readonly sources: EcsModelSources,
  ) {}

  // --- refs -------------------------------------------------------------------------------------------

  private cluster(ref: string | undefined): string {
    const name = clusterName(ref);
    const { world } = this;
    const known =
      world.clusters.has(name) ||
      world.instances.some((i) => i.cluster === name) ||
      [...world.services.values()].some((s) => s.cluster === name);
    if (!known) throw new AwsServiceError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  private task(cluster: string, ref: string): TaskState | undefined {
    const task =
      this.world.tasks.get(ref) ?? this.world.tasks.get(this.world.arn('task', `${cluster}/${ref}`));
    return task?.cluster === cluster ? task : undefined;
  }

  private service(cluster: string, ref: string): ServiceState | undefined {
    return this.world.service(cluster, lastSegment(ref));
  }

  private requireService(cluster: string, ref: string | undefined): ServiceState {
    if (!ref) throw invalid('service is required');
    const service = this.service(cluster, ref);
    if (!service) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  /** A container instance by ARN or id. One whose agent never registered is not one ECS knows. */
  private containerInstance(cluster: string, ref: string): InstanceState | undefined {
    return this.world.instances.find(
      (i) =>
        i.cluster === cluster &&
        i.status !== 'REGISTERING' &&
        (i.containerInstanceArn === ref || i.containerInstanceArn.endsWith(`/${ref}`)),
    );
  }

  instanceIdsOf(cluster: string | undefined, refs: string[] | undefined): string {
    const name = clusterName(cluster);
    return (refs ?? []).map((ref) => this.containerInstance(name, ref)?.instanceId ?? shortId(ref)).join(',');
  }

  private taskDefinitionArn(ref: string): string {
    try {
      return this.world.taskDefinition(ref).arn;
    } catch {
      throw new AwsServiceError('ClientException', 'TaskDefinition not found.');
    }
  }

  // --- tasks ------------------------------------------------------------------------------------------

  listTasksTarget(input: Record<string, string | undefined>): string {
    const by = input.serviceName
      ? `service:${input.serviceName}`
      : input.family
        ? `family:${input.family}`
        : input.containerInstance
          ? this.instanceIdsOf(input.cluster, [input.containerInstance])
          : (input.startedBy ?? '');
    return [clusterName(input.cluster), by, input.desiredStatus ?? 'RUNNING'].join(' ');
  }

  listTasks(input: {
    cluster?: string;
    containerInstance?: string;
    family?: string;
    serviceName?: string;
    startedBy?: string;
    desiredStatus?: string;
    launchType?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    const cluster = this.cluster(input.cluster);
    if (input.startedBy && (input.family || input.serviceName || input.containerInstance))
      throw invalid('startedBy must be the only filter when it is specified');
    if (input.serviceName) this.requireService(cluster, input.serviceName);
    const instance = input.containerInstance
      ? this.containerInstance(cluster, input.containerInstance)
      : undefined;
    if (input.containerInstance && !instance)
      throw invalid('The referenced container instance was not found.');
    // The desired status filters, RUNNING by default: a task being stopped is already listed as STOPPED.
    // PENDING is a valid filter that ECS never matches (no task is meant to stay pending).
    const desired = input.desiredStatus ?? 'RUNNING';
    const arns = [...this.world.tasks.values()]
      .filter(
        (t) =>
          t.cluster === cluster &&
          t.desiredStatus === desired &&
          (!input.serviceName || t.group === `service:${lastSegment(input.serviceName)}`) &&
          (!input.family || this.world.taskDefinition(t.taskDefinitionArn).family === input.family) &&
          (!input.startedBy || t.startedBy === input.startedBy) &&
          (!input.launchType || t.launchType === input.launchType) &&
          (!instance || t.instance === instance),
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((t) => t.arn);
    const { items, nextToken } = page(arns, input, 100, 100);
    return { taskArns: items, ...(nextToken ? { nextToken } : {}) };
  }

  describeTasks(input: { cluster?: string; tasks?: string[]; include?: string[] }) {
    const cluster = this.cluster(input.cluster);
    const refs = input.tasks ?? [];
    if (refs.length === 0 || refs.length > LIMITS.describeTasks)
      throw invalid(`tasks takes 1 to ${LIMITS.describeTasks} tasks`);
    const withTags = input.include?.includes('TAGS') ?? false;
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const task = this.task(cluster, ref);
      if (task) tasks.push(this.taskView(task, withTags));
      else failures.push({ arn: ref, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  runTask(input: RunTaskCommandInput) {
    const cluster = this.cluster(input.cluster);
    if (!input.taskDefinition) throw invalid('taskDefinition is required');
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > LIMITS.runTaskCount)
      throw invalid(`count must be between 1 and ${LIMITS.runTaskCount}`);
    // What ECS refuses before it places anything (#domain/runTaskLimits, from the API reference).
    const problems = runTaskProblems(runTaskShape(input));
    if (problems.length > 0) throw invalid(problems.join('; '));
    const taskDefinitionArn = this.taskDefinitionArn(input.taskDefinition);
    // The same token in the same cluster returns what the first request started; with other
    // parameters it is refused (ECS_Idempotency). A request that started nothing leaves no token.
    const now = this.world.clock.now().getTime();
    const key = `${cluster} ${input.clientToken}`;
    const { clientToken: _, ...rest } = input;
    const request = JSON.stringify(rest);
    const held = this.tokens.get(key);
    if (held && held.expiresAt > now) {
      if (held.request !== request)
        throw new AwsServiceError(
          'ConflictException',
          'The request uses the same client token as a previous, but non-identical request.',
        );
      return {
        tasks: held.taskArns.flatMap((arn) => {
          const task = this.world.tasks.get(arn);
          return task ? [this.taskView(task, false)] : [];
        }),
        failures: [],
      };
    }
    // With no registered container instance at all, ECS throws instead of answering `failures`.
    if (!this.world.instances.some((i) => i.cluster === cluster && i.status !== 'REGISTERING'))
      throw invalid('No Container Instances were found in your cluster.');
    const tasks: TaskState[] = [];
    const failures: Failure[] = [];
    for (let n = 0; n < count; n++) {
      const started = this.world.runTask({
        cluster,
        taskDefinitionArn,
        group: input.group,
        startedBy: input.startedBy,
        launchType: input.launchType,
        // One copy lands on the provider with a base first, then the one of the greatest weight.
        capacityProviderName: [...(input.capacityProviderStrategy ?? [])].sort(
          (x, y) => (y.base ?? 0) - (x.base ?? 0) || (y.weight ?? 0) - (x.weight ?? 0),
        )[0]?.capacityProvider,
        overrides: input.overrides,
        tags: Object.fromEntries((input.tags ?? []).map((t) => [t.key ?? '', t.value ?? ''])),
        registerIn: [],
      });
      if ('failure' in started) failures.push({ reason: started.failure });
      else tasks.push(started);
    }
    if (tasks.length > 0 && input.clientToken)
      this.tokens.set(key, {
        request,
        taskArns: tasks.map((t) => t.arn),
        expiresAt: now + CLIENT_TOKEN_TTL_MS,
      });
    return { tasks: tasks.map((t) => this.taskView(t, false)), failures };
  }

  stopTask(input: { cluster?: string; task?: string; reason?: string }) {
    const cluster = this.cluster(input.cluster);
    const task = input.task ? this.task(cluster, input.task) : undefined;
    if (!task) throw invalid(TASK_NOT_FOUND);
    // A task already stopping keeps its first reason; StopTask answers it as it is.
    this.world.stopTask(task.arn, input.reason ?? 'Task stopped by the user');
    return { task: this.taskView(task, false) };
  }

  private taskView(t: TaskState, withTags: boolean): Task {
    const td = this.world.taskDefinition(t.taskDefinitionArn);
    const clusterArn = this.world.arn('cluster', t.cluster);
    return {
      taskArn: t.arn,
      clusterArn,
      taskDefinitionArn: t.taskDefinitionArn,
      containerInstanceArn: t.instance.containerInstanceArn,
      group: t.group,
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
      version: t.version,
      startedBy: t.startedBy,
      launchType: t.launchType as Task['launchType'],
      capacityProviderName: t.capacityProviderName,
      availabilityZone: t.instance.availabilityZone,
      cpu: String(td.cpu),
      memory: String(td.memory),
      createdAt: t.createdAt,
      startedAt: t.startedAt,
      stoppingAt: t.stoppingAt,
      stoppedAt: t.stoppedAt,
      stopCode: t.stopCode as Task['stopCode'],
      stoppedReason: t.stoppedReason,
      connectivity: t.lastStatus === 'RUNNING' ? 'CONNECTED' : undefined,
      overrides: (t.overrides ?? { containerOverrides: [] }) as Task['overrides'],
      attachments: eniAttachments(t, 'ElasticNetworkInterface'),
      containers: [
        {
          containerArn: this.world.arn('container', `${t.cluster}/${t.id}/${td.containerName}`),
          taskArn: t.arn,
          name: td.containerName,
          lastStatus: t.lastStatus,
          exitCode: t.exitCode,
          reason: t.containerReason,
          ...(t.hostPort
            ? {
                networkBindings: [
                  {
                    bindIP: '0.0.0.0',
                    containerPort: td.containerPort,
                    hostPort: t.hostPort,
                    protocol: 'tcp',
                  },
                ],
              }
            : {}),
          ...(t.privateIp
            ? {
                networkInterfaces: [
                  { attachmentId: `eni-attach-${t.id.slice(0, 8)}`, privateIpv4Address: t.privateIp },
                ],
              }
            : {}),
        },
      ],
      ...(withTags ? { tags: toTags(t.tags) } : {}),
    };
  }

  // --- services ---------------------------------------------------------------------------------------

  describeServices(input: { cluster?: string; services?: string[]; include?: string[] }) {
    const cluster = this.cluster(input.cluster);
    const refs = input.services ?? [];
    if (refs.length === 0 || refs.length > LIMITS.describeServices)
      throw invalid(`services takes 1 to ${LIMITS.describeServices} services`);
    const withTags = input.include?.includes('TAGS') ?? false;
    const services: Service[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const service = this.service(cluster, ref);
      if (service) services.push(this.serviceView(service, withTags));
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : this.world.arn('service', `${cluster}/${ref}`),
          reason: 'MISSING',
        });
    }
    return { services, failures };
  }

  listServices(input: { cluster?: string; maxResults?: number; nextToken?: string; launchType?: string }) {
    const cluster = this.cluster(input.cluster);
    const arns = [...this.world.services.values()].filter((s) => s.cluster === cluster).map((s) => s.arn);
    const { items, nextToken } = page(arns, input, 100, 10);
    return { serviceArns: items, ...(nextToken ? { nextToken } : {}) };
  }

  updateService(input: UpdateServiceCommandInput) {
    const cluster = this.cluster(input.cluster);
    const service = this.requireService(cluster, input.service);
    if (input.desiredCount !== undefined && (!Number.isInteger(input.desiredCount) || input.desiredCount < 0))
      throw invalid('desiredCount must be a whole number, 0 or more');
    const taskDefinitionArn = input.taskDefinition ? this.taskDefinitionArn(input.taskDefinition) : undefined;
    this.world.updateService(cluster, service.name, {
      ...(input.desiredCount !== undefined ? { desiredCount: input.desiredCount } : {}),
      ...(taskDefinitionArn ? { taskDefinitionArn } : {}),
      ...(input.forceNewDeployment ? { forceNewDeployment: true } : {}),
    });
    return { service: this.serviceView(service, false) };
  }

  private serviceView(service: ServiceState, withTags: boolean): Service {
    const alive = this.world.runningTasks(service.cluster, `service:${service.name}`);
    const running = (tasks: TaskState[]) => tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    const primary = service.deployments.find((d) => d.status === 'PRIMARY')!;
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: this.world.arn('cluster', service.cluster),
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: running(alive),
      pendingCount: alive.length - running(alive),
      launchType: 'EC2',
      schedulingStrategy: 'REPLICA',
      taskDefinition: primary.taskDefinitionArn,
      healthCheckGracePeriodSeconds: service.healthCheckGraceSeconds,
      deploymentController: { type: service.deploymentController },
      deploymentConfiguration: {
        maximumPercent: service.maximumPercent,
        minimumHealthyPercent: 100,
        deploymentCircuitBreaker: { enable: service.circuitBreaker, rollback: service.circuitBreaker },
        strategy: service.strategy,
      },
      loadBalancers: service.targetGroupArns.map((targetGroupArn) => {
        const td = this.world.taskDefinition(primary.taskDefinitionArn);
        return { targetGroupArn, containerName: td.containerName, containerPort: td.containerPort };
      }),
      deployments: service.deployments.map((d) => {
        const own = alive.filter((t) => t.deploymentId === d.id);
        return {
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinitionArn,
          desiredCount: d.status === 'PRIMARY' ? service.desiredCount : 0,
          runningCount: running(own),
          pendingCount: own.length - running(own),
          failedTasks: d.status === 'PRIMARY' ? service.deploymentFailures : 0,
          rolloutState: d.rolloutState,
          createdAt: d.createdAt,
          updatedAt: d.updatedAt,
          launchType: 'EC2',
        };
      }),
      ...(withTags ? { tags: toTags(service.tags) } : {}),
    };
  }

  /**
   * Every deployment ECS remembers of the service: the one in progress (ECS lists it from its start) and
   * the finished ones the world keeps. Each points at a service revision that DescribeServiceRevisions
   * then answers.
   */
  listServiceDeployments(input: ListServiceDeploymentsCommandInput) {
    const cluster = this.cluster(input.cluster);
    const service = this.requireService(cluster, input.service);
    const clusterArn = this.world.arn('cluster', cluster);
    const inProgress = service.deployments.filter(
      (d) => d.status === 'PRIMARY' && d.rolloutState === 'IN_PROGRESS',
    );
    const briefs: ServiceDeploymentBrief[] = [
      ...inProgress.map((d) =>
        this.brief(service, clusterArn, d, d.taskDefinitionArn, 'IN_PROGRESS', d.createdAt, undefined),
      ),
      ...service.history.map((h) =>
        this.brief(
          service,
          clusterArn,
          h,
          h.taskDefinitionArn,
          h.status as ServiceDeploymentStatus,
          h.startedAt,
          h.finishedAt,
        ),
      ),
    ].filter(
      (b) =>
        (!input.status?.length || input.status.includes(b.status!)) &&
        (!input.createdAt?.after || (b.createdAt?.getTime() ?? 0) >= input.createdAt.after.getTime()) &&
        (!input.createdAt?.before || (b.createdAt?.getTime() ?? 0) <= input.createdAt.before.getTime()),
    );
    const { items, nextToken } = page(briefs, input, 100, 20);
    return { serviceDeployments: items, ...(nextToken ? { nextToken } : {}) };
  }

  private brief(
    service: ServiceState,
    clusterArn: string,
    record: object,
    taskDefinitionArn: string,
    status: ServiceDeploymentStatus,
    startedAt: Date | undefined,
    finishedAt: Date | undefined,
  ): ServiceDeploymentBrief {
    let id = this.recordIds.get(record);
    if (!id) {
      id = this.world.newId().slice(0, 20);
      this.recordIds.set(record, id);
    }
    const path = `${service.cluster}/${service.name}/${id}`;
    const revisionArn = this.world.arn('service-revision', path);
    this.revisions.set(revisionArn, { service, taskDefinitionArn, at: startedAt });
    return {
      serviceDeploymentArn: this.world.arn('service-deployment', path),
      serviceArn: service.arn,
      clusterArn,
      targetServiceRevisionArn: revisionArn,
      status,
      createdAt: startedAt,
      startedAt,
      finishedAt,
    };
  }

  describeServiceRevisions(input: { serviceRevisionArns?: string[] }) {
    const arns = input.serviceRevisionArns ?? [];
    if (arns.length === 0 || arns.length > LIMITS.describeServiceRevisions)
      throw invalid(`serviceRevisionArns takes 1 to ${LIMITS.describeServiceRevisions} ARNs`);
    const failures: Failure[] = [];
    const serviceRevisions = arns.flatMap((arn) => {
      const revision = this.revisions.get(arn);
      if (!revision) {
        failures.push({ arn, reason: 'MISSING' });
        return [];
      }
      return [
        {
          serviceRevisionArn: arn,
          serviceArn: revision.service.arn,
          clusterArn: this.world.arn('cluster', revision.service.cluster),
          taskDefinition: revision.taskDefinitionArn,
          launchType: 'EC2' as const,
          createdAt: revision.at,
        },
      ];
    });
    return { serviceRevisions, failures };
  }

  // --- tags -------------------------------------------------------------------------------------------

  /** The tags of a task or service by ARN; anything else is a resource the twin does not have. */
  private tagsOf(resourceArn: string | undefined): Record<string, string> {
    if (!resourceArn) throw invalid('resourceArn is required');
    const task = this.world.tasks.get(resourceArn);
    if (task) return task.tags;
    const service = this.world.services.get(resourceArn);
    if (service) return service.tags;
    throw new AwsServiceError('ResourceNotFoundException', 'The specified resource could not be found.');
  }

  tagResource(input: { resourceArn?: string; tags?: Tag[] }) {
    const tags = this.tagsOf(input.resourceArn);
    const given = input.tags ?? [];
    for (const { key = '', value = '' } of given) {
      if (key.toLowerCase().startsWith('aws:'))
        throw invalid('Tag keys with the aws: prefix are reserved for AWS use.');
      if (key.length === 0 || key.length > 128 || value.length > 256)
        throw invalid('A tag key takes 1 to 128 characters, its value up to 256.');
    }
    const keys = new Set([...Object.keys(tags), ...given.map((t) => t.key ?? '')]);
    if (keys.size > LIMITS.tagsPerResource)
      throw invalid(`A resource takes at most ${LIMITS.tagsPerResource} tags.`);
    for (const { key = '', value = '' } of given) tags[key] = value;
    return {};
  }

  untagResource(input: { resourceArn?: string; tagKeys?: string[] }) {
    const tags = this.tagsOf(input.resourceArn);
    for (const key of input.tagKeys ?? []) delete tags[key];
    return {};
  }

  listTagsForResource(input: { resourceArn?: string }) {
    return { tags: toTags(this.tagsOf(input.resourceArn)) };
  }

  // --- container instances -------------------------------------------------------------------------------

  /**
   * The cluster query language, as far as the adapters use it: `ec2InstanceId == ID` (or `!=`).
   * Without a status every status but INACTIVE is listed; an instance whose agent has not registered is
   * not a container instance yet.
   */
  listContainerInstances(input: {
    cluster?: string;
    filter?: string;
    status?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    const cluster = this.cluster(input.cluster);
    let matches = (_: InstanceState) => true;
    if (input.filter) {
      const parsed = /^\s*ec2InstanceId\s*(==|!=)\s*([\w-]+)\s*$/.exec(input.filter);
      if (!parsed) throw invalid(`The twin does not take this cluster query: ${input.filter}`);
      const [, op, id] = parsed;
      matches = (i) => (i.instanceId === id) === (op === '==');
    }
    const arns = this.world.instances
      .filter(
        (i) =>
          i.cluster === cluster &&
          i.status !== 'REGISTERING' &&
          (!input.status || i.status === input.status) &&
          matches(i),
      )
      .map((i) => i.containerInstanceArn);
    const { items, nextToken } = page(arns, input, 100, 100);
    return { containerInstanceArns: items, ...(nextToken ? { nextToken } : {}) };
  }

  describeContainerInstances(input: { cluster?: string; containerInstances?: string[] }) {
    const cluster = this.cluster(input.cluster);
    const refs = input.containerInstances ?? [];
    if (refs.length === 0 || refs.length > LIMITS.describeContainerInstances)
      throw invalid(`containerInstances takes 1 to ${LIMITS.describeContainerInstances} instances`);
    const containerInstances: ContainerInstance[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const instance = this.containerInstance(cluster, ref);
      if (instance) containerInstances.push(this.instanceView(instance));
      else failures.push({ arn: ref, reason: 'MISSING' });
    }
    return { containerInstances, failures };
  }

  /** Only ACTIVE and DRAINING can be set, and only on an instance in one of them (API reference). */
  updateContainerInstancesState(input: { cluster?: string; containerInstances?: string[]; status?: string }) {
    const cluster = this.cluster(input.cluster);
    const refs = input.containerInstances ?? [];
    if (refs.length === 0 || refs.length > LIMITS.updateContainerInstancesState)
      throw invalid(`containerInstances takes 1 to ${LIMITS.updateContainerInstancesState} instances`);
    const status = input.status;
    if (status !== 'ACTIVE' && status !== 'DRAINING')
      throw invalid(`Container instances can only be set to ACTIVE or DRAINING, not ${status}`);
    const containerInstances: ContainerInstance[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const instance = this.containerInstance(cluster, ref);
      if (!instance) {
        failures.push({ arn: ref, reason: 'MISSING' });
        continue;
      }
      this.world.setInstanceStatus(instance, status);
      containerInstances.push(this.instanceView(instance));
    }
    return { containerInstances, failures };
  }

  private instanceView(instance: InstanceState): ContainerInstance {
    const tasks = this.world.tasksOn(instance.instanceId).filter((t) => t.desiredStatus === 'RUNNING');
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    const used = (key: 'cpu' | 'memory') =>
      this.world
        .tasksOn(instance.instanceId)
        .reduce((sum, t) => sum + this.world.taskDefinition(t.taskDefinitionArn)[key], 0);
    const resource = (name: string, value: number) => ({ name, type: 'INTEGER', integerValue: value });
    return {
      containerInstanceArn: instance.containerInstanceArn,
      ec2InstanceId: instance.instanceId,
      status: instance.status,
      agentConnected: instance.agentConnected,
      runningTasksCount: running,
      pendingTasksCount: tasks.length - running,
      registeredResources: [resource('CPU', instance.cpu), resource('MEMORY', instance.memory)],
      remainingResources: [
        resource('CPU', instance.cpu - used('cpu')),
        resource('MEMORY', instance.memory - used('memory')),
      ],
      attributes: [{ name: 'ecs.availability-zone', value: instance.availabilityZone }],
    };
  }

  // --- capacity providers ---------------------------------------------------------------------------------

  /**
   * FARGATE and FARGATE_SPOT, which every account has, and one provider per Auto Scaling group. With
   * names, those (and `failures` for the others); without, every provider, 10 a page by default.
   */
  describeCapacityProviders(input: {
    capacityProviders?: string[];
    maxResults?: number;
    nextToken?: string;
    include?: string[];
  }) {
    const all: CapacityProvider[] = [
      {
        name: 'FARGATE',
        status: 'ACTIVE',
        capacityProviderArn: this.world.arn('capacity-provider', 'FARGATE'),
      },
      {
        name: 'FARGATE_SPOT',
        status: 'ACTIVE',
        capacityProviderArn: this.world.arn('capacity-provider', 'FARGATE_SPOT'),
      },
      ...[...(this.sources.autoScalingGroups?.() ?? [])].map(
        (group): CapacityProvider => ({
          name: group.name,
          status: 'ACTIVE',
          capacityProviderArn: this.world.arn('capacity-provider', group.name),
          autoScalingGroupProvider: {
            autoScalingGroupArn: autoScalingGroupArn(this.world, group.name),
            managedScaling: { status: 'DISABLED' },
            managedTerminationProtection: 'DISABLED',
            managedDraining: group.managedDraining ? 'ENABLED' : 'DISABLED',
          },
          ...(input.include?.includes('TAGS') ? { tags: [] } : {}),
        }),
      ),
    ];
    const names = input.capacityProviders;
    if (names?.length) {
      if (names.length > LIMITS.describeCapacityProviders)
        throw invalid(`capacityProviders takes at most ${LIMITS.describeCapacityProviders} names`);
      if (input.maxResults !== undefined) throw invalid('maxResults cannot be used with capacityProviders');
      const failures: Failure[] = [];
      const found = names.flatMap((ref) => {
        const provider = all.find((p) => p.name === ref || p.capacityProviderArn === ref);
        if (!provider) failures.push({ arn: ref, reason: 'MISSING' });
        return provider ? [provider] : [];
      });
      return { capacityProviders: found, failures };
    }
    const { items, nextToken } = page(all, input, 10, 10);
    return { capacityProviders: items, failures: [], ...(nextToken ? { nextToken } : {}) };
  }
}

/** An Auto Scaling group's ARN as AWS writes it (the id part is the twin's own, fixed per name). */
export function autoScalingGroupArn(world: Pick<World, 'region' | 'account'>, name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `arn:aws:autoscaling:${world.region}:${world.account}:autoScalingGroup:${hex}-0000-4000-8000-${hex}0000:autoScalingGroupName/${name}`;
}

const toTags = (tags: Record<string, string>): Tag[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/** The request as #domain/runTaskLimits checks it. */
function runTaskShape(input: RunTaskCommandInput): RunTaskShape {
  const vpc = input.networkConfiguration?.awsvpcConfiguration;
  return {
    startedBy: input.startedBy ?? '',
    launchType: input.launchType,
    capacityProviderStrategy: input.capacityProviderStrategy?.map((item) => ({
      capacityProvider: item.capacityProvider ?? '',
      // Left out, the weight is 0 (CapacityProviderStrategyItem).
      weight: item.weight ?? 0,
      ...(item.base !== undefined ? { base: item.base } : {}),
    })),
    overrides: input.overrides,
    network: vpc ? { subnets: vpc.subnets ?? [], securityGroups: vpc.securityGroups ?? [] } : undefined,
    tags: Object.fromEntries((input.tags ?? []).map((t) => [t.key ?? '', t.value ?? ''])),
    // The SDK fills in an idempotency token when the caller gives none.
    clientToken: input.clientToken ?? 'sdk-generated',
  };
}
