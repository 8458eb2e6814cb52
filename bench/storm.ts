// Section 9: the crash storm (local/scenarios/crash-storm.json) run with the task recycler's coalescing
// off and on, side by side: what each event costs in AWS reads and looks, and what the recycler did.
import { join } from 'node:path';
import { recyclerReads } from '#local/scenario/expectations';
import { loadScenario, repoRoot, runScenario } from '#local/scenario/runner';
import { taskRecyclerWiring } from '#local/twin/wiring';

export const STORM_SCENARIO = 'local/scenarios/crash-storm.json';

/** How the readsPerEvent expectation describes itself (local/scenario/expectations.ts). */
const READS_PER_EVENT = 'read(s) by the task recycler per event';

/** Writes that change the cluster; the recycler's rechecks and parking (SendMessage) are not among them. */
const DESTRUCTIVE = new Set(['UpdateService', 'RunTask', 'StopTask', 'DeregisterTargets']);

export interface StormRun {
  coalesce: boolean;
  events: number;
  /** Looks at the service: each reads the service once (DescribeServices). */
  looks: number;
  reads: number;
  readsPerEvent: number;
  readsByApi: Record<string, number>;
  destructive: Record<string, number>;
  /** The other writes (tags, rechecks, notifications). */
  otherWrites: Record<string, number>;
  expectationsFailed: string[];
  wallMs: number;
}

function tally(apis: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const api of apis) counts[api] = (counts[api] ?? 0) + 1;
  return counts;
}

async function runStorm(coalesce: boolean): Promise<StormRun> {
  const scenario = loadScenario(join(repoRoot, STORM_SCENARIO));
  const started = performance.now();
  const result = await runScenario(scenario, { recycler: { coalesce } });
  const wallMs = performance.now() - started;
  const own = result.apiCalls.filter((c) => c.by?.split(':')[0] === taskRecyclerWiring.functionName);
  const { reads, events } = recyclerReads(result.timeline, result.apiCalls);
  const writes = own.filter((c) => c.write && !c.failed).map((c) => c.api);
  return {
    coalesce,
    events,
    looks: own.filter((c) => c.api === 'DescribeServices').length,
    reads,
    readsPerEvent: events === 0 ? 0 : reads / events,
    readsByApi: tally(own.filter((c) => !c.write).map((c) => c.api)),
    destructive: tally(writes.filter((api) => DESTRUCTIVE.has(api))),
    otherWrites: tally(writes.filter((api) => !DESTRUCTIVE.has(api))),
    // The reads-per-event bound is the figure this section reports, not a check of the fixture (with
    // coalescing off it fails by design); the bench fails only when the storm stops being the storm.
    expectationsFailed: result.expectations
      .filter((e) => !e.passed && !e.description.includes(READS_PER_EVENT))
      .map((e) => e.description),
    wallMs,
  };
}

/**
 * Off, then on. The counts are the same on every run (the scenario is seeded and runs on virtual time),
 * so one run of each is the figure; wall time is one sample each, for scale only.
 */
export async function measureStorm(): Promise<{ off: StormRun; on: StormRun }> {
  const off = await runStorm(false);
  const on = await runStorm(true);
  return { off, on };
}
