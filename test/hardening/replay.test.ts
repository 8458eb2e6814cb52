// Issue 6, duplicates and reordering: every scenario in local/scenarios is replayed with every event
// delivered three times and shuffled within a 30 s delivery window, and compared with its clean run.
//
// The end state compared (`ScenarioResult.endState`) is what must converge whatever the delivery order:
// each service's desired and running counts and primary task definition, each route's weights, each
// Auto Scaling group's desired and in-service sizes, each rollout's final status, and the lifecycle
// actions completed by result. Left out on purpose:
// - task ids, ARNs, timestamps, the journal and the order of API calls: a reordered delivery changes
//   when and in which order things happen, not where they end;
// - dead letters and the scenarios' own expectations: a poison event delivered three times is
//   dead-lettered three times (alarm-throttled, injected-events), and StartExecution is recorded per
//   attempt even when Step Functions answers ExecutionAlreadyExists for the same name
//   (lifecycle-test-notification counts 12 attempts instead of 6; the executions, by name, are the
//   same and the completions match).
// A scenario whose own timeline has `duplicateEvents` (lifecycle-duplicates) replaces the whole-run
// duplication with its own window from the step's time on, exactly as that step does in a clean run.
//
// Both runs also check the blast-radius invariants after every step of the clock
// (local/scenario/blastRadius.ts): none may be broken beyond the known ones (test/support/blastRadius.ts).
import { join } from 'node:path';
import { loadScenario, runScenario } from '#local/scenario/runner';
import { BlastRadiusTally, unknownViolations } from '../support/blastRadius';
import { DESTRUCTIVE_APIS, scenarioDir, scenarioFiles, successfulWrites } from './outcomes';

const DUPLICATE = { copies: 3, jitterSeconds: 30, seed: 6 };

describe('scenarios replayed with duplicated and reordered events', () => {
  const tally = new BlastRadiusTally();
  afterAll(() => console.log(tally.summary('replay (clean and duplicated runs)')));

  it.each(scenarioFiles)(
    '%s ends as its clean run, acts no more often, within the blast radius',
    async (file) => {
      // Arrange
      const path = join(scenarioDir, file);
      const clean = await runScenario(loadScenario(path), { checkBlastRadius: true });
      tally.add(clean.blastRadius);

      // Act
      const duplicated = await runScenario(loadScenario(path), {
        duplicate: DUPLICATE,
        checkBlastRadius: true,
      });
      tally.add(duplicated.blastRadius);

      // Assess
      expect(duplicated.deliveredEvents.length).toBeGreaterThanOrEqual(clean.deliveredEvents.length);
      expect(duplicated.endState).toEqual(clean.endState);
      const moreOften = DESTRUCTIVE_APIS.map((api) => ({
        api,
        clean: successfulWrites(clean.apiCalls, api),
        duplicated: successfulWrites(duplicated.apiCalls, api),
      })).filter((c) => c.duplicated > c.clean);
      expect(moreOften).toEqual([]);
      expect(unknownViolations(clean.blastRadius)).toEqual([]);
      expect(unknownViolations(duplicated.blastRadius)).toEqual([]);
    },
  );
});
