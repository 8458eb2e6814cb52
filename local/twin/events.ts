// The twin's events in the exact shapes AWS delivers, so they pass through the real rule patterns and
// the real schemas on their way to the real handlers.
import { type DeploymentState, type ServiceState, type TaskState, taskFields } from '#local/twin/state';
import type { World } from '#local/twin/world';

/** The EventBridge envelope every AWS event arrives in, stamped with the twin's clock and ids. */
export function eventEnvelope(
  world: Pick<World, 'account' | 'region' | 'clock' | 'newUuid'>,
  source: string,
  detailType: string,
  resources: string[],
  detail: unknown,
) {
  return {
    version: '0',
    id: world.newUuid(),
    'detail-type': detailType,
    source,
    account: world.account,
    // Whole seconds, as EventBridge stamps events.
    time: `${world.clock.now().toISOString().slice(0, 19)}Z`,
    region: world.region,
    resources,
    detail,
  };
}

const ecsEvent = (world: World, detailType: string, resources: string[], detail: unknown) =>
  eventEnvelope(world, 'aws.ecs', detailType, resources, detail);

/** Fields the event leaves out when the task was given them empty; DescribeTasks answers them as given. */
const ABSENT_WHEN_EMPTY = new Set(['startedBy', 'stopCode', 'stoppedReason', 'capacityProviderName']);

export function taskChange(world: World, task: TaskState) {
  const td = world.taskDefinition(task.taskDefinitionArn);
  const fields = taskFields(task, td, world, 'eni');
  const image = `${world.account}.dkr.ecr.${world.region}.amazonaws.com/${td.family}:${td.revision}`;
  // Built field by field, as JSON carries it, in DescribeTasks' order with the event's own fields before
  // the containers: a storm emits thousands of task events, and copying the task's fields into new
  // objects (rest, spread, then a JSON round trip) cost three times as much.
  const detail: Record<string, unknown> = {};
  for (const key in fields) {
    if (key === 'containers') continue;
    const value = fields[key as keyof typeof fields];
    if (ABSENT_WHEN_EMPTY.has(key) && !value) continue;
    putJson(detail, key, value);
  }
  putJson(detail, 'updatedAt', task.updatedAt);
  putJson(detail, 'executionStoppedAt', task.stoppedAt);
  detail.containers = fields.containers.map((c) => asJson({ ...c, image, reason: c.reason || undefined }));
  return ecsEvent(world, 'ECS Task State Change', [task.arn], detail);
}

/** Sets `key` to the value as JSON carries it; an absent (undefined) value leaves the key out. */
function putJson(target: Record<string, unknown>, key: string, value: unknown): void {
  const json = asJson(value);
  if (json !== undefined) target[key] = json;
}

/**
 * The value as it travels in JSON (times as ISO strings, absent fields left out), as JSON.stringify then
 * JSON.parse give it for what a task event holds (strings, finite numbers, booleans, Dates, plain objects
 * and arrays of them), at a fraction of their cost.
 */
function asJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(asJson);
  const fields: Record<string, unknown> = {};
  for (const key in value) putJson(fields, key, (value as Record<string, unknown>)[key]);
  return fields;
}

export function placementFailure(world: World, service: ServiceState, reason: string) {
  return ecsEvent(world, 'ECS Service Action', [service.arn], {
    eventType: 'ERROR',
    eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
    clusterArn: world.arn('cluster', service.cluster),
    reason,
    createdAt: world.clock.now().toISOString(),
  });
}

export function deploymentCompleted(world: World, service: ServiceState, deployment: DeploymentState) {
  return deploymentStateChange(world, service, deployment.id, {
    eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
    eventType: 'INFO',
    reason: 'ECS deployment completed.',
  });
}

/** An `ECS Deployment State Change`: IN_PROGRESS (a deployment or its rollback), COMPLETED or FAILED. */
export function deploymentStateChange(
  world: World,
  service: ServiceState,
  deploymentId: string,
  change: { eventName: string; eventType: 'INFO' | 'ERROR'; reason: string },
) {
  return ecsEvent(world, 'ECS Deployment State Change', [service.arn], {
    eventType: change.eventType,
    eventName: change.eventName,
    deploymentId,
    updatedAt: world.clock.now().toISOString(),
    reason: change.reason,
  });
}
