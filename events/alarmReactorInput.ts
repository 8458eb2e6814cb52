// What reaches the alarm reactor, read at the edge: an alarm name to look at, an event deliberately
// ignored, or a rejection with a reason (parked, never retried).
import { CloudWatchAlarmStateChangeSchema } from '#events/cloudwatch';
import { EventBridgeEnvelopeSchema } from '#events/envelope';
import { checkValue } from '#runtime/boundedInput';
import { fromElsewhere, type StackLocation } from '#runtime/location';

export type AlarmReactorInput =
  | { kind: 'request'; alarmName: string; reportedState: string }
  | { kind: 'sweep' }
  | { kind: 'ignored'; why: string }
  /** An event of another account or region: its alarm is not ours, whatever its name. */
  | { kind: 'elsewhere'; why: string }
  | { kind: 'rejected'; reason: string; issues: { path: string; message: string }[] };

export function readAlarmReactorInput(event: unknown, here?: StackLocation): AlarmReactorInput {
  // Before any parse: zod and JSON.stringify recurse, and a deep enough event would overflow the stack.
  const bounded = checkValue(event);
  if (!bounded.ok) return { kind: 'rejected', reason: bounded.reason, issues: [] };
  const envelope = EventBridgeEnvelopeSchema.safeParse(event);
  if (!envelope.success) return rejected('not an EventBridge event', envelope.error.issues);
  const elsewhere = fromElsewhere(envelope.data, here);
  if (elsewhere) return { kind: 'elsewhere', why: elsewhere };
  const { source, 'detail-type': detailType } = envelope.data;
  // The every-minute schedule that drives the sweep arrives at the same function.
  if (source === 'aws.events' && detailType === 'Scheduled Event') return { kind: 'sweep' };
  if (source !== 'aws.cloudwatch' || detailType !== 'CloudWatch Alarm State Change') {
    return { kind: 'ignored', why: `${source} / ${detailType} is not an alarm state change` };
  }
  const parsed = CloudWatchAlarmStateChangeSchema.safeParse(event);
  if (!parsed.success) return rejected('malformed CloudWatch Alarm State Change', parsed.error.issues);
  return {
    kind: 'request',
    alarmName: parsed.data.detail.alarmName,
    reportedState: parsed.data.detail.state.value,
  };
}

function rejected(reason: string, issues: { path: PropertyKey[]; message: string }[]): AlarmReactorInput {
  return {
    kind: 'rejected',
    reason,
    issues: issues
      .slice(0, 10)
      .map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  };
}
