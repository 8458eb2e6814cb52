// Notifications for people, published to one SNS topic in three forms, one per kind of subscriber (SNS's
// per-protocol messages, MessageStructure "json"): chat channels through Amazon Q Developer in chat
// applications (formerly AWS Chatbot, an HTTPS subscriber) get its custom-notification format, e-mail
// subscribers readable text, and every other subscriber (queues, functions) the notification as JSON,
// filtered on the attributes.
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
    const chat = JSON.stringify(chatNotification(notification));
    const machine = JSON.stringify(notification);
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(notification.subject),
        MessageStructure: 'json',
        // `default` serves every protocol not named; the chat integration subscribes over HTTPS.
        Message: JSON.stringify({ default: machine, https: chat, email: emailText(notification) }),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: notification.severity },
          reflex: { DataType: 'String', StringValue: notification.reflex },
        },
      }),
    );
  }
}

/**
 * The custom-notification format of Amazon Q Developer in chat applications: a title, a description in
 * Markdown, the next steps as the commands to paste, and one thread per reflex and target, so a rollout's
 * gate, promotion or rollback follow each other in one thread.
 */
export function chatNotification(notification: Notification) {
  const icon = { info: '', warning: ':warning: ', critical: ':rotating_light: ' }[notification.severity];
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: `${icon}${notification.subject}`,
      description: `*${notification.reflex}* · \`${notification.target}\`\n${notification.summary}`,
      nextSteps: notification.steer.map((s) => `${s.what}: \`${s.command}\` (${s.api})`),
      keywords: [notification.reflex, notification.severity],
    },
    metadata: {
      threadId: `${notification.reflex}/${notification.target}`,
      summary: notification.subject,
      eventType: notification.reflex,
      additionalContext: { target: notification.target, severity: notification.severity },
    },
  };
}

/** The same for a person reading mail: what happened, then what they can do, then the particulars. */
export function emailText(notification: Notification): string {
  const lines = [
    notification.subject,
    '',
    notification.summary,
    '',
    `reflex:   ${notification.reflex}`,
    `target:   ${notification.target}`,
    `severity: ${notification.severity}`,
  ];
  if (notification.steer.length > 0) {
    lines.push('', 'What you can do:');
    for (const s of notification.steer) lines.push(`  ${s.what}:`, `    ${s.command}`, `    (API: ${s.api})`);
  }
  const detail = Object.entries(notification.detail).filter(([, value]) => value !== undefined);
  if (detail.length > 0) {
    lines.push('', 'Detail:');
    for (const [key, value] of detail)
      lines.push(`  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return `${lines.join('\n')}\n`;
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
