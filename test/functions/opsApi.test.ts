// The ops API as API Gateway invokes it (HTTP API payload 2.0, IAM authorizer), over the twin: each route's
// answer, validated against the schema the OpenAPI document publishes, and every error status it names.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeServiceDeploymentsCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsNativeDeployments } from '#adapters/aws/ecsNativeDeployments';
import { GATE_TAG_KEY } from '#domain/deploymentHook';
import { HookSettingsSchema } from '#events/deploymentHook';
import { openApiDocument } from '#events/openapi';
import { opsRoutes } from '#events/opsApi';
import { createOpsHandler } from '#functions/opsApi';
import { resolveScenarioPath } from '#local/cli/simulate';
import { loadScenario, prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { lambdaContext } from '#local/twin/delivery';
import { recordHookAnswers } from '../support/hookAnswers';
import { opsWorld } from '../support/opsWorld';

const CALLER = 'arn:aws:iam::111122223333:role/deployer';

const WORLD = opsWorld('ops-api');

function anApi() {
  const twin = prepareTwin(structuredClone(WORLD));
  twin.start();
  const rule = twin.traffic.route('web');
  const route = {
    router: 'alb' as const,
    listenerArn: rule.listenerArn!,
    ruleArn: rule.ruleArn,
    stable: twin.world.targetGroup('web-v1').arn,
    canary: twin.world.targetGroup('web-v2').arn,
  };
  const deps = () => ({
    ports: twin.opsPorts,
    settings: {
      routes: [{ name: 'web', route, services: { stable: { cluster: 'prod', service: 'web' } } }],
      clusters: ['prod'],
    },
  });
  const read = createOpsHandler(['read'], deps);
  const write = createOpsHandler(['write'], deps);
  const call = async (method: string, path: string, options: Request = {}) => {
    const handler = method === 'GET' ? read : write;
    // On the twin's clock, as Lambda would run it: the SDK's backoff between attempts takes virtual time.
    const result = (await twin.settle(() =>
      handler(apiEvent(method, path, options), lambdaContext('ops')),
    )) as APIGatewayProxyStructuredResultV2;
    return {
      status: result.statusCode!,
      headers: result.headers ?? {},
      body: JSON.parse(result.body ?? 'null'),
    };
  };
  return { twin, route, call, read, write };
}

interface Request {
  body?: unknown;
  rawBody?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Send no content-type header at all. */
  noContentType?: boolean;
  caller?: string | null;
}

/** An HTTP API (payload format 2.0) event as API Gateway sends it after IAM authorization. */
function apiEvent(method: string, path: string, options: Request): APIGatewayProxyEventV2WithIAMAuthorizer {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const caller = options.caller === undefined ? CALLER : options.caller;
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    queryStringParameters: options.query,
    headers: options.noContentType ? {} : { 'content-type': 'application/json', ...options.headers },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'ecs-reflex-cli' },
      requestId: 'req-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '01/Dec/2026:10:00:00 +0000',
      timeEpoch: 1796119200000,
      authorizer: {
        iam: caller
          ? {
              accessKey: 'ASIAEXAMPLE',
              accountId: '111122223333',
              callerId: 'AROAEXAMPLE:deployer',
              cognitoIdentity: null as never,
              principalOrgId: 'o-example',
              userArn: caller,
              userId: 'AROAEXAMPLE:deployer',
            }
          : (undefined as never),
      },
    },
  } as APIGatewayProxyEventV2WithIAMAuthorizer;
}

const routeOf = (operationId: string) => opsRoutes.find((r) => r.operationId === operationId)!;

/** The answer as the OpenAPI document promises it: the route's response schema accepts the body. */
function expectDocumented(operationId: string, answer: { status: number; body: unknown }) {
  const route = routeOf(operationId);
  expect(answer.status).toBe(route.status);
  const parsed = route.response.safeParse(answer.body);
  expect(parsed.error?.issues).toBeUndefined();
}

const request = (api: ReturnType<typeof anApi>, overrides: Record<string, unknown> = {}) => ({
  rollout: {
    service: 'web',
    route: api.route,
    schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 180 },
    ...overrides,
  },
});

describe('the OpenAPI document', () => {
  it('is served at /openapi.json and is the one checked in (npm run openapi rewrites it)', async () => {
    const { call } = anApi();
    const answer = await call('GET', '/openapi.json');
    const checkedIn = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(checkedIn);
    expect(checkedIn).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('documents every route with SigV4 security and every error status the route can answer', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { security: unknown; responses: object }>>;
    };
    for (const route of opsRoutes) {
      const operation = doc.paths[route.path]![route.method.toLowerCase()]!;
      expect(operation.security).toEqual([{ sigv4: [] }]);
      expect(Object.keys(operation.responses)).toEqual(
        expect.arrayContaining([
          String(route.status),
          '400',
          '403',
          '413',
          '429',
          '500',
          ...route.errors.map(String),
        ]),
      );
    }
  });
});

describe('auth', () => {
  it('refuses a request without an IAM identity, on every route, with a problem document', async () => {
    const { call } = anApi();
    for (const route of opsRoutes) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      const answer = await call(route.method, path, { caller: null, body: {} });
      expect([answer.status, answer.headers['content-type']]).toEqual([403, 'application/problem+json']);
    }
  });
});

