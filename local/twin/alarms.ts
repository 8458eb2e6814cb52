// CloudWatch in the twin: metrics the world produces (cluster CPU and memory reservation, capacity
// shortfalls reported by the task recycler) or a scenario drives (request count, latency, anything),
// metric alarms evaluated every period the way CloudWatch does (M out of N datapoints), composite
// alarms over them, and a "CloudWatch Alarm State Change" event in the real shape on every change.
import { eventEnvelope } from '#local/twin/events';
import type { World } from '#local/twin/world';

export type Comparison =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface TwinMetricAlarm {
  kind: 'metric';
  name: string;
  metric: string;
  dimensions: Record<string, string>;
  comparison: Comparison;
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  tags: Record<string, string>;
  /** Set for metrics a metric source answers (the twin's traffic), which has namespaces of its own. */
  namespace?: string;
  /** `Sum`, `Average`, `p99`...: a metric source answers it; gauges and counters have one value. */
  statistic?: string;
}

/** What a metric alarm asks a metric source for: the statistic over its last whole period. */
export interface AlarmMetricQuery {
  namespace?: string;
  metric: string;
  dimensions: Record<string, string>;
  statistic: string;
  periodSeconds: number;
}

/** A store of datapoints alarms can read (the twin's traffic); undefined when it has no datapoint. */
export type AlarmMetricSource = (query: AlarmMetricQuery) => number | undefined;

export interface TwinCompositeAlarm {
  kind: 'composite';
  name: string;
  /** The CloudWatch rule syntax, e.g. `ALARM("a") AND NOT OK("b")`. */
  rule: string;
  tags: Record<string, string>;
}

export type TwinAlarm = TwinMetricAlarm | TwinCompositeAlarm;

/** An alarm as CloudWatch keeps it: its configuration and its state now. */
export interface AlarmView {
  alarm: TwinAlarm;
  arn: string;
  state: AlarmStateValue;
  reason: string;
  changedAt: Date;
  createdAt: Date;
}

interface AlarmRuntime {
  alarm: TwinAlarm;
  state: AlarmStateValue;
  reason: string;
  changedAt: Date;
  createdAt: Date;
  datapoints: (number | undefined)[];
}

const EVALUATION_SECONDS = 60;

export class TwinCloudWatch {
  private readonly alarms = new Map<string, AlarmRuntime>();
  /** Gauges a scenario sets; they hold their value until set again. */
  private readonly gauges = new Map<string, number>();
  private readonly counters = new Map<string, number>();

  constructor(
    private readonly world: World,
    private readonly emit: (event: unknown) => void,
    private readonly note: (text: string) => void,
    private readonly metricSource?: AlarmMetricSource,
  ) {}

  addAlarm(alarm: TwinAlarm): void {
    this.alarms.set(alarm.name, {
      alarm,
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      changedAt: this.world.clock.now(),
      createdAt: this.world.clock.now(),
      datapoints: [],
    });
  }

  describe(name: string): { alarm: TwinAlarm; state: AlarmStateValue; arn: string } | undefined {
    const runtime = this.alarms.get(name);
    return runtime && { alarm: runtime.alarm, state: runtime.state, arn: this.arn(name) };
  }

  /** Every alarm, by name (what DescribeAlarms and ListTagsForResource read). */
  list(): AlarmView[] {
    return [...this.alarms.values()]
      .map(({ alarm, state, reason, changedAt, createdAt }) => ({
        alarm,
        arn: this.arn(alarm.name),
        state,
        reason,
        changedAt,
        createdAt,
      }))
      .sort((a, b) => (a.alarm.name < b.alarm.name ? -1 : a.alarm.name > b.alarm.name ? 1 : 0));
  }

  setGauge(metric: string, dimensions: Record<string, string>, value: number): void {
    this.gauges.set(metricKey(metric, dimensions), value);
  }

  /** A count published during the current period (EMF metrics such as CapacityShortfall). */
  count(metric: string, dimensions: Record<string, string>, value = 1): void {
    const key = metricKey(metric, dimensions);
    this.counters.set(key, (this.counters.get(key) ?? 0) + value);
  }

  start(): void {
    this.world.clock.after(EVALUATION_SECONDS, 'alarm evaluation', () => this.evaluate());
  }

  private evaluate(): void {
    for (const runtime of this.alarms.values()) {
      if (runtime.alarm.kind === 'metric') this.evaluateMetricAlarm(runtime, runtime.alarm);
    }
    // Composite alarms after their children, as CloudWatch re-evaluates them on a child's change.
    for (const runtime of this.alarms.values()) {
      if (runtime.alarm.kind === 'composite') this.evaluateComposite(runtime, runtime.alarm);
    }
    this.counters.clear();
    this.world.clock.after(EVALUATION_SECONDS, 'alarm evaluation', () => this.evaluate());
  }

  private evaluateMetricAlarm(runtime: AlarmRuntime, alarm: TwinMetricAlarm): void {
    runtime.datapoints.push(this.sample(alarm));
    runtime.datapoints = runtime.datapoints.slice(-alarm.evaluationPeriods);
    const present = runtime.datapoints.filter((d): d is number => d !== undefined);
    if (present.length === 0) {
      this.transition(runtime, 'INSUFFICIENT_DATA', 'Insufficient Data: no datapoints were received');
      return;
    }
    const breaching = present.filter((d) => breaches(alarm.comparison, d, alarm.threshold)).length;
    const recent = present.map((d) => Math.round(d * 100) / 100).join(', ');
    if (breaching >= alarm.datapointsToAlarm) {
      this.transition(
        runtime,
        'ALARM',
        `Threshold Crossed: ${breaching} out of the last ${present.length} datapoints [${recent}] breached the threshold (${alarm.threshold}).`,
      );
    } else if (present.length - breaching > alarm.evaluationPeriods - alarm.datapointsToAlarm) {
      this.transition(
        runtime,
        'OK',
        `Threshold Crossed: ${present.length - breaching} out of the last ${present.length} datapoints [${recent}] did not breach the threshold (${alarm.threshold}).`,
      );
    }
  }

