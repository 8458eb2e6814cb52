// npm run screenshots [-- NAME...]: pictures of the dashboard for docs/screenshots/, one per named state,
// taken in Debian's Chromium over a twin as the browser test drives it (local/api/dashboardSession.ts).
// Each state starts from a fresh twin, brings the page to what it shows, and is written as NAME.png.
import './quiet';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeDashboardBrowser,
  type DashboardSession,
  openDashboard,
  openDeploymentDashboard,
  openReflexDashboard,
  until,
  webRollout,
} from '#local/api/dashboardSession';
import { repoRoot } from '#local/repoRoot';

/** Small enough for a README, wide enough for the page's two columns. */
const VIEWPORT = { width: 1200, height: 840 };

export interface DashboardState {
  /** The file's name, without .png. */
  name: string;
  /** What the picture shows, for the list this script prints. */
  shows: string;
  /** The twin and page it starts from: the rollout world unless it says otherwise. */
  open?: (viewport: { width: number; height: number }) => Promise<DashboardSession>;
  /** The page's query beyond the polling interval (e.g. `view=reflexes`). */
  query?: string;
  /** Brings the page (already open on the dashboard) to the state. */
  reach(session: DashboardSession): Promise<void>;
}

/** Starts a rollout from the page's form, as a person would. */
async function startFromForm(session: DashboardSession, name: string, request: unknown): Promise<void> {
  const { page } = session;
  await until(session, 'the form to offer the configured routes', async () =>
    (await page.getByTestId('start-request').inputValue()).includes('"route"'),
  );
  await page.getByTestId('start-name').fill(name);
  await page.getByTestId('start-request').fill(JSON.stringify(request, null, 2));
  await page.getByTestId('start-submit').click();
}

const text = (session: DashboardSession, id: string) => session.page.getByTestId(id).textContent();
const marks = (session: DashboardSession) =>
  session.page.locator('[data-check="5xx rate"] g.verdict').count();

export const STATES: DashboardState[] = [
  {
    name: 'rollout-running',
    shows: 'a rollout baking its third step, two analyses passed',
    async reach(session) {
      await startFromForm(session, 'web-42', webRollout(session, { weights: [10, 30, 60], gates: [] }));
      await until(
        session,
        'the third step to bake',
        async () =>
          (await text(session, 'rollout-step')) === '3 of 3' &&
          (await text(session, 'rollout-next')) === 'bake' &&
          (await marks(session)) === 2,
      );
    },
  },
  {
    name: 'rollout-failed',
    shows: 'a canary answering 20 % 5xx: its analysis fails above the limit and the rollout rolls back',
    async reach(session) {
      session.twin.traffic.setProfile('web-v2', { errorRate: 0.2 });
      await startFromForm(session, 'web-43', webRollout(session, { weights: [10, 50], gates: [] }));
      await until(
        session,
        'the rollback',
        async () =>
          (await session.page.getByTestId('rollout').getAttribute('data-status')) === 'FAILED' &&
          (await session.page.locator('[data-check="5xx rate"] g.verdict-fail').count()) > 0,
      );
    },
  },
  {
    name: 'rollout-at-gate',
    shows: 'a rollout waiting at a manual gate after its second step, with the banner and its Resume button',
    async reach(session) {
      await startFromForm(session, 'web-44', webRollout(session, { weights: [10, 50], gates: [1] }));
      await until(
        session,
        'the gate',
        async () =>
          (await text(session, 'rollout-next')) === 'gate' &&
          (await text(session, 'rollout-step')) === '2 of 2' &&
          (await text(session, 'gate-since')) !== 'just now' &&
          (await marks(session)) === 2,
      );
    },
  },
  {
    name: 'reflexes',
    shows:
      'the Reflexes tab over reflexes-at-work ten minutes in: a change in place, a give-up, a mark, held launches, a dead letter',
    // Taller than the others: the page ends with all nine dead-letter queues.
    open: (viewport) => openReflexDashboard({ ...viewport, height: 900 }),
    query: 'view=reflexes',
    async reach(session) {
      await session.page.getByTestId('alarm-change-surge-capacity').waitFor();
      await session.page.getByTestId('dead-letters-task-recycler-dlq').waitFor();
    },
  },
  {
    name: 'deployment-at-gate',
    shows:
      "the Deployments tab: an ECS native deployment held at the deployment hook's gate, with its time box and the Resume and Abort buttons",
    open: (viewport) => openDeploymentDashboard(viewport),
    query: 'view=deployments',
    async reach(session) {
      await session.page.getByTestId('deployment-gate').waitFor();
    },
  },
  {
    name: 'deployment-rolled-back',
    shows:
      "the Deployments tab: a native canary whose hook found green's error rate over its limit; ECS rolled back before production moved",
    open: (viewport) =>
      openDeploymentDashboard(viewport, { scenario: 'native-canary-hook-rollback', seconds: 300 }),
    query: 'view=deployments',
    async reach(session) {
      await session.page.locator('article[data-status="ROLLBACK_SUCCESSFUL"]').waitFor();
    },
  },
];

async function main(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !STATES.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(
      `no state ${unknown.join(', ')}; the states: ${STATES.map((s) => s.name).join(', ')}\n`,
    );
    return 2;
  }
  const folder = join(repoRoot, 'docs', 'screenshots');
  mkdirSync(folder, { recursive: true });
  try {
    await takeScreenshots(folder, names);
  } finally {
    await closeDashboardBrowser();
  }
  return 0;
}

async function takeScreenshots(folder: string, names: string[]): Promise<void> {
  for (const state of STATES.filter((s) => names.length === 0 || names.includes(s.name))) {
    const session = await (state.open ?? openDashboard)(VIEWPORT);
    try {
      await session.page.goto(`${session.dashboard.url}?every=200${state.query ? `&${state.query}` : ''}`);
      await state.reach(session);
      // One more poll with the twin still, so that the page shows the state it reached, not the one before.
      await sleep(600);
      const file = join(folder, `${state.name}.png`);
      await session.page.screenshot({ path: file });
      process.stdout.write(`${file}: ${state.shows}\n`);
    } finally {
      await session.close();
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);
