import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SqsQueueDepths } from '#adapters/aws/sqsQueueDepths';
import { prepareTwin } from '#local/scenario/runner';
import { queueUrl } from '#local/twin/aws/sqs';
import { opsWorld } from '../support/opsWorld';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-dev-lifecycle-dlq';
const depths = new SqsQueueDepths(sqs as unknown as SQSClient);

beforeEach(() => sqs.reset());

describe('SqsQueueDepths', () => {
  it('reads the waiting and the received messages of the queue, as numbers', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' },
    });

    const depth = await depths.depth(QUEUE_URL);

    expect(depth).toEqual({ messages: 3, inFlight: 1 });
    expect(sqs).toHaveReceivedCommandWith(GetQueueAttributesCommand, {
      QueueUrl: QUEUE_URL,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });
  });

  it('answers a queue deleted by hand as missing', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(
        Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' }),
      );
    expect(await depths.depth(QUEUE_URL)).toEqual({ missing: true });
  });

  it('lets any other error through', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(Object.assign(new Error('Access denied'), { name: 'AccessDenied' }));
    await expect(depths.depth(QUEUE_URL)).rejects.toThrow('Access denied');
  });
});

describe('GetQueueAttributes on the twin', () => {
  const twin = prepareTwin(opsWorld('queue-depths'));
  const url = (name: string) => queueUrl(twin.world, name);

  it('counts what was parked, and answers as SQS does for an unknown queue or attribute', async () => {
    await twin.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: url('alarm-reactor-dlq'),
        MessageBody: '{}',
      }),
    );

    const depth = await new SqsQueueDepths(twin.clients.sqs).depth(url('alarm-reactor-dlq'));
    const all = await twin.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url('lifecycle-dlq'), AttributeNames: ['All'] }),
    );
    const none = await twin.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url('lifecycle-dlq') }),
    );

    expect(depth).toEqual({ messages: 1, inFlight: 0 });
    expect(all.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0' });
    expect(none.Attributes).toBeUndefined();
    expect(await new SqsQueueDepths(twin.clients.sqs).depth(url('no-such-queue'))).toEqual({ missing: true });
    await expect(
      twin.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url('lifecycle-dlq'),
          AttributeNames: ['ApproximateDepth' as never],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAttributeName' });
  });
});
