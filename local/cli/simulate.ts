// npm run simulate -- <scenario name or path> [--json]
import './quiet';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, repoRoot, runScenario, type ScenarioResult } from '#local/scenario/runner';
import { formatTimeline } from '#local/twin/timeline';

export function resolveScenarioPath(arg: string): string {
  if (existsSync(arg)) return arg;
  const named = join(repoRoot, 'local', 'scenarios', `${arg.replace(/\.json$/, '')}.json`);
  if (existsSync(named)) return named;
  throw new Error(`no scenario ${arg}: give a path or a name from local/scenarios/`);
}

export function summary(result: ScenarioResult): string {
  const passed = result.expectations.filter((e) => e.passed).length;
  const minutes = (result.virtualSeconds / 60).toFixed(0);
  return `scenario ${result.name}: ${passed}/${result.expectations.length} expectations met, ${result.journal.length} reflex decisions, ${minutes} min of virtual time in ${(result.wallMilliseconds / 1000).toFixed(2)} s`;
}

export async function simulate(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const target = args.find((a) => !a.startsWith('--'));
  if (!target) {
    process.stderr.write('usage: npm run simulate -- <scenario> [--json]\n');
    return 2;
  }
  const result = await runScenario(loadScenario(resolveScenarioPath(target)));
  if (json) {
    const { timeline, ...rest } = result;
    process.stdout.write(`${JSON.stringify({ ...rest, timeline }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `${result.description}\n\n${formatTimeline(result.timeline)}\n\n${summary(result)}\n`,
    );
  }
  return result.passed ? 0 : 1;
}
