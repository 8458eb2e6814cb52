// CloudWatch's arithmetic over the twin's traffic metrics: a minute's statistic set per series (count
// metrics as ELB reports them, one sample of 1 per request; a latency minute as a mixture of log-normal
// shapes through each version's p50 and p99), and any statistic over a window of minutes the way
// CloudWatch combines them, percentiles included.
import { AwsServiceError } from '#local/twin/aws/client';

export const MINUTE_MS = 60_000;
/** Φ⁻¹(0.99): how many standard deviations p99 lies above the median of a normal. */
const Z99 = 2.3263478740408408;

/** One log-normal part of a latency mixture, in the metric's unit. */
interface Shape {
  weight: number;
  mu: number;
  sigma: number;
}

/** A minute's statistic set, as CloudWatch keeps it; a latency datapoint keeps its shape for percentiles. */
export interface Datapoint {
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
  mixture?: Shape[];
}

/** Published minutes per series (namespace, metric, dimensions). */
export class MetricStore {
  private readonly series = new Map<string, Map<number, Datapoint>>();

  put(namespace: string, metric: string, dimensions: Record<string, string>, at: number, point: Datapoint) {
    const key = seriesKey(namespace, metric, dimensions);
    const series = this.series.get(key) ?? new Map<number, Datapoint>();
    series.set(at, point);
    this.series.set(key, series);
  }

  /** A series' minutes by their start, oldest first (they are published in order); undefined: never published. */
  minutes(namespace: string, metric: string, dimensions: Record<string, string>) {
    return this.series.get(seriesKey(namespace, metric, dimensions));
  }

  /** The minutes of a series starting within the window (its start rounded down to the minute). */
  points(namespace: string, metric: string, dimensions: Record<string, string>, start: Date, end: Date) {
    const from = Math.floor(start.getTime() / MINUTE_MS) * MINUTE_MS;
    const series = this.minutes(namespace, metric, dimensions) ?? [];
    return [...series].filter(([at]) => at >= from && at < end.getTime()).map(([, point]) => point);
  }
}

export const seriesKey = (namespace: string, metric: string, dimensions: Record<string, string>) =>
  `${namespace}|${metric}|${Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

/** ELB reports a count as one sample of 1 per request: Minimum, Maximum and Average are all 1. */
export function countPoint(count: number): Datapoint {
  return { sampleCount: count, sum: count, minimum: 1, maximum: 1 };
}

/** A minute of response times: n samples from the mixture of the minute's shapes, in the metric's unit. */
export function latencyPoint(
  n: number,
  shapes: { count: number; p50: number; p99: number }[],
  unit: number,
): Datapoint {
  const total = shapes.reduce((sum, s) => sum + s.count, 0);
  const mixture = shapes.map((s) => ({
    weight: s.count / total,
    mu: Math.log(s.p50 * unit),
    sigma: Math.log(s.p99 / s.p50) / Z99,
  }));
  const mean = mixture.reduce((sum, s) => sum + s.weight * Math.exp(s.mu + (s.sigma * s.sigma) / 2), 0);
  // The expected smallest and largest of n samples sit about half a sample in from either end.
  return {
    sampleCount: n,
    sum: n * mean,
    minimum: quantile(mixture, 0.5 / n),
    maximum: quantile(mixture, 1 - 0.5 / n),
    mixture,
  };
}

/** The statistics CloudWatch names, over a window's totals. */
type Totals = { samples: number; sum: number; minimum: number; maximum: number };
const STATISTICS: Record<string, (w: Totals) => number> = {
  Sum: (w) => w.sum,
  SampleCount: (w) => w.samples,
  Average: (w) => w.sum / w.samples,
  Minimum: (w) => w.minimum,
  Maximum: (w) => w.maximum,
};

/** A percentile's share (p99: 0.99), undefined for a named statistic; any other statistic is refused. */
function percentileOf(stat: string): number | undefined {
  if (Object.hasOwn(STATISTICS, stat)) return undefined;
  const match = /^[pP](\d{1,3}(?:\.\d+)?)$/.exec(stat);
  const percent = match ? Number(match[1]) : Number.NaN;
  if (percent >= 0 && percent <= 100) return percent / 100;
  throw new AwsServiceError(
    // CloudWatch's ValidationError, as the SDK raises it.
    'ValidationException',
    `The value ${stat} for parameter MetricDataQueries.member.MetricStat.Stat is not valid (the twin answers Sum, Average, SampleCount, Maximum, Minimum and pNN)`,
  );
}

/** One statistic over a window's datapoints, as CloudWatch combines them; undefined without any. */
export function aggregate(points: Datapoint[], stat: string): number | undefined {
  const q = percentileOf(stat);
  if (points.length === 0) return undefined;
  const samples = points.reduce((sum, p) => sum + p.sampleCount, 0);
  const sum = points.reduce((total, p) => total + p.sum, 0);
  const minimum = Math.min(...points.map((p) => p.minimum));
  const maximum = Math.max(...points.map((p) => p.maximum));
  if (q === undefined) return STATISTICS[stat]!({ samples, sum, minimum, maximum });
  if (q <= 0) return minimum;
  if (q >= 1) return maximum;
  // Count metrics hold only 1s; a latency window is the mixture of its minutes, by their requests.
  if (points.some((p) => !p.mixture)) return minimum;
  const mixture = points.flatMap((p) =>
    p.mixture!.map((s) => ({ ...s, weight: (s.weight * p.sampleCount) / samples })),
  );
  return Math.min(maximum, Math.max(minimum, quantile(mixture, q)));
}

/** The value below which a share q of the mixture lies: bisection on the log scale, monotonic in q. */
function quantile(mixture: Shape[], q: number): number {
  const cdf = (y: number) =>
    mixture.reduce(
      (sum, s) => sum + s.weight * (s.sigma === 0 ? (y >= s.mu ? 1 : 0) : normalCdf((y - s.mu) / s.sigma)),
      0,
    );
  let lo = Math.min(...mixture.map((s) => s.mu - 10 * s.sigma)) - 1;
  let hi = Math.max(...mixture.map((s) => s.mu + 10 * s.sigma)) + 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    // Once the bounds are neighbouring doubles nothing moves any more.
    if (mid === lo || mid === hi) break;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

/** erfc's polynomial in t, past its constant term (Numerical Recipes' erfcc), innermost last. */
const ERFC_TERMS = [
  1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];

/** Φ from erfc (Numerical Recipes' erfcc, fractional error below 1.2e-7): ample for percentiles. */
function normalCdf(z: number): number {
  const x = -z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const terms = ERFC_TERMS.reduceRight((inner, c) => c + t * inner, 0);
  const erfc = t * Math.exp(-a * a - 1.26551223 + t * terms);
  return 0.5 * (x >= 0 ? erfc : 2 - erfc);
}
