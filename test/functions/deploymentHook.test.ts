// The deployment hook as ECS invokes it: each lifecycle payload the developer guide documents, in the shape
// the guide shows (test/fixtures/ecs/deploymentHook), and the answer ECS reads back. The real adapters run;
// ECS, CloudWatch and ELB answer with captured-shape responses for the fixtures' own deployment (account,
// region and ARNs the twin does not hold), so what is asserted is the hook's contract with ECS: hookStatus,
// callBackDelay, hookDetails. Its behaviour across invocations, its settings, gates and refused claims run
// against the twin's native deployments in deploymentHookOnTwin.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ECSClient,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { HOOK_STAGES, HOOK_STATE_KEY, type HookStage } from '#domain/deploymentHook';
import { HookSettingsSchema } from '#events/deploymentHook';
import { createDeploymentHookHandler } from '#functions/deploymentHook';
import { lambdaContext } from '#local/twin/delivery';
import type { JournalEntry } from '#ports';
import { deploymentHookPorts } from '#wiring/deploymentHook';
import { lambdaChecksOver } from '#wiring/lambdaChecks';

const FIXTURES = path.join(__dirname, '../fixtures/ecs/deploymentHook');
// biome-ignore lint/suspicious/noExplicitAny: a captured payload is edited field by field, as JSON
type Fixture = Record<string, any>;
const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const lambda = mockClient(LambdaClient);

const GREEN = 'arn:aws:ecs:eu-west-1:210987654321:service-revision/shop/checkout/7402918830016652210';
const START = new Date('2026-12-07T10:53:20Z');

const settings = HookSettingsSchema.parse({
  checks: [
    { name: 'errors', kind: 'errorRate', minRequests: 100, maxRelativeToStable: 2 },
    { name: 'healthy', kind: 'targetHealth', minHealthyPercent: 100 },
  ],
  guardAlarms: ['checkout-5xx'],
});

/** Green's production weight ECS reports at each stage (the deployment's target revision). */
const GREEN_WEIGHT: Record<HookStage, number> = {
  RECONCILE_SERVICE: 0,
  PRE_SCALE_UP: 0,
  POST_SCALE_UP: 0,
  TEST_TRAFFIC_SHIFT: 0,
  POST_TEST_TRAFFIC_SHIFT: 0,
  PRE_PRODUCTION_TRAFFIC_SHIFT: 0,
  PRODUCTION_TRAFFIC_SHIFT: 100,
  POST_PRODUCTION_TRAFFIC_SHIFT: 100,
};

function theWorld(options: { stage?: HookStage; status?: string; greenErrors?: number } = {}) {
  const described = fixture('describeServiceDeployments');
  const deployment = described.serviceDeployments[0];
  deployment.status = options.status ?? 'IN_PROGRESS';
  deployment.lifecycleStage = options.stage ?? 'PRODUCTION_TRAFFIC_SHIFT';
  deployment.targetServiceRevision.requestedProductionTrafficWeight =
    GREEN_WEIGHT[options.stage ?? 'PRODUCTION_TRAFFIC_SHIFT'];
  ecs.on(DescribeServiceDeploymentsCommand).resolves(described);
  ecs.on(DescribeServiceRevisionsCommand).resolves(fixture('describeServiceRevisions'));
  ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'checkout',
        serviceArn: deployment.serviceArn,
        clusterArn: deployment.clusterArn,
        status: 'ACTIVE',
        tags: [],
      },
    ],
  });
  cloudWatch
    .on(DescribeAlarmsCommand)
    .resolves({ MetricAlarms: [{ AlarmName: 'checkout-5xx', StateValue: 'OK' }] });
  cloudWatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const id = q.Id!;
      const value = id.includes('requests')
        ? 1000
        : id.includes('errors') && id.endsWith('canary')
          ? (options.greenErrors ?? 1)
          : id.includes('errors')
            ? 1
            : 0;
      return { Id: id, StatusCode: 'Complete', Values: [value], Timestamps: [START] };
    }),
  }));
  elbv2.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [1, 2, 3, 4].map((n) => ({
      Target: { Id: `10.0.1.${n}`, Port: 8080 },
      TargetHealth: { State: 'healthy' },
    })),
  });
}

