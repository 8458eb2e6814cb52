// npm start: the main job, offline. The demo scenario runs on the local twin at 120 x real speed (its hour
// in 30 s) while the ops API and the dashboard serve it on localhost; then its timeline and whether its
// expectations held. `--fast`: no serving, the hour as fast as the machine goes. `--keep`: keep serving
// after the demo ends (Ctrl-C stops). `--speed N`, `--port P` as for npm run serve.
import './quiet';
import { checkExpectation } from '#local/scenario/expectations';
import { formatTimeline } from '#local/twin/timeline';
import { serve } from './serve';
import { simulate } from './simulate';

export async function start(args: string[], out: (text: string) => void): Promise<number> {
  const scenarioName = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'demo';
  if (args.includes('--fast')) return simulate([scenarioName, ...args.filter((a) => a === '--json')]);
  const option = (name: string, fallback: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1]! : fallback;
  };
  const running = await serve([
    scenarioName,
    '--speed',
    option('speed', '120'),
    '--port',
    option('port', '0'),
  ]);
  const { twin, scenario } = running;
  out(
    [
      `${scenario.description}`,
      '',
      `ops API:   ${running.url}   (SigV4: see the README, "The ops API")`,
      `dashboard: ${running.dashboardUrl}`,
      `the demo's ${Math.round(scenario.duration / 60)} virtual minutes run at ${option('speed', '120')} x real speed...`,
      '',
    ].join('\n'),
  );
  // Woken by the clock itself when the demo's time is up (or when the twin could not go on).
  await running.clock.reached(scenario.duration);
  const results = scenario.expect.map((expectation) => checkExpectation(expectation, twin));
  const passed = results.filter((r) => r.passed).length;
  out(`${formatTimeline(twin.timeline.entries)}\n\n`);
  for (const r of results) out(`${r.passed ? 'ok  ' : 'FAIL'} ${r.description} (actual: ${r.actual})\n`);
  out(`\nscenario ${scenario.name}: ${passed}/${results.length} expectations met\n`);
  if (args.includes('--keep')) {
    out(`still serving ${running.url} and ${running.dashboardUrl}; Ctrl-C stops\n`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
  await running.stop();
  return passed === results.length ? 0 : 1;
}
