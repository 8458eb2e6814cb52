// The ops API on localhost: what API Gateway (HTTP API, IAM auth) does in front of the ops functions on
// AWS, in one node:http server. It caps the body, checks the SigV4 signature against wall-clock time,
// names the caller, and hands one OpsRequest to the same handler the functions use. A few exact paths
// (the dashboard page) are served without a signature; everything else must be signed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsRequest, OpsResponse } from '#app/opsApi';
import {
  type KeyLookup,
  LOCAL_REGION,
  localCredentialLookup,
  parseQuery,
  verifySignature,
} from '#local/api/sigv4';

/** API Gateway's ops API refuses larger bodies too (events/opsApi MAX_BODY_BYTES). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export interface StaticFile {
  contentType: string;
  body: string | Buffer;
}

export interface OpsServerOptions {
  handle: (request: OpsRequest) => Promise<OpsResponse>;
  /** 0 (the default) picks any free port; the answer's url names it. */
  port?: number;
  /** 127.0.0.1 by default: the local API is for this machine only. */
  host?: string;
  /** Known access keys; LOCAL_CREDENTIAL alone by default. */
  credentials?: KeyLookup;
  /** The region requests must be signed for; eu-west-1 by default. */
  region?: string;
  /** Real time by default: signatures are checked against wall-clock x-amz-date, not the twin's clock. */
  clock?: () => Date;
  /** Served to GET and HEAD without a signature, at these exact paths only. */
  staticFiles?: Record<string, StaticFile>;
  /** A handler that threw: the caller gets a bare 500, this gets the error. */
  onUnexpected?: (error: unknown) => void;
}

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    serve(req, res, options).catch((error: unknown) => {
      options.onUnexpected?.(error);
      if (!res.headersSent) send(res, problem(500, 'Internal Server Error', 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, options: OpsServerOptions): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const target = req.url ?? '/';
  if (!target.startsWith('/'))
    return send(res, problem(400, 'Bad Request', 'the request target must be a path'));
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const rawQuery = mark < 0 ? '' : target.slice(mark + 1);

  const file =
    options.staticFiles && Object.hasOwn(options.staticFiles, path) ? options.staticFiles[path] : undefined;
  if (file && (method === 'GET' || method === 'HEAD')) {
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': String(Buffer.byteLength(file.body)),
      'cache-control': 'no-store',
    });
    res.end(method === 'HEAD' ? undefined : file.body);
    return;
  }

  const declaredLength = Number(req.headers['content-length'] ?? 0);
  if (declaredLength > MAX_REQUEST_BODY_BYTES) return refuseBody(req, res);
  const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
  if (body === 'too large') return refuseBody(req, res);

  let query: Record<string, string | string[]>;
  try {
    query = parseQuery(rawQuery);
  } catch {
    return send(res, problem(400, 'Bad Request', 'the query string has a malformed percent-escape'));
  }
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct))
    if (values) headers[name] = values.join(',');

  const verdict = await verifySignature(
    { method, path, query, headers, body },
    options.credentials ?? localCredentialLookup,
    {
      region: options.region ?? LOCAL_REGION,
      service: 'execute-api',
      now: (options.clock ?? (() => new Date()))(),
    },
  );
  if (!verdict.ok) return send(res, problem(403, 'Forbidden', verdict.reason));

  const request: OpsRequest = {
    method,
    path,
    // API Gateway joins a repeated query parameter with commas; so does this.
    query: Object.fromEntries(
      Object.entries(query).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : value]),
    ),
    headers,
    body: body.length > 0 ? body.toString('utf8') : undefined,
    caller: verdict.caller,
  };
  send(res, await options.handle(request));
}

/** The body, or 'too large' as soon as it passes the limit (the rest is never buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

/**
 * 413 at once, then close the connection. What is still in flight is discarded, not buffered, so the
 * client can read the answer instead of seeing its upload cut off; a client that keeps sending past a few
 * seconds is cut off anyway.
 */
function refuseBody(req: IncomingMessage, res: ServerResponse): void {
  send(res, problem(413, 'Payload Too Large', `the body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`), {
    connection: 'close',
  });
  req.resume();
  const cutOff = setTimeout(() => req.socket.destroy(), 5_000);
  cutOff.unref();
  req.socket.once('close', () => clearTimeout(cutOff));
}

function send(res: ServerResponse, response: OpsResponse, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(response.statusCode, { ...response.headers, ...extraHeaders });
  res.end(response.body);
}

function problem(status: number, title: string, detail: string): OpsResponse {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
  };
}
