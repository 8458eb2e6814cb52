// CloudWatch in the twin: metrics the world produces (cluster CPU and memory reservation, capacity
// shortfalls reported by the task recycler) or a scenario drives (request count, latency, anything),
// metric alarms evaluated every period the way CloudWatch does (M out of N datapoints), composite
// alarms over them, and a "CloudWatch Alarm State Change" event in the real shape on every change.
import type { StateValue } from '@aws-sdk/client-cloudwatch';
import { eventEnvelope } from '#local/twin/events';
import { seriesKey } from '#local/twin/metricsMath';
import type { World } from '#local/twin/world';

/** The comparisons of a metric alarm with a static threshold. */
const BREACHES = {
  GreaterThanThreshold: (value: number, threshold: number) => value > threshold,
  GreaterThanOrEqualToThreshold: (value: number, threshold: number) => value >= threshold,
  LessThanThreshold: (value: number, threshold: number) => value < threshold,
  LessThanOrEqualToThreshold: (value: number, threshold: number) => value <= threshold,
};
export type Comparison = keyof typeof BREACHES;

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
export type AlarmMetricQuery = Pick<
  TwinMetricAlarm,
  'namespace' | 'metric' | 'dimensions' | 'periodSeconds'
> & {
  statistic: string;
};

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

/** An alarm as CloudWatch keeps it: its configuration, its state now and its recent datapoints. */
export interface AlarmView {
  alarm: TwinAlarm;
  arn: string;
  state: StateValue;
  reason: string;
  changedAt: Date;
  createdAt: Date;
  datapoints: (number | undefined)[];
}

const EVALUATION_SECONDS = 60;

export class TwinCloudWatch {
  private readonly alarms = new Map<string, AlarmView>();
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
      arn: `arn:aws:cloudwatch:${this.world.region}:${this.world.account}:alarm:${alarm.name}`,
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      changedAt: this.world.clock.now(),
      createdAt: this.world.clock.now(),
      datapoints: [],
    });
  }

  /** The live record, for reading at once: the twin's own evaluation goes on changing it. */
  describe(name: string): Readonly<AlarmView> | undefined {
    return this.alarms.get(name);
  }

  /** Every alarm, by name (what DescribeAlarms and ListTagsForResource read). */
  list(): Readonly<AlarmView>[] {
    const byName = (a: AlarmView, b: AlarmView) => (a.alarm.name < b.alarm.name ? -1 : 1);
    return [...this.alarms.values()].sort(byName);
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
    for (const view of this.alarms.values())
      if (view.alarm.kind === 'metric') this.evaluateMetricAlarm(view, view.alarm);
    // Composite alarms after their children, as CloudWatch re-evaluates them on a child's change.
    for (const view of this.alarms.values())
      if (view.alarm.kind === 'composite') this.evaluateComposite(view, view.alarm);
    this.counters.clear();
    this.world.clock.after(EVALUATION_SECONDS, 'alarm evaluation', () => this.evaluate());
  }

  private evaluateMetricAlarm(runtime: AlarmView, alarm: TwinMetricAlarm): void {
    runtime.datapoints = [...runtime.datapoints, this.sample(alarm)].slice(-alarm.evaluationPeriods);
    const present = runtime.datapoints.filter((d): d is number => d !== undefined);
    if (present.length === 0) {
      this.transition(runtime, 'INSUFFICIENT_DATA', 'Insufficient Data: no datapoints were received');
      return;
    }
    const breaching = present.filter((d) => BREACHES[alarm.comparison](d, alarm.threshold)).length;
    const recent = present.map((d) => Math.round(d * 100) / 100).join(', ');
    const counted = `out of the last ${present.length} datapoints [${recent}]`;
    const threshold = `the threshold (${alarm.threshold}).`;
    const ok = present.length - breaching;
    if (breaching >= alarm.datapointsToAlarm)
      this.transition(runtime, 'ALARM', `Threshold Crossed: ${breaching} ${counted} breached ${threshold}`);
    else if (ok > alarm.evaluationPeriods - alarm.datapointsToAlarm)
      this.transition(runtime, 'OK', `Threshold Crossed: ${ok} ${counted} did not breach ${threshold}`);
  }

  private sample(alarm: TwinMetricAlarm): number | undefined {
    // A metric with real datapoints (the traffic's) wins; without one, gauges and counters as before.
    const stored = this.metricSource?.({ ...alarm, statistic: alarm.statistic ?? 'Average' });
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

  private evaluateComposite(runtime: AlarmView, alarm: TwinCompositeAlarm): void {
    const state = (name: string) => this.alarms.get(name)?.state ?? 'INSUFFICIENT_DATA';
    const result = evaluateRule(alarm.rule, state);
    this.transition(runtime, result ? 'ALARM' : 'OK', `${alarm.rule} is ${result ? 'TRUE' : 'FALSE'}`);
  }

  private transition(runtime: AlarmView, state: StateValue, reason: string): void {
    if (runtime.state === state) return;
    const previous = { value: runtime.state, reason: runtime.reason, timestamp: stamp(runtime.changedAt) };
    runtime.state = state;
    runtime.reason = reason;
    runtime.changedAt = this.world.clock.now();
    this.note(`alarm ${runtime.alarm.name} ${previous.value} -> ${state}`);
    this.emit(this.stateChangeEvent(runtime, previous));
  }

  private stateChangeEvent(
    runtime: AlarmView,
    previous: { value: string; reason: string; timestamp: string },
  ) {
    const { alarm, arn } = runtime;
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
    const event = eventEnvelope(this.world, 'aws.cloudwatch', 'CloudWatch Alarm State Change', [arn], detail);
    // Through JSON, as EventBridge delivers it: undefined fields gone.
    return JSON.parse(JSON.stringify(event));
  }
}

