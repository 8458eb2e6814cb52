// The AWS SDK clients the adapters are built over, each made once per cold start: creating them per
// invocation would throw away their connection pools and the adaptive retry state they learn from
// throttling. A function's wiring (layers/wiring) asks for the clients its ports use and no others, so its
// bundle carries only those (each client class is 10-45 KB of minified code, loaded at every cold start).
import type { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { VPCLatticeClient } from '@aws-sdk/client-vpc-lattice';

export interface AwsClients {
  applicationAutoScaling: ApplicationAutoScalingClient;
  autoScaling: AutoScalingClient;
  cloudWatch: CloudWatchClient;
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  sfn: SFNClient;
  sns: SNSClient;
  sqs: SQSClient;
}

/**
 * Every client a port is built over (layers/wiring); each function's wiring picks the ones it uses. Lambda
 * passes real clients; the twin passes its own, whose answers come from its model.
 */
export interface ReflexClients extends AwsClients {
  appMesh: AppMeshClient;
  dynamoDb: DynamoDBClient;
  cloudWatchLogs: CloudWatchLogsClient;
  /** ECS without the SDK's retries: for writes with no idempotency token, which the adapter re-checks. */
  ecsSingleAttempt: ECSClient;
  vpcLattice: VPCLatticeClient;
}

export interface AwsClientOptions {
  region?: string;
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 4;
/** More attempts than this outlast a Lambda's timeout under adaptive backoff and only delay the failure. */
export const MAX_ATTEMPTS_LIMIT = 10;

/**
 * Without these the SDK waits on a silent connection until the Lambda's timeout: a TCP/TLS connect to a
 * regional endpoint takes milliseconds, and the control-plane calls the reflexes make answer in well under
 * a second, so a connection silent for this long is better retried on a fresh one (each attempt counts).
 */
export const CONNECTION_TIMEOUT_MS = 1_000;
export const REQUEST_TIMEOUT_MS = 3_000;
/** The SDK's backoff before retry n (0-based) is at most base × 2^n, capped at 20 s; throttling's base is 1 s. */
const THROTTLING_BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 20_000;

/**
 * The longest one call can take before the SDK gives up: every attempt runs into its connection and
 * request timeouts, and every wait between them is throttling's longest backoff. With 4 attempts:
 * 4 × (1 + 3) s + (1 + 2 + 4) s = 23 s.
 */
export function worstCallMs(maxAttempts: number): number {
  let backoff = 0;
  for (let retry = 0; retry < maxAttempts - 1; retry++)
    backoff += Math.min(THROTTLING_BACKOFF_BASE_MS * 2 ** retry, BACKOFF_CAP_MS);
  return maxAttempts * (CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS) + backoff;
}

/**
 * The configuration every SDK client of the reflexes is built with, shared or not (the rollout and ops
 * wiring make their App Mesh, DynamoDB and CloudWatch Logs clients with it): the same attempts, adaptive
 * retries and connection and request timeouts for every call to AWS.
 */
export function awsClientConfig(options: AwsClientOptions = {}) {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new RangeError(
      `maxAttempts must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`,
    );
  }
  const region = options.region ?? process.env.AWS_REGION;
  // Adaptive mode adds client-side rate limiting on throttling errors, so a burst of events slows down
  // instead of spending every attempt on ThrottlingException. The endpoint (AWS_ENDPOINT_URL, used
  // locally) is left to the SDK, which reads it on its own.
  return {
    maxAttempts,
    retryMode: 'adaptive',
    // Each command's middleware chain is built once per client, not on every send (nothing here changes a
    // client's middleware after its first call): measured on the twin, 230 -> 140 us a call.
    cacheMiddleware: true,
    // The Node handler's options (@smithy/node-http-handler): a request timeout only throws when asked to.
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...(region ? { region } : {}),
  };
}

/**
 * All eight at once, for the AWS contract suites (test/contracts/aws). A function never calls this: it
 * would put every client class in its bundle; its wiring asks sharedClient for the ones it uses.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const config = awsClientConfig(options);
  return {
    applicationAutoScaling: new ApplicationAutoScalingClient(config),
    autoScaling: new AutoScalingClient(config),
    cloudWatch: new CloudWatchClient(config),
    ecs: new ECSClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
  };
}

type ClientClass<C> = new (config: ReturnType<typeof awsClientConfig>) => C;

const shared = new Map<ClientClass<unknown>, unknown>();

/**
 * This container's client of one class, built on first use with awsClientConfig: the options of the first
 * call win, as every wiring of a function reads them from the same configuration. Two wirings in one
 * function (the alarm reactor's and the rollouts' it aborts) share the client.
 */
export function sharedClient<C>(Client: ClientClass<C>, options?: AwsClientOptions): C {
  let client = shared.get(Client) as C | undefined;
  if (!client) {
    client = new Client(awsClientConfig(options));
    shared.set(Client, client);
  }
  return client;
}

export function resetAwsClientsForTests(): void {
  shared.clear();
}
