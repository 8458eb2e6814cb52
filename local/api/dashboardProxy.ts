// The dashboard: a page in the browser over the ops API. Every API route needs a SigV4 signature and a
// browser cannot sign (nor should it hold AWS credentials), so this small local server serves the page
// (cli/dashboard/) and forwards `/api/<path>?query` to `<endpoint>/<path>?query`, signing each request with
// credentials that stay in this process. It forwards the method, the body and its content-type, nothing
// else, and hands the API's answer back as it came (status, content-type, body), errors included.
//
// It binds 127.0.0.1 only. Since whatever reaches it is signed with the operator's credentials, it also
// refuses what a browser would send on another site's behalf: a Host that is not this server (DNS
// rebinding) and a write whose Origin is not this server's (a cross-site form or fetch).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exchange } from '#local/api/exchange';
import { MAX_REQUEST_BODY_BYTES } from '#local/api/server';
import { type Credentials, signRequest } from '#local/api/sigv4';
import { repoRoot } from '#local/repoRoot';

/** Where the page's files are: cli/dashboard/ at the repository's root. */
export const DASHBOARD_DIR = join(repoRoot, 'cli', 'dashboard');

const PAGE_FILES: Record<string, { file: string; contentType: string }> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', contentType: 'text/javascript; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', contentType: 'text/javascript; charset=utf-8' },
  '/reflexes.js': { file: 'reflexes.js', contentType: 'text/javascript; charset=utf-8' },
  '/deployments.js': { file: 'deployments.js', contentType: 'text/javascript; charset=utf-8' },
};

/** The page loads nothing from elsewhere, and no other site may frame it. */
const PAGE_POLICY =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

const API_PREFIX = '/api/';
const HOST = '127.0.0.1';

export interface DashboardOptions {
  /** The ops API, e.g. https://a1b2c3.execute-api.eu-west-1.amazonaws.com or the local server's URL. */
  endpoint: string;
  /** Asked before every request (a provider caches and refreshes as it sees fit). */
  credentials: () => Promise<Credentials>;
  /** The region requests are signed for. */
  region: string;
  /** 0 (the default) picks any free port; the answer's url names it. */
  port?: number;
  /** The wall clock requests are signed with; `new Date()` by default (pass a real one next to a twin). */
  clock?: () => Date;
  /** Per request to the API; 30 s by default. */
  timeoutMs?: number;
}

export interface Dashboard {
  /** The page, e.g. http://127.0.0.1:8788/ */
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const endpoint = new URL(options.endpoint);
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')
    throw new Error(`the endpoint must be an http(s) URL, not ${options.endpoint}`);
  const page = Object.fromEntries(
    Object.entries(PAGE_FILES).map(([path, { file, contentType }]) => [
      path,
      { contentType, body: readFileSync(join(DASHBOARD_DIR, file)) },
    ]),
  );
  let origin = '';
  const server = createServer((req, res) => {
    handle(req, res, { ...options, endpoint, page, origin }).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, problem(502, 'Bad Gateway', `the dashboard proxy failed: ${reason(error)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface Context extends Omit<DashboardOptions, 'endpoint'> {
  endpoint: URL;
  page: Record<string, { contentType: string; body: Buffer }>;
  /** http://127.0.0.1:PORT */
  origin: string;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

async function handle(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const target = req.url ?? '/';
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const rawQuery = mark < 0 ? '' : target.slice(mark);

  const port = new URL(context.origin).port;
  if (req.headers.host !== `${HOST}:${port}` && req.headers.host !== `localhost:${port}`)
    return send(res, problem(403, 'Forbidden', `this dashboard answers only to ${HOST}:${port}`));

  const file = Object.hasOwn(context.page, path) ? context.page[path] : undefined;
  if (file && (method === 'GET' || method === 'HEAD')) {
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': String(file.body.length),
      'cache-control': 'no-store',
      'content-security-policy': PAGE_POLICY,
      'x-content-type-options': 'nosniff',
    });
    res.end(method === 'HEAD' ? undefined : file.body);
    return;
  }
  if (!path.startsWith(API_PREFIX)) return send(res, problem(404, 'Not Found', `nothing at ${path}`));
  // `..` would climb out of the endpoint's base path (URL resolves it, escaped or not).
  // A backslash is a separator to the URL parser too: refused, escaped or not.
  const forwarded = path.slice(API_PREFIX.length);
  if (/(^|[/\\]|%5c)(\.|%2e){1,2}([/\\]|%5c|$)/i.test(forwarded) || /\\|%5c/i.test(forwarded))
    return send(res, problem(400, 'Bad Request', 'the path must not hold . or .. segments, or backslashes'));

  // A browser names the page that sent a write; a write from any other page is another site's doing.
  const { origin } = req.headers;
  if (method !== 'GET' && method !== 'HEAD' && origin !== context.origin && origin !== localhostOf(context))
    return send(
      res,
      problem(403, 'Forbidden', `writes are taken only from the dashboard page (${context.origin})`),
    );

  const body = await readBody(req);
  if (body === 'too large')
    return send(
      res,
      problem(413, 'Payload Too Large', `the body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`),
      { connection: 'close' },
    );

  const url = new URL(context.endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.slice(API_PREFIX.length)}`;
  url.search = rawQuery;
  const headers: Record<string, string> = {};
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && body.length > 0) headers['content-type'] = contentType;
  const text = body.length > 0 ? body.toString('utf8') : undefined;
  let credentials: Credentials;
  try {
    credentials = await context.credentials();
  } catch (error) {
    return send(
      res,
      problem(500, 'Internal Server Error', `no AWS credentials to sign with: ${reason(error)}`),
    );
  }
  const signed = await signRequest(
    { method, url: url.toString(), headers, ...(text !== undefined ? { body: text } : {}) },
    credentials,
    { region: context.region, service: 'execute-api', now: (context.clock ?? (() => new Date()))() },
  );
  let answer: Answer;
  try {
    answer = await forward(method, url, signed, text, context.timeoutMs ?? 30_000);
  } catch (error) {
    return send(res, problem(502, 'Bad Gateway', `cannot reach ${url.origin}: ${reason(error)}`));
  }
  send(res, answer);
}

function localhostOf(context: Context): string {
  return context.origin.replace(HOST, 'localhost');
}

/** The request body, or 'too large' (the rest is read and dropped, so the client can read the answer). */
function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
    });
    req.once('end', () => resolve(size > MAX_REQUEST_BODY_BYTES ? 'too large' : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The API's answer, with the headers the page needs and nothing else. */
async function forward(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  const answer = await exchange(method, url, headers, body, timeoutMs);
  const kept: Record<string, string> = {};
  for (const name of ['content-type', 'retry-after', 'idempotent-replayed']) {
    const value = answer.headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  return { status: answer.status || 502, headers: kept, body: answer.text };
}

function send(res: ServerResponse, answer: Answer, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(answer.status, { 'cache-control': 'no-store', ...answer.headers, ...extraHeaders });
  res.end(answer.body);
}

function problem(status: number, title: string, detail: string): Answer {
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
