// The AWS SDK clients every adapter shares, built once per cold start: creating them per invocation would
// throw away their connection pools and the adaptive retry state they learn from throttling.
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

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

export interface AwsClientOptions {
  region?: string;
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 4;
/** More attempts than this outlast a Lambda's timeout under adaptive backoff and only delay the failure. */
export const MAX_ATTEMPTS_LIMIT = 10;

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
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
  const config = { maxAttempts, retryMode: 'adaptive', ...(region ? { region } : {}) };
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

let shared: AwsClients | undefined;

/** The clients of this container; the options of the first call win, as they come from the same config. */
export function awsClients(options?: AwsClientOptions): AwsClients {
  shared ??= createAwsClients(options);
  return shared;
}

export function resetAwsClientsForTests(): void {
  shared = undefined;
}
