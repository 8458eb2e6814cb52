// The deployment hook as ECS invokes it: each lifecycle payload the developer guide documents, in the shape
// the guide shows (test/fixtures/ecs/deploymentHook), and the answer ECS reads back. The real adapters run;
// ECS, CloudWatch and ELB answer with captured-shape responses (the twin does not model native deployments
// yet), so what is asserted is the hook's contract with ECS: hookStatus, callBackDelay, hookDetails.
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
import { mockClient } from 'aws-sdk-client-mock';
import { GATE_TAG_KEY, HOOK_STAGES, HOOK_STATE_KEY, type HookStage } from '#domain/deploymentHook';
import { HookSettingsSchema } from '#events/deploymentHook';
import { createDeploymentHookHandler } from '#functions/deploymentHook';
import { lambdaContext } from '#local/twin/delivery';
import type { JournalEntry } from '#ports';
import { deploymentHookPorts } from '#wiring/deploymentHook';

const FIXTURES = path.join(__dirname, '../fixtures/ecs/deploymentHook');
// biome-ignore lint/suspicious/noExplicitAny: a captured payload is edited field by field, as JSON
type Fixture = Record<string, any>;
const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);

const GREEN = 'arn:aws:ecs:eu-west-1:210987654321:service-revision/shop/checkout/7402918830016652210';
const GREEN_TG =
  'arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/checkout-green/1827a3b4c5d6e7f8';
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