describe('rollouts', () => {
  it('starts a rollout (202), shows it running with its weights and history, and audits the caller', async () => {
    // Prepare
    const api = anApi();

    // Act
    const started = await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(120);
    const shown = await api.call('GET', '/rollouts/web-42');
    const listed = await api.call('GET', '/rollouts');

    // Assess
    expectDocumented('startRollout', started);
    expect(started.body).toMatchObject({ status: 'started', name: 'web-42', dryRun: false });
    expectDocumented('getRollout', shown);
    expect(shown.body).toMatchObject({
      name: 'web-42',
      status: 'RUNNING',
      service: 'web',
      weights: { canary: 10 },
    });
    expect(shown.body.history.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['start-rollout', 'shift-traffic']),
    );
    expectDocumented('listRollouts', listed);
    expect(listed.body.rollouts.map((r: { name: string }) => r.name)).toEqual(['web-42']);
    expect(api.twin.journal.find((e) => e.reflex === 'ops-api')).toMatchObject({
      action: 'startRollout',
      reason: expect.stringContaining(CALLER),
      detail: { caller: CALLER },
    });
  });

  it('refuses a second rollout on a route a running one owns (409), starting nothing', async () => {
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(60);
    const second = await api.call('POST', '/rollouts', { body: { name: 'web-43', ...request(api) } });
    expect(second.status).toBe(409);
    expect(second.body.detail).toMatch(/web-42 owns route/);
    expect(api.twin.rolloutRun('web-43')).toBeUndefined();
  });

  it.each([
    [
      'a route the API is not configured with',
      (api: ReturnType<typeof anApi>) => ({
        route: { ...api.route, canary: api.route.stable.replace('web-v1', 'payments') },
      }),
      'body.rollout.route',
    ],
    [
      'a stable service other than the route declares',
      () => ({ promote: { scaleDownStable: { cluster: 'prod', service: 'payments' } } }),
      'body.rollout.promote.scaleDownStable',
    ],
    [
      'the stable service as the canary to scale down',
      () => ({ rollback: { scaleDownCanary: { cluster: 'prod', service: 'web' } } }),
      'body.rollout.rollback.scaleDownCanary',
    ],
    [
      'a test before traffic invoking a function the stack may not',
      () => ({ beforeTraffic: [{ name: 'suite', kind: 'lambda', function: 'payments-admin' }] }),
      'body.rollout.beforeTraffic.0.function',
    ],
  ])(
    'answers 403 for %s, naming the field, before any AWS call but its Idempotency-Key record, and starting nothing',
    async (_what, change, field) => {
      // Prepare
      const api = anApi();
      const calls = api.twin.world.apiCalls.length;

      // Act
      const answer = await api.call('POST', '/rollouts', {
        body: { name: 'web-66', ...request(api, change(api)) },
        headers: { 'idempotency-key': 'start-66' },
      });

      // Assess
      expect(answer.status).toBe(403);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ title: 'Forbidden', errors: [expect.objectContaining({ field })] });
      // The Idempotency-Key is claimed in DynamoDB first and completed with the answer (PutItem, UpdateItem).
      expect(
        api.twin.world.apiCalls.slice(calls).filter((c) => !c.target.startsWith('ops-idempotency ')),
      ).toEqual([]);
      expect(api.twin.rolloutRun('web-66')).toBeUndefined();
    },
  );

  it('answers 409, starting nothing, for a route whose service CodeDeploy deploys', async () => {
    // Prepare
    const api = anApi();
    api.twin.world.service('prod', 'web')!.deploymentController = 'CODE_DEPLOY';

    // Act
    const answer = await api.call('POST', '/rollouts', { body: { name: 'web-67', ...request(api) } });

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toMatch(/prod\/web is deployed by the CODE_DEPLOY deployment controller/);
    expect(api.twin.world.apiCalls.filter((c) => c.write)).toEqual([]);
    expect(api.twin.rolloutRun('web-67')).toBeUndefined();
  });

  it('answers 400 with the fields at fault for an invalid request, before any AWS call', async () => {
    const api = anApi();
    const calls = api.twin.world.apiCalls.length;
    const answer = await api.call('POST', '/rollouts', {
      body: request(api, { schedule: { kind: 'canary', weight: 150, bakeSeconds: 300 } }),
    });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'body.rollout.schedule.weight' })]),
    );
    expect(api.twin.world.apiCalls.length).toBe(calls);
  });

  it.each([
    [
      'a number too big',
      { schedule: { kind: 'weights', weights: [10, 150], bakeSeconds: 60 } },
      'body.rollout.schedule.weights.1',
      'must be at most 100',
    ],
    [
      'an unknown schedule kind',
      { schedule: { kind: 'blue-green' } },
      'body.rollout.schedule.kind',
      'must be one of "canary", "linear", "weights"',
    ],
    ['a missing field', { service: undefined }, 'body.rollout.service', 'is required'],
    [
      'a fraction where a whole number belongs',
      { schedule: { kind: 'weights', weights: [10.5, 50], bakeSeconds: 60 } },
      'body.rollout.schedule.weights.0',
      'must be a whole number',
    ],
    ['a field of the wrong type', { service: 7 }, 'body.rollout.service', 'must be a string, not a number'],
    [
      'a test before traffic on a URL that is not http(s)',
      { beforeTraffic: [{ name: 'smoke', kind: 'http', url: 'file:///etc/passwd' }] },
      'body.rollout.beforeTraffic.0.url',
      'an http:// or https:// URL, without credentials',
    ],
    [
      'a test before traffic with too many requests',
      { beforeTraffic: [{ name: 'smoke', kind: 'http', url: 'https://web-test.internal/', requests: 500 }] },
      'body.rollout.beforeTraffic.0.requests',
      'must be at most 100',
    ],
    [
      'an unknown field',
      { guardAlarm: ['web-5xx'] },
      'body.rollout',
      'unknown field "guardAlarm" (did you mean "guardAlarms"?); valid: service, route, schedule, gates, analysis, beforeTraffic, guardAlarms, onManualChange, promote, rollback',
    ],
  ])('says what is wrong in words for %s', async (_, change, field, message) => {
    // Act
    const api = anApi();
    const answer = await api.call('POST', '/rollouts', { body: request(api, change) });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual({ field, message });
  });

  it('answers 400 for a body that is not JSON, and 413 for one larger than 64 KiB', async () => {
    const api = anApi();
    const broken = await api.call('POST', '/rollouts', { rawBody: '{"rollout": ' });
    const huge = await api.call('POST', '/rollouts', {
      rawBody: JSON.stringify({ pad: 'x'.repeat(70_000) }),
    });
    expect([broken.status, broken.body.errors[0].field]).toEqual([400, 'body']);
    expect(huge.status).toBe(413);
  });

  it.each([
    ['text/plain', 'text/plain;charset=UTF-8'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['JSON in another charset', 'application/json; charset=latin1'],
    ['no content-type', undefined],
  ])('refuses a write whose body is %s with 415, writing nothing', async (_, contentType) => {
    // Prepare
    const api = anApi();
    const calls = api.twin.world.apiCalls.length;
    const journalled = api.twin.journal.length;
    const headers: Record<string, string> = { 'content-type': contentType ?? '' };

    // Act: a valid rollout request, in every way but its media type
    const answer = await api.call('POST', '/rollouts', {
      rawBody: JSON.stringify(request(api)),
      headers: contentType === undefined ? {} : headers,
      ...(contentType === undefined ? { noContentType: true } : {}),
    });

    // Assess
    expect(answer.status).toBe(415);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toMatchObject({
      title: 'Unsupported Media Type',
      status: 415,
      errors: [{ field: 'content-type', message: expect.stringContaining('application/json') }],
    });
    expect(api.twin.world.apiCalls.length).toBe(calls);
    expect(api.twin.journal.length).toBe(journalled);
  });

  it('takes application/json with a utf-8 charset, and a write without a body and without a type', async () => {
    // Prepare
    const api = anApi();

    // Act
    const started = await api.call('POST', '/rollouts', {
      body: { name: 'web-42', ...request(api) },
      headers: { 'content-type': 'Application/JSON; charset="UTF-8"' },
    });
    await api.twin.runFor(60);
    const paused = await api.call('POST', '/rollouts/web-42/pause', { noContentType: true });

    // Assess
    expect(started.status).toBe(202);
    expect(paused.status).toBe(202);
  });

  it.each([
    ['a gate', { gates: [0, 0] }, 'body.rollout.gates.1', 'gate 0 is repeated (first at 0)'],
    [
      'a weight',
      { schedule: { kind: 'weights', weights: [10, 10, 50], bakeSeconds: 180 } },
      'body.rollout.schedule.weights.1',
      'weight 10 is repeated (first at 0)',
    ],
    [
      'a guard alarm',
      { guardAlarms: ['web-5xx', 'web-latency', 'web-5xx'] },
      'body.rollout.guardAlarms.2',
      'guard alarm "web-5xx" is repeated (first at 0)',
    ],
    [
      'a check name',
      {
        analysis: {
          checks: [
            { name: 'alarm', kind: 'alarm', alarmName: 'a' },
            { name: 'alarm', kind: 'alarm', alarmName: 'b' },
          ],
        },
      },
      'body.rollout.analysis.checks.1',
      'check name "alarm" is repeated (first at 0)',
    ],
  ])(
    'refuses a rollout that repeats %s with 422, naming both places, starting nothing',
    async (_, change, field, message) => {
      // Prepare
      const api = anApi();
      const calls = api.twin.world.apiCalls.length;

      // Act
      const answer = await api.call('POST', '/rollouts', { body: request(api, change) });

      // Assess
      expect(answer.status).toBe(422);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.body.errors).toEqual([{ field, message }]);
      expect(api.twin.world.apiCalls.length).toBe(calls);
    },
  );

  it.each([
    ['gates', { gates: Array.from({ length: 101 }, (_, i) => i) }, 'body.rollout.gates'],
    [
      'guard alarms',
      { guardAlarms: Array.from({ length: 21 }, (_, i) => `a${i}`) },
      'body.rollout.guardAlarms',
    ],
    [
      'weights',
      {
        schedule: { kind: 'weights', weights: Array.from({ length: 101 }, (_, i) => i + 1), bakeSeconds: 60 },
      },
      'body.rollout.schedule.weights',
    ],
  ])('refuses more %s than documented with 400', async (_, change, field) => {
    // Act
    const api = anApi();
    const answer = await api.call('POST', '/rollouts', { body: request(api, change) });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('documents the bound of every list a request can carry, and that its items are distinct', () => {
    // Prepare: every array schema in the request bodies of the OpenAPI document
    const arrays: { path: string; schema: { maxItems?: number; uniqueItems?: boolean } }[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as { type?: string; maxItems?: number; uniqueItems?: boolean };
      if (schema.type === 'array') arrays.push({ path, schema });
      for (const [key, child] of Object.entries(node)) walk(child, `${path}/${key}`);
    };
    const doc = openApiDocument() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const [path, operations] of Object.entries(doc.paths))
      for (const [method, operation] of Object.entries(operations))
        walk(operation.requestBody, `${method} ${path}`);

    // Assess
    expect(arrays.length).toBeGreaterThanOrEqual(4);
    for (const { path, schema } of arrays) {
      expect([path, schema.maxItems]).toEqual([path, expect.any(Number)]);
      expect([path, schema.uniqueItems]).toEqual([path, true]);
    }
  });

  it('aborts a running rollout (all traffic back on stable), then refuses to abort it again (409)', async () => {
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(120);
    const aborted = await api.call('POST', '/rollouts/web-42/abort', { body: { reason: 'pager went off' } });
    await api.twin.runFor(5);
    const again = await api.call('POST', '/rollouts/web-42/abort', {});
    expectDocumented('abortRollout', aborted);
    expect(api.twin.traffic.weightsNow('web')).toEqual(expect.objectContaining({ 'web-v2': 0 }));
    expect(again.status).toBe(409);
  });

  it('pauses a rollout at its next step, resumes it, then promotes it early', async () => {
    // Prepare
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(60);

    // Act
    const paused = await api.call('POST', '/rollouts/web-42/pause', { body: { reason: 'lunch' } });
    await api.twin.runFor(600);
    const whilePaused = await api.call('GET', '/rollouts/web-42');
    const resumed = await api.call('POST', '/rollouts/web-42/resume', {});
    await api.twin.runFor(5);
    const promoted = await api.call('POST', '/rollouts/web-42/promote', {});
    await api.twin.runFor(600);

    // Assess
    expectDocumented('pauseRollout', paused);
    expect(paused.body.status).toBe('pause-requested');
    expect(whilePaused.body).toMatchObject({ status: 'RUNNING', next: 'gate', weights: { canary: 10 } });
    expect(whilePaused.body.gate).toMatchObject({
      since: expect.any(String),
      secondsLeft: expect.any(Number),
    });
    expectDocumented('resumeRollout', resumed);
    expect(resumed.body.status).toBe('resumed');
    expectDocumented('promoteRollout', promoted);
    expect(api.twin.rolloutRun('web-42')?.status).toBe('SUCCEEDED');
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(100);
  });

  it('numbers the step a rollout is at one way: 1-based, the gate waiting after that same step', async () => {
    // Prepare
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api, { gates: [0] }) } });

    // Act: shifted to the first step, waiting at the gate after it, on the second step, promoted
    await api.twin.runFor(60);
    const baking = await api.call('GET', '/rollouts/web-42');
    await api.twin.runFor(600);
    const atGate = await api.call('GET', '/rollouts/web-42');
    await api.call('POST', '/rollouts/web-42/resume', {});
    await api.twin.runFor(60);
    const second = await api.call('GET', '/rollouts/web-42');
    await api.twin.runFor(1200);
    const ended = await api.call('GET', '/rollouts/web-42');

    // Assess
    expect(baking.body).toMatchObject({ step: 1, steps: 2, next: 'bake', weights: { canary: 10 } });
    expectDocumented('getRollout', atGate);
    expect(atGate.body).toMatchObject({ step: 1, steps: 2, next: 'gate', weights: { canary: 10 } });
    expect(atGate.body.gate).toMatchObject({ afterStep: 1, reason: 'manual gate after step 1' });
    expect(second.body).toMatchObject({ step: 2, steps: 2, weights: { canary: 50 } });
    expect(second.body.gate).toBeUndefined();
    expect(ended.body).toMatchObject({ status: 'SUCCEEDED', step: 2, steps: 2 });
  });

  it('answers 404 for a rollout, a route and a path it does not know', async () => {
    const api = anApi();
    expect((await api.call('GET', '/rollouts/nope')).status).toBe(404);
    expect((await api.call('GET', '/routes/api')).status).toBe(404);
    expect((await api.call('GET', '/nothing/here')).status).toBe(404);
    expect((await api.call('POST', '/rollouts/nope/resume', {})).status).toBe(404);
  });

  it('serves each route from its own function only: the read function has no write routes', async () => {
    const api = anApi();
    const viaRead = (await api.read(
      apiEvent('POST', '/rollouts', { body: request(api) }),
      lambdaContext('r'),
    )) as {
      statusCode: number;
    };
    expect(viaRead.statusCode).toBe(404);
  });
});

