// Plain data the reflexes reason about. These are the domain's words, not the SDK's: adapters and the
// local twin both translate their world into these shapes, so decisions never see an AWS type.

export type GroupKind = 'service' | 'family';

/** ECS `group`: `service:NAME` for service tasks, `family:NAME` for tasks started by RunTask. */
export interface GroupRef {
  kind: GroupKind;
  name: string;
}

export interface Container {
  name: string;
  exitCode?: number;
  reason?: string;
  /** Host ports matter for bridge/host networking, where the target is instance + host port. */
  bindings?: { containerPort: number; hostPort: number }[];
}

export interface Task {
  taskArn: string;
  clusterArn: string;
  group: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  /** ECS increments this on every change; duplicates share it. */
  version: number;
  startedBy?: string;
  launchType?: string;
  capacityProviderName?: string;
  createdAt?: Date;
  startedAt?: Date;
  stoppedAt?: Date;
  stopCode?: string;
  stoppedReason?: string;
  containers: Container[];
  /** EC2 instance id for bridge/host tasks, so they can be matched to instance targets. */
  ec2InstanceId?: string;
  /** Primary ENI address for awsvpc tasks, so they can be matched to ip targets. */
  privateIp?: string;
  subnetId?: string;
  /** Opaque pass-through for RunTask: the same overrides the original caller gave. */
  overrides?: unknown;
  tags: Record<string, string>;
}

export interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE' | string;
  taskDefinitionArn: string;
  rolloutState?: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | string;
  runningCount: number;
  desiredCount: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface Service {
  serviceName: string;
  serviceArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  /** ECS rolls a failing deployment back by itself only when its deployment circuit breaker is on. */
  circuitBreaker: boolean;
  /**
   * Who deploys the service (DescribeServices `deploymentController.type`): ECS when absent. A service
   * deployed by CODE_DEPLOY or an EXTERNAL controller belongs to that controller.
   */
  deploymentController?: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL' | (string & {});
  /**
   * ECS's native deployment strategy (`deploymentConfiguration.strategy`): ROLLING when absent. While a
   * BLUE_GREEN, LINEAR or CANARY deployment runs, ECS shifts the service's traffic itself.
   */
  deploymentStrategy?: 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY' | (string & {});
  deployments: Deployment[];
  /** Target groups the service registers its own tasks in: ECS replaces tasks that fail these. */
  targetGroupArns: string[];
  tags: Record<string, string>;
}

/** One finished or running deployment of a service, oldest information ECS keeps about what ran. */
export interface DeploymentRecord {
  taskDefinitionArn: string;
  status: string;
  startedAt?: Date;
  finishedAt?: Date;
}

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

export interface Target {
  id: string;
  port?: number;
  state: TargetState;
  reason?: string;
}

export interface TargetGroupHealth {
  targetGroupArn: string;
  targets: Target[];
}

export interface TargetRef {
  id: string;
  port?: number;
}
