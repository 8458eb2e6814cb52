// The twin's events in the exact shapes AWS delivers, so they pass through the real rule patterns and
// the real schemas on their way to the real handlers.
import {
  containerOf,
  type DeploymentState,
  eniAttachments,
  type ServiceState,
  type TaskDefinitionState,
  type TaskState,
} from '#local/twin/state';

export type { Behaviour } from '#local/twin/state';

/** What the events read of the world: its account, clock and ids, and the task definitions. */
export interface EventSource {
  readonly account: string;
  readonly region: string;
  readonly clock: { now(): Date };
  newId(): string;
  arn(kind: string, path: string): string;
  taskDefinition(ref: string): TaskDefinitionState;
}

/** The EventBridge envelope every AWS event arrives in, stamped with the twin's clock and ids. */
export function eventEnvelope(
  world: Pick<EventSource, 'account' | 'region' | 'clock' | 'newId'>,
  source: string,
  detailType: string,
  resources: string[],
  detail: unknown,
) {
  const id = world.newId();
  return {
    version: '0',
    id: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
    'detail-type': detailType,
    source,
    account: world.account,
    time: world.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    region: world.region,
    resources,
    detail,
  };
}

export class TwinEvents {
  constructor(private readonly world: EventSource) {}

  private envelope(detailType: string, resources: string[], detail: unknown) {
    return eventEnvelope(this.world, 'aws.ecs', detailType, resources, detail);
  }

  taskChange(task: TaskState) {
    const td = this.world.taskDefinition(task.taskDefinitionArn);
    const iso = (d?: Date) => d?.toISOString();
    const container = {
      ...containerOf(task, td, this.world),
      image: `${this.world.account}.dkr.ecr.${this.world.region}.amazonaws.com/${td.family}:${td.revision}`,
    };
    const detail = {
      clusterArn: this.world.arn('cluster', task.cluster),
      taskArn: task.arn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: task.group,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      version: task.version,
      createdAt: iso(task.createdAt),
      updatedAt: iso(task.updatedAt),
      // Undefined fields leave with the JSON copy below, as AWS leaves out what a task does not have yet.
      startedAt: iso(task.startedAt),
      stoppingAt: iso(task.stoppingAt),
      ...(task.stoppedAt ? { stoppedAt: iso(task.stoppedAt), executionStoppedAt: iso(task.stoppedAt) } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      launchType: task.launchType,
      ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
      availabilityZone: task.instance.availabilityZone,
      containerInstanceArn: task.instance.containerInstanceArn,
      cpu: String(td.cpu),
      memory: String(td.memory),
      connectivity: task.lastStatus === 'RUNNING' ? 'CONNECTED' : undefined,
      attachments: eniAttachments(task, 'eni'),
      overrides: task.overrides ?? { containerOverrides: [] },
      containers: [container],
    };
    return this.envelope('ECS Task State Change', [task.arn], JSON.parse(JSON.stringify(detail)));
  }

  placementFailure(service: ServiceState, reason: string) {
    return this.envelope('ECS Service Action', [service.arn], {
      eventType: 'ERROR',
      eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
      clusterArn: this.world.arn('cluster', service.cluster),
      reason,
      createdAt: this.world.clock.now().toISOString(),
    });
  }

  deploymentCompleted(service: ServiceState, deployment: DeploymentState) {
    return this.envelope('ECS Deployment State Change', [service.arn], {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      deploymentId: deployment.id,
      updatedAt: this.world.clock.now().toISOString(),
      reason: 'ECS deployment completed.',
    });
  }
}
