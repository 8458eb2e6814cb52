// Task recycler: ECS task and service events, buffered in SQS, each a hint to look at one task group.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { REFLEX } from '#app/recycleTaskGroup';
import { type BatchLooks, TaskGroupLooks } from '#app/taskGroupLooks';
import { readTaskRecyclerInput, type TaskRecyclerInput } from '#events/taskRecyclerInput';
import { boundedJson } from '#runtime/boundedInput';
import { DEFAULT_MAX_ATTEMPTS, worstCallMs } from '#runtime/clients';
import { NoTimeForRecordError } from '#runtime/errors';
import { inGroupOrder } from '#runtime/fifoBatch';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsRecyclerDeps, type RecyclerDeps } from '#wiring/recycler';

/**
 * One record's worst case: its slowest call runs through every attempt's timeouts and the longest
 * backoffs (worstCallMs: 23 s with the default 4 attempts), while its other calls (at most a dozen on
 * the longest path: describe, list, history, writes, tags) answer at their usual pace, 2 s together.
 * A record started with less time left than this could be cut off by the Lambda's timeout between two
 * writes; it waits for the next invocation instead.
 */
export const recordWorstCaseMs = (maxAttempts = DEFAULT_MAX_ATTEMPTS) => worstCallMs(maxAttempts) + 2_000;

export interface TaskRecyclerOptions {
  /**
   * Records about one task group in a batch share one look, and a task event that a look has already
   * seen is skipped (true, as deployed). False looks once per record, as before, so the bench can
   * measure what coalescing saves side by side.
   */
  coalesce?: boolean;
}

export function createTaskRecyclerHandler(
  deps: () => RecyclerDeps,
  { coalesce = true }: TaskRecyclerOptions = {},
) {
  const processor = new BatchProcessor(EventType.SQS);
  const looks = new TaskGroupLooks(coalesce);

  const handleRecord = async (
    record: SQSRecord,
    input: TaskRecyclerInput,
    batch: BatchLooks,
    context: Context,
  ) => {
    const { ports, settings, maxAttempts } = deps();
    const need = input.kind === 'request' ? batch.need(input) : undefined;
    const left = context.getRemainingTimeInMillis();
    if (need !== 'shared' && left < recordWorstCaseMs(maxAttempts)) {
      // Handed back untouched: SQS delivers it again once its visibility timeout runs out.
      throw new NoTimeForRecordError(`${left} ms left, less than one record's worst case`);
    }
    metrics.addMetric('InputReceived', MetricUnit.Count, 1);
    if (input.kind === 'rejected') {
      // Never throw here: it could only fail again. Parked with its reason, the batch moves on.
      logger.warn('rejected input', {
        reason: input.reason,
        issues: input.issues,
        messageId: record.messageId,
      });
      metrics.addMetric('RejectedInput', MetricUnit.Count, 1);
      await ports.deadLetters.park(record.body, `${input.reason}: ${boundedJson(input.issues)}`, REFLEX);
      return;
    }
    if (input.kind === 'ignored') return logger.debug('ignored', { why: input.why });
    if (need === 'duplicate') return logger.debug('duplicate or older task event', { ...input.taskVersion });
    if (need === 'seen') {
      metrics.addMetric('LookSkipped', MetricUnit.Count, 1);
      return logger.debug('task already seen at this version by a look', { ...input.taskVersion });
    }
    const outcome = await batch.look(input, ports, settings);
    logger.debug('recycled', { request: input.request, outcome });
  };

  return eventStack((event: SQSEvent, context) => {
    const inputs = new Map(event.Records.map((r) => [r.messageId, readTaskRecyclerInput(r.body)]));
    const batch = looks.batch(inputs.values());
    // One record after another: two events about one group looked at in parallel could both act. The
    // queue is FIFO, a message group per task group: a failed record holds back the rest of its group.
    return processPartialResponse(
      event,
      inGroupOrder((record: SQSRecord) =>
        handleRecord(record, inputs.get(record.messageId)!, batch, context),
      ),
      processor,
      { context, processInParallel: false },
    );
  });
}

export const handler = createTaskRecyclerHandler(builtAtColdStart(awsRecyclerDeps));
