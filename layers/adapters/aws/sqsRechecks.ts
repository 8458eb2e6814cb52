// Later looks at a task group as delayed messages on the recycler's own queue.
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { recheckMessage } from '#events/recheck';
import type { Clock, Rechecks } from '#ports';

/** SQS delays a message by at most 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

export class SqsRechecks implements Rechecks {
  private readonly origin: { account?: string; region?: string };

  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    private readonly clock: Clock,
    private readonly idFactory: () => string = randomUUID,
    /**
     * Where the queue is when its URL does not say: the region the client sends to (a queue URL of a
     * custom endpoint, AWS_ENDPOINT_URL, names none, and the envelope would otherwise claim eu-west-1).
     */
    home: { region?: string } = {},
  ) {
    this.origin = { ...(home.region ? { region: home.region } : {}), ...originOf(queueUrl) };
  }

  async recheckAt(cluster: string, group: string, at: Date): Promise<void> {
    const now = this.clock.now();
    const message = recheckMessage({ cluster, group, dueAt: at, now, id: this.idFactory(), ...this.origin });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: delaySeconds(at, now),
      }),
    );
  }
}

/**
 * Clamping a longer wait to 15 minutes is safe: the recycler re-reads the group when the recheck arrives,
 * finds the backoff or grace period still running, and asks for another recheck at the same due time.
 */
export function delaySeconds(at: Date, now: Date): number {
  const seconds = Math.ceil((at.getTime() - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 0), MAX_DELAY_SECONDS);
}

/**
 * The account and region a queue URL names (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`), so the
 * recheck's envelope tells the truth; a local queue URL names neither, and the client's region (when
 * given) or the envelope's defaults stand.
 */
function originOf(queueUrl: string): { account?: string; region?: string } {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    return {};
  }
  const account = url.pathname.split('/')[1];
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1];
  return {
    ...(account && /^\d{12}$/.test(account) ? { account } : {}),
    ...(region ? { region } : {}),
  };
}
