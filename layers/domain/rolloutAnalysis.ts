// Is the canary healthy? Each check reads what it needs (metrics of canary and stable, an alarm, target
// health) and says pass, fail or inconclusive; a check whose provider is broken says error. The verdict over
// a run, and what the rollout does next, are pure functions of those results and the counts so far, in
// the manner of Argo Rollouts: a failure limit, an inconclusive limit and an error limit, each counted.

export interface MetricQuery {
  /** Unique within one call; a lower-case letter, then letters, digits and underscores (GetMetricData's rule). */
  id: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** `Sum`, `Average`, `SampleCount`, `Maximum`, `Minimum` or a percentile such as `p99`. */
  stat: string;
}

/**
 * Where a check's metrics come from: an ALB's target groups, App Mesh Envoy metrics per virtual node, or VPC
 * Lattice's target groups.
 */
export type MetricSourceSpec =
  | {
      kind: 'alb';
      /** `app/NAME/ID`, the LoadBalancer dimension. */
      loadBalancer: string;
      /** `targetgroup/NAME/ID`, the TargetGroup dimension of each version. */
      stableTargetGroup: string;
      canaryTargetGroup: string;
    }
  | {
      kind: 'envoy';
      /** Where the CloudWatch agent publishes the Envoy metrics. */
      namespace: string;
      mesh: string;
      stableVirtualNode: string;
      canaryVirtualNode: string;
      /**
       * Metric names as the CloudWatch agent publishes Envoy's statistics in this account (its config
       * decides them); latency in milliseconds. Defaults: RequestCount, HTTPCode_5XX_Count, ResponseTime.
       */
      names?: { requests?: string; errors?: string; latency?: string };
    }
  | {
      kind: 'lattice';
      /**
       * The TargetGroup dimension of each version in AWS/VpcLattice: the target group's ID (`tg-…`), as
       * `aws cloudwatch list-metrics --namespace AWS/VpcLattice` shows it.
       */
      stableTargetGroup: string;
      canaryTargetGroup: string;
    };

/** A threshold is absolute, or relative to stable over the same window (canary <= factor x stable). */
export interface Threshold {
  max?: number;
  maxRelativeToStable?: number;
}

export type CheckSpec =
  | ({ name: string; kind: 'errorRate'; source: MetricSourceSpec; minRequests: number } & Threshold)
  | ({
      name: string;
      kind: 'latency';
      source: MetricSourceSpec;
      /** 50..99.9: the percentile of response time, in milliseconds. */
      percentile: number;
      minRequests: number;
    } & Threshold)
  /** Fails while the alarm is in ALARM; INSUFFICIENT_DATA is inconclusive. */
  | { name: string; kind: 'alarm'; alarmName: string }
  /** Fails when fewer of the canary's targets than this are healthy. */
  | { name: string; kind: 'targetHealth'; targetGroupArn: string; minHealthyPercent: number };

export type CheckResult = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface CheckOutcome {
  check: string;
  result: CheckResult;
  /** The canary's value, and stable's where the check compares. */
  canary?: number;
  stable?: number;
  /** The limit the canary was held to. */
  limit?: number;
  reason: string;
}

export interface AnalysisLimits {
  /** Failed runs tolerated; one more rolls back. Argo's failureLimit. */
  failureLimit: number;
  /** Inconclusive runs in a row tolerated at one step; one more rolls back: no evidence is not a pass. */
  inconclusiveLimit: number;
  /** Runs in a row whose provider was broken tolerated; one more rolls back. */
  errorLimit: number;
}

export interface AnalysisCounts {
  failures: number;
  /** In a row, at this step. */
  inconclusive: number;
  /** In a row. */
  errors: number;
}

export const NO_COUNTS: AnalysisCounts = { failures: 0, inconclusive: 0, errors: 0 };

// --- what to read -----------------------------------------------------------------------------------

type Version = 'canary' | 'stable';

