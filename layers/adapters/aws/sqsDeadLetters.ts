import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DeadLetters } from '#ports';

// SQS refuses bodies over 256 KiB; the reason and source travel as attributes so the body stays intact.
const MAX_BODY_BYTES = 256 * 1024;

/** Parks input that can never succeed in the function's dead-letter queue, with why, for a person to look at. */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async park(input: string, reason: string, source: string): Promise<void> {
    const body =
      Buffer.byteLength(input) > MAX_BODY_BYTES
        ? Buffer.from(input)
            .subarray(0, MAX_BODY_BYTES - 64)
            .toString()
        : input;
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body.length > 0 ? body : '(empty)',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
          source: { DataType: 'String', StringValue: source },
        },
      }),
    );
  }
}
