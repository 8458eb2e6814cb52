import * as z from 'zod';
import { AwsTimestampSchema, awsEventSchema } from '#events/envelope';

/*
 * Amazon ECS events as delivered by EventBridge (source `aws.ecs`). Every object is loose: AWS says ECS
 * may add event types and fields at any time. Status-like strings stay open (`z.string()`) with the
 * known values exported next to them, so a new ECS status or stop code reaches the domain as data to
 * classify instead of failing the whole event.
 */

export const ECS_SOURCE = 'aws.ecs';

// --- shared pieces -------------------------------------------------------------------------------

/** Stop codes documented for the Task API (TaskStopCode). `stopCode` itself stays an open string. */
export const ECS_STOP_CODES = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
  'InfrastructureHealth',
] as const;
export type KnownEcsStopCode = (typeof ECS_STOP_CODES)[number];

export function isKnownStopCode(code: string | undefined): code is KnownEcsStopCode {
  return code !== undefined && (ECS_STOP_CODES as readonly string[]).includes(code);
}

/** Task and container lifecycle states; `lastStatus` / `desiredStatus` stay open strings. */
export const ECS_TASK_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
  'DELETED',
] as const;
export type KnownEcsTaskStatus = (typeof ECS_TASK_STATUSES)[number];

const KeyValuePairSchema = z.looseObject({ name: z.string(), value: z.string().optional() });

const AttachmentSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  details: z.array(KeyValuePairSchema).optional(),
});

const NetworkBindingSchema = z.looseObject({
  bindIP: z.string().optional(),
  containerPort: z.number().int().optional(),
  hostPort: z.number().int().optional(),
  protocol: z.string().optional(),
});

const NetworkInterfaceSchema = z.looseObject({
  attachmentId: z.string().optional(),
  privateIpv4Address: z.string().optional(),
  ipv6Address: z.string().optional(),
});

