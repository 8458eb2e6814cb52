// The ops API's own ports over the twin: the Idempotency-Key store (in memory, DynamoDB's semantics) and
// the action history (the twin's journal, read the way the logs are read).
import { IDEMPOTENCY_TTL_SECONDS, IN_PROGRESS_LEASE_SECONDS } from '#adapters/aws/dynamoIdempotencyStore';
import type { ActionHistory, IdempotencyStore, IdempotentRecord, JournalEntry } from '#ports';

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
