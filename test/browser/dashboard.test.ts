// The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against the signing proxy
// in front of the local ops server over a twin. A person starts a rollout from the form, watches the canary
// weight rise on the chart, and aborts it; the route is back at 0 % on the page and in the twin.
//
// The twin runs in this process. While it runs its clock (inside runFor), the global Date and setTimeout
// are virtual, and Playwright's own timers must not fall into them: the test moves the twin on in small
// steps between its browser calls, never during one, and the servers get the wall clock explicitly.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { handleOpsRequest, type OpsSettings } from '#app/opsApi';
import { type Dashboard, startDashboard } from '#local/api/dashboardProxy';
import { type OpsServer, startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { resolveScenarioPath } from '#local/cli/simulate';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import type { Twin } from '#local/twin/twin';

const CHROMIUM = '/usr/bin/chromium';
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
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `test/browser/dashboard.test.ts SKIPPED: no Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium`,
  );

// Taken before any twin runs: the wall clock, for signatures.
const WallClock = globalThis.Date;
const wallClock = () => new WallClock();

interface Setup {
  twin: Twin;
  server: OpsServer;
  dashboard: Dashboard;
  settings: OpsSettings;
  context: BrowserContext;
  page: Page;
  profile: string;
}

/**
 * The world of rollout-alb-promoted (an ALB rule splitting web-v1 and web-v2), without its timeline, plus
 * the stable version's service: two tasks on two instances, registered in web-v1.
 */
async function aDashboard(): Promise<Setup> {
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
  const settings: OpsSettings = {
    routes: twin.declaredRoutes,
    clusters: ['prod'],
    serves: ['read', 'write'],
  };
  return openDashboard(twin, settings);
}

/**
 * reflexes-at-work ten minutes in, the twin's clock at rest: a surge alarm's change in place, two launches
 * held at their hook, a task marked unhealthy, a give-up, a dead letter.
 */
async function aReflexDashboard(): Promise<Setup> {
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
  return openDashboard(twin, settings);
}

