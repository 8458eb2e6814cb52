// How events reach handlers in the twin, the way they do in AWS: EventBridge rules (the real pattern
// files) put matching events on SQS queues; a poller hands batches to the Lambda handler; failed records
// become visible again after the visibility timeout and go to the dead-letter queue after
// maxReceiveCount receives. Scheduled rules invoke their function on a fixed rate.
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { matchesPattern } from '#local/eventbridge/patternMatcher';
import { repoFile } from '#local/repoRoot';
import type { TwinFunction } from '#local/twin/lambdas';
import type { VirtualScheduler } from '#local/twin/scheduler';
import type { Timeline } from '#local/twin/timeline';

export type SqsHandler = TwinFunction<SQSEvent, { batchItemFailures: { itemIdentifier: string }[] }>;

/** Where deliveries happen and are shown: the twin's clock and its timeline; what none could deliver. */
export type Delivery = { clock: VirtualScheduler; timeline: Timeline; deadLetters: string[] };

const EVENTBRIDGE_LATENCY_SECONDS = 0.5;
const POLL_LATENCY_SECONDS = 1;

const errorText = (thrown: unknown) => `${(thrown as Error).name}: ${(thrown as Error).message}`;

/** A failed invocation, on the timeline. */
function failed(delivery: Delivery, fn: string, records: number, failures: number, error?: string): void {
  if (failures === 0) return;
  const why = error ? ` (${error})` : '';
  delivery.timeline.add('lambda', `${fn}: ${failures}/${records} record(s) failed, will be retried${why}`);
}

function deadLettered(delivery: Delivery, where: string, body: string): void {
  delivery.deadLetters.push(body);
  delivery.timeline.add('lambda', `a message exhausted its receives on ${where}: dead-lettered`);
}

type Message = {
  id: string;
  body: string;
  visibleAt: number;
  receives: number;
  sentAt: number;
  /** A FIFO queue's message group: while one of its messages is in flight, the others wait. */
  group?: string;
};

/** How SQS's FIFO deduplication window is long: a second send with the same id within it is dropped. */
const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

