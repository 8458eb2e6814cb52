// Task recycler sweep: target health changes emit no ECS event, so watched groups are looked at on a
// schedule too. Each group is independent; one failing does not stop the others from being looked at.
import type { ScheduledEvent } from 'aws-lambda';
import { awsRecyclerDeps, type RecyclerDeps } from '#adapters/aws/recyclerPorts';
import { recycleTaskGroup } from '#app/recycleTaskGroup';
import { eventStack } from '#runtime/middleware';
import { logger } from '#runtime/powertools';

export function createTaskRecyclerSweepHandler(deps: () => RecyclerDeps) {
  return eventStack(async (_event: ScheduledEvent) => {
    const { ports, settings } = deps();
    const groups = settings.policy.stopUnhealthy.watch.map(({ cluster, group }) => ({ cluster, group }));
    const results = await Promise.allSettled(
      groups.map((request) => recycleTaskGroup(request, ports, settings)),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ ...groups[i], error: String(r.reason) }] : [],
    );
    if (failed.length > 0) {
      logger.error('sweep incomplete', { failed });
      throw new AggregateError(
        failed.map((f) => new Error(`${f.cluster} ${f.group}: ${f.error}`)),
        'sweep incomplete',
      );
    }
    return { swept: groups.length };
  });
}

export const handler = createTaskRecyclerSweepHandler(awsRecyclerDeps);