describe('idempotent writes', () => {
  it('answers a retry with the same key and request with the first answer, starting one rollout', async () => {
    const api = anApi();
    const headers = { 'idempotency-key': 'deploy-7781' };
    const first = await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) }, headers });
    const retry = await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) }, headers });
    expect(retry).toEqual({ ...first, headers: { ...first.headers, 'idempotent-replayed': 'true' } });
    expect(api.twin.world.apiCalls.filter((c) => c.api === 'StartExecution')).toHaveLength(1);
  });

  it('refuses the same key for a different request (422)', async () => {
    const api = anApi();
    const headers = { 'idempotency-key': 'deploy-7781' };
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) }, headers });
    const other = await api.call('POST', '/rollouts', { body: { name: 'web-99', ...request(api) }, headers });
    expect(other.status).toBe(422);
  });
});

describe('review findings', () => {
  it('refuses a misspelt dryRun (400) instead of writing for real', async () => {
    const api = anApi();
    const answer = await api.call('PUT', '/routes/web/weights', { body: { canary: 100, dryrun: true } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ field: 'body' })]);
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(0);
  });

  it('keeps the answer of a write whose answer could not be stored: a retry does not write twice', async () => {
    // Prepare: the store fails to keep the first answer (DynamoDB throttled after the write)
    const api = anApi();
    const { complete } = api.twin.opsPorts.idempotency;
    api.twin.opsPorts.idempotency.complete = async () => Promise.reject(new Error('ThrottlingException'));
    const headers = { 'idempotency-key': 'set-1' };

    // Act
    const first = await api.call('PUT', '/routes/web/weights', { body: { canary: 20 }, headers });
    api.twin.opsPorts.idempotency.complete = complete;
    const retry = await api.call('PUT', '/routes/web/weights', { body: { canary: 20 }, headers });

    // Assess: the write answered, and the retry found the key still held instead of writing again
    expect(first.status).toBe(200);
    expect(retry.status).toBe(409);
    expect(api.twin.traffic.writesTo('web').filter((w) => w.by === 'reflex')).toHaveLength(1);
  });

  it('lets a retry take over a key whose first request died mid-way, once its lease ran out', async () => {
    // Prepare: the first request claimed the key and died (a timeout) before it answered
    const api = anApi();
    const body = JSON.stringify({ name: 'web-42', ...request(api) });
    const hash = createHash('sha256').update(`POST /rollouts\n${body}`).digest('hex');
    await api.twin.opsPorts.idempotency.claim(`${CALLER}|deploy-9`, hash);
    const retry = () =>
      api.call('POST', '/rollouts', { rawBody: body, headers: { 'idempotency-key': 'deploy-9' } });

    // Act
    const tooSoon = await retry();
    await api.twin.runFor(61);
    const later = await retry();

    // Assess
    expect([tooSoon.status, tooSoon.headers['retry-after']]).toEqual([409, '5']);
    expect(later.status).toBe(202);
    expect(api.twin.rolloutRun('web-42')).toBeDefined();
  });

  it('replays a stored refusal as a problem document', async () => {
    const api = anApi();
    const headers = { 'idempotency-key': 'abort-1' };
    await api.call('POST', '/rollouts/nope/abort', { body: {}, headers });
    const replay = await api.call('POST', '/rollouts/nope/abort', { body: {}, headers });
    expect([replay.status, replay.headers['content-type'], replay.headers['idempotent-replayed']]).toEqual([
      404,
      'application/problem+json',
      'true',
    ]);
  });

  it('answers 400, not 500, for a path with a malformed escape', async () => {
    const api = anApi();
    expect((await api.call('GET', '/routes/50%')).status).toBe(400);
  });
});