export const EcsContainerSchema = z.looseObject({
  containerArn: z.string().optional(),
  name: z.string(),
  lastStatus: z.string(),
  exitCode: z.number().int().optional(),
  reason: z.string().optional(),
  image: z.string().optional(),
  imageDigest: z.string().optional(),
  runtimeId: z.string().optional(),
  taskArn: z.string().optional(),
  healthStatus: z.string().optional(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  networkBindings: z.array(NetworkBindingSchema).optional(),
  networkInterfaces: z.array(NetworkInterfaceSchema).optional(),
});
export type EcsContainer = z.infer<typeof EcsContainerSchema>;

// --- ECS Task State Change -----------------------------------------------------------------------

export const EcsTaskDetailSchema = z.looseObject({
  clusterArn: z.string(),
  taskArn: z.string(),
  taskDefinitionArn: z.string(),
  // `service:NAME` for service tasks, `family:NAME` for standalone ones; see parseEcsGroup.
  group: z.string(),
  lastStatus: z.string(),
  desiredStatus: z.string(),
  // Orders events for one task; duplicates carry the same version.
  version: z.number().int(),
  createdAt: AwsTimestampSchema,
  updatedAt: AwsTimestampSchema,
  startedAt: AwsTimestampSchema.optional(),
  stoppingAt: AwsTimestampSchema.optional(),
  stoppedAt: AwsTimestampSchema.optional(),
  executionStoppedAt: AwsTimestampSchema.optional(),
  pullStartedAt: AwsTimestampSchema.optional(),
  pullStoppedAt: AwsTimestampSchema.optional(),
  connectivity: z.string().optional(),
  connectivityAt: AwsTimestampSchema.optional(),
  stopCode: z.string().optional(),
  stoppedReason: z.string().optional(),
  startedBy: z.string().optional(),
  launchType: z.string().optional(),
  platformVersion: z.string().optional(),
  availabilityZone: z.string().optional(),
  containerInstanceArn: z.string().optional(),
  capacityProviderName: z.string().optional(),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  attachments: z.array(AttachmentSchema).optional(),
  overrides: z.looseObject({}).optional(),
  // ECS documents that task events do not carry health; kept optional in case a future event does.
  healthStatus: z.string().optional(),
  containers: z.array(EcsContainerSchema),
});
export type EcsTaskDetail = z.infer<typeof EcsTaskDetailSchema>;

export const EcsTaskStateChangeSchema = awsEventSchema(
  ECS_SOURCE,
  'ECS Task State Change',
  EcsTaskDetailSchema,
);
export type EcsTaskStateChange = z.infer<typeof EcsTaskStateChangeSchema>;

// --- ECS Service Action --------------------------------------------------------------------------

export const ECS_EVENT_TYPES = ['INFO', 'WARN', 'ERROR'] as const;
const EventTypeSchema = z.enum(ECS_EVENT_TYPES);
export type EcsEventType = z.infer<typeof EventTypeSchema>;

/** Service action event names documented so far; `eventName` stays an open string. */
export const ECS_SERVICE_ACTION_EVENT_NAMES = [
  'SERVICE_STEADY_STATE',
  'TASKSET_STEADY_STATE',
  'CAPACITY_PROVIDER_STEADY_STATE',
  'SERVICE_DESIRED_COUNT_UPDATED',
  'TASKS_STOPPED',
  'SERVICE_DEPLOYMENT_IN_PROGRESS',
  'SERVICE_DEPLOYMENT_COMPLETED',
  'SERVICE_TASK_START_IMPAIRED',
  'SERVICE_DISCOVERY_INSTANCE_UNHEALTHY',
  'VPC_LATTICE_TARGET_UNHEALTHY',
  'SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED',
  'ECS_OPERATION_THROTTLED',
  'SERVICE_DISCOVERY_OPERATION_THROTTLED',
  'SERVICE_TASK_PLACEMENT_FAILURE',
  'SERVICE_TASK_CONFIGURATION_FAILURE',
] as const;
export type KnownEcsServiceActionEventName = (typeof ECS_SERVICE_ACTION_EVENT_NAMES)[number];

export const EcsServiceActionDetailSchema = z.looseObject({
  eventType: EventTypeSchema,
  eventName: z.string(),
  clusterArn: z.string(),
  createdAt: AwsTimestampSchema,
  // For placement failures this is the cause, e.g. `RESOURCE:MEMORY` or `RESOURCE:FARGATE`.
  reason: z.string().optional(),
  capacityProviderArns: z.array(z.string()).optional(),
  desiredCount: z.number().int().optional(),
  taskSetArns: z.array(z.string()).optional(),
  targets: z.array(z.string()).optional(),
});
export type EcsServiceActionDetail = z.infer<typeof EcsServiceActionDetailSchema>;

export const EcsServiceActionSchema = awsEventSchema(
  ECS_SOURCE,
  'ECS Service Action',
  EcsServiceActionDetailSchema,
);
export type EcsServiceAction = z.infer<typeof EcsServiceActionSchema>;

// --- ECS Deployment State Change -----------------------------------------------------------------

export const ECS_DEPLOYMENT_EVENT_NAMES = [
  'SERVICE_DEPLOYMENT_IN_PROGRESS',
  'SERVICE_DEPLOYMENT_COMPLETED',
  'SERVICE_DEPLOYMENT_FAILED',
] as const;

export const EcsDeploymentDetailSchema = z.looseObject({
  eventType: EventTypeSchema,
  eventName: z.enum(ECS_DEPLOYMENT_EVENT_NAMES),
  deploymentId: z.string(),
  updatedAt: AwsTimestampSchema,
  // Tells an initial deployment from a circuit-breaker rollback, which names the target deployment.
  reason: z.string().optional(),
});
export type EcsDeploymentDetail = z.infer<typeof EcsDeploymentDetailSchema>;

export const EcsDeploymentStateChangeSchema = awsEventSchema(
  ECS_SOURCE,
  'ECS Deployment State Change',
  EcsDeploymentDetailSchema,
);
export type EcsDeploymentStateChange = z.infer<typeof EcsDeploymentStateChangeSchema>;

// --- ECS Container Instance State Change ---------------------------------------------------------

const ResourceSchema = z.looseObject({
  name: z.string(),
  type: z.string(),
  integerValue: z.number().optional(),
  doubleValue: z.number().optional(),
  longValue: z.number().optional(),
  stringSetValue: z.array(z.string()).optional(),
});

export const EcsContainerInstanceDetailSchema = z.looseObject({
  clusterArn: z.string(),
  containerInstanceArn: z.string(),
  ec2InstanceId: z.string().optional(),
  // ACTIVE, DRAINING, REGISTERING, DEREGISTERING, INACTIVE, ...: open, like the task statuses.
  status: z.string(),
  statusReason: z.string().optional(),
  agentConnected: z.boolean(),
  version: z.number().int(),
  updatedAt: AwsTimestampSchema.optional(),
  registeredAt: AwsTimestampSchema.optional(),
  capacityProviderName: z.string().optional(),
  runningTasksCount: z.number().int().optional(),
  pendingTasksCount: z.number().int().optional(),
  agentUpdateStatus: z.string().optional(),
  attributes: z.array(KeyValuePairSchema).optional(),
  attachments: z.array(AttachmentSchema).optional(),
  registeredResources: z.array(ResourceSchema).optional(),
  remainingResources: z.array(ResourceSchema).optional(),
  versionInfo: z
    .looseObject({
      agentHash: z.string().optional(),
      agentVersion: z.string().optional(),
      dockerVersion: z.string().optional(),
    })
    .optional(),
});
export type EcsContainerInstanceDetail = z.infer<typeof EcsContainerInstanceDetailSchema>;

export const EcsContainerInstanceStateChangeSchema = awsEventSchema(
  ECS_SOURCE,
  'ECS Container Instance State Change',
  EcsContainerInstanceDetailSchema,
);
export type EcsContainerInstanceStateChange = z.infer<typeof EcsContainerInstanceStateChangeSchema>;

// --- helpers -------------------------------------------------------------------------------------

export type EcsGroup = { kind: 'service' | 'family'; name: string };

/**
 * Splits a task's `group` (`service:web`, `family:batch`). Returns undefined for anything else, so a
 * caller never guesses whether an unknown group is a service (restarting a service task by hand would
 * fight the scheduler).
 */
export function parseEcsGroup(group: string): EcsGroup | undefined {
  const separator = group.indexOf(':');
  if (separator <= 0) return undefined;
  const prefix = group.slice(0, separator);
  const name = group.slice(separator + 1);
  if (name.length === 0) return undefined;
  if (prefix === 'service' || prefix === 'family') return { kind: prefix, name };
  return undefined;
}
