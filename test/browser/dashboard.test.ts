// The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against the signing proxy
// in front of the local ops server over a twin (local/api/dashboardSession.ts). A person starts a rollout
// from the form, answers its first gate from the banner, watches the canary weight rise and the metric
// charts fill, and aborts it; the route is back at 0 % on the page and in the twin. A bad canary is charted
// with its failed analysis and rolled back; an analysis without enough requests is marked inconclusive.
//
// The twin runs in this process. While it runs its clock (inside runFor), the global Date and setTimeout
// are virtual, and Playwright's own timers must not fall into them: the test moves the twin on in small
// steps between its browser calls (`until`), never during one, and the servers get the wall clock.
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { routeKey } from '#domain/rolloutRoutes';
import {
  CHROMIUM,
  closeDashboardBrowser,
  type DashboardSession,
  openDashboard,
  openDeploymentDashboard,
  openReflexDashboard,
  until,
  webRollout,
} from '#local/api/dashboardSession';
import { recordHookAnswers } from '../support/hookAnswers';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `test/browser/dashboard.test.ts SKIPPED: no Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium`,
  );

const numbers = (text: string | null) => (text ? text.split(',').map(Number) : []);

/** `2026-05-04 10:21:07 UTC`: the one way the page (and the CLI) writes a time. */
const UTC_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/;

/** A chart as drawn: its axes, its scale's top value, its paths' `d`, their strokes, and its verdict marks. */
async function chartOf(page: Page, check: string) {
  const selector = `[data-testid="analysis-chart"][data-check="${check}"]`;
  const chart = page.locator(selector);
  const path = async (name: string) => {
    const found = chart.locator(`path.${name}`);
    return (await found.count()) > 0 ? ((await found.getAttribute('d')) ?? undefined) : undefined;
  };
  const stroke = (name: string) =>
    page.evaluate(
      `(({ strokeDasharray, strokeWidth }) => ({ dash: strokeDasharray, width: parseFloat(strokeWidth) }))(getComputedStyle(document.querySelector('${selector} path.${name}')))`,
    ) as Promise<{ dash: string; width: number }>;
  return {
    zeroY: Number(await chart.locator('line.axis').nth(0).getAttribute('y1')),
    maxY: Number(await chart.locator('line.axis').nth(1).getAttribute('y2')),
    max: Number(await chart.getAttribute('data-max')),
    limits: numbers(await chart.getAttribute('data-limit')),
    paths: { canary: await path('canary'), stable: await path('stable'), limit: await path('limit') },
    strokes: { canary: await stroke('canary'), stable: await stroke('stable') },
    verdicts: await chart.locator('g.verdict').evaluateAll((marks) =>
      marks.map((g) => ({
        verdict: g.getAttribute('data-verdict'),
        title: g.querySelector('title')?.textContent ?? '',
        shape: g.firstElementChild?.tagName,
      })),
    ),
  };
}

/** The y of every point a path visits: only horizontal (H) and vertical (V) moves make it a step path. */
function levelsOf(d: string): number[] {
  const levels: number[] = [];
  for (const [, command, args] of d.matchAll(/([MHVL])([^MHVL]*)/g)) {
    const values = args!.trim().split(/[ ,]+/).map(Number);
    if (command === 'M') levels.push(values[1]!);
    if (command === 'V') levels.push(values[0]!);
  }
  return levels;
}

const STEP_PATH = /^M[\d.]+ [\d.]+( (H|V)[\d.]+| M[\d.]+ [\d.]+)*$/;

/** Every time on the page: the text of each <time> and chart time label, and the instants behind them. */
async function timesOn(page: Page) {
  return {
    shown: await page.locator('time, svg text.time').allTextContents(),
    instants: await page
      .locator('time')
      .evaluateAll((times) => times.map((t) => [t.getAttribute('datetime'), t.textContent])),
  };
}

