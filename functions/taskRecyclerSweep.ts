// Task recycler sweep: target health changes emit no ECS event, and a delayed recheck can be lost, so
// each watched group and each restarted family gets a recheck on the recycler's own queue every minute. The
// sweep only enqueues: the recycler stays the one function that acts, one batch per task group at a time.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { eventStack } from '#runtime/middleware';
import { metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsSweepDeps, type SweepDeps } from '#wiring/recycler';

export function createTaskRecyclerSweepHandler(deps: () => SweepDeps) {
  return eventStack(async (_event: unknown) => {
    const { ports, settings } = deps();
    const now = ports.clock.now();
    // Watched groups (target health emits no event) and the families restarted by config, whose delayed
    // rechecks could be lost to throttling: one look a minute makes up for either.
    const groups = new Set([
      ...settings.policy.stopUnhealthy.watch.map((w) => JSON.stringify([w.cluster, w.group])),
      ...settings.clusters.flatMap((cluster) =>
        settings.policy.restartStandalone.families.map((family) =>
          JSON.stringify([cluster, `family:${family}`]),
        ),
      ),
    ]);
    for (const key of groups) {
      const [cluster, group] = JSON.parse(key) as [string, string];
      await ports.rechecks.recheckAt(cluster, group, now);
    }
    metrics.addMetric('GroupsSwept', MetricUnit.Count, groups.size);
    return { swept: groups.size };
  });
}

export const handler = createTaskRecyclerSweepHandler(builtAtColdStart(awsSweepDeps));
