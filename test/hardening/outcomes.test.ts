// How the hardening suites judge a disturbed run, on runs made up for the case: a rollout on a listener's
// default action (no rule) is judged on its route, and a Lattice weight write is a destructive write.
import { join } from 'node:path';
import { loadScenario } from '#local/scenario/runner';
import type { ApiCall } from '#local/twin/world';
import { moreDestructiveWrites, type Run, scenarioDir, unsafeReasons } from './outcomes';

const scenario = loadScenario(join(scenarioDir, 'rollout-lattice-default-promoted.json'));

function run(change: Partial<Run> = {}): Run {
  return {
    endState: {
      services: {},
      routes: { web: { 'web-v1': 100, 'web-v2': 0 } },
      groups: {},
      rollouts: { 'web-release-45': 'SUCCEEDED' },
      lifecycleCompletions: {},
      standalone: {},
    },
    apiCalls: [],
    pendingLifecycleActions: 0,
    timedOutLifecycleActions: 0,
    releasedWhileServing: 0,
    reflexWeights: {},
    invocations: [],
    timeline: [],
    blastRadius: { steps: 0, violations: [] },
    ...change,
  };
}

const write = (api: string, by: string): ApiCall => ({
  at: new Date(0),
  api,
  target: 'listener',
  write: true,
  by,
});

describe('judging a disturbed run', () => {
  it("judges a failed rollout on a listener's default action by that route's weights", () => {
    const disturbed = run({
      endState: { ...run().endState, rollouts: { 'web-release-45': 'FAILED' } },
      reflexWeights: { web: { 'web-v1': 100, 'web-v2': 0 } },
    });

    expect(unsafeReasons(scenario, run(), disturbed)).toEqual([]);
  });

  it.each(['UpdateRule', 'UpdateListener'])('counts a VPC Lattice %s done once more as unsafe', (api) => {
    const clean = run({ apiCalls: [write(api, 'rolloutStep:1')] });
    const disturbed = run({ apiCalls: [write(api, 'rolloutStep:1'), write(api, 'rolloutStep:2')] });

    expect(moreDestructiveWrites(clean, disturbed)).toEqual([`${api} 2 > clean 1`]);
  });
});