export class TwinQueue {
  private readonly messages: Message[] = [];
  private pollAt: number | undefined;
  private nextId = 0;
  private readonly watchers: ((record: SQSRecord) => void)[] = [];
  /** Batches the function is running now (bounded by `concurrency` when the deployment sets one). */
  private inFlight = 0;
  private readonly deduplicated = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly settings: {
      visibilityTimeoutSeconds: number;
      maxReceiveCount: number;
      batchSize: number;
      /**
       * The most batches the function runs at once (Lambda's reserved or maximum concurrency), each
       * poller receiving again as soon as its batch ends. Without it, a batch starts whenever one is
       * visible, however many are running: the twin's older model, which scenarios were written on.
       */
      concurrency?: number;
      /** A FIFO queue: every message names its group, and a group's messages are received in order. */
      fifo?: boolean;
    },
    private readonly handler: SqsHandler,
    private readonly delivery: Delivery,
  ) {}

  get depth(): number {
    return this.messages.length;
  }

  get fifo(): boolean {
    return this.settings.fifo === true;
  }

  /** Sees every record as the function receives it (attributes and all), as a test reading the queue would. */
  watch(watcher: (record: SQSRecord) => void): void {
    this.watchers.push(watcher);
  }

  /**
   * A delay as SendMessage takes it, within 0 to 900 seconds (the SQS model refuses any other), or, on a
   * FIFO queue, the message's group and deduplication id (the SQS model refuses a delay there).
   */
  send(
    body: string,
    delaySeconds = 0,
    _attributes?: Record<string, unknown>,
    fifo?: { groupId: string; deduplicationId: string },
  ): void {
    const now = this.delivery.clock.now().getTime();
    if (fifo) {
      const firstSent = this.deduplicated.get(fifo.deduplicationId);
      if (firstSent !== undefined && now - firstSent < DEDUPLICATION_WINDOW_MS) return;
      this.deduplicated.set(fifo.deduplicationId, now);
    }
    const visibleAt = now + delaySeconds * 1000;
    this.messages.push({
      id: `msg-${this.name}-${this.nextId++}`,
      body,
      visibleAt,
      receives: 0,
      sentAt: now,
      ...(fifo && { group: fifo.groupId }),
    });
    this.schedulePoll(visibleAt + POLL_LATENCY_SECONDS * 1000);
  }

  private schedulePoll(at: number): void {
    if (this.pollAt !== undefined && this.pollAt <= at) return;
    this.pollAt = at;
    this.delivery.clock.at(new Date(at), `poll ${this.name}`, () => this.poll(at));
  }

  private async poll(scheduledFor: number): Promise<void> {
    if (this.pollAt !== scheduledFor) return;
    this.pollAt = undefined;
    const now = this.delivery.clock.now().getTime();
    const { maxReceiveCount, batchSize, concurrency } = this.settings;
    const visible = this.messages.filter((m) => m.visibleAt <= now);
    // SQS moves a message to the DLQ when a receive would exceed maxReceiveCount.
    for (const message of visible.filter((m) => m.receives >= maxReceiveCount)) {
      this.messages.splice(this.messages.indexOf(message), 1);
      deadLettered(this.delivery, this.name, message.body);
    }
    if (concurrency !== undefined) return this.pollers(now, concurrency);
    const batch = visible.filter((m) => m.receives < maxReceiveCount).slice(0, batchSize);
    if (batch.length > 0) await this.deliver(batch, now);
    const next = this.messages.reduce((min, m) => Math.min(min, m.visibleAt), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) this.schedulePoll(Math.max(next, now) + POLL_LATENCY_SECONDS * 1000);
  }

  /** Up to `concurrency` batches at once; a poller whose batch ends receives again straight away. */
  private async pollers(now: number, concurrency: number): Promise<void> {
    const started: Promise<void>[] = [];
    while (this.inFlight < concurrency) {
      const batch = this.receivable(now).slice(0, this.settings.batchSize);
      if (batch.length === 0) break;
      this.inFlight += 1;
      started.push(
        this.deliver(batch, now).finally(() => {
          this.inFlight -= 1;
          const at = this.delivery.clock.now().getTime();
          // A full batch waiting is received at once; fewer wait out the batching window.
          const full = this.receivable(at).length >= this.settings.batchSize;
          this.schedulePoll(full ? at : at + POLL_LATENCY_SECONDS * 1000);
        }),
      );
    }
    const next = this.messages.reduce((min, m) => Math.min(min, m.visibleAt), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next) && next > now) this.schedulePoll(next + POLL_LATENCY_SECONDS * 1000);
    await Promise.all(started);
  }

  /**
   * The messages a receive may take now, in order: visible ones, and on a FIFO queue only those of
   * groups with nothing in flight (a received message not yet deleted, its visibility not run out).
   */
  private receivable(now: number): Message[] {
    const visible = this.messages.filter(
      (m) => m.visibleAt <= now && m.receives < this.settings.maxReceiveCount,
    );
    if (!this.settings.fifo) return visible;
    const busy = new Set(
      this.messages.filter((m) => m.visibleAt > now && m.receives > 0).map((m) => m.group),
    );
    return visible.filter((m) => !busy.has(m.group));
  }

  private async deliver(batch: Message[], now: number): Promise<void> {
    for (const message of batch) {
      message.receives += 1;
      message.visibleAt = now + this.settings.visibilityTimeoutSeconds * 1000;
    }
    const event: SQSEvent = { Records: batch.map((m) => this.record(m)) };
    for (const record of event.Records) for (const watcher of this.watchers) watcher({ ...record });
    let failedIds: string[];
    let error: string | undefined;
    try {
      const response = await this.handler(event);
      failedIds = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    } catch (thrown) {
      failedIds = batch.map((m) => m.id);
      error = errorText(thrown);
    }
    for (const message of batch) {
      if (!failedIds.includes(message.id)) this.messages.splice(this.messages.indexOf(message), 1);
    }
    failed(this.delivery, this.handler.functionName, batch.length, failedIds.length, error);
  }

  private record(message: Message): SQSRecord {
    return {
      messageId: message.id,
      receiptHandle: `${message.id}-${message.receives}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receives),
        SentTimestamp: String(message.sentAt),
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: String(this.delivery.clock.now().getTime()),
        ...(message.group !== undefined && { MessageGroupId: message.group }),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:eu-west-1:111122223333:${this.name}`,
      awsRegion: 'eu-west-1',
    };
  }
}

export class TwinEventBus {
  private readonly rules: { name: string; pattern: unknown; target: (event: unknown) => void }[] = [];
  /** At-least-once, unordered delivery, as a scenario can ask for: copies and a random delay each. */
  private disorder:
    | { until: number; copies: number; jitterSeconds: number; random: () => number }
    | undefined;

  constructor(private readonly delivery: Delivery) {}

  /** A rule with its pattern file; the target is a queue's send or a function's asynchronous invoke. */
  addRule(rule: { name: string; patternFile: string }, target: (event: unknown) => void): void {
    this.rules.push({ name: rule.name, pattern: JSON.parse(repoFile(rule.patternFile)), target });
  }

  /** Until `until`, every delivery comes `copies` times, each after a random delay up to `jitterSeconds`. */
  duplicateAndReorder(until: Date, copies: number, jitterSeconds: number, random: () => number): void {
    this.disorder = { until: until.getTime(), copies, jitterSeconds, random };
  }

