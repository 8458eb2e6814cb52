// The ops API's Idempotency-Key records in DynamoDB: one item per key, claimed with a conditional put (the
// first request wins, a key past its day may be taken again), completed with the answer, released after a
// failure worth retrying. `expiresAt` is the table's TTL attribute: DynamoDB deletes expired items
// eventually (within days), so the condition, not the TTL, decides when a key is free.
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Clock, IdempotencyStore, IdempotentRecord } from '#ports';

/** How long a key answers for itself. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long an unfinished claim holds its key: past the ops functions' 29 s timeout. A request that died
 * mid-way (a timeout, a crash) leaves an in-progress item that a retry may take over after this.
 */
export const IN_PROGRESS_LEASE_SECONDS = 60;
/** A key released between the refused put and the read is claimed again, a few times at most. */
const CLAIM_ATTEMPTS = 3;

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly dynamo: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async claim(
    key: string,
    requestHash: string,
  ): Promise<{ claimed: true } | { claimed: false; record: IdempotentRecord }> {
    for (let attempt = 1; ; attempt++) {
      const now = Math.floor(this.clock.now().getTime() / 1000);
      try {
        await this.dynamo.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              pk: { S: key },
              requestHash: { S: requestHash },
              status: { S: 'in-progress' },
              expiresAt: { N: String(now + IDEMPOTENCY_TTL_SECONDS) },
              leaseUntil: { N: String(now + IN_PROGRESS_LEASE_SECONDS) },
            },
            // Free: never claimed, claimed more than a day ago and not yet swept by the TTL, or claimed by
            // a request that never finished (its lease has run out).
            ConditionExpression:
              'attribute_not_exists(pk) OR expiresAt < :now OR (#status = :inProgress AND leaseUntil < :now)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':now': { N: String(now) }, ':inProgress': { S: 'in-progress' } },
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
      }
      const held = await this.dynamo.send(
        new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: key } }, ConsistentRead: true }),
      );
      if (held.Item) return { claimed: false, record: recordOf(held.Item) };
      // Released (or swept) between the put and the read: the key is free again.
      if (attempt >= CLAIM_ATTEMPTS) throw new Error(`idempotency key could not be claimed or read: ${key}`);
    }
  }

  /**
   * Stores the answer on the claimed item. An item that is gone (released, or expired and swept) is not
   * created again half-filled: the answer is simply not kept.
   */
  async complete(key: string, response: { statusCode: number; body: string }): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: key } },
          UpdateExpression: 'SET #status = :done, #statusCode = :statusCode, #body = :body',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status', '#statusCode': 'statusCode', '#body': 'body' },
          ExpressionAttributeValues: {
            ':done': { S: 'done' },
            ':statusCode': { N: String(response.statusCode) },
            ':body': { S: response.body },
          },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
      throw error;
    }
  }

  async release(key: string): Promise<void> {
    await this.dynamo.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: key } } }));
  }
}

function recordOf(item: Record<string, AttributeValue>): IdempotentRecord {
  const statusCode = item.statusCode?.N;
  const body = item.body?.S;
  return {
    requestHash: item.requestHash?.S ?? '',
    status: item.status?.S === 'done' ? 'done' : 'in-progress',
    ...(statusCode !== undefined && body !== undefined
      ? { response: { statusCode: Number(statusCode), body } }
      : {}),
  };
}