describe('routes', () => {
  it('shows a route, refuses a hand edit while a rollout owns it (409), and takes it when forced', async () => {
    // Prepare
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(60);

    // Act
    const shown = await api.call('GET', '/routes/web');
    const refused = await api.call('PUT', '/routes/web/weights', { body: { canary: 0 } });
    const forced = await api.call('PUT', '/routes/web/weights', {
      body: { canary: 0, force: true, reason: 'incident' },
    });

    // Assess
    expectDocumented('getRoute', shown);
    expect(shown.body).toMatchObject({ name: 'web', owner: 'web-42', weights: { canary: 10 } });
    expect(refused.status).toBe(409);
    expectDocumented('setRouteWeights', forced);
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(0);
    expect(api.twin.journal.filter((e) => e.action === 'setRouteWeights')).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(/deployer.*over rollout web-42 \(incident\)/),
      }),
    ]);
  });

  it('takes a route an aborted run still marks: the mark names no execution to ask Step Functions about', async () => {
    // Prepare: the rollout was aborted; until the safety net releases the route, its owner is the mark
    const api = anApi();
    await api.twin.opsPorts.rollouts.routers.alb.setOwner(api.route, 'aborted:web-41');
    const calls = api.twin.world.apiCalls.length;

    // Act
    const set = await api.call('PUT', '/routes/web/weights', { body: { canary: 20 } });
    const started = await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(60);
    const shown = await api.call('GET', '/routes/web');

    // Assess: the rollout's own first step took the route over the mark as well
    expect([set.status, started.status]).toEqual([200, 202]);
    expect(shown.body).toMatchObject({ owner: 'web-42', weights: { canary: 10 } });
    expect(set.body.detail).not.toMatch(/over rollout/);
    expect(api.twin.world.apiCalls.slice(calls).filter((c) => c.target.includes('aborted:'))).toEqual([]);
  });

  it('refuses out-of-range weights (400) and does nothing on a dry run', async () => {
    const api = anApi();
    const bad = await api.call('PUT', '/routes/web/weights', { body: { canary: 101 } });
    const dry = await api.call('PUT', '/routes/web/weights', { body: { canary: 50, dryRun: true } });
    expect(bad.status).toBe(400);
    expect(dry.body).toMatchObject({ status: 'dry-run', dryRun: true });
    expect(api.twin.traffic.weightsNow('web')['web-v2']).toBe(0);
  });
});

