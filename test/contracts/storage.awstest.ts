// The storage contract on AWS: the idempotency table as infra/opsApi.yml declares it (hash key `pk`,
// on-demand, TTL on `expiresAt`, encrypted with the AWS managed key), and two log groups standing for two
// functions' logs, holding the journal's lines as Lambda would. All deleted afterwards.
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CloudWatchLogsActionHistory } from '#adapters/aws/cloudWatchLogsActionHistory';
import { DynamoIdempotencyStore } from '#adapters/aws/dynamoIdempotencyStore';
import { DynamoRouteClaims } from '#adapters/aws/dynamoRouteClaims';
import { journalLines } from '../support/journalLines';
import { AwsContractContext, CONTRACT_TAG, describeOnAws } from './aws/context';
import { storageContract } from './storage.contract';

describeOnAws('Ops storage ports on AWS', () => {
  const aws = new AwsContractContext();
  const sdk = { maxAttempts: 6, retryMode: 'adaptive' } as const;
  const dynamo = new DynamoDBClient(sdk);
  const logs = new CloudWatchLogsClient(sdk);
  const tableName = aws.name('ops-idempotency');
  const logGroupNames = [aws.name('taskRecycler'), aws.name('alarmReactor')];
  const LOG_STREAM = '2026/01/01/[$LATEST]contract';
  afterAll(() => aws.cleanup());

  storageContract(() => {
    // The store's clock: real time, moved on by `later` so that a lease and a day can run out at once.
    let offsetMs = 0;
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    return {
      idempotency: new DynamoIdempotencyStore(dynamo, tableName, clock),
      claims: new DynamoRouteClaims(dynamo, tableName, clock),
      later: async (seconds) => {
        offsetMs += seconds * 1000;
      },
      actions: new CloudWatchLogsActionHistory(
        logs,
        logGroupNames.map((logGroupName) => ({ logGroupName })),
      ),
      journal: async (entries) => {
        const start = Date.now() - (entries.length - 1) * 10_000;
        const written = entries.map((_, i) => new Date(start + i * 10_000));
        // One function's log holds every other entry, so reading merges two groups.
        for (const [g, logGroupName] of logGroupNames.entries()) {
          const logEvents = entries.flatMap((entry, i) =>
            i % logGroupNames.length === g
              ? journalLines(entry).map((message) => ({ timestamp: written[i]!.getTime(), message }))
              : [],
          );
          const put = await logs.send(
            new PutLogEventsCommand({ logGroupName, logStreamName: LOG_STREAM, logEvents }),
          );
          if (put.rejectedLogEventsInfo)
            throw new Error(
              `CloudWatch Logs refused journal lines: ${JSON.stringify(put.rejectedLogEventsInfo)}`,
            );
        }
        return written;
      },
      // Log events become searchable a few seconds after PutLogEvents.
      eventually: (read, ok) => aws.eventually(read, ok, 120),
      given: async () => {
        await dynamo.send(
          new CreateTableCommand({
            TableName: tableName,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            SSESpecification: { Enabled: true, SSEType: 'KMS' },
            Tags: aws.tags().map(({ key, value }) => ({ Key: key, Value: value })),
          }),
        );
        // A table still CREATING cannot be deleted: retry until it can.
        aws.defer(`table ${tableName}`, () =>
          aws.retrying(() => dynamo.send(new DeleteTableCommand({ TableName: tableName }))),
        );
        await waitUntilTableExists({ client: dynamo, maxWaitTime: 300 }, { TableName: tableName });
        await dynamo.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          }),
        );
        for (const logGroupName of logGroupNames) {
          await logs.send(new CreateLogGroupCommand({ logGroupName, tags: { [CONTRACT_TAG]: aws.prefix } }));
          aws.defer(`log group ${logGroupName}`, () =>
            logs.send(new DeleteLogGroupCommand({ logGroupName })),
          );
          await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: LOG_STREAM }));
        }
      },
    };
  });
});
