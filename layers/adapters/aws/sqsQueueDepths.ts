// A queue's depth, as SQS approximates it: what waits (ApproximateNumberOfMessages) and what a consumer
// holds (ApproximateNumberOfMessagesNotVisible). A dead-letter queue nothing consumes holds its messages in
// the first.
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepths } from '#ports';

export class SqsQueueDepths implements QueueDepths {
  constructor(private readonly sqs: Pick<SQSClient, 'send'>) {}

  async depth(queueUrl: string): Promise<{ messages: number; inFlight: number } | { missing: true }> {
    try {
      const { Attributes: attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        messages: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (error) {
      // A queue deleted by hand is worth showing as such, not as a failed page.
      if (error instanceof Error && error.name === 'QueueDoesNotExist') return { missing: true };
      throw error;
    }
  }
}