describe('services, target groups and instances', () => {
  it('shows a service and its target group, and lists the cluster', async () => {
    const api = anApi();
    await api.twin.runFor(120);
    const service = await api.call('GET', '/services/prod/web');
    const clusters = await api.call('GET', '/clusters');
    const routes = await api.call('GET', '/routes');
    const instances = await api.call('GET', '/instances/prod');
    const listed = await api.call('GET', '/services/prod');
    const health = await api.call('GET', '/target-groups', { query: { arn: api.route.stable } });
    expectDocumented('getService', service);
    expect(service.body).toMatchObject({
      name: 'web',
      desired: 2,
      running: 2,
      taskHealth: { healthy: 2, unhealthy: 0, other: 0 },
    });
    expectDocumented('listClusters', clusters);
    expectDocumented('listRoutes', routes);
    expect(routes.body.routes).toEqual([
      expect.objectContaining({ name: 'web', weights: { stable: 100, canary: 0 } }),
    ]);
    expectDocumented('listInstances', instances);
    expect(instances.body.instances).toEqual([
      expect.objectContaining({ status: 'ACTIVE', agentConnected: true }),
      expect.objectContaining({ status: 'ACTIVE', agentConnected: true }),
    ]);
    expect(instances.body.instances.map((i: { runningTasks: number }) => i.runningTasks)).toEqual([1, 1]);
    expect(clusters.body.clusters).toEqual(['prod']);
    expectDocumented('listServices', listed);
    expect(listed.body.services).toEqual(['web']);
    expectDocumented('getTargetHealth', health);
    expect(health.body.targets).toHaveLength(2);
    expect((await api.call('GET', '/services/staging/web')).status).toBe(404);
  });

  it('recycles a service (a rolling deployment), and refuses while one is in flight (409)', async () => {
    const api = anApi();
    await api.twin.runFor(300);
    const recycled = await api.call('POST', '/services/prod/web/recycle', { body: {} });
    const again = await api.call('POST', '/services/prod/web/recycle', { body: {} });
    expectDocumented('recycleService', recycled);
    expect(again.status).toBe(409);
    expect(api.twin.world.apiCalls.filter((c) => c.api === 'UpdateService' && c.write)).toHaveLength(1);
  });

  it('recycles once when UpdateService took effect and its answer was lost: one new deployment, not one per retry', async () => {
    const api = anApi();
    await api.twin.runFor(300);
    const before = api.twin.world.service('prod', 'web')!.deployments.map((d) => d.id);
    const now = api.twin.scheduler.now();
    api.twin.faults.add({
      api: 'UpdateService',
      from: now,
      until: new Date(now.getTime() + 3_600_000),
      rate: 1,
      error: 'TimeoutError',
      applied: true,
    });

    const recycled = await api.call('POST', '/services/prod/web/recycle', { body: {} });

    expectDocumented('recycleService', recycled);
    const deployments = api.twin.world.service('prod', 'web')!.deployments;
    expect(deployments.filter((d) => !before.includes(d.id))).toHaveLength(1);
    const updates = api.twin.world.apiCalls.filter((c) => c.api === 'UpdateService' && c.write);
    expect(updates.map((c) => c.answered)).toEqual(['TimeoutError']);
  });

  it('drains a container instance, and answers 404 for one the cluster does not have', async () => {
    const api = anApi();
    await api.twin.runFor(60);
    const instance = [...api.twin.world.instances.values()][0]!;
    const drained = await api.call('POST', `/instances/${instance.instanceId}/drain`, {
      body: { cluster: 'prod' },
    });
    const missing = await api.call('POST', '/instances/i-0000000000000dead/drain', {
      body: { cluster: 'prod' },
    });
    expectDocumented('drainInstance', drained);
    expect(missing.status).toBe(404);
  });

  it('lists the recent actions of every reflex, most recent first', async () => {
    const api = anApi();
    await api.call('POST', '/rollouts', { body: { name: 'web-42', ...request(api) } });
    await api.twin.runFor(60);
    const actions = await api.call('GET', '/actions', { query: { limit: '3' } });
    expectDocumented('listActions', actions);
    expect(actions.body.actions.length).toBeGreaterThan(0);
    const times = actions.body.actions.map((a: { at: string }) => a.at);
    expect([...times].sort().reverse()).toEqual(times);
  });
});

