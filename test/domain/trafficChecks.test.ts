// Tests before traffic judged from what their adapters saw: a wrong answer fails, no answer at all (or a
// function that is missing or throws) is an error, never a failure or a pass; and the requests that could
// not run are refused by the schema.
import {
  assessTrafficCheck,
  checksBudgetProblem,
  type HttpAnswer,
  TrafficCheckSchema,
} from '#domain/trafficChecks';
import { RolloutSpecSchema } from '#events/rollout';
import { MESH_ROUTE } from '../support/rollouts';

const http = (extra: Record<string, unknown> = {}) =>
  TrafficCheckSchema.parse({
    name: 'smoke',
    kind: 'http',
    url: 'https://web-test.internal/health',
    ...extra,
  });
const lambda = TrafficCheckSchema.parse({ name: 'suite', kind: 'lambda', function: 'web-smoke-tests' });
const ok: HttpAnswer = { status: 200, body: '{"status":"ok"}' };
const down: HttpAnswer = { failure: 'fetch failed (ECONNREFUSED)' };

describe('an http check', () => {
  it('passes when enough answers are as expected, and fails below the ratio', () => {
    const check = http({ requests: 4, minSuccessRatio: 0.75 });
    const three = [ok, ok, ok, { status: 503 }];
    const two = [ok, ok, { status: 503 }, { status: 503 }];

    expect(assessTrafficCheck(check, { kind: 'http', answers: three })).toMatchObject({
      result: 'pass',
      reason: '3/4 as expected (status 200, 503)',
    });
    expect(assessTrafficCheck(check, { kind: 'http', answers: two })).toMatchObject({ result: 'fail' });
  });

  it('holds the body to its pattern, and counts a request left without an answer against the version', () => {
    const check = http({ requests: 2, bodyPattern: '"status":"ok"' });

    const wrongBody = assessTrafficCheck(check, {
      kind: 'http',
      answers: [ok, { status: 200, body: 'maintenance' }],
    });
    const oneHung = assessTrafficCheck(check, { kind: 'http', answers: [ok, down] });

    expect(wrongBody).toMatchObject({ result: 'fail', reason: expect.stringContaining('body matching') });
    expect(oneHung).toMatchObject({ result: 'fail', reason: expect.stringContaining('1 without an answer') });
  });

  it('is an error, not a failure, when not one request got an answer', () => {
    expect(assessTrafficCheck(http({ requests: 2 }), { kind: 'http', answers: [down, down] })).toEqual({
      check: 'smoke',
      result: 'error',
      reason: 'no answer from https://web-test.internal/health in 2 request(s): fetch failed (ECONNREFUSED)',
    });
  });
});

describe('a lambda check', () => {
  const judged = (answer: Parameters<typeof assessTrafficCheck>[1]) => assessTrafficCheck(lambda, answer);

  it("passes only on `passed: true`; anything else fails with the function's reason", () => {
    expect(judged({ kind: 'lambda', answer: { returned: '{"passed":true}' } }).result).toBe('pass');
    expect(
      judged({ kind: 'lambda', answer: { returned: '{"passed":false,"reason":"checkout returned 500"}' } }),
    ).toMatchObject({ result: 'fail', reason: 'web-smoke-tests did not pass: checkout returned 500' });
    expect(judged({ kind: 'lambda', answer: { returned: '{"passed":"yes"}' } }).result).toBe('fail');
    expect(judged({ kind: 'lambda', answer: { returned: 'null' } }).result).toBe('fail');
    expect(judged({ kind: 'lambda', answer: { returned: 'not json' } }).result).toBe('fail');
  });

  it('is an error when the function throws or cannot be invoked', () => {
    expect(
      judged({ kind: 'lambda', answer: { threw: 'Unhandled', payload: '{"errorMessage":"boom"}' } }),
    ).toMatchObject({ result: 'error', reason: expect.stringContaining('threw (Unhandled)') });
    expect(
      judged({ kind: 'lambda', answer: { unavailable: 'ResourceNotFoundException: Function not found' } }),
    ).toMatchObject({ result: 'error' });
  });
});

describe('the checks a request may carry', () => {
  const problems = (check: Record<string, unknown>) => {
    const parsed = TrafficCheckSchema.safeParse(check);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
  };

  it.each([
    [{ url: 'ftp://web-test.internal/' }, 'url'],
    [{ url: 'https://user:secret@web-test.internal/' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next' }, 'url'],
    [{ url: 'http://169.254.169.254/latest/meta-data/' }, 'url'],
    [{ url: 'http://localhost:8080/' }, 'url'],
    [{ url: 'http://[::ffff:127.0.0.1]:9001/2018-06-01/runtime/invocation/next' }, 'url'],
    [{ url: 'http://[::ffff:169.254.169.254]/latest/meta-data/' }, 'url'],
    [{ url: 'http://[::1]/' }, 'url'],
    [{ requests: 0 }, 'requests'],
    [{ requests: 101 }, 'requests'],
    [{ minSuccessRatio: 1.5 }, 'minSuccessRatio'],
    [{ timeoutSeconds: 0 }, 'timeoutSeconds'],
    [{ bodyPattern: '(' }, 'bodyPattern'],
    [{ bodyPattern: 'a{1,9}'.repeat(43) }, 'bodyPattern'],
    [{ expectStatus: [700] }, 'expectStatus.0'],
  ])('refuses an http check with %j at %s', (bad, path) => {
    expect(problems({ name: 'smoke', kind: 'http', url: 'https://web-test.internal/', ...bad })).toContain(
      path,
    );
  });

  it.each([['my function'], ['arn:aws:s3:::bucket'], ['x'.repeat(65)]])(
    'refuses a function named %j',
    (fn) => {
      expect(problems({ name: 'suite', kind: 'lambda', function: fn })).toContain('function');
    },
  );

  it('takes a function by name, name:alias or ARN', () => {
    for (const fn of [
      'web-smoke',
      'web-smoke:live',
      'arn:aws:lambda:eu-west-1:111122223333:function:web-smoke',
    ])
      expect(problems({ name: 'suite', kind: 'lambda', function: fn })).toEqual([]);
  });

  it('refuses checks that could not finish within one step of the rollout, and repeated names', () => {
    const slow = [http({ requests: 100, timeoutSeconds: 10 })];
    const spec = (beforeTraffic: unknown[]) =>
      RolloutSpecSchema.safeParse({
        service: 'web',
        route: MESH_ROUTE,
        schedule: { kind: 'canary', weight: 10, bakeSeconds: 60 },
        beforeTraffic,
      });

    expect(checksBudgetProblem(slow)).toMatch(/100 s/);
    expect(spec(slow).error?.issues[0]).toMatchObject({ path: ['beforeTraffic'] });
    expect(spec([http(), http()]).error?.issues[0]?.message).toMatch(/repeated/);
    expect(spec([http(), lambda]).success).toBe(true);
  });
});
