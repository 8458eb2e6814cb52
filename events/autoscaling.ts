import * as z from 'zod';
import { AwsTimestampSchema, EventBridgeEnvelopeSchema } from '#events/envelope';
import { checkText, checkValue } from '#runtime/boundedInput';

/*
 * EC2 Auto Scaling lifecycle hooks reach us in three forms: an EventBridge event, a JSON message on an
 * SQS queue named as the hook's notification target, or the same JSON inside an SNS notification. All
 * of them normalise into one LifecycleAction (the aws-node-termination-handler approach), and the
 * `autoscaling:TEST_NOTIFICATION` that AWS sends when a notification target is set is recognised and
 * skipped explicitly rather than failing validation and retrying.
 */

export const AUTOSCALING_SOURCE = 'aws.autoscaling';
export const TEST_NOTIFICATION_EVENT = 'autoscaling:TEST_NOTIFICATION';

export const LIFECYCLE_TRANSITIONS = {
  launch: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  terminate: 'autoscaling:EC2_INSTANCE_TERMINATING',
} as const;

export const LIFECYCLE_DETAIL_TYPES = {
  launch: 'EC2 Instance-launch Lifecycle Action',
  terminate: 'EC2 Instance-terminate Lifecycle Action',
} as const;

export const LifecycleTransitionSchema = z.enum([
  LIFECYCLE_TRANSITIONS.launch,
  LIFECYCLE_TRANSITIONS.terminate,
]);
export type LifecycleTransition = z.infer<typeof LifecycleTransitionSchema>;

// Fields shared by the EventBridge detail and the SNS/SQS message.
const lifecycleActionFields = {
  LifecycleActionToken: z.string().min(1),
  AutoScalingGroupName: z.string().min(1),
  LifecycleHookName: z.string().min(1),
  EC2InstanceId: z.string().min(1),
  LifecycleTransition: LifecycleTransitionSchema,
  // Free text set on the hook; absent (or null in some renderings) when the hook has none.
  NotificationMetadata: z.string().nullish(),
  // Warm pools: where the instance comes from and goes to (EC2, AutoScalingGroup, WarmPool).
  Origin: z.string().optional(),
  Destination: z.string().optional(),
  // Set to ReplaceRootVolume when an instance refresh replaces the root volume in place.
  Action: z.string().optional(),
};

// --- EventBridge form ----------------------------------------------------------------------------

export const LifecycleActionDetailSchema = z.looseObject(lifecycleActionFields);
export type LifecycleActionDetail = z.infer<typeof LifecycleActionDetailSchema>;

export const LifecycleActionEventSchema = EventBridgeEnvelopeSchema.extend({
  source: z.literal(AUTOSCALING_SOURCE),
  'detail-type': z.enum([LIFECYCLE_DETAIL_TYPES.launch, LIFECYCLE_DETAIL_TYPES.terminate]),
  detail: LifecycleActionDetailSchema,
}).superRefine((event, ctx) => {
  // A launch event carrying a terminating transition would make us drain a new instance (or the
  // reverse); refuse the contradiction instead of picking one side.
  const expected =
    event['detail-type'] === LIFECYCLE_DETAIL_TYPES.launch
      ? LIFECYCLE_TRANSITIONS.launch
      : LIFECYCLE_TRANSITIONS.terminate;
  if (event.detail.LifecycleTransition !== expected) {
    ctx.addIssue({
      code: 'custom',
      path: ['detail', 'LifecycleTransition'],
      message: `expected ${expected} for detail-type "${event['detail-type']}"`,
      input: event.detail.LifecycleTransition,
    });
  }
});
export type LifecycleActionEvent = z.infer<typeof LifecycleActionEventSchema>;

// --- SNS / SQS message body ----------------------------------------------------------------------

export const LifecycleActionNotificationSchema = z.looseObject({
  // Declared so the discriminated union below can route on it: action messages carry no Event.
  Event: z.undefined().optional(),
  Service: z.string(),
  Time: AwsTimestampSchema,
  RequestId: z.string(),
  AccountId: z.string(),
  ...lifecycleActionFields,
});
export type LifecycleActionNotification = z.infer<typeof LifecycleActionNotificationSchema>;

export const TestNotificationSchema = z.looseObject({
  Event: z.literal(TEST_NOTIFICATION_EVENT),
  Service: z.string(),
  Time: AwsTimestampSchema,
  RequestId: z.string(),
  AccountId: z.string(),
  AutoScalingGroupName: z.string(),
  AutoScalingGroupARN: z.string(),
});
export type TestNotification = z.infer<typeof TestNotificationSchema>;

/** The message body AWS delivers to a hook's SNS topic or SQS queue (after JSON parsing). */
export const LifecycleNotificationSchema = z.discriminatedUnion('Event', [
  TestNotificationSchema,
  LifecycleActionNotificationSchema,
]);
export type LifecycleNotification = z.infer<typeof LifecycleNotificationSchema>;

// --- normalisation -------------------------------------------------------------------------------