describe('reflexes', () => {
  /** reflexes-at-work ten minutes in: each reflex holds something, none has let go of it yet. */
  async function reflexesTenMinutesIn() {
    const scenario = loadScenario(resolveScenarioPath('reflexes-at-work'));
    const twin = prepareTwin(scenario);
    scheduleTimeline(twin, scenario);
    twin.start();
    await twin.runFor(600);
    const read = createOpsHandler(['read'], () => ({
      ports: twin.opsPorts,
      settings: { routes: [], clusters: ['prod'], reflexes: twin.reflexSettings },
    }));
    const result = (await twin.settle(() =>
      read(apiEvent('GET', '/reflexes', {}), lambdaContext('ops')),
    )) as APIGatewayProxyStructuredResultV2;
    return { twin, answer: { status: result.statusCode!, body: JSON.parse(result.body ?? 'null') } };
  }
  const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

  it("shows the alarm reactor's change in place, the recycler's give-up and mark, the held launches and the dead letters", async () => {
    // Prepare, act
    const { twin, answer } = await reflexesTenMinutesIn();
    const now = twin.scheduler.now().toISOString();
    const { alarmReactor, taskRecycler, instanceLifecycle, deadLetters } = answer.body;

    // Assess: as documented, and as each reflex holds it in the twin
    expectDocumented('getReflexes', answer);
    expect([alarmReactor.dryRun, taskRecycler.dryRun, instanceLifecycle.dryRun]).toEqual([
      false,
      false,
      false,
    ]);
    // The surge alarm's capacity: 2 -> 4 on the group, back when the alarm is OK or an hour after.
    expect(alarmReactor.changes).toEqual([
      expect.objectContaining({
        reaction: 'surge-capacity',
        target: 'asg/prod-asg',
        knob: 'asg/prod-asg desired',
        alarm: 'prod-web-requests-high',
        from: '2',
        to: '4',
        reverts: 'when the alarm is OK, or at its expiry',
      }),
    ]);
    const [change] = alarmReactor.changes;
    expect(twin.scaling.groups.get('prod-asg')?.desired).toBe(4);
    expect(seconds(change.since, change.revertsAt)).toBe(3600);
    expect(change.secondsLeft).toBe(Math.round(seconds(now, change.revertsAt)));
    // The report task, restarted twice, then given up on.
    expect(taskRecycler.gaveUp).toEqual([
      expect.objectContaining({ cluster: 'prod', reason: expect.stringMatching(/^2 restarts in a row/) }),
    ]);
    // One edge-api task marked in its grace (30 min): stopped no earlier than its end.
    expect(taskRecycler.unhealthy).toEqual([
      expect.objectContaining({
        cluster: 'prod',
        group: 'family:edge-api',
        taskArn: expect.stringMatching(/^arn:aws:ecs:/),
      }),
    ]);
    const [mark] = taskRecycler.unhealthy;
    expect(seconds(mark.since, mark.stopsAt)).toBe(1800);
    expect(mark.secondsLeft).toBe(Math.round(seconds(now, mark.stopsAt)));
    // The two instances the surge launched, held at their hook for an agent that never connects: each
    // expires a heartbeat timeout after its last heartbeat.
    expect(instanceLifecycle.actions).toHaveLength(2);
    for (const action of instanceLifecycle.actions) {
      expect(action).toMatchObject({
        transition: 'launch',
        group: 'prod-asg',
        hook: 'ecs-reflex-launch',
        cluster: 'prod',
        heartbeatTimeoutSeconds: 300,
        defaultResult: 'ABANDON',
      });
      expect(seconds(action.lastHeartbeatAt, action.expiresAt)).toBe(300);
      expect(action.secondsLeft).toBe(Math.round(seconds(now, action.expiresAt)));
    }
    expect(instanceLifecycle.actions.map((a: { instanceId: string }) => a.instanceId).sort()).toEqual(
      [...twin.scaling.groups.get('prod-asg')!.pending].sort(),
    );
    // Every dead-letter queue of the stack, in serverless.yml's order: the malformed event, parked by the
    // recycler; the other queues are empty.
    expect(deadLetters.map((q: { queue: string; messages: number }) => [q.queue, q.messages])).toEqual([
      ['task-recycler-dlq', 1],
      ['task-recycler-rule-dlq', 0],
      ['task-recycler-groups-dlq.fifo', 0],
      ['alarm-reactor-dlq', 0],
      ['alarm-reactor-rule-dlq', 0],
      ['lifecycle-dlq', 0],
      ['lifecycle-rule-dlq', 0],
      ['rollout-dlq', 0],
      ['rollout-rule-dlq', 0],
    ]);
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After when AWS keeps throttling past the retries', async () => {
    const api = anApi();
    const now = api.twin.scheduler.now();
    api.twin.faults.add({
      api: 'DescribeRules',
      rate: 1,
      error: 'ThrottlingException',
      from: now,
      until: new Date(now.getTime() + 3600_000),
    });
    const answer = await api.call('GET', '/routes/web');
    expect([answer.status, answer.headers['retry-after']]).toEqual([429, '5']);
  });
});

