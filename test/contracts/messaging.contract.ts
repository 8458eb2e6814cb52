// The messaging ports' contract: what the reflexes rely on SNS and SQS to do with what they send. A
// notification reaches the topic's subscribers, a recheck comes back on the recycler's queue when it is
// due, and input that can never succeed waits in the dead-letter queue with why.
//
// CapacitySignal has no contract: EmfCapacitySignal only writes a log line and an EMF metric to stdout,
// which CloudWatch picks up from the function's log; there is no AWS call whose answer the twin could get
// wrong.

import { RecheckSchema } from '#events/recheck';
import type { Clock, DeadLetters, Notification, Notifier, Rechecks } from '#ports';
import type { Eventually } from './harness';

/** One notification as a subscriber reading the topic's JSON messages (not raw delivery) gets it. */
export interface DeliveredNotification {
  /** The subject line that e-mail and chat subscribers read. */
  subject: string;
  /** The message body, parsed: what machines read. */
  message: unknown;
  /** The message attributes subscribers filter on. */
  attributes: Record<string, string>;
}

/** One message as a consumer of the queue receives it. */
export interface ReceivedMessage {
  body: string;
  attributes: Record<string, string>;
  sentAt: Date;
  firstReceivedAt: Date;
}

export interface MessagingWorld {
  cluster: string;
  /** Where the recheck queue is: the recheck's envelope must say so. */
  account: string;
  region: string;
}

export interface MessagingHarness {
  notifier: Notifier;
  rechecks: Rechecks;
  deadLetters: DeadLetters;
  /** The clock the rechecks adapter reads `now` from. */
  clock: Clock;
  eventually: Eventually;
  given(): Promise<MessagingWorld>;
  /** Every notification the topic has delivered so far. */
  notifications(): Promise<DeliveredNotification[]>;
  /** Every message the recheck queue has handed out so far, each once. */
  rechecksReceived(): Promise<ReceivedMessage[]>;
  /** Every message the dead-letter queue has handed out so far, each once. */
  deadLettersReceived(): Promise<Pick<ReceivedMessage, 'body' | 'attributes'>[]>;
}

const PRINTABLE_ASCII_SUBJECT = /^[\x20-\x7E]{1,99}$/;

