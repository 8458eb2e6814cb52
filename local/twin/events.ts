// The twin's events in the exact shapes AWS delivers, so they pass through the real rule patterns and
// the real schemas on their way to the real handlers.
import type { DeploymentState, ServiceState, TaskState, World } from '#local/twin/world';

/** How a task of a given definition behaves once started; a scenario can change it over time. */
export interface Behaviour {
  startSeconds: number;
  /** Essential container exits this long after RUNNING. */
  crashAfterSeconds?: number;
  exitCode?: number;
  /** The crash is the kernel's OOM killer: exit 137 and ECS's OutOfMemoryError reason. */
  oom?: boolean;
  /** A batch task that finishes its work and exits 0. */
  completeAfterSeconds?: number;
  imagePullFails?: boolean;
  /** Passes load balancer health checks. */
  healthy: boolean;
}

/** The EventBridge envelope every AWS event arrives in, stamped with the twin's clock and ids. */
export function eventEnvelope(
  world: Pick<World, 'account' | 'region' | 'clock' | 'newId'>,
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
  constructor(private readonly world: World) {}

  private envelope(detailType: string, resources: string[], detail: unknown) {
    return eventEnvelope(this.world, 'aws.ecs', detailType, resources, detail);
  }

  taskChange(task: TaskState) {
    const td = this.world.taskDefinition(task.taskDefinitionArn);
    const iso = (d?: Date) => d?.toISOString();
    const container = {
      containerArn: this.world.arn('container', `${task.cluster}/${task.id}/${td.containerName}`),
      name: td.containerName,
      lastStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : task.lastStatus,
      taskArn: task.arn,
      image: `${this.world.account}.dkr.ecr.${this.world.region}.amazonaws.com/${td.family}:${td.revision}`,
      ...(task.exitCode !== undefined ? { exitCode: task.exitCode } : {}),
      ...(task.containerReason ? { reason: task.containerReason } : {}),
      ...(task.privateIp
        ? {
            networkInterfaces: [
              { attachmentId: `eni-attach-${task.id.slice(0, 8)}`, privateIpv4Address: task.privateIp },
            ],
          }
        : {
            networkBindings: [
              {
                bindIP: '0.0.0.0',
                containerPort: td.containerPort,
                hostPort: task.hostPort,
                protocol: 'tcp',
              },
            ],
          }),
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
      ...(task.startedAt ? { startedAt: iso(task.startedAt) } : {}),
      ...(task.stoppingAt ? { stoppingAt: iso(task.stoppingAt) } : {}),
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
      attachments: task.privateIp
        ? [
            {
              id: task.id,
              type: 'eni',
              status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
              details: [
                { name: 'subnetId', value: task.instance.subnetId },
                { name: 'networkInterfaceId', value: `eni-${task.id.slice(0, 17)}` },
                { name: 'privateIPv4Address', value: task.privateIp },
              ],
            },
          ]
        : [],
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
