// DynamoDB as the twin answers it (local/twin/aws/dynamodb.ts), through a real SDK client: the adapters'
// items and conditions, and the refusals DynamoDB gives for what they might get wrong.
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoIdempotencyStore } from '#adapters/aws/dynamoIdempotencyStore';
import { DynamoRouteClaims } from '#adapters/aws/dynamoRouteClaims';
import { TwinSendLayer } from '#local/twin/aws/client';
import { dynamoDbModel } from '#local/twin/aws/dynamodb';
import { Faults } from '#local/twin/aws/faults';
import type { ApiCall } from '#local/twin/world';

const START = new Date('2026-11-02T09:00:00.000Z');
const TABLE = 'ops-idempotency';

function aDynamo(clock: { now(): Date } = { now: () => START }) {
  const calls: ApiCall[] = [];
  const layer = new TwinSendLayer({ clock, calls, faults: new Faults(1) });
  return { calls, client: layer.client(DynamoDBClient, dynamoDbModel({ [TABLE]: 'pk' })) };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: Error & { Item?: unknown }) => ({
      name: error.name,
      message: error.message,
      ...(error.Item ? { Item: error.Item } : {}),
    }),
  );

describe('the twin’s DynamoDB', () => {
  it('puts, gets, updates and deletes an item by its key', async () => {
    // Prepare
    const { client } = aDynamo();
    const Key = { pk: { S: 'k' } };

    // Act
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...Key, n: { N: '1' } } }));
    const updated = await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key,
        UpdateExpression: 'SET #s = :s, n = :n',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'done' }, ':n': { N: '2' } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const got = await client.send(new GetItemCommand({ TableName: TABLE, Key, ConsistentRead: true }));
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key }));
    const gone = await client.send(new GetItemCommand({ TableName: TABLE, Key }));

    // Assess
    expect(updated.Attributes).toEqual({ pk: { S: 'k' }, n: { N: '2' }, status: { S: 'done' } });
    expect(got.Item).toEqual({ pk: { S: 'k' }, n: { N: '2' }, status: { S: 'done' } });
    expect(gone.Item).toBeUndefined();
  });

  it('checks conditions with comparisons, functions, AND, OR and parentheses', async () => {
    // Prepare
    const { client } = aDynamo();
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'k' }, n: { N: '10' }, s: { S: 'b' } } }),
    );
    const holds = (ConditionExpression: string, values: Record<string, { N: string } | { S: string }> = {}) =>
      client
        .send(
          new PutItemCommand({
            TableName: TABLE,
            Item: { pk: { S: 'k' }, n: { N: '10' }, s: { S: 'b' } },
            ConditionExpression,
            ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          }),
        )
        .then(
          () => true,
          (error: Error) => {
            if (error.name !== 'ConditionalCheckFailedException') throw error;
            return false;
          },
        );

    // Act
    const answers = [
      await holds('n > :nine', { ':nine': { N: '9' } }),
      await holds('n < :nine', { ':nine': { N: '9' } }),
      await holds('n <= :ten AND s >= :a', { ':ten': { N: '10.0' }, ':a': { S: 'a' } }),
      await holds('attribute_not_exists(pk) OR (s = :b AND n <> :nine)', {
        ':b': { S: 'b' },
        ':nine': { N: '9' },
      }),
      await holds('attribute_exists(missing) OR n = :s', { ':s': { S: '10' } }),
      await holds('attribute_not_exists(missing)'),
    ];

    // Assess: a number never equals a string
    expect(answers).toEqual([true, false, true, true, false, true]);
  });

  it('refuses a failed condition with ConditionalCheckFailedException, with the item when asked', async () => {
    // Prepare
    const { client, calls } = aDynamo();
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'k' }, holder: { S: 'a' } } }));

    // Act
    const failed = await refusal(
      client.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: { pk: { S: 'k' } },
          ConditionExpression: 'holder = :run',
          ExpressionAttributeValues: { ':run': { S: 'b' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

    // Assess
    expect(failed).toEqual({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      Item: { pk: { S: 'k' }, holder: { S: 'a' } },
    });
    expect(calls.at(-1)).toMatchObject({ api: 'DeleteItem', target: `${TABLE} k`, failed: failed?.name });
  });

  it.each([
    ['an expression the twin does not parse', 'size(holder) > :n', { ':n': { N: '1' } }, 'does not support'],
    ['a NOT, which the adapters do not send', 'NOT attribute_exists(pk)', {}, 'does not support NOT'],
    ['a value it does not define', 'holder = :run', {}, 'attribute value used in expression is not defined'],
    ['a value it does not use', 'attribute_not_exists(pk)', { ':run': { S: 'a' } }, 'unused in expressions'],
    ['a reserved word unquoted', 'status = :s', { ':s': { S: 'a' } }, 'reserved keyword'],
    ['a syntax error', 'holder = = :s', { ':s': { S: 'a' } }, 'Syntax error'],
  ])('refuses %s with ValidationException', async (_what, ConditionExpression, values, message) => {
    // Prepare
    const { client } = aDynamo();

    // Act
    const refused = await refusal(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'k' } },
          ConditionExpression,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );

    // Assess
    expect(refused).toMatchObject({ name: 'ValidationException', message: expect.stringContaining(message) });
  });

  it('refuses an unknown table with ResourceNotFoundException and an item without its key with ValidationException', async () => {
    // Prepare
    const { client } = aDynamo();

    // Act
    const noTable = await refusal(
      client.send(new GetItemCommand({ TableName: 'nope', Key: { pk: { S: 'k' } } })),
    );
    const noKey = await refusal(
      client.send(new PutItemCommand({ TableName: TABLE, Item: { a: { S: 'x' } } })),
    );

    // Assess
    expect(noTable?.name).toBe('ResourceNotFoundException');
    expect(noKey).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Missing the key pk'),
    });
  });

  it('refuses an item over 400 KB, whether put whole or grown by an update, and keeps the item as it was', async () => {
    // Prepare: an item exactly at the limit (its names count too; 1000 is one significant digit: 2 bytes)
    const { client } = aDynamo();
    const Key = { pk: { S: 'k' } };
    const count = { n: { N: '1000' } };
    const room = 400 * 1024 - 'pk'.length - 'k'.length - 'n'.length - 2 - 'body'.length;
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { ...Key, ...count, body: { S: 'x'.repeat(room) } } }),
    );
    const grow = (by: string) =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key,
          UpdateExpression: 'SET more = :more',
          ExpressionAttributeValues: { ':more': { S: by } },
        }),
      );

    // Act
    const putOver = await refusal(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...Key, ...count, body: { S: 'x'.repeat(room + 1) } },
        }),
      ),
    );
    const updatedOver = await refusal(grow('y'));
    const got = await client.send(new GetItemCommand({ TableName: TABLE, Key }));

    // Assess
    expect(putOver).toEqual({
      name: 'ValidationException',
      message: 'Item size has exceeded the maximum allowed size',
    });
    expect(updatedOver).toEqual({
      name: 'ValidationException',
      message: 'Item size to update has exceeded the maximum allowed size',
    });
    expect(Object.keys(got.Item ?? {}).sort()).toEqual(['body', 'n', 'pk']);
  });

  it('answers the attributes an update set, before or after, and refuses what a write cannot ask back', async () => {
    // Prepare
    const { client } = aDynamo();
    const Key = { pk: { S: 'k' } };
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { ...Key, n: { N: '1' }, s: { S: 'a' } } }),
    );
    const set = (path: string, n: string, ReturnValues: 'UPDATED_OLD' | 'UPDATED_NEW') =>
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key,
          UpdateExpression: `SET ${path} = :n`,
          ExpressionAttributeValues: { ':n': { N: n } },
          ReturnValues,
        }),
      );

    // Act
    const before = await set('n', '2', 'UPDATED_OLD');
    const after = await set('n', '3', 'UPDATED_NEW');
    const beforeNew = await set('m', '1', 'UPDATED_OLD');
    const deleted = await client.send(
      new DeleteItemCommand({ TableName: TABLE, Key, ReturnValues: 'ALL_OLD' }),
    );
    const putAllNew = await refusal(
      client.send(new PutItemCommand({ TableName: TABLE, Item: Key, ReturnValues: 'ALL_NEW' })),
    );
    const emptyValues = await refusal(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key,
          UpdateExpression: 'SET n = n',
          ExpressionAttributeValues: {},
        }),
      ),
    );

    // Assess
    expect(before.Attributes).toEqual({ n: { N: '1' } });
    expect(after.Attributes).toEqual({ n: { N: '3' } });
    // An attribute the update added had no value before: nothing to answer.
    expect(beforeNew.Attributes).toBeUndefined();
    expect(deleted.Attributes).toEqual({ ...Key, n: { N: '3' }, s: { S: 'a' }, m: { N: '1' } });
    expect(putAllNew).toEqual({ name: 'ValidationException', message: 'Return values set to invalid value' });
    expect(emptyValues).toEqual({
      name: 'ValidationException',
      message: 'ExpressionAttributeValues must not be empty',
    });
  });

  it('lets exactly one of two route claims win, and only the holder release it', async () => {
    // Prepare
    const { client } = aDynamo();
    const claims = new DynamoRouteClaims(client, TABLE, { now: () => START });

    // Act
    const first = await claims.claim('prod/web', 'run-a');
    const second = await claims.claim('prod/web', 'run-b');
    await claims.release('prod/web', 'run-b');
    const held = await claims.holder('prod/web');
    await claims.release('prod/web', 'run-a');

    // Assess
    expect(first).toEqual({ claimed: true });
    expect(second).toEqual({ claimed: false, holder: 'run-a' });
    expect(held).toBe('run-a');
    expect(await claims.holder('prod/web')).toBeUndefined();
  });
});