function theWorld(
  options: { stage?: HookStage; status?: string; greenErrors?: number; tags?: Record<string, string> } = {},
) {
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
        tags: Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
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

function aHook(services = [{ cluster: 'shop', service: 'checkout', settings }]) {
  const journal: JournalEntry[] = [];
  let now = START;
  const ports = deploymentHookPorts(
    {
      ecs: new ECSClient({ region: 'eu-west-1' }),
      cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    },
    {
      clock: { now: () => now },
      journal: { record: (entry) => journal.push(entry) },
      logNotifier: { notify: async () => undefined },
      newId: () => 'id',
    },
  );
  const handler = createDeploymentHookHandler(() => ({
    ports,
    settings: { services, functionName: 'ecs-reflex-dev-deploymentHook' },
  }));
  return {
    invoke: (payload: unknown) => handler(payload, lambdaContext('deploymentHook')) as Promise<Fixture>,
    later: (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    },
    journal,
  };
}

beforeEach(() => {
  ecs.reset();
  cloudWatch.reset();
  elbv2.reset();
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

describe('deploymentHook handler: evidence across invocations', () => {
  async function secondAnswer(greenErrors: number) {
    theWorld({ greenErrors });
    const hook = aHook();
    const payload = fixture('PRODUCTION_TRAFFIC_SHIFT');
    const first = await hook.invoke(payload);
    hook.later(first.callBackDelay + 120);
    // ECS hands back what the last IN_PROGRESS returned, merged into the hookDetails it sends.
    return hook.invoke({ ...structuredClone(payload), hookDetails: first.hookDetails });
  }

  it('succeeds when green errs no more than twice blue over the published window', async () => {
    expect(await secondAnswer(1)).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  it('fails when green errs more: ECS rolls back', async () => {
    expect(await secondAnswer(50)).toEqual({ hookStatus: 'FAILED' });
  });

  it('fails when the state in hookDetails is not its own: a count could have been lost', async () => {
    theWorld();
    const hook = aHook();
    const payload = {
      ...fixture('PRODUCTION_TRAFFIC_SHIFT'),
      hookDetails: { [HOOK_STATE_KEY]: { stage: 'nonsense' } },
    };

    expect(await hook.invoke(payload)).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toContain('the hook state in hookDetails is unreadable');
  });
});

describe('deploymentHook handler: settings', () => {
  it("takes the service's own settings from the deployment as ECS describes it", async () => {
    theWorld({ stage: 'POST_SCALE_UP' });
    const described = fixture('describeServiceDeployments');
    described.serviceDeployments[0].deploymentConfiguration.lifecycleHooks[0].hookDetails = {
      ecsReflex: { guardAlarms: ['checkout-latency'] },
    };
    ecs.on(DescribeServiceDeploymentsCommand).resolves(described);
    cloudWatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'checkout-latency', StateValue: 'ALARM' }] });
    const hook = aHook();

    const answer = await hook.invoke(fixture('POST_SCALE_UP'));

    expect(answer).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toBe('FAILED: alarm checkout-latency is in ALARM');
  });

  it("fails with the reason when the service's settings are invalid", async () => {
    theWorld({ stage: 'POST_SCALE_UP' });
    const described = fixture('describeServiceDeployments');
    described.serviceDeployments[0].deploymentConfiguration.lifecycleHooks[0].hookDetails = {
      ecsReflex: { checks: [{ name: 'e', kind: 'errorRate' }] },
    };
    ecs.on(DescribeServiceDeploymentsCommand).resolves(described);
    const hook = aHook();

    expect(await hook.invoke(fixture('POST_SCALE_UP'))).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toContain('the hook settings on the service are invalid');
  });
});

describe('deploymentHook handler: a gate', () => {
  const gated = [
    {
      cluster: 'shop',
      service: 'checkout',
      settings: HookSettingsSchema.parse({
        gates: [{ stage: 'POST_TEST_TRAFFIC_SHIFT', timeoutSeconds: 600 }],
      }),
    },
  ];

  it('waits for a person, then goes on when the service carries the resume for this deployment', async () => {
    theWorld({ stage: 'POST_TEST_TRAFFIC_SHIFT' });
    const hook = aHook(gated);
    const waiting = await hook.invoke(fixture('POST_TEST_TRAFFIC_SHIFT'));
    theWorld({
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      tags: { [GATE_TAG_KEY]: 'Qm3vT8xZpL2rWc9NhY4Ke POST_TEST_TRAFFIC_SHIFT resume alice' },
    });

    const resumed = await hook.invoke({
      ...fixture('POST_TEST_TRAFFIC_SHIFT'),
      hookDetails: waiting.hookDetails,
    });

    expect(waiting.hookStatus).toBe('IN_PROGRESS');
    expect(resumed).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(hook.journal[1]?.reason).toBe('SUCCEEDED: POST_TEST_TRAFFIC_SHIFT: gate resumed by alice');
  });

  it('ignores an answer recorded for another deployment', async () => {
    theWorld({
      stage: 'POST_TEST_TRAFFIC_SHIFT',
      tags: { [GATE_TAG_KEY]: 'Older0000000000000000 POST_TEST_TRAFFIC_SHIFT resume alice' },
    });

    expect((await aHook(gated).invoke(fixture('POST_TEST_TRAFFIC_SHIFT'))).hookStatus).toBe('IN_PROGRESS');
  });
});

describe('deploymentHook handler: claims ECS does not back get an error, not an answer', () => {
  const refused = async (payload: unknown, name: string, message: RegExp) => {
    await expect(aHook().invoke(payload)).rejects.toMatchObject({
      name,
      message: expect.stringMatching(message),
    });
  };

  it('refuses a deployment ECS does not know', async () => {
    theWorld();
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [],
      failures: [{ arn: fixture('PRODUCTION_TRAFFIC_SHIFT').resourceArn, reason: 'MISSING' }],
    });
    await refused(
      fixture('PRODUCTION_TRAFFIC_SHIFT'),
      'HookClaimRefusedError',
      /ECS does not know deployment/,
    );
  });

  it('refuses a deployment of another service', async () => {
    theWorld();
    const payload = fixture('PRODUCTION_TRAFFIC_SHIFT');
    const described = fixture('describeServiceDeployments');
    described.serviceDeployments[0].serviceArn = 'arn:aws:ecs:eu-west-1:210987654321:service/shop/payments';
    ecs.on(DescribeServiceDeploymentsCommand).resolves(described);
    await refused(payload, 'HookClaimRefusedError', /belongs to .*service\/shop\/payments/);
  });

  it('refuses a revision the deployment does not deploy', async () => {
    theWorld();
    const payload = fixture('PRODUCTION_TRAFFIC_SHIFT');
    payload.executionDetails.targetServiceRevisionArn = GREEN.replace(
      '7402918830016652210',
      '1111111111111111111',
    );
    await refused(payload, 'HookClaimRefusedError', /deploys .*7402918830016652210, not/);
  });

  it('refuses a finished deployment: nobody waits on its hooks', async () => {
    theWorld({ status: 'SUCCESSFUL' });
    await refused(fixture('PRODUCTION_TRAFFIC_SHIFT'), 'HookClaimRefusedError', /is SUCCESSFUL/);
  });

  it('refuses a service the stack does not serve, before asking ECS anything', async () => {
    theWorld();
    const payload = fixture('PRODUCTION_TRAFFIC_SHIFT');
    payload.executionDetails.serviceArn = 'arn:aws:ecs:eu-west-1:210987654321:service/shop/payments';
    await refused(payload, 'HookClaimRefusedError', /not one this stack's deployment hook serves/);
    expect(ecs.calls()).toHaveLength(0);
  });

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

it("reads the green revision's target group for target health", async () => {
  theWorld({ stage: 'POST_SCALE_UP' });
  await aHook().invoke(fixture('POST_SCALE_UP'));
  expect(elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input.TargetGroupArn)).toEqual([
    GREEN_TG,
  ]);
});
