// The `ecs-reflex` command against a real local ops server (SigV4 and all) over the twin: its main function
// runs in-process with captured output, while a background loop moves the twin's clock on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleOpsRequest, type OpsContext, type OpsRequest } from '#app/opsApi';
import { type OpsServer, startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL } from '#local/api/sigv4';
import { resolveScenarioPath } from '#local/cli/simulate';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { VirtualTimeReleased } from '#local/twin/scheduler';
import type { Twin } from '#local/twin/twin';
import { TRUNCATED_NOTE } from '../../cli/deployments';
import { type CliIo, main } from '../../cli/main';
import { recordHookAnswers } from '../support/hookAnswers';
import { opsWorld } from '../support/opsWorld';

const WORLD = opsWorld('ops-cli');

// While the twin runs its clock, the global Date and setTimeout are virtual (local/twin/scheduler.ts), and
// here the twin runs while the CLI and the server work: both get the wall clock and real timers explicitly.
const WallClock = globalThis.Date;
const wallClock = () => new WallClock();

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIAL.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIAL.secretAccessKey,
};

interface Setup {
  twin: Twin;
  server: OpsServer;
  route: { router: 'alb'; listenerArn: string; ruleArn?: string; stable: string; canary: string };
  context: OpsContext;
  dir: string;
  /** Requests that got past the server to the API. */
  seen: OpsRequest[];
}

const setups: Setup[] = [];
const loops: { stop(): Promise<void> }[] = [];

async function anApi(): Promise<Setup> {
  const twin = prepareTwin(structuredClone(WORLD));
  twin.start();
  const rule = twin.traffic.route('web');
  const route = {
    router: 'alb' as const,
    listenerArn: rule.listenerArn!,
    ruleArn: rule.ruleArn,
    stable: twin.world.targetGroup('web-v1').arn,
    canary: twin.world.targetGroup('web-v2').arn,
  };
  const context: OpsContext = {
    ports: twin.opsPorts,
    settings: { routes: [{ name: 'web', route }], clusters: ['prod'], serves: ['read', 'write'] },
    clock: twin.scheduler,
  };
  const seen: OpsRequest[] = [];
  const server = await startOpsServer({
    clock: wallClock,
    handle: (request) => {
      seen.push(request);
      return handleOpsRequest(request, context);
    },
  });
  const setup = { twin, server, route, context, dir: mkdtempSync(join(tmpdir(), 'ecs-reflex-cli-')), seen };
  setups.push(setup);
  return setup;
}

/** A read-only API over a scenario played for `seconds`, with what its views need of the twin's settings. */
async function aScenarioApi(
  name: string,
  seconds: number,
  settingsOf: (twin: Twin) => Partial<OpsContext['settings']>,
): Promise<Setup> {
  const scenario = loadScenario(resolveScenarioPath(name));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  await twin.runFor(seconds);
  const context: OpsContext = {
    ports: twin.opsPorts,
    settings: { routes: [], clusters: ['prod'], serves: ['read'], ...settingsOf(twin) },
    clock: twin.scheduler,
  };
  const server = await startOpsServer({
    clock: wallClock,
    handle: (request) => handleOpsRequest(request, context),
  });
  const setup = {
    twin,
    server,
    route: undefined as never,
    context,
    dir: mkdtempSync(join(tmpdir(), 'ecs-reflex-cli-')),
    seen: [],
  };
  setups.push(setup);
  return setup;
}

