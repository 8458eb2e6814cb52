import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SnsNotifier, snsSubject } from '#adapters/aws/snsNotifier';
import type { Notification } from '#ports';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:ecs-reflex-alerts';
const notifier = new SnsNotifier(sns as unknown as SNSClient, TOPIC);

beforeEach(() => sns.reset());

describe('SnsNotifier', () => {
  it('publishes the notification as JSON with severity and reflex attributes', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notification: Notification = {
      subject: 'ecs-reflex gave up restarting family:report in prod',
      severity: 'critical',
      reflex: 'task-recycler',
      detail: { cluster: 'prod', group: 'family:report', why: '5 restarts within the window' },
    };

    // Act
    await notifier.notify(notification);

    // Assess
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      {
        TopicArn: TOPIC,
        Subject: 'ecs-reflex gave up restarting family:report in prod',
        Message: JSON.stringify(notification),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'critical' },
          reflex: { DataType: 'String', StringValue: 'task-recycler' },
        },
      },
    ]);
    expect(JSON.parse(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!)).toEqual(notification);
  });
});

describe('snsSubject', () => {
  it('keeps a plain subject as it is', () => {
    // Act / Assess
    expect(snsSubject('ecs-reflex: web in prod is crash-looping')).toBe(
      'ecs-reflex: web in prod is crash-looping',
    );
  });

  it('cuts a long subject below 100 characters', () => {
    // Act
    const subject = snsSubject(`ecs-reflex: ${'very-long-service-name-'.repeat(10)}`);

    // Assess
    expect(subject.length).toBeLessThan(100);
    expect(subject.startsWith('ecs-reflex: very-long-service-name-')).toBe(true);
  });

  it('turns line breaks into spaces and other non-ASCII characters into question marks', () => {
    // Act
    const subject = snsSubject('  ecs-reflex:\n service “café” ✓\tdown ');

    // Assess
    expect(subject).toBe('ecs-reflex: service ?caf?? ? down');
    expect(subject).toMatch(/^[\x21-\x7E][\x20-\x7E]*$/);
  });

  it('falls back to a fixed subject when nothing printable is left', () => {
    // Act / Assess
    expect(snsSubject(' \n\t ')).toBe('ecs-reflex notification');
  });
});
