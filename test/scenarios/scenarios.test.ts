// Every scenario in local/scenarios runs on the twin exactly as `npm run simulate` runs it, and must
// meet its own expectations. Then the demo runs again with AWS made flaky, and must end the same way.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, repoRoot, runScenario } from '#local/scenario/runner';

const scenarioDir = join(repoRoot, 'local', 'scenarios');
const scenarioFiles = readdirSync(scenarioDir).filter((f) => f.endsWith('.json'));

describe('scenarios in local/scenarios', () => {
  it('has the scenarios the task recycler and the alarm reactor promise', () => {
    expect(scenarioFiles).toEqual(
      expect.arrayContaining([
        'demo.json',
        'demo-dry-run.json',
        'unhealthy-standalone.json',
        'throttled-restart.json',
        'image-pull-deployment.json',
        'crash-loop-no-stable-revision.json',
        'placement-shortfall.json',
        'injected-events.json',
        'image-pull-no-circuit-breaker.json',
        'alarm-surge-restore.json',
        'alarm-flapping-cooldown.json',
        'alarm-bound-reached.json',
        'alarm-manual-edit.json',
        'alarm-placement-capacity.json',
        'alarm-throttled.json',
        'alarm-composite-duplicates.json',
        'lifecycle-scale-out.json',
        'lifecycle-agent-never-connects.json',
        'lifecycle-scale-in-drain.json',
        'lifecycle-duplicates.json',
        'lifecycle-throttled.json',
        'lifecycle-step-fails.json',
        'lifecycle-forged-message.json',
        'lifecycle-warm-pool.json',
        'replay-captured-lifecycle.json',
        'crash-storm.json',
      ]),
    );
  });

  it.each(scenarioFiles)('%s meets its expectations', async (file) => {
    // Act
    const result = await runScenario(loadScenario(join(scenarioDir, file)));

    // Assess
    const failed = result.expectations.filter((e) => !e.passed);
    expect(failed).toEqual([]);
    expect(result.expectations.length).toBeGreaterThan(0);
  });
});

describe('the demo under AWS faults', () => {
  const demo = () => loadScenario(join(scenarioDir, 'demo.json'));
  const endState = (result: Awaited<ReturnType<typeof runScenario>>) => ({
    rollbacks: result.apiCalls.filter((c) => c.api === 'UpdateService' && !c.failed).length,
    restarts: result.apiCalls.filter((c) => c.api === 'RunTask' && !c.failed).length,
    gaveUp: result.journal.filter((e) => e.action === 'give-up-restarts' && e.outcome === 'done').length,
  });

  it.each([
    ['throttling on 10% of calls', 0.1, 'ThrottlingException' as const],
    ['throttling on 30% of calls', 0.3, 'ThrottlingException' as const],
    ['server errors on 30% of calls', 0.3, 'ServerException' as const],
  ])('converges to the clean run with %s', async (_label, rate, error) => {
    // Prepare
    const clean = await runScenario(demo());

    // Act
    const faulty = await runScenario(demo(), { extraFaults: [{ api: '*', rate, error }] });

    // Assess: same end state, the same number of destructive calls, and the faults really happened
    expect(faulty.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(endState(faulty)).toEqual(endState(clean));
    expect(faulty.apiCalls.some((c) => c.failed === error)).toBe(true);
  });
});

describe('the alarm surge under AWS faults', () => {
  const surge = () => loadScenario(join(scenarioDir, 'alarm-surge-restore.json'));

  it.each([0.1, 0.3])('sets and restores the same values with %s of calls throttled', async (rate) => {
    // Act
    const faulty = await runScenario(surge(), { extraFaults: [{ api: '*', rate }] });

    // Assess
    const capacityWrites = faulty.apiCalls
      .filter((c) => c.api === 'SetDesiredCapacity' && !c.failed)
      .map((c) => c.target);
    expect(faulty.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(capacityWrites).toEqual(['prod-asg desired=4', 'prod-asg desired=2']);
    expect(faulty.apiCalls.some((c) => c.failed === 'ThrottlingException')).toBe(true);
  });
});

describe('a person steering a rollout while AWS refuses', () => {
  it('shows an abort that never reached the gate on the timeline, and the run goes on', async () => {
    // Prepare: every SendTaskFailure throttled, so the person's abort cannot answer the gate
    const aborted = loadScenario(join(scenarioDir, 'rollout-gate-aborted.json'));

    // Act
    const result = await runScenario(aborted, { extraFaults: [{ api: 'SendTaskFailure', rate: 1 }] });

    // Assess: the failure is the person's to see, as with resume and pause, not an unhandled rejection
    const abort = result.timeline.filter((e) => e.text.startsWith('abort rollout'));
    expect(abort.map((e) => e.text)).toEqual([
      expect.stringMatching(/^abort rollout \S+ failed: .*Rate exceeded/),
    ]);
  });
});
