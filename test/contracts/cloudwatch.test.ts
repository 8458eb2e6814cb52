// The CloudWatch contract on the twin (see cloudwatch.contract.ts; cloudwatch.awstest.ts runs the same on
// AWS).
import { cloudWatchContract } from './cloudwatch.contract';
import { contractTwin, twinEventually } from './harness';

describe('CloudWatch ports on the twin', () => {
  cloudWatchContract(() => {
    const twin = contractTwin();
    return {
      alarms: twin.alarmPorts.alarms,
      metrics: twin.rolloutPorts.metrics,
      clock: twin.world.clock,
      eventually: twinEventually(twin),
      given: async () => {
        const silentMetric = {
          namespace: 'EcsReflex/Contract',
          metricName: 'Silence',
          dimensions: { Run: 'contract' },
        };
        const tags = { 'ecs-reflex:contract': 'alarm' };
        twin.cloudWatch.addAlarm({
          kind: 'metric',
          name: 'contract-silence',
          namespace: silentMetric.namespace,
          metric: silentMetric.metricName,
          dimensions: silentMetric.dimensions,
          statistic: 'Sum',
          comparison: 'GreaterThanOrEqualToThreshold',
          threshold: 1,
          periodSeconds: 60,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          tags,
        });
        twin.cloudWatch.addAlarm({
          kind: 'composite',
          name: 'contract-silence-composite',
          rule: 'ALARM("contract-silence")',
          tags,
        });
        return {
          silentMetric,
          metricAlarm: 'contract-silence',
          compositeAlarm: 'contract-silence-composite',
          tags,
        };
      },
    };
  });
});
