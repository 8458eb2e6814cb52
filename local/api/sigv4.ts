// AWS Signature Version 4 for the local ops API. On AWS, API Gateway (HTTP API, IAM auth) checks the
// signature and hands the handler the caller's ARN; locally the ops server does the same with this file.
//
// Both sides use the official signer (@smithy/signature-v4, the one inside every AWS SDK v3 client):
// signRequest signs an outgoing request; verifySignature parses the Authorization header, checks the
// credential scope and the clock, then signs a copy of the request with the same date, the same signed
// headers and the secret it knows, and compares the two signatures in constant time. Nothing here
// re-implements the canonical request, so the two sides cannot drift apart.
//
// Not supported, on purpose: presigned URLs (X-Amz-Signature in the query), unsigned or streaming
// payloads, SigV4a. Session tokens are carried as a signed header but not validated (the local lookup
// knows access keys, not sessions).
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** The one credential the local ops server knows by default; the README names it. Not a secret. */
export const LOCAL_CREDENTIAL = {
  accessKeyId: 'AKIAECSREFLEXLOCAL01',
  secretAccessKey: 'ecs-reflex-local-only-not-a-secret',
  principalArn: 'arn:aws:iam::111122223333:user/local-operator',
} as const;

/** The region local requests are signed for. */
export const LOCAL_REGION = 'eu-west-1';

/** API Gateway's signing name. */
export type SigningService = 'execute-api';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const DEFAULT_MAX_SKEW_SECONDS = 300;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A known access key: its secret and the principal it authenticates as. */
export interface KnownKey {
  secretAccessKey: string;
  principalArn: string;
}

export type KeyLookup = (accessKeyId: string) => KnownKey | undefined | Promise<KnownKey | undefined>;

/** Query parameters, percent-decoded ('+' stays '+', as SigV4 reads it); repeated keys as arrays. */
export type QueryValues = Record<string, string | string[] | undefined>;

export type Verification = { ok: true; caller: string } | { ok: false; reason: string };

