// Amazon SQS as the twin answers it: SendMessage onto the twin's queues and GetQueueAttributes (their
// depth), by queue URL. The queues
// themselves are the simulation (local/twin/delivery.ts: visibility, receives, redrive to the function);
// this module is the API in front of them, with SQS's own checks: the delay, the size, the characters,
// the attributes, and the MD5 digests the SDK's SQS client verifies on every answer.
import { createHash } from 'node:crypto';
import type {
  GetQueueAttributesRequest,
  GetQueueAttributesResult,
  MessageAttributeValue,
  SendMessageBatchRequest,
  SendMessageBatchResult,
  SendMessageRequest,
  SendMessageResult,
} from '@aws-sdk/client-sqs';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';

/** What a queue of the twin takes: its consumer sees the message once its delay has passed. */
export interface SqsQueue {
  readonly name: string;
  /** Messages on the queue, received or not (what GetQueueAttributes approximates). */
  readonly depth: number;
  /** A FIFO queue (its name ends in .fifo): each message names its group, and no message its own delay. */
  readonly fifo?: boolean;
  send(
    body: string,
    delaySeconds?: number,
    attributes?: Record<string, MessageAttributeValue>,
    fifo?: { groupId: string; deduplicationId: string },
  ): void;
}

/** A queue's URL, as SQS names it. */
export const queueUrl = (home: { account: string; region: string }, name: string): string =>
  `https://sqs.${home.region}.amazonaws.com/${home.account}/${name}`;

/** A message, body and attributes together, is at most 256 KiB on a queue of the default size. */
const MAX_MESSAGE_BYTES = 262_144;
const MAX_DELAY_SECONDS = 900;
const MAX_ATTRIBUTES = 10;
/** A character SQS refuses in a body or a string attribute: one outside XML 1.0's, or a restricted one. */
const INVALID_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/i;

const invalid = (message: string) => new AwsServiceError('InvalidParameterValue', message);
const missing = (parameter: string) =>
  new AwsServiceError('MissingParameter', `The request must contain the parameter ${parameter}.`);

/**
 * QueueDoesNotExist, as the JSON protocol names it; `Code` is the query protocol's name for it, which
 * the SDK carries too (awsQueryCompatible).
 */
export class QueueDoesNotExist extends AwsServiceError {
  readonly Code = 'AWS.SimpleQueueService.NonExistentQueue';
  constructor(message = 'The specified queue does not exist.') {
    super('QueueDoesNotExist', message);
  }
}

/** The attributes the twin's queues answer; any other name SQS knows is answered as absent. */
const QUEUE_ATTRIBUTES = new Set([
  'All',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'Policy',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
]);

/** What SendMessage and each entry of SendMessageBatch carry. */
type Message = Omit<SendMessageRequest, 'QueueUrl'>;

const MAX_BATCH_ENTRIES = 10;
/** A SendMessageBatch's messages together (since 2025; each message still within its queue's size). */
const MAX_BATCH_BYTES = 1_048_576;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** MessageGroupId and MessageDeduplicationId: up to 128 of the alphanumerics and punctuation. */
const FIFO_TOKEN = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/** What a call acts on: the queue its URL ends in. */
const queueNameOf = (input: { QueueUrl?: string }) => input.QueueUrl?.split('/').pop() ?? '';

