// The twin's FIFO queue as Lambda's event source meets it: a message group's messages reach the function
// one batch at a time and in order, other groups' batches run beside it up to the concurrency; and the
// SQS API in front of it refuses what SQS refuses on a FIFO queue.
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { TwinSendLayer } from '#local/twin/aws/client';
import { Faults } from '#local/twin/aws/faults';
import { queueUrl, sqsModel } from '#local/twin/aws/sqs';
import { type SqsHandler, TwinQueue } from '#local/twin/delivery';
import { VirtualScheduler } from '#local/twin/scheduler';
import { Timeline } from '#local/twin/timeline';

const HOME = { account: '111122223333', region: 'eu-west-1' };
const START = new Date('2026-11-02T09:00:00Z');

/** A FIFO queue whose function takes 5 virtual seconds per batch, and what it saw when. */
function aFifoQueue(concurrency: number) {
  const clock = new VirtualScheduler(START);
  const seen: { body: string; group?: string; at: number }[] = [];
  const handler = Object.assign(
    async (event: SQSEvent) => {
      for (const r of event.Records)
        seen.push({ body: r.body, group: r.attributes.MessageGroupId, at: clock.elapsedSeconds() });
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return { batchItemFailures: [] };
    },
    { functionName: 'consumer' },
  ) as SqsHandler;
  const delivery = { clock, timeline: new Timeline(() => clock.elapsedSeconds()), deadLetters: [] };
  const queue = new TwinQueue(
    'groups.fifo',
    { visibilityTimeoutSeconds: 180, maxReceiveCount: 10, batchSize: 1, concurrency, fifo: true },
    handler,
    delivery,
  );
  const layer = new TwinSendLayer({ clock, calls: [], faults: new Faults(1) });
  const sqs = layer.client(SQSClient, sqsModel(new Map([[queueUrl(HOME, queue.name), queue]])));
  return { clock, queue, sqs, seen, url: queueUrl(HOME, queue.name) };
}

describe('the twin’s FIFO queue', () => {
  it('hands a group its messages one batch at a time, in order, while other groups run beside it', async () => {
    // Prepare
    const { clock, sqs, seen, url } = aFifoQueue(3);
    const sent = [
      ['a-1', 'a'],
      ['a-2', 'a'],
      ['b-1', 'b'],
      ['c-1', 'c'],
      ['d-1', 'd'],
    ];

    // Act
    await clock.runUntilSettled('send', async () => {
      for (const [body, group] of sent)
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: body,
            MessageGroupId: group,
            MessageDeduplicationId: body,
          }),
        );
    });
    await clock.runUntil(new Date(START.getTime() + 60_000));

    // Assess: three at once (the concurrency); a-2 only once a-1 is done, d-1 once a poller is free.
    expect(seen).toEqual([
      { body: 'a-1', group: 'a', at: 1 },
      { body: 'b-1', group: 'b', at: 1 },
      { body: 'c-1', group: 'c', at: 1 },
      { body: 'a-2', group: 'a', at: 6 },
      { body: 'd-1', group: 'd', at: 6 },
    ]);
  });

  it('drops a message sent again with the same deduplication id', async () => {
    // Prepare
    const { clock, sqs, seen, url } = aFifoQueue(1);
    const message = {
      QueueUrl: url,
      MessageBody: 'once',
      MessageGroupId: 'a',
      MessageDeduplicationId: 'm-1',
    };

    // Act
    await clock.runUntilSettled('send twice', async () => {
      await sqs.send(new SendMessageCommand(message));
      await sqs.send(new SendMessageCommand(message));
    });
    await clock.runUntil(new Date(START.getTime() + 60_000));

    // Assess
    expect(seen.map((s) => s.body)).toEqual(['once']);
  });

  it('refuses a message of its own delay, one without a group, and one without a deduplication id', async () => {
    // Prepare
    const { clock, sqs, url } = aFifoQueue(1);
    const base = { QueueUrl: url, MessageBody: 'x', MessageGroupId: 'a', MessageDeduplicationId: 'm' };
    const refusal = (input: object) =>
      clock.runUntilSettled('send', () =>
        sqs.send(new SendMessageCommand({ ...base, ...input })).then(
          () => 'sent',
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      );

    // Act
    const delayed = await refusal({ DelaySeconds: 5 });
    const noGroup = await refusal({ MessageGroupId: undefined });
    const noDeduplication = await refusal({ MessageDeduplicationId: undefined });

    // Assess
    expect(delayed).toBe(
      'InvalidParameterValue: Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
    );
    expect(noGroup).toBe('MissingParameter: The request must contain the parameter MessageGroupId.');
    expect(noDeduplication).toMatch(/^InvalidParameterValue: .*MessageDeduplicationId provided explicitly/);
  });

  it('answers a SendMessageBatch entry by entry, and refuses a batch SQS would refuse whole', async () => {
    // Prepare
    const { clock, sqs, url } = aFifoQueue(1);
    const send = (Entries: object[]) =>
      clock.runUntilSettled('send batch', () =>
        sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Entries as never })).then(
          (answer) => ({
            ok: answer.Successful?.map((e) => e.Id),
            failed: answer.Failed?.map((e) => `${e.Id} ${e.Code}`),
          }),
          (error: Error) => error.name,
        ),
      );
    const entry = (Id: string, extra: object = {}) => ({
      Id,
      MessageBody: Id,
      MessageGroupId: 'a',
      MessageDeduplicationId: Id,
      ...extra,
    });

    // Act
    const mixed = await send([entry('m0'), entry('m1', { MessageGroupId: undefined })]);
    const empty = await send([]);
    const repeated = await send([entry('m0'), entry('m0')]);
    const eleven = await send(Array.from({ length: 11 }, (_, i) => entry(`m${i}`)));

    // Assess
    expect(mixed).toEqual({ ok: ['m0'], failed: ['m1 MissingParameter'] });
    expect([empty, repeated, eleven]).toEqual([
      'EmptyBatchRequest',
      'BatchEntryIdsNotDistinct',
      'TooManyEntriesInBatchRequest',
    ]);
  });
});