const METRIC_NAMES = {
  alb: { requests: 'RequestCount', errors: 'HTTPCode_Target_5XX_Count', latency: 'TargetResponseTime' },
  envoy: { requests: 'RequestCount', errors: 'HTTPCode_5XX_Count', latency: 'ResponseTime' },
  lattice: { requests: 'TotalRequestCount', errors: 'HTTPCode_5XX_Count', latency: 'RequestTime' },
} as const;

/** ALB reports TargetResponseTime in seconds; the checks speak milliseconds, as Lattice's RequestTime does. */
const LATENCY_TO_MS = { alb: 1000, envoy: 1, lattice: 1 } as const;

function dimensions(source: MetricSourceSpec, version: Version): Record<string, string> {
  if (source.kind === 'lattice')
    return { TargetGroup: version === 'canary' ? source.canaryTargetGroup : source.stableTargetGroup };
  if (source.kind === 'alb')
    return {
      LoadBalancer: source.loadBalancer,
      TargetGroup: version === 'canary' ? source.canaryTargetGroup : source.stableTargetGroup,
    };
  return {
    Mesh: source.mesh,
    VirtualNode: version === 'canary' ? source.canaryVirtualNode : source.stableVirtualNode,
  };
}

const NAMESPACES = { alb: 'AWS/ApplicationELB', lattice: 'AWS/VpcLattice' } as const;

const namespaceOf = (source: MetricSourceSpec) =>
  source.kind === 'envoy' ? source.namespace : NAMESPACES[source.kind];

/** GetMetricData ids: a lower-case letter, then letters, digits, underscores. */
const queryId = (checkIndex: number, what: string, version: Version) => `c${checkIndex}_${what}_${version}`;

/** The metric queries of every metric check, ids derived from the check's position. */
export function metricQueries(checks: CheckSpec[]): MetricQuery[] {
  return checks.flatMap((check, index) => {
    if (check.kind !== 'errorRate' && check.kind !== 'latency') return [];
    const names =
      check.source.kind === 'envoy'
        ? { ...METRIC_NAMES.envoy, ...check.source.names }
        : METRIC_NAMES[check.source.kind];
    return (['canary', 'stable'] as const).flatMap((version): MetricQuery[] => {
      const base = { namespace: namespaceOf(check.source), dimensions: dimensions(check.source, version) };
      const requests = {
        ...base,
        id: queryId(index, 'requests', version),
        metricName: names.requests,
        stat: 'Sum',
      };
      if (check.kind === 'errorRate') {
        const errors = {
          ...base,
          id: queryId(index, 'errors', version),
          metricName: names.errors,
          stat: 'Sum',
        };
        if (check.source.kind !== 'alb') return [requests, errors];
        // A canary that crashes or hangs answers no 5xx itself: the load balancer does (502/504), and
        // those count only as connection errors under the TargetGroup dimension.
        const refused = {
          ...base,
          id: queryId(index, 'refused', version),
          metricName: 'TargetConnectionErrorCount',
          stat: 'Sum',
        };
        return [requests, errors, refused];
      }
      return [
        requests,
        {
          ...base,
          id: queryId(index, 'latency', version),
          metricName: names.latency,
          stat: `p${check.percentile}`,
        },
      ];
    });
  });
}

// --- assessing one check ----------------------------------------------------------------------------

export interface Observations {
  /** By query id (metricQueries); undefined: no datapoint. */
  metrics: Record<string, number | undefined>;
  /** Set when GetMetricData itself failed: every metric check is then an error, not inconclusive. */
  metricsError?: string;
  /** `unavailable`: reading it failed (the provider is broken, not the canary). */
  alarms: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'missing' | 'unavailable'>;
  targetHealth: Record<string, { healthy: number; total: number } | 'missing' | 'unavailable'>;
}

