// The demo scenario end to end on the twin (world, event bus, queue, both handlers, virtual clock):
// how much faster than real time the local twin runs a scripted hour of cluster life.
import { join } from 'node:path';
import { loadScenario, repoRoot, runScenario } from '#local/scenario/runner';
import { type Summary, summarize } from './stats';

export interface ScenarioBench {
  scenario: string;
  runs: number;
  virtualSeconds: number;
  allPassed: boolean;
  wallMs: Summary;
  /** Virtual seconds per wall second, at the median run. */
  speedup: number;
}

export async function measureScenario(runs: number): Promise<ScenarioBench> {
  const path = join(repoRoot, 'local', 'scenarios', 'demo.json');
  const wall: number[] = [];
  let virtualSeconds = 0;
  let allPassed = true;
  for (let i = 0; i < runs; i++) {
    const scenario = loadScenario(path);
    const started = process.hrtime.bigint();
    const result = await runScenario(scenario);
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
    virtualSeconds = result.virtualSeconds;
    allPassed &&= result.passed;
  }
  const wallMs = summarize(wall);
  return {
    scenario: 'local/scenarios/demo.json',
    runs,
    virtualSeconds,
    allPassed,
    wallMs,
    speedup: virtualSeconds / (wallMs.p50 / 1000),
  };
}