// The IdempotencyStore contract (test/contracts/storage.contract.ts) runs this adapter over this twin in
// npm test: claims, answers, release, callers kept apart, a day's hold. Here only what it does not say.
describe('DynamoIdempotencyStore over the twin’s DynamoDB', () => {
  const aStore = () => {
    let now = START;
    const clock = { now: () => now };
    const { client } = aDynamo(clock);
    const store = new DynamoIdempotencyStore(client, TABLE, clock);
    return { store, advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)) };
  };

  it('holds a key to the very second of its day from the claim, then lets it be claimed again', async () => {
    // Prepare
    const { store, advance } = aStore();
    await store.claim('alice|k1', 'hash-1');
    await store.complete('alice|k1', { statusCode: 200, body: '{}' });

    // Act
    advance(24 * 60 * 60);
    const atTheDay = await store.claim('alice|k1', 'hash-2');
    advance(1);
    const afterTheDay = await store.claim('alice|k1', 'hash-2');
    const fresh = await store.claim('alice|k1', 'hash-2');

    // Assess
    expect(atTheDay).toMatchObject({ claimed: false, record: { requestHash: 'hash-1', status: 'done' } });
    expect(afterTheDay).toEqual({ claimed: true });
    expect(fresh).toEqual({ claimed: false, record: { requestHash: 'hash-2', status: 'in-progress' } });
  });

  it('hands out copies: changing an answered record changes nothing stored', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');
    await store.complete('alice|k1', { statusCode: 200, body: '{}' });
    const answered = await store.claim('alice|k1', 'hash-1');
    if (answered.claimed) throw new Error('claimed twice');

    // Act
    answered.record.response!.statusCode = 500;
    const again = await store.claim('alice|k1', 'hash-1');

    // Assess
    expect(again).toMatchObject({ record: { response: { statusCode: 200 } } });
  });
});
