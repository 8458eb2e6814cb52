// One failing test fails alone. While a twin runs its clock, the global timers and Date are its own
// (local/twin/scheduler.ts); a test that ends while its twin's run is still going, failed or timed out,
// used to leave them so, and every later twin test in the file threw VirtualTimeBusy. The test setup
// (test/setupAfterEnv.ts) now takes the clock back after every test.
import { join } from 'node:path';
import { loadScenario, prepareTwin, repoRoot, runScenario } from '#local/scenario/runner';
import { releaseVirtualTime, VirtualScheduler, VirtualTimeReleased } from '#local/twin/scheduler';

const scenarioPath = join(repoRoot, 'local', 'scenarios', 'throttled-restart.json');
const RealDate = Date;

/** A twin whose run is parked on a step that never ends: its clock stays installed until taken back. */
function aStuckRun() {
  const twin = prepareTwin(loadScenario(scenarioPath));
  twin.start();
  twin.scheduler.after(1, 'a step that never ends', () => new Promise<void>(() => undefined));
  const run = twin.runFor(60);
  run.catch(() => undefined);
  return run;
}

describe('one failing twin test fails alone', () => {
  it.failing('fails on purpose while its twin is still running', async () => {
    // Prepare
    void aStuckRun();
    await new Promise((resolve) => setImmediate(resolve));

    // Act: the clock is still the twin's when the test fails
    const virtual = Date !== RealDate;

    // Assess
    expect(virtual).toBe(false);
  });

  it.failing('times out on purpose while its twin is still running', async () => {
    await aStuckRun();
  }, 200); // Short on purpose: the run never ends, so the verdict is the same on any machine.

  it('runs the next twin to its end, on the real clock before and after', async () => {
    // Prepare
    const scenario = loadScenario(scenarioPath);

    // Act
    const before = Date === RealDate;
    const result = await runScenario(scenario);

    // Assess
    expect(before).toBe(true);
    expect(result.passed).toBe(true);
    expect(Date).toBe(RealDate);
  });

  it('stops a released run at its next step, and the released run leaves the globals alone', async () => {
    // Prepare
    const scheduler = new VirtualScheduler(new RealDate('2026-01-01T00:00:00Z'));
    let resume: () => void = () => undefined;
    const ran: string[] = [];
    scheduler.after(1, 'wait', () => new Promise<void>((resolve) => (resume = resolve)));
    scheduler.after(2, 'later', () => void ran.push('later'));
    const run = scheduler.runUntil(new RealDate('2026-01-01T00:01:00Z')).catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));

    // Act
    const released = releaseVirtualTime();
    const other = new VirtualScheduler(new RealDate('2026-01-01T00:00:00Z'));
    other.after(1, 'other', () => void ran.push(`other at ${new Date().toISOString()}`));
    await other.runUntil(new RealDate('2026-01-01T00:00:05Z'));
    resume();

    // Assess
    expect(released).toBe(true);
    expect(await run).toBeInstanceOf(VirtualTimeReleased);
    expect(ran).toEqual(['other at 2026-01-01T00:00:01.000Z']);
    expect(Date).toBe(RealDate);
  });
});

describe('a callback that waits on a library timer', () => {
  it('ends: the timer runs while the callback waits, the clock moves to it, and later steps run after', async () => {
    // Prepare: a handler that sleeps like the SDK's retry backoff, and a step due during its sleep
    const clock = new VirtualScheduler(new Date('2026-11-02T09:00:00Z'));
    const seen: string[] = [];
    clock.after(1, 'handler', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      seen.push(`handler woke at ${clock.elapsedSeconds()}`);
    });
    clock.after(2, 'world', () => {
      seen.push(`world at ${clock.elapsedSeconds()}`);
    });

    // Act
    await clock.runUntil(new Date('2026-11-02T09:01:00Z'));

    // Assess: the world's step waited for the handler (it runs late, never early)
    expect(seen).toEqual(['handler woke at 3', 'world at 3']);
  });
});