/** The lookup for LOCAL_CREDENTIAL alone. */
export const localCredentialLookup: KeyLookup = (accessKeyId) =>
  accessKeyId === LOCAL_CREDENTIAL.accessKeyId
    ? { secretAccessKey: LOCAL_CREDENTIAL.secretAccessKey, principalArn: LOCAL_CREDENTIAL.principalArn }
    : undefined;

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 (or HMAC-SHA256 with a secret) over node:crypto, in the shape the smithy signer wants. */
export class Sha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function bytesOf(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

type SignableRequest = Parameters<SignatureV4['presign']>[0];

/**
 * Signs a request for API Gateway and returns every header to send: the caller's own (lower-cased),
 * plus host, x-amz-date, x-amz-content-sha256, x-amz-security-token (with a session token) and
 * authorization.
 */
export async function signRequest(
  request: { method: string; url: string; headers: Record<string, string>; body?: string },
  credentials: Credentials,
  options: { region: string; service: SigningService; now?: Date },
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`not an http(s) URL: ${request.url}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.host = url.host;
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    sha256: Sha256,
    applyChecksum: true,
  });
  const signed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: queryBag(parseQuery(url.search.slice(1))),
      headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    } satisfies SignableRequest,
    { signingDate: options.now ?? new Date() },
  );
  return { ...signed.headers };
}

/**
 * Checks a SigV4-signed request the way API Gateway's IAM authorizer does, and names the caller.
 * `path` is the path exactly as it arrived (still percent-encoded); `query` comes from parseQuery over the
 * raw query string; header names may be in any case; `body` is the bytes that arrived (or their UTF-8
 * text).
 */
export async function verifySignature(
  request: {
    method: string;
    path: string;
    query: QueryValues;
    headers: Record<string, string | undefined>;
    body?: string | Uint8Array;
  },
  lookup: KeyLookup,
  options: { region: string; service: SigningService; now: Date; maxSkewSeconds?: number },
): Promise<Verification> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name.toLowerCase()] = value;

  const authorization = headers.authorization;
  if (authorization === undefined) {
    if (Object.keys(request.query).some((key) => key.toLowerCase() === 'x-amz-signature'))
      return fail('presigned URLs are not accepted: sign the request with an Authorization header');
    return fail('missing Authorization header: the request must be signed with AWS SigV4');
  }
  const auth = parseAuthorization(authorization);
  if (!auth.ok) return auth;
  const { accessKeyId, scopeDate, region, service, terminator, signedHeaders, signature } = auth;

  if (region !== options.region)
    return fail(`credential scope region '${region}' does not match this API's region '${options.region}'`);
  if (service !== options.service)
    return fail(`credential scope service '${service}' does not match '${options.service}'`);
  if (terminator !== 'aws4_request')
    return fail(`credential scope must end in 'aws4_request', not '${terminator}'`);

  const amzDate = headers['x-amz-date'];
  if (amzDate === undefined) return fail('missing x-amz-date header');
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) return fail(`x-amz-date '${amzDate}' is not in the form YYYYMMDDTHHMMSSZ`);
  if (scopeDate !== amzDate.slice(0, 8))
    return fail(`credential scope date '${scopeDate}' does not match x-amz-date '${amzDate}'`);
  const maxSkew = options.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const ageSeconds = Math.round((options.now.getTime() - signedAt.getTime()) / 1000);
  if (ageSeconds > maxSkew)
    return fail(
      `signature expired: x-amz-date ${amzDate} is ${ageSeconds} s old (at most ${maxSkew} s allowed)`,
    );
  if (-ageSeconds > maxSkew)
    return fail(
      `signature not yet current: x-amz-date ${amzDate} is ${-ageSeconds} s in the future (at most ${maxSkew} s allowed)`,
    );

  for (const required of ['host', 'x-amz-date'])
    if (!signedHeaders.includes(required)) return fail(`SignedHeaders must include '${required}'`);
  for (const name of signedHeaders)
    if (headers[name] === undefined) return fail(`signed header '${name}' is missing from the request`);

  const declaredPayloadHash = headers['x-amz-content-sha256'];
  if (declaredPayloadHash !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(declaredPayloadHash))
      return fail(
        `x-amz-content-sha256 '${declaredPayloadHash}' is not accepted: sign the payload's SHA-256`,
      );
    const actual = createHash('sha256')
      .update(request.body ?? '')
      .digest('hex');
    if (actual !== declaredPayloadHash)
      return fail('the body does not match x-amz-content-sha256: it was changed after signing');
  }

  const key = await lookup(accessKeyId);
  if (key === undefined) return fail(`unknown access key '${accessKeyId}'`);

  // Sign a copy with exactly the signed headers, at the signing time the request claims.
  const copyHeaders: Record<string, string> = {};
  for (const name of signedHeaders) copyHeaders[name] = headers[name]!;
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: { accessKeyId, secretAccessKey: key.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const copy = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'https:',
      hostname: headers.host ?? 'localhost',
      path: request.path,
      query: queryBag(request.query),
      headers: copyHeaders,
      ...(request.body !== undefined ? { body: request.body } : {}),
    } satisfies SignableRequest,
    { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
  );
  const expected = parseAuthorization(copy.headers.authorization ?? '');
  if (!expected.ok) return fail('could not recompute the signature');
  if (expected.signedHeaders.join(';') !== signedHeaders.join(';'))
    return fail(
      `SignedHeaders '${signedHeaders.join(';')}' cannot be verified: they must be lower-case, sorted, and ` +
        `not include 'date' or 'authorization'`,
    );
  const a = Buffer.from(signature, 'utf8');
  const b = Buffer.from(expected.signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b))
    return fail(
      'signature does not match: the request was changed after signing, or signed with a different secret key',
    );
  return { ok: true, caller: key.principalArn };
}

/**
 * Splits a raw query string (without '?') into percent-decoded values. Unlike URLSearchParams, '+' stays
 * '+': SigV4 canonicalises the query that way. Throws URIError on a malformed escape.
 */
export function parseQuery(raw: string): Record<string, string | string[]> {
  const values = new Map<string, string[]>();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return Object.fromEntries([...values].map(([key, list]) => [key, list.length === 1 ? list[0]! : list]));
}

function queryBag(query: QueryValues): Record<string, string | string[]> {
  const bag: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) bag[key] = value;
  return bag;
}

type ParsedAuthorization = {
  ok: true;
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
};

function parseAuthorization(header: string): ParsedAuthorization | { ok: false; reason: string } {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM)
    return fail(`unsupported Authorization scheme '${algorithm}': expected ${ALGORITHM}`);
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return fail(`malformed Authorization header near '${part.trim()}'`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature)
    return fail('malformed Authorization header: it needs Credential, SignedHeaders and Signature');
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((part) => part === ''))
    return fail(`malformed Credential '${credential}': expected AKID/YYYYMMDD/region/service/aws4_request`);
  const [accessKeyId, scopeDate, region, service, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^\d{8}$/.test(scopeDate)) return fail(`malformed credential scope date '${scopeDate}'`);
  if (!/^[0-9a-f]{64}$/.test(signature))
    return fail('malformed Signature: expected 64 lower-case hex digits');
  return {
    ok: true,
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Reject dates that roll over (20240231T...): the round trip must give the same text back.
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '') === value ? date : undefined;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