(hasChromium ? describe : describe.skip)('dashboard in Chromium', () => {
  let setup: DashboardSession | undefined;

  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  afterAll(() => closeDashboardBrowser());

  it('starts a rollout from the form, charts the canary weight rising, and aborts it back to 0 %', async () => {
    // Prepare
    setup = await openDashboard();
    const { page, twin } = setup;
    const web = setup.settings.routes.find((r) => r.name === 'web')!.route;
    // Waits at a gate after each step: the first is answered from its banner, the abort finds the second.
    const request = webRollout(setup, { weights: [10, 50], gates: [0, 1] });
    // Neither version answers a 5xx: canary and stable are equal (0) at every analysis of that check.
    for (const version of ['web-v1', 'web-v2']) twin.traffic.setProfile(version, { errorRate: 0 });
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
    await until(setup, 'the rollout to wait at its gate at 10 %', async () => {
      const next = await page.getByTestId('rollout-next').textContent();
      const reason = await page.getByTestId('gate-reason').textContent();
      return next === 'gate' && reason !== '';
    });

    // Assess: the step as the API numbers it (and `watch` prints it at this moment: test/cli/cli.test.ts)
    expect(await page.getByTestId('rollout-step').textContent()).toBe('1 of 2');
    expect(await page.getByTestId('gate-reason').textContent()).toBe('manual gate after step 1');
    expect(await page.getByTestId('gate-banner').getAttribute('data-after-step')).toBe('1');

    // Act: answer the gate from its banner
    page.once('dialog', (dialog) => void dialog.accept('canary looks fine'));
    await page.getByTestId('gate-resume').click();
    await until(setup, 'the rollout to wait at its gate at 50 %', async () => {
      const next = await page.getByTestId('rollout-next').textContent();
      const weights = await page.getByTestId('weight-chart').getAttribute('data-weights');
      // The history (the journal's lines) may reach the API a poll or two after the run's state.
      const verdicts = page.locator('[data-testid="analysis-chart"][data-check="5xx rate"] g.verdict');
      const since = await page.getByTestId('gate-since').textContent();
      return (
        next === 'gate' &&
        numbers(weights).at(-1) === 50 &&
        (await verdicts.count()) === 2 &&
        since !== 'just now'
      );
    });

    // Assess: listed, selected, charted
    expect(offered).toEqual(
      setup.settings.routes.map((r) => expect.stringMatching(new RegExp(`^${r.name} \\(`))),
    );
    expect(JSON.parse(template)).toMatchObject({
      route: setup.settings.routes[0]!.route,
      analysis: {
        checks: [{ source: { loadBalancer: twin.traffic.route('web').loadBalancer } }, expect.anything()],
      },
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
    // The metric charts: the limit as a line at its level, each analysis's value held over its window as
    // steps, stable drawn beside canary (wider, dashed) so that it shows where they are equal, a verdict each.
    const fiveXx = await chartOf(page, '5xx rate');
    const levelOf = (value: number) => fiveXx.zeroY - (value / fiveXx.max) * (fiveXx.zeroY - fiveXx.maxY);
    expect(fiveXx.limits).toEqual([0.05, 0.05]);
    expect(fiveXx.paths.limit).toMatch(/^M[\d.]+ [\d.]+ H[\d.]+$/);
    expect(levelsOf(fiveXx.paths.limit!)).toEqual([expect.closeTo(levelOf(0.05), 0)]);
    expect(fiveXx.paths.canary).toMatch(STEP_PATH);
    expect(fiveXx.paths.stable).toMatch(STEP_PATH);
    expect(numbers(await errorRate.getAttribute('data-canary'))).toEqual([0, 0]);
    expect(numbers(await errorRate.getAttribute('data-stable'))).toEqual([0, 0]);
    expect(fiveXx.paths.stable).toBe(fiveXx.paths.canary);
    expect(fiveXx.strokes.stable.dash).not.toBe('none');
    expect(fiveXx.strokes.stable.width).toBeGreaterThan(fiveXx.strokes.canary.width);
    expect(fiveXx.verdicts).toEqual([
      {
        verdict: 'pass',
        title: expect.stringMatching(/^5xx rate at .* UTC: pass; canary .*limit 5\.00 %/),
        shape: 'circle',
      },
      { verdict: 'pass', title: expect.stringMatching(/: pass; /), shape: 'circle' },
    ]);
    const p99 = await chartOf(page, 'p99 latency');
    expect(p99.paths.limit).toMatch(STEP_PATH);
    expect(p99.paths.canary).toMatch(STEP_PATH);
    // Names: short, the full ARN on hover.
    const tg = (name: string) => twin.world.targetGroup(name).arn;
    const webKey = routeKey(web);
    const serviceAndRoute = page.getByTestId('rollout-service');
    expect(await serviceAndRoute.textContent()).toBe('web on route web (stable web-v1, canary web-v2)');
    expect(await serviceAndRoute.locator('span', { hasText: /^web$/ }).nth(1).getAttribute('title')).toBe(
      webKey,
    );
    expect(await serviceAndRoute.locator('span.canary').getAttribute('title')).toBe(tg('web-v2'));
    const shift = page.locator('[data-testid="action-rows"] tr[data-action="shift-traffic"]').first();
    expect(await shift.locator('span.target').textContent()).toBe('web web');
    expect(await shift.locator('span.target').getAttribute('title')).toBe(`web ${webKey}`);
    const groups = page.getByTestId('service-row-prod-web').locator('span', { hasText: 'web-v1' });
    expect(await groups.getAttribute('title')).toBe(tg('web-v1'));
    // Times: one format, in UTC with the zone shown, each the instant the API gave.
    const times = await timesOn(page);
    expect(times.shown.length).toBeGreaterThan(5);
    for (const shown of times.shown) expect(shown).toMatch(UTC_TIME);
    for (const [instant, shown] of times.instants)
      expect(shown).toBe(`${instant!.slice(0, 19).replace('T', ' ')} UTC`);
    expect(await page.getByTestId('connection').textContent()).toMatch(
      /^updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
    );
    expect(await page.getByTestId('rollout-weights').getAttribute('data-canary')).toBe('50');
    expect(twin.traffic.weightsNow('web')['web-v2']).toBe(50);
    // At the gate: a banner says why, since when and until when; only the buttons the API would take.
    expect(await page.getByTestId('gate-banner').isVisible()).toBe(true);
    expect(await page.getByTestId('gate-reason').textContent()).toBe('manual gate after step 2');
    expect(await page.getByTestId('rollout-step').textContent()).toBe('2 of 2');
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

  it('charts a bad canary: its failed analysis marked fail above the limit line, then the rollback', async () => {
    // Prepare: the canary answers one request in five with a 5xx
    setup = await openDashboard();
    const { page, twin } = setup;
    twin.traffic.setProfile('web-v2', { errorRate: 0.2 });
    await page.goto(`${setup.dashboard.url}?every=200`);
    await until(setup, 'the form to offer the configured routes', async () =>
      (await page.getByTestId('start-request').inputValue()).includes('"route"'),
    );

    // Act: start it from the form (the twin answers the API only while it runs: see `until`)
    await page.getByTestId('start-name').fill('web-bad');
    const request = webRollout(setup, { weights: [10, 50], gates: [] });
    await page.getByTestId('start-request').fill(JSON.stringify(request));
    await page.getByTestId('start-submit').click();
    await until(setup, 'the rollout to end rolled back, its failed analysis charted', async () => {
      const status = await page.getByTestId('rollout').getAttribute('data-status');
      const failed = await page.locator('[data-check="5xx rate"] g.verdict-fail').count();
      return status === 'FAILED' && failed > 0;
    });

    // Assess
    const fiveXx = await chartOf(page, '5xx rate');
    const levelOf = (value: number) => fiveXx.zeroY - (value / fiveXx.max) * (fiveXx.zeroY - fiveXx.maxY);
    expect(levelsOf(fiveXx.paths.limit!)).toEqual([expect.closeTo(levelOf(0.05), 0)]);
    const canary = numbers(await page.locator('[data-check="5xx rate"]').getAttribute('data-canary'));
    expect(canary.at(-1)).toBeGreaterThan(0.05);
    expect(levelsOf(fiveXx.paths.canary!).at(-1)).toBeCloseTo(levelOf(canary.at(-1)!), 0);
    expect(fiveXx.verdicts.at(-1)).toEqual({
      verdict: 'fail',
      title: expect.stringMatching(
        /^5xx rate at .* UTC: fail; canary [\d.]+ %, stable [\d.]+ %, limit 5\.00 % \(/,
      ),
      shape: 'path',
    });
    expect(await page.locator('[data-check="5xx rate"] g.verdict-fail').count()).toBe(1);
    expect(await page.getByTestId('rollout-status').textContent()).toMatch(/^FAILED/);
    expect(await page.getByTestId('rollout-step').textContent()).toBe('1 of 2');
    expect(twin.traffic.weightsNow('web')['web-v2']).toBe(0);
  });

  it('shows the other reflexes on their own tab: changes in place, give-ups, marks, held launches, dead letters, dry-run', async () => {
    // Prepare
    setup = await openReflexDashboard();
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

  it("shows a native deployment held at the hook's gate, resumes it from the page, and shows the hook's SUCCEEDED", async () => {
    // Prepare: the real hook holds the deployment at POST_TEST_TRAFFIC_SHIFT, nobody has answered
    setup = await openDeploymentDashboard();
    const { page, twin } = setup;
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${setup.dashboard.url}?every=200`);

    // Act: open the Deployments tab
    await page.getByTestId('tab-deployments').click();
    await page.getByTestId('deployment-gate').waitFor();

    // Assess: the deployment as ECS has it, the stage as the hook answered it, the gate and its time box
    const utc = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.source;
    expect(await page.getByTestId('rollouts-view').isVisible()).toBe(false);
    const service = twin.world.service('prod', 'web')!;
    const deployment = twin.nativeDeployments.inProgress(service)!;
    const id = deployment.arn.split('/').pop()!;
    const panel = page.getByTestId(`deployment-${id}`);
    expect(await panel.getAttribute('data-status')).toBe('IN_PROGRESS');
    expect(await panel.locator('h3').textContent()).toBe(
      `prod/web${id}BLUE_GREENIN_PROGRESSat POST_TEST_TRAFFIC_SHIFT`,
    );
    const stage = page.getByTestId(`stage-${id}-POST_TEST_TRAFFIC_SHIFT`);
    expect(await stage.getAttribute('data-answer')).toBe('IN_PROGRESS');
    expect(await stage.getAttribute('data-gate')).toBe('waiting');
    expect(await page.getByTestId('deployment-gate').textContent()).toMatch(
      new RegExp(
        `holds POST_TEST_TRAFFIC_SHIFT since ${utc}.*fails \\(ECS rolls back\\) at ${utc} \\(2\\d min \\d+ s left\\) unless someone answers`,
      ),
    );
    expect(await page.getByTestId('deployment-revisions').textContent()).toMatch(
      /^\w+ \(100 % prod, 0 % test\) → \w+ \(0 % prod, 100 % test\)$/,
    );
    expect(await timesOn(page)).toMatchObject({
      shown: expect.arrayContaining([expect.stringMatching(UTC_TIME)]),
    });

    // Act: resume it from the banner
    await page.getByTestId('deployment-resume').click();
    await until(setup, 'the answer to be taken', async () =>
      /^resumed: resume deployment/.test((await page.getByTestId('deployment-result').textContent()) ?? ''),
    );
    await until(
      setup,
      'the deployment to complete',
      async () => (await panel.getAttribute('data-status')) === 'SUCCESSFUL',
    );

    // Assess: the hook's SUCCEEDED, who resumed it and when; no gate waits; the twin agrees
    expect(await stage.getAttribute('data-answer')).toBe('SUCCEEDED');
    expect(await stage.getAttribute('data-gate')).toBe('resumed');
    expect(await stage.locator('td').nth(3).textContent()).toMatch(
      new RegExp(`^resumed by arn:aws:\\S+ at ${utc}$`),
    );
    expect(await page.getByTestId('deployment-verdict').textContent()).toMatch(
      new RegExp(
        `^SUCCEEDED at POST_TEST_TRAFFIC_SHIFT, ${utc}: POST_TEST_TRAFFIC_SHIFT: gate resumed by arn:aws:`,
      ),
    );
    expect(await page.getByTestId('deployment-gate').count()).toBe(0);
    expect(twin.traffic.weightsNow('web')['web-green']).toBe(100);
    expect(await page.getByTestId('deployment-list-truncated').isVisible()).toBe(false);

    // Act: the hook's answers outgrow what one view reads
    recordHookAnswers(twin, id);

    // Assess: the page says its view is cut short
    await page.getByTestId('deployment-list-truncated').waitFor();
    expect(errors).toEqual([]);
  });

  it("marks a native deployment's failed analysis with its numbers, the hook's FAILED and ECS's rollback", async () => {
    // Prepare: native-canary-hook-rollback five minutes in, rolled back at 4:00
    setup = await openDeploymentDashboard(undefined, {
      scenario: 'native-canary-hook-rollback',
      seconds: 300,
    });
    const { page } = setup;

    // Act
    await page.goto(`${setup.dashboard.url}?every=200&view=deployments`);
    const panel = page.locator('article[data-status="ROLLBACK_SUCCESSFUL"]');
    await panel.waitFor();

    // Assess: the mark, the numbers behind it, the verdict, ECS's word; no gate, no buttons
    const stage = panel.locator('tr[data-answer="FAILED"]');
    expect(await stage.getAttribute('data-results')).toBe('fail');
    const mark = stage.locator('span.mark');
    expect([await mark.textContent(), await mark.getAttribute('data-result')]).toEqual(['✕', 'fail']);
    expect(await mark.getAttribute('title')).toMatch(
      /^2026-11-02 09:04:00 UTC: fail\nerrors: fail; canary errorRate 20\.00 % above 5\.00 % \(canary 0\.2, stable 0\.0008333, limit 0\.05\)$/,
    );
    expect(await panel.getByTestId('deployment-last-analysis').textContent()).toMatch(
      /^fail at 2026-11-02 09:04:00 UTC: errors: fail; canary errorRate 20\.00 % above 5\.00 %/,
    );
    expect(await panel.getByTestId('deployment-verdict').textContent()).toBe(
      'FAILED at POST_TEST_TRAFFIC_SHIFT, 2026-11-02 09:04:00 UTC: 1 failed analysis run(s), limit 0',
    );
    expect(await panel.getByTestId('deployment-ECS-says').textContent()).toBe(
      'Lifecycle hook deploymentHook at POST_TEST_TRAFFIC_SHIFT answered FAILED.',
    );
    expect(await page.getByTestId('deployment-resume').count()).toBe(0);
  });

  it('marks an analysis without enough requests inconclusive, on the baseline, beside the ones that passed', async () => {
    // Prepare: too little traffic for the first analysis (the canary's 10 % of 30 requests a minute)
    setup = await openDashboard();
    const { page, twin } = setup;
    twin.traffic.setRate('web', 0.5);
    await page.goto(`${setup.dashboard.url}?every=200`);
    await until(setup, 'the form to offer the configured routes', async () =>
      (await page.getByTestId('start-request').inputValue()).includes('"route"'),
    );
    const verdicts = () => page.locator('[data-check="5xx rate"]').getAttribute('data-verdicts');
    const charted = () => page.locator('[data-check="5xx rate"]').count();

    // Act: start it; once an analysis has found too few requests, the traffic comes back
    await page.getByTestId('start-name').fill('web-quiet');
    const request = webRollout(setup, { weights: [10, 50], gates: [] });
    // However late the page sees the first inconclusive run, the rollout is still there to pass.
    const patient = { ...request, analysis: { ...request.analysis, inconclusiveLimit: 10 } };
    await page.getByTestId('start-request').fill(JSON.stringify(patient));
    await page.getByTestId('start-submit').click();
    await until(setup, 'an inconclusive analysis', async () =>
      (await page.getByTestId('rollout-analysis').textContent())!.startsWith('inconclusive'),
    );
    twin.traffic.setRate('web', 40);
    await until(
      setup,
      'a passed analysis charted after it',
      async () => (await charted()) > 0 && (await verdicts())!.split(',').includes('pass'),
    );

    // Assess
    const fiveXx = await chartOf(page, '5xx rate');
    const inconclusive = fiveXx.verdicts.find((v) => v.verdict === 'inconclusive');
    expect(inconclusive).toEqual({
      verdict: 'inconclusive',
      title: expect.stringMatching(
        /^5xx rate at .* UTC: inconclusive; no canary value \(\d+ canary requests, fewer than the 50 needed\)$/,
      ),
      shape: 'circle',
    });
    const mark = page.locator('[data-check="5xx rate"] g.verdict-inconclusive circle').first();
    expect(Number(await mark.getAttribute('cy'))).toBe(fiveXx.zeroY);
    expect(fiveXx.verdicts.map((v) => v.verdict)).toContain('pass');
  });
});
