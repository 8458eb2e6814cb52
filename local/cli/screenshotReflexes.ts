// docs/screenshots/reflexes.png: the dashboard's Reflexes tab over the reflexes-at-work scenario ten
// minutes in, taken with Debian's Chromium through playwright-core, so a reader sees the view without
// running anything. `npx tsx local/cli/screenshotReflexes.ts [out.png]` writes it again.
//
// The twin runs its ten minutes first, then stands still while the page polls it: its virtual clock never
// runs while the browser works, so Playwright's own timers stay real.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { handleOpsRequest, type OpsSettings } from '#app/opsApi';
import { startDashboard } from '#local/api/dashboardProxy';
import { startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { resolveScenarioPath } from '#local/cli/simulate';
import { repoRoot } from '#local/repoRoot';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';

const CHROMIUM = '/usr/bin/chromium';
const WallClock = globalThis.Date;
const wallClock = () => new WallClock();

export async function screenshotReflexes(out: string): Promise<void> {
  const scenario = loadScenario(resolveScenarioPath('reflexes-at-work'));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.runFor(600);
  const settings: OpsSettings = {
    routes: [],
    clusters: scenario.world.clusters.map((c) => c.name),
    serves: ['read'],
    reflexes: twin.reflexSettings,
  };
  const server = await startOpsServer({
    clock: wallClock,
    handle: (request) => handleOpsRequest(request, { ports: twin.opsPorts, settings, clock: twin.scheduler }),
  });
  const dashboard = await startDashboard({
    endpoint: server.url,
    credentials: async () => LOCAL_CREDENTIAL,
    region: LOCAL_REGION,
    clock: wallClock,
  });
  const profile = mkdtempSync(join(tmpdir(), 'ecs-reflex-screenshot-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
      viewport: { width: 1400, height: 860 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${dashboard.url}?view=reflexes`);
      await page.getByTestId('alarm-change-surge-capacity').waitFor();
      await page.getByTestId('dead-letters-task-recycler-dlq').waitFor();
      mkdirSync(dirname(out), { recursive: true });
      await page.screenshot({ path: out, fullPage: true });
    } finally {
      await context.close();
    }
  } finally {
    await dashboard.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? join(repoRoot, 'docs', 'screenshots', 'reflexes.png'));
  screenshotReflexes(out).then(
    () => console.log(`wrote ${out}`),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
