import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoRouteClaims } from '#adapters/aws/dynamoRouteClaims';

const dynamo = mockClient(DynamoDBClient);

beforeEach(() => dynamo.reset());

const TABLE = 'ecs-reflex-prod-ops-idempotency';
const ROUTE = 'appmesh:shop/web/web';
const NOW = new Date('2026-11-02T09:00:00.400Z');
const claims = () => new DynamoRouteClaims(dynamo as unknown as DynamoDBClient, TABLE, { now: () => NOW });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('claim', () => {
  it('puts the holder on condition that nobody else holds the route, with no TTL attribute', async () => {
    // Prepare
    dynamo.on(PutItemCommand).resolves({});

    // Act
    const claim = await claims().claim(ROUTE, 'web-1');

    // Assess
    expect(claim).toEqual({ claimed: true });
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: TABLE,
      Item: {
        pk: { S: `route-claim#${ROUTE}` },
        holder: { S: 'web-1' },
        claimedAt: { S: NOW.toISOString() },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR holder = :run',
      ExpressionAttributeValues: { ':run': { S: 'web-1' } },
    });
  });

  it('replaces an ended holder only as it was read', async () => {
    dynamo.on(PutItemCommand).resolves({});
    await claims().claim(ROUTE, 'web-2', 'web-1');
    expect(dynamo).toHaveReceivedCommandWith(PutItemCommand, {
      ConditionExpression: 'attribute_not_exists(pk) OR holder = :run OR holder = :replacing',
      ExpressionAttributeValues: { ':run': { S: 'web-2' }, ':replacing': { S: 'web-1' } },
    });
  });

  it('answers the holder that kept the route when the condition fails, writing nothing else', async () => {
    // Prepare
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: { pk: { S: `route-claim#${ROUTE}` }, holder: { S: 'web-1' } } });

    // Act
    const claim = await claims().claim(ROUTE, 'web-2');

    // Assess
    expect(claim).toEqual({ claimed: false, holder: 'web-1' });
    expect(dynamo).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: `route-claim#${ROUTE}` } },
      ConsistentRead: true,
    });
    expect(dynamo).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(dynamo).not.toHaveReceivedCommand(DeleteItemCommand);
  });

  it('throws any other error (throttling is the client retry strategy’s)', async () => {
    dynamo.on(PutItemCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(claims().claim(ROUTE, 'web-1')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('release', () => {
  it('deletes the claim on condition that the run holds it, and takes a failed condition as done', async () => {
    // Prepare
    dynamo.on(DeleteItemCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

    // Act
    await claims().release(ROUTE, 'web-1');
    await claims().release(ROUTE, 'web-1');

    // Assess
    expect(dynamo).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: TABLE,
      Key: { pk: { S: `route-claim#${ROUTE}` } },
      ConditionExpression: 'holder = :run',
      ExpressionAttributeValues: { ':run': { S: 'web-1' } },
    });
    expect(dynamo).toHaveReceivedCommandTimes(DeleteItemCommand, 2);
  });
});

describe('holder', () => {
  it('reads the holder consistently, and none for a route nobody holds', async () => {
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({ Item: { holder: { S: 'web-1' } } })
      .resolvesOnce({});
    expect([await claims().holder(ROUTE), await claims().holder(ROUTE)]).toEqual(['web-1', undefined]);
  });
});
