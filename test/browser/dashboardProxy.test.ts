// The dashboard's signing proxy without a browser: it serves the page, forwards /api/* signed (and nothing
// else), hands the API's answers back as they are, and refuses what another site would send through it.
// Also `ecs-reflex dashboard` and `npm run serve`, which start it.
import { request as httpRequest } from 'node:http';
import type { OpsRequest, OpsResponse } from '#app/opsApi';
import { type Dashboard, startDashboard } from '#local/api/dashboardProxy';
import { type OpsServer, startOpsServer } from '#local/api/server';
import { LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { serve } from '#local/cli/serve';
import { type CliIo, main } from '../../cli/main';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request over node:http, on a new connection, with the path exactly as written (URL would resolve
 * `%2e%2e`), and no headers but these (fetch would set Origin and Host its own way).
 */
function call(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const [, host, port, path] = /^http:\/\/([^:/]+):(\d+)(\/.*)$/.exec(url)!;
  return new Promise((resolve, reject) => {
    const target = { host, port, path, method, headers: options.headers ?? {}, agent: false };
    const request = httpRequest(target, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    request.once('error', reject);
    request.end(options.body);
  });
}

describe('dashboard proxy', () => {
  let api: OpsServer;
  let dashboard: Dashboard;
  const seen: OpsRequest[] = [];
  let answer: OpsResponse;

  beforeAll(async () => {
    api = await startOpsServer({
      handle: async (request) => {
        seen.push(request);
        return answer;
      },
    });
    dashboard = await startDashboard({
      endpoint: api.url,
      credentials: async () => LOCAL_CREDENTIAL,
      region: LOCAL_REGION,
    });
  });
  afterAll(async () => {
    await dashboard.close();
    await api.close();
  });
  beforeEach(() => {
    seen.length = 0;
    answer = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
  });

  it('listens on 127.0.0.1 only and serves the page and its scripts, with a policy that loads nothing else', async () => {
    const page = await call('GET', dashboard.url);
    const script = await call('GET', `${dashboard.url}dashboard.js`);
    const reflexes = await call('GET', `${dashboard.url}reflexes.js`);
    const deployments = await call('GET', `${dashboard.url}deployments.js`);
    const helpers = await call('GET', `${dashboard.url}page.js`);
    const other = await call('GET', `${dashboard.url}index.html`);

    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain(
      '<script src="/page.js"></script>\n    <script src="/dashboard.js"></script>',
    );
    expect([helpers.status, helpers.headers['content-type']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
    ]);
    expect(page.text).not.toMatch(/(src|href)="https?:/);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(page.text).toContain('<script src="/reflexes.js"></script>');
    expect([reflexes.status, reflexes.headers['content-type']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
    ]);
    expect(reflexes.text).not.toMatch(/https?:\/\//);
    expect(page.text).toContain('<script src="/deployments.js"></script>');
    expect([deployments.status, deployments.headers['content-type']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
    ]);
    expect(deployments.text).not.toMatch(/https?:\/\//);
    expect(other.status).toBe(404);
    expect(seen).toHaveLength(0);
  });

  it('forwards a GET with its path and query, signed as the operator', async () => {
    const reply = await call('GET', `${dashboard.url}api/actions?limit=20&reflex=rollout`);

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'GET',
      path: '/actions',
      query: { limit: '20', reflex: 'rollout' },
      caller: LOCAL_CREDENTIAL.principalArn,
      body: undefined,
    });
  });

  it('forwards a write from the page with its body and content-type, and nothing else of the browser’s', async () => {
    const body = JSON.stringify({ reason: 'pager' });
    const reply = await call('POST', `${dashboard.url}api/rollouts/web-7/abort`, {
      headers: {
        origin: dashboard.url.replace(/\/$/, ''),
        'content-type': 'application/json',
        cookie: 'session=secret',
        'idempotency-key': 'from-the-browser',
      },
      body,
    });

    expect(reply.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/rollouts/web-7/abort', body });
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.headers.cookie).toBeUndefined();
    expect(seen[0]!.headers.origin).toBeUndefined();
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
  });

  it('hands the API’s errors back as they are', async () => {
    answer = {
      statusCode: 409,
      headers: { 'content-type': 'application/problem+json' },
      body: JSON.stringify({
        type: 'about:blank',
        title: 'Conflict',
        status: 409,
        detail: 'rollout x has ended',
      }),
    };

    const reply = await call('POST', `${dashboard.url}api/rollouts/x/promote`, {
      headers: { origin: dashboard.url.replace(/\/$/, '') },
    });

    expect(reply.status).toBe(409);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.text).toBe(answer.body);
  });

  it('refuses a write from another origin, a request for another host, and a path that climbs out of /api', async () => {
    const crossSite = await call('POST', `${dashboard.url}api/rollouts/x/abort`, {
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    const noOrigin = await call('POST', `${dashboard.url}api/rollouts/x/abort`, { body: '{}' });
    const rebound = await call('GET', `${dashboard.url}api/rollouts`, {
      headers: { host: 'evil.example' },
    });
    const climbing = await call('GET', `${dashboard.url}api/%2e%2e/secret`);

    expect([crossSite.status, noOrigin.status, rebound.status, climbing.status]).toEqual([
      403, 403, 403, 400,
    ]);
    expect(JSON.parse(crossSite.text).detail).toMatch(/only from the dashboard page/);
    expect(seen).toHaveLength(0);
  });

  it('answers 502 when the API cannot be reached, and 500 without credentials', async () => {
    const unreachable = await startDashboard({
      endpoint: `http://127.0.0.1:${NOTHING_LISTENS}`,
      credentials: async () => LOCAL_CREDENTIAL,
      region: LOCAL_REGION,
    });
    const unsigned = await startDashboard({
      endpoint: api.url,
      credentials: async () => {
        throw new Error('no profile');
      },
      region: LOCAL_REGION,
    });
    try {
      const down = await call('GET', `${unreachable.url}api/rollouts`);
      const noKeys = await call('GET', `${unsigned.url}api/rollouts`);

      expect(down.status).toBe(502);
      expect(JSON.parse(down.text)).toMatchObject({ title: 'Bad Gateway', detail: /ECONNREFUSED/ });
      expect(noKeys.status).toBe(500);
      expect(JSON.parse(noKeys.text).detail).toMatch(/no AWS credentials to sign with: no profile/);
    } finally {
      await unreachable.close();
      await unsigned.close();
    }
  });
});

/**
 * A port nothing answers on: below 1024 no unprivileged process can take it, and nothing serves tcpmux.
 * A port freed by the test itself could be handed to the next server the test (or the machine) starts.
 */
const NOTHING_LISTENS = 1;

describe('ecs-reflex dashboard', () => {
  class Capture {
    text = '';
    write(chunk: string) {
      this.text += chunk;
      return true;
    }
  }

  it('starts the proxy with the CLI’s credentials, prints its URL, and stops when told', async () => {
    // Prepare
    const api = await startOpsServer({
      handle: async (request) => ({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ caller: request.caller }),
      }),
    });
    const stdout = new Capture();
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const io: CliIo = {
      stdout,
      stderr: new Capture(),
      env: {
        ECS_REFLEX_ENDPOINT: api.url,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIAL.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIAL.secretAccessKey,
      },
      untilStopped: () => stopped,
    };

    try {
      // Act
      const exit = main(['dashboard', '--port', '0'], io);
      while (!stdout.text.includes('\n')) await new Promise((resolve) => setImmediate(resolve));
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout.text)![0];
      const reply = await call('GET', `${url}api/rollouts`);
      stop();

      // Assess
      expect(await exit).toBe(0);
      expect(JSON.parse(reply.text)).toEqual({ caller: LOCAL_CREDENTIAL.principalArn });
      expect(stdout.text).toContain(`the ops API at ${api.url}`);
      await expect(call('GET', url)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await api.close();
    }
  });

  it('exits 2 for a port that is not one', async () => {
    const stderr = new Capture();
    const code = await main(['dashboard', '--port', 'http'], {
      stdout: new Capture(),
      stderr,
      env: { ECS_REFLEX_ENDPOINT: 'http://127.0.0.1:1' },
    });
    expect(code).toBe(2);
    expect(stderr.text).toMatch(/--port 'http' is not a port number/);
  });
});

describe('npm run serve', () => {
  it('serves the dashboard in front of its API, signed with the local credential', async () => {
    // At 6 x the rollout starts 10 s after the server does: long enough for two requests on a loaded
    // machine to still see the route before its first shift.
    const server = await serve(['rollout-alb-promoted', '--port', '0', '--speed', '6']);
    try {
      const page = await call('GET', server.dashboardUrl);
      const route = await call('GET', `${server.dashboardUrl}api/routes/web`);

      expect(page.status).toBe(200);
      expect(route.status).toBe(200);
      expect(JSON.parse(route.text)).toMatchObject({ name: 'web', weights: { stable: 100, canary: 0 } });
    } finally {
      await server.stop();
    }
  });
});
