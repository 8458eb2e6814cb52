import fc from 'fast-check';
import {
  type AnalysisLimits,
  assessCheck,
  type CheckResult,
  type CheckSpec,
  decideAfterAnalysis,
  metricQueries,
  NO_COUNTS,
  type Observations,
  runResult,
} from '#domain/rolloutAnalysis';

const ALB_SOURCE = {
  kind: 'alb' as const,
  loadBalancer: 'app/shop/50dc6c495c0c9188',
  stableTargetGroup: 'targetgroup/web-v1/73e2d6bc24d8a067',
  canaryTargetGroup: 'targetgroup/web-v2/6d0ecf831eec9f09',
};
const errorRate: CheckSpec = {
  name: 'errors',
  kind: 'errorRate',
  source: ALB_SOURCE,
  minRequests: 100,
  max: 0.01,
};
const latency: CheckSpec = {
  name: 'p99',
  kind: 'latency',
  source: ALB_SOURCE,
  percentile: 99,
  minRequests: 100,
  maxRelativeToStable: 1.5,
};
const seen = (
  metrics: Record<string, number | undefined>,
  extra: Partial<Observations> = {},
): Observations => ({
  metrics,
  alarms: {},
  targetHealth: {},
  ...extra,
});

describe('metric queries', () => {
  it('ask for requests and errors (or the percentile) of canary and stable, with the ALB dimensions', () => {
    const queries = metricQueries([errorRate, latency]);
    expect(queries.map((q) => `${q.id} ${q.metricName} ${q.stat} ${q.dimensions.TargetGroup}`)).toEqual([
      'c0_requests_canary RequestCount Sum targetgroup/web-v2/6d0ecf831eec9f09',
      'c0_errors_canary HTTPCode_Target_5XX_Count Sum targetgroup/web-v2/6d0ecf831eec9f09',
      'c0_refused_canary TargetConnectionErrorCount Sum targetgroup/web-v2/6d0ecf831eec9f09',
      'c0_requests_stable RequestCount Sum targetgroup/web-v1/73e2d6bc24d8a067',
      'c0_errors_stable HTTPCode_Target_5XX_Count Sum targetgroup/web-v1/73e2d6bc24d8a067',
      'c0_refused_stable TargetConnectionErrorCount Sum targetgroup/web-v1/73e2d6bc24d8a067',
      'c1_requests_canary RequestCount Sum targetgroup/web-v2/6d0ecf831eec9f09',
      'c1_latency_canary TargetResponseTime p99 targetgroup/web-v2/6d0ecf831eec9f09',
      'c1_requests_stable RequestCount Sum targetgroup/web-v1/73e2d6bc24d8a067',
      'c1_latency_stable TargetResponseTime p99 targetgroup/web-v1/73e2d6bc24d8a067',
    ]);
    expect(queries.every((q) => q.namespace === 'AWS/ApplicationELB')).toBe(true);
  });
});

