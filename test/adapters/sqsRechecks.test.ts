import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { delaySeconds, SqsRechecks } from '#adapters/aws/sqsRechecks';
import { RecheckSchema } from '#events/recheck';
import type { Clock } from '#ports';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-recycler';
const now = new Date('2026-11-02T10:00:00.000Z');
const clock: Clock = { now: () => now };
const secondsLater = (s: number) => new Date(now.getTime() + s * 1000);

const rechecks = (queueUrl = QUEUE_URL) =>
  new SqsRechecks(sqs as unknown as SQSClient, queueUrl, clock, () => '6a7e3b2c-0000-4000-8000-000000000001');

beforeEach(() => sqs.reset());

describe('SqsRechecks', () => {
  it('sends a recheck event, delayed until it is due', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    await rechecks().recheckAt('prod', 'family:report', secondsLater(40));

    // Assess
    const input = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(input).toEqual({ QueueUrl: QUEUE_URL, MessageBody: expect.any(String), DelaySeconds: 40 });
    expect(JSON.parse(input.MessageBody!)).toEqual({
      version: '0',
      id: '6a7e3b2c-0000-4000-8000-000000000001',
      source: 'ecs-reflex',
      'detail-type': 'Task Group Recheck',
      account: '111122223333',
      time: '2026-11-02T10:00:00.000Z',
      region: 'eu-west-1',
      resources: [],
      detail: { cluster: 'prod', group: 'family:report', dueAt: '2026-11-02T10:00:40.000Z' },
    });
  });

  it('sends a body the recheck parser accepts', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});

    // Act
    await rechecks().recheckAt('prod', 'service:web', secondsLater(5));

    // Assess
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(RecheckSchema.safeParse(body).success).toBe(true);
  });

  it('caps the delay at the 15 minutes SQS allows', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});

    // Act
    await rechecks().recheckAt('prod', 'family:report', secondsLater(3600));

    // Assess: the recheck arrives early, and the recycler asks again for the same due time
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { DelaySeconds: 900 });
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(body.detail.dueAt).toBe('2026-11-02T11:00:00.000Z');
  });

  it('keeps the envelope defaults for a queue URL that names no account or region', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});

    // Act
    await rechecks('http://localhost:4566/queue/recycler').recheckAt(
      'prod',
      'family:report',
      secondsLater(1),
    );

    // Assess
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(body).toMatchObject({ account: '000000000000', region: 'eu-west-1' });
  });

  it("names the client's region when the queue URL names none (a custom endpoint)", async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});
    const local = new SqsRechecks(
      sqs as unknown as SQSClient,
      'http://127.0.0.1:5055/123456789012/ecs-reflex-recycler',
      clock,
      () => 'id-1',
      { region: 'us-east-1' },
    );

    // Act
    await local.recheckAt('prod', 'family:report', secondsLater(1));

    // Assess
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(body).toMatchObject({ account: '123456789012', region: 'us-east-1' });
  });

  it("keeps the region the queue URL names over the client's", async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});
    const named = new SqsRechecks(sqs as unknown as SQSClient, QUEUE_URL, clock, () => 'id-1', {
      region: 'us-east-1',
    });

    // Act
    await named.recheckAt('prod', 'family:report', secondsLater(1));

    // Assess
    const body = JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!);
    expect(body).toMatchObject({ account: '111122223333', region: 'eu-west-1' });
  });

  it('uses a fresh random id per recheck by default', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({});
    const defaultIds = new SqsRechecks(sqs as unknown as SQSClient, QUEUE_URL, clock);

    // Act
    await defaultIds.recheckAt('prod', 'family:report', secondsLater(1));
    await defaultIds.recheckAt('prod', 'family:report', secondsLater(1));

    // Assess
    const ids = sqs.commandCalls(SendMessageCommand).map((c) => JSON.parse(c.args[0].input.MessageBody!).id);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('delaySeconds', () => {
  it.each([
    ['due in the past', -30_000, 0],
    ['due now', 0, 0],
    ['due in a fraction of a second, rounded up', 1, 1],
    ['due in 14m59.5s', 899_500, 900],
    ['due in exactly 15 minutes', 900_000, 900],
    ['due in an hour', 3_600_000, 900],
  ])('%s', (_case, millisecondsAhead, expected) => {
    // Act
    const delay = delaySeconds(new Date(now.getTime() + millisecondsAhead), now);

    // Assess
    expect(delay).toBe(expected);
  });
});
