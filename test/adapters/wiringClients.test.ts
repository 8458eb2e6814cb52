// The SDK clients the AWS wiring of each function builds: those its ports use and no others (each class it
// builds is in its bundle and its cold start), and every one with the connection and request timeouts (one
// built without them waits on a silent connection until the Lambda's timeout).

import { CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '#runtime/clients';

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
  ACTION_LOG_GROUPS: 'taskRecycler',
  ACTION_LOG_GROUP_PREFIX: '/aws/lambda/ecs-reflex-dev-',
  NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:notifications',
};

let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  saved = { ...process.env };
  Object.assign(process.env, ENV);
});
afterEach(() => {
  process.env = saved;
});

type Wiring = typeof import('#wiring/recycler') &
  typeof import('#wiring/alarmReactor') &
  typeof import('#wiring/lifecycle') &
  typeof import('#wiring/rollout') &
  typeof import('#wiring/ops');

/** The clients one function's wiring builds, in a module registry of its own (each wiring keeps its deps). */
function clientsBuiltBy(build: (wiring: Wiring) => unknown): AnyClient[] {
  mockBuilt.length = 0;
  jest.isolateModules(() => {
    build({
      ...jest.requireActual('#wiring/recycler'),
      ...jest.requireActual('#wiring/alarmReactor'),
      ...jest.requireActual('#wiring/lifecycle'),
      ...jest.requireActual('#wiring/rollout'),
      ...jest.requireActual('#wiring/ops'),
    });
  });
  return [...mockBuilt] as AnyClient[];
}

const namesOf = (clients: AnyClient[]) => clients.map((client) => client.constructor.name).sort();

describe('the AWS wiring of every function', () => {
  it('builds the clients its ports use, one of each class, and no other', () => {
    // Act / Assess: the ops API's second ECS client sends UpdateService once, without the SDK's retries;
    // the alarm reactor builds the rollouts' ports too (its guard alarms abort rollouts)
    const recycler = ['ECSClient', 'ElasticLoadBalancingV2Client', 'SNSClient', 'SQSClient'];
    const rollout = [
      'AppMeshClient',
      'CloudWatchClient',
      'DynamoDBClient',
      'ECSClient',
      'ElasticLoadBalancingV2Client',
      'SFNClient',
      'SNSClient',
      'VPCLatticeClient',
    ];
    expect(namesOf(clientsBuiltBy((w) => w.awsRecyclerDeps()))).toEqual(recycler);
    expect(namesOf(clientsBuiltBy((w) => w.awsSweepDeps()))).toEqual(['SQSClient']);
    expect(namesOf(clientsBuiltBy((w) => w.awsLifecycleIntakeDeps()))).toEqual(['SFNClient', 'SQSClient']);
    expect(namesOf(clientsBuiltBy((w) => w.awsLifecycleStepDeps()))).toEqual(
      ['AutoScalingClient', 'ECSClient', 'ElasticLoadBalancingV2Client', 'SNSClient'].sort(),
    );
    expect(namesOf(clientsBuiltBy((w) => w.awsRolloutDeps()))).toEqual(rollout);
    expect(namesOf(clientsBuiltBy((w) => w.awsAlarmReactorDeps()))).toEqual(
      [...new Set([...rollout, 'ApplicationAutoScalingClient', 'AutoScalingClient', 'SQSClient'])].sort(),
    );
    // GET /reflexes reads the alarm reactor's tags on groups and the dead-letter queues' depths.
    expect(namesOf(clientsBuiltBy((w) => w.awsOpsDeps()))).toEqual(
      [...rollout, 'AutoScalingClient', 'CloudWatchLogsClient', 'ECSClient', 'SQSClient'].sort(),
    );
  });

  it('builds every SDK client with the connection and request timeouts', async () => {
    // Act: the ports of every function, in one container as the alarm reactor and the ops API build two
    // wirings' ports
    const clients = clientsBuiltBy((w) => {
      w.awsRecyclerDeps();
      w.awsSweepDeps();
      w.awsAlarmReactorDeps();
      w.awsLifecycleIntakeDeps();
      w.awsLifecycleStepDeps();
      w.awsRolloutDeps();
      w.awsOpsDeps();
    });

    // Assess
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
