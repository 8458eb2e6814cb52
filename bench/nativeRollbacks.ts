// ECS native deployments on the twin: one bad release (20 % 5xx) under one native canary (10 % for 10
// minutes), rolled back four ways, each a scenario of local/scenarios run as it is. Virtual seconds from
// green's first traffic to the rollback, and the 5xx green answered: its target group's published count
// (one series for both listeners, as on AWS), split between the production and the test listener by each
// rule's rate and green's weight on it over time, as the twin's traffic flows. Exact, not noisy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import { runKeepingTwin } from './rollout';

const PRODUCTION = 'web';
const TEST = 'web-test';
const GREEN = 'web-green';

/** The runs, in the order printed: what stops the release in each. */
export const NATIVE_ROLLBACK_RUNS = [
  { scenario: 'native-canary-alarm-rollback', how: "ECS's deployment alarm alone" },
  {
    scenario: 'native-canary-hook-rollback',
    how: "deployment hook's analysis of test traffic, before production moves",
  },
  {
    scenario: 'native-canary-guard-alarm-hook-only',
    how: 'deployment hook alone: analysis + guard alarm, at its next invocation',
  },
  {
    scenario: 'native-canary-guard-alarm-stop',
    how: 'deployment hook + alarm reactor: StopServiceDeployment on the guard alarm',
  },
] as const;

export interface NativeRollbackRun {
  scenario: string;
  how: string;
  /** From green's first traffic (test or production) to ECS starting the rollback. */
  secondsToRollback: number;
  /** From the alarm's ALARM to the rollback; undefined when no alarm fired before it. */
  secondsAfterAlarm?: number;
  /** Green's target group's published 5xx count: both listeners' requests. */
  published5xx: number;
  /** Of those, through the production listener's rule and through the test listener's. */
  production5xx: number;
  test5xx: number;
  /** ECS's status reason: who stopped it. */
  rolledBackBecause: string;
}

export async function measureNativeRollbacks(): Promise<NativeRollbackRun[]> {
  const runs: NativeRollbackRun[] = [];
  for (const { scenario: name, how } of NATIVE_ROLLBACK_RUNS) {
    const file = join(repoRoot, 'local', 'scenarios', `${name}.json`);
    const scenario = ScenarioSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const { result, twin } = await runKeepingTwin(scenario);
    if (!result.passed) throw new Error(`${name}: its expectations failed`);
    const elapsed = (at: Date) => twin.scheduler.elapsedSeconds(at);
    const deployment = twin.nativeDeployments.deployments[0];
    if (!deployment?.rollback?.startedAt) throw new Error(`${name}: the deployment never rolled back`);
    const rollbackAt = elapsed(deployment.rollback.startedAt);
    const firstShift = Math.min(
      ...[PRODUCTION, TEST].flatMap((route) =>
        twin.traffic
          .writesTo(route)
          .filter((w) => w.by === 'ecs' && (w.weights[GREEN] ?? 0) > 0)
          .map((w) => elapsed(w.at)),
      ),
    );
    const alarmAt = result.timeline.find((e) => e.kind === 'world' && /-> ALARM$/.test(e.text))?.t;
    const metrics = twin.traffic.versionMetrics(PRODUCTION, GREEN);
    const published5xx = twin.traffic
      .datapoints(metrics.namespace, metrics.errors, metrics.dimensions)
      .reduce((sum, point) => sum + point.value, 0);
    // Green's profile is set once, before the deployment, in each of these scenarios.
    const errorRate = twin.traffic.profileOf(GREEN).errorRate;
    const rps = (route: string) =>
      scenario.world.traffic.listenerRules.find((r) => r.name === route)?.rps ?? 0;
    /** Requests green answered through a rule: its rate times green's share, integrated over the writes. */
    const served = (route: string) => {
      let seconds = 0;
      let share = 0;
      let since = 0;
      for (const write of twin.traffic.writesTo(route)) {
        const at = elapsed(write.at);
        seconds += share * (at - since);
        const total = Object.values(write.weights).reduce((sum, w) => sum + w, 0);
        share = total > 0 ? (write.weights[GREEN] ?? 0) / total : 0;
        since = at;
      }
      seconds += share * (twin.scheduler.elapsedSeconds() - since);
      return rps(route) * seconds;
    };
    runs.push({
      scenario: name,
      how,
      secondsToRollback: rollbackAt - firstShift,
      ...(alarmAt !== undefined && alarmAt <= rollbackAt ? { secondsAfterAlarm: rollbackAt - alarmAt } : {}),
      published5xx,
      production5xx: Math.round(served(PRODUCTION) * errorRate),
      test5xx: Math.round(served(TEST) * errorRate),
      rolledBackBecause: deployment.statusReason ?? '',
    });
  }
  return runs;
}
