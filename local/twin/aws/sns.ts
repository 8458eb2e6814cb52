// Amazon SNS as the twin answers it: Publish to the twin's topics, with SNS's checks on the subject, the
// message and its attributes. Each topic hands what is published to it to its one subscriber: the twin's
// recorders.
import type { MessageAttributeValue, PublishInput, PublishResponse } from '@aws-sdk/client-sns';
import { AwsServiceError, type ServiceModel, write } from '#local/twin/aws/client';

/** At most 256 KiB of message and attributes together. */
const MAX_PUBLISH_BYTES = 262_144;
/** "Less than 100 characters long". */
const MAX_SUBJECT_CHARACTERS = 99;

const invalid = (what: string) =>
  new AwsServiceError('InvalidParameterException', `Invalid parameter: ${what}`);

/** Publish to the twin's topics: each topic's ARN and what subscribes to it. */
export function snsModel(topics: Record<string, (published: PublishInput) => void>): ServiceModel {
  let published = 0;
  return {
    Publish: write(
      (input: PublishInput) => input.Subject ?? input.TopicArn ?? '',
      (input: PublishInput): PublishResponse => {
        if (!input.TopicArn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
        if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(input.TopicArn))
          throw invalid('TopicArn');
        const message = input.Message ?? '';
        if (message.length === 0) throw invalid('Empty message');
        if (input.MessageStructure !== undefined) perProtocol(input);
        const subject = input.Subject;
        // Printable ASCII, no line breaks or control characters, not starting with white space, under 100.
        const printable = /^[\x21-\x7E][\x20-\x7E]*$/;
        if (subject !== undefined && !(subject.length <= MAX_SUBJECT_CHARACTERS && printable.test(subject)))
          throw invalid('Subject');
        const attributeBytes = checkAttributes(input.MessageAttributes ?? {});
        if (Buffer.byteLength(message) + attributeBytes > MAX_PUBLISH_BYTES)
          throw invalid('Message too long');
        const deliver = topics[input.TopicArn];
        if (!deliver) throw new AwsServiceError('NotFoundException', 'Topic does not exist', 404);
        published += 1;
        deliver(input);
        return { MessageId: `00000000-0000-4000-b000-${published.toString(16).padStart(12, '0')}` };
      },
    ),
  };
}

/**
 * A message per protocol (MessageStructure "json"): a JSON object with a string `default`, as SNS refuses
 * anything else; a key whose value is not a string is ignored, as SNS ignores it. Answers the messages by
 * protocol.
 */
function perProtocol(input: PublishInput): Record<string, string> {
  if (input.MessageStructure !== 'json') throw invalid('MessageStructure');
  let messages: unknown;
  try {
    messages = JSON.parse(input.Message ?? '');
  } catch {
    throw invalid('Message Structure - JSON message body failed to parse');
  }
  if (messages === null || typeof messages !== 'object' || Array.isArray(messages))
    throw invalid('Message Structure - JSON message body failed to parse');
  if (typeof (messages as { default?: unknown }).default !== 'string')
    throw invalid('Message Structure - No default entry in JSON message body');
  return Object.fromEntries(Object.entries(messages).filter(([, value]) => typeof value === 'string'));
}

/** What a subscriber of `protocol` receives of a Publish: its own message, else the default one. */
export function messageFor(input: PublishInput, protocol: string): string {
  if (input.MessageStructure === undefined) return input.Message ?? '';
  const messages = perProtocol(input);
  return messages[protocol] ?? messages.default!;
}

/** SNS's rules for message attributes; answers the bytes they count towards the message's size. */
function checkAttributes(attributes: Record<string, MessageAttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    const type = value.DataType ?? '';
    if (!/^(String|Number|Binary|String\.Array)(\..+)?$/.test(type))
      throw invalid(`The message attribute '${name}' has an invalid message attribute type`);
    // A binary value counts as its base64 text.
    const binary = value.BinaryValue?.length ? Buffer.from(value.BinaryValue).toString('base64') : '';
    const text = type.startsWith('Binary') ? binary : value.StringValue;
    if (!text)
      throw invalid(`The message attribute '${name}' must contain non-empty message attribute value`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(text);
  }
  return bytes;
}