/** A gauge's or a counter's series: the twin publishes them in the namespace its metrics have. */
const metricKey = (metric: string, dimensions: Record<string, string>) =>
  seriesKey(namespaceOf(metric), metric, dimensions);

/** The namespace of a metric the twin publishes without one (its alarms name only the metric). */
export const namespaceOf = (metric: string) =>
  ['CPUReservation', 'MemoryReservation'].includes(metric)
    ? 'AWS/ECS'
    : metric === 'CapacityShortfall'
      ? 'EcsReflex'
      : 'Custom';

/** CloudWatch writes alarm timestamps as `2024-06-12T16:44:07.321+0000`. */
const stamp = (at: Date) => at.toISOString().replace('Z', '+0000');

/**
 * The composite alarm rule language: ALARM("name"), OK("name"), INSUFFICIENT_DATA("name"), TRUE, FALSE,
 * combined with AND, OR, NOT and parentheses (NOT binds tightest, then AND, then OR).
 */
function evaluateRule(rule: string, stateOf: (name: string) => StateValue): boolean {
  const tokens =
    rule.match(/\(|\)|AND|OR|NOT|TRUE|FALSE|(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"[^"]+"\s*\)/g) ?? [];
  let position = 0;
  const take = () => tokens[position++];
  const primary = (): boolean => {
    const token = take();
    if (token === 'NOT') return !primary();
    if (token === '(') {
      const value = either();
      if (take() !== ')') throw new Error(`unbalanced parentheses in ${rule}`);
      return value;
    }
    if (token === 'TRUE' || token === 'FALSE') return token === 'TRUE';
    const match = /^(ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"([^"]+)"\s*\)$/.exec(token ?? '');
    if (!match) throw new Error(`unexpected ${token ?? 'end'} in the composite rule ${rule}`);
    return stateOf(match[2]!) === match[1];
  };
  // Every operand is evaluated, not short-circuited: each must consume its tokens.
  const joined = (operator: string, operand: () => boolean) => (): boolean => {
    let value = operand();
    while (tokens[position] === operator) {
      take();
      const next = operand();
      value = operator === 'AND' ? value && next : value || next;
    }
    return value;
  };
  const either = joined('OR', joined('AND', primary));
  const result = either();
  if (position !== tokens.length)
    throw new Error(`unexpected ${tokens[position]} in the composite rule ${rule}`);
  return result;
}
