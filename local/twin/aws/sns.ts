// Amazon SNS as the twin answers it: Publish to the twin's topics, with SNS's checks on the subject, the
// message and its attributes. Each topic keeps what was published to it (the twin has no subscribers to
// deliver to); the twin's own recorders read it from there.
import type { MessageAttributeValue, PublishInput, PublishResponse } from '@aws-sdk/client-sns';
import { AwsServiceError, type ServiceModel, write } from '#local/twin/aws/client';

/** What a topic's subscriber is handed: the message as it was published. */
export interface PublishedMessage {
  subject?: string;
  message: string;
  attributes: Record<string, string>;
}

/** At most 256 KiB of message and attributes together. */
const MAX_PUBLISH_BYTES = 262_144;
/** "Less than 100 characters long". */
const MAX_SUBJECT_CHARACTERS = 99;

export class TwinSns {
  private readonly topics = new Map<string, (message: PublishedMessage) => void>();
  private published = 0;

  constructor(private readonly home: { account: string; region: string }) {}

  /** Creates the topic (what subscribes to it is `onPublish`); answers its ARN. */
  addTopic(name: string, onPublish: (message: PublishedMessage) => void = () => undefined): string {
    const arn = `arn:aws:sns:${this.home.region}:${this.home.account}:${name}`;
    this.topics.set(arn, onPublish);
    return arn;
  }

  /** @internal the model's delivery; answers the message's id */
  publish(topicArn: string, message: PublishedMessage): string {
    const deliver = this.topics.get(topicArn);
    if (!deliver) throw new AwsServiceError('NotFoundException', 'Topic does not exist', 404);
    this.published += 1;
    deliver(message);
    return `00000000-0000-4000-b000-${this.published.toString(16).padStart(12, '0')}`;
  }
}

const invalid = (what: string) =>
  new AwsServiceError('InvalidParameterException', `Invalid parameter: ${what}`);

export function snsModel(sns: TwinSns): ServiceModel {
  return {
    Publish: write(
      (input: PublishInput) => input.Subject ?? input.TopicArn ?? '',
      (input: PublishInput): PublishResponse => {
        if (!input.TopicArn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
        if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(input.TopicArn))
          throw invalid('TopicArn');
        const message = input.Message ?? '';
        if (message.length === 0) throw invalid('Empty message');
        const subject = input.Subject;
        // Printable, no line breaks or control characters, not starting with white space, under 100.
        const printable = /^(?!\s)\P{Cc}+$/u;
        if (subject !== undefined && !(subject.length <= MAX_SUBJECT_CHARACTERS && printable.test(subject)))
          throw invalid('Subject');
        const attributes = checkAttributes(input.MessageAttributes ?? {});
        const attributeBytes = Object.entries(attributes).reduce(
          (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
          0,
        );
        if (Buffer.byteLength(message) + attributeBytes > MAX_PUBLISH_BYTES)
          throw invalid('Message too long');
        const MessageId = sns.publish(input.TopicArn, {
          ...(subject !== undefined ? { subject } : {}),
          message,
          attributes,
        });
        return { MessageId };
      },
    ),
  };
}

function checkAttributes(attributes: Record<string, MessageAttributeValue>): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const type = value.DataType ?? '';
    if (!/^(String|Number|Binary|String\.Array)(\..+)?$/.test(type))
      throw invalid(`The message attribute '${name}' has an invalid message attribute type`);
    if (type.startsWith('Binary')) {
      if (!value.BinaryValue?.length)
        throw invalid(`The message attribute '${name}' must contain non-empty message attribute value`);
      checked[name] = Buffer.from(value.BinaryValue).toString('base64');
      continue;
    }
    if (!value.StringValue)
      throw invalid(`The message attribute '${name}' must contain non-empty message attribute value`);
    checked[name] = value.StringValue;
  }
  return checked;
}