/** SendMessage and SendMessageBatch onto the twin's queues, and their depth, by their URLs. */
export function sqsModel(queues: Map<string, SqsQueue>): ServiceModel {
  let sent = 0;
  const queueAt = (url: string | undefined): SqsQueue => {
    if (!url) throw missing('QueueUrl');
    const queue = queues.get(url);
    if (!queue) throw new QueueDoesNotExist();
    return queue;
  };
  const send = (queue: SqsQueue, message: Message): SendMessageResult => {
    const body = message.MessageBody;
    if (!body) throw missing('MessageBody');
    if (INVALID_CHARACTER.test(body))
      throw new AwsServiceError(
        'InvalidMessageContents',
        'Invalid binary character in the message body: the message body must be valid XML characters.',
      );
    const delay = message.DelaySeconds ?? 0;
    if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_SECONDS)
      throw invalid(
        `Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${MAX_DELAY_SECONDS}, if provided.`,
      );
    const fifo = queue.fifo ? fifoParameters(message, delay) : undefined;
    const attributes = message.MessageAttributes ?? {};
    const attributeBytes = checkAttributes(attributes);
    if (Buffer.byteLength(body) + attributeBytes > MAX_MESSAGE_BYTES)
      throw invalid(
        `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`,
      );
    queue.send(body, delay, attributes, fifo);
    sent += 1;
    return {
      MessageId: `00000000-0000-4000-a000-${sent.toString(16).padStart(12, '0')}`,
      MD5OfMessageBody: md5(Buffer.from(body)),
      ...(Object.keys(attributes).length > 0
        ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) }
        : {}),
      ...(fifo && { SequenceNumber: String(sent).padStart(20, '0') }),
    };
  };
  return {
    GetQueueAttributes: read(queueNameOf, (input: GetQueueAttributesRequest): GetQueueAttributesResult => {
      const queue = queueAt(input.QueueUrl);
      const names = input.AttributeNames ?? [];
      const unknown = names.find((name) => !QUEUE_ATTRIBUTES.has(name));
      if (unknown) throw new AwsServiceError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
      // Counts only: nothing here reads a queue's configuration. Received messages are not held apart.
      const counts: Record<string, string> = {
        ApproximateNumberOfMessages: String(queue.depth),
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
      };
      const wanted = names.includes('All') ? Object.keys(counts) : names;
      const attributes = Object.fromEntries(
        wanted.flatMap((name) => (name in counts ? [[name, counts[name]!]] : [])),
      );
      return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
    }),
    SendMessage: write(
      queueNameOf,
      (input: SendMessageRequest): SendMessageResult => send(queueAt(input.QueueUrl), input),
    ),
    SendMessageBatch: write(queueNameOf, (input: SendMessageBatchRequest): SendMessageBatchResult => {
      const queue = queueAt(input.QueueUrl);
      const entries = input.Entries ?? [];
      if (entries.length === 0)
        throw new AwsServiceError(
          'EmptyBatchRequest',
          'There should be at least one SendMessageBatchRequestEntry in the request.',
        );
      if (entries.length > MAX_BATCH_ENTRIES)
        throw new AwsServiceError(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
        );
      const ids = entries.map((e) => e.Id ?? '');
      const badId = ids.find((id) => !BATCH_ENTRY_ID.test(id));
      if (badId !== undefined)
        throw new AwsServiceError(
          'InvalidBatchEntryId',
          `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.`,
        );
      if (new Set(ids).size < ids.length)
        throw new AwsServiceError(
          'BatchEntryIdsNotDistinct',
          'Two or more batch entries in the request have the same Id.',
        );
      const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (bytes > MAX_BATCH_BYTES)
        throw new AwsServiceError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes. You have sent ${bytes} bytes.`,
        );
      const result: SendMessageBatchResult = { Successful: [], Failed: [] };
      for (const { Id, ...message } of entries) {
        try {
          result.Successful!.push({ Id, ...send(queue, message) } as never);
        } catch (refusal) {
          const error = refusal as AwsServiceError;
          result.Failed!.push({ Id, SenderFault: true, Code: error.name, Message: error.message });
        }
      }
      return result;
    }),
  };
}

/** A FIFO queue's own rules: a group for every message, a deduplication id, no delay of its own. */
function fifoParameters(message: Message, delay: number): { groupId: string; deduplicationId: string } {
  if (delay !== 0)
    throw invalid(
      `Value ${delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  const groupId = message.MessageGroupId;
  if (!groupId) throw missing('MessageGroupId');
  const deduplicationId = message.MessageDeduplicationId;
  if (!deduplicationId)
    throw invalid(
      'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  for (const [name, value] of [
    ['MessageGroupId', groupId],
    ['MessageDeduplicationId', deduplicationId],
  ] as const) {
    if (!FIFO_TOKEN.test(value))
      throw invalid(
        `Value ${value} for parameter ${name} is invalid. Reason: The parameter may only contain alphanumeric and punctuation characters, up to 128.`,
      );
  }
  return { groupId, deduplicationId };
}

/** SQS's rules for message attributes; answers the bytes they count towards the message's size. */
function checkAttributes(attributes: Record<string, MessageAttributeValue>): number {
  const names = Object.keys(attributes);
  if (names.length > MAX_ATTRIBUTES)
    throw invalid(
      `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`,
    );
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`Message attribute name '${name}' is invalid.`);
    const type = value.DataType ?? '';
    const base = type.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary')
      throw invalid(
        `The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    const text = base === 'Binary' ? undefined : value.StringValue;
    if (base === 'Binary' ? !value.BinaryValue?.length : !text)
      throw invalid(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
      );
    if (text !== undefined && INVALID_CHARACTER.test(text))
      throw invalid(`The message attribute '${name}' contains characters outside the allowed set.`);
    if (base === 'Number' && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text ?? ''))
      throw invalid(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(type) +
      (text !== undefined ? Buffer.byteLength(text) : (value.BinaryValue?.length ?? 0));
  }
  return bytes;
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

/**
 * The digest SQS gives of a message's attributes: by name in order, each name, type and value with its
 * length as 4 bytes big-endian before it, the value after a transport byte (1 string, 2 binary).
 */
function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const withLength = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType = '', StringValue = '', BinaryValue } = attributes[name]!;
    withLength(Buffer.from(name));
    withLength(Buffer.from(DataType));
    parts.push(Buffer.from([BinaryValue ? 2 : 1]));
    withLength(BinaryValue ? Buffer.from(BinaryValue) : Buffer.from(StringValue));
  }
  return md5(Buffer.concat(parts));
}
