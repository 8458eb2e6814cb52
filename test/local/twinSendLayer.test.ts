// The twin's send layer under a real adapter: each kind of fault is thrown below the SDK's retry step, so
// the client's own retry strategy (the Lambda functions' configuration: adaptive, 4 attempts) decides
// what the adapter sees. Runs in virtual time: the SDK's backoff waits on the twin's clock.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { AwsServiceError, TwinSendLayer, write } from '#local/twin/aws/client';
import { type FaultKind, Faults } from '#local/twin/aws/faults';
import { VirtualScheduler } from '#local/twin/scheduler';
import type { ApiCall } from '#local/twin/world';
import type { Notification } from '#ports';
import { awsClientConfig } from '#runtime/clients';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:ecs-reflex-notifications';
const START = new Date('2026-11-02T09:00:00Z');
const NOTIFICATION: Notification = {
  subject: 'ecs-reflex: restart given up for web',
  severity: 'warning',
  reflex: 'task-recycler',
  target: 'web',
  summary: 'The recycler stopped restarting web after 3 restarts.',
  steer: [],
  detail: { restarts: 3 },
};

/** A topic that takes every message, or refuses them all as AWS does a deleted topic. */
function aTopic(options: { refuse?: boolean } = {}) {
  const published: string[] = [];
  const model = {
    Publish: write(
      (input: { TopicArn: string; Subject?: string }) => input.TopicArn,
      (input) => {
        if (options.refuse) throw new AwsServiceError('NotFoundException', 'Topic does not exist', 404);
        published.push(input.Subject ?? '');
        return { MessageId: `m-${published.length}` };
      },
    ),
  };
  return { model, published };
}

/** Sends notifications through the real adapter, one after the other, inside virtual time; what the last threw. */
async function notifyInTwin(faults: Faults, model: Parameters<TwinSendLayer['client']>[1], times = 1) {
  const scheduler = new VirtualScheduler(START);
  const calls: ApiCall[] = [];
  const layer = new TwinSendLayer({ clock: scheduler, calls, faults });
  const notifier = new SnsNotifier(layer.client(SNSClient, model), TOPIC);
  let thrown: (Error & { code?: string; $metadata?: { attempts?: number } }) | undefined;
  scheduler.after(0, 'notify', async () => {
    for (let sent = 0; sent < times; sent++)
      thrown = await notifier.notify(NOTIFICATION).then(
        () => undefined,
        (error: Error) => error,
      );
  });
  await scheduler.runUntil(new Date(START.getTime() + 3_600_000));
  return { thrown, calls, elapsedMs: calls.length > 0 ? calls.at(-1)!.at.getTime() - START.getTime() : 0 };
}

const rule = (error: FaultKind, untilMs: number, applied = false) => ({
  api: 'Publish',
  from: START,
  until: new Date(START.getTime() + untilMs),
  rate: 1,
  error,
  ...(applied ? { applied } : {}),
});

const KINDS: { kind: FaultKind; name: string; code?: string }[] = [
  { kind: 'ThrottlingException', name: 'ThrottlingException' },
  { kind: 'ServerException', name: 'ServerException' },
  { kind: 'ConnectionReset', name: 'Error', code: 'ECONNRESET' },
  { kind: 'TimeoutError', name: 'TimeoutError', code: 'ETIMEDOUT' },
];

