// Task recycler sweep: target health changes emit no ECS event, so each watched group gets a recheck on
// the recycler's own queue every minute. The sweep only enqueues: the recycler stays the one function
// that acts, one batch at a time.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ScheduledEvent } from 'aws-lambda';
import { awsRecyclerDeps, type RecyclerDeps } from '#adapters/aws/recyclerPorts';
import { eventStack } from '#runtime/middleware';
import { metrics } from '#runtime/powertools';

export function createTaskRecyclerSweepHandler(deps: () => RecyclerDeps) {
  return eventStack(async (_event: ScheduledEvent) => {
    const { ports, settings } = deps();
    const now = ports.clock.now();
    const groups = new Set(
      settings.policy.stopUnhealthy.watch.map((w) => JSON.stringify([w.cluster, w.group])),
    );
    for (const key of groups) {
      const [cluster, group] = JSON.parse(key) as [string, string];
      await ports.rechecks.recheckAt(cluster, group, now);
    }
    metrics.addMetric('GroupsSwept', MetricUnit.Count, groups.size);
    return { swept: groups.size };
  });
}

export const handler = createTaskRecyclerSweepHandler(awsRecyclerDeps);
