// Issue 6, crashes: every scenario in local/scenarios is replayed with a Lambda runtime dying in the
// middle of an invocation, after some of its AWS calls and before the rest (`TwinLambdas.crashMidway`: the calls
// it would still make never reach AWS, its invoker sees Runtime.ExitError, and its next invocation starts
// cold). Whatever the invoker does then is what AWS does: SQS redelivers the batch after its visibility
// timeout, Lambda retries an asynchronous invocation, Step Functions applies the state's Retry and Catch.
//
// Where to crash is read from the scenario's clean run, for every function it invoked:
// - the middle invocation of the function, after half of that invocation's AWS calls (at least one when
//   it made any);
// - the middle one of the function's invocations that wrote, right after its first write, so the crash
//   falls between a write and whatever was to follow it (more writes, or the answer to the invoker);
//   skipped when it is the same crash as the first.
// A middle invocation that made no AWS call dies as it ends (`after 0/0 calls`): its invoker still sees
// the crash.
// The run up to the crash is the clean run's, so the crash lands exactly there; the suite checks it did.
// Each run is then classified as converged, failed safe or violated against the clean run
// (test/hardening/outcomes.ts). No run may be violated.
import { join } from 'node:path';
import { loadScenario } from '#local/scenario/runner';
import type { Invocation, MidwayCrash } from '#local/twin/lambdas';
import { BlastRadiusTally, unknownViolations } from '../support/blastRadius';
import { classify, play, type Run, scenarioDir, scenarioFiles, successfulWrites } from './outcomes';

interface Crash extends MidwayCrash {
  /** `function #invocation after n/m calls`, m being what the invocation made in the clean run. */
  label: string;
}

/** Each function's invocations in the run, in order. */
function byFunction(invocations: Invocation[]): Map<string, Invocation[]> {
  const grouped = new Map<string, Invocation[]>();
  for (const invocation of invocations)
    grouped.set(invocation.function, [...(grouped.get(invocation.function) ?? []), invocation]);
  return grouped;
}

const middleOf = <T>(items: T[]): T => items[Math.ceil(items.length / 2) - 1]!;

/** Where the crashes land, read from the clean run: two per function at most. */
function crashesFor(clean: Run): Crash[] {
  const crashes: Crash[] = [];
  for (const [name, invocations] of byFunction(clean.invocations)) {
    const middle = middleOf(invocations);
    const calls = middle.calls.length;
    const half = calls === 0 ? 0 : Math.max(1, Math.floor(calls / 2));
    crashes.push({
      function: name,
      invocation: middle.index,
      afterCalls: half,
      label: `${name} #${middle.index} after ${half}/${calls} calls`,
    });
    const writers = invocations.filter((i) => i.calls.some((c) => c.write));
    if (writers.length === 0) continue;
    const writer = middleOf(writers);
    const firstWrite = writer.calls.findIndex((c) => c.write);
    if (writer.index === middle.index && firstWrite + 1 === half) continue;
    crashes.push({
      function: name,
      invocation: writer.index,
      afterCalls: firstWrite + 1,
      label: `${name} #${writer.index} after ${firstWrite + 1}/${writer.calls.length} calls (${writer.calls[firstWrite]!.api})`,
    });
  }
  return crashes;
}

/** Where the crash did not land as planned: the crashed invocation's calls must be the clean run's first ones. */
function missedLanding(clean: Run, crashed: Run, crash: Crash): string | undefined {
  const find = (run: Run) =>
    run.invocations.find((i) => i.function === crash.function && i.index === crash.invocation);
  const planned = find(clean)!
    .calls.slice(0, crash.afterCalls)
    .map((c) => c.api);
  const landed = find(crashed);
  if (!landed?.crashed) return `${crash.label}: no such invocation crashed`;
  const made = landed.calls.map((c) => c.api);
  if (made.join() !== planned.join()) return `${crash.label}: made ${made.join()}, planned ${planned.join()}`;
  return undefined;
}

/**
 * Crash runs known to end unsafe, by `file@label`, with what differed: kept out of the assertion so the
 * suite stays green. Production code is not changed by this test. None so far.
 */
const KNOWN_VIOLATIONS: Record<string, string> = {};

const table: Record<string, { label: string; outcome: string }[]> = {};

const blastRadius = new BlastRadiusTally();

