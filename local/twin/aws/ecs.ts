// Amazon ECS as the twin answers it: every command the adapters send, over the simulated cluster in
// world.ts, with the API reference's shapes, limits, pagination, `failures` arrays and error names. The
// world keeps the simulation (scheduler, placement, instances); what a command means as an API call
// (which refs it takes, what it refuses, what its answer looks like) lives here.
import type * as Ecs from '@aws-sdk/client-ecs';
import { DeploymentLifecycleHookStage } from '@aws-sdk/client-ecs';
import type { DeploymentRecord } from '#domain/model';
import { type RunTaskShape, runTaskProblems } from '#domain/runTaskLimits';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';
import type { NativeDeployment, NativeDeployments, NativeSettings } from '#local/twin/nativeDeployments';
import type { TwinAutoScalingGroup } from '#local/twin/scaling';
import { type InstanceState, type ServiceState, type TaskState, taskFields } from '#local/twin/state';
import type { World } from '#local/twin/world';

/** RunTask's client token lives 24 hours (ECS_Idempotency). */
const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message);

/** Where ECS's answers come from: the world, and the Auto Scaling groups its capacity providers hold. */
export interface EcsModelSources {
  /** Each group stands for one capacity provider of the same name (managed draining as the group says). */
  autoScalingGroups?: () => Iterable<TwinAutoScalingGroup>;
  /** ECS native deployments (BLUE_GREEN, LINEAR, CANARY): their settings and their runs. */
  native?: NativeDeployments;
}

