// Every SDK client the AWS wiring of a function builds, whether from the shared set (layers/runtime/clients.ts)
// or on its own (App Mesh, DynamoDB, CloudWatch Logs), has the connection and request timeouts: one
// built without them waits on a silent connection until the Lambda's timeout.

import { CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS, resetAwsClientsForTests } from '#runtime/clients';
import { awsAlarmReactorDeps } from '#wiring/alarmReactor';
import { awsLifecycleDeps } from '#wiring/lifecycle';
import { awsOpsDeps } from '#wiring/ops';
import { awsRecyclerDeps } from '#wiring/recycler';
import { awsRolloutDeps } from '#wiring/rollout';

// Every SDK client of the installed SDK extends the one Client class of @smithy/core/client: record each
// one constructed.
const mockBuilt: unknown[] = [];
jest.mock('@smithy/core/client', () => {
  const actual = jest.requireActual('@smithy/core/client');
  class RecordedClient extends actual.Client {
    constructor(config: unknown) {
      super(config);
      mockBuilt.push(this);
    }
  }
  return { ...actual, Client: RecordedClient };
});

type AnyClient = { config: { requestHandler: unknown; retryMode: unknown } };

const ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine';
const ENV = {
  CLUSTERS: 'apps',
  DRY_RUN: 'false',
  RECHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/rechecks',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dead-letters',
  STATE_MACHINE_ARN: `${ARN}:lifecycle`,
  LIFECYCLE_STATE_MACHINE_ARN: `${ARN}:lifecycle`,
  ROLLOUT_STATE_MACHINE_ARN: `${ARN}:rollout`,
  ROUTE_CLAIMS_TABLE: 'ops-idempotency',
  IDEMPOTENCY_TABLE: 'ops-idempotency',
  ACTION_LOG_GROUPS: '/aws/lambda/taskRecycler',
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  Object.assign(process.env, ENV);
  mockBuilt.length = 0;
  resetAwsClientsForTests();
});
afterEach(() => {
  process.env = saved;
});

describe('the AWS wiring of every function', () => {
  it('builds every SDK client with the connection and request timeouts', async () => {
    // Act: the ports of every function, those of the ops API (which builds the rollouts' too) last
    awsRecyclerDeps();
    awsAlarmReactorDeps();
    awsLifecycleDeps();
    awsRolloutDeps();
    awsOpsDeps();

    // Assess: the shared eight, and the five the rollout and ops wiring make themselves (the ops API's
    // second ECS client sends UpdateService once, without the SDK's retries)
    const clients = mockBuilt as AnyClient[];
    const names = clients.map((client) => client.constructor.name).sort();
    expect(names).toEqual(
      [
        'ApplicationAutoScalingClient',
        'AutoScalingClient',
        'CloudWatchClient',
        'ECSClient',
        'ElasticLoadBalancingV2Client',
        'SFNClient',
        'SNSClient',
        'SQSClient',
        'AppMeshClient',
        'DynamoDBClient',
        'CloudWatchLogsClient',
        'DynamoDBClient',
        'ECSClient',
      ].sort(),
    );
    const attempts = await Promise.all(
      clients
        .filter((client) => client.constructor.name === 'ECSClient')
        .map((client) => (client.config as unknown as { maxAttempts: () => Promise<number> }).maxAttempts()),
    );
    expect(attempts.sort()).toEqual([1, 4]);
    for (const client of clients) {
      const handler = client.config.requestHandler as { configProvider?: Promise<object> };
      expect({ client: client.constructor.name, options: await handler.configProvider }).toMatchObject({
        client: client.constructor.name,
        options: {
          connectionTimeout: CONNECTION_TIMEOUT_MS,
          requestTimeout: REQUEST_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
      });
      expect({ client: client.constructor.name, retryMode: client.config }).toMatchObject({
        client: client.constructor.name,
        retryMode: { retryMode: 'adaptive' },
      });
    }
  });
});
