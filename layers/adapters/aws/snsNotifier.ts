// Notifications for people, published to one SNS topic: e-mail and chat subscribers read the subject,
// machines read the JSON message and filter on the attributes.
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification, Notifier } from '#ports';

/** SNS wants subjects shorter than 100 characters. */
const SUBJECT_MAX = 99;
const FALLBACK_SUBJECT = 'ecs-reflex notification';

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
  ) {}

  async notify(notification: Notification): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(notification.subject),
        Message: JSON.stringify(notification),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: notification.severity },
          reflex: { DataType: 'String', StringValue: notification.reflex },
        },
      }),
    );
  }
}

/**
 * SNS rejects the whole Publish for a subject that is not printable ASCII or starts with a space, and a
 * subject comes from resource names we do not control: make it fit rather than lose the alert.
 */
export function snsSubject(subject: string): string {
  const printable = subject
    .replace(/[^\x20-\x7E]/g, (character) => (/\s/.test(character) ? ' ' : '?'))
    .replace(/ {2,}/g, ' ')
    .trim();
  return printable.slice(0, SUBJECT_MAX).trimEnd() || FALLBACK_SUBJECT;
}
