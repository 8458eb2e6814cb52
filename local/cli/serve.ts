// npm run serve -- [scenario] [--speed N] [--port P] [--dashboard-port D]: the ops API on localhost over the
// twin, which runs the scenario's world (its timeline too) at N times real speed. Requests are SigV4-checked
// against the local credential the README names. In front of it, the dashboard (local/api/dashboardProxy.ts)
// signs the page's calls with that credential, on port P + 1 by default. Ctrl-C stops it.
import './quiet';
import { handleOpsRequest, type OpsSettings } from '#app/opsApi';
import { startDashboard } from '#local/api/dashboardProxy';
import { startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import type { Twin } from '#local/twin/twin';
import { resolveScenarioPath } from './simulate';

const TICK_MS = 100;
/**
 * The real clock, taken before the twin runs: while its scheduler runs, `Date` is the twin's virtual clock,
 * and signatures must be checked against the time the caller signed at.
 */
const RealDate = Date;
const realNow = () => new RealDate();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/**
 * Moves the twin's clock on by `virtualSeconds` every `everyMs` of real time, one tick after the other:
 * the next tick is set only once the last one has ended, so a slow tick on a busy machine makes the
 * twin fall behind real time instead of starting a second run beside the first (which the scheduler
 * refuses with VirtualTimeBusy). A tick that throws stops the clock; `failure` says why.
 */
export class TwinTicker {
  failure: Error | undefined;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly waiting: { seconds: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(
    private readonly twin: Twin,
    private readonly virtualSeconds: number,
    private readonly everyMs: number,
  ) {
    this.next();
  }

  /** Resolves once the scenario's clock has reached `seconds` (rejects if the clock stopped first). */
  reached(seconds: number): Promise<void> {
    if (this.twin.scheduler.elapsedSeconds() >= seconds) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ seconds, resolve, reject }));
  }

  /** Stops the clock after the tick in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) realClearTimeout(this.timer);
    await this.running;
  }

  private next(): void {
    if (this.stopped) return;
    this.timer = realSetTimeout(() => {
      this.timer = undefined;
      this.running = this.tick();
    }, this.everyMs);
  }

  private async tick(): Promise<void> {
    try {
      await this.twin.runFor(this.virtualSeconds);
    } catch (error) {
      this.failure = error as Error;
      this.stopped = true;
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
      return;
    }
    const elapsed = this.twin.scheduler.elapsedSeconds();
    for (const w of this.waiting.filter((w) => w.seconds <= elapsed)) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.resolve();
    }
    this.next();
  }
}

export async function serve(args: string[]) {
  const option = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  const name =
    args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'rollout-alb-promoted';
  const scenario = loadScenario(resolveScenarioPath(name));
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  twin.start();
  const settings: OpsSettings = {
    // The routes the scenario declares (each of its traffic's routes), as OPS_ROUTES configures them.
    routes: twin.declaredRoutes,
    clusters: scenario.world.clusters.map((c) => c.name),
    serves: ['read', 'write'],
    reflexes: twin.reflexSettings,
    hookServices: scenario.config.deploymentHookServices,
  };
  const apiPort = option('port', 8787);
  const server = await startOpsServer({
    port: apiPort,
    clock: realNow,
    handle: (request) => handleOpsRequest(request, { ports: twin.opsPorts, settings, clock: twin.scheduler }),
  });
  // Next to the API's port (any free one when the API's is), unless given.
  const dashboard = await startDashboard({
    endpoint: server.url,
    credentials: async () => ({
      accessKeyId: LOCAL_CREDENTIAL.accessKeyId,
      secretAccessKey: LOCAL_CREDENTIAL.secretAccessKey,
    }),
    region: LOCAL_REGION,
    port: option('dashboard-port', apiPort === 0 ? 0 : apiPort + 1),
    clock: realNow,
  }).catch(async (error: unknown) => {
    await server.close();
    throw error;
  });
  const speed = option('speed', 10);
  // The twin's clock runs only inside runUntil; between ticks the server answers in real time.
  const clock = new TwinTicker(twin, (TICK_MS / 1000) * speed, TICK_MS);
  const stop = async () => {
    await clock.stop();
    await dashboard.close();
    await server.close();
  };
  return { url: server.url, dashboardUrl: dashboard.url, twin, scenario, settings, clock, stop };
}