describe('scenarios replayed with a Lambda runtime crashing mid-way', () => {
  afterAll(() => {
    const lines = ['scenario | functions crashed | outcome', '--- | --- | ---'];
    const all = Object.values(table).flat();
    for (const file of Object.keys(table).sort()) {
      const crashes = table[file]!;
      const outcomes = new Set(crashes.map((c) => c.outcome));
      const outcome =
        outcomes.size === 1 ? [...outcomes][0]! : crashes.map((c) => `${c.label}: ${c.outcome}`).join('; ');
      lines.push(`${file.replace(/\.json$/, '')} | ${crashes.map((c) => c.label).join(', ')} | ${outcome}`);
    }
    for (const outcome of ['converged', 'failed-safe', 'violated'])
      lines.push(
        `**${outcome}** (runs) | | ${all.filter((c) => c.outcome.startsWith(outcome)).length} / ${all.length}`,
      );
    console.log(lines.join('\n'));
    console.log(blastRadius.summary('crashes (clean and crashed runs)'));
  });

  it("judges a route by the reflexes' last write and a later successful rollout, lifecycle actions by who completed them", async () => {
    // Arrange: in the clean run web-release-47 promotes web-v2 and web-release-48 is refused.
    const scenario = loadScenario(join(scenarioDir, 'rollout-concurrent-start.json'));
    const clean = await play(scenario);
    const laterRolloutWon = structuredClone(clean);
    laterRolloutWon.endState.rollouts = { 'web-release-47': 'FAILED', 'web-release-48': 'SUCCEEDED' };
    const noneWon = structuredClone(laterRolloutWon);
    noneWon.endState.rollouts['web-release-48'] = 'FAILED';
    const personEditedAfter = structuredClone(noneWon);
    personEditedAfter.reflexWeights.web = { 'web-v1': 100, 'web-v2': 0 };
    personEditedAfter.endState.routes.web = { 'web-v1': 50, 'web-v2': 50 };
    const leftToTimeOut = { ...structuredClone(laterRolloutWon), timedOutLifecycleActions: 1 };
    const releasedServing = { ...structuredClone(laterRolloutWon), releasedWhileServing: 1 };

    // Act
    const outcomes = [laterRolloutWon, noneWon, personEditedAfter, leftToTimeOut, releasedServing].map(
      (run) => classify(scenario, clean, run).outcome,
    );

    // Assess
    expect(outcomes).toEqual(['failed-safe', 'violated', 'failed-safe', 'violated', 'violated']);
  });

  it('stops a rollback step after its reads: the write never reaches AWS, the retry makes it once', async () => {
    // Arrange: in the clean run, the 5th rolloutStep is the rollback after the failed analysis, reading
    // the rule and its owner tag (2 calls; the write sends back what that read answered) before setting
    // the weights back (ModifyRule).
    const scenario = loadScenario(join(scenarioDir, 'rollout-bad-5xx.json'));
    const clean = await play(scenario);
    const rollback = clean.invocations.filter((i) => i.function === 'rolloutStep')[4]!;
    const reads = rollback.calls.findIndex((c) => c.api === 'ModifyRule');

    // Act
    const crashed = await play(loadScenario(join(scenarioDir, 'rollout-bad-5xx.json')), (twin) =>
      twin.lambdas.crashMidway({ function: 'rolloutStep', invocation: rollback.index, afterCalls: reads }),
    );

    // Assess
    expect(reads).toBe(2);
    const steps = crashed.invocations.filter((i) => i.function === 'rolloutStep');
    const dead = steps[rollback.index - 1]!;
    expect(dead.crashed).toBe(true);
    expect(dead.calls.map((c) => c.api)).toEqual(rollback.calls.slice(0, reads).map((c) => c.api));
    expect(dead.lost).toEqual(['ModifyRule']);
    const retry = steps[rollback.index]!;
    expect(retry.crashed).toBe(false);
    expect(retry.calls.filter((c) => c.api === 'ModifyRule')).toHaveLength(1);
    expect(successfulWrites(crashed.apiCalls, 'ModifyRule')).toBe(
      successfulWrites(clean.apiCalls, 'ModifyRule'),
    );
    expect(crashed.timeline.some((e) => e.text.includes('rolloutStep crashed mid-way'))).toBe(true);
    expect(crashed.endState).toEqual(clean.endState);
  });

  it.each(scenarioFiles)(
    '%s, each function crashed mid-way, converges or fails safe, within the blast radius',
    async (file) => {
      // Arrange
      const scenario = loadScenario(join(scenarioDir, file));
      const clean = await play(scenario);
      blastRadius.add(clean.blastRadius);
      const crashes = crashesFor(clean);
      table[file] = [];

      // Act
      const violations = [];
      const blastRadiusViolations = [...unknownViolations(clean.blastRadius)];
      const missed = [];
      for (const crash of crashes) {
        const crashed = await play(loadScenario(join(scenarioDir, file)), (twin) =>
          twin.lambdas.crashMidway(crash),
        );
        blastRadius.add(crashed.blastRadius);
        blastRadiusViolations.push(...unknownViolations(crashed.blastRadius));
        const { outcome, reasons } = classify(scenario, clean, crashed);
        table[file].push({
          label: crash.label,
          outcome: outcome === 'violated' ? `violated (${reasons.join('; ')})` : outcome,
        });
        const key = `${file}@${crash.label}`;
        if (outcome === 'violated' && !KNOWN_VIOLATIONS[key]) violations.push({ key, reasons });
        const miss = missedLanding(clean, crashed, crash);
        if (miss) missed.push(miss);
      }

      // Assess
      expect(crashes.length).toBeGreaterThan(0);
      expect(missed).toEqual([]);
      expect(violations).toEqual([]);
      expect(blastRadiusViolations).toEqual([]);
    },
  );
});
