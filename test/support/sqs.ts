// An SQS batch as Lambda's poller hands it over: one record per body, in order.
import type { SQSEvent } from 'aws-lambda';

export function sqsBatch(bodies: string[], queue = 'task-recycler-buffer'): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:eu-west-1:111122223333:${queue}`,
      awsRegion: 'eu-west-1',
    })),
  };
}
