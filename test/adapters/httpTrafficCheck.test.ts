// The http check's adapter over an injected resolver and fetch: the host resolved once and refused when it
// points at the checking function's own endpoints, every request pinned to the address judged, N requests in
// waves, redirects not followed, the body read only for a pattern and only up to its limit, and every
// failure to get an answer kept as one. Node's http client pinned to an address: pinnedFetch, on a local
// server.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Fetch,
  HttpTrafficCheck,
  pinnedFetch,
  type ResolvedAddress,
} from '#adapters/aws/httpTrafficCheck';
import { BODY_READ_LIMIT, HttpCheckSchema } from '#domain/trafficChecks';

const PRIVATE: ResolvedAddress = { address: '10.0.0.5', family: 4 };
/** The check over this fetch, its host resolving to these addresses. */
const over = (fetch: Fetch, addresses: ResolvedAddress[] = [PRIVATE]) =>
  new HttpTrafficCheck({ resolve: async () => addresses, fetch });

const check = (extra: Record<string, unknown> = {}) =>
  HttpCheckSchema.parse({ name: 'smoke', kind: 'http', url: 'https://web-test.internal/health', ...extra });

describe('HttpTrafficCheck', () => {
  it('sends the requests, at most ten at once, without following redirects, and keeps each answer', async () => {
    // Prepare
    let inFlight = 0;
    let most = 0;
    const inits: RequestInit[] = [];
    const fetch: Fetch = async (_url, init) => {
      const n = inits.push(init);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight -= 1;
      return new Response(null, { status: n % 5 === 0 ? 302 : 200 });
    };

    // Act
    const seen = await over(fetch).run(check({ requests: 25 }));

    // Assess
    expect(seen.kind === 'http' && seen.answers.map((a) => ('status' in a ? a.status : 0))).toEqual(
      Array.from({ length: 25 }, (_, i) => ((i + 1) % 5 === 0 ? 302 : 200)),
    );
    expect(most).toBe(10);
    expect(inits[0]).toMatchObject({ method: 'GET', redirect: 'manual' });
    expect(inits[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('reads the body only when the check has a pattern, and no more than its limit', async () => {
    const big = 'x'.repeat(BODY_READ_LIMIT * 3);
    const fetch: Fetch = async () => new Response(big, { status: 200 });

    const without = await over(fetch).run(check({ requests: 1 }));
    const withPattern = await over(fetch).run(check({ requests: 1, bodyPattern: 'x+' }));

    expect(without).toEqual({ kind: 'http', answers: [{ status: 200 }] });
    const answer = withPattern.kind === 'http' ? withPattern.answers[0] : undefined;
    expect(answer && 'body' in answer ? answer.body?.length : 0).toBe(BODY_READ_LIMIT);
  });

  it('keeps a request that got no answer as a failure, with the reason, instead of throwing', async () => {
    const refused: Fetch = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    };
    const timedOut: Fetch = async () => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    };

    expect(await over(refused).run(check({ requests: 1 }))).toEqual({
      kind: 'http',
      answers: [{ failure: 'fetch failed (ECONNREFUSED)' }],
    });
    expect(await over(timedOut).run(check({ requests: 1, timeoutSeconds: 2 }))).toEqual({
      kind: 'http',
      answers: [{ failure: 'no answer within 2 s' }],
    });
  });

  it.each([
    ['loopback', '127.0.0.1', 4],
    ['the metadata endpoint, IPv4-mapped', '::ffff:169.254.169.254', 6],
    ["EC2's IPv6 metadata endpoint", 'fd00:ec2::254', 6],
    ['IPv6 link-local', 'fe80::1', 6],
  ])('refuses a name one of whose addresses is %s, sending nothing', async (_, address, family) => {
    const sent: string[] = [];
    const fetch: Fetch = async (url) => {
      sent.push(url);
      return new Response(null, { status: 200 });
    };

    const seen = await over(fetch, [PRIVATE, { address, family }]).run(check({ requests: 3 }));

    expect(sent).toEqual([]);
    expect(seen).toEqual({
      kind: 'http',
      answers: Array.from({ length: 3 }, () => ({
        failure: `web-test.internal resolves to ${address}, a loopback or link-local address (the checking function's own runtime and metadata endpoints): not requested`,
      })),
    });
  });

  it('resolves the name once and sends every request to the address it judged', async () => {
    let lookups = 0;
    const to: ResolvedAddress[] = [];
    const network = {
      resolve: async () => {
        lookups += 1;
        return [PRIVATE];
      },
      fetch: async (_url: string, _init: RequestInit, address: ResolvedAddress) => {
        to.push(address);
        return new Response(null, { status: 200 });
      },
    };

    await new HttpTrafficCheck(network).run(check({ requests: 12 }));

    expect(lookups).toBe(1);
    expect(to).toEqual(Array.from({ length: 12 }, () => PRIVATE));
  });

  it('keeps a name that does not resolve as the failure of every request', async () => {
    const network = {
      resolve: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND web-test.internal'), { code: 'ENOTFOUND' });
      },
      fetch: async () => new Response(null, { status: 200 }),
    };

    expect(await new HttpTrafficCheck(network).run(check({ requests: 2 }))).toEqual({
      kind: 'http',
      answers: [
        { failure: 'getaddrinfo ENOTFOUND web-test.internal (ENOTFOUND)' },
        { failure: 'getaddrinfo ENOTFOUND web-test.internal (ENOTFOUND)' },
      ],
    });
  });
});

describe('pinnedFetch', () => {
  const server = createServer((request, response) => {
    response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    response.end(`host ${request.headers.host}`);
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

  it('connects to the address given, not to what the name resolves to, and keeps the name as the host', async () => {
    // `.invalid` never resolves (RFC 6761): an answer proves the connection went to the pinned address.
    const response = await pinnedFetch(
      `http://web-test.invalid:${port}/health`,
      { method: 'GET', headers: { 'user-agent': 'ecs-reflex-traffic-check' } },
      { address: '127.0.0.1', family: 4 },
    );

    expect([response.status, await response.text()]).toEqual([200, `host web-test.invalid:${port}`]);
  });

  it('answers a status other than 200 as it came', async () => {
    const response = await pinnedFetch(
      `http://web-test.invalid:${port}/missing`,
      { method: 'GET' },
      { address: '127.0.0.1', family: 4 },
    );

    expect(response.status).toBe(404);
    await response.body?.cancel();
  });
});
