// Task recycler: ECS task and service events, buffered in SQS, each a hint to look at one task group.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { REFLEX, recycleTaskGroup } from '#app/recycleTaskGroup';
import { TaskVersionLedger } from '#app/taskVersionLedger';
import { readTaskRecyclerInput } from '#events/taskRecyclerInput';
import { boundedJson } from '#runtime/boundedInput';
import { DEFAULT_MAX_ATTEMPTS, worstCallMs } from '#runtime/clients';
import { NoTimeForRecordError } from '#runtime/errors';
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

export function createTaskRecyclerHandler(deps: () => RecyclerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  const ledger = new TaskVersionLedger();

  const handleRecord = async (record: SQSRecord, context: Context) => {
    const { ports, settings, maxAttempts } = deps();
    const left = context.getRemainingTimeInMillis();
    if (left < recordWorstCaseMs(maxAttempts)) {
      // Handed back untouched: SQS delivers it again once its visibility timeout runs out.
      throw new NoTimeForRecordError(`${left} ms left, less than one record's worst case`);
    }
    metrics.addMetric('InputReceived', MetricUnit.Count, 1);
    const input = readTaskRecyclerInput(record.body);
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
    const { taskVersion } = input;
    if (taskVersion && ledger.isStale(taskVersion.taskArn, taskVersion.version)) {
      return logger.debug('duplicate or older task event', { ...taskVersion });
    }
    const outcome = await recycleTaskGroup(input.request, ports, settings);
    if (taskVersion) ledger.handled(taskVersion.taskArn, taskVersion.version);
    logger.debug('recycled', { request: input.request, outcome });
  };

  // One record after another: two events about one group looked at in parallel could both act.
  return eventStack((event: SQSEvent, context) =>
    processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, {
      context,
      processInParallel: false,
    }),
  );
}

export const handler = createTaskRecyclerHandler(builtAtColdStart(awsRecyclerDeps));
