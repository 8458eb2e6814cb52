// What the task recycler's buffer queue carries, read at the edge. Three outcomes, never an exception:
// a request for the use case, an event deliberately ignored (a variant we do not act on), or a
// rejection with a reason (input that can never succeed, so it is parked rather than retried).
import type * as z from 'zod';
import { EcsServiceActionSchema, EcsTaskStateChangeSchema } from '#events/ecs';
import { EventBridgeEnvelopeSchema } from '#events/envelope';
import { RECHECK_DETAIL_TYPE, RECHECK_SOURCE, RecheckSchema } from '#events/recheck';
import { checkText } from '#runtime/boundedInput';

export interface TaskRecyclerRequest {
  cluster: string;
  group: string;
  hint?: { stoppedTaskArn?: string; placementFailure?: string };
}

export type TaskRecyclerInput =
  | { kind: 'request'; request: TaskRecyclerRequest; taskVersion?: { taskArn: string; version: number } }
  | { kind: 'ignored'; why: string }
  | { kind: 'rejected'; reason: string; issues: { path: string; message: string }[] };

const PLACEMENT_REASON = /RESOURCE:[A-Z_]+/;

export function readTaskRecyclerInput(body: string): TaskRecyclerInput {
  // Before JSON.parse and zod: a body too large or too deep for them is refused as it is.
  const bounded = checkText(body);
  if (!bounded.ok) return { kind: 'rejected', reason: bounded.reason, issues: [] };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { kind: 'rejected', reason: `body is not JSON: ${(error as Error).message}`, issues: [] };
  }
  const envelope = EventBridgeEnvelopeSchema.safeParse(json);
  if (!envelope.success) return rejected('not an EventBridge event', envelope.error);

  const { source, 'detail-type': detailType } = envelope.data;
  if (source === 'aws.ecs' && detailType === 'ECS Task State Change') return readTaskChange(json);
  if (source === 'aws.ecs' && detailType === 'ECS Service Action') return readServiceAction(json);
  if (source === RECHECK_SOURCE && detailType === RECHECK_DETAIL_TYPE) {
    const recheck = RecheckSchema.safeParse(json);
    if (!recheck.success) return rejected('malformed recheck', recheck.error);
    return {
      kind: 'request',
      request: { cluster: recheck.data.detail.cluster, group: recheck.data.detail.group },
    };
  }
  return { kind: 'ignored', why: `${source} / ${detailType} is not an event the task recycler handles` };
}

function readTaskChange(json: unknown): TaskRecyclerInput {
  const event = EcsTaskStateChangeSchema.safeParse(json);
  if (!event.success) return rejected('malformed ECS Task State Change', event.error);
  const task = event.data.detail;
  const placement = PLACEMENT_REASON.exec(task.stoppedReason ?? '');
  return {
    kind: 'request',
    request: {
      cluster: task.clusterArn,
      group: task.group,
      hint:
        task.lastStatus === 'STOPPED'
          ? { stoppedTaskArn: task.taskArn, ...(placement ? { placementFailure: placement[0] } : {}) }
          : undefined,
    },
    taskVersion: { taskArn: task.taskArn, version: task.version },
  };
}

function readServiceAction(json: unknown): TaskRecyclerInput {
  const event = EcsServiceActionSchema.safeParse(json);
  if (!event.success) return rejected('malformed ECS Service Action', event.error);
  const serviceArn = event.data.resources.find((arn) => arn.includes(':service/'));
  if (!serviceArn)
    return { kind: 'rejected', reason: 'ECS Service Action names no service in resources', issues: [] };
  const { eventName, reason, clusterArn } = event.data.detail;
  const group = `service:${serviceArn.slice(serviceArn.lastIndexOf('/') + 1)}`;
  if (eventName !== 'SERVICE_TASK_PLACEMENT_FAILURE')
    return { kind: 'request', request: { cluster: clusterArn, group } };
  return {
    kind: 'request',
    request: {
      cluster: clusterArn,
      group,
      hint: { placementFailure: reason ?? 'placement failure' },
    },
  };
}

function rejected(reason: string, error: z.ZodError): TaskRecyclerInput {
  return {
    kind: 'rejected',
    reason,
    issues: error.issues
      .slice(0, 10)
      .map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message })),
  };
}
