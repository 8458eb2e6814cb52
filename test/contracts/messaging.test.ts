// The messaging contract on the twin (see messaging.contract.ts; messaging.awstest.ts runs the same on AWS).
import type { SQSRecord } from 'aws-lambda';
import { snsSubject } from '#adapters/aws/snsNotifier';
import { contractTwin, twinEventually } from './harness';
import { messagingContract, type ReceivedMessage } from './messaging.contract';

describe('Messaging ports on the twin', () => {
  messagingContract(() => {
    const twin = contractTwin();
    // The recycler's buffer queue, where rechecks go: its consumer is the recycler, so watch what it gets.
    const rechecks = new Map<string, ReceivedMessage>();
    twin.queue.watch((record: SQSRecord) => {
      if (rechecks.has(record.messageId)) return;
      rechecks.set(record.messageId, {
        body: record.body,
        attributes: {},
        sentAt: new Date(Number(record.attributes.SentTimestamp)),
        firstReceivedAt: new Date(Number(record.attributes.ApproximateFirstReceiveTimestamp)),
      });
    });
    return {
      notifier: twin.ports.notifier,
      rechecks: twin.ports.rechecks,
      deadLetters: twin.ports.deadLetters,
      clock: twin.scheduler,
      eventually: twinEventually(twin),
      given: async () => ({ cluster: 'contract', account: twin.world.account, region: twin.world.region }),
      // The twin keeps each notification as it was published (the message); the subject line and the
      // attributes are what SnsNotifier derives from it, shown as the adapter sends them.
      notifications: async () =>
        twin.recorders.notifications.map((notification) => ({
          subject: snsSubject(notification.subject),
          message: structuredClone(notification),
          attributes: { severity: notification.severity, reflex: notification.reflex },
        })),
      rechecksReceived: async () => [...rechecks.values()],
      deadLettersReceived: async () =>
        twin.recorders.parked.map((p) => ({
          body: p.input,
          attributes: { reason: p.reason, source: p.source },
        })),
    };
  });
});
