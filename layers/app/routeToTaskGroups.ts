// Which message group a message of the recycler's buffer belongs to: the task group it asks about, so
// SQS FIFO serialises the looks at one group and lets every other group proceed.
import { createHash } from 'node:crypto';
import type { TaskRecyclerInput } from '#events/taskRecyclerInput';
import type { TaskGroupQueue } from '#ports';

/** A MessageGroupId is at most 128 characters. */
const MAX_GROUP_ID = 128;
/**
 * Input the recycler will only park or ignore: one group of its own, so it never waits behind a task
 * group's looks nor holds one up.
 */
export const NO_TASK_GROUP = 'no-task-group';

/**
 * `cluster/group`, or its digest when a long cluster and service name make it too long for SQS. The
 * cluster by name: events name it by ARN, the sweep's rechecks by the name configured, and both must
 * land in one group.
 */
export function messageGroupOf(input: TaskRecyclerInput): string {
  if (input.kind !== 'request') return NO_TASK_GROUP;
  const cluster = input.request.cluster.split(':cluster/').pop();
  const key = `${cluster}/${input.request.group}`;
  return key.length <= MAX_GROUP_ID ? key : createHash('sha256').update(key).digest('hex');
}

/** Hands each message on in its task group's message group; answers the ids to retry. */
export function routeToTaskGroups(
  messages: { id: string; body: string; input: TaskRecyclerInput }[],
  queue: TaskGroupQueue,
): Promise<string[]> {
  return queue.enqueue(messages.map(({ id, body, input }) => ({ id, body, group: messageGroupOf(input) })));
}
