// The ops API's storage ports' contract: the Idempotency-Key store (DynamoDB, conditional writes) and the
// action history (the reflexes' journal, read back from their log groups). Keys and entries are made up
// here; what matters is what a second request, or a later read, gets back.

import type { ActionHistory, IdempotencyStore, JournalEntry } from '#ports';
import type { Eventually } from './harness';

export interface StorageHarness {
  idempotency: IdempotencyStore;
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
