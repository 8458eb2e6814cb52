// Faults the twin injects at its AWS calls (local/twin/ports.ts): what a reflex sees, what AWS did, and
// what the call log (world.apiCalls) says about it.
import { prepareTwin } from '#local/scenario/runner';
import type { Twin } from '#local/twin/twin';
import { DEFAULT_MAX_ATTEMPTS as SDK_MAX_ATTEMPTS } from '#runtime/clients';
import { opsWorld } from '../support/opsWorld';

const aTwin = (): Twin => {
  const twin = prepareTwin(opsWorld('faults'));
  twin.start();
  return twin;
};
const always = (twin: Twin) => ({ api: '*', from: twin.scheduler.now(), until: new Date('2100-01-01') });

/** A call made as a Lambda function makes it: in the twin's virtual time, where the SDK's backoff waits. */
async function inVirtualTime<T>(twin: Twin, call: () => Promise<T>): Promise<T> {
  let outcome: { value: T } | { error: unknown } | undefined;
  twin.scheduler.after(0, 'call', async () => {
    outcome = await call().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  });
  while (!outcome) await twin.runFor(5);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

describe('faults on the twin’s AWS calls', () => {
  it('applies a write that took effect, then timed out, once per attempt of the SDK, and the caller sees the timeout', async () => {
    // Prepare
    const twin = aTwin();
    twin.faults.add({ ...always(twin), rate: 1, error: 'TimeoutError', applied: true });
    const published = twin.recorders.notifications;

    // Act
    const seen = await twin.ports.notifier
      .notify({
        subject: 'once',
        severity: 'info',
        reflex: 'test',
        target: 'web',
        summary: 'once',
        steer: [],
        detail: {},
      })
      .catch((error: Error) => error.name);

    // Assess: SNS got the same Publish four times (it has no idempotency token); the reflex saw a timeout
    expect(seen).toBe('TimeoutError');
    expect(published).toHaveLength(SDK_MAX_ATTEMPTS);
    const calls = twin.world.apiCalls.filter((c) => c.api === 'Publish');
    expect(calls.map((c) => [c.answered, c.attempt])).toEqual([
      ['TimeoutError', undefined],
      ['TimeoutError', 2],
      ['TimeoutError', 3],
      ['TimeoutError', 4],
    ]);
  });

  it('lets an absolute write that took effect, then timed out, end where one write would', async () => {
    // Prepare
    const twin = aTwin();
    twin.faults.add({ ...always(twin), rate: 0.5, error: 'TimeoutError', applied: true, seed: 1 });

    // Act
    await inVirtualTime(twin, () => twin.ports.services.setDesiredCount('prod', 'web', 3)).catch(
      () => undefined,
    );

    // Assess
    expect(twin.world.service('prod', 'web')?.desiredCount).toBe(3);
  });

  it('records a write that AWS refuses as failed, not done', async () => {
    // Prepare
    const twin = aTwin();

    // Act
    const refused = await twin.ports.services.setDesiredCount('prod', 'nope', 3).catch((e: Error) => e.name);

    // Assess
    expect(refused).toBe('ServiceNotFoundException');
    expect(twin.world.apiCalls.at(-1)).toMatchObject({ api: 'UpdateService', failed: refused });
  });

  it('hits different calls with different kinds of fault, each from its own dice', async () => {
    // Prepare
    const hits = async (error: 'ThrottlingException' | 'ServerException', seed: number) => {
      const twin = aTwin();
      twin.faults.add({ ...always(twin), rate: 0.3, error, seed });
      for (let i = 0; i < 40; i++)
        await inVirtualTime(twin, () => twin.ports.services.describeService('prod', 'web')).catch(
          () => undefined,
        );
      return twin.world.apiCalls.flatMap((c, i) => (c.failed ? [i] : []));
    };

    // Act
    const throttled = await hits('ThrottlingException', 0x7407);
    const failed = await hits('ServerException', 0x5e5e);

    // Assess
    expect(throttled.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(throttled).not.toEqual(failed);
  });
});
