// Service operations over ECS for the ops API: listing a cluster's services and a rolling restart. Kept
// apart from EcsServiceControl so that the reflexes' roles do not carry what only operators use.
import {
  DescribeServicesCommand,
  type ECSClient,
  ListServicesCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { ServiceOperations } from '#ports';

/** Throttling: AWS refused the request before doing anything, so sending it again is always safe. */
export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.$metadata?.httpStatusCode === 429 ||
    ['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'].includes(e?.name ?? '')
  );
}

/**
 * An error after which the request may or may not have taken effect: a timeout, a 5xx, a dropped
 * connection. Only the world can tell; any other error is AWS's refusal and means nothing was done.
 */
export function isAnswerLost(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    (e?.$metadata?.httpStatusCode ?? 0) >= 500 ||
    ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ServerException'].includes(
      e?.name ?? '',
    ) ||
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e?.code ?? '')
  );
}

export interface ConfirmedWrite {
  /** One attempt of the command, without the SDK's own retries. */
  send(): Promise<void>;
  /** Whether the world shows the command's effect (read again after an answer was lost). */
  tookEffect(): Promise<boolean>;
  attempts: number;
  /** The wait before retry n (0-based). */
  pause(retry: number, throttled: boolean): Promise<void>;
}

/**
 * A write that has no idempotency token, sent so that it takes effect once: throttling is retried (it
 * did nothing); after a lost answer the world is read first, and the command is sent again only when it
 * shows no effect. A refusal is thrown at once, and the last error when the attempts run out.
 */
export async function writeConfirmed(write: ConfirmedWrite): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write.send();
      return;
    } catch (error) {
      const throttled = isThrottling(error);
      if (!throttled && !isAnswerLost(error)) throw error;
      if (!throttled && (await write.tookEffect())) return;
      if (attempt >= write.attempts) throw error;
      await write.pause(attempt - 1, throttled);
    }
  }
}

/** Like the SDK's: exponential with full jitter, from 1 s for throttling and 100 ms otherwise, capped at 20 s. */
const backoff = (retry: number, throttled: boolean) =>
  new Promise<void>((resolve) =>
    setTimeout(resolve, Math.random() * Math.min((throttled ? 1_000 : 100) * 2 ** retry, 20_000)),
  );

export interface ServiceOperationsOptions {
  /**
   * The client for writes without an idempotency token, built with maxAttempts 1: its retries would
   * repeat a command that took effect before its answer was lost. Defaults to the reading client.
   */
  once?: Pick<ECSClient, 'send'>;
  /** Attempts of such a write, confirmations between them. */
  attempts?: number;
  pause?: (retry: number, throttled: boolean) => Promise<void>;
}

export class EcsServiceOperations implements ServiceOperations {
  private readonly once: Pick<ECSClient, 'send'>;
  private readonly attempts: number;
  private readonly pause: (retry: number, throttled: boolean) => Promise<void>;

  constructor(
    private readonly ecs: Pick<ECSClient, 'send'>,
    options: ServiceOperationsOptions = {},
  ) {
    this.once = options.once ?? ecs;
    this.attempts = options.attempts ?? 4;
    this.pause = options.pause ?? backoff;
  }

  async listServices(cluster: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(new ListServicesCommand({ cluster, nextToken, maxResults: 100 }));
      names.push(...(page.serviceArns ?? []).map((arn) => arn.split('/').pop() ?? arn));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  /**
   * UpdateService has no client token: a retry after a lost answer would start a second deployment. The
   * PRIMARY deployment is read before; after a lost answer, a different PRIMARY is this request's.
   */
  async forceNewDeployment(cluster: string, serviceName: string): Promise<void> {
    const before = await this.primaryDeployment(cluster, serviceName);
    await writeConfirmed({
      send: async () => {
        await this.once.send(
          new UpdateServiceCommand({ cluster, service: serviceName, forceNewDeployment: true }),
        );
      },
      tookEffect: async () => (await this.primaryDeployment(cluster, serviceName)) !== before,
      attempts: this.attempts,
      pause: this.pause,
    });
  }

  private async primaryDeployment(cluster: string, serviceName: string): Promise<string | undefined> {
    const output = await this.ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }));
    return output.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  }
}
