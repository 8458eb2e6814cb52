import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DeadLetters } from '#ports';

/**
 * What one SQS message may hold, body and attributes together (names, types and values all count). New
 * queues take 1 MiB since 2025; a queue created before keeps its 256 KiB unless someone raised it, and a
 * dead letter must fit either.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Enough of the reason to act on; the input itself is what a person needs in full. */
export const MAX_REASON_CHARACTERS = 1000;
/** SQS refuses an empty body. */
export const EMPTY_INPUT_BODY = '(empty)';

export interface DeadLetter {
  body: string;
  reason: string;
  source: string;
}

/**
 * The message a dead letter becomes: the reason and the source travel as attributes so the body stays the
 * input as it came (but for characters SQS cannot carry); an input too large for the message keeps its
 * beginning.
 */
/**
 * The characters SQS takes in a body or attribute (XML 1.0's: tab, newline, carriage return, U+0020 and
 * up, without surrogate halves, U+FFFE or U+FFFF). It refuses a whole message with any other
 * (InvalidMessageContents), so such input would never be parked: each of them becomes U+FFFD instead.
 */
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
export const sqsText = (text: string): string => text.replace(NOT_SQS_TEXT, '\uFFFD');

export function deadLetterOf(rawInput: string, reason: string, source: string): DeadLetter {
  const input = sqsText(rawInput);
  const attributes = { reason: sqsText(reason.slice(0, MAX_REASON_CHARACTERS)), source: sqsText(source) };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength('String') + Buffer.byteLength(value),
    0,
  );
  const room = MAX_MESSAGE_BYTES - attributeBytes;
  const body =
    Buffer.byteLength(input) > room
      ? Buffer.from(input)
          .subarray(0, room)
          .toString()
          // A cut through a multi-byte character decodes to U+FFFD (3 bytes); drop it rather than grow.
          .replace(/\uFFFD+$/, '')
      : input;
  return { body: body.length > 0 ? body : EMPTY_INPUT_BODY, ...attributes };
}

/** Parks input that can never succeed in the function's dead-letter queue, with why, for a person to look at. */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async park(input: string, reason: string, source: string): Promise<void> {
    const letter = deadLetterOf(input, reason, source);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: letter.reason },
          source: { DataType: 'String', StringValue: letter.source },
        },
      }),
    );
  }
}
