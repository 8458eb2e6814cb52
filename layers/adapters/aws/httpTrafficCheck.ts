// An http test before traffic: N requests to a URL the new version answers on, in waves of ten at once, each
// with its own timeout. The answers go back as they came (the status, and the body's start when the check has a
// pattern); the domain judges them. Redirects are answers, not followed: a test listener that redirects is
// the thing under test.
import {
  BODY_READ_LIMIT,
  HTTP_CONCURRENCY,
  type HttpAnswer,
  type HttpCheck,
  type TrafficCheckObservation,
} from '#domain/trafficChecks';
import type { TrafficCheckRunner } from '#ports';

export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class HttpTrafficCheck implements TrafficCheckRunner<HttpCheck> {
  constructor(private readonly fetch: Fetch = globalThis.fetch) {}

  async run(check: HttpCheck): Promise<TrafficCheckObservation> {
    const answers: HttpAnswer[] = [];
    for (let sent = 0; sent < check.requests; sent += HTTP_CONCURRENCY) {
      const wave = Math.min(HTTP_CONCURRENCY, check.requests - sent);
      answers.push(...(await Promise.all(Array.from({ length: wave }, () => this.request(check)))));
    }
    return { kind: 'http', answers };
  }

  private async request(check: HttpCheck): Promise<HttpAnswer> {
    // One signal covers the answer and reading its body: a body that trickles in counts against the timeout.
    const signal = AbortSignal.timeout(check.timeoutSeconds * 1000);
    try {
      const response = await this.fetch(check.url, {
        method: check.method,
        redirect: 'manual',
        signal,
        headers: { 'user-agent': 'ecs-reflex-traffic-check' },
      });
      if (check.bodyPattern === undefined) {
        await response.body?.cancel();
        return { status: response.status };
      }
      return { status: response.status, body: await bodyStart(response) };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${check.timeoutSeconds} s` : e.message;
      return { failure: e.cause?.code ? `${why} (${e.cause.code})` : why };
    }
  }
}

/** The body's first BODY_READ_LIMIT bytes as text; the rest is not read. */
async function bodyStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_READ_LIMIT) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  return Buffer.concat(chunks).subarray(0, BODY_READ_LIMIT).toString('utf8');
}