/** The ops server over the twin, the signing proxy in front of it, and Chromium. */
async function openDashboard(twin: Twin, settings: OpsSettings): Promise<Setup> {
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
  const profile = mkdtempSync(join(tmpdir(), 'ecs-reflex-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Playwright's waits are wall-clock: generous, so a loaded machine gets the same verdict.
  page.setDefaultTimeout(120_000);
  return { twin, server, dashboard, settings, context, page, profile };
}

/**
 * Moves the twin on in small steps, each followed by a real pause, until `check` (a browser call) holds.
 * The bound is virtual time (an hour of the scenario), so a slow machine gets the same verdict.
 */
async function until(
  setup: Setup,
  what: string,
  check: () => Promise<boolean>,
  virtualSeconds = 3600,
): Promise<void> {
  const limit = setup.twin.scheduler.elapsedSeconds() + virtualSeconds;
  while (!(await check())) {
    if (setup.twin.scheduler.elapsedSeconds() > limit)
      throw new Error(`${what}: not within ${virtualSeconds} virtual s`);
    await setup.twin.runFor(10);
    await sleep(20);
  }
}

const numbers = (text: string | null) => (text ? text.split(',').map(Number) : []);

(hasChromium ? describe : describe.skip)('dashboard in Chromium', () => {
  let setup: Setup | undefined;

  afterEach(async () => {
    if (!setup) return;
    await setup.context.close();
    await setup.dashboard.close();
    await setup.server.close();
    rmSync(setup.profile, { recursive: true, force: true });
    setup = undefined;
  });

  it('starts a rollout from the form, charts the canary weight rising, and aborts it back to 0 %', async () => {
    // Prepare
    setup = await aDashboard();
    const { page, twin } = setup;
    const web = setup.settings.routes.find((r) => r.name === 'web')!.route;
    const source = {
      kind: 'alb',
      loadBalancer: twin.traffic.route('web').loadBalancer,
      stableTargetGroup: twin.world.targetGroup('web-v1').arn.replace(/^.*:/, ''),
      canaryTargetGroup: twin.world.targetGroup('web-v2').arn.replace(/^.*:/, ''),
    };
    const request = {
      service: 'web',
      route: web,
      schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 60 },
      // Waits at a gate after the 50 % step, so that the abort finds it running.
      gates: [1],
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
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${setup.dashboard.url}?every=200`);
    await until(setup, 'the form to offer the configured routes', async () =>
      (await page.getByTestId('start-request').inputValue()).includes('"route"'),
    );
    const template = await page.getByTestId('start-request').inputValue();
    const offered = await page.getByTestId('start-route').locator('option').allTextContents();

    // Act: start it from the form
    await page.getByTestId('start-name').fill('web-7');
    await page.getByTestId('start-request').fill(JSON.stringify(request, null, 2));
    await page.getByTestId('start-submit').click();
    await until(setup, 'the rollout to wait at its gate at 50 %', async () => {
      const next = await page.getByTestId('rollout-next').textContent();
      const weights = await page.getByTestId('weight-chart').getAttribute('data-weights');
      return next === 'gate' && numbers(weights).at(-1) === 50;
    });

    // Assess: listed, selected, charted
    expect(offered).toEqual(
      setup.settings.routes.map((r) => expect.stringMatching(new RegExp(`^${r.name} \\(`))),
    );
    expect(JSON.parse(template)).toMatchObject({
      route: setup.settings.routes[0]!.route,
      analysis: { checks: [{ source: { loadBalancer: source.loadBalancer } }, expect.anything()] },
    });
    expect(await page.getByTestId('start-result').textContent()).toMatch(/^started: rollout web-7/);
    expect(await page.getByTestId('rollout-row-web-7').getAttribute('data-status')).toBe('RUNNING');
    expect(await page.getByTestId('rollout-name').textContent()).toBe('web-7');
    const rising = numbers(await page.getByTestId('weight-chart').getAttribute('data-weights'));
    expect(rising).toEqual([0, 10, 50, 50]);
    const points = JSON.parse((await page.getByTestId('weight-chart').getAttribute('data-points'))!);
    expect(points.map((p: { at: string }) => p.at)).toEqual(points.map((p: { at: string }) => p.at).sort());
    expect(await page.locator('#weight-chart circle').count()).toBe(4);
    const errorRate = page.locator('[data-testid="analysis-chart"][data-check="5xx rate"]');
    const latency = page.locator('[data-testid="analysis-chart"][data-check="p99 latency"]');
    expect(numbers(await errorRate.getAttribute('data-canary'))).toHaveLength(2);
    expect(numbers(await latency.getAttribute('data-stable'))).toHaveLength(2);
    expect(numbers(await latency.getAttribute('data-canary')).every((ms) => ms > 0)).toBe(true);
    expect(await page.getByTestId('rollout-weights').getAttribute('data-canary')).toBe('50');
    expect(twin.traffic.weightsNow('web')['web-v2']).toBe(50);
    // At the gate: a banner says why, since when and until when; only the buttons the API would take.
    expect(await page.getByTestId('gate-banner').isVisible()).toBe(true);
    expect(await page.getByTestId('gate-reason').textContent()).toBe('manual gate after step 2');
    const since = Date.parse(`${(await page.getByTestId('gate-since').textContent())!.replace(' UTC', 'Z')}`);
    const deadline = Date.parse(
      `${(await page.getByTestId('gate-deadline').textContent())!.replace(' UTC', 'Z')}`,
    );
    expect(deadline - since).toBe(24 * 3600 * 1000);
    // The gate began within the last virtual hour (the bound of `until`): 23 to 24 of its hours are left.
    const [hours, minutes] = (await page.getByTestId('gate-left').textContent())!
      .match(/^(\d+) h (\d+) min$/)!
      .slice(1)
      .map(Number);
    expect(hours! * 60 + minutes!).toBeGreaterThanOrEqual(23 * 60);
    expect(hours! * 60 + minutes!).toBeLessThanOrEqual(24 * 60);
    const enabled = async (id: string) => !(await page.getByTestId(id).isDisabled());
    expect([
      await enabled('resume'),
      await enabled('pause'),
      await enabled('promote'),
      await enabled('abort'),
    ]).toEqual([true, false, true, true]);

    // Act: abort it, with a reason
    page.once('dialog', (dialog) => void dialog.accept('error budget spent'));
    await page.getByTestId('abort').click();
    await until(setup, 'the rollout to end at 0 %', async () => {
      const status = await page.getByTestId('rollout').getAttribute('data-status');
      const canary = await page.getByTestId('rollout-weights').getAttribute('data-canary');
      const rollbacks = await page.locator('[data-testid="action-rows"] tr[data-action="rollback"]').count();
      return status !== 'RUNNING' && canary === '0' && rollbacks > 0;
    });

    // Assess: on the page and in the twin
    expect(await page.getByTestId('steer-result').textContent()).toMatch(/^rolled-back-at-gate: /);
    expect(numbers(await page.getByTestId('weight-chart').getAttribute('data-weights')).at(-1)).toBe(0);
    expect(await page.getByTestId('abort').isDisabled()).toBe(true);
    expect(await page.getByTestId('gate-banner').isVisible()).toBe(false);
    expect(twin.traffic.weightsNow('web')['web-v2']).toBe(0);
    expect(twin.rolloutRun('web-7')?.status).not.toBe('RUNNING');
    // Services and their targets' health, as the page shows them.
    const service = page.getByTestId('service-row-prod-web');
    expect([await service.getAttribute('data-running'), await service.getAttribute('data-healthy')]).toEqual([
      '2',
      '2',
    ]);
    expect(errors).toEqual([]);
  });

  it('shows the other reflexes on their own tab: changes in place, give-ups, marks, held launches, dead letters, dry-run', async () => {
    // Prepare
    setup = await aReflexDashboard();
    const { page, twin } = setup;
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${setup.dashboard.url}?every=200`);

    // Act: open the Reflexes tab
    await page.getByTestId('tab-reflexes').click();
    await page.getByTestId('alarm-change-surge-capacity').waitFor();

    // Assess: each panel as the reflexes hold it in the twin
    const utc = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.source;
    expect(await page.getByTestId('rollouts-view').isVisible()).toBe(false);
    const cells = async (row: string) => page.getByTestId(row).locator('td').allTextContents();
    const [knob, change, alarm, since, reverts] = await cells('alarm-change-surge-capacity');
    expect([knob, change, alarm]).toEqual(['asg/prod-asg desired', '2 → 4', 'prod-web-requests-high']);
    expect(since).toMatch(new RegExp(`^${utc}$`));
    expect(reverts).toMatch(
      new RegExp(`^when the alarm is OK, or at its expiry: ${utc} \\(5\\d min \\d+ s left\\)$`),
    );
    expect(twin.scaling.groups.get('prod-asg')?.desired).toBe(4);

    const gaveUp = page.getByTestId('gave-up').locator('tr');
    expect(await gaveUp.count()).toBe(1);
    const task = gaveUp.locator('td').nth(2).locator('span');
    const taskArn = (await task.getAttribute('title'))!;
    expect(taskArn).toMatch(/^arn:aws:ecs:eu-west-1:111122223333:task\/prod\/[0-9a-f]{32}$/);
    expect(await task.textContent()).toBe(taskArn.split('/').pop());
    expect(await gaveUp.locator('td').nth(3).textContent()).toMatch(/^2 restarts in a row/);

    const unhealthy = page.getByTestId('unhealthy').locator('tr');
    expect(await unhealthy.count()).toBe(1);
    expect(await unhealthy.locator('td').nth(1).textContent()).toBe('family:edge-api');
    // Marked just after 3 min with a 30 min grace, seen at 10 min: about 23 min left.
    const left = Number(await unhealthy.getAttribute('data-seconds-left'));
    expect(left).toBeGreaterThan(22 * 60);
    expect(left).toBeLessThanOrEqual(23 * 60 + 60);

    const held = await page
      .getByTestId('lifecycle-actions')
      .locator('tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-testid')));
    expect(held.sort()).toEqual(
      [...twin.scaling.groups.get('prod-asg')!.pending].map((id) => `lifecycle-${id}`).sort(),
    );
    for (const id of held) {
      const [group, hook, , transition, , expires] = await cells(id!);
      expect([group, hook, transition]).toEqual(['prod-asg', 'ecs-reflex-launch', 'launch']);
      expect(expires).toMatch(new RegExp(`^ABANDON ${utc} \\(\\d min \\d+ s left\\)$`));
    }

    const queue = (name: string) => page.getByTestId(`dead-letters-${name}`);
    expect(await queue('task-recycler-dlq').getAttribute('data-messages')).toBe('1');
    expect(await queue('task-recycler-dlq').getAttribute('class')).toBe('nonzero');
    expect(await queue('lifecycle-dlq').getAttribute('class')).toBeNull();
    expect(await queue('task-recycler-dlq').locator('span').first().getAttribute('title')).toMatch(
      /^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/111122223333\/task-recycler-dlq$/,
    );
    const badges = ['alarm-reactor', 'task-recycler', 'instance-lifecycle'];
    for (const reflex of badges)
      expect(await page.getByTestId(`dry-run-${reflex}`).textContent()).toBe('live');
    expect(await page.getByTestId('dry-run-banner').isVisible()).toBe(false);

    // Act: the stage puts the lifecycle reflex in dry-run (the API reads the stage's switch)
    setup.settings.reflexes!.dryRun.instanceLifecycle = true;
    await page.getByTestId('dry-run-banner').waitFor({ state: 'visible' });

    // Assess: a badge on its panel, a banner naming it
    expect(await page.getByTestId('dry-run-instance-lifecycle').textContent()).toBe('dry-run');
    expect(await page.getByTestId('dry-run-task-recycler').textContent()).toBe('live');
    expect(await page.getByTestId('dry-run-who').textContent()).toBe('the instance lifecycle reflex');

    // Act, assess: back to the rollouts
    await page.getByTestId('tab-rollouts').click();
    expect(await page.getByTestId('reflexes-view').isVisible()).toBe(false);
    expect(errors).toEqual([]);
  });
});
