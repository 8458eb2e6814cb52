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
  const notification: Notification = {
    subject: 'Rollout of web waits for a person at 50% canary',
    severity: 'info',
    reflex: 'rollout',
    target: 'web',
    summary: 'Rollout web-42 holds 50% on the canary and waits (manual gate after step 2).',
    steer: [
      {
        what: 'resume the rollout',
        command: 'ecs-reflex rollout resume web-42',
        api: 'POST /rollouts/web-42/resume',
      },
    ],
    detail: {
      runId: 'web-42',
      route: 'alb:arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/shop/1/2',
    },
  };

  async function published() {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await notifier.notify(notification);
    const [call] = sns.commandCalls(PublishCommand);
    return call!.args[0].input;
  }

  it('publishes one message per kind of subscriber, with severity and reflex attributes to filter on', async () => {
    // Act
    const input = await published();

    // Assess
    expect(input).toMatchObject({
      TopicArn: TOPIC,
      Subject: notification.subject,
      MessageStructure: 'json',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'info' },
        reflex: { DataType: 'String', StringValue: 'rollout' },
      },
    });
    const messages = JSON.parse(input.Message!);
    expect(Object.keys(messages).sort()).toEqual(['default', 'email', 'https']);
    expect(Object.values(messages).every((m) => typeof m === 'string')).toBe(true);
    // Queues, functions and any other subscriber get the notification itself.
    expect(JSON.parse(messages.default)).toEqual(notification);
  });

  it('gives chat channels the custom-notification format, with the commands as next steps, one thread per target', async () => {
    // Act
    const chat = JSON.parse(JSON.parse((await published()).Message!).https);

    // Assess
    expect(chat).toEqual({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: 'Rollout of web waits for a person at 50% canary',
        description:
          '*rollout* · `web`\nRollout web-42 holds 50% on the canary and waits (manual gate after step 2).',
        nextSteps: ['resume the rollout: `ecs-reflex rollout resume web-42` (POST /rollouts/web-42/resume)'],
        keywords: ['rollout', 'info'],
      },
      metadata: {
        threadId: 'rollout/web',
        summary: 'Rollout of web waits for a person at 50% canary',
        eventType: 'rollout',
        additionalContext: { target: 'web', severity: 'info' },
      },
    });
  });

  it('gives e-mail readers text: what happened, what they can do, then the particulars', async () => {
    // Act
    const email = JSON.parse((await published()).Message!).email;

    // Assess
    expect(email).toBe(
      [
        'Rollout of web waits for a person at 50% canary',
        '',
        'Rollout web-42 holds 50% on the canary and waits (manual gate after step 2).',
        '',
        'reflex:   rollout',
        'target:   web',
        'severity: info',
        '',
        'What you can do:',
        '  resume the rollout:',
        '    ecs-reflex rollout resume web-42',
        '    (API: POST /rollouts/web-42/resume)',
        '',
        'Detail:',
        '  runId: web-42',
        '  route: alb:arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/shop/1/2',
        '',
      ].join('\n'),
    );
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
