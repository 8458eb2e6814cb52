// The ops API over HTTP, as the CLI calls it: every request signed with SigV4 (`execute-api`) by the same
// signer the local server verifies with, retried on throttling, 5xx and network errors, and every write sent
// with one Idempotency-Key per invocation, so a retry never does the same thing twice.
import { randomUUID } from 'node:crypto';
import { type Answer, exchange } from '#local/api/exchange';
import { type Credentials, signRequest } from '#local/api/sigv4';

/** An RFC 9457 problem document, as the ops API answers every error. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/** The API answered, with an error status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly problem: Problem) {
    super(`${problem.title} (${problem.status}): ${problem.detail}`);
  }
}

/** The API could not be reached, or answered something that is not the API's (after the retries). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
}

/** No credentials to sign with: a setup problem, not the API's. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export interface ClientOptions {
  endpoint: string;
  region: string;
  env: Record<string, string | undefined>;
  sleep: (ms: number) => Promise<void>;
  /** The clock requests are signed with (x-amz-date): wall-clock time. */
  now: () => Date;
  /** Attempts per request, the first included. */
  attempts?: number;
  /** The first retry's delay; each next one doubles it (a 429's Retry-After wins when it is longer). */
  retryBaseMs?: number;
  timeoutMs?: number;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

const RETRY_AFTER_CAP_MS = 20_000;

export class OpsClient {
  private credentials: Promise<Credentials> | undefined;
  /** One per invocation: every write this process sends, and its retries, carry it. */
  readonly idempotencyKey = `ecs-reflex-cli-${randomUUID()}`;

  constructor(private readonly options: ClientOptions) {}

  get<T>(path: string, query?: CallOptions['query']): Promise<T> {
    return this.call<T>('GET', path, { query });
  }

  /** A write: JSON body, Idempotency-Key header. */
  write<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
    return this.call<T>(method, path, { body });
  }

  private async call<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const url = new URL(this.options.endpoint);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    // Percent-encoded by hand: URLSearchParams writes a space as '+', which SigV4 reads as a plus.
    url.search = Object.entries(options.query ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
      .join('&');
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['idempotency-key'] = this.idempotencyKey;

    const attempts = this.options.attempts ?? 4;
    const base = this.options.retryBaseMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let response: Answer;
      try {
        response = await this.send(method, url, headers, body);
      } catch (error) {
        if (error instanceof CredentialsError) throw error;
        if (last) throw new TransportError(`cannot reach ${url.origin}: ${reasonOf(error)}`);
        await this.options.sleep(base * 2 ** (attempt - 1));
        continue;
      }
      const { text } = response;
      if (response.status >= 200 && response.status < 300) {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new TransportError(
            `${method} ${url.pathname} answered ${response.status} with a body that is not JSON`,
          );
        }
      }
      // A 409 with Retry-After is the same key still in flight (an earlier attempt of this invocation):
      // worth waiting for, unlike a conflict with another rollout.
      const inFlight = response.status === 409 && response.headers['retry-after'] !== undefined;
      const retryable = response.status >= 500 || response.status === 429 || inFlight;
      if (!retryable || last) throw new ApiError(problemOf(response.status, text));
      const retryAfter = Number(response.headers['retry-after']);
      const wait = Math.max(
        base * 2 ** (attempt - 1),
        Number.isFinite(retryAfter) ? Math.min(retryAfter * 1000, RETRY_AFTER_CAP_MS) : 0,
      );
      await this.options.sleep(wait);
    }
  }

  /** Signs afresh for every attempt: x-amz-date must be current. */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Answer> {
    const signed = await signRequest(
      { method, url: url.toString(), headers, ...(body !== undefined ? { body } : {}) },
      await this.resolveCredentials(),
      { region: this.options.region, service: 'execute-api', now: this.options.now() },
    );
    return exchange(method, url, signed, body, this.options.timeoutMs ?? 30_000);
  }

  private resolveCredentials(): Promise<Credentials> {
    this.credentials ??= credentialsFrom(this.options.env).catch((error: unknown) => {
      throw new CredentialsError(
        `no AWS credentials to sign with (${reasonOf(error)}); set AWS_ACCESS_KEY_ID and ` +
          'AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
      );
    });
    return this.credentials;
  }
}

/**
 * The standard AWS chain (@aws-sdk/credential-provider-node): environment, SSO, shared files, web identity,
 * process, container and instance metadata. The environment is read from the CLI's `env` first, with the
 * chain's own rule (AWS_PROFILE set: the environment keys are skipped); the rest of the chain reads
 * process.env and the files, as the SDK does.
 */
export async function credentialsFrom(env: Record<string, string | undefined>): Promise<Credentials> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!env.AWS_PROFILE && accessKeyId && secretAccessKey)
    return {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const found = await defaultProvider(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {})();
  return {
    accessKeyId: found.accessKeyId,
    secretAccessKey: found.secretAccessKey,
    ...(found.sessionToken ? { sessionToken: found.sessionToken } : {}),
  };
}

function problemOf(status: number, text: string): Problem {
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (parsed && typeof parsed.title === 'string' && typeof parsed.detail === 'string')
      return { ...parsed, status: typeof parsed.status === 'number' ? parsed.status : status } as Problem;
  } catch {
    // Not a problem document: something in front of the API answered (a proxy, a gateway).
  }
  const excerpt = text.trim().slice(0, 200);
  return { title: `HTTP ${status}`, status, detail: excerpt || 'no detail in the answer' };
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return (error as NodeJS.ErrnoException).code ?? error.message;
}