export function messagingContract(harness: () => MessagingHarness): void {
  let messaging: MessagingHarness;
  let world: MessagingWorld;

  beforeAll(async () => {
    messaging = harness();
    world = await messaging.given();
  });

  describe('Notifier', () => {
    const deliveredAbout = (reference: string) =>
      messaging.eventually(
        () => messaging.notifications(),
        (delivered) => delivered.some((d) => (d.message as Notification).detail?.reference === reference),
      );

    it('delivers the notification as JSON, with its severity and reflex to filter on', async () => {
      // Prepare
      const notification: Notification = {
        subject: 'ecs-reflex gave up restarting family:report in contract',
        severity: 'critical',
        reflex: 'task-recycler',
        target: 'family:report',
        summary: 'The recycler stopped restarting family:report: 5 restarts within the window.',
        steer: [
          {
            what: 'see its actions',
            command: 'ecs-reflex actions --target family:report',
            api: 'GET /actions',
          },
        ],
        detail: { reference: 'plain', cluster: world.cluster, restarts: 5 },
      };

      // Act
      await messaging.notifier.notify(notification);
      const delivered = (await deliveredAbout('plain')).filter(
        (d) => (d.message as Notification).detail.reference === 'plain',
      );

      // Assess
      expect(delivered).toEqual([
        {
          subject: notification.subject,
          message: notification,
          attributes: { severity: 'critical', reflex: 'task-recycler' },
        },
      ]);
    });

    it('delivers a subject SNS would refuse as one line of printable ASCII under 100 characters', async () => {
      // Prepare: a resource name with typographic quotes, a line break, and far too long
      const subject = `  Task “web” gave up\nafter 5 restarts on ${'x'.repeat(120)}`;

      // Act
      await messaging.notifier.notify({
        subject,
        severity: 'warning',
        reflex: 'task-recycler',
        target: 'web',
        summary: 'gave up',
        steer: [],
        detail: { reference: 'awkward' },
      });
      const delivered = (await deliveredAbout('awkward')).find(
        (d) => (d.message as Notification).detail.reference === 'awkward',
      );

      // Assess
      expect(delivered?.subject).toMatch(PRINTABLE_ASCII_SUBJECT);
      expect(delivered?.subject.startsWith('Task ?web? gave up after 5 restarts on xxx')).toBe(true);
      expect((delivered?.message as Notification | undefined)?.subject).toBe(subject);
    });
  });

  describe('Rechecks', () => {
    it('comes back on the queue when it is due, with the cluster and the group, not before', async () => {
      // Prepare: one recheck past what SQS can delay (an hour away), then one due in 20 seconds
      const now = messaging.clock.now().getTime();
      const dueSoon = new Date(now + 20_000);

      // Act
      await messaging.rechecks.recheckAt(world.cluster, 'family:contract-later', new Date(now + 3_600_000));
      await messaging.rechecks.recheckAt(world.cluster, 'service:contract-soon', dueSoon);
      const received = await messaging.eventually(
        () => messaging.rechecksReceived(),
        (messages) => messages.some((m) => m.body.includes('service:contract-soon')),
      );

      // Assess
      const groups = received.map((m) => RecheckSchema.parse(JSON.parse(m.body)).detail.group);
      expect(groups).toEqual(['service:contract-soon']);
      const [soon] = received;
      expect(RecheckSchema.parse(JSON.parse(soon!.body))).toMatchObject({
        source: 'ecs-reflex',
        'detail-type': 'Task Group Recheck',
        account: world.account,
        region: world.region,
        detail: { cluster: world.cluster, group: 'service:contract-soon', dueAt: dueSoon.toISOString() },
      });
      // Delayed by the time left until it is due (whole seconds, rounded up): never handed out earlier.
      expect(soon!.firstReceivedAt.getTime() - soon!.sentAt.getTime()).toBeGreaterThanOrEqual(19_000);
    });
  });

  describe('DeadLetters', () => {
    const parkedFor = (reason: string) =>
      messaging
        .eventually(
          () => messaging.deadLettersReceived(),
          (messages) => messages.some((m) => m.attributes.reason?.startsWith(reason)),
        )
        .then((messages) => messages.filter((m) => m.attributes.reason?.startsWith(reason)));

    it('keeps the input as it came, with the reason and where it came from', async () => {
      // Prepare
      const input = '{"detail-type":"ECS Task State Change","detail":{"lastStatus":"STOPPED"}}';

      // Act
      await messaging.deadLetters.park(input, 'schema: detail.clusterArn is required', 'task-recycler');
      const parked = await parkedFor('schema: detail.clusterArn');

      // Assess
      expect(parked).toEqual([
        {
          body: input,
          attributes: { reason: 'schema: detail.clusterArn is required', source: 'task-recycler' },
        },
      ]);
    });

    it('keeps an empty input too, as a placeholder (SQS takes no empty message)', async () => {
      // Act
      await messaging.deadLetters.park('', 'empty record body', 'task-recycler');
      const parked = await parkedFor('empty record body');

      // Assess
      expect(parked.map((m) => m.body)).toEqual(['(empty)']);
    });

    it('keeps the beginning of an input too large for one message, and the first 1000 characters of the reason', async () => {
      // Prepare: larger than a queue made before 2025 takes (256 KiB, attributes included)
      const input = `{"records":"${'r'.repeat(300 * 1024)}"}`;
      const reason = `too large: ${'why '.repeat(400)}`;

      // Act
      await messaging.deadLetters.park(input, reason, 'alarm-reactor');
      const [parked] = await parkedFor('too large: why');

      // Assess
      expect(input.startsWith(parked!.body)).toBe(true);
      expect(Buffer.byteLength(parked!.body)).toBeLessThanOrEqual(256 * 1024);
      expect(Buffer.byteLength(parked!.body)).toBeGreaterThan(250 * 1024);
      expect(parked!.attributes).toEqual({ reason: reason.slice(0, 1000), source: 'alarm-reactor' });
    });
  });
}