afterEach(async () => {
  await Promise.all(loops.splice(0).map((loop) => loop.stop()));
  for (const setup of setups.splice(0)) {
    await setup.server.close();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

/** Moves the twin on by 30 virtual seconds every few milliseconds of real time, until stopped. */
function advance(twin: Twin): void {
  let running = true;
  const done = (async () => {
    while (running) {
      // The test setup takes the clock back after each test, maybe before this loop is stopped: it ends.
      const released = await twin.runFor(30).then(
        () => false,
        (error: Error) => {
          if (error.name === 'VirtualTimeReleased') return true;
          throw error;
        },
      );
      if (released) return;
      await sleep(3);
    }
  })().catch((error: unknown) => {
    // The test setup takes the clock back after each test, which may come before this loop's stop:
    // the run under way then ends with VirtualTimeReleased, as it should.
    if (!(error instanceof VirtualTimeReleased)) throw error;
  });
  loops.push({
    stop: async () => {
      running = false;
      await done;
    },
  });
}

class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
  get lines() {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
}

/** Runs the CLI's main in-process: exit code, stdout, stderr. */
function cli(setup: Setup, argv: string[], options: { env?: Record<string, string>; tty?: boolean } = {}) {
  const stdout = new Capture(options.tty);
  const stderr = new Capture();
  const io: CliIo = {
    stdout,
    stderr,
    env: { ECS_REFLEX_ENDPOINT: setup.server.url, ...CREDENTIALS, ...options.env },
    sleep: (ms) => sleep(Math.min(ms, 20)),
    now: wallClock,
  };
  const exit = main(argv, io);
  return Object.assign(
    exit.then((code) => ({ code, stdout: stdout.text, stderr: stderr.text, lines: stdout.lines })),
    { stdout, stderr },
  );
}

const json = (text: string) => JSON.parse(text);
const jsonLines = (lines: string[]) => lines.map((l) => JSON.parse(l));

function requestFile(setup: Setup, overrides: Record<string, unknown> = {}, file = 'request.json'): string {
  const path = join(setup.dir, file);
  const rollout = {
    service: 'web',
    route: setup.route,
    schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 300 },
    ...overrides,
  };
  writeFileSync(path, JSON.stringify(rollout));
  return path;
}

/**
 * Waits for what the CLI prints as the twin moves on. No deadline of its own: how long it takes depends on
 * the machine, not on the verdict; a check that never holds ends at jest's testTimeout.
 */
async function until(check: () => boolean, _what: string): Promise<void> {
  while (!check()) await sleep(5);
}

describe('rollout start and watch', () => {
  it('starts a rollout from a file and watches it to SUCCEEDED, the canary weight rising', async () => {
    // Prepare
    const api = await anApi();
    const file = requestFile(api);

    // Act
    const started = await cli(api, ['rollout', 'start', '--file', file, '--name', 'web-42', '--json']);
    advance(api.twin);
    const watched = await cli(api, ['rollout', 'watch', 'web-42', '--json', '--interval', '0.01']);

    // Assess
    expect(started.code).toBe(0);
    expect(json(started.stdout)).toEqual({
      status: 'started',
      dryRun: false,
      name: 'web-42',
      detail: expect.stringContaining('local-operator'),
    });
    expect(watched.code).toBe(0);
    const events = jsonLines(watched.lines);
    const canary = events.filter((e) => e.event === 'state' && e.weights).map((e) => e.weights.canary);
    const rising = canary.filter((w, i) => i === 0 || w !== canary[i - 1]);
    expect(rising).toEqual([...rising].sort((a, b) => a - b));
    expect(rising).toEqual(expect.arrayContaining([10, 50, 100]));
    expect(events.filter((e) => e.event === 'analysis').map((e) => e.result)).toEqual(['pass', 'pass']);
    expect(events.at(-1)).toMatchObject({
      event: 'end',
      name: 'web-42',
      status: 'SUCCEEDED',
      weights: { canary: 100 },
      succeeded: true,
    });
  });

  it('waits at a gate until promoted, then ends SUCCEEDED at 100 %', async () => {
    // Prepare
    const api = await anApi();
    const file = requestFile(api, { gates: [0] });
    await cli(api, ['rollout', 'start', '--file', file, '--name', 'web-gated']);
    advance(api.twin);

    // Act
    const watch = cli(api, ['rollout', 'watch', 'web-gated', '--json', '--interval', '0.01']);
    await until(
      () => jsonLines(watch.stdout.lines).some((e) => e.event === 'state' && e.next === 'gate'),
      'the rollout to wait at its gate',
    );
    const waiting = await cli(api, ['status', '--json']);
    const promoted = await cli(api, ['rollout', 'promote', 'web-gated', '--reason', 'looks good', '--json']);
    const watched = await watch;

    // Assess
    expect(json(waiting.stdout).rollouts[0]).toMatchObject({
      name: 'web-gated',
      status: 'RUNNING',
      next: 'gate',
      weights: { canary: 10 },
    });
    expect(promoted.code).toBe(0);
    expect(json(promoted.stdout)).toMatchObject({ status: 'promoting', dryRun: false });
    expect(watched.code).toBe(0);
    const events = jsonLines(watched.lines);
    expect(events.filter((e) => e.event === 'action').map((e) => e.action)).toEqual(
      expect.arrayContaining(['wait-at-gate', 'promote']),
    );
    expect(events.filter((e) => e.event === 'state').map((e) => e.weights?.canary)).not.toContain(50);
    expect(events.at(-1)).toMatchObject({ status: 'SUCCEEDED', weights: { canary: 100 } });
  });

  it('prints the commands that answer a gate when the rollout waits at one', async () => {
    // Prepare
    const api = await anApi();
    await cli(api, ['rollout', 'start', '--file', requestFile(api, { gates: [0] }), '--name', 'web-gate']);
    advance(api.twin);

    // Act
    const watch = cli(api, ['rollout', 'watch', 'web-gate', '--interval', '0.01']);
    await until(() => watch.stdout.text.includes('resume:'), 'the gate');
    await cli(api, ['rollout', 'abort', 'web-gate']);
    const watched = await watch;

    // Assess: the gate after the first of two steps, numbered as the API and the dashboard number it
    expect(watched.stdout).toContain(
      '  resume: ecs-reflex rollout resume web-gate   abort: ecs-reflex rollout abort web-gate\n',
    );
    expect(watched.lines).toContain(
      'web-gate RUNNING  step 1/2  canary 10 %  waiting at a gate after step 1/2 at 10 % canary: resume, promote or abort it',
    );
    expect(watched.lines).toContainEqual(
      expect.stringMatching(
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC {2}wait-at-gate: manual gate after step 1: resume or abort/,
      ),
    );
    expect(watched.code).toBe(1);
  });

  it('draws progress bars on a terminal, and plain lines without colours when piped', async () => {
    const api = await anApi();
    await cli(api, ['rollout', 'start', '--file', requestFile(api), '--name', 'web-tty']);
    advance(api.twin);

    const onTerminal = await cli(api, ['rollout', 'watch', 'web-tty', '--interval', '0.01'], { tty: true });
    const piped = await cli(api, ['rollout', 'watch', 'web-tty', '--interval', '0.01']);

    expect(onTerminal.code).toBe(0);
    expect(onTerminal.stdout).toMatch(/canary \[█{30}\] 100 %/);
    expect(onTerminal.stdout).toMatch(/steps {2}\[█{30}\] 2\/2/);
    expect(onTerminal.stdout).toMatch(/analysis .*pass.*: pass at 10% canary/);
    expect(onTerminal.stdout).toContain('\x1b[');
    expect(piped.code).toBe(0);
    expect(piped.stdout).not.toContain('\x1b[');
    expect(piped.lines.at(-1)).toBe('rollout web-tty SUCCEEDED');
  });

  it('exits 1 when the rollout it watches is aborted', async () => {
    const api = await anApi();
    await cli(api, ['rollout', 'start', '--file', requestFile(api), '--name', 'web-bad']);
    advance(api.twin);
    const watch = cli(api, ['rollout', 'watch', 'web-bad', '--json', '--interval', '0.01']);
    await until(() => watch.stdout.text.includes('"canary":10'), 'the first step');

    const aborted = await cli(api, ['rollout', 'abort', 'web-bad', '--reason', 'pager', '--json']);
    const watched = await watch;

    expect(aborted.code).toBe(0);
    expect(watched.code).toBe(1);
    expect(jsonLines(watched.lines).at(-1)).toMatchObject({ event: 'end', succeeded: false });
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(0);
  });
});

describe('read commands', () => {
  it('lists services, one service in detail, instances, routes and actions', async () => {
    // Prepare: a running world, and one action by the ops API in the journal
    const api = await anApi();
    await api.twin.runFor(60);
    await cli(api, ['weights', 'set', 'web', '--canary', '0', '--reason', 'reset']);

    // Act
    const services = await cli(api, ['services']);
    const service = await cli(api, ['services', 'prod', 'web']);
    const instances = await cli(api, ['instances', 'prod']);
    const routes = await cli(api, ['routes']);
    const actions = await cli(api, ['actions', '--reflex', 'ops-api', '--limit', '5', '--json']);

    // Assess
    expect(services.lines).toEqual(['  CLUSTER  SERVICE', '  prod     web']);
    expect(service.stdout).toMatch(/^prod\/web {2}web:1\n {2}tasks {4}2 running, 0 pending of 2 desired\n/);
    expect(service.stdout).toMatch(/targets {2}2 healthy, 0 unhealthy, 0 other/);
    expect(service.stdout).toMatch(/ecs-svc\/\w+ +PRIMARY +COMPLETED +web:1/);
    expect(instances.lines).toHaveLength(3);
    expect(instances.lines[1]).toMatch(/^ {2}prod +i-[0-9a-f]+ +ACTIVE +connected +\d +0$/);
    expect(routes.lines).toEqual(['  ROUTE  STABLE  CANARY  OWNER', '  web    100 %   0 %']);
    expect(json(actions.stdout).actions).toEqual([
      expect.objectContaining({
        reflex: 'ops-api',
        action: 'setRouteWeights',
        reason: expect.stringContaining('reset'),
      }),
    ]);
  });
});

describe('reflexes', () => {
  /** The API over reflexes-at-work ten minutes in: every reflex but rollouts holds something. */
  const aReflexApi = () =>
    aScenarioApi('reflexes-at-work', 600, (twin) => ({ reflexes: twin.reflexSettings }));

  it('prints each reflex in a section: the change in place, the give-up, the mark, the held launches, the dead letters', async () => {
    // Prepare
    const api = await aReflexApi();

    // Act
    const text = await cli(api, ['reflexes']);
    const asJson = await cli(api, ['reflexes', '--json']);

    // Assess: a section each, times in UTC with the zone, time left where something ends
    expect(text.code).toBe(0);
    const sections = text.stdout.split('\n\n');
    expect(sections.map((section) => section.split('\n')[0])).toEqual([
      'Alarm reactor: changes in place',
      'Task recycler: restarts given up',
      'Task recycler: tasks marked unhealthy',
      'Instance lifecycle: actions in progress',
      'Dead-letter queues',
    ]);
    const utc = '2026-11-02 \\d\\d:\\d\\d:\\d\\d UTC';
    expect(sections[0]).toMatch(
      new RegExp(
        `asg/prod-asg desired +2 → 4 +prod-web-requests-high +${utc} +when the alarm is OK, or at its expiry: ${utc} \\(5\\d min \\d+ s left\\)`,
      ),
    );
    expect(sections[1]).toMatch(new RegExp(`${utc} +prod +[0-9a-f]{32} +2 restarts in a row`));
    expect(sections[2]).toMatch(
      new RegExp(`prod +family:edge-api +[0-9a-f]{32} +${utc} +${utc} \\(2\\d min \\d+ s left\\)`),
    );
    expect(
      sections[3]!
        .split('\n')
        .filter((line) => /prod-asg +ecs-reflex-launch +i-[0-9a-f]+ +launch /.test(line)),
    ).toHaveLength(2);
    expect(sections[3]).toMatch(new RegExp(`ABANDON ${utc} \\(\\d min \\d+ s left\\)`));
    expect(sections[4]!.split('\n').slice(2)).toEqual([
      '  task-recycler-dlq              1',
      '  task-recycler-rule-dlq         0',
      '  task-recycler-groups-dlq.fifo  0',
      '  alarm-reactor-dlq              0',
      '  alarm-reactor-rule-dlq         0',
      '  lifecycle-dlq                  0',
      '  lifecycle-rule-dlq             0',
      '  rollout-dlq                    0',
      '  rollout-rule-dlq               0',
      '',
    ]);
    expect(text.stdout).not.toMatch(/dry-run/);
    expect(json(asJson.stdout)).toMatchObject({
      alarmReactor: { dryRun: false, changes: [{ reaction: 'surge-capacity', from: '2', to: '4' }] },
      deadLetters: [{ queue: 'task-recycler-dlq', messages: 1 }, ...Array(8).fill(expect.anything())],
    });
  });

  it('marks a reflex in dry-run, and suggests the command for a near miss', async () => {
    const api = await aReflexApi();
    api.context.settings.reflexes!.dryRun.alarmReactor = true;

    const text = await cli(api, ['reflexes']);
    const typo = await cli(api, ['reflex']);

    expect(text.lines[0]).toBe('Alarm reactor: changes in place [dry-run: acts on nothing]');
    expect(text.stdout.match(/dry-run/g)).toHaveLength(1);
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringMatching(/did you mean 'reflexes'/i)]);
  });
});

