// One bad release under an ECS native canary, rolled back four ways on the twin (bench section 7 c): the
// order of the figures is what the README and docs/design.md claim of them.
import { measureNativeRollbacks } from '../../bench/nativeRollbacks';

describe('a bad release under an ECS native canary', () => {
  it('is stopped at once by the alarm reactor on a guard alarm, long before the hook would fail it', async () => {
    const runs = Object.fromEntries((await measureNativeRollbacks()).map((r) => [r.scenario, r]));
    const stop = runs['native-canary-guard-alarm-stop']!;
    const hookOnly = runs['native-canary-guard-alarm-hook-only']!;
    const alarmOnly = runs['native-canary-alarm-rollback']!;
    const testTraffic = runs['native-canary-hook-rollback']!;

    expect(stop.rolledBackBecause).toContain('StopServiceDeployment');
    expect(hookOnly.rolledBackBecause).toContain('Lifecycle hook deploymentHook at PRODUCTION_TRAFFIC_SHIFT');
    // The reactor acts on the alarm's event; the hook only at the invocation it asked for.
    expect(stop.secondsAfterAlarm).toBeLessThan(5);
    expect(hookOnly.secondsAfterAlarm).toBeGreaterThanOrEqual(60);
    expect(stop.secondsToRollback).toBeLessThan(hookOnly.secondsToRollback);
    expect(stop.production5xx).toBeLessThan(hookOnly.production5xx);
    // As fast as ECS's own alarm, within its 5 s look at the alarm state and the event's delivery.
    expect(Math.abs(stop.secondsToRollback - alarmOnly.secondsToRollback)).toBeLessThan(5);
    // The test client's traffic tells the analysis before production moves: no production 5xx at all.
    expect(testTraffic.production5xx).toBe(0);
    expect(testTraffic.test5xx).toBeGreaterThan(0);
    // The split by listener adds up to what green's target group published, within rounding.
    for (const run of Object.values(runs))
      expect(Math.abs(run.production5xx + run.test5xx - run.published5xx)).toBeLessThanOrEqual(2);
  });
});
