import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MAX_MESSAGE_BYTES, SqsDeadLetters } from '#adapters/aws/sqsDeadLetters';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-task-recycler-dlq';
const deadLetters = new SqsDeadLetters(sqs as unknown as SQSClient, QUEUE_URL);

/** What SQS counts against its limit: the body, and every attribute's name, type and value. */
const messageBytes = (input: SendMessageCommand['input']) =>
  Buffer.byteLength(input.MessageBody ?? '') +
  Object.entries(input.MessageAttributes ?? {}).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType!) +
      Buffer.byteLength(value.StringValue!),
    0,
  );

beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

describe('SqsDeadLetters', () => {
  it('parks the input as it came, with the reason and the source as attributes', async () => {
    // Act
    await deadLetters.park('{"detail-type":"ECS Task State Change"', 'not JSON', 'task-recycler');

    // Assess
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: QUEUE_URL,
      MessageBody: '{"detail-type":"ECS Task State Change"',
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'not JSON' },
        source: { DataType: 'String', StringValue: 'task-recycler' },
      },
    });
  });

  it('keeps a huge input and a long reason within what a 256 KiB queue takes, attributes counted', async () => {
    // Prepare
    const input = `{"records":"${'x'.repeat(300 * 1024)}"}`;
    const reason = `schema: ${'é'.repeat(1500)}`;

    // Act
    await deadLetters.park(input, reason, 'alarm-reactor');

    // Assess
    const sent = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(messageBytes(sent)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(input.startsWith(sent.MessageBody!)).toBe(true);
    expect(sent.MessageBody!.length).toBeGreaterThan(250 * 1024);
    expect(sent.MessageAttributes!.reason!.StringValue).toBe(reason.slice(0, 1000));
  });

  it('never ends a cut input on half a character', async () => {
    // Prepare: three-byte characters, so the cut falls inside one
    const input = '€'.repeat(100_000);

    // Act
    await deadLetters.park(input, 'too large', 'lifecycle-hook');

    // Assess
    const sent = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input;
    expect(messageBytes(sent)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(sent.MessageBody).toMatch(/^€+$/);
  });

  it('parks an empty input as a placeholder, SQS taking no empty body', async () => {
    // Act
    await deadLetters.park('', 'empty record', 'task-recycler');

    // Assess
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { MessageBody: '(empty)' });
  });
});

describe('SqsDeadLetters and the characters SQS refuses', () => {
  it('parks input with control characters or a lone surrogate, each of them replaced by U+FFFD', async () => {
    // Act: SQS refuses the whole message (InvalidMessageContents) for any one of these
    await deadLetters.park('a\u0000b\uD800c\u001Fd\te', 'bad \u0007 bytes', 'task-recycler');

    // Assess
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageBody: 'a\uFFFDb\uFFFDc\uFFFDd\te',
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'bad \uFFFD bytes' },
        source: { DataType: 'String', StringValue: 'task-recycler' },
      },
    });
  });
});
