// The progressive rollout's route claims and metrics over the twin. Each method makes the AWS calls its
// adapter makes (layers/adapters/aws/dynamoRouteClaims.ts, cloudWatchMetrics.ts), in the same order, with
// the same refusals, and each call goes through the recorder, so scenarios see the calls and fault
// injection reaches them. The routers are the real adapters over the twin's App Mesh and ELBv2 clients.
import { MAX_QUERIES_PER_CALL } from '#adapters/aws/cloudWatchMetrics';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import type { TwinTraffic } from '#local/twin/traffic';
import type { MetricsSource, RouteClaims } from '#ports';
import { InvalidInputError } from '#runtime/errors';

// --- route claims ----------------------------------------------------------------------------------------

/**
 * Route claims as DynamoRouteClaims keeps them (layers/adapters/aws/dynamoRouteClaims.ts): the same calls, the
 * same conditions. A refused conditional put or delete changes nothing and is recorded as the failed call it
 * is in AWS.
 */
export function twinRouteClaims(call: RecordedCall): RouteClaims {
  const holders = new Map<string, string>();
  const holder = (routeKey: string) => call('GetItem', routeKey, false, () => holders.get(routeKey));
  // The condition is checked inside the write, so a put that took effect and then timed out is retried
  // against the world it left (the same run holds it: the retry passes, as in DynamoDB).
  const conditionally = (api: string, routeKey: string, effect: () => void): boolean => {
    try {
      call(api, routeKey, true, effect);
      return true;
    } catch (error) {
      if (error instanceof TwinConditionalCheckFailedError) return false;
      throw error;
    }
  };
  return {
    async claim(routeKey, runId, replacing) {
      const claimed = conditionally('PutItem', routeKey, () => {
        const held = holders.get(routeKey);
        if (held !== undefined && held !== runId && (replacing === undefined || held !== replacing))
          throw new TwinConditionalCheckFailedError('The conditional request failed');
        holders.set(routeKey, runId);
      });
      return claimed ? { claimed: true } : { claimed: false, holder: holder(routeKey) };
    },
    async release(routeKey, runId) {
      // Nobody holds it, or another run does: either way not this run's to let go.
      conditionally('DeleteItem', routeKey, () => {
        if (holders.get(routeKey) !== runId)
          throw new TwinConditionalCheckFailedError('The conditional request failed');
        holders.delete(routeKey);
      });
    },
    async holder(routeKey) {
      return holder(routeKey);
    },
  };
}

/** DynamoDB's answer to a conditional write whose condition does not hold. */
export class TwinConditionalCheckFailedError extends Error {
  override readonly name = 'ConditionalCheckFailedException';
}

// --- metrics -----------------------------------------------------------------------------------------------

const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;

/** GetMetricData over the twin's metric store, batched as the adapter batches it. */
export function twinMetrics(traffic: TwinTraffic, call: RecordedCall): MetricsSource {
  return {
    async query(queries, window) {
      // The adapter refuses what GetMetricData would refuse, before calling: the same here.
      const seen = new Set<string>();
      const issues = queries.flatMap((query, index) => {
        const problem = !QUERY_ID.test(query.id)
          ? `"${query.id}" must start with a lowercase letter, then letters, digits or underscores`
          : seen.has(query.id)
            ? `"${query.id}" is used twice`
            : undefined;
        seen.add(query.id);
        return problem ? [{ path: `queries.${index}.id`, message: problem }] : [];
      });
      if (issues.length > 0)
        throw new InvalidInputError(`metric queries GetMetricData would refuse: ${issues.length}`, issues);
      if (!(window.end.getTime() > window.start.getTime()))
        throw new InvalidInputError('metric window must end after it starts', [
          { path: 'window', message: 'end must be after start' },
        ]);
      const values: Record<string, number | undefined> = Object.fromEntries(
        queries.map((query) => [query.id, undefined]),
      );
      for (let at = 0; at < queries.length; at += MAX_QUERIES_PER_CALL) {
        const batch = queries.slice(at, at + MAX_QUERIES_PER_CALL);
        call('GetMetricData', batch.map((q) => q.id).join(','), false);
        Object.assign(values, traffic.query(batch, window));
      }
      return values;
    },
  };
}
