// What the analysis checks need from the world, read once per run: metrics over the window, each alarm's
// state, each target group's health. Shared by rollouts and the deployment hook. A provider that fails is
// recorded as broken (an `error` verdict), never mistaken for a failing canary or a pass.
import { type CheckSpec, metricQueries, type Observations } from '#domain/rolloutAnalysis';
import type { AlarmStates, MetricsSource, TargetRegistry } from '#ports';

export interface ObservationPorts {
  metrics: MetricsSource;
  alarms: Pick<AlarmStates, 'describe'>;
  targets: Pick<TargetRegistry, 'targetHealth'>;
}

export async function observeChecks(
  checks: readonly CheckSpec[],
  window: { start: Date; end: Date } | undefined,
  ports: ObservationPorts,
): Promise<Observations> {
  const seen: Observations = { metrics: {}, alarms: {}, targetHealth: {} };
  const queries = metricQueries([...checks]);
  if (queries.length > 0 && window) {
    try {
      seen.metrics = await ports.metrics.query(queries, window);
    } catch (error) {
      seen.metricsError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  const alarmNames = new Set(checks.flatMap((c) => (c.kind === 'alarm' ? [c.alarmName] : [])));
  for (const name of alarmNames) {
    try {
      const alarm = await ports.alarms.describe(name, { withTags: false });
      seen.alarms[name] = alarm ? alarm.state : 'missing';
    } catch {
      seen.alarms[name] = 'unavailable';
    }
  }
  for (const check of checks) {
    if (check.kind !== 'targetHealth') continue;
    try {
      const health = await ports.targets.targetHealth(check.targetGroupArn);
      const live = health.targets.filter((t) => t.state !== 'draining' && t.state !== 'unused');
      seen.targetHealth[check.targetGroupArn] = {
        healthy: live.filter((t) => t.state === 'healthy').length,
        total: live.length,
      };
    } catch {
      seen.targetHealth[check.targetGroupArn] = 'unavailable';
    }
  }
  return seen;
}
