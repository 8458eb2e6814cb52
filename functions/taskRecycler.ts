// Task recycler: ECS task and service events, buffered in SQS, each a hint to look at one task group.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  clusterName,
  parseGroup,
  REFLEX,
  type RecycleOutcome,
  type RecycleRequest,
  recycleTaskGroup,
  type TaskVersion,
} from '#app/recycleTaskGroup';
import { TaskVersionLedger } from '#app/taskVersionLedger';
import { type Hint, hintCarriesNews } from '#domain/taskRecycler';
import {
  readTaskRecyclerInput,
  type TaskRecyclerInput,
  type TaskRecyclerRequest,
} from '#events/taskRecyclerInput';
import { boundedJson } from '#runtime/boundedInput';
import { DEFAULT_MAX_ATTEMPTS, worstCallMs } from '#runtime/clients';
import { NoTimeForRecordError } from '#runtime/errors';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
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
  // Task versions whose own event was handled: a redelivery or an older event is dropped.
  const ledger = new TaskVersionLedger();
  // Task versions a successful look read. An event about one of them tells a look nothing new unless its
  // hint does (hintCarriesNews): ECS raises a task's version on every change, so any change since that
  // look arrives as an event with a higher version and is looked at. Kept as long as the ledger, for the
  // same reason: what it forgets only costs a look.
  const seen = new TaskVersionLedger();

  const handleBatch = (event: SQSEvent, context: Context) => {
    const inputs = new Map(event.Records.map((r) => [r.messageId, readTaskRecyclerInput(r.body)]));
    const requests = coalesce ? requestsByGroup(inputs.values()) : new Map<string, RecycleRequest>();
    // One look per group per batch: every record about the group waits for it and shares its outcome,
    // so a failed look fails each of them in the batch response and SQS delivers them all again.
    const looks = new Map<string, Promise<RecycleOutcome>>();

    const handleRecord = async (record: SQSRecord) => {
      const { ports, settings, maxAttempts } = deps();
      const input = inputs.get(record.messageId)!;
      const key = input.kind === 'request' && coalesce ? groupKey(input.request) : undefined;
      const look = key ? looks.get(key) : undefined;
      const left = context.getRemainingTimeInMillis();
      if (!look && left < recordWorstCaseMs(maxAttempts)) {
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
      const { taskVersion, request } = input;
      if (taskVersion && ledger.isStale(taskVersion.taskArn, taskVersion.version)) {
        return logger.debug('duplicate or older task event', { ...taskVersion });
      }
      if (!look && coalesce && taskVersion && alreadySeen(request, taskVersion)) {
        metrics.addMetric('LookSkipped', MetricUnit.Count, 1);
        return logger.debug('task already seen at this version by a look', { ...taskVersion });
      }
      const outcome = await (look ??
        startLook(key, key ? requests.get(key)! : domainRequest(request), ports, settings));
      if (taskVersion) ledger.handled(taskVersion.taskArn, taskVersion.version);
      logger.debug('recycled', { request, outcome });
    };

    const startLook = (
      key: string | undefined,
      request: RecycleRequest,
      ports: RecyclerDeps['ports'],
      settings: RecyclerDeps['settings'],
    ) => {
      const look = recycleTaskGroup(request, ports, settings).then((outcome) => {
        if (coalesce && outcome.status === 'handled')
          for (const task of outcome.observed) seen.handled(task.taskArn, task.version);
        return outcome;
      });
      if (key) looks.set(key, look);
      return look;
    };

    const alreadySeen = (request: TaskRecyclerRequest, taskVersion: TaskVersion): boolean => {
      const group = parseGroup(request.group);
      if (!group || hintCarriesNews(group, domainRequest(request).hint)) return false;
      return seen.isStale(taskVersion.taskArn, taskVersion.version);
    };

    /**
     * The request each group's look gets: the hints of every record about the group that the ledger does
     * not drop, merged, so that each stopped task and placement failure is reported on as before.
     */
    function requestsByGroup(all: Iterable<TaskRecyclerInput>): Map<string, RecycleRequest> {
      const byGroup = new Map<string, RecycleRequest>();
      for (const input of all) {
        if (input.kind !== 'request') continue;
        const { taskVersion, request } = input;
        if (taskVersion && ledger.isStale(taskVersion.taskArn, taskVersion.version)) continue;
        const key = groupKey(request);
        const merged = mergeHints(byGroup.get(key)?.hint, domainRequest(request).hint);
        byGroup.set(key, {
          cluster: request.cluster,
          group: request.group,
          ...(merged ? { hint: merged } : {}),
        });
      }
      return byGroup;
    }

    // One record after another: two events about one group looked at in parallel could both act.
    return processPartialResponse(event, handleRecord, processor, { context, processInParallel: false });
  };

  return eventStack(handleBatch);
}

const groupKey = (request: TaskRecyclerRequest): string => `${clusterName(request.cluster)} ${request.group}`;

/** The edge names the one task whose stop it reports; a look may stand for several. */
const domainRequest = ({ cluster, group, hint }: TaskRecyclerRequest): RecycleRequest => {
  if (!hint) return { cluster, group };
  const { stoppedTaskArn, placementFailure } = hint;
  return {
    cluster,
    group,
    hint: {
      ...(stoppedTaskArn ? { stoppedTaskArns: [stoppedTaskArn] } : {}),
      ...(placementFailure ? { placementFailure } : {}),
    },
  };
};

function mergeHints(a: Hint | undefined, b: Hint | undefined): Hint | undefined {
  if (!a || !b) return a ?? b;
  const stoppedTaskArns = [...new Set([...(a.stoppedTaskArns ?? []), ...(b.stoppedTaskArns ?? [])])];
  const placementFailure = a.placementFailure ?? b.placementFailure;
  return {
    ...(stoppedTaskArns.length > 0 ? { stoppedTaskArns } : {}),
    ...(placementFailure ? { placementFailure } : {}),
  };
}

export const handler = createTaskRecyclerHandler(awsRecyclerDeps);
