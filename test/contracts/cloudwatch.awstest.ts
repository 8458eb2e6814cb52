// The CloudWatch contract on AWS: a metric alarm on a metric of the run's own that nothing publishes, and a
// composite alarm over it, both with actions off and deleted afterwards (alarms are billed by the month,
// prorated: minutes of them cost close to nothing). Nothing is published, so no metric is created.
import {
  type CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmStates } from '#adapters/aws/cloudWatchAlarmStates';
import { cloudWatchMetrics } from '#adapters/aws/cloudWatchMetrics';
import { AwsContractContext, describeOnAws } from './aws/context';
import { cloudWatchContract } from './cloudwatch.contract';

/**
 * A new composite alarm is INSUFFICIENT_DATA until CloudWatch first evaluates it (PutCompositeAlarm API
 * reference), which may take longer than most control-plane reads.
 */
const EVALUATION_SECONDS = 180;

describeOnAws('CloudWatch ports on AWS', () => {
  const aws = new AwsContractContext();
  afterAll(() => aws.cleanup());

  cloudWatchContract(() => {
    const { cloudWatch } = aws.clients;
    return {
      alarms: new CloudWatchAlarmStates(cloudWatch),
      metrics: cloudWatchMetrics(cloudWatch),
      clock: { now: () => new Date() },
      eventually: (read, ok) => aws.eventually(read, ok, EVALUATION_SECONDS),
      given: async () => {
        const silentMetric = {
          namespace: 'EcsReflex/Contract',
          metricName: 'Silence',
          dimensions: { Run: aws.prefix },
        };
        const tags = {
          'ecs-reflex:contract': 'alarm',
          ...Object.fromEntries(aws.tags().map((t) => [t.key, t.value])),
        };
        const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

        const metricAlarm = aws.name('silence');
        await cloudWatch.send(
          new PutMetricAlarmCommand({
            AlarmName: metricAlarm,
            Namespace: silentMetric.namespace,
            MetricName: silentMetric.metricName,
            Dimensions: Object.entries(silentMetric.dimensions).map(([Name, Value]) => ({ Name, Value })),
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 1,
            DatapointsToAlarm: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            // No datapoint keeps the alarm INSUFFICIENT_DATA rather than OK or ALARM.
            TreatMissingData: 'missing',
            ActionsEnabled: false,
            Tags,
          }),
        );
        // The composite's rule names this alarm: it goes after the composite (deferred later, so deleted
        // earlier), and is retried while CloudWatch still sees the composite.
        aws.defer(`alarm ${metricAlarm}`, () => aws.retrying(() => deleteAlarm(cloudWatch, metricAlarm)));

        const compositeAlarm = aws.name('silence-composite');
        // The rule must name an alarm CloudWatch knows: the one just put may take a moment to be seen.
        await aws.retrying(
          () =>
            cloudWatch.send(
              new PutCompositeAlarmCommand({
                AlarmName: compositeAlarm,
                AlarmRule: `ALARM("${metricAlarm}")`,
                ActionsEnabled: false,
                Tags,
              }),
            ),
          60,
        );
        aws.defer(`alarm ${compositeAlarm}`, () =>
          aws.retrying(() => deleteAlarm(cloudWatch, compositeAlarm)),
        );

        return { silentMetric, metricAlarm, compositeAlarm, tags };
      },
    };
  });
});

/**
 * DeleteAlarms answers success even for a name it did not delete (API reference: "To confirm that alarms
 * were deleted successfully, you can use the DescribeAlarms operation"): throws while the alarm is there.
 */
async function deleteAlarm(cloudWatch: CloudWatchClient, name: string): Promise<void> {
  try {
    await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
  } catch (error) {
    // A retry after a delete that went through: gone is what was asked for.
    if ((error as Error).name !== 'ResourceNotFound') throw error;
  }
  const left = await cloudWatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
  );
  if ((left.MetricAlarms?.length ?? 0) + (left.CompositeAlarms?.length ?? 0) > 0)
    throw new Error(`alarm ${name} is still there after DeleteAlarms`);
}
