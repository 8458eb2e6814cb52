// The dashboard in a real browser over a twin, for the browser test and the screenshots: Debian's Chromium,
// driven by playwright-core, against the signing proxy in front of the local ops server.
//
// The twin runs in this process. While it runs its clock (inside runFor), the global Date and setTimeout
// are virtual, and Playwright's own timers must not fall into them: the twin moves on in small steps between
// browser calls (`until`), never during one, and the servers get the wall clock explicitly.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { handleOpsRequest, type OpsSettings } from '#app/opsApi';
import { type Dashboard, startDashboard } from '#local/api/dashboardProxy';
import { type OpsServer, startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { resolveScenarioPath } from '#local/cli/simulate';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import type { Twin } from '#local/twin/twin';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Taken before any twin runs: the wall clock, for signatures.
const WallClock = globalThis.Date;
const wallClock = () => new WallClock();

export interface DashboardSession {
  twin: Twin;
  server: OpsServer;
  dashboard: Dashboard;
  settings: OpsSettings;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * The world of rollout-alb-promoted (an ALB rule splitting web-v1 and web-v2), without its timeline, plus
 * the stable version's service: two tasks on two instances, registered in web-v1; a browser page on it.
 */
export async function openDashboard(viewport?: { width: number; height: number }): Promise<DashboardSession> {
  const scenario = loadScenario(resolveScenarioPath('rollout-alb-promoted'));
  scenario.world.clusters[0]!.instances.push({ count: 2, cpu: 4096, memory: 8192 });
  scenario.world.taskDefinitions.push(
    ...ScenarioSchema.shape.world.shape.taskDefinitions.parse([
      { family: 'web', revision: 1, cpu: 256, memory: 512, container: { name: 'web', port: 8080 } },
    ]),
  );
  scenario.world.services.push(
    ...ScenarioSchema.shape.world.shape.services.parse([
      { cluster: 'prod', name: 'web', taskDefinition: 'web:1', desiredCount: 2, targetGroups: ['web-v1'] },
    ]),
  );
  const twin = prepareTwin(scenario);
  twin.start();
  return openDashboardOn(
    twin,
    { routes: twin.declaredRoutes, clusters: ['prod'], serves: ['read', 'write'] },
    viewport,
  );
}

/**
 * reflexes-at-work ten minutes in, the twin's clock at rest: a surge alarm's change in place, two launches
 * held at their hook, a task marked unhealthy, a give-up, a dead letter; a browser page on it.
 */
export async function openReflexDashboard(viewport?: {
  width: number;
  height: number;
}): Promise<DashboardSession> {
  const scenario = loadScenario(resolveScenarioPath('reflexes-at-work'));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.runFor(600);
  const settings: OpsSettings = {
    routes: [],
    clusters: ['prod'],
    serves: ['read'],
    reflexes: structuredClone(twin.reflexSettings),
  };
  return openDashboardOn(twin, settings, viewport);
}

/**
 * A native-deployment scenario on the real deployment hook, without a person's answers of its timeline (the
 * page gives them). By default native-hook-gate-resumed four minutes in: an ECS native deployment held at
 * the hook's POST_TEST_TRAFFIC_SHIFT gate.
 */
export async function openDeploymentDashboard(
  viewport?: { width: number; height: number },
  played = { scenario: 'native-hook-gate-resumed', seconds: 240 },
): Promise<DashboardSession> {
  const scenario = loadScenario(resolveScenarioPath(played.scenario));
  scenario.timeline = scenario.timeline.filter((step) => !('answerDeploymentGate' in step));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.runFor(played.seconds);
  const settings: OpsSettings = {
    routes: twin.declaredRoutes,
    clusters: ['prod'],
    serves: ['read', 'write'],
    hookServices: twin.deploymentHookServices,
  };
  return openDashboardOn(twin, settings, viewport);
}

/** The ops server over the twin, the signing proxy in front of it, and Chromium. */
async function openDashboardOn(
  twin: Twin,
  settings: OpsSettings,
  viewport?: { width: number; height: number },
): Promise<DashboardSession> {
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
  let context: BrowserContext | undefined;
  let page: Page;
  try {
    context = await (await sharedBrowser()).newContext(viewport ? { viewport } : {});
    page = await context.newPage();
  } catch (error) {
    // No session to close yet: what was started for it goes now, or it keeps the test runner alive.
    await context?.close();
    await dashboard.close();
    await server.close();
    throw error;
  }
  // Playwright's waits are wall-clock: generous, so a loaded machine gets the same verdict.
  page.setDefaultTimeout(120_000);
  return {
    twin,
    server,
    dashboard,
    settings,
    context,
    page,
    close: async () => {
      await context.close();
      await dashboard.close();
      await server.close();
    },
  };
}

/**
 * One Chromium for every session in the process, each session a context of its own in it (its own
 * cookies, storage and viewport): launching one per session cost ~0.7 s each.
 */
let browser: Promise<Browser> | undefined;

function sharedBrowser(): Promise<Browser> {
  browser ??= chromium
    .launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    .catch((error: unknown) => {
      browser = undefined;
      throw error;
    });
  return browser;
}

/** Closes the Chromium the sessions share, once the last session has closed (or the process keeps it). */
export async function closeDashboardBrowser(): Promise<void> {
  const launched = browser;
  browser = undefined;
  if (launched) await (await launched).close();
}

/**
 * A rollout request on the `web` route: the given schedule and gates, checked on the 5xx rate (at most 5 %)
 * and the p99 latency (at most twice stable's) of each version's target group.
 */
export function webRollout(session: DashboardSession, plan: { weights: number[]; gates: number[] }) {
  const { twin } = session;
  const source = {
    kind: 'alb',
    loadBalancer: twin.traffic.route('web').loadBalancer,
    stableTargetGroup: twin.world.targetGroup('web-v1').arn.replace(/^.*:/, ''),
    canaryTargetGroup: twin.world.targetGroup('web-v2').arn.replace(/^.*:/, ''),
  };
  return {
    service: 'web',
    route: session.settings.routes.find((r) => r.name === 'web')!.route,
    schedule: { kind: 'weights', weights: plan.weights, bakeSeconds: 60 },
    gates: plan.gates,
    analysis: {
      checks: [
        { name: '5xx rate', kind: 'errorRate', source, minRequests: 50, max: 0.05 },
        {
          name: 'p99 latency',
          kind: 'latency',
          source,
          percentile: 99,
          minRequests: 50,
          maxRelativeToStable: 2,
        },
      ],
    },
  };
}

/**
 * Moves the twin on in small steps, each followed by a real pause, until `check` (a browser call) holds.
 * The bound is virtual time (an hour of the scenario), so a slow machine gets the same verdict.
 */
export async function until(
  session: DashboardSession,
  what: string,
  check: () => Promise<boolean>,
  virtualSeconds = 3600,
): Promise<void> {
  const limit = session.twin.scheduler.elapsedSeconds() + virtualSeconds;
  while (!(await check())) {
    if (session.twin.scheduler.elapsedSeconds() > limit)
      throw new Error(`${what}: not within ${virtualSeconds} virtual s`);
    await session.twin.runFor(10);
    await sleep(20);
  }
}
