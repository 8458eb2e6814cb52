// The simulated cluster's records: task definitions, container instances, tasks, services and their
// deployments, as world.ts keeps them and events.ts and the ECS model read them.
import type * as Ecs from '@aws-sdk/client-ecs';
import type { DeploymentRecord } from '#domain/model';
import type { World } from '#local/twin/world';

type EniType = 'ElasticNetworkInterface' | 'eni';

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

export interface TaskDefinitionState {
  arn: string;
  family: string;
  revision: number;
  cpu: number;
  memory: number;
  networkMode: 'awsvpc' | 'bridge';
  containerName: string;
  containerPort: number;
  behaviour: Behaviour;
}

export interface InstanceState {
  instanceId: string;
  containerInstanceArn: string;
  cluster: string;
  cpu: number;
  memory: number;
  subnetId: string;
  availabilityZone: string;
  /**
   * The container instance's status. REGISTERING stands for "the EC2 instance runs, its ECS agent has not
   * registered yet": ECS does not list it and places nothing on it. Only ACTIVE instances take new tasks.
   */
  status: 'REGISTERING' | 'ACTIVE' | 'DRAINING';
}

/** When the ECS agent of a new instance registers: at once (the default), after a delay, or never. */
export type AgentStart = { delaySeconds: number } | 'never';

type TaskKept = 'group' | 'taskDefinitionArn' | 'version' | 'createdAt' | 'launchType';
type TaskMaybe = 'startedAt' | 'stoppingAt' | 'stoppedAt' | 'stopCode' | 'stoppedReason' | 'startedBy';

/** A task as the world keeps it: ECS's own fields of a task, and what the simulation needs besides. */
export interface TaskState
  extends Required<Pick<Ecs.Task, TaskKept>>,
    Pick<Ecs.Task, TaskMaybe | 'capacityProviderName'> {
  arn: string;
  id: string;
  cluster: string;
  /** `CLUSTER GROUP`: what the world counts a task under, made once (a tick reads it for every task). */
  groupKey: string;
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'DEPROVISIONING' | 'STOPPED';
  desiredStatus: 'RUNNING' | 'STOPPED';
  updatedAt: Date;
  exitCode?: number;
  containerReason?: string;
  instance: InstanceState;
  privateIp?: string;
  hostPort?: number;
  overrides: Ecs.TaskOverride;
  tags: Record<string, string>;
  serviceName?: string;
  deploymentId?: string;
  behaviour: Behaviour;
  /** Target groups an outside registrar puts this standalone task in once it runs. */
  registerIn: string[];
  /** A service task started to take over from this task, which runs on a draining instance. */
  replaces?: string;
}

export interface DeploymentState extends Required<Pick<Ecs.Deployment, 'id' | 'createdAt' | 'updatedAt'>> {
  status: 'PRIMARY' | 'ACTIVE';
  taskDefinitionArn: string;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED';
  /** Where its tasks register, when not the service's target groups (a native deployment's green). */
  targetGroupArns?: string[];
}

export interface ServiceState {
  name: string;
  arn: string;
  cluster: string;
  desiredCount: number;
  maximumPercent: number;
  /** ECS's deployment circuit breaker, with rollback: a deployment that keeps failing is rolled back. */
  circuitBreaker: boolean;
  /** Who deploys it (ECS, CODE_DEPLOY, EXTERNAL) and ECS's native strategy (ROLLING, BLUE_GREEN, …). */
  deploymentController: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
  strategy: 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
  /** Tasks of the current deployment that failed: the circuit breaker's count and the launch backoff's. */
  deploymentFailures: number;
  /**
   * An ECS native deployment (nativeDeployments.ts) drives the service: the old revision's tasks stay until
   * its clean-up, the new one scales to the full count beside them, and it decides when the deployment ends.
   */
  nativeDeploymentInProgress?: boolean;
  targetGroupArns: string[];
  healthCheckGraceSeconds: number;
  deployments: DeploymentState[];
  history: DeploymentRecord[];
  tags: Record<string, string>;
  nextLaunchAt: number;
  lastPlacementEventAt: number;
}

/**
 * A task as ECS describes it, in DescribeTasks and (as its JSON copy: ISO dates, undefined fields left
 * out) in the Task State Change event. Its network interface is an `ElasticNetworkInterface` attachment
 * in the one, an `eni` in the other; a task without an address of its own has none.
 */
export function taskFields(
  task: TaskState,
  td: TaskDefinitionState,
  world: Pick<World, 'arn'>,
  eni: EniType,
) {
  const ports = { containerPort: td.containerPort, hostPort: task.hostPort };
  return {
    taskArn: task.arn,
    clusterArn: world.arn('cluster', task.cluster),
    taskDefinitionArn: task.taskDefinitionArn,
    containerInstanceArn: task.instance.containerInstanceArn,
    group: task.group,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    version: task.version,
    startedBy: task.startedBy,
    launchType: task.launchType,
    capacityProviderName: task.capacityProviderName,
    availabilityZone: task.instance.availabilityZone,
    cpu: String(td.cpu),
    memory: String(td.memory),
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    stoppingAt: task.stoppingAt,
    stoppedAt: task.stoppedAt,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    connectivity: task.lastStatus === 'RUNNING' ? ('CONNECTED' as const) : undefined,
    overrides: task.overrides,
    attachments: task.privateIp
      ? [
          {
            id: task.id,
            type: eni,
            status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
            details: [
              { name: 'subnetId', value: task.instance.subnetId },
              { name: 'networkInterfaceId', value: `eni-${task.id.slice(0, 17)}` },
              { name: 'privateIPv4Address', value: task.privateIp },
            ],
          },
        ]
      : [],
    containers: [
      {
        containerArn: world.arn('container', `${task.cluster}/${task.id}/${td.containerName}`),
        taskArn: task.arn,
        name: td.containerName,
        lastStatus: task.lastStatus,
        exitCode: task.exitCode,
        reason: task.containerReason,
        ...(task.privateIp
          ? {
              networkInterfaces: [
                { attachmentId: `eni-attach-${task.id.slice(0, 8)}`, privateIpv4Address: task.privateIp },
              ],
            }
          : { networkBindings: [{ bindIP: '0.0.0.0', ...ports, protocol: 'tcp' as const }] }),
      },
    ],
  };
}
