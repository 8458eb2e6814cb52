// One failing test fails alone. While a twin runs its clock, the global timers and Date are its own
// (local/twin/scheduler.ts); a test that ends while its twin's run is still going, failed or timed out,
// used to leave them so, and every later twin test in the file threw VirtualTimeBusy. The test setup
// (test/setupAfterEnv.ts) now takes the clock back after every test.
import { join } from 'node:path';
import middy from '@middy/core';
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

describe('a callback that waits on virtual time', () => {
  const START = new Date('2026-11-02T09:00:00Z');
  const at = (ms: number) => new Date(START.getTime() + ms);

  it('lets the clock move on to its timer, then finishes (a handler whose SDK call backs off)', async () => {
    // Prepare: a callback that sleeps 2 s of virtual time, as the SDK's retry backoff does, and one due
    // while it sleeps
    const scheduler = new VirtualScheduler(START);
    const seen: string[] = [];
    scheduler.after(0, 'handler', async () => {
      seen.push(`start ${new Date().toISOString()}`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      seen.push(`end ${new Date().toISOString()}`);
    });
    scheduler.after(1, 'other', () => {
      seen.push(`other ${new Date().toISOString()}`);
    });

    // Act
    await scheduler.runUntil(at(60_000));

    // Assess: the world did not stop while the handler waited, and the handler ended 2 s after it began
    expect(seen).toEqual([
      'start 2026-11-02T09:00:00.000Z',
      'other 2026-11-02T09:00:01.000Z',
      'end 2026-11-02T09:00:02.000Z',
    ]);
  });

  it('sets its timer before its first await, and still ends', async () => {
    const scheduler = new VirtualScheduler(START);
    const seen: number[] = [];
    scheduler.after(0, 'handler', () => {
      const sleep = new Promise((resolve) => setTimeout(resolve, 500));
      return sleep.then(() => {
        seen.push(scheduler.elapsedSeconds());
      });
    });

    await scheduler.runUntil(at(60_000));

    expect(seen).toEqual([0.5]);
  });

  it('stops the run with the error the callback ends with', async () => {
    const scheduler = new VirtualScheduler(START);
    scheduler.after(0, 'handler', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      throw new Error('answered after the backoff, with a failure');
    });
    scheduler.after(30, 'later', () => undefined);

    await expect(scheduler.runUntil(at(60_000))).rejects.toThrow('with a failure');
  });
});

describe('an invocation’s time, on the virtual clock', () => {
  /** A function whose handler, wrapped by middy as every reflex's is, sleeps `seconds` of virtual time. */
  function sleeper(seconds: number, functionName = 'sleeper') {
    const twin = prepareTwin(loadScenario(scenarioPath));
    const sleep = twin.lambdas.function(functionName, () =>
      middy(async () => {
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        return 'woke';
      }),
    );
    const ended: { at: number; outcome: string }[] = [];
    twin.scheduler.after(0, 'invoke', async () => {
      const outcome = await sleep({}).catch((error: Error) => error.name);
      ended.push({ at: twin.scheduler.elapsedSeconds(), outcome });
    });
    return { twin, ended };
  }
  const realTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('ends an invocation at its function’s timeout in virtual time, the way middy answers it early', async () => {
    // Prepare: a function serverless.yml does not deploy has the provider's 30 s
    const { twin, ended } = sleeper(40);

    // Act
    await twin.runFor(60);

    // Assess: middy's early answer, 5 ms before the deadline, however long the run took on this machine
    expect(ended).toEqual([{ at: 29.995, outcome: 'TimeoutError' }]);
  });

  it('gives a function the timeout serverless.yml deploys it with', async () => {
    // Prepare: rolloutStep has 45 s
    const { twin, ended } = sleeper(40, 'rolloutStep');

    // Act
    await twin.runFor(60);

    // Assess
    expect(ended).toEqual([{ at: 40, outcome: 'woke' }]);
  });

  it('leaves no real timer behind an invocation still waiting when the run ends', async () => {
    // Prepare
    const { twin, ended } = sleeper(40);
    const before = realTimers();

    // Act: the run ends while the invocation sleeps
    await twin.runFor(10);

    // Assess: nothing of it can fire on the real clock after the test
    expect(ended).toEqual([]);
    expect(realTimers()).toBe(before);
  });
});