export function assessCheck(check: CheckSpec, index: number, seen: Observations): CheckOutcome {
  const name = check.name;
  switch (check.kind) {
    case 'alarm': {
      const state = seen.alarms[check.alarmName];
      if (state === 'unavailable')
        return { check: name, result: 'error', reason: `alarm ${check.alarmName} could not be read` };
      if (state === undefined || state === 'missing')
        return { check: name, result: 'error', reason: `alarm ${check.alarmName} does not exist` };
      if (state === 'ALARM')
        return { check: name, result: 'fail', reason: `alarm ${check.alarmName} is in ALARM` };
      if (state === 'INSUFFICIENT_DATA')
        return {
          check: name,
          result: 'inconclusive',
          reason: `alarm ${check.alarmName} has insufficient data`,
        };
      return { check: name, result: 'pass', reason: `alarm ${check.alarmName} is OK` };
    }
    case 'targetHealth': {
      const health = seen.targetHealth[check.targetGroupArn];
      if (health === 'unavailable')
        return {
          check: name,
          result: 'error',
          reason: `target group ${check.targetGroupArn} could not be read`,
        };
      if (health === undefined || health === 'missing')
        return {
          check: name,
          result: 'error',
          reason: `target group ${check.targetGroupArn} does not exist`,
        };
      if (health.total === 0)
        return { check: name, result: 'inconclusive', reason: 'the canary has no registered targets yet' };
      const percent = (100 * health.healthy) / health.total;
      const outcome = { check: name, canary: percent, limit: check.minHealthyPercent };
      return percent >= check.minHealthyPercent
        ? { ...outcome, result: 'pass', reason: `${health.healthy}/${health.total} canary targets healthy` }
        : {
            ...outcome,
            result: 'fail',
            reason: `only ${health.healthy}/${health.total} canary targets healthy`,
          };
    }
    case 'errorRate':
    case 'latency':
      return assessMetricCheck(check, index, seen);
  }
}

function assessMetricCheck(
  check: Extract<CheckSpec, { kind: 'errorRate' | 'latency' }>,
  index: number,
  seen: Observations,
): CheckOutcome {
  const name = check.name;
  if (seen.metricsError !== undefined)
    return { check: name, result: 'error', reason: `metrics unavailable: ${seen.metricsError}` };
  const metric = (what: string, version: Version) => seen.metrics[queryId(index, what, version)];
  const requests = { canary: metric('requests', 'canary') ?? 0, stable: metric('requests', 'stable') ?? 0 };
  if (requests.canary < check.minRequests)
    return {
      check: name,
      result: 'inconclusive',
      reason: `${requests.canary} canary requests, fewer than the ${check.minRequests} needed`,
    };
  const value = (version: Version): number | undefined => {
    if (check.kind === 'errorRate') {
      // No 5xx datapoint in a window with requests means no 5xx: ALB publishes none for zero.
      if (requests[version] === 0) return undefined;
      return ((metric('errors', version) ?? 0) + (metric('refused', version) ?? 0)) / requests[version];
    }
    const latency = metric('latency', version);
    return latency === undefined ? undefined : latency * LATENCY_TO_MS[check.source.kind];
  };
  const canary = value('canary');
  if (canary === undefined)
    return { check: name, result: 'inconclusive', reason: `no ${check.kind} datapoint for the canary` };
  const stable = value('stable');
  const limits: number[] = [];
  if (check.max !== undefined) limits.push(check.max);
  if (check.maxRelativeToStable !== undefined) {
    // Relative to stable needs stable's value; without it the check cannot say (unless an absolute one fails).
    if (stable === undefined && check.max === undefined)
      return { check: name, result: 'inconclusive', canary, reason: `no ${check.kind} datapoint for stable` };
    if (stable !== undefined) limits.push(relativeLimit(check.kind, stable, check.maxRelativeToStable));
  }
  const limit = Math.min(...limits);
  const shown = (v: number) =>
    check.kind === 'errorRate' ? `${(v * 100).toFixed(2)} %` : `${Math.round(v)} ms`;
  const outcome = { check: name, canary, limit, ...(stable !== undefined ? { stable } : {}) };
  return canary <= limit
    ? { ...outcome, result: 'pass', reason: `canary ${check.kind} ${shown(canary)} within ${shown(limit)}` }
    : { ...outcome, result: 'fail', reason: `canary ${check.kind} ${shown(canary)} above ${shown(limit)}` };
}