  private sample(alarm: TwinMetricAlarm): number | undefined {
    // A metric with real datapoints (the traffic's) wins; without one, gauges and counters as before.
    const stored = this.metricSource?.({
      namespace: alarm.namespace,
      metric: alarm.metric,
      dimensions: alarm.dimensions,
      statistic: alarm.statistic ?? 'Average',
      periodSeconds: alarm.periodSeconds,
    });
    if (stored !== undefined) return stored;
    const key = metricKey(alarm.metric, alarm.dimensions);
    const cluster = alarm.dimensions.ClusterName;
    if (alarm.metric === 'CPUReservation' && cluster) return this.world.reservation(cluster, 'cpu');
    if (alarm.metric === 'MemoryReservation' && cluster) return this.world.reservation(cluster, 'memory');
    if (this.gauges.has(key)) return this.gauges.get(key);
    // Counters (EMF counts) have no datapoint in a period nothing was published: 0 is what a
    // "treat missing data as not breaching" alarm sees.
    return this.counters.get(key) ?? (alarm.metric === 'CapacityShortfall' ? 0 : undefined);
  }

  private evaluateComposite(runtime: AlarmRuntime, alarm: TwinCompositeAlarm): void {
    const state = (name: string) => this.alarms.get(name)?.state ?? 'INSUFFICIENT_DATA';
    const result = evaluateRule(alarm.rule, state);
    this.transition(runtime, result ? 'ALARM' : 'OK', `${alarm.rule} is ${result ? 'TRUE' : 'FALSE'}`);
  }

  private transition(runtime: AlarmRuntime, state: AlarmStateValue, reason: string): void {
    if (runtime.state === state) return;
    const previous = { value: runtime.state, reason: runtime.reason, timestamp: stamp(runtime.changedAt) };
    runtime.state = state;
    runtime.reason = reason;
    runtime.changedAt = this.world.clock.now();
    this.note(`alarm ${runtime.alarm.name} ${previous.value} -> ${state}`);
    this.emit(this.stateChangeEvent(runtime, previous));
  }

  private stateChangeEvent(
    runtime: AlarmRuntime,
    previous: { value: string; reason: string; timestamp: string },
  ) {
    const { alarm } = runtime;
    const configuration =
      alarm.kind === 'composite'
        ? { alarmRule: alarm.rule, actionsSuppressor: undefined }
        : {
            metrics: [
              {
                id: 'm1',
                metricStat: {
                  metric: {
                    dimensions: alarm.dimensions,
                    name: alarm.metric,
                    namespace: alarm.namespace ?? namespaceOf(alarm.metric),
                  },
                  period: alarm.periodSeconds,
                  stat: alarm.statistic ?? 'Average',
                },
                returnData: true,
              },
            ],
          };
    const detail = {
      alarmName: alarm.name,
      state: { value: runtime.state, reason: runtime.reason, timestamp: stamp(runtime.changedAt) },
      previousState: previous,
      configuration,
    };
    const event = eventEnvelope(
      this.world,
      'aws.cloudwatch',
      'CloudWatch Alarm State Change',
      [this.arn(alarm.name)],
      detail,
    );
    // Through JSON, as EventBridge delivers it: undefined fields gone.
    return JSON.parse(JSON.stringify(event));
  }

  arn(name: string): string {
    return `arn:aws:cloudwatch:${this.world.region}:${this.world.account}:alarm:${name}`;
  }
}

const metricKey = (metric: string, dimensions: Record<string, string>) =>
  `${metric}|${Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;

/** The namespace of a metric the twin publishes without one (its alarms name only the metric). */
export const namespaceOf = (metric: string) =>
  ['CPUReservation', 'MemoryReservation'].includes(metric)
    ? 'AWS/ECS'
    : metric === 'CapacityShortfall'
      ? 'EcsReflex'
      : 'Custom';

/** CloudWatch writes alarm timestamps as `2024-06-12T16:44:07.321+0000`. */
const stamp = (at: Date) => at.toISOString().replace('Z', '+0000');

function breaches(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * The composite alarm rule language: ALARM("name"), OK("name"), INSUFFICIENT_DATA("name"), TRUE, FALSE,
 * combined with AND, OR, NOT and parentheses (NOT binds tightest, then AND, then OR).
 */
export function evaluateRule(rule: string, stateOf: (name: string) => AlarmStateValue): boolean {
  const tokens =
    rule.match(/\(|\)|AND|OR|NOT|TRUE|FALSE|(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"[^"]+"\s*\)/g) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  const primary = (): boolean => {
    const token = take();
    if (token === undefined) throw new Error(`composite rule ends early: ${rule}`);
    if (token === 'NOT') return !primary();
    if (token === '(') {
      const value = or();
      if (take() !== ')') throw new Error(`unbalanced parentheses in ${rule}`);
      return value;
    }
    if (token === 'TRUE') return true;
    if (token === 'FALSE') return false;
    const match = /^(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"([^"]+)"\s*\)$/.exec(token);
    if (!match) throw new Error(`unexpected ${token} in ${rule}`);
    return stateOf(match[2]!) === match[1];
  };
  const and = (): boolean => {
    let value = primary();
    while (peek() === 'AND') {
      take();
      value = primary() && value;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (peek() === 'OR') {
      take();
      value = and() || value;
    }
    return value;
  };
  const result = or();
  if (position !== tokens.length) throw new Error(`unexpected ${peek()} in ${rule}`);
  return result;
}
