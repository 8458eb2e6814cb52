// The messaging contract on AWS: a topic with a queue subscribed to it (JSON delivery, not raw, so the
// subject and the attributes arrive too), the recycler's recheck queue and a dead-letter queue. All
// deleted afterwards.
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  PublishCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { SnsNotifier } from '#adapters/aws/snsNotifier';
import { SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';
import { SqsRechecks } from '#adapters/aws/sqsRechecks';
import type { DeadLetters, Notifier, Rechecks } from '#ports';
import { AwsContractContext, CONTRACT_TAG, describeOnAws } from './aws/context';
import type { DeliveredNotification, ReceivedMessage } from './messaging.contract';
import { messagingContract } from './messaging.contract';

describeOnAws('Messaging ports on AWS', () => {
  const aws = new AwsContractContext();
  const { sqs, sns } = aws.clients;
  afterAll(() => aws.cleanup());

  async function createQueue(suffix: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: aws.name(suffix),
        Attributes: attributes,
        tags: { [CONTRACT_TAG]: aws.prefix },
      }),
    );
    aws.defer(`queue ${QueueUrl}`, () => sqs.send(new DeleteQueueCommand({ QueueUrl })));
    return QueueUrl!;
  }

  /**
   * Reads a queue as its consumer would (each message once, then deleted), keeping all it has read. One
   * look waits up to 5 s for a message (long polling), so a read right after a send finds it.
   */
  function reader(queueUrl: () => string) {
    const read: ReceivedMessage[] = [];
    return async (): Promise<ReceivedMessage[]> => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl(),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 5,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
        }),
      );
      for (const message of Messages) {
        read.push({
          body: message.Body ?? '',
          attributes: Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              value.StringValue ?? '',
            ]),
          ),
          sentAt: new Date(Number(message.Attributes?.SentTimestamp)),
          firstReceivedAt: new Date(Number(message.Attributes?.ApproximateFirstReceiveTimestamp)),
        });
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl(), ReceiptHandle: message.ReceiptHandle }),
        );
      }
      return [...read];
    };
  }

  /** SNS's JSON envelope around a notification, as the subscribed queue holds it. */
  function delivered(body: string): DeliveredNotification | undefined {
    const envelope = JSON.parse(body) as {
      Type?: string;
      Subject?: string;
      Message?: string;
      MessageAttributes?: Record<string, { Type: string; Value: string }>;
    };
    // SNS may put a subscription confirmation or the warm-up probe on the queue too.
    if (envelope.Type !== 'Notification' || envelope.Subject === PROBE_SUBJECT) return undefined;
    return {
      subject: envelope.Subject ?? '',
      message: JSON.parse(envelope.Message ?? 'null'),
      attributes: Object.fromEntries(
        Object.entries(envelope.MessageAttributes ?? {}).map(([name, value]) => [name, value.Value]),
      ),
    };
  }

  const PROBE_SUBJECT = 'ecs-reflex contract probe';
  const queues = { notifications: '', rechecks: '', deadLetters: '' };
  let topicArn = '';
  const notificationsQueue = reader(() => queues.notifications);
  const deadLetters = reader(() => queues.deadLetters);

  messagingContract(() => {
    const clock = { now: () => new Date() };
    // The adapters need the topic and the queues, which given() creates.
    let adapters: { notifier: Notifier; rechecks: Rechecks; deadLetters: DeadLetters } | undefined;
    const created = () => {
      if (!adapters) throw new Error('given() has not created the topic and the queues yet');
      return adapters;
    };
    return {
      get notifier() {
        return created().notifier;
      },
      get rechecks() {
        return created().rechecks;
      },
      get deadLetters() {
        return created().deadLetters;
      },
      clock,
      eventually: (read, ok) => aws.eventually(read, ok, 120),
      given: async () => {
        const topic = await sns.send(
          new CreateTopicCommand({
            Name: aws.name('notifications'),
            Tags: aws.tags().map(({ key, value }) => ({ Key: key, Value: value })),
          }),
        );
        topicArn = topic.TopicArn!;
        aws.defer(`topic ${topicArn}`, () => sns.send(new DeleteTopicCommand({ TopicArn: topicArn })));
        // The queue is in the topic's account and region: its ARN is known before it exists, so the policy
        // letting the topic (and only it) send to it is there from the start.
        const [, partition, , region, account] = topicArn.split(':');
        const queueArn = `arn:${partition}:sqs:${region}:${account}:${aws.name('notifications')}`;
        queues.notifications = await createQueue('notifications', {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
              },
            ],
          }),
        });
        await sns.send(
          new SubscribeCommand({
            TopicArn: topicArn,
            Protocol: 'sqs',
            Endpoint: queueArn,
            ReturnSubscriptionArn: true,
          }),
        );
        queues.rechecks = await createQueue('rechecks');
        // As strict as a dead-letter queue made before SQS took 1 MiB messages (2025): 256 KiB in all.
        queues.deadLetters = await createQueue('dead-letters', { MaximumMessageSize: String(256 * 1024) });
        // A new subscription and a new queue policy take a moment to let messages through, and a message
        // SNS cannot deliver then is lost (a client-side error, not retried): publish probes until one arrives.
        const through = await aws.eventually(
          async () => {
            await sns.send(
              new PublishCommand({ TopicArn: topicArn, Subject: PROBE_SUBJECT, Message: 'probe' }),
            );
            return notificationsQueue();
          },
          (read) => read.some((m) => m.body.includes(PROBE_SUBJECT)),
          180,
        );
        if (!through.some((m) => m.body.includes(PROBE_SUBJECT)))
          throw new Error(`the topic ${topicArn} delivered nothing to its queue within 3 minutes`);
        // (The probes took seconds: the queues made before are usable by now, SQS asking for one.)
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queues.rechecks, AttributeNames: ['QueueArn'] }),
        );
        const [, , , queueRegion, queueAccount] = Attributes!.QueueArn!.split(':');
        adapters = {
          notifier: new SnsNotifier(sns, topicArn),
          // As in Lambda (recyclerPorts): the client's region, for a queue URL that names none.
          rechecks: new SqsRechecks(sqs, queues.rechecks, clock, undefined, {
            region: await sqs.config.region(),
          }),
          deadLetters: new SqsDeadLetters(sqs, queues.deadLetters),
        };
        return { cluster: aws.name('cluster'), account: queueAccount!, region: queueRegion! };
      },
      notifications: async () => (await notificationsQueue()).flatMap((m) => delivered(m.body) ?? []),
      rechecksReceived: reader(() => queues.rechecks),
      // The port's consumer sees only the body and the attributes (no receive timestamps), as on the twin.
      deadLettersReceived: async () =>
        (await deadLetters()).map(({ body, attributes }) => ({ body, attributes })),
    };
  });
});
