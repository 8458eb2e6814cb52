// The recycler's FIFO queue, fed by the router: one SendMessageBatch per batch of up to ten messages.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TaskGroupQueue } from '#ports';

/** SendMessageBatch takes ten entries and 256 KiB together (a queue of the default size). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export class SqsTaskGroupQueue implements TaskGroupQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async enqueue(messages: { id: string; body: string; group: string }[]): Promise<string[]> {
    const failed: string[] = [];
    for (const batch of batches(messages)) {
      const answer = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((message, index) => ({
            Id: `m${index}`,
            MessageBody: message.body,
            MessageGroupId: message.group,
            // The buffer's message id: a batch the router retries is not enqueued twice (within SQS's
            // five-minute deduplication window).
            MessageDeduplicationId: message.id,
          })),
        }),
      );
      for (const entry of answer.Failed ?? []) failed.push(batch[Number(entry.Id?.slice(1))]!.id);
    }
    return failed;
  }
}

function batches<T extends { body: string }>(messages: T[]): T[][] {
  const out: T[][] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body);
    const last = out.at(-1);
    if (last && last.length < MAX_ENTRIES && bytes + size <= MAX_BATCH_BYTES) {
      last.push(message);
      bytes += size;
    } else {
      out.push([message]);
      bytes = size;
    }
  }
  return out;
}