describe("ops API: the deployment hook's gate", () => {
  const DEPLOYMENT_ID = 'Qm3vT8xZpL2rWc9NhY4Ke';
  const gated = HookSettingsSchema.parse({
    gates: [{ stage: 'POST_TEST_TRAFFIC_SHIFT', timeoutSeconds: 600 }],
  });

  /**
   * The twin's ECS does not model native deployments yet: DescribeServiceDeployments answers from a
   * captured shape, for the twin's own service; everything else (the service, its tags) is the twin's.
   */
  async function aGateApi(deployment: { status?: string; lifecycleStage?: string } = {}) {
    const twin = prepareTwin(structuredClone(WORLD));
    twin.start();
    const service = (await twin.settle(() => twin.opsPorts.services.describeService('prod', 'web')))!;
    const ecs = new ECSClient({ region: 'eu-west-1' });
    const arn = `${service.serviceArn.replace(':service/', ':service-deployment/')}/${DEPLOYMENT_ID}`;
    mockClient(ecs)
      .on(DescribeServiceDeploymentsCommand)
      .callsFake((input) =>
        input.serviceDeploymentArns?.[0] === arn
          ? {
              serviceDeployments: [
                {
                  serviceDeploymentArn: arn,
                  serviceArn: service.serviceArn,
                  clusterArn: service.clusterArn,
                  status: deployment.status ?? 'IN_PROGRESS',
                  lifecycleStage: deployment.lifecycleStage ?? 'POST_TEST_TRAFFIC_SHIFT',
                  targetServiceRevision: {
                    arn: `${service.serviceArn.replace(':service/', ':service-revision/')}/2`,
                  },
                  sourceServiceRevisions: [],
                },
              ],
              failures: [],
            }
          : {
              serviceDeployments: [],
              failures: [{ arn: input.serviceDeploymentArns?.[0], reason: 'MISSING' }],
            },
      );
    const deps = () => ({
      ports: { ...twin.opsPorts, nativeDeployments: new EcsNativeDeployments(ecs) },
      settings: {
        routes: [],
        clusters: ['prod'],
        hookServices: [{ cluster: 'prod', service: 'web', settings: gated }],
      },
    });
    const write = createOpsHandler(['write'], deps);
    const send = async (path: string, body: unknown = {}, caller = CALLER) => {
      const result = (await write(
        apiEvent('POST', path, { body, caller }),
        lambdaContext('ops'),
      )) as APIGatewayProxyStructuredResultV2;
      return { status: result.statusCode!, body: JSON.parse(result.body ?? 'null') };
    };
    const call = (...request: Parameters<typeof send>) => twin.settle(() => send(...request));
    /** Requests in flight together: each one's AWS calls interleave with the others'. */
    const together = (first: Parameters<typeof send>, second: Parameters<typeof send>) =>
      twin.settle(() => Promise.all([send(...first), send(...second)]));
    const gateTag = async () =>
      (await twin.settle(() => twin.opsPorts.services.describeService('prod', 'web')))!.tags[GATE_TAG_KEY];
    return { call, together, gateTag };
  }

  it('records a resume as the tag the hook reads; the same answer again is a retry, another one a conflict', async () => {
    const api = await aGateApi();

    const resumed = await api.call(`/deployments/prod/web/${DEPLOYMENT_ID}/resume`, {
      reason: 'smoke tests green',
    });
    const again = await api.call(
      `/deployments/prod/web/${DEPLOYMENT_ID}/resume`,
      {},
      'arn:aws:iam::111122223333:user/bob',
    );
    const abort = await api.call(`/deployments/prod/web/${DEPLOYMENT_ID}/abort`);

    expectDocumented('resumeDeploymentGate', resumed);
    expect(await api.gateTag()).toBe(`${DEPLOYMENT_ID} POST_TEST_TRAFFIC_SHIFT resume ${CALLER}`);
    expect([again.status, again.body.detail]).toEqual([202, `already resumed by ${CALLER}`]);
    expect(abort.status).toBe(409);
  });

  it('lets the first of two answers given at the same moment stand, and tells the other who answered', async () => {
    const api = await aGateApi();
    const bob = 'arn:aws:iam::111122223333:user/bob';

    const [resumed, aborted] = await api.together(
      [`/deployments/prod/web/${DEPLOYMENT_ID}/resume`],
      [`/deployments/prod/web/${DEPLOYMENT_ID}/abort`, {}, bob],
    );
    const [first, second] = resumed.status === 202 ? [resumed, aborted] : [aborted, resumed];
    const recorded = first === resumed ? `resume ${CALLER}` : `abort ${bob}`;

    expect([first.status, second.status]).toEqual([202, 409]);
    expect(second.body.detail).toBe(
      `the gate at POST_TEST_TRAFFIC_SHIFT was answered ${recorded.replace(' ', ' by ')}`,
    );
    expect(await api.gateTag()).toBe(`${DEPLOYMENT_ID} POST_TEST_TRAFFIC_SHIFT ${recorded}`);
  });

  it('answers two identical answers given at the same moment alike, recording the first', async () => {
    const api = await aGateApi();

    const both = await api.together(
      [`/deployments/prod/web/${DEPLOYMENT_ID}/resume`],
      [`/deployments/prod/web/${DEPLOYMENT_ID}/resume`, {}, 'arn:aws:iam::111122223333:user/bob'],
    );

    expect(both.map((b) => b.status)).toEqual([202, 202]);
    expect(await api.gateTag()).toMatch(new RegExp(`^${DEPLOYMENT_ID} POST_TEST_TRAFFIC_SHIFT resume `));
  });

  it('writes nothing on a dry run', async () => {
    const api = await aGateApi();

    const answer = await api.call(`/deployments/prod/web/${DEPLOYMENT_ID}/abort`, { dryRun: true });

    expect([answer.status, answer.body.status]).toEqual([202, 'dry-run']);
    expect(await api.gateTag()).toBeUndefined();
  });

  it.each([
    ['a service the hook does not serve', '/deployments/prod/api/Qm3vT8xZpL2rWc9NhY4Ke/resume', {}, 404],
    ['a deployment ECS does not know', '/deployments/prod/web/Zz0000000000000000000/resume', {}, 404],
    ['a finished deployment', `/deployments/prod/web/${DEPLOYMENT_ID}/resume`, { status: 'SUCCESSFUL' }, 409],
    [
      'a stage without a gate',
      `/deployments/prod/web/${DEPLOYMENT_ID}/abort`,
      { lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT' },
      409,
    ],
  ])('refuses %s, writing nothing', async (_, path, deployment, status) => {
    const api = await aGateApi(deployment);

    expect((await api.call(path)).status).toBe(status);
    expect(await api.gateTag()).toBeUndefined();
  });
});

describe('native deployments', () => {
  /** A native-deployment scenario played for `seconds` on the real hook, and the read function over it. */
  async function aDeploymentScenario(
    name: string,
    seconds: number,
    change: (scenario: ReturnType<typeof loadScenario>) => void = () => {},
  ) {
    const scenario = loadScenario(resolveScenarioPath(name));
    change(scenario);
    const twin = prepareTwin(scenario);
    scheduleTimeline(twin, scenario);
    twin.start();
    await twin.runFor(seconds);
    const read = createOpsHandler(['read'], () => ({
      ports: twin.opsPorts,
      settings: { routes: [], clusters: ['prod'], hookServices: twin.deploymentHookServices },
    }));
    const get = async (path: string, query?: Record<string, string>) => {
      const result = (await twin.settle(() =>
        read(apiEvent('GET', path, query ? { query } : {}), lambdaContext('ops')),
      )) as APIGatewayProxyStructuredResultV2;
      return { status: result.statusCode!, body: JSON.parse(result.body ?? 'null') };
    };
    return { twin, get };
  }

  it('shows a deployment waiting at the hook gate, then resumed by the person who answered, and SUCCEEDED', async () => {
    // Prepare: native-hook-gate-resumed four minutes in (the gate opened at about 2:30, nobody has answered)
    const { twin, get } = await aDeploymentScenario('native-hook-gate-resumed', 240);

    // Act
    const waiting = await get('/deployments');

    // Assess: ECS's facts, and the hook's gate with the time it fails unless answered
    expectDocumented('listDeployments', waiting);
    const [deployment] = waiting.body.deployments;
    expect(deployment).toMatchObject({
      cluster: 'prod',
      service: 'web',
      status: 'IN_PROGRESS',
      strategy: 'BLUE_GREEN',
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      targetRevision: { productionWeight: 0 },
      gate: { stage: 'POST_TEST_TRAFFIC_SHIFT', status: 'waiting' },
    });
    const gate = deployment.gate;
    expect((Date.parse(gate.timesOutAt) - Date.parse(gate.openedAt)) / 1000).toBe(1800);
    expect(gate.secondsLeft).toBe(
      Math.round((Date.parse(gate.timesOutAt) - twin.scheduler.now().getTime()) / 1000),
    );
    expect(deployment.stages.map((s: { stage: string; answer: string }) => [s.stage, s.answer])).toEqual([
      ['POST_TEST_TRAFFIC_SHIFT', 'IN_PROGRESS'],
    ]);
    expect(deployment.verdict).toBeUndefined();

    // Act: past the person's answer (5:00) and the end of the deployment
    await twin.runFor(600);
    const done = await get('/deployments/prod/web');

    // Assess: resumed, by whom and when, and the hook's SUCCEEDED; no gate waits any more
    expectDocumented('getServiceDeployments', done);
    const [finished] = done.body.deployments;
    expect(finished).toMatchObject({
      id: deployment.id,
      status: 'SUCCESSFUL',
      targetRevision: { productionWeight: 100 },
    });
    expect(finished.gate).toBeUndefined();
    const [stage] = finished.stages;
    expect(stage).toMatchObject({
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      answer: 'SUCCEEDED',
      gate: { status: 'resumed', by: 'arn:aws:iam::111122223333:user/release-manager' },
    });
    expect(Date.parse(stage.gate.at)).toBeGreaterThan(Date.parse(gate.openedAt));
    expect(finished.verdict).toMatchObject({
      hookStatus: 'SUCCEEDED',
      reason: 'POST_TEST_TRAFFIC_SHIFT: gate resumed by arn:aws:iam::111122223333:user/release-manager',
    });
    // Every answer, oldest first: IN_PROGRESS while it waited, then the SUCCEEDED.
    const statuses = finished.history.map((h: { hookStatus: string }) => h.hookStatus);
    expect(statuses.at(-1)).toBe('SUCCEEDED');
    expect(statuses.slice(0, -1).every((s: string) => s === 'IN_PROGRESS')).toBe(true);
    expect(statuses.length).toBe(stage.invocations);
  });

  it('shows a gate aborted by the person who answered, the FAILED it made, and the rollback', async () => {
    // Prepare: native-hook-gate-resumed, but the person at 5:00 aborts
    const { get } = await aDeploymentScenario('native-hook-gate-resumed', 900, (scenario) => {
      for (const step of scenario.timeline)
        if ('answerDeploymentGate' in step) step.answerDeploymentGate.decision = 'abort';
    });

    // Act
    const answer = await get('/deployments/prod/web');

    // Assess
    expectDocumented('getServiceDeployments', answer);
    const [deployment] = answer.body.deployments;
    expect(deployment.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(deployment.gate).toBeUndefined();
    expect(deployment.stages[0]).toMatchObject({
      answer: 'FAILED',
      gate: {
        status: 'aborted',
        by: 'arn:aws:iam::111122223333:user/release-manager',
        at: expect.any(String),
      },
    });
    expect(deployment.verdict).toMatchObject({
      hookStatus: 'FAILED',
      reason: 'aborted at POST_TEST_TRAFFIC_SHIFT by arn:aws:iam::111122223333:user/release-manager',
    });
  });

  it("shows the hook's failed analysis with its numbers, and ECS's rollback", async () => {
    // Prepare, act: native-canary-hook-rollback played to its end
    const { get } = await aDeploymentScenario('native-canary-hook-rollback', 720);
    const answer = await get('/deployments/prod/web');

    // Assess
    expectDocumented('getServiceDeployments', answer);
    const [deployment] = answer.body.deployments;
    expect(deployment.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(deployment.strategy).toBe('CANARY');
    expect(deployment.verdict).toMatchObject({ stage: 'POST_TEST_TRAFFIC_SHIFT', hookStatus: 'FAILED' });
    const [stage] = deployment.stages;
    const last = stage.analyses.at(-1);
    expect(last.result).toBe('fail');
    const failed = last.outcomes.find((o: { result: string }) => o.result === 'fail');
    // Green's error rate against its limit, as the hook measured it.
    expect(failed.canary).toBeGreaterThan(failed.limit);
    expect(deployment.targetRevision.productionWeight).toBe(0);
  });

  it("reads each service's verdicts apart: other services' answers and other ops lines crowd none out", async () => {
    // Prepare: the gate resumed and the deployment SUCCEEDED; then another service's hook answers a
    // thousand times and the ops API journals two hundred other actions, all newer than web's lines.
    const { twin, get } = await aDeploymentScenario('native-hook-gate-resumed', 900);
    const journal = twin.recorders.journal;
    for (let i = 0; i < 1000; i++)
      journal.record({
        reflex: 'deployment-hook',
        action: 'answer-hook',
        target: `prod/cart Cart${i} POST_TEST_TRAFFIC_SHIFT`,
        reason: 'IN_PROGRESS: waiting',
        dryRun: false,
        outcome: 'done',
        detail: { hookStatus: 'IN_PROGRESS' },
      });
    for (let i = 0; i < 200; i++)
      journal.record({
        reflex: 'ops-api',
        action: 'scaleService',
        target: 'prod/web',
        reason: 'scaled',
        dryRun: false,
        outcome: 'done',
      });

    // Act
    const answer = await get('/deployments/prod/web');

    // Assess: the verdict, the stage and who resumed the gate are all there; nothing was cut short
    const [deployment] = answer.body.deployments;
    expect(deployment.verdict).toMatchObject({ hookStatus: 'SUCCEEDED' });
    expect(deployment.stages[0]).toMatchObject({
      answer: 'SUCCEEDED',
      gate: { status: 'resumed', at: expect.any(String) },
    });
    expect(answer.body.truncated).toBeUndefined();
  });

  it("says the view is cut short when a service's own lines reach what is read", async () => {
    // Prepare: the gate waits; its deployment's hook has answered more than a view reads.
    const { twin, get } = await aDeploymentScenario('native-hook-gate-resumed', 240);
    const before = await get('/deployments/prod/web');
    const [{ id }] = before.body.deployments;
    recordHookAnswers(twin, id);

    // Act
    const answer = await get('/deployments/prod/web');

    // Assess
    expect(before.body.truncated).toBeUndefined();
    expectDocumented('getServiceDeployments', answer);
    expect(answer.body.truncated).toBe(true);
  });

  it.each([
    ['a service the hook does not serve', '/deployments/prod/api', 404],
    ['a cluster the API does not show', '/deployments/staging/web', 404],
    ['a path segment no service is named', `/deployments/prod/${'w'.repeat(256)}`, 400],
  ])('refuses %s with a problem document', async (_, path, status) => {
    const { get } = await aDeploymentScenario('native-hook-gate-resumed', 0);

    const answer = await get(path);

    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ status, detail: expect.any(String) });
  });

  it('refuses a limit out of range', async () => {
    const { get } = await aDeploymentScenario('native-hook-gate-resumed', 0);

    const answer = await get('/deployments', { limit: '21' });

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: 'query.limit', message: expect.any(String) }]);
  });
});