describe('deployments', () => {
  /** The API over a native-deployment scenario played for `seconds`, on the real deployment hook. */
  const aDeploymentApi = (name: string, seconds: number) =>
    aScenarioApi(name, seconds, (twin) => ({ hookServices: twin.deploymentHookServices }));
  const utc = '2026-11-02 \\d\\d:\\d\\d:\\d\\d UTC';

  it('prints a deployment waiting at the gate, the time it fails unless answered, and the commands that answer it', async () => {
    // Prepare: native-hook-gate-resumed four minutes in
    const api = await aDeploymentApi('native-hook-gate-resumed', 240);

    // Act
    const text = await cli(api, ['deployments']);

    // Assess
    expect(text.code).toBe(0);
    const id = /prod\/web {2}(\w+) {2}BLUE_GREEN {2}IN_PROGRESS {2}at POST_TEST_TRAFFIC_SHIFT/.exec(
      text.lines[0]!,
    )?.[1];
    expect(id).toBeDefined();
    expect(text.stdout).toMatch(
      new RegExp(
        `POST_TEST_TRAFFIC_SHIFT +IN_PROGRESS +waiting since ${utc} +${utc} +POST_TEST_TRAFFIC_SHIFT: waiting at the gate`,
      ),
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `gate {7}waiting at POST_TEST_TRAFFIC_SHIFT; the hook fails at ${utc} \\(2\\d min \\d+ s left\\) unless answered`,
      ),
    );
    expect(text.lines).toContain(
      `  resume: ecs-reflex deployment resume prod web ${id}   abort: ecs-reflex deployment abort prod web ${id}`,
    );
    // Next to the rollouts in `status`: a line for the service's latest deployment.
    const status = await cli(api, ['status']);
    expect(status.stdout).toMatch(
      new RegExp(
        `Rollouts\\n  none\\nNative deployments\\n.*\\n  prod/web +${id} +BLUE_GREEN +IN_PROGRESS +POST_TEST_TRAFFIC_SHIFT +gate waiting at POST_TEST_TRAFFIC_SHIFT, 2\\d min \\d+ s left\\nRecent actions`,
      ),
    );
  });

  it("prints one service's failed analysis with its numbers, the verdict and every answer; --json is the API's answer", async () => {
    // Prepare: native-canary-hook-rollback played to its end
    const api = await aDeploymentApi('native-canary-hook-rollback', 720);

    // Act
    const text = await cli(api, ['deployments', 'prod/web']);
    const asJson = await cli(api, ['deployments', 'prod', 'web', '--json']);
    const unserved = await cli(api, ['deployments', 'prod', 'api']);
    const half = await cli(api, ['deployments', 'prod']);

    // Assess
    expect(text.code).toBe(0);
    expect(text.lines[0]).toMatch(
      /^prod\/web {2}\w+ {2}CANARY {2}ROLLBACK_SUCCESSFUL {2}at POST_TEST_TRAFFIC_SHIFT$/,
    );
    expect(text.stdout).toMatch(/POST_TEST_TRAFFIC_SHIFT +FAILED +fail +/);
    expect(text.stdout).toMatch(
      /errors fail: canary errorRate 20\.00 % above 5\.00 % \(canary 0\.2, stable 0\.0008333, limit 0\.05\)/,
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `verdict {4}FAILED at POST_TEST_TRAFFIC_SHIFT, ${utc}: 1 failed analysis run\\(s\\), limit 0`,
      ),
    );
    expect(text.stdout).toMatch(
      /ECS says {3}Lifecycle hook deploymentHook at POST_TEST_TRAFFIC_SHIFT answered FAILED\./,
    );
    expect(text.stdout).toMatch(/Answers\n {2}AT +STAGE +HOOK +ANALYSIS +REASON\n/);
    expect(text.stdout).not.toMatch(/resume: ecs-reflex/);
    expect(json(asJson.stdout).deployments[0]).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      verdict: { hookStatus: 'FAILED' },
      history: expect.any(Array),
    });
    expect([unserved.code, unserved.stderr]).toEqual([
      1,
      expect.stringMatching(/404.*prod\/api the deployment hook serves/s),
    ]);
    expect(half.code).toBe(2);
  });

  it('notes when the view was cut short, in text and in --json', async () => {
    // Prepare: the gate waits, and its deployment's hook has answered more than a view reads
    const api = await aDeploymentApi('native-hook-gate-resumed', 240);
    const id = api.twin.nativeDeployments.deployments[0]!.arn.split('/').pop()!;
    recordHookAnswers(api.twin, id);

    // Act
    const text = await cli(api, ['deployments']);
    const asJson = await cli(api, ['deployments', 'prod/web', '--json']);

    // Assess
    expect(text.lines.at(-1)).toBe(`  ${TRUNCATED_NOTE}`);
    expect(json(asJson.stdout).truncated).toBe(true);
  });

  it('watches a deployment through its gate to SUCCESSFUL: a line per answer, the gate with its commands, exit 0', async () => {
    // Prepare: native-hook-gate-resumed four minutes in; its release manager resumes the gate at 5:00
    const api = await aDeploymentApi('native-hook-gate-resumed', 240);
    const id = api.twin.nativeDeployments
      .inProgress(api.twin.world.service('prod', 'web')!)!
      .arn.split('/')
      .pop()!;

    // Act: watch it while the twin moves on
    advance(api.twin);
    const text = await cli(api, ['deployment', 'watch', 'prod', 'web', id, '--interval', '1']);

    // Assess
    expect(text.code).toBe(0);
    expect(text.lines[0]).toMatch(
      new RegExp(
        `^${utc}  POST_TEST_TRAFFIC_SHIFT  IN_PROGRESS: POST_TEST_TRAFFIC_SHIFT: waiting at the gate for a person`,
      ),
    );
    expect(text.stdout).toContain(`waiting at the hook's gate (`);
    expect(text.stdout).toContain(`resume: ecs-reflex deployment resume prod web ${id}`);
    expect(text.stdout).toMatch(
      new RegExp(
        `${utc}  POST_TEST_TRAFFIC_SHIFT  SUCCEEDED: POST_TEST_TRAFFIC_SHIFT: gate resumed by arn:aws:iam::111122223333:user/release-manager\\n`,
      ),
    );
    expect(text.lines.at(-1)).toBe(`deployment ${id} SUCCESSFUL`);
  });

  it('watches a rolled-back deployment to its end with exit 1, and says so as JSON lines', async () => {
    const api = await aDeploymentApi('native-canary-hook-rollback', 720);
    const id = api.twin.nativeDeployments.deployments[0]!.arn.split('/').pop()!;

    const text = await cli(api, ['deployment', 'watch', 'prod', 'web', id, '--json']);
    const unknown = await cli(api, ['deployment', 'watch', 'prod', 'web', 'Zz0000000000000000000']);

    expect(text.code).toBe(1);
    const events = jsonLines(text.lines);
    expect(events.map((e) => e.event)).toEqual(['answer', 'answer', 'state', 'end']);
    expect(events[1]).toMatchObject({ hookStatus: 'FAILED', result: 'fail' });
    expect(events.at(-1)).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      succeeded: false,
      verdict: { hookStatus: 'FAILED' },
    });
    expect([unknown.code, unknown.stdout]).toEqual([
      1,
      expect.stringMatching(/is not among the 20 most recent of prod\/web/),
    ]);
  });
});

