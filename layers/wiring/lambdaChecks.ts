// Lambda checks (tests before traffic) over a Lambda client of their own: built here for the two functions
// that run them, the rollout step and the deployment hook, and carried by no other bundle.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaTrafficCheck } from '#adapters/aws/lambdaTrafficCheck';
import { MAX_CHECKS_SECONDS } from '#domain/trafficChecks';
import { awsClientConfig, CONNECTION_TIMEOUT_MS } from '#runtime/clients';

/**
 * Not the other clients' settings: the function under test answers when its test is done (up to a check's
 * timeout, not the 3 s of a control-plane call), and a retried Invoke would run the test twice; the
 * error limit tries a failed one again instead.
 */
export function lambdaCheckClient(): LambdaClient {
  return new LambdaClient({
    ...awsClientConfig({ maxAttempts: 1 }),
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: MAX_CHECKS_SECONDS * 1000,
      throwOnRequestTimeout: true,
    },
  });
}

/** Lambda checks over a client: Lambda's (lambdaCheckClient), or the twin's. */
export const lambdaChecksOver = (client: Pick<LambdaClient, 'send'>) => new LambdaTrafficCheck(client);
