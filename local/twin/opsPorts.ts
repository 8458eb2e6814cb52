// The ops API's own ports over the twin: the Idempotency-Key store (in memory, DynamoDB's semantics), the
// action history (the twin's journal, read the way the logs are read) and the operators' service and
// instance calls over the simulated cluster.
import { IDEMPOTENCY_TTL_SECONDS, IN_PROGRESS_LEASE_SECONDS } from '#adapters/aws/dynamoIdempotencyStore';
import { writeConfirmed } from '#adapters/aws/ecsServiceOperations';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import { SDK_MAX_ATTEMPTS } from '#local/twin/ports';
import type { World } from '#local/twin/world';
import type {
  ActionHistory,
  IdempotencyStore,
  IdempotentRecord,
  InstanceFleet,
  JournalEntry,
  ServiceOperations,
} from '#ports';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Same rules as DynamoIdempotencyStore: a key is held for a day from its claim (whole seconds, like the
 * item's `expiresAt`), and a claim of a held key returns its record, whatever request the claim is for:
 * telling a retry (409 while in progress, the stored answer when done) from a reuse for another request
 * (422) is the caller's.
 */
export function twinIdempotencyStore(clock: { now(): Date }): IdempotencyStore {
  const items = new Map<string, IdempotentRecord & { expiresAt: number; leaseUntil: number }>();
  const seconds = () => Math.floor(clock.now().getTime() / 1000);
  return {
    async claim(key, requestHash) {
      const now = seconds();
      const held = items.get(key);
      const abandoned = held?.status === 'in-progress' && held.leaseUntil < now;
      if (held && !(held.expiresAt < now) && !abandoned) {
        const { expiresAt: _, leaseUntil: __, response, ...record } = held;
        return { claimed: false, record: { ...record, ...(response ? { response: { ...response } } : {}) } };
      }
      items.set(key, {
        requestHash,
        status: 'in-progress',
        expiresAt: now + IDEMPOTENCY_TTL_SECONDS,
        leaseUntil: now + IN_PROGRESS_LEASE_SECONDS,
      });
      return { claimed: true };
    },
    async complete(key, response) {
      const held = items.get(key);
      // Like the conditional update: an item that is gone is not created again.
      if (held) items.set(key, { ...held, status: 'done', response: { ...response } });
    },
    async release(key) {
      items.delete(key);
    },
  };
}

/**
 * The journal as CloudWatchLogsActionHistory reads it back: exact reflex and target, since, newest first.
 * With a clock, `since` defaults to the last 24 hours, as there; without one, to the whole journal.
 */
export function twinActionHistory(
  entries: () => (JournalEntry & { at: Date })[],
  clock?: { now(): Date },
): ActionHistory {
  return {
    async recent(filter) {
      const since = filter.since?.getTime() ?? (clock ? clock.now().getTime() - DAY_MS : -Infinity);
      // The journal is in the order it was written; among entries of the same instant the later is newer.
      return entries()
        .map((entry, index) => ({ entry, index }))
        .filter(
          ({ entry }) =>
            (filter.reflex === undefined || entry.reflex === filter.reflex) &&
            (filter.target === undefined || entry.target === filter.target) &&
            entry.at.getTime() >= since,
        )
        .sort((a, b) => b.entry.at.getTime() - a.entry.at.getTime() || b.index - a.index)
        .slice(0, Math.max(0, filter.limit))
        .map(({ entry }) => ({ ...entry }));
    },
  };
}

/** ListServices and UpdateService(forceNewDeployment) over the twin's cluster, recorded like every call. */
export function twinServiceOperations(world: World, call: RecordedCall): ServiceOperations {
  return {
    async forceNewDeployment(cluster, name) {
      // As the adapter does: UpdateService once per attempt (no SDK retry), and after a lost answer the
      // service is read again; a PRIMARY deployment other than the one before is this request's.
      const primary = () => {
        call('DescribeServices', `${cluster}/${name}`, false);
        return world.service(cluster, name)?.deployments.find((d) => d.status === 'PRIMARY')?.id;
      };
      const before = primary();
      await writeConfirmed({
        // Throws ServiceNotFoundException for a service the cluster does not have, as ECS does.
        send: async () =>
          call(
            'UpdateService',
            `${cluster}/${name} forceNewDeployment`,
            true,
            () => world.updateService(cluster, name, { forceNewDeployment: true }),
            1,
          ),
        tookEffect: async () => primary() !== before,
        attempts: SDK_MAX_ATTEMPTS,
        pause: async () => undefined,
      });
    },
    async listServices(cluster) {
      call('ListServices', cluster, false);
      return [...world.services.values()].filter((s) => s.cluster === cluster).map((s) => s.name);
    },
  };
}

/** ListContainerInstances and DescribeContainerInstances over the twin's cluster (registered instances only). */
export function twinInstanceFleet(world: World, call: RecordedCall): InstanceFleet {
  return {
    async list(cluster) {
      call('ListContainerInstances', cluster, false);
      const registered = world.instances.filter((i) => i.cluster === cluster && i.status !== 'REGISTERING');
      if (registered.length > 0) call('DescribeContainerInstances', cluster, false);
      return registered.map((instance) => {
        const tasks = world.tasksOn(instance.instanceId).filter((t) => t.desiredStatus === 'RUNNING');
        return {
          ec2InstanceId: instance.instanceId,
          status: instance.status,
          agentConnected: instance.agentConnected,
          runningTasks: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingTasks: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
        };
      });
    },
  };
}
