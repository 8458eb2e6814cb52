// The storage contract on the twin (see storage.contract.ts; storage.awstest.ts runs the same on AWS).
import { contractTwin, twinEventually } from './harness';
import { storageContract } from './storage.contract';

describe('Ops storage ports on the twin', () => {
  storageContract(() => {
    const twin = contractTwin();
    return {
      idempotency: twin.opsPorts.idempotency,
      claims: twin.rolloutPorts.claims,
      later: (seconds) => twin.runFor(seconds),
      actions: twin.opsPorts.actions,
      journal: async (entries) => {
        const written: Date[] = [];
        for (const [i, entry] of entries.entries()) {
          if (i > 0) await twin.runFor(10);
          twin.recorders.journal.record(entry);
          written.push(twin.scheduler.now());
        }
        return written;
      },
      eventually: twinEventually(twin),
      given: async () => undefined,
    };
  });
});