describe('assessing a check', () => {
  it('passes an error rate under the limit, and reads no 5xx datapoint as no errors', () => {
    expect(assessCheck(errorRate, 0, seen({ c0_requests_canary: 1000, c0_errors_canary: 5 })).result).toBe(
      'pass',
    );
    expect(assessCheck(errorRate, 0, seen({ c0_requests_canary: 1000 })).result).toBe('pass');
  });

  it('fails an error rate over the limit, saying by how much', () => {
    const outcome = assessCheck(errorRate, 0, seen({ c0_requests_canary: 1000, c0_errors_canary: 80 }));
    expect(outcome).toMatchObject({
      result: 'fail',
      canary: 0.08,
      limit: 0.01,
      reason: 'canary errorRate 8.00 % above 1.00 %',
    });
  });

  it('counts the connections the canary refused (the load balancer answered 502) as errors', () => {
    const outcome = assessCheck(errorRate, 0, seen({ c0_requests_canary: 1000, c0_refused_canary: 40 }));
    expect(outcome).toMatchObject({ result: 'fail', canary: 0.04 });
  });

  it('reads Envoy metrics under the names the CloudWatch agent was configured with', () => {
    const envoy: CheckSpec = {
      name: 'envoy errors',
      kind: 'errorRate',
      source: {
        kind: 'envoy',
        namespace: 'ECS/ContainerInsights/Prometheus',
        mesh: 'shop',
        stableVirtualNode: 'web-v1',
        canaryVirtualNode: 'web-v2',
        names: { requests: 'envoy_cluster_upstream_rq_total', errors: 'envoy_cluster_upstream_rq_xx_5' },
      },
      minRequests: 1,
      max: 0.01,
    };
    expect(metricQueries([envoy]).map((q) => `${q.namespace} ${q.metricName}`)).toEqual([
      'ECS/ContainerInsights/Prometheus envoy_cluster_upstream_rq_total',
      'ECS/ContainerInsights/Prometheus envoy_cluster_upstream_rq_xx_5',
      'ECS/ContainerInsights/Prometheus envoy_cluster_upstream_rq_total',
      'ECS/ContainerInsights/Prometheus envoy_cluster_upstream_rq_xx_5',
    ]);
  });

  it('is inconclusive, not a pass, with too little traffic', () => {
    const outcome = assessCheck(errorRate, 0, seen({ c0_requests_canary: 40, c0_errors_canary: 0 }));
    expect(outcome).toMatchObject({
      result: 'inconclusive',
      reason: '40 canary requests, fewer than the 100 needed',
    });
  });

  it('holds latency relative to stable, in milliseconds (ALB reports seconds)', () => {
    const metrics = { c1_requests_canary: 500, c1_latency_canary: 0.31, c1_latency_stable: 0.2 };
    expect(assessCheck(latency, 1, seen(metrics))).toMatchObject({
      result: 'fail',
      canary: 310,
      stable: 200,
      limit: 300,
    });
    expect(assessCheck(latency, 1, seen({ ...metrics, c1_latency_canary: 0.29 })).result).toBe('pass');
    expect(assessCheck(latency, 1, seen({ c1_requests_canary: 500, c1_latency_canary: 0.29 })).result).toBe(
      'inconclusive',
    );
  });

  it('tells a broken metrics provider (error) from missing data (inconclusive)', () => {
    const outcome = assessCheck(
      errorRate,
      0,
      seen({}, { metricsError: 'ThrottlingException: Rate exceeded' }),
    );
    expect(outcome).toMatchObject({
      result: 'error',
      reason: 'metrics unavailable: ThrottlingException: Rate exceeded',
    });
  });

  it('fails on an alarm in ALARM and is inconclusive on INSUFFICIENT_DATA; a missing alarm is an error', () => {
    const check: CheckSpec = { name: 'slo', kind: 'alarm', alarmName: 'web-slo' };
    expect(assessCheck(check, 0, seen({}, { alarms: { 'web-slo': 'ALARM' } })).result).toBe('fail');
    expect(assessCheck(check, 0, seen({}, { alarms: { 'web-slo': 'INSUFFICIENT_DATA' } })).result).toBe(
      'inconclusive',
    );
    expect(assessCheck(check, 0, seen({}, { alarms: { 'web-slo': 'missing' } })).result).toBe('error');
    expect(assessCheck(check, 0, seen({}, { alarms: { 'web-slo': 'OK' } })).result).toBe('pass');
  });

  it('fails when too few canary targets are healthy', () => {
    const check: CheckSpec = {
      name: 'health',
      kind: 'targetHealth',
      targetGroupArn: 'arn:tg',
      minHealthyPercent: 100,
    };
    expect(
      assessCheck(check, 0, seen({}, { targetHealth: { 'arn:tg': { healthy: 2, total: 3 } } })).result,
    ).toBe('fail');
    expect(
      assessCheck(check, 0, seen({}, { targetHealth: { 'arn:tg': { healthy: 3, total: 3 } } })).result,
    ).toBe('pass');
  });
});

describe('the verdict', () => {
  const limits: AnalysisLimits = { failureLimit: 1, inconclusiveLimit: 2, errorLimit: 3 };
  const results = fc.array(fc.constantFrom<CheckResult>('pass', 'fail', 'inconclusive', 'error'), {
    maxLength: 30,
  });

  it('lets a failure outrank everything, then a broken provider, then missing evidence', () => {
    expect(runResult([])).toBe('pass');
    const outcome = (result: CheckResult) => ({ check: result, result, reason: '' });
    expect(runResult(['pass', 'inconclusive', 'error', 'fail'].map((r) => outcome(r as CheckResult)))).toBe(
      'fail',
    );
    expect(runResult(['pass', 'inconclusive', 'error'].map((r) => outcome(r as CheckResult)))).toBe('error');
    expect(runResult(['pass', 'inconclusive'].map((r) => outcome(r as CheckResult)))).toBe('inconclusive');
  });

  it('rolls back exactly when a limit is passed, and never advances on anything but a pass', () => {
    fc.assert(
      fc.property(results, (sequence) => {
        let counts = NO_COUNTS;
        let failures = 0;
        for (const result of sequence) {
          const decided = decideAfterAnalysis(result, counts, limits);
          if (result === 'fail') failures++;
          if (decided.next.move === 'advance') expect(result).toBe('pass');
          if (result === 'fail')
            expect(decided.next.move).toBe(failures > limits.failureLimit ? 'rollback' : 'retry');
          if (decided.next.move === 'rollback') return;
          counts = decided.counts;
        }
      }),
    );
  });

  it('rolls back after more inconclusive runs in a row than the limit: no evidence is not a pass', () => {
    let counts = NO_COUNTS;
    const moves: string[] = [];
    for (let i = 0; i < 3; i++) {
      const decided = decideAfterAnalysis('inconclusive', counts, limits);
      moves.push(decided.next.move);
      counts = decided.counts;
    }
    expect(moves).toEqual(['retry', 'retry', 'rollback']);
  });
});
