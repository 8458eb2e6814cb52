// The twin's SNS: a message per protocol (MessageStructure "json") is checked as SNS checks it, and each
// subscriber gets its own protocol's message, or the default one.
import { PublishCommand, type PublishInput, SNSClient } from '@aws-sdk/client-sns';
import { TwinSendLayer } from '#local/twin/aws/client';
import { Faults } from '#local/twin/aws/faults';
import { messageFor, snsModel } from '#local/twin/aws/sns';
import { VirtualScheduler } from '#local/twin/scheduler';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:ecs-reflex-notifications';

function aTopic() {
  const published: PublishInput[] = [];
  const layer = new TwinSendLayer({
    clock: new VirtualScheduler(new Date('2026-11-02T09:00:00Z')),
    calls: [],
    faults: new Faults(1),
  });
  const client = layer.client(SNSClient, snsModel({ [TOPIC]: (input) => published.push(input) }));
  return { client, published };
}

describe('the twin’s SNS', () => {
  it('hands each protocol its own message of a per-protocol Publish, and the default to the others', async () => {
    // Prepare
    const { client, published } = aTopic();

    // Act
    await client.send(
      new PublishCommand({
        TopicArn: TOPIC,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'for everyone', email: 'for a person' }),
      }),
    );

    // Assess
    expect([messageFor(published[0]!, 'email'), messageFor(published[0]!, 'sqs')]).toEqual([
      'for a person',
      'for everyone',
    ]);
  });

  it('ignores a protocol whose message is not text, as SNS does: that subscriber gets the default', async () => {
    // Prepare
    const { client, published } = aTopic();

    // Act
    await client.send(
      new PublishCommand({
        TopicArn: TOPIC,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'for everyone', sqs: { not: 'text' } }),
      }),
    );

    // Assess
    expect(messageFor(published[0]!, 'sqs')).toBe('for everyone');
  });

  it.each([
    [
      'no default',
      { email: 'text' },
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    ],
    ['not JSON', '{"default":', 'Invalid parameter: Message Structure - JSON message body failed to parse'],
  ])('refuses a per-protocol message with %s, as SNS does, delivering nothing', async (_, body, message) => {
    // Prepare
    const { client, published } = aTopic();

    // Act
    const refused = await client
      .send(
        new PublishCommand({
          TopicArn: TOPIC,
          MessageStructure: 'json',
          Message: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      )
      .catch((error: Error) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'InvalidParameterException', message });
    expect(published).toEqual([]);
  });
});
