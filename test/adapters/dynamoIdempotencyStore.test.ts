import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoIdempotencyStore, IDEMPOTENCY_TTL_SECONDS } from '#adapters/aws/dynamoIdempotencyStore';

const dynamo = mockClient(DynamoDBClient);

beforeEach(() => dynamo.reset());

const TABLE = 'ecs-reflex-prod-idempotency';
const KEY = 'arn:aws:iam::111122223333:role/deployer|8e0f6a1c';
const NOW = new Date('2026-11-02T09:00:00.400Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const newStore = () =>
  new DynamoIdempotencyStore(dynamo as unknown as DynamoDBClient, TABLE, { now: () => NOW });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('claim', () => {
  it('puts an in-progress item for a day, on condition that the key is free, past its day, or abandoned', async () => {
    // Prepare
    dynamo.on(PutItemCommand).resolves({});

    // Act
    const claim = await newStore().claim(KEY, 'hash-1');

    // Assess
    expect(claim).toEqual({ claimed: true });
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: {
        pk: { S: KEY },
        requestHash: { S: 'hash-1' },
        status: { S: 'in-progress' },
        expiresAt: { N: String(NOW_SECONDS + 24 * 60 * 60) },
        // A request that dies mid-way (a timeout, a crash) holds its key a minute, not a day.
        leaseUntil: { N: String(NOW_SECONDS + 60) },
      },
      ConditionExpression:
        'attribute_not_exists(pk) OR expiresAt < :now OR (#status = :inProgress AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': { N: String(NOW_SECONDS) }, ':inProgress': { S: 'in-progress' } },
    });
    expect(IDEMPOTENCY_TTL_SECONDS).toBe(86_400);
  });

  it('answers the record that holds the key, read consistently, when the put is refused', async () => {
    // Prepare
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({
        Item: {
          pk: { S: KEY },
          requestHash: { S: 'hash-1' },
          status: { S: 'in-progress' },
          expiresAt: { N: String(NOW_SECONDS + 3600) },
        },
      })
      .resolvesOnce({
        Item: {
          pk: { S: KEY },
          requestHash: { S: 'hash-1' },
          status: { S: 'done' },
          statusCode: { N: '202' },
          body: { S: '{"accepted":true}' },
          expiresAt: { N: String(NOW_SECONDS + 3600) },
        },
      });
    const store = newStore();

    // Act
    const running = await store.claim(KEY, 'hash-1');
    const done = await store.claim(KEY, 'hash-2');

    // Assess
    expect(running).toEqual({ claimed: false, record: { requestHash: 'hash-1', status: 'in-progress' } });
    expect(done).toEqual({
      claimed: false,
      record: {
        requestHash: 'hash-1',
        status: 'done',
        response: { statusCode: 202, body: '{"accepted":true}' },
      },
    });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: KEY } },
      ConsistentRead: true,
    });
  });

  it('claims again when the key was released between the refused put and the read', async () => {
    // Prepare
    dynamo.on(PutItemCommand).rejectsOnce(conditionFailed()).resolves({});
    dynamo.on(GetItemCommand).resolves({});

    // Act
    const claim = await newStore().claim(KEY, 'hash-1');

    // Assess
    expect(claim).toEqual({ claimed: true });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 2);
  });

  it('gives up after a few rounds of a key that keeps disappearing', async () => {
    // Prepare
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    dynamo.on(GetItemCommand).resolves({});

    // Act
    const claiming = newStore().claim(KEY, 'hash-1');

    // Assess
    await expect(claiming).rejects.toThrow('could not be claimed');
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 3);
  });

  it('passes other failures on without reading', async () => {
    // Prepare
    dynamo
      .on(PutItemCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const claiming = newStore().claim(KEY, 'hash-1');

    // Assess
    await expect(claiming).rejects.toThrow('Rate exceeded');
    expect(dynamo).not.toHaveReceivedCommand(GetItemCommand);
  });
});

describe('complete and release', () => {
  it('stores the answer on the claimed item, status done', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});

    // Act
    await newStore().complete(KEY, { statusCode: 202, body: '{"accepted":true}' });

    // Assess
    expect(dynamo).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: KEY } },
      UpdateExpression: 'SET #status = :done, #statusCode = :statusCode, #body = :body',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#status': 'status', '#statusCode': 'statusCode', '#body': 'body' },
      ExpressionAttributeValues: {
        ':done': { S: 'done' },
        ':statusCode': { N: '202' },
        ':body': { S: '{"accepted":true}' },
      },
    });
  });

  it('keeps no answer for a key that is gone, and does not fail for it', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());

    // Act
    const completing = newStore().complete(KEY, { statusCode: 200, body: '{}' });

    // Assess
    await expect(completing).resolves.toBeUndefined();
  });

  it('releases a key by deleting its item', async () => {
    // Prepare
    dynamo.on(DeleteItemCommand).resolves({});

    // Act
    await newStore().release(KEY);

    // Assess
    expect(dynamo).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: KEY } },
    });
  });
});
