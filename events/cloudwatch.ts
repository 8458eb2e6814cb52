import * as z from 'zod';
import { AwsTimestampSchema, awsEventSchema } from '#events/envelope';

/*
 * `CloudWatch Alarm State Change` events (source `aws.cloudwatch`). One schema covers the three alarm
 * shapes the alarm reactor sees: a metric alarm (`configuration.metrics[]` with one `metricStat`), a
 * metric-math or anomaly-detection alarm (`metrics[]` mixing `metricStat` and `expression` entries) and
 * a composite alarm (`configuration.alarmRule` instead of `metrics`).
 */

export const CLOUDWATCH_SOURCE = 'aws.cloudwatch';

export const ALARM_STATE_VALUES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export const AlarmStateValueSchema = z.enum(ALARM_STATE_VALUES);
export type AlarmStateValue = z.infer<typeof AlarmStateValueSchema>;

export const AlarmStateSchema = z.looseObject({
  value: AlarmStateValueSchema,
  reason: z.string(),
  // A JSON document in a string (datapoints for metric alarms, triggeringAlarms for composites).
  reasonData: z.string().optional(),
  timestamp: AwsTimestampSchema,
  // Composite alarms with a suppressor: WaitPeriod, ExtensionPeriod or Alarm.
  actionsSuppressedBy: z.string().optional(),
  actionsSuppressedReason: z.string().optional(),
});
export type AlarmState = z.infer<typeof AlarmStateSchema>;

const MetricSchema = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  dimensions: z.record(z.string(), z.string()).optional(),
});

export const AlarmMetricStatQuerySchema = z.looseObject({
  id: z.string(),
  metricStat: z.looseObject({
    metric: MetricSchema,
    period: z.number().int().positive(),
    stat: z.string(),
    unit: z.string().optional(),
  }),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
  accountId: z.string().optional(),
});
export type AlarmMetricStatQuery = z.infer<typeof AlarmMetricStatQuerySchema>;

export const AlarmExpressionQuerySchema = z.looseObject({
  id: z.string(),
  expression: z.string(),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
  // Present on Metrics Insights queries, whose expression carries no period of its own.
  period: z.number().int().positive().optional(),
});
export type AlarmExpressionQuery = z.infer<typeof AlarmExpressionQuerySchema>;

export const AlarmMetricDataQuerySchema = z.union([AlarmMetricStatQuerySchema, AlarmExpressionQuerySchema]);
export type AlarmMetricDataQuery = z.infer<typeof AlarmMetricDataQuerySchema>;

export const MetricAlarmConfigurationSchema = z.looseObject({
  description: z.string().optional(),
  metrics: z.array(AlarmMetricDataQuerySchema).min(1),
});
export type MetricAlarmConfiguration = z.infer<typeof MetricAlarmConfigurationSchema>;

export const CompositeAlarmConfigurationSchema = z.looseObject({
  description: z.string().optional(),
  alarmRule: z.string(),
  actionsSuppressor: z.string().optional(),
  actionsSuppressorWaitPeriod: z.number().int().optional(),
  actionsSuppressorExtensionPeriod: z.number().int().optional(),
});
export type CompositeAlarmConfiguration = z.infer<typeof CompositeAlarmConfigurationSchema>;

export const AlarmConfigurationSchema = z.union([
  CompositeAlarmConfigurationSchema,
  MetricAlarmConfigurationSchema,
]);
export type AlarmConfiguration = z.infer<typeof AlarmConfigurationSchema>;

export const AlarmStateChangeDetailSchema = z.looseObject({
  alarmName: z.string(),
  state: AlarmStateSchema,
  previousState: AlarmStateSchema,
  configuration: AlarmConfigurationSchema,
});
export type AlarmStateChangeDetail = z.infer<typeof AlarmStateChangeDetailSchema>;

export const CloudWatchAlarmStateChangeSchema = awsEventSchema(
  CLOUDWATCH_SOURCE,
  'CloudWatch Alarm State Change',
  AlarmStateChangeDetailSchema,
);
export type CloudWatchAlarmStateChange = z.infer<typeof CloudWatchAlarmStateChangeSchema>;

export function isCompositeAlarmConfiguration(
  configuration: AlarmConfiguration,
): configuration is CompositeAlarmConfiguration {
  return 'alarmRule' in configuration && typeof configuration.alarmRule === 'string';
}

export type AlarmKind = 'metric' | 'metric-math' | 'composite';

/** Which of the three alarm shapes this is; a single `metricStat` and nothing else is a plain metric alarm. */
export function alarmKind(configuration: AlarmConfiguration): AlarmKind {
  if (isCompositeAlarmConfiguration(configuration)) return 'composite';
  const hasExpression = configuration.metrics.some((query) => 'expression' in query);
  return hasExpression || configuration.metrics.length > 1 ? 'metric-math' : 'metric';
}