export function ecsModel(world: World, sources: EcsModelSources = {}): ServiceModel {
  /** RunTask's client tokens per cluster: the request they came with and the tasks they started. */
  const tokens = new Map<string, { request: string; taskArns: string[]; expiresAt: number }>();
  /** Service revisions handed out by ListServiceDeployments, for DescribeServiceRevisions. */
  const revisions = new Map<string, Ecs.ServiceRevision>();
  const recordIds = new WeakMap<object, string>();
  /** Rolling deployments handed out by ListServiceDeployments, for DescribeServiceDeployments. */
  const rolling = new Map<string, Ecs.ServiceDeployment>();

  // Each command: what it acts on, as the timeline and scenario expectations name it, and its answer below.
  return {
    ListTasks: read(listTasksTarget, listTasks),
    DescribeTasks: read(
      (i) => `${clusterName(i.cluster)} ${(i.tasks ?? []).map(shortId).join(',')}`,
      describeTasks,
    ),
    // The client token names the command: a retry, or a later invocation sending it again, is the same.
    RunTask: write(
      (i) => `${i.taskDefinition ?? ''}${i.clientToken ? ` clientToken=${i.clientToken}` : ''}`,
      runTask,
    ),
    StopTask: write((i) => i.task ?? '', stopTask),
    DescribeServices: read(
      (i) => (i.services ?? []).map((s) => `${clusterName(i.cluster)}/${lastSegment(s)}`).join(','),
      describeServices,
    ),
    ListServices: read((i) => clusterName(i.cluster), listServices),
    UpdateService: write(updateServiceTarget, updateService),
    ListServiceDeployments: read(
      (i) => `${clusterName(i.cluster)}/${lastSegment(i.service ?? '')}`,
      listServiceDeployments,
    ),
    DescribeServiceRevisions: read((i) => (i.serviceRevisionArns ?? []).join(','), describeServiceRevisions),
    DescribeServiceDeployments: read(
      (i) => (i.serviceDeploymentArns ?? []).map(lastSegment).join(','),
      describeServiceDeployments,
    ),
    StopServiceDeployment: write(
      (i) => `${lastSegment(i.serviceDeploymentArn ?? '')} ${i.stopType ?? ''}`.trim(),
      stopServiceDeployment,
    ),
    TagResource: write(
      (i) => `${resourceName(i.resourceArn)} ${(i.tags ?? []).map((t) => t.key).join(',')}`,
      tagResource,
    ),
    UntagResource: write(
      (i) => `${resourceName(i.resourceArn)} ${(i.tagKeys ?? []).join(',')}`,
      untagResource,
    ),
    ListContainerInstances: read(
      (i) =>
        [clusterName(i.cluster), i.filter?.replace(/^ec2InstanceId\s*==\s*/, ''), i.status]
          .filter(Boolean)
          .join(' '),
      listContainerInstances,
    ),
    DescribeContainerInstances: read(
      (i) => `${clusterName(i.cluster)} ${instanceIdsOf(i.cluster, i.containerInstances)}`,
      describeContainerInstances,
    ),
    UpdateContainerInstancesState: write(
      // `CLUSTER INSTANCE STATUS`, with the EC2 instance id: what the timeline and the blast radius read.
      (i) => `${clusterName(i.cluster)} ${instanceIdsOf(i.cluster, i.containerInstances)} ${i.status}`,
      updateContainerInstancesState,
    ),
    DescribeCapacityProviders: read((i) => (i.capacityProviders ?? []).join(','), describeCapacityProviders),
  };

  // --- refs -------------------------------------------------------------------------------------------

  function knownCluster(ref: string | undefined): string {
    const name = clusterName(ref);
    const known =
      world.clusters.has(name) ||
      world.instances.some((i) => i.cluster === name) ||
      [...world.services.values()].some((s) => s.cluster === name);
    if (!known) throw new AwsServiceError('ClusterNotFoundException', 'Cluster not found.');
    return name;
  }

  function findTask(cluster: string, ref: string): TaskState | undefined {
    const task = world.tasks.get(ref) ?? world.tasks.get(world.arn('task', `${cluster}/${ref}`));
    return task?.cluster === cluster ? task : undefined;
  }

  function requireService(cluster: string, ref: string | undefined): ServiceState {
    if (!ref) throw invalid('service is required');
    const service = world.service(cluster, lastSegment(ref));
    if (!service) throw new AwsServiceError('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  /** The cluster's container instances: one whose agent never registered is not one ECS knows. */
  function registeredIn(cluster: string): InstanceState[] {
    return world.instances.filter((i) => i.cluster === cluster && i.status !== 'REGISTERING');
  }

  /** A container instance by ARN or id. */
  function findInstance(cluster: string, ref: string): InstanceState | undefined {
    return registeredIn(cluster).find(
      ({ containerInstanceArn: arn }) => arn === ref || arn.endsWith(`/${ref}`),
    );
  }

  function instanceIdsOf(cluster: string | undefined, refs: string[] | undefined): string {
    const name = clusterName(cluster);
    return (refs ?? []).map((ref) => findInstance(name, ref)?.instanceId ?? shortId(ref)).join(',');
  }

  function taskDefinitionArn(ref: string): string {
    try {
      return world.taskDefinition(ref).arn;
    } catch {
      throw new AwsServiceError('ClientException', 'TaskDefinition not found.');
    }
  }

  // --- tasks ------------------------------------------------------------------------------------------

  function listTasksTarget(input: Ecs.ListTasksCommandInput): string {
    const by = input.serviceName
      ? `service:${input.serviceName}`
      : input.family
        ? `family:${input.family}`
        : input.containerInstance
          ? instanceIdsOf(input.cluster, [input.containerInstance])
          : (input.startedBy ?? '');
    return [clusterName(input.cluster), by, input.desiredStatus ?? 'RUNNING'].join(' ');
  }

  function listTasks(input: Ecs.ListTasksCommandInput) {
    const cluster = knownCluster(input.cluster);
    if (input.startedBy && (input.family || input.serviceName || input.containerInstance))
      throw invalid('startedBy must be the only filter when it is specified');
    if (input.serviceName) requireService(cluster, input.serviceName);
    const instance = input.containerInstance ? findInstance(cluster, input.containerInstance) : undefined;
    if (input.containerInstance && !instance)
      throw invalid('The referenced container instance was not found.');
    // The desired status filters, RUNNING by default: a task being stopped is already listed as STOPPED.
    // PENDING is a valid filter that ECS never matches (no task is meant to stay pending).
    const desired = input.desiredStatus ?? 'RUNNING';
    const group = input.serviceName ? `service:${lastSegment(input.serviceName)}` : undefined;
    const arns = [...(desired === 'RUNNING' ? world.liveTasks() : world.tasks.values())]
      .filter(
        (t) =>
          t.cluster === cluster &&
          t.desiredStatus === desired &&
          (!group || t.group === group) &&
          (!input.family || world.taskDefinition(t.taskDefinitionArn).family === input.family) &&
          (!input.startedBy || t.startedBy === input.startedBy) &&
          (!input.launchType || t.launchType === input.launchType) &&
          (!instance || t.instance === instance),
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((t) => t.arn);
    return page('taskArns', arns, input, 100, 100);
  }

  function describeTasks(input: Ecs.DescribeTasksCommandInput) {
    const cluster = knownCluster(input.cluster);
    const refs = refsOf(input.tasks, 'tasks', 100, 'tasks');
    const withTags = input.include?.includes('TAGS') ?? false;
    const view = (task: TaskState) => taskView(task, withTags);
    return lookUp('tasks', refs, (ref) => findTask(cluster, ref), view);
  }

  function runTask(input: Ecs.RunTaskCommandInput) {
    const cluster = knownCluster(input.cluster);
    if (!input.taskDefinition) throw invalid('taskDefinition is required');
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10) throw invalid('count must be between 1 and 10');
    // What ECS refuses before it places anything (#domain/runTaskLimits, from the API reference).
    const problems = runTaskProblems(runTaskShape(input));
    if (problems.length > 0) throw invalid(problems.join('; '));
    const taskDefinition = taskDefinitionArn(input.taskDefinition);
    // The same token in the same cluster returns what the first request started; with other
    // parameters it is refused (ECS_Idempotency). A request that started nothing leaves no token.
    const now = world.clock.now().getTime();
    const key = `${cluster} ${input.clientToken}`;
    const { clientToken: _, ...rest } = input;
    const request = JSON.stringify(rest);
    const held = tokens.get(key);
    if (held && held.expiresAt > now) {
      if (held.request !== request)
        throw new AwsServiceError(
          'ConflictException',
          'The request uses the same client token as a previous, but non-identical request.',
        );
      const tasks = held.taskArns.flatMap((arn) => world.tasks.get(arn) ?? []);
      return { tasks: tasks.map((t) => taskView(t, false)), failures: [] };
    }
    // With no registered container instance at all, ECS throws instead of answering `failures`.
    if (registeredIn(cluster).length === 0)
      throw invalid('No Container Instances were found in your cluster.');
    const tasks: TaskState[] = [];
    const failures: Ecs.Failure[] = [];
    for (let n = 0; n < count; n++) {
      const started = world.runTask({
        cluster,
        taskDefinitionArn: taskDefinition,
        group: input.group,
        startedBy: input.startedBy,
        launchType: input.launchType,
        // One copy lands on the provider with a base first, then the one of the greatest weight.
        capacityProviderName: [...(input.capacityProviderStrategy ?? [])].sort(
          (x, y) => (y.base ?? 0) - (x.base ?? 0) || (y.weight ?? 0) - (x.weight ?? 0),
        )[0]?.capacityProvider,
        overrides: input.overrides,
        tags: fromTags(input.tags),
      });
      if ('failure' in started) failures.push({ reason: started.failure });
      else tasks.push(started);
    }
    if (tasks.length > 0 && input.clientToken)
      tokens.set(key, { request, taskArns: tasks.map((t) => t.arn), expiresAt: now + CLIENT_TOKEN_TTL_MS });
    return { tasks: tasks.map((t) => taskView(t, false)), failures };
  }

  function stopTask(input: Ecs.StopTaskCommandInput) {
    const cluster = knownCluster(input.cluster);
    const task = input.task ? findTask(cluster, input.task) : undefined;
    if (!task) throw invalid('The referenced task was not found.');
    // A task already stopping keeps its first reason; StopTask answers it as it is.
    world.stopTask(task.arn, input.reason ?? 'Task stopped by the user');
    return { task: taskView(task, false) };
  }

  function taskView(t: TaskState, withTags: boolean): Ecs.Task {
    return {
      ...taskFields(t, world.taskDefinition(t.taskDefinitionArn), world, 'ElasticNetworkInterface'),
      ...(withTags ? { tags: toTags(t.tags) } : {}),
    };
  }

  // --- services ---------------------------------------------------------------------------------------

  function describeServices(input: Ecs.DescribeServicesCommandInput) {
    const cluster = knownCluster(input.cluster);
    const refs = refsOf(input.services, 'services', 10, 'services');
    const withTags = input.include?.includes('TAGS') ?? false;
    const view = (service: ServiceState) => serviceView(service, withTags);
    const missing = (ref: string) =>
      ref.startsWith('arn:') ? ref : world.arn('service', `${cluster}/${ref}`);
    return lookUp('services', refs, (ref) => world.service(cluster, lastSegment(ref)), view, missing);
  }

  function listServices(input: Ecs.ListServicesCommandInput) {
    const cluster = knownCluster(input.cluster);
    const arns = [...world.services.values()].filter((s) => s.cluster === cluster).map((s) => s.arn);
    return page('serviceArns', arns, input, 100, 10);
  }

  function updateService(input: Ecs.UpdateServiceCommandInput) {
    const cluster = knownCluster(input.cluster);
    const service = requireService(cluster, input.service);
    if (input.desiredCount !== undefined && (!Number.isInteger(input.desiredCount) || input.desiredCount < 0))
      throw invalid('desiredCount must be a whole number, 0 or more');
    const target = input.taskDefinition ? taskDefinitionArn(input.taskDefinition) : undefined;
    const native = sources.native;
    const { strategy, canaryConfiguration, linearConfiguration, lifecycleHooks, bakeTimeInMinutes } =
      input.deploymentConfiguration ?? {};
    const asks =
      [strategy, canaryConfiguration, linearConfiguration, lifecycleHooks, bakeTimeInMinutes].some(
        (field) => field !== undefined,
      ) || input.loadBalancers?.some((lb) => lb.advancedConfiguration) === true;
    const current = native?.settingsOf(service);
    // A service the twin was given a native strategy for without its settings deploys as before (rolling).
    const settings =
      native && (asks || current) ? nativeSettingsFrom(input, service, current, world) : undefined;
    if (asks && settings === undefined) service.strategy = 'ROLLING';
    const deploys = target !== undefined || input.forceNewDeployment === true;
    if (native && settings) {
      if (deploys && native.inProgress(service))
        throw new AwsServiceError(
          'UnsupportedFeatureException',
          'The twin does not model a deployment that supersedes a native deployment in progress.',
        );
      native.configure(service, settings);
      if (settings.loadBalancer) service.targetGroupArns = [settings.loadBalancer.targetGroupArn];
    }
    if (native && settings && deploys) {
      world.updateService(cluster, service.name, { desiredCount: input.desiredCount });
      const primary = service.deployments.find((d) => d.status === 'PRIMARY')!;
      native.deploy(service, target ?? primary.taskDefinitionArn);
    } else {
      world.updateService(cluster, service.name, {
        desiredCount: input.desiredCount,
        taskDefinitionArn: target,
        forceNewDeployment: input.forceNewDeployment,
      });
    }
    return { service: serviceView(service, false) };
  }

  function serviceView(service: ServiceState, withTags: boolean): Ecs.Service {
    const alive = world.runningTasks(service.cluster, `service:${service.name}`);
    const running = (tasks: TaskState[]) => tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    const primary = service.deployments.find((d) => d.status === 'PRIMARY')!;
    const settings = sources.native?.settingsOf(service);
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: world.arn('cluster', service.cluster),
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
        ...nativeConfigurationView(settings),
      },
      loadBalancers: service.targetGroupArns.map((targetGroupArn) => {
        const td = world.taskDefinition(primary.taskDefinitionArn);
        const lb = settings?.loadBalancer;
        const { targetGroupArn: _, ...advancedConfiguration } = lb ?? {};
        return {
          targetGroupArn,
          containerName: td.containerName,
          containerPort: td.containerPort,
          ...(lb ? { advancedConfiguration } : {}),
        };
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
  function listServiceDeployments(input: Ecs.ListServiceDeploymentsCommandInput) {
    const cluster = knownCluster(input.cluster);
    const service = requireService(cluster, input.service);
    const { after, before } = input.createdAt ?? {};
    const natives = sources.native?.deployments.filter((d) => d.service === service) ?? [];
    const isNative = (record: object) => natives.some((d) => d.green === record || d.record === record);
    const briefs = [
      ...natives.map(nativeBrief),
      ...service.deployments
        .filter((d) => d.status === 'PRIMARY' && d.rolloutState === 'IN_PROGRESS' && !isNative(d))
        .map((d) => brief(service, d, { ...d, status: 'IN_PROGRESS', startedAt: d.createdAt })),
      ...service.history.filter((h) => !isNative(h)).map((h) => brief(service, h, h)),
    ].filter(
      (b) =>
        (!input.status?.length || input.status.includes(b.status!)) &&
        (!after || (b.createdAt?.getTime() ?? 0) >= after.getTime()) &&
        (!before || (b.createdAt?.getTime() ?? 0) <= before.getTime()),
    );
    return page('serviceDeployments', briefs, input, 100, 20);
  }

  /** A deployment as ListServiceDeployments shows it; `record` keeps its id from one listing to the next. */
  function brief(service: ServiceState, record: object, deployment: DeploymentRecord) {
    const id = recordIds.get(record) ?? world.newId().slice(0, 20);
    recordIds.set(record, id);
    const path = `${service.cluster}/${service.name}/${id}`;
    const revisionArn = world.arn('service-revision', path);
    const { startedAt, finishedAt } = deployment;
    const serviceArn = service.arn;
    const clusterArn = world.arn('cluster', service.cluster);
    revisions.set(revisionArn, {
      serviceRevisionArn: revisionArn,
      serviceArn,
      clusterArn,
      taskDefinition: deployment.taskDefinitionArn,
      launchType: 'EC2',
      createdAt: startedAt,
    });
    const answer = {
      serviceDeploymentArn: world.arn('service-deployment', path),
      serviceArn,
      clusterArn,
      targetServiceRevisionArn: revisionArn,
      status: deployment.status as Ecs.ServiceDeploymentStatus,
      createdAt: startedAt,
      startedAt,
      finishedAt,
    };
    const { targetServiceRevisionArn: arn, ...described } = answer;
    rolling.set(answer.serviceDeploymentArn, { ...described, targetServiceRevision: { arn } });
    return answer;
  }

  function describeServiceRevisions(input: Ecs.DescribeServiceRevisionsCommandInput) {
    const refs = refsOf(input.serviceRevisionArns, 'serviceRevisionArns', 20, 'ARNs');
    const known = (arn: string) => revisions.get(arn) ?? sources.native?.revision(arn);
    return lookUp('serviceRevisions', refs, known, (revision) => revision);
  }

  // --- native deployments (controller ECS, strategy BLUE_GREEN / LINEAR / CANARY) ------------------------
  // The run itself is local/twin/nativeDeployments.ts; here, what the API answers of it.

  function nativeBrief(d: NativeDeployment): Ecs.ServiceDeploymentBrief {
    return {
      serviceDeploymentArn: d.arn,
      serviceArn: d.service.arn,
      clusterArn: world.arn('cluster', d.service.cluster),
      targetServiceRevisionArn: d.targetRevisionArn,
      status: d.status,
      ...(d.statusReason ? { statusReason: d.statusReason } : {}),
      createdAt: d.createdAt,
      startedAt: d.createdAt,
      finishedAt: d.finishedAt,
    };
  }

  function nativeView(d: NativeDeployment): Ecs.ServiceDeployment {
    const tasks = world.runningTasks(d.service.cluster, `service:${d.service.name}`);
    const summary = (arn: string, deployment: typeof d.blue, production: number, test: number) => {
      const own = tasks.filter((t) => t.deploymentId === deployment.id);
      const running = own.filter((t) => t.lastStatus === 'RUNNING').length;
      const live = d.service.deployments.includes(deployment);
      return {
        arn,
        requestedTaskCount: live ? d.service.desiredCount : 0,
        runningTaskCount: running,
        pendingTaskCount: own.length - running,
        requestedProductionTrafficWeight: production,
        requestedTestTrafficWeight: test,
      };
    };
    const alarms = d.settings.alarms;
    return {
      ...nativeBrief(d),
      updatedAt: d.updatedAt,
      ...(d.stoppedAt ? { stoppedAt: d.stoppedAt } : {}),
      sourceServiceRevisions: [summary(d.sourceRevisionArn, d.blue, 100 - d.production, 100 - d.test)],
      targetServiceRevision: summary(d.targetRevisionArn, d.green, d.production, d.test),
      lifecycleStage: d.lifecycleStage as Ecs.ServiceDeploymentLifecycleStage,
      lifecycleHookDetails: d.hookDetails.map((h) => ({ ...h })),
      deploymentConfiguration: nativeConfigurationView(d.settings),
      ...(d.rollback ? { rollback: d.rollback } : {}),
      deploymentCircuitBreaker: { status: 'DISABLED' },
      alarms: alarms?.enable
        ? {
            status:
              d.triggeredAlarms.length > 0
                ? 'TRIGGERED'
                : d.finishedAt
                  ? 'MONITORING_COMPLETE'
                  : 'MONITORING',
            alarmNames: alarms.alarmNames,
            triggeredAlarmNames: d.triggeredAlarms,
          }
        : { status: 'DISABLED' },
    };
  }

  function describeServiceDeployments(input: Ecs.DescribeServiceDeploymentsCommandInput) {
    const refs = refsOf(input.serviceDeploymentArns, 'serviceDeploymentArns', 20, 'ARNs');
    const find = (arn: string) => sources.native?.find(arn) ?? rolling.get(arn);
    const view = (found: NativeDeployment | Ecs.ServiceDeployment) =>
      'settings' in found ? nativeView(found) : found;
    return lookUp('serviceDeployments', refs, find, view);
  }

  /**
   * ROLLBACK (the only stop type the reference lists as valid). The developer guide's "Stopping Amazon ECS
   * service deployments": PENDING or IN_PROGRESS moves to ROLLBACK_REQUESTED; STOP_REQUESTED,
   * ROLLBACK_REQUESTED and ROLLBACK_IN_PROGRESS go on as they were (the stop succeeds, nothing changes).
   * Neither it nor the API reference says what a deployment that has ended gets: the twin answers
   * ConflictException, the reference's error for "conflict in the current state of the resource".
   */
  function stopServiceDeployment(input: Ecs.StopServiceDeploymentCommandInput) {
    const arn = input.serviceDeploymentArn;
    if (!arn) throw invalid('serviceDeploymentArn is required');
    if (input.stopType !== undefined && input.stopType !== 'ROLLBACK')
      throw invalid(`stopType ${input.stopType} is not valid: the valid value is ROLLBACK`);
    const d = sources.native?.find(arn);
    if (!d && rolling.has(arn))
      throw new AwsServiceError('UnsupportedFeatureException', 'The twin stops native deployments only.');
    if (!d)
      throw new AwsServiceError(
        'ServiceDeploymentNotFoundException',
        'The service deployment does not exist.',
      );
    if (d.status === 'PENDING' || d.status === 'IN_PROGRESS') sources.native!.stop(d);
    else if (!STOPPING.has(d.status))
      throw new AwsServiceError(
        'ConflictException',
        `The service deployment is ${d.status} and cannot be stopped.`,
      );
    return { serviceDeploymentArn: d.arn };
  }

  // --- tags -------------------------------------------------------------------------------------------

  /** The tags of a task or service by ARN; anything else is a resource the twin does not have. */
  function tagsOf(resourceArn: string | undefined): Record<string, string> {
    if (!resourceArn) throw invalid('resourceArn is required');
    const tags = (world.tasks.get(resourceArn) ?? world.services.get(resourceArn))?.tags;
    if (!tags)
      throw new AwsServiceError('ResourceNotFoundException', 'The specified resource could not be found.');
    return tags;
  }

  function tagResource(input: Ecs.TagResourceCommandInput) {
    const tags = tagsOf(input.resourceArn);
    const given = input.tags ?? [];
    for (const { key = '', value = '' } of given) {
      if (key.toLowerCase().startsWith('aws:'))
        throw invalid('Tag keys with the aws: prefix are reserved for AWS use.');
      if (key.length === 0 || key.length > 128 || value.length > 256)
        throw invalid('A tag key takes 1 to 128 characters, its value up to 256.');
    }
    if (new Set([...Object.keys(tags), ...given.map((t) => t.key ?? '')]).size > 50)
      throw invalid('A resource takes at most 50 tags.');
    Object.assign(tags, fromTags(given));
    return {};
  }

  function untagResource(input: Ecs.UntagResourceCommandInput) {
    const tags = tagsOf(input.resourceArn);
    for (const key of input.tagKeys ?? []) delete tags[key];
    return {};
  }

  // --- container instances -------------------------------------------------------------------------------

  /**
   * The cluster query language, as far as the adapters use it: `ec2InstanceId == ID` (or `!=`).
   * Without a status every status but INACTIVE is listed; an instance whose agent has not registered is
   * not a container instance yet.
   */
  function listContainerInstances(input: Ecs.ListContainerInstancesCommandInput) {
    const cluster = knownCluster(input.cluster);
    let matches = (_: InstanceState) => true;
    if (input.filter) {
      const parsed = /^\s*ec2InstanceId\s*(==|!=)\s*([\w-]+)\s*$/.exec(input.filter);
      if (!parsed) throw invalid(`The twin does not take this cluster query: ${input.filter}`);
      const [, op, id] = parsed;
      matches = (i) => (i.instanceId === id) === (op === '==');
    }
    const arns = registeredIn(cluster)
      .filter((i) => (!input.status || i.status === input.status) && matches(i))
      .map((i) => i.containerInstanceArn);
    return page('containerInstanceArns', arns, input, 100, 100);
  }

  function describeContainerInstances(input: Ecs.DescribeContainerInstancesCommandInput) {
    const cluster = knownCluster(input.cluster);
    const refs = refsOf(input.containerInstances, 'containerInstances', 100, 'instances');
    return lookUp('containerInstances', refs, (ref) => findInstance(cluster, ref), instanceView);
  }

  /** Only ACTIVE and DRAINING can be set, and only on an instance in one of them (API reference). */
  function updateContainerInstancesState(input: Ecs.UpdateContainerInstancesStateCommandInput) {
    const cluster = knownCluster(input.cluster);
    const refs = refsOf(input.containerInstances, 'containerInstances', 10, 'instances');
    const status = input.status;
    if (status !== 'ACTIVE' && status !== 'DRAINING')
      throw invalid(`Container instances can only be set to ACTIVE or DRAINING, not ${status}`);
    const update = (instance: InstanceState) => {
      world.setInstanceStatus(instance, status);
      return instanceView(instance);
    };
    return lookUp('containerInstances', refs, (ref) => findInstance(cluster, ref), update);
  }

  function instanceView(instance: InstanceState): Ecs.ContainerInstance {
    const tasks = world.tasksOn(instance.instanceId).filter((t) => t.desiredStatus === 'RUNNING');
    const running = tasks.filter((t) => t.lastStatus === 'RUNNING').length;
    const resource = (name: string, value: number) => ({ name, type: 'INTEGER', integerValue: value });
    return {
      containerInstanceArn: instance.containerInstanceArn,
      ec2InstanceId: instance.instanceId,
      status: instance.status,
      agentConnected: instance.status !== 'REGISTERING',
      runningTasksCount: running,
      pendingTasksCount: tasks.length - running,
      registeredResources: [resource('CPU', instance.cpu), resource('MEMORY', instance.memory)],
      remainingResources: [
        resource('CPU', instance.cpu - world.reserved(instance, 'cpu')),
        resource('MEMORY', instance.memory - world.reserved(instance, 'memory')),
      ],
      attributes: [{ name: 'ecs.availability-zone', value: instance.availabilityZone }],
    };
  }

  // --- capacity providers ---------------------------------------------------------------------------------

  /**
   * FARGATE and FARGATE_SPOT, which every account has, and one provider per Auto Scaling group. With
   * names, those (and `failures` for the others); without, every provider, 10 a page by default.
   */
  function describeCapacityProviders(input: Ecs.DescribeCapacityProvidersCommandInput) {
    const provider = (name: string): Ecs.CapacityProvider => ({
      name,
      status: 'ACTIVE',
      capacityProviderArn: world.arn('capacity-provider', name),
    });
    const all: Ecs.CapacityProvider[] = [
      ...['FARGATE', 'FARGATE_SPOT'].map(provider),
      ...[...(sources.autoScalingGroups?.() ?? [])].map(
        (group): Ecs.CapacityProvider => ({
          ...provider(group.name),
          autoScalingGroupProvider: {
            autoScalingGroupArn: autoScalingGroupArn(world, group.name),
            managedScaling: { status: 'DISABLED' },
            managedTerminationProtection: 'DISABLED',
            managedDraining: group.managedDraining ? 'ENABLED' : 'DISABLED',
          },
          ...(input.include?.includes('TAGS') ? { tags: [] } : {}),
        }),
      ),
    ];
    const names = input.capacityProviders;
    if (!names?.length) return { ...page('capacityProviders', all, input, 10, 10), failures: [] };
    if (names.length > 100) throw invalid('capacityProviders takes at most 100 names');
    if (input.maxResults !== undefined) throw invalid('maxResults cannot be used with capacityProviders');
    const named = (ref: string) => all.find((p) => p.name === ref || p.capacityProviderArn === ref);
    return lookUp('capacityProviders', names, named, (provider) => provider);
  }
}

/** A cluster as a short name or ARN; left out, the default cluster. */
export const clusterName = (ref: string | undefined): string => (ref ? lastSegment(ref) : 'default');
const lastSegment = (ref: string) => ref.split('/').pop() ?? ref;
/** A service as `cluster/name`, as the other service commands name it; any other resource by its ARN. */
const resourceName = (arn = '') => /^arn:[^:]*:ecs:[^:]*:[^:]*:service\/(.+)$/.exec(arn)?.[1] ?? arn;
const shortId = (ref: string) => lastSegment(ref).slice(0, 8);

function updateServiceTarget(input: Ecs.UpdateServiceCommandInput): string {
  const changes = [
    input.desiredCount !== undefined ? `desiredCount=${input.desiredCount}` : '',
    input.taskDefinition ? `taskDefinition=${input.taskDefinition}` : '',
    input.forceNewDeployment ? 'forceNewDeployment' : '',
  ].filter(Boolean);
  return [`${clusterName(input.cluster)}/${lastSegment(input.service ?? '')}`, ...changes].join(' ');
}

type Listing = { maxResults?: number; nextToken?: string };

/**
 * One page of a listing, under the answer's `key`. The token is the offset, opaque to the caller as
 * ECS's is; `maxResults` outside 1..limit is refused, as ECS refuses it.
 */
function page<T>(key: string, items: T[], input: Listing, limit: number, fallback: number) {
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
  const nextToken = Buffer.from(`o:${end}`, 'utf8').toString('base64url');
  return { [key]: items.slice(offset, end), ...(end < items.length ? { nextToken } : {}) };
}

/** The refs a describe command was given: 1 to `limit` of them (the API reference's limit). */
function refsOf(refs: string[] | undefined, field: string, limit: number, noun: string): string[] {
  if (!refs?.length || refs.length > limit) throw invalid(`${field} takes 1 to ${limit} ${noun}`);
  return refs;
}

/** A describe command's answer under `key`: the view of each ref found, and `failures` for the others. */
function lookUp<T, V>(
  key: string,
  refs: string[],
  find: (ref: string) => T | undefined,
  view: (found: T, ref: string) => V,
  arnOf = (ref: string) => ref,
) {
  const found: V[] = [];
  const failures: Ecs.Failure[] = [];
  for (const ref of refs) {
    const item = find(ref);
    if (item === undefined) failures.push({ arn: arnOf(ref), reason: 'MISSING' });
    else found.push(view(item, ref));
  }
  return { [key]: found, failures };
}

/** An Auto Scaling group's ARN as AWS writes it (the id part is the twin's own, fixed per name). */
export function autoScalingGroupArn(world: Pick<World, 'region' | 'account'>, name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `arn:aws:autoscaling:${world.region}:${world.account}:autoScalingGroup:${hex}-0000-4000-8000-${hex}0000:autoScalingGroupName/${name}`;
}

const toTags = (tags: Record<string, string>): Ecs.Tag[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));
const fromTags = (tags: Ecs.Tag[] = []) => Object.fromEntries(tags.map((t) => [t.key ?? '', t.value ?? '']));

/** The request as #domain/runTaskLimits checks it. */
function runTaskShape(input: Ecs.RunTaskCommandInput): RunTaskShape {
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
    tags: fromTags(input.tags),
    // The SDK fills in an idempotency token when the caller gives none.
    clientToken: input.clientToken ?? 'sdk-generated',
  };
}

// --- native deployment settings, as UpdateService takes them ---------------------------------------------

// The SDK's own list of the stages, so the twin's validation follows the API and not the hook's copy of it.
const HOOK_STAGES = new Set<string>(Object.values(DeploymentLifecycleHookStage));
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/.+$/;

/** A multiple of 0.1 within min..max (CanaryConfiguration, LinearConfiguration). */
function tenths(value: number, min: number, max: number, field: string): number {
  const whole = Math.round(value * 10);
  if (!(value >= min && value <= max) || Math.abs(value * 10 - whole) > 1e-9)
    throw invalid(`${field} must be a multiple of 0.1 from ${min} to ${max}`);
  return whole / 10;
}

/** Whole minutes, `min` to 1440 (the bake times, a hook's timeout). */
function minutes(value: number, field: string, min = 0): number {
  if (!Number.isInteger(value) || value < min || value > 1440)
    throw invalid(`${field} must be ${min} to 1440 minutes`);
  return value;
}

/**
 * The native settings an UpdateService leaves the service with (undefined: it deploys ROLLING), from the
 * request over the settings it had, or InvalidParameterException for what the API reference refuses
 * (DeploymentConfiguration, CanaryConfiguration, LinearConfiguration, DeploymentLifecycleHook,
 * DeploymentAlarms, AdvancedConfiguration). A scenario's declaration goes through it too.
 */
export function nativeSettingsFrom(
  input: Pick<Ecs.UpdateServiceCommandInput, 'deploymentConfiguration' | 'loadBalancers'>,
  service: Pick<ServiceState, 'deploymentController' | 'strategy'>,
  current: NativeSettings | undefined,
  world: Pick<World, 'targetGroups'>,
): NativeSettings | undefined {
  const config = input.deploymentConfiguration ?? {};
  const strategy = config.strategy ?? current?.strategy ?? service.strategy;
  if (config.canaryConfiguration && strategy !== 'CANARY')
    throw invalid('canaryConfiguration is only valid with the CANARY deployment strategy');
  if (config.linearConfiguration && strategy !== 'LINEAR')
    throw invalid('linearConfiguration is only valid with the LINEAR deployment strategy');
  if (strategy === 'ROLLING') return undefined;
  if (service.deploymentController !== 'ECS')
    throw invalid(`The ${strategy} deployment strategy requires the ECS deployment controller`);
  const canary = config.canaryConfiguration ?? {};
  const linear = config.linearConfiguration ?? {};
  const bake = config.bakeTimeInMinutes ?? current?.bakeTimeInMinutes;
  if (bake === undefined && strategy === 'BLUE_GREEN')
    throw invalid('bakeTimeInMinutes is required with the BLUE_GREEN deployment strategy');
  const hooks = config.lifecycleHooks ?? current?.hooks ?? [];
  for (const hook of hooks) {
    if ((hook.targetType ?? 'AWS_LAMBDA') === 'PAUSE')
      throw new AwsServiceError('UnsupportedFeatureException', 'The twin does not model PAUSE hooks.');
    if (!hook.hookTargetArn || !LAMBDA_ARN.test(hook.hookTargetArn))
      throw invalid('hookTargetArn must be the ARN of a Lambda function');
    if (!hook.roleArn || !ROLE_ARN.test(hook.roleArn))
      throw invalid('roleArn must be the ARN of an IAM role');
    if (!hook.lifecycleStages?.length || hook.lifecycleStages.some((stage) => !HOOK_STAGES.has(stage)))
      throw invalid(`lifecycleStages takes one or more of ${[...HOOK_STAGES].join(', ')}`);
    const timeout = hook.timeoutConfiguration?.timeoutInMinutes;
    if (timeout !== undefined) minutes(timeout, 'timeoutInMinutes', 1);
  }
  const alarms = config.alarms ?? current?.alarms;
  if (
    alarms &&
    (!Array.isArray(alarms.alarmNames) || alarms.enable === undefined || alarms.rollback === undefined)
  )
    throw invalid('alarms takes alarmNames, enable and rollback');
  const given = input.loadBalancers?.find((lb) => lb.advancedConfiguration);
  let loadBalancer = current?.loadBalancer;
  if (given) {
    const advanced = given.advancedConfiguration!;
    const { alternateTargetGroupArn, productionListenerRule, testListenerRule, roleArn } = advanced;
    if (!given.targetGroupArn || !alternateTargetGroupArn || !productionListenerRule || !roleArn)
      throw invalid(
        'advancedConfiguration takes alternateTargetGroupArn, productionListenerRule and roleArn',
      );
    for (const arn of [given.targetGroupArn, alternateTargetGroupArn])
      if (!world.targetGroups.has(arn)) throw invalid(`The target group ${arn} does not exist`);
    if (given.targetGroupArn === alternateTargetGroupArn)
      throw invalid('alternateTargetGroupArn must differ from targetGroupArn');
    loadBalancer = {
      targetGroupArn: given.targetGroupArn,
      alternateTargetGroupArn,
      productionListenerRule,
      ...(testListenerRule ? { testListenerRule } : {}),
    };
  }
  return {
    strategy,
    bakeTimeInMinutes: minutes(bake ?? 0, 'bakeTimeInMinutes'),
    canary: {
      percent: tenths(canary.canaryPercent ?? current?.canary.percent ?? 5, 0.1, 100, 'canaryPercent'),
      bakeMinutes: minutes(
        canary.canaryBakeTimeInMinutes ?? current?.canary.bakeMinutes ?? 10,
        'canaryBakeTimeInMinutes',
      ),
    },
    linear: {
      stepPercent: tenths(linear.stepPercent ?? current?.linear.stepPercent ?? 10, 3, 100, 'stepPercent'),
      stepBakeMinutes: minutes(
        linear.stepBakeTimeInMinutes ?? current?.linear.stepBakeMinutes ?? 6,
        'stepBakeTimeInMinutes',
      ),
    },
    hooks: structuredClone(hooks),
    ...(alarms
      ? {
          alarms: { alarmNames: [...alarms.alarmNames!], enable: alarms.enable!, rollback: alarms.rollback! },
        }
      : {}),
    ...(loadBalancer ? { loadBalancer } : {}),
  };
}

/** The native settings as DescribeServices and DescribeServiceDeployments show them. */
function nativeConfigurationView(settings: NativeSettings | undefined): Ecs.DeploymentConfiguration {
  if (!settings) return {};
  return {
    strategy: settings.strategy,
    bakeTimeInMinutes: settings.bakeTimeInMinutes,
    ...(settings.strategy === 'CANARY'
      ? {
          canaryConfiguration: {
            canaryPercent: settings.canary.percent,
            canaryBakeTimeInMinutes: settings.canary.bakeMinutes,
          },
        }
      : {}),
    ...(settings.strategy === 'LINEAR'
      ? {
          linearConfiguration: {
            stepPercent: settings.linear.stepPercent,
            stepBakeTimeInMinutes: settings.linear.stepBakeMinutes,
          },
        }
      : {}),
    lifecycleHooks: settings.hooks,
    ...(settings.alarms ? { alarms: settings.alarms } : {}),
  };
}
/** A deployment already stopping: another stop goes on as it was. */
const STOPPING = new Set<string>(['STOP_REQUESTED', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS']);
