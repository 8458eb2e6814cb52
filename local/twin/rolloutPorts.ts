// The progressive rollout's route claims over the twin. Each method makes the AWS calls its adapter makes
// (layers/adapters/aws/dynamoRouteClaims.ts), in the same order, with the same refusals, and each call goes
// through the recorder, so scenarios see the calls and fault injection reaches them. The routers, alarms
// and metrics are the real adapters over the twin's App Mesh, ELBv2 and CloudWatch clients.
import type { recordedCalls } from '#local/twin/ports';
import type { RouteClaims } from '#ports';

type RecordedCall = ReturnType<typeof recordedCalls>;

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
