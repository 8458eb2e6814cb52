// Task recycler router: the buffer's messages (EventBridge's task and service events, the recycler's
// delayed rechecks, the sweep's) handed on to the recycler's FIFO queue, each in its task group's message
// group. SQS then keeps one batch of a group in flight at a time while other groups run beside it, the
// serialisation that reserved concurrency 1 used to give for the whole account at once. An EventBridge
// rule's FIFO target takes one fixed MessageGroupId, and a FIFO queue no per-message delay, hence this hop.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import { routeToTaskGroups } from '#app/routeToTaskGroups';
import { readTaskRecyclerInput } from '#events/taskRecyclerInput';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsRouterDeps, type RouterDeps } from '#wiring/recycler';

export function createTaskRecyclerRouterHandler(deps: () => RouterDeps) {
  return eventStack(async (event: SQSEvent) => {
    // Read with the recycler's own parser, for the group only: what the input means is decided there.
    const messages = event.Records.map((r) => ({
      id: r.messageId,
      body: r.body,
      input: readTaskRecyclerInput(r.body),
    }));
    const failed = await routeToTaskGroups(messages, deps().queue);
    metrics.addMetric('Routed', MetricUnit.Count, messages.length - failed.length);
    if (failed.length > 0) logger.warn('not taken by the task group queue', { failed });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

export const handler = createTaskRecyclerRouterHandler(builtAtColdStart(awsRouterDeps));