export type LifecycleAction = {
  kind: 'lifecycle-action';
  transition: 'launch' | 'terminate';
  groupName: string;
  hookName: string;
  instanceId: string;
  token: string;
  metadata?: string;
  /** When AWS emitted the event (EventBridge `time` or the message `Time`). */
  at: string;
  origin?: string;
  destination?: string;
  action?: string;
  /**
   * Where the action happened, as far as the delivery says: the EventBridge envelope's account and region;
   * a notification's AccountId, and the region of the SNS topic that carried it.
   */
  account?: string;
  region?: string;
  /** The SNS topic that carried a notification, when it came through one. */
  topicArn?: string;
};

export type LifecycleTestNotification = { kind: 'test-notification' };

export type NormalisedLifecycleEvent = LifecycleAction | LifecycleTestNotification;

const SnsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification'),
  Message: z.string(),
  TopicArn: z.string().optional(),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Deliberately looser than TestNotificationSchema: a test message missing a field is still a test
// message, and skipping it is always safe, whereas rejecting it would send it to a dead-letter queue.
function isTestNotification(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (value.Event === TEST_NOTIFICATION_EVENT || value.LifecycleTransition === TEST_NOTIFICATION_EVENT)
    return true;
  return 'detail-type' in value && isTestNotification(value.detail);
}

function toTransition(transition: LifecycleTransition): LifecycleAction['transition'] {
  return transition === LIFECYCLE_TRANSITIONS.launch ? 'launch' : 'terminate';
}

function toLifecycleAction(
  fields: LifecycleActionDetail,
  at: string,
  where: { account?: string; region?: string },
): LifecycleAction {
  return {
    kind: 'lifecycle-action',
    transition: toTransition(fields.LifecycleTransition),
    groupName: fields.AutoScalingGroupName,
    hookName: fields.LifecycleHookName,
    instanceId: fields.EC2InstanceId,
    token: fields.LifecycleActionToken,
    ...(fields.NotificationMetadata != null ? { metadata: fields.NotificationMetadata } : {}),
    at,
    ...(fields.Origin !== undefined ? { origin: fields.Origin } : {}),
    ...(fields.Destination !== undefined ? { destination: fields.Destination } : {}),
    ...(fields.Action !== undefined ? { action: fields.Action } : {}),
    ...(where.account !== undefined ? { account: where.account } : {}),
    ...(where.region !== undefined ? { region: where.region } : {}),
  };
}

// SQS bodies and SNS messages are JSON text, and SNS may wrap the message once more; at most three
// layers (string -> SNS envelope -> string) exist, so the loop is bounded. The topic that carried the
// message is kept: its ARN says which region the notification comes from.
function unwrap(input: unknown, ctx: z.RefinementCtx, via: { topicArn?: string }): unknown {
  let value = input;
  for (let layer = 0; layer < 4; layer++) {
    // Each layer measured before it is parsed: zod and JSON.stringify recurse, JSON text may hide more.
    const bounded = typeof value === 'string' ? checkText(value) : checkValue(value);
    if (!bounded.ok) {
      ctx.addIssue({ code: 'custom', message: bounded.reason, input: undefined });
      return z.NEVER;
    }
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON document', input: value });
        return z.NEVER;
      }
      continue;
    }
    const envelope = SnsEnvelopeSchema.safeParse(value);
    if (!envelope.success) return value;
    if (envelope.data.TopicArn !== undefined) via.topicArn = envelope.data.TopicArn;
    value = envelope.data.Message;
  }
  return value;
}

function forward(error: z.ZodError, ctx: z.RefinementCtx): typeof z.NEVER {
  for (const issue of error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
}

/**
 * Accepts any delivery form (EventBridge event, SQS body, SNS envelope or Lambda SNS record's `Sns`,
 * as an object or as JSON text) and yields one NormalisedLifecycleEvent. Use `safeParse` at the edge to
 * log a structured reason instead of throwing.
 */
export const LifecycleDeliverySchema = z.unknown().transform((input, ctx): NormalisedLifecycleEvent => {
  const via: { topicArn?: string } = {};
  const value = unwrap(input, ctx, via);
  if (ctx.issues.length > 0) return z.NEVER;
  if (isTestNotification(value)) return { kind: 'test-notification' };

  if (isRecord(value) && 'detail-type' in value) {
    const event = LifecycleActionEventSchema.safeParse(value);
    if (!event.success) return forward(event.error, ctx);
    const { account, region } = event.data;
    return toLifecycleAction(event.data.detail, event.data.time, { account, region });
  }

  const message = LifecycleActionNotificationSchema.safeParse(value);
  if (!message.success) return forward(message.error, ctx);
  // arn:PARTITION:sns:REGION:ACCOUNT:NAME
  const topicRegion = via.topicArn?.split(':')[3] || undefined;
  return {
    ...toLifecycleAction(message.data, message.data.Time, {
      account: message.data.AccountId,
      ...(topicRegion ? { region: topicRegion } : {}),
    }),
    ...(via.topicArn ? { topicArn: via.topicArn } : {}),
  };
});

/** Throws a ZodError (naming the offending field) when the input is no lifecycle delivery at all. */
export function normaliseLifecycleAction(input: unknown): NormalisedLifecycleEvent {
  return LifecycleDeliverySchema.parse(input);
}