/**
 * An error rate of 0 on stable would make any canary error a failure at any factor: a floor of 0.1 %
 * keeps a relative threshold meaningful. Latency needs none.
 */
const ERROR_RATE_FLOOR = 0.001;

function relativeLimit(kind: 'errorRate' | 'latency', stable: number, factor: number): number {
  return kind === 'errorRate' ? Math.max(stable, ERROR_RATE_FLOOR) * factor : stable * factor;
}

// --- when to read -----------------------------------------------------------------------------------

/**
 * CloudWatch publishes a minute's datapoints a while after the minute ends (ALB: about a minute). The
 * analysis reads whole minutes that have been published: from the first full minute after the window's
 * start to the last minute that ended this long ago.
 */
export const METRICS_DELAY_SECONDS = 60;

const MINUTE_MS = 60_000;

/** The whole, published minutes since `windowStart`, or undefined while there is not one yet. */
export function publishedWindow(windowStart: string, now: Date): { start: Date; end: Date } | undefined {
  const start = Math.ceil(Date.parse(windowStart) / MINUTE_MS) * MINUTE_MS;
  const end = Math.floor((now.getTime() - METRICS_DELAY_SECONDS * 1000) / MINUTE_MS) * MINUTE_MS;
  return end - start >= MINUTE_MS ? { start: new Date(start), end: new Date(end) } : undefined;
}

// --- the verdict --------------------------------------------------------------------------------------

/** One run's result: any failure fails it; else a broken provider; else missing evidence; else a pass. */
export function runResult(outcomes: CheckOutcome[]): CheckResult {
  for (const result of ['fail', 'error', 'inconclusive'] as const)
    if (outcomes.some((o) => o.result === result)) return result;
  return 'pass';
}

export type NextMove =
  /** The step passed: move on (or wait at a gate). */
  | { move: 'advance' }
  /** Analyse again after the interval, at the same weight. */
  | { move: 'retry' }
  | { move: 'rollback'; reason: string };

/** What the rollout does after a run, and the counts it carries on. Pure: the counts live in the execution. */
export function decideAfterAnalysis(
  result: CheckResult,
  counts: AnalysisCounts,
  limits: AnalysisLimits,
): { next: NextMove; counts: AnalysisCounts } {
  switch (result) {
    case 'pass':
      // Failures stay counted across the rollout (Argo's failureLimit); the in-a-row counts start over.
      return { next: { move: 'advance' }, counts: { failures: counts.failures, inconclusive: 0, errors: 0 } };
    case 'fail': {
      const next = { ...counts, failures: counts.failures + 1, errors: 0 };
      return next.failures > limits.failureLimit
        ? {
            next: {
              move: 'rollback',
              reason: `${next.failures} failed analysis run(s), limit ${limits.failureLimit}`,
            },
            counts: next,
          }
        : { next: { move: 'retry' }, counts: next };
    }
    case 'inconclusive': {
      const next = { ...counts, inconclusive: counts.inconclusive + 1, errors: 0 };
      return next.inconclusive > limits.inconclusiveLimit
        ? {
            next: {
              move: 'rollback',
              reason: `${next.inconclusive} inconclusive analysis run(s) in a row, limit ${limits.inconclusiveLimit}: not enough evidence to promote`,
            },
            counts: next,
          }
        : { next: { move: 'retry' }, counts: next };
    }
    case 'error': {
      const next = { ...counts, errors: counts.errors + 1 };
      return next.errors > limits.errorLimit
        ? {
            next: {
              move: 'rollback',
              reason: `a provider failing (metrics, alarms, tests): ${next.errors} run(s) in a row, limit ${limits.errorLimit}`,
            },
            counts: next,
          }
        : { next: { move: 'retry' }, counts: next };
    }
  }
}
