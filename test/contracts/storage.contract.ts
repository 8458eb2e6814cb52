// The ops API's storage ports' contract: the Idempotency-Key store (DynamoDB, conditional writes) and the
// action history (the reflexes' journal, read back from their log groups). Keys and entries are made up
// here; what matters is what a second request, or a later read, gets back.

import type { ActionHistory, IdempotencyStore, JournalEntry, RouteClaims } from '#ports';
import type { Eventually } from './harness';

export interface StorageHarness {
  idempotency: IdempotencyStore;
  /** Route claims, on the same table as the idempotency keys. */
  claims: RouteClaims;
  /** Moves the time the idempotency store reads on by this much (its conditions compare with it). */
  later(seconds: number): Promise<void>;
  actions: ActionHistory;
  /**
   * Writes the entries as the reflexes' journal does, in this order, ten seconds apart, the last one about
   * now; answers when each was written, as the history reports it.
   */
  journal(entries: JournalEntry[]): Promise<Date[]>;
  eventually: Eventually;
  given(): Promise<void>;
}

const DAY_SECONDS = 24 * 60 * 60;

export function storageContract(harness: () => StorageHarness): void {
  let storage: StorageHarness;

  beforeAll(async () => {
    storage = harness();
    await storage.given();
  });

  describe('RouteClaims', () => {
    const route = (name: string) => `appmesh:shop/web/${name}`;

    it('gives a free route to the first claim, and keeps it from the next; the holder claims it again', async () => {
      // Act
      const first = await storage.claims.claim(route('free'), 'web-1');
      const second = await storage.claims.claim(route('free'), 'web-2');
      const again = await storage.claims.claim(route('free'), 'web-1');

      // Assess
      expect([first, second, again]).toEqual([
        { claimed: true },
        { claimed: false, holder: 'web-1' },
        { claimed: true },
      ]);
      expect(await storage.claims.holder(route('free'))).toBe('web-1');
    });

    it('lets exactly one of two claims at once win', async () => {
      // Act
      const outcomes = await Promise.all([
        storage.claims.claim(route('race'), 'web-1'),
        storage.claims.claim(route('race'), 'web-2'),
      ]);

      // Assess
      const winner = outcomes[0]!.claimed ? 'web-1' : 'web-2';
      expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
      expect(outcomes.find((o) => !o.claimed)).toEqual({ claimed: false, holder: winner });
      expect(await storage.claims.holder(route('race'))).toBe(winner);
    });

    it('replaces only the holder the claimant names (one it found ended)', async () => {
      // Prepare
      await storage.claims.claim(route('stale'), 'web-1');

      // Act
      const wrongGuess = await storage.claims.claim(route('stale'), 'web-3', 'web-2');
      const replaced = await storage.claims.claim(route('stale'), 'web-3', 'web-1');
      const late = await storage.claims.claim(route('stale'), 'web-4', 'web-1');

      // Assess
      expect([wrongGuess, replaced, late]).toEqual([
        { claimed: false, holder: 'web-1' },
        { claimed: true },
        { claimed: false, holder: 'web-3' },
      ]);
    });

    it('releases a route only for its holder', async () => {
      // Prepare
      await storage.claims.claim(route('release'), 'web-1');

      // Act
      await storage.claims.release(route('release'), 'web-2');
      const kept = await storage.claims.holder(route('release'));
      await storage.claims.release(route('release'), 'web-1');
      await storage.claims.release(route('release'), 'web-1');

      // Assess
      expect([kept, await storage.claims.holder(route('release'))]).toEqual(['web-1', undefined]);
      expect(await storage.claims.claim(route('release'), 'web-2')).toEqual({ claimed: true });
    });

    it('never expires, and leaves the idempotency keys on the same table as they are', async () => {
      // Prepare
      const key = 'arn:aws:iam::111122223333:user/alice|beside-a-claim';
      await storage.claims.claim(route('lasting'), 'web-1');
      await storage.idempotency.claim(key, 'hash-1');

      // Act
      await storage.later(2 * DAY_SECONDS);
      const claim = await storage.claims.claim(route('lasting'), 'web-2');
      const idempotent = await storage.idempotency.claim(key, 'hash-2');

      // Assess
      expect(claim).toEqual({ claimed: false, holder: 'web-1' });
      expect(idempotent).toEqual({ claimed: true });
    });
  });

  describe('IdempotencyStore', () => {
    const alice = 'arn:aws:iam::111122223333:user/alice';
    const bob = 'arn:aws:iam::111122223333:user/bob';

    it('claims a new key, and holds it in progress for the request that claimed it', async () => {
      // Act
      const first = await storage.idempotency.claim(`${alice}|new`, 'hash-1');
      const second = await storage.idempotency.claim(`${alice}|new`, 'hash-2');

      // Assess
      expect(first).toEqual({ claimed: true });
      expect(second).toEqual({ claimed: false, record: { requestHash: 'hash-1', status: 'in-progress' } });
    });

    it('answers a completed key with the answer it stored', async () => {
      // Prepare
      await storage.idempotency.claim(`${alice}|done`, 'hash-1');

      // Act
      await storage.idempotency.complete(`${alice}|done`, { statusCode: 202, body: '{"status":"started"}' });
      const retry = await storage.idempotency.claim(`${alice}|done`, 'hash-1');

      // Assess
      expect(retry).toEqual({
        claimed: false,
        record: {
          requestHash: 'hash-1',
          status: 'done',
          response: { statusCode: 202, body: '{"status":"started"}' },
        },
      });
    });

    it('lets a released key be claimed again, by whichever request comes next', async () => {
      // Prepare
      await storage.idempotency.claim(`${alice}|released`, 'hash-1');

      // Act
      await storage.idempotency.release(`${alice}|released`);
      const again = await storage.idempotency.claim(`${alice}|released`, 'hash-2');
      const held = await storage.idempotency.claim(`${alice}|released`, 'hash-1');

      // Assess
      expect(again).toEqual({ claimed: true });
      expect(held).toEqual({ claimed: false, record: { requestHash: 'hash-2', status: 'in-progress' } });
    });

    it('keeps the keys of two callers apart', async () => {
      // Act
      const claims = [
        await storage.idempotency.claim(`${alice}|same-key`, 'hash-a'),
        await storage.idempotency.claim(`${bob}|same-key`, 'hash-b'),
      ];

      // Assess
      expect(claims).toEqual([{ claimed: true }, { claimed: true }]);
    });

    it('keeps no answer for a key nobody holds, and releases a key nobody holds without complaint', async () => {
      // Act
      await storage.idempotency.complete(`${alice}|never-claimed`, { statusCode: 200, body: '{}' });
      await storage.idempotency.release(`${alice}|never-claimed-either`);
      const claim = await storage.idempotency.claim(`${alice}|never-claimed`, 'hash-1');

      // Assess
      expect(claim).toEqual({ claimed: true });
    });

    it('hands a key over once the request holding it has been gone past its lease (a minute)', async () => {
      // Prepare
      await storage.idempotency.claim(`${alice}|abandoned`, 'hash-1');

      // Act
      await storage.later(30);
      const stillHeld = await storage.idempotency.claim(`${alice}|abandoned`, 'hash-2');
      await storage.later(31);
      const takenOver = await storage.idempotency.claim(`${alice}|abandoned`, 'hash-2');

      // Assess
      expect(stillHeld).toEqual({ claimed: false, record: { requestHash: 'hash-1', status: 'in-progress' } });
      expect(takenOver).toEqual({ claimed: true });
    });

    it('answers for a completed key for a day, then lets it go', async () => {
      // Prepare
      await storage.idempotency.claim(`${alice}|a-day`, 'hash-1');
      await storage.idempotency.complete(`${alice}|a-day`, { statusCode: 200, body: '{}' });

      // Act
      await storage.later(DAY_SECONDS - 10);
      const withinTheDay = await storage.idempotency.claim(`${alice}|a-day`, 'hash-2');
      await storage.later(11);
      const afterTheDay = await storage.idempotency.claim(`${alice}|a-day`, 'hash-2');

      // Assess
      expect(withinTheDay).toMatchObject({
        claimed: false,
        record: { requestHash: 'hash-1', status: 'done' },
      });
      expect(afterTheDay).toEqual({ claimed: true });
    });
  });

  describe('ActionHistory', () => {
    const web = 'arn:aws:ecs:eu-west-1:111122223333:service/contract/web';
    // A target whose name starts with the other's: a filter on one must not find the other.
    const webCanary = 'arn:aws:ecs:eu-west-1:111122223333:service/contract/web-canary';
    const entries: JournalEntry[] = [
      {
        reflex: 'task-recycler',
        action: 'restart-task',
        target: web,
        reason: 'exited 137',
        dryRun: false,
        outcome: 'done',
      },
      {
        reflex: 'alarm-reactor',
        action: 'set-target-value',
        target: 'service/contract/web ecs:service:DesiredCount',
        reason: 'alarm web-cpu-high in ALARM',
        dryRun: false,
        outcome: 'done',
        detail: { from: 60, to: 45 },
      },
      {
        reflex: 'task-recycler',
        action: 'stop-task',
        target: webCanary,
        reason: 'unhealthy for 5 minutes',
        dryRun: false,
        outcome: 'failed',
        detail: { error: 'AccessDeniedException' },
      },
      {
        reflex: 'rollout',
        action: 'shift',
        target: 'web appmesh:shop/web/web',
        reason: 'step 2 of 5',
        dryRun: false,
        outcome: 'held',
      },
      {
        reflex: 'task-recycler',
        action: 'restart-task',
        target: web,
        reason: 'exited 1',
        dryRun: true,
        outcome: 'dry-run',
        detail: { attempt: 2 },
      },
    ];
    let at: Date[];
    const newestFirst = (picked: number[]) => picked.map((i) => ({ ...entries[i], at: at[i] }));

    beforeAll(async () => {
      at = await storage.journal(entries);
    });

    it('reads back every entry as it was written, newest first', async () => {
      // Act
      const actions = await storage.eventually(
        () => storage.actions.recent({ since: at[0], limit: 50 }),
        (found) => found.length >= entries.length,
      );

      // Assess
      expect(actions).toEqual(newestFirst([4, 3, 2, 1, 0]));
    });

    it('finds the entries of one reflex, and of one target exactly', async () => {
      // Act
      const ofRecycler = await storage.actions.recent({ reflex: 'task-recycler', since: at[0], limit: 50 });
      const ofWeb = await storage.actions.recent({ target: web, since: at[0], limit: 50 });
      const ofBoth = await storage.actions.recent({
        reflex: 'task-recycler',
        target: webCanary,
        since: at[0],
        limit: 50,
      });

      // Assess
      expect(ofRecycler).toEqual(newestFirst([4, 2, 0]));
      expect(ofWeb).toEqual(newestFirst([4, 0]));
      expect(ofBoth).toEqual(newestFirst([2]));
    });

    it('finds the entries whose target starts with a prefix, of the given actions only', async () => {
      // Act
      const ofCanary = await storage.actions.recent({ targetPrefix: `${web}-`, since: at[0], limit: 50 });
      const restarts = await storage.actions.recent({
        reflex: 'task-recycler',
        targetPrefix: web,
        actions: ['restart-task'],
        since: at[0],
        limit: 50,
      });

      // Assess
      expect(ofCanary).toEqual(newestFirst([2]));
      expect(restarts).toEqual(newestFirst([4, 0]));
    });

    it('keeps the newest up to the limit', async () => {
      // Act
      const actions = await storage.actions.recent({ since: at[0], limit: 2 });

      // Assess
      expect(actions).toEqual(newestFirst([4, 3]));
    });

    it('leaves out what came before `since`, and keeps what came at that instant', async () => {
      // Act
      const actions = await storage.actions.recent({ since: at[3], limit: 50 });

      // Assess
      expect(actions).toEqual(newestFirst([4, 3]));
    });

    it('finds nothing for a reflex that wrote nothing', async () => {
      // Act
      const actions = await storage.actions.recent({ reflex: 'instance-lifecycle', since: at[0], limit: 50 });

      // Assess
      expect(actions).toEqual([]);
    });
  });
}