describe('faults at the twin client, retried by the SDK', () => {
  it.each(KINDS)(
    '$kind on every attempt: the adapter sees it after the 4 attempts the SDK makes',
    async ({ kind, name, code }) => {
      // Prepare
      const faults = new Faults(1);
      faults.add(rule(kind, 3_600_000));
      const topic = aTopic();

      // Act
      const { thrown, calls, elapsedMs } = await notifyInTwin(faults, topic.model);

      // Assess: four attempts, each failed with the kind's error; the last one reaches the adapter
      expect(thrown).toMatchObject({ name, ...(code ? { code } : {}) });
      expect(calls.map((c) => [c.attempt ?? 1, c.failed])).toEqual([1, 2, 3, 4].map((n) => [n, name]));
      expect(topic.published).toEqual([]);
      // The SDK waited between attempts (its backoff, on the twin's clock)
      expect(elapsedMs).toBeGreaterThan(0);
    },
  );

  it.each(KINDS)(
    '$kind on the first attempt only: the retry succeeds and the adapter sees nothing',
    async ({ kind, name }) => {
      const faults = new Faults(1);
      faults.add(rule(kind, 1));
      const topic = aTopic();

      const { thrown, calls } = await notifyInTwin(faults, topic.model);

      expect(thrown).toBeUndefined();
      expect(calls.map((c) => c.failed ?? 'ok')).toEqual([name, 'ok']);
      expect(topic.published).toEqual([NOTIFICATION.subject]);
    },
  );

  it('applied, then timed out: the command took effect, the SDK sent it again, and AWS took it twice', async () => {
    const faults = new Faults(1);
    faults.add(rule('TimeoutError', 1, true));
    const topic = aTopic();

    const { thrown, calls } = await notifyInTwin(faults, topic.model);

    // The adapter saw success; the world saw the message twice (SNS has no idempotency token on Publish)
    expect(thrown).toBeUndefined();
    expect(calls.map((c) => c.answered ?? c.failed ?? 'ok')).toEqual(['TimeoutError', 'ok']);
    expect(topic.published).toEqual([NOTIFICATION.subject, NOTIFICATION.subject]);
  });

  it('each command is its own call: the one sent after a retried one is a first attempt again', async () => {
    const faults = new Faults(1);
    faults.add(rule('ThrottlingException', 1));
    const topic = aTopic();

    const { calls } = await notifyInTwin(faults, topic.model, 2);

    expect(calls.map((c) => [c.failed ?? 'ok', c.attempt ?? 1])).toEqual([
      ['ThrottlingException', 1],
      ['ok', 2],
      ['ok', 1],
    ]);
    expect(topic.published).toHaveLength(2);
  });

  it("a twin's client keeps its own retry quota: one that another twin's client spent still retries", async () => {
    // Prepare: one twin's client spends its retry quota on timeouts, call after call
    const timeoutsAllHour = () => {
      const faults = new Faults(1);
      faults.add(rule('TimeoutError', 3_600_000));
      return faults;
    };
    const spent = await notifyInTwin(timeoutsAllHour(), aTopic().model, 25);

    // Act: a new twin's client of the same SDK class meets the same timeouts
    const fresh = await notifyInTwin(timeoutsAllHour(), aTopic().model);

    // Assess: the spent quota left the first client's last call without retries; the new one makes all four
    const lastCallOf = (calls: ApiCall[]) => calls.slice(calls.findLastIndex((c) => c.attempt === undefined));
    expect(lastCallOf(spent.calls)).toHaveLength(1);
    expect(fresh.calls.map((c) => c.attempt ?? 1)).toEqual([1, 2, 3, 4]);
  });

  it('retries as each SDK client class is configured to: DynamoDB backs off from its own 25 ms base', async () => {
    // Prepare: the twin's clients, and the SDK's own clients built with the functions' configuration
    const layer = new TwinSendLayer({ clock: new VirtualScheduler(START), calls: [], faults: new Faults(1) });
    const strategyOf = async (client: { config: unknown }) => {
      const strategy = (await (client.config as { retryStrategy(): Promise<object> }).retryStrategy()) as {
        mode: string;
        standardRetryStrategy: { baseDelay: number };
      };
      return { mode: strategy.mode, baseDelay: strategy.standardRetryStrategy.baseDelay };
    };

    // Act
    const twin = await Promise.all(
      [layer.client(DynamoDBClient, {}), layer.client(SNSClient, {})].map(strategyOf),
    );
    const sdk = await Promise.all(
      [new DynamoDBClient(awsClientConfig()), new SNSClient(awsClientConfig())].map(strategyOf),
    );

    // Assess
    expect(twin).toEqual(sdk);
    expect(twin[0]).toEqual({ mode: 'adaptive', baseDelay: 25 });
  });

  it('an AWS refusal is not retried: one attempt, the error as AWS named it', async () => {
    const topic = aTopic({ refuse: true });

    const { thrown, calls } = await notifyInTwin(new Faults(1), topic.model);

    expect(thrown).toMatchObject({ name: 'NotFoundException' });
    expect(calls.map((c) => c.failed)).toEqual(['NotFoundException']);
  });

  it('a command the twin does not answer is refused as AWS refuses an unknown action', async () => {
    const { thrown, calls } = await notifyInTwin(new Faults(1), {});

    expect(thrown).toMatchObject({ name: 'UnknownOperationException' });
    expect(calls).toHaveLength(1);
  });
});