describe('weights', () => {
  it('refuses a hand edit while a rollout owns the route (exit 1, the 409 printed), takes it with --force', async () => {
    // Prepare
    const api = await anApi();
    await cli(api, ['rollout', 'start', '--file', requestFile(api), '--name', 'web-42']);
    await api.twin.runFor(60);

    // Act
    const shown = await cli(api, ['weights', 'get', 'web', '--json']);
    const refused = await cli(api, ['weights', 'set', 'web', '--canary', '0']);
    const forced = await cli(api, [
      'weights',
      'set',
      'web',
      '--canary',
      '0',
      '--force',
      '--reason',
      'incident',
    ]);
    const after = await cli(api, ['weights', 'get', 'web']);

    // Assess
    expect(json(shown.stdout)).toMatchObject({ name: 'web', owner: 'web-42', weights: { canary: 10 } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Conflict \(409\): rollout web-42 owns route web; set force to override/);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^set: route web to 0% canary, over rollout web-42/);
    expect(after.stdout).toMatch(/canary +\[-{30}\] +0 %/);
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(0);
  });
});

describe('errors', () => {
  it('exits 1 with the 403 reason when the credentials are wrong', async () => {
    const api = await anApi();
    const wrongSecret = await cli(api, ['status'], { env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    const unknownKey = await cli(api, ['weights', 'get', 'web', '--json'], {
      env: { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' },
    });

    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.stderr).toMatch(/Forbidden \(403\): signature does not match/);
    expect(unknownKey.code).toBe(1);
    expect(json(unknownKey.stderr)).toMatchObject({
      status: 403,
      detail: "unknown access key 'AKIAUNKNOWNKEY000000'",
    });
    expect(api.seen).toHaveLength(0);
  });

  it('exits 1 with the fields at fault when the API refuses the request (400)', async () => {
    const api = await anApi();
    const file = requestFile(api, { schedule: { kind: 'canary', weight: 150, bakeSeconds: 300 } });

    const refused = await cli(api, ['rollout', 'start', '--file', file]);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      [
        'ecs-reflex: Bad Request (400): invalid request',
        '  body.rollout.schedule.weight: must be at most 100',
        '  body.rollout.schedule: canary weight must be an integer 1..99, not 150',
        '',
      ].join('\n'),
    );
  });

  it('says in words what a refused write got wrong, each fault once', async () => {
    const api = await anApi();

    const unknownField = await cli(api, ['rollout', 'start', '--file', requestFile(api, { gate: [1] })]);
    const missing = await cli(api, [
      'rollout',
      'start',
      '--file',
      requestFile(api, { route: { router: 'alb', listenerArn: api.route.listenerArn } }),
    ]);

    expect(unknownField.stderr).toBe(
      'ecs-reflex: Bad Request (400): invalid request\n  body.rollout: unknown field "gate" (did you mean "gates"?); ' +
        'valid: service, route, schedule, gates, analysis, beforeTraffic, guardAlarms, onManualChange, promote, rollback\n',
    );
    expect(missing.stderr).toMatch(/\n {2}body\.rollout\.route\.stable: is required\n/);
    expect(missing.stderr.match(/route\.stable/g)).toHaveLength(1);
  });

  it('exits 1 with the field at fault when the rollout would scale a service its route does not declare (403)', async () => {
    const api = await anApi();
    const file = requestFile(api, { promote: { scaleDownStable: { cluster: 'prod', service: 'payments' } } });
    const calls = api.twin.world.apiCalls.length;

    const refused = await cli(api, ['rollout', 'start', '--file', file, '--name', 'web-66']);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Forbidden \(403\): rollout not allowed/);
    expect(refused.stderr).toMatch(/\n {2}body\.rollout\.promote\.scaleDownStable: prod\/payments is not/);
    // Nothing but the Idempotency-Key record in DynamoDB (claimed, then completed with the answer).
    expect(
      api.twin.world.apiCalls.slice(calls).filter((c) => !c.target.startsWith('ops-idempotency ')),
    ).toEqual([]);
    expect(api.twin.rolloutRun('web-66')).toBeUndefined();
  });

  it.each([
    [[], /a command is required/],
    [['launch'], /unknown command 'launch'$/m],
    [['statsu'], /unknown command 'statsu'; did you mean 'status'\?/],
    [['rollout', 'strat'], /unknown command 'rollout strat'; did you mean 'rollout start'\?/],
    [['status', '--jsn'], /unknown option --jsn; did you mean --json\?/],
    [['rollout', 'start', '--file'], /--file needs a value: -f, --file F/],
    [['rollout', 'abort', 'web-1', '--reason', '--dry-run'], /--reason needs a value/],
    [['status', '--json=yes'], /--json takes no value \(given 'yes'\)/],
    [['actions', '--limit', '0'], /--limit '0' is not a whole number from 1 to 200/],
    [['services', 'prod', 'web', 'extra'], /services: unexpected argument 'extra'/],
    [
      ['status', '--endpoint', 'https://a1b2c3.execute-api.eu-west-1.amazonaws.com', '--region', 'us-east-1'],
      /--region us-east-1, but the endpoint a1b2c3.execute-api.eu-west-1.amazonaws.com is in eu-west-1/,
    ],
    [['status', '--endpoint', 'https://ops.example.com'], /ops.example.com names no region: pass --region/],
    [['rollout'], /'rollout' needs one of: start, watch, promote, abort, pause, resume/],
    [['rollout', 'watch'], /rollout watch: missing NAME/],
    [['rollout', 'watch', 'a', 'b'], /unexpected argument 'b'/],
    [['rollout', 'start'], /--file is required/],
    [
      ['rollout', 'start', '--file', '/nonexistent/request.json'],
      /--file \/nonexistent\/request.json: ENOENT/,
    ],
    [['weights', 'set', 'web'], /--canary is required/],
    [['weights', 'set', 'web', '--canary', 'ten'], /--canary 'ten' is not a whole number/],
    [['status', '--canary', '5'], /status: option --canary does not apply/],
    [['status', '--bogus'], /unknown option --bogus$/m],
    [['rollout', 'watch', 'x', '--interval', '0'], /--interval '0' is not a positive number/],
    [['drain', 'i-0123456789abcdef0'], /--cluster is required/],
    [['status', '--endpoint', 'ftp://example.com'], /not an http\(s\) URL/],
  ])('exits 2 for the usage error %j', async (argv, message) => {
    const api = await anApi();
    const run = await cli(api, argv);
    expect([run.code, run.stdout]).toEqual([2, '']);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain("Run 'ecs-reflex --help' for usage.");
    expect(api.seen).toHaveLength(0);
  });

  it('exits 2 without an endpoint, and for a request file that is not JSON', async () => {
    const api = await anApi();
    const broken = join(api.dir, 'broken.json');
    writeFileSync(broken, '{"service": ');

    const noEndpoint = await cli(api, ['status'], { env: { ECS_REFLEX_ENDPOINT: '' } });
    const notJson = await cli(api, ['rollout', 'start', '--file', broken, '--json']);

    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/no endpoint: pass --endpoint URL or set ECS_REFLEX_ENDPOINT/);
    expect(notJson.code).toBe(2);
    expect(json(notJson.stderr)).toMatchObject({
      error: 'UsageError',
      message: expect.stringMatching(/is not JSON/),
    });
  });

  it('prints help for a group of commands and for one command, with its own options', async () => {
    const api = await anApi();

    const group = await cli(api, ['rollout', '--help']);
    const one = await cli(api, ['rollout', 'start', '--help']);
    const asWord = await cli(api, ['help', 'weights', 'set']);

    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^Usage: ecs-reflex rollout <start\|watch\|promote\|abort\|pause\|resume>/);
    expect(group.stdout).toContain('ecs-reflex rollout resume NAME [--reason R] [--dry-run]');
    expect(one.stdout).toMatch(/^Usage: ecs-reflex rollout start --file request.json/);
    expect(one.stdout).toContain('-f, --file F     the JSON file holding the request');
    expect(one.stdout).not.toContain('--canary');
    expect(asWord.stdout).toContain('--canary N');
    expect(api.seen).toHaveLength(0);
  });

  it('prints its version', async () => {
    const api = await anApi();
    const run = await cli(api, ['--version']);
    expect([run.code, run.stdout]).toEqual([0, `ecs-reflex ${require('../../package.json').version}\n`]);
  });

  it("signs for the region the endpoint's hostname names, over $AWS_REGION", async () => {
    const api = await anApi();
    const stdout = new Capture();
    const io: CliIo = {
      stdout,
      stderr: new Capture(),
      env: { ...CREDENTIALS, AWS_REGION: 'eu-west-1' },
      now: wallClock,
      untilStopped: async () => undefined,
    };

    const code = await main(
      ['dashboard', '--port', '0', '--endpoint', 'https://a1b2c3.execute-api.ap-southeast-2.amazonaws.com'],
      io,
    );

    expect(code).toBe(0);
    expect(stdout.text).toContain('every call signed here (ap-southeast-2)');
    expect(api.seen).toHaveLength(0);
  });

  it('prints its help, with the local credential, and exits 0', async () => {
    const api = await anApi();
    const run = await cli(api, ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIAL.accessKeyId}`);
    expect(run.stdout).toContain(`AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIAL.secretAccessKey}`);
    expect(run.stdout).toContain('ecs-reflex rollout watch NAME');
  });
});

describe('retries', () => {
  it('retries a write after a 503 with the same Idempotency-Key, starting the rollout once', async () => {
    // Prepare: a server whose first answer is a 503, in front of the real API.
    const api = await anApi();
    let failures = 1;
    const keys: (string | undefined)[] = [];
    const flaky = await startOpsServer({
      clock: wallClock,
      handle: async (request) => {
        keys.push(request.headers['idempotency-key']);
        if (failures-- > 0)
          return { statusCode: 503, headers: { 'content-type': 'text/plain' }, body: 'Service Unavailable' };
        return handleOpsRequest(request, api.context);
      },
    });

    // Act
    const started = await cli(
      api,
      ['rollout', 'start', '--file', requestFile(api), '--name', 'web-7', '--json'],
      {
        env: { ECS_REFLEX_ENDPOINT: flaky.url },
      },
    );
    await flaky.close();

    // Assess
    expect(started.code).toBe(0);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^ecs-reflex-cli-/);
    expect(keys[1]).toBe(keys[0]);
    expect(api.twin.world.apiCalls.filter((c) => c.api === 'StartExecution')).toHaveLength(1);
  });
});

describe('--json', () => {
  it('prints one JSON document for every command', async () => {
    // Prepare
    const api = await anApi();
    await api.twin.runFor(60);
    const instance = [...api.twin.world.instances.values()][0]!;
    const file = requestFile(api);
    const run = async (argv: string[]) => {
      const result = await cli(api, [...argv, '--json']);
      expect([argv.join(' '), result.code, result.stderr]).toEqual([argv.join(' '), 0, '']);
      return json(result.stdout);
    };

    // Act, assess
    expect(await run(['rollout', 'start', '--file', file, '--dry-run'])).toMatchObject({
      status: 'dry-run',
      dryRun: true,
    });
    expect(await run(['rollout', 'start', '--file', file, '--name', 'web-9'])).toMatchObject({
      name: 'web-9',
    });
    await api.twin.runFor(10);
    expect(await run(['rollout', 'pause', 'web-9', '--reason', 'lunch'])).toMatchObject({
      status: 'pause-requested',
    });
    expect(await run(['rollout', 'promote', 'web-9', '--dry-run'])).toMatchObject({ status: 'dry-run' });
    await api.twin.runFor(400);
    expect(await run(['status'])).toMatchObject({
      rollouts: [{ name: 'web-9', status: 'RUNNING', next: 'gate', history: expect.any(Array) }],
      actions: expect.any(Array),
    });
    expect(await run(['rollout', 'resume', 'web-9'])).toMatchObject({ status: 'resumed' });
    await api.twin.runFor(10);
    expect(await run(['rollout', 'abort', 'web-9', '--reason', 'enough'])).toMatchObject({
      status: 'stopped-and-rolled-back',
    });
    expect(await run(['weights', 'get', 'web'])).toMatchObject({ name: 'web', weights: expect.any(Object) });
    expect(await run(['weights', 'set', 'web', '--canary', '20', '--dry-run'])).toMatchObject({
      status: 'dry-run',
      weights: { stable: 80, canary: 20 },
    });
    expect(await run(['recycle', 'prod', 'web', '--dry-run'])).toMatchObject({ status: 'dry-run' });
    // The deployment hook's gate: this stack's hook serves no service, which the API says, signed and all.
    const gate = await cli(api, [
      'deployment',
      'resume',
      'prod',
      'web',
      'Qm3vT8xZpL2rWc9NhY4Ke',
      '--dry-run',
    ]);
    expect([gate.code, gate.stderr]).toEqual([1, expect.stringContaining('404')]);
    expect(await run(['drain', instance.instanceId, '--cluster', 'prod', '--dry-run'])).toMatchObject({
      status: 'dry-run',
    });
    await api.twin.runFor(30);
    const watched = await cli(api, ['rollout', 'watch', 'web-9', '--json']);
    expect(watched.code).toBe(1);
    expect(jsonLines(watched.lines).at(-1)).toMatchObject({ event: 'end', status: 'ABORTED' });
  });
});