function aHook(
  services = [{ cluster: 'shop', service: 'checkout', settings }],
  testListener: (url: string) => Promise<Response> = async () => new Response('ok'),
) {
  const journal: JournalEntry[] = [];
  const ports = deploymentHookPorts(
    {
      ecs: new ECSClient({ region: 'eu-west-1' }),
      cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    },
    {
      clock: { now: () => START },
      journal: { record: (entry) => journal.push(entry) },
      logNotifier: { notify: async () => undefined },
      newId: () => 'id',
      http: { resolve: async () => [{ address: '10.0.0.10', family: 4 }], fetch: testListener },
    },
    { lambda: lambdaChecksOver(new LambdaClient({ region: 'eu-west-1' })), functions: ['checkout-smoke'] },
  );
  const handler = createDeploymentHookHandler(() => ({
    ports,
    settings: { services, functionName: 'ecs-reflex-dev-deploymentHook' },
  }));
  return {
    invoke: (payload: unknown) => handler(payload, lambdaContext('deploymentHook')) as Promise<Fixture>,
    journal,
  };
}

beforeEach(() => {
  ecs.reset();
  cloudWatch.reset();
  elbv2.reset();
  lambda.reset();
});

describe('deploymentHook handler: the answer to each documented stage payload', () => {
  const expected: Record<HookStage, string> = {
    RECONCILE_SERVICE: 'SUCCEEDED',
    PRE_SCALE_UP: 'SUCCEEDED',
    POST_SCALE_UP: 'SUCCEEDED',
    TEST_TRAFFIC_SHIFT: 'IN_PROGRESS',
    POST_TEST_TRAFFIC_SHIFT: 'IN_PROGRESS',
    PRE_PRODUCTION_TRAFFIC_SHIFT: 'SUCCEEDED',
    PRODUCTION_TRAFFIC_SHIFT: 'IN_PROGRESS',
    POST_PRODUCTION_TRAFFIC_SHIFT: 'IN_PROGRESS',
  };

  it.each(HOOK_STAGES)('%s', async (stage) => {
    theWorld({ stage });
    const hook = aHook();

    const answer = await hook.invoke(fixture(stage));

    expect(answer.hookStatus).toBe(expected[stage]);
    if (answer.hookStatus === 'IN_PROGRESS') {
      // Green serves traffic here: the hook waits for a published minute of it, its state in hookDetails.
      expect(answer.callBackDelay).toBeGreaterThanOrEqual(5);
      expect(answer.hookDetails[HOOK_STATE_KEY]).toMatchObject({ stage, analyses: 0 });
    } else expect(answer).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(hook.journal.map((e) => e.action)).toEqual(['answer-hook']);
  });

  it('answers SUCCEEDED at once while ECS rolls back (green at 0 %, status ROLLBACK_IN_PROGRESS)', async () => {
    theWorld({ status: 'ROLLBACK_IN_PROGRESS', greenErrors: 900 });
    const hook = aHook();

    const answer = await hook.invoke(fixture('PRODUCTION_TRAFFIC_SHIFT.rollback'));

    expect(answer).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe("deploymentHook handler: a payload that is not ECS's shape gets an error, not an answer", () => {
  const refused = async (payload: unknown, name: string, message: RegExp) => {
    await expect(aHook().invoke(payload)).rejects.toMatchObject({
      name,
      message: expect.stringMatching(message),
    });
  };

  it.each([
    ['no executionDetails', (p: Fixture) => delete p.executionDetails],
    ['an unknown stage', (p: Fixture) => (p.lifecycleStage = 'BAKE_TIME')],
    ['a deployment that is not an ARN', (p: Fixture) => (p.resourceArn = 'EZe5RNVLH6PPzHXINuP28')],
    ['a weight above 100', (p: Fixture) => (p.executionDetails.productionTrafficWeights[GREEN] = 101)],
  ])('refuses a payload with %s as invalid input, with no AWS call', async (_, damage) => {
    theWorld();
    const payload = structuredClone(fixture('PRODUCTION_TRAFFIC_SHIFT'));
    damage(payload);

    await refused(payload, 'InvalidInputError', /not a deployment lifecycle hook payload/);
    expect(ecs.calls()).toHaveLength(0);
  });
});

describe('deploymentHook handler: tests before traffic at a stage', () => {
  // The stage config's settings for checkout: tests through the ALB's test listener, where green alone
  // answers after TEST_TRAFFIC_SHIFT, and a function that runs the checkout smoke test.
  const withTests = HookSettingsSchema.parse({
    tests: [
      {
        stage: 'POST_TEST_TRAFFIC_SHIFT',
        checks: [
          {
            name: 'health via the test listener',
            kind: 'http',
            url: 'https://checkout-test.shop.example.com:8443/health',
            requests: 4,
          },
          { name: 'checkout smoke', kind: 'lambda', function: 'checkout-smoke' },
        ],
      },
    ],
  });
  const services = [{ cluster: 'shop', service: 'checkout', settings: withTests }];
  const passed = (reason: string) => ({
    StatusCode: 200,
    Payload: Buffer.from(JSON.stringify({ passed: true, reason })) as never,
  });

  it("all passing: SUCCEEDED, each check's verdict and reason on the journal line", async () => {
    theWorld({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    lambda.on(InvokeCommand).resolves(passed('3 orders placed'));
    const asked: string[] = [];
    const hook = aHook(services, async (url) => {
      asked.push(url);
      return new Response('ok');
    });

    const answer = await hook.invoke(fixture('POST_TEST_TRAFFIC_SHIFT'));

    expect(answer).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(asked).toHaveLength(4);
    // The function under test is told the stage and the deployment, as a rollout's is told the rollout.
    const event = JSON.parse(
      Buffer.from(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString(),
    );
    expect(event).toMatchObject({
      check: 'checkout smoke',
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      deployment: fixture('POST_TEST_TRAFFIC_SHIFT').resourceArn,
    });
    expect(hook.journal[0]?.detail).toMatchObject({
      hookStatus: 'SUCCEEDED',
      tests: [
        { check: 'health via the test listener', result: 'pass', reason: '4/4 as expected (status 200)' },
        { check: 'checkout smoke', result: 'pass', reason: 'checkout-smoke passed: 3 orders placed' },
      ],
    });
  });

  it('one failing: FAILED with the reason, so that ECS rolls back before production traffic moves', async () => {
    theWorld({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    lambda.on(InvokeCommand).resolves(passed('3 orders placed'));
    const hook = aHook(services, async () => new Response('bad gateway', { status: 502 }));

    const answer = await hook.invoke(fixture('POST_TEST_TRAFFIC_SHIFT'));

    expect(answer).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]).toMatchObject({
      reason: expect.stringMatching(
        /^FAILED: POST_TEST_TRAFFIC_SHIFT: tests before traffic: 1 failed analysis run\(s\), limit 0: health via the test listener: 0\/4 as expected \(status 502\)/,
      ),
      detail: {
        tests: [
          { check: 'health via the test listener', result: 'fail' },
          { check: 'checkout smoke', result: 'pass' },
        ],
      },
    });
  });

  it('a function that cannot be invoked is an error: asked again after the interval, its run in hookDetails', async () => {
    theWorld({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    lambda
      .on(InvokeCommand)
      .rejects(
        Object.assign(new Error('Function not found: checkout-smoke'), { name: 'ResourceNotFoundException' }),
      );
    const hook = aHook(services);

    const answer = await hook.invoke(fixture('POST_TEST_TRAFFIC_SHIFT'));

    expect(answer).toMatchObject({ hookStatus: 'IN_PROGRESS', callBackDelay: 60 });
    expect(answer.hookDetails[HOOK_STATE_KEY].tests).toEqual({
      counts: { failures: 0, inconclusive: 0, errors: 1 },
      runs: 1,
      last: {
        at: START.toISOString(),
        result: 'error',
        outcomes: [
          { check: 'health via the test listener', result: 'pass' },
          { check: 'checkout smoke', result: 'error' },
        ],
      },
    });
  });

  it('runs no test when a guard alarm has already decided: FAILED at once, no request, no invocation', async () => {
    theWorld({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'checkout-5xx', StateValue: 'ALARM' }] });
    const asked: string[] = [];
    const hook = aHook(
      [{ cluster: 'shop', service: 'checkout', settings: { ...withTests, guardAlarms: ['checkout-5xx'] } }],
      async (url) => {
        asked.push(url);
        return new Response('ok');
      },
    );

    const answer = await hook.invoke(fixture('POST_TEST_TRAFFIC_SHIFT'));

    expect(answer).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toMatch(/checkout-5xx/);
    expect([asked, lambda.commandCalls(InvokeCommand)]).toEqual([[], []]);
  });

  it('runs no test at a stage the settings do not name', async () => {
    theWorld({ stage: 'POST_SCALE_UP' });
    const asked: string[] = [];
    const hook = aHook(services, async (url) => {
      asked.push(url);
      return new Response('ok');
    });

    expect(await hook.invoke(fixture('POST_SCALE_UP'))).toEqual({ hookStatus: 'SUCCEEDED' });
    expect([asked, lambda.commandCalls(InvokeCommand)]).toEqual([[], []]);
  });
});
