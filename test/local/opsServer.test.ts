import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { handleOpsRequest, type OpsRequest, type OpsResponse } from '#app/opsApi';
import { MAX_REQUEST_BODY_BYTES, type OpsServer, startOpsServer } from '#local/api/server';
import {
  type KeyLookup,
  LOCAL_CREDENTIAL,
  LOCAL_REGION,
  localCredentialLookup,
  parseQuery,
  Sha256,
  signRequest,
  verifySignature,
} from '#local/api/sigv4';
import { prepareTwin } from '#local/scenario/runner';
import { opsWorld } from '../support/opsWorld';

const SERVICE = 'execute-api' as const;
const sign = (
  request: { method: string; url: string; headers?: Record<string, string>; body?: string },
  options: { secretAccessKey?: string; now?: Date } = {},
) =>
  signRequest(
    { method: request.method, url: request.url, headers: request.headers ?? {}, body: request.body },
    {
      accessKeyId: LOCAL_CREDENTIAL.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? LOCAL_CREDENTIAL.secretAccessKey,
    },
    { region: LOCAL_REGION, service: SERVICE, now: options.now },
  );

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { type: string; title: string; status: number; detail: string };
}

describe('ops server', () => {
  let server: OpsServer;
  const seen: OpsRequest[] = [];
  let answer: OpsResponse;
  const handle = jest.fn(async (request: OpsRequest) => {
    seen.push(request);
    return answer;
  });

  beforeAll(async () => {
    server = await startOpsServer({
      handle,
      port: 0,
      staticFiles: { '/': { contentType: 'text/html; charset=utf-8', body: '<h1>ops</h1>' } },
    });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    handle.mockClear();
    answer = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
  });

  it('passes a signed GET to the handler with the caller ARN, path and query', async () => {
    const url = `${server.url}/routes/web-route?limit=5&state=running&tag=a+b`;
    const headers = await sign({ method: 'GET', url });
    const response = await fetch(url, { headers });

    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'GET',
      path: '/routes/web-route',
      query: { limit: '5', state: 'running', tag: 'a+b' },
      body: undefined,
      caller: 'arn:aws:iam::111122223333:user/local-operator',
    });
    expect(seen[0]!.headers['x-amz-date']).toBe(headers['x-amz-date']);
  });

  it('passes a signed POST body through, and repeated query parameters joined by commas', async () => {
    const url = `${server.url}/rollouts?tag=a&tag=b`;
    const body = JSON.stringify({ route: 'web', canary: 'v2', note: 'héllo' });
    const headers = await sign({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body,
    });
    const response = await fetch(url, { method: 'POST', headers, body });

    expect(response.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/rollouts', query: { tag: 'a,b' }, body });
    expect(seen[0]!.headers['content-type']).toBe('application/json');
  });

  it("returns the handler's status, headers and body as they were", async () => {
    answer = {
      statusCode: 202,
      headers: { 'content-type': 'application/json', location: '/rollouts/r-1', 'x-request-id': 'abc' },
      body: '{"rolloutId":"r-1","state":"RUNNING"}',
    };
    const url = `${server.url}/rollouts`;
    const headers = await sign({ method: 'POST', url, body: '{}' });
    const response = await fetch(url, { method: 'POST', headers, body: '{}' });

    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('location')).toBe('/rollouts/r-1');
    expect(response.headers.get('x-request-id')).toBe('abc');
    expect(await response.text()).toBe('{"rolloutId":"r-1","state":"RUNNING"}');
  });

  it('refuses an unsigned request with 403 problem+json', async () => {
    const response = await fetch(`${server.url}/rollouts`);

    expect(response.status).toBe(403);
    expect(await problemOf(response)).toEqual({
      type: 'about:blank',
      title: 'Forbidden',
      status: 403,
      detail: 'missing Authorization header: the request must be signed with AWS SigV4',
    });
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a request signed with the wrong secret', async () => {
    const url = `${server.url}/rollouts`;
    const headers = await sign({ method: 'GET', url }, { secretAccessKey: 'not-the-secret' });
    const response = await fetch(url, { headers });

    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toMatch(/^signature does not match/);
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a body changed after signing', async () => {
    const url = `${server.url}/rollouts/r-1/abort`;
    const headers = await sign({ method: 'POST', url, body: '{"reason":"bad canary"}' });
    const response = await fetch(url, { method: 'POST', headers, body: '{"reason":"all good"}' });

    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toBe(
      'the body does not match x-amz-content-sha256: it was changed after signing',
    );
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a body changed after signing together with its hash', async () => {
    const url = `${server.url}/rollouts/r-1/abort`;
    const headers = await sign({ method: 'POST', url, body: '{"reason":"bad canary"}' });
    const body = '{"reason":"all good"}';
    const forged = { ...headers, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') };
    const response = await fetch(url, { method: 'POST', headers: forged, body });

    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toMatch(/^signature does not match/);
  });

  it('refuses a path or query changed after signing', async () => {
    const headers = await sign({ method: 'POST', url: `${server.url}/rollouts/r-1/pause?dryRun=true` });
    const otherPath = await fetch(`${server.url}/rollouts/r-2/pause?dryRun=true`, {
      method: 'POST',
      headers,
    });
    const otherQuery = await fetch(`${server.url}/rollouts/r-1/pause?dryRun=false`, {
      method: 'POST',
      headers,
    });

    expect(otherPath.status).toBe(403);
    expect(otherQuery.status).toBe(403);
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a signature made 10 minutes ago', async () => {
    const url = `${server.url}/rollouts`;
    const headers = await sign({ method: 'GET', url }, { now: new Date(Date.now() - 10 * 60_000) });
    const response = await fetch(url, { headers });

    expect(response.status).toBe(403);
    expect((await problemOf(response)).detail).toMatch(
      /^signature expired: x-amz-date \d{8}T\d{6}Z is 6\d\d s old/,
    );
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a body over 64 KiB with 413, signed or not, before checking the signature', async () => {
    const body = 'x'.repeat(MAX_REQUEST_BODY_BYTES + 1);
    const url = `${server.url}/rollouts`;
    const headers = await sign({ method: 'POST', url, body });
    const response = await fetch(url, { method: 'POST', headers, body });

    expect(response.status).toBe(413);
    expect(await problemOf(response)).toEqual({
      type: 'about:blank',
      title: 'Payload Too Large',
      status: 413,
      detail: `the body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`,
    });
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses a large chunked body (no content-length) with 413 without waiting for all of it', async () => {
    const chunk = new Uint8Array(16 * 1024).fill(120);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.length;
        if (sent > 8 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${server.url}/rollouts`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);

    expect(response.status).toBe(413);
    expect((await problemOf(response)).status).toBe(413);
    expect(handle).not.toHaveBeenCalled();
  });

  it('accepts a body of exactly 64 KiB', async () => {
    const body = 'x'.repeat(MAX_REQUEST_BODY_BYTES);
    const url = `${server.url}/rollouts`;
    const headers = await sign({ method: 'POST', url, body });
    const response = await fetch(url, { method: 'POST', headers, body });

    expect(response.status).toBe(200);
    expect(seen[0]!.body).toHaveLength(MAX_REQUEST_BODY_BYTES);
  });

  it('serves a static file without a signature, at its exact path only', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe('<h1>ops</h1>');

    const elsewhere = await fetch(`${server.url}/index.html`);
    expect(elsewhere.status).toBe(403);
    expect(handle).not.toHaveBeenCalled();
  });

  it('answers a handler that throws with a bare 500', async () => {
    handle.mockRejectedValueOnce(new Error('secret detail'));
    const url = `${server.url}/rollouts`;
    const response = await fetch(url, { headers: await sign({ method: 'GET', url }) });

    expect(response.status).toBe(500);
    expect((await problemOf(response)).detail).toBe('internal error');
  });
});

describe('server options', () => {
  it('checks signatures against its own clock and its own keys', async () => {
    const signedAt = new Date('2030-01-01T00:00:00Z');
    const credentials: KeyLookup = (id) =>
      id === 'AKIAOTHER'
        ? { secretAccessKey: 'other-secret', principalArn: 'arn:aws:iam::1:role/ops' }
        : undefined;
    const handle = jest.fn(async (request: OpsRequest) => ({
      statusCode: 200,
      headers: {},
      body: request.caller ?? '',
    }));
    const server = await startOpsServer({ handle, credentials, region: 'us-east-2', clock: () => signedAt });
    try {
      const url = `${server.url}/rollouts`;
      const headers = await signRequest(
        { method: 'GET', url, headers: {} },
        { accessKeyId: 'AKIAOTHER', secretAccessKey: 'other-secret' },
        { region: 'us-east-2', service: SERVICE, now: signedAt },
      );
      const response = await fetch(url, { headers });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('arn:aws:iam::1:role/ops');

      const local = await fetch(url, { headers: await sign({ method: 'GET', url }, { now: signedAt }) });
      expect(local.status).toBe(403);
    } finally {
      await server.close();
    }
  });
});

describe('verifySignature', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const options = { region: LOCAL_REGION, service: SERVICE, now };

  /** Signs with the official signer directly, the way an AWS SDK v3 client would. */
  async function officialSigned(
    overrides: { sessionToken?: string; region?: string; service?: string; date?: Date } = {},
  ) {
    const signer = new SignatureV4({
      service: overrides.service ?? SERVICE,
      region: overrides.region ?? LOCAL_REGION,
      credentials: {
        accessKeyId: LOCAL_CREDENTIAL.accessKeyId,
        secretAccessKey: LOCAL_CREDENTIAL.secretAccessKey,
        ...(overrides.sessionToken ? { sessionToken: overrides.sessionToken } : {}),
      },
      sha256: Sha256,
    });
    const body = '{"weights":{"stable":90,"canary":10}}';
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'https:',
        hostname: 'abc123.execute-api.eu-west-1.amazonaws.com',
        path: '/routes/web%20route/weights',
        query: { dryRun: 'true', note: 'a/b c' },
        headers: {
          host: 'abc123.execute-api.eu-west-1.amazonaws.com',
          'content-type': 'application/json',
          'idempotency-key': 'k-1',
        },
        body,
      },
      { signingDate: overrides.date ?? now },
    );
    return {
      method: 'PUT',
      path: '/routes/web%20route/weights',
      query: parseQuery('dryRun=true&note=a%2Fb%20c'),
      headers: { ...signed.headers, 'user-agent': 'test' } as Record<string, string | undefined>,
      body,
    };
  }

  it('accepts a request signed by the official signer and names the caller', async () => {
    expect(await verifySignature(await officialSigned(), localCredentialLookup, options)).toEqual({
      ok: true,
      caller: LOCAL_CREDENTIAL.principalArn,
    });
  });

  it('accepts a signed session token header', async () => {
    const request = await officialSigned({ sessionToken: 'FwoGZXIvYXdzEXAMPLE' });
    expect(request.headers.authorization).toContain('x-amz-security-token');
    expect(await verifySignature(request, localCredentialLookup, options)).toMatchObject({ ok: true });
  });

  it('agrees with the AWS SigV4 test suite (get-vanilla)', async () => {
    const request = {
      method: 'GET',
      path: '/',
      query: {},
      headers: {
        Host: 'example.amazonaws.com',
        'X-Amz-Date': '20150830T123600Z',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
          'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
    };
    const lookup: KeyLookup = () => ({
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      principalArn: 'arn:aws:iam::123456789012:user/example',
    });
    const result = await verifySignature(request, lookup, {
      region: 'us-east-1',
      service: 'service' as typeof SERVICE,
      now: new Date('2015-08-30T12:36:00Z'),
    });
    expect(result).toEqual({ ok: true, caller: 'arn:aws:iam::123456789012:user/example' });
  });

  it('accepts what signRequest signs', async () => {
    const url = 'http://127.0.0.1:8080/rollouts/r-1/gate?answer=approve';
    const headers = await signRequest(
      { method: 'post', url, headers: { 'Content-Type': 'application/json' }, body: '{}' },
      { ...LOCAL_CREDENTIAL, sessionToken: 'token' },
      { region: LOCAL_REGION, service: SERVICE, now },
    );
    expect(Object.keys(headers).sort()).toEqual([
      'authorization',
      'content-type',
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(headers.host).toBe('127.0.0.1:8080');
    const request = {
      method: 'POST',
      path: '/rollouts/r-1/gate',
      query: { answer: 'approve' },
      headers,
      body: '{}',
    };
    expect(await verifySignature(request, localCredentialLookup, options)).toMatchObject({ ok: true });
  });

  const failures: [string, (r: Awaited<ReturnType<typeof officialSigned>>) => void, RegExp][] = [
    ['the method changed', (r) => (r.method = 'POST'), /^signature does not match/],
    ['the path changed', (r) => (r.path = '/routes/other/weights'), /^signature does not match/],
    [
      'a query value changed',
      (r) => (r.query = { ...r.query, dryRun: 'false' }),
      /^signature does not match/,
    ],
    [
      'a query parameter added',
      (r) => (r.query = { ...r.query, force: 'true' }),
      /^signature does not match/,
    ],
    ['a signed header changed', (r) => (r.headers['idempotency-key'] = 'k-2'), /^signature does not match/],
    [
      'the body changed',
      (r) => (r.body = '{"weights":{"stable":0,"canary":100}}'),
      /does not match x-amz-content-sha256/,
    ],
    ['a signed header removed', (r) => delete r.headers['idempotency-key'], /'idempotency-key' is missing/],
    ['no Authorization header', (r) => delete r.headers.authorization, /^missing Authorization header/],
    [
      'another auth scheme',
      (r) => (r.headers.authorization = 'Basic dXNlcjpwYXNz'),
      /unsupported Authorization scheme 'Basic'/,
    ],
    [
      'an unknown access key',
      (r) =>
        (r.headers.authorization = r.headers.authorization!.replace('AKIAECSREFLEXLOCAL01', 'AKIAUNKNOWN')),
      /^unknown access key 'AKIAUNKNOWN'/,
    ],
    [
      'host left unsigned',
      (r) => (r.headers.authorization = r.headers.authorization!.replace('host;', '')),
      /SignedHeaders must include 'host'/,
    ],
    [
      'an unsigned payload',
      (r) => (r.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'),
      /x-amz-content-sha256 'UNSIGNED-PAYLOAD' is not accepted/,
    ],
    [
      'a malformed x-amz-date',
      (r) => (r.headers['x-amz-date'] = '2026-03-01'),
      /not in the form YYYYMMDDTHHMMSSZ/,
    ],
  ];

  it.each(failures)('refuses a request with %s', async (_, change, reason) => {
    const request = await officialSigned();
    change(request);
    const result = await verifySignature(request, localCredentialLookup, options);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(reason);
  });

  it('refuses a signature for another region or service', async () => {
    const region = await verifySignature(
      await officialSigned({ region: 'us-east-1' }),
      localCredentialLookup,
      options,
    );
    expect(region).toEqual({
      ok: false,
      reason: "credential scope region 'us-east-1' does not match this API's region 'eu-west-1'",
    });
    const service = await verifySignature(
      await officialSigned({ service: 'lambda' }),
      localCredentialLookup,
      options,
    );
    expect(service).toEqual({
      ok: false,
      reason: "credential scope service 'lambda' does not match 'execute-api'",
    });
  });

  it('refuses a signature older or newer than the allowed skew', async () => {
    const old = await officialSigned({ date: new Date(now.getTime() - 301_000) });
    expect(await verifySignature(old, localCredentialLookup, options)).toEqual({
      ok: false,
      reason: 'signature expired: x-amz-date 20260301T095459Z is 301 s old (at most 300 s allowed)',
    });
    const future = await officialSigned({ date: new Date(now.getTime() + 301_000) });
    expect(await verifySignature(future, localCredentialLookup, options)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^signature not yet current: .* 301 s in the future/),
    });
    const recent = await officialSigned({ date: new Date(now.getTime() - 299_000) });
    expect(await verifySignature(recent, localCredentialLookup, options)).toMatchObject({ ok: true });
    expect(
      await verifySignature(old, localCredentialLookup, { ...options, maxSkewSeconds: 600 }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('refuses a credential scope date that is not the x-amz-date day', async () => {
    const request = await officialSigned();
    request.headers.authorization = request.headers.authorization!.replace('/20260301/', '/20260228/');
    expect(await verifySignature(request, localCredentialLookup, options)).toEqual({
      ok: false,
      reason: "credential scope date '20260228' does not match x-amz-date '20260301T100000Z'",
    });
  });

  it('refuses presigned URLs', async () => {
    const result = await verifySignature(
      { method: 'GET', path: '/', query: { 'X-Amz-Signature': 'abc' }, headers: {} },
      localCredentialLookup,
      options,
    );
    expect(result).toEqual({
      ok: false,
      reason: 'presigned URLs are not accepted: sign the request with an Authorization header',
    });
  });
});

describe('Sha256', () => {
  it('hashes and HMACs like node:crypto', async () => {
    const hash = new Sha256();
    hash.update('abc');
    expect(Buffer.from(await hash.digest()).toString('hex')).toBe(
      createHash('sha256').update('abc').digest('hex'),
    );
    const hmac = new Sha256(new Uint8Array([1, 2, 3]));
    hmac.update(new TextEncoder().encode('abc'));
    expect(Buffer.from(await hmac.digest()).toString('hex')).toBe(
      createHmac('sha256', Buffer.from([1, 2, 3]))
        .update('abc')
        .digest('hex'),
    );
  });
});

describe('ops server over the ops API', () => {
  it('answers a signed write that is not application/json with 415, writing nothing', async () => {
    // Prepare: the real handler over a twin with a rule splitting two versions
    const twin = prepareTwin(opsWorld('ops-server-415'));
    const rule = twin.traffic.route('web');
    const route = {
      router: 'alb' as const,
      listenerArn: rule.listenerArn!,
      ruleArn: rule.ruleArn,
      stable: twin.world.targetGroup('web-v1').arn,
      canary: twin.world.targetGroup('web-v2').arn,
    };
    const settings = {
      routes: [{ name: 'web', route }],
      clusters: ['prod'],
      serves: ['read', 'write'] as const,
    };
    const server = await startOpsServer({
      port: 0,
      handle: (request) =>
        handleOpsRequest(request, {
          ports: twin.opsPorts,
          settings: { ...settings, serves: [...settings.serves] },
          clock: twin.scheduler,
        }),
    });
    const writesBefore = twin.world.apiCalls.filter((c) => c.write).length;
    const url = `${server.url}/routes/web/weights`;
    const body = JSON.stringify({ weights: { stable: 50, canary: 50 } });
    const headers = await sign({ method: 'PUT', url, headers: { 'content-type': 'text/plain' }, body });

    try {
      // Act
      const response = await fetch(url, { method: 'PUT', headers, body });

      // Assess
      expect(response.status).toBe(415);
      expect(await problemOf(response)).toMatchObject({ title: 'Unsupported Media Type', status: 415 });
      expect(twin.world.apiCalls.filter((c) => c.write).length).toBe(writesBefore);
      expect(twin.traffic.weightsNow('web')).toMatchObject({ 'web-v1': 100, 'web-v2': 0 });
    } finally {
      await server.close();
    }
  });
});
