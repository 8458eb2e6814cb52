// Route claims in DynamoDB, on the ops API's table (one item per route, beside the Idempotency-Key items):
// taken with a conditional put, so of two rollouts that claim a route at once exactly one wins and the
// other changes nothing; let go with a conditional delete, so a run never releases a route another holds.
// The items carry no `expiresAt`: the table's TTL never sweeps a claim, and an idempotency key (always
// `<caller ARN>|<key>`) can never collide with the `route-claim#` prefix.
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Clock, RouteClaims } from '#ports';

export const ROUTE_CLAIM_PREFIX = 'route-claim#';

const conditionFailed = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

export class DynamoRouteClaims implements RouteClaims {
  constructor(
    private readonly dynamo: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async claim(
    routeKey: string,
    runId: string,
    replacing?: string,
  ): Promise<{ claimed: true } | { claimed: false; holder: string | undefined }> {
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: `${ROUTE_CLAIM_PREFIX}${routeKey}` },
            holder: { S: runId },
            claimedAt: { S: this.clock.now().toISOString() },
          },
          ConditionExpression: `attribute_not_exists(pk) OR holder = :run${replacing ? ' OR holder = :replacing' : ''}`,
          ExpressionAttributeValues: {
            ':run': { S: runId },
            ...(replacing ? { ':replacing': { S: replacing } } : {}),
          },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
    return { claimed: false, holder: await this.holder(routeKey) };
  }

  async release(routeKey: string, runId: string): Promise<void> {
    try {
      await this.dynamo.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: `${ROUTE_CLAIM_PREFIX}${routeKey}` } },
          ConditionExpression: 'holder = :run',
          ExpressionAttributeValues: { ':run': { S: runId } },
        }),
      );
    } catch (error) {
      // Nobody holds it, or another run does: either way not this run's to let go.
      if (!conditionFailed(error)) throw error;
    }
  }

  async holder(routeKey: string): Promise<string | undefined> {
    const held = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: `${ROUTE_CLAIM_PREFIX}${routeKey}` } },
        ConsistentRead: true,
      }),
    );
    return held.Item?.holder?.S;
  }
}
