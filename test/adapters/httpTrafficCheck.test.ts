// The http check's adapter over an injected fetch: N requests in waves, redirects not followed, the body
// read only for a pattern and only up to its limit, and every failure to get an answer kept as one.
import { type Fetch, HttpTrafficCheck } from '#adapters/aws/httpTrafficCheck';
import { BODY_READ_LIMIT, HttpCheckSchema } from '#domain/trafficChecks';

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
    const seen = await new HttpTrafficCheck(fetch).run(check({ requests: 25 }));

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

    const without = await new HttpTrafficCheck(fetch).run(check({ requests: 1 }));
    const withPattern = await new HttpTrafficCheck(fetch).run(check({ requests: 1, bodyPattern: 'x+' }));

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

    expect(await new HttpTrafficCheck(refused).run(check({ requests: 1 }))).toEqual({
      kind: 'http',
      answers: [{ failure: 'fetch failed (ECONNREFUSED)' }],
    });
    expect(await new HttpTrafficCheck(timedOut).run(check({ requests: 1, timeoutSeconds: 2 }))).toEqual({
      kind: 'http',
      answers: [{ failure: 'no answer within 2 s' }],
    });
  });
});