  /** Like PutEvents: each matching rule delivers its own copy, a moment later. Answers how many matched. */
  put(event: unknown): number {
    const { clock, timeline } = this.delivery;
    const matching = this.rules.filter((rule) => matchesPattern(rule.pattern, event));
    const disorder = this.disorder && clock.now().getTime() < this.disorder.until ? this.disorder : undefined;
    for (const rule of matching) {
      for (let copy = 0; copy < (disorder?.copies ?? 1); copy++) {
        const delay =
          EVENTBRIDGE_LATENCY_SECONDS + (disorder ? disorder.random() * disorder.jitterSeconds : 0);
        clock.after(delay, `route ${rule.name}`, () => {
          timeline.add('event', `${describeEvent(event)} -> ${rule.name}`, { event });
          rule.target(event);
        });
      }
    }
    return matching.length;
  }
}

/**
 * A function EventBridge invokes asynchronously: Lambda retries a failed invocation (after about a
 * minute, then two) and sends what still fails to the on-failure destination.
 */
export class TwinAsyncFunction {
  private running = 0;
  /** Invocations Lambda holds back while the function is at its reserved concurrency. */
  private readonly throttled: (() => void)[] = [];

  constructor(
    private readonly handler: TwinFunction,
    private readonly settings: {
      retryAttempts: number;
      /** serverless.yml's reservedConcurrency: one actor at a time for the alarm reactor. */
      reservedConcurrency?: number;
    },
    private readonly delivery: Delivery,
  ) {}

  invoke(event: unknown, attempt = 0): void {
    this.delivery.clock.after(POLL_LATENCY_SECONDS, `invoke ${this.handler.functionName}`, () =>
      this.start(event, attempt),
    );
  }

  /**
   * Runs the invocation, or, at the reserved concurrency, holds it until a running one ends: Lambda's
   * asynchronous queue retries a throttled event, so it runs later, never beside the others. (Handlers
   * take virtual time now that their SDK calls back off, so two invocations can overlap.)
   */
  private async start(event: unknown, attempt: number): Promise<void> {
    const { clock } = this.delivery;
    if (this.running >= (this.settings.reservedConcurrency ?? Number.POSITIVE_INFINITY)) {
      this.throttled.push(() => void this.start(event, attempt));
      return;
    }
    this.running += 1;
    try {
      await this.run(event, attempt);
    } finally {
      this.running -= 1;
      const next = this.throttled.shift();
      if (next) clock.after(0, `invoke ${this.handler.functionName} (held at its concurrency)`, next);
    }
  }

  // Apart from start on purpose: the scheduler does not wait for chains it is not awaiting, so one await
  // more or less here changes how far they get before its next step (and alarm-throttled's calls).
  private async run(event: unknown, attempt: number): Promise<void> {
    const { clock } = this.delivery;
    try {
      await this.handler(event);
    } catch (thrown) {
      failed(this.delivery, this.handler.functionName, 1, 1, errorText(thrown));
      if (attempt < this.settings.retryAttempts) {
        clock.after(60 * (attempt + 1), `retry ${this.handler.functionName}`, () =>
          this.invoke(event, attempt + 1),
        );
      } else {
        const destination = `${this.handler.functionName} on-failure destination`;
        deadLettered(this.delivery, destination, JSON.stringify(event));
      }
    }
  }
}

let invocation = 0;

/**
 * The context Lambda hands a handler. `remainingMs` counts down the invocation's time (the twin's Lambda
 * gives it the function's timeout on the virtual clock); a handler a test calls directly has 30 s.
 */
export function lambdaContext(functionName: string, remainingMs: () => number = () => 30_000): Context {
  invocation += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `twin-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'twin',
    getRemainingTimeInMillis: remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An event in a few words, for the timeline. */
export function describeEvent(event: unknown): string {
  const e = event as { 'detail-type'?: string; detail?: Record<string, unknown>; resources?: string[] };
  const detail = e.detail ?? {};
  if (e['detail-type'] === 'ECS Task State Change') {
    const id = String(detail.taskArn ?? '')
      .split('/')
      .pop()
      ?.slice(0, 8);
    const why = [detail.stopCode, detail.stoppedReason].filter(Boolean).join(': ');
    return `task ${id} ${detail.group} ${detail.lastStatus}${why ? ` (${why})` : ''}`;
  }
  if (e['detail-type'] === 'ECS Service Action')
    return `service action ${detail.eventName} ${detail.reason ?? ''}`.trim();
  if (e['detail-type'] === 'Task Group Recheck') return `recheck ${detail.group}`;
  return `${e['detail-type'] ?? 'unknown event'}`;
}
