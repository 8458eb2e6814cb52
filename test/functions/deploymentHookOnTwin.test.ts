// The deployment hook against the twin's ECS native deployments: a canary of web:2 runs on the twin, a
// stand-in function holds it at one stage (so the test decides when to ask), and the real handler is
// invoked with the payload ECS sent there. ECS, CloudWatch and ELB are the twin's, through the real
// adapters: what is asserted is the answer ECS would read back, from what the twin's world shows.
import { TagResourceCommand } from '@aws-sdk/client-ecs';
import { GATE_TAG_KEY, HOOK_STATE_KEY, type HookStage } from '#domain/deploymentHook';
import { type HookService, HookSettingsSchema } from '#events/deploymentHook';
import { createDeploymentHookHandler } from '#functions/deploymentHook';
import { prepareTwin, scheduleTimeline } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';
import { lambdaContext } from '#local/twin/delivery';
import type { HookPayload } from '#local/twin/nativeDeployments';
import type { JournalEntry } from '#ports';
import { deploymentHookPorts, hookServicesInvoking } from '#wiring/deploymentHook';

const FUNCTION_NAME = 'deploymentHook';

/** What ECS reads back, as JSON: the test reads hookDetails and callBackDelay off it field by field. */
// biome-ignore lint/suspicious/noExplicitAny: an answer is read as ECS reads it, as JSON
type Answer = Record<string, any>;

/** A canary (10 %) over an ALB with a test listener taking 5 rps, its hook the stand-in `hold`. */
function aCanary(stage: HookStage, greenErrorRate: number, hookDetails?: Record<string, unknown>) {
  // An alarm of the service's that fires at once (its latency gauge above the threshold from the start).
  const latency = { metric: 'TargetResponseTime', dimensions: { TargetGroup: 'targetgroup/web-blue' } };
  const tg = (name: string) => ({ name, port: 8080, deregistrationDelay: '0s' });
  const rule = (name: string, rps: number) => ({
    name,
    targetGroups: [
      { targetGroup: 'web-blue', weight: 100 },
      { targetGroup: 'web-green', weight: 0 },
    ],
    rps,
  });
  return ScenarioSchema.parse({
    name: 'hook-on-twin',
    description: 'a canary held at one stage',
    seed: 71,
    duration: '30m',
    world: {
      clusters: [{ name: 'prod', instances: [{ count: 2, cpu: 4096, memory: 8192 }] }],
      taskDefinitions: [1, 2].map((revision) => ({
        family: 'web',
        revision,
        behaviour: { startSeconds: 10 },
      })),
      targetGroups: [tg('web-blue'), tg('web-green')],
      services: [
        {
          cluster: 'prod',
          name: 'web',
          taskDefinition: 'web:1',
          desiredCount: 2,
          targetGroups: ['web-blue'],
          strategy: 'CANARY',
          healthCheckGracePeriod: '0s',
          native: {
            deploymentConfiguration: {
              strategy: 'CANARY',
              canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 10 },
              bakeTimeInMinutes: 5,
              lifecycleHooks: [
                {
                  hookTargetArn: `@lambda:${FUNCTION_NAME}`,
                  roleArn: 'arn:aws:iam::111122223333:role/ecsHookRole',
                  lifecycleStages: [stage],
                  ...(hookDetails ? { hookDetails } : {}),
                },
              ],
            },
            loadBalancers: [
              {
                targetGroupArn: '@tg:web-blue',
                containerName: 'app',
                containerPort: 8080,
                advancedConfiguration: {
                  alternateTargetGroupArn: '@tg:web-green',
                  productionListenerRule: '@rule:web',
                  testListenerRule: '@rule:web-test',
                  roleArn: 'arn:aws:iam::111122223333:role/ecsInfrastructureRole',
                },
              },
            ],
          },
        },
      ],
      traffic: { listenerRules: [rule('web', 20), rule('web-test', 5)] },
      alarms: [
        {
          name: 'web-latency',
          ...latency,
          comparison: 'GreaterThanThreshold',
          threshold: 1,
          evaluationPeriods: 1,
        },
      ],
    },
    config: { clusters: ['prod'] },
    timeline: [
      { at: '0s', setProfile: { version: 'web-green', errorRate: greenErrorRate } },
      { at: '0s', setMetric: { ...latency, value: 5 } },
      { at: '1m', deploy: { cluster: 'prod', service: 'web', taskDefinition: 'web:2' } },
    ],
  });
}

const errorsAtMost5Percent = HookSettingsSchema.parse({
  checks: [{ name: 'errors', kind: 'errorRate', minRequests: 50, max: 0.05 }],
});

/**
 * The canary on the twin, held at `stage` by a stand-in for the hook function (IN_PROGRESS, ask again in
 * an hour) that keeps the payloads ECS sent it; `ask` invokes the real handler with one of them.
 */
async function heldAt(
  stage: HookStage,
  options: { greenErrorRate?: number; services?: HookService[]; hookDetails?: Record<string, unknown> } = {},
) {
  const scenario = aCanary(stage, options.greenErrorRate ?? 0, options.hookDetails);
  const twin = prepareTwin(scenario);
  scheduleTimeline(twin, scenario);
  const sent: HookPayload[] = [];
  twin.lambdas.function(FUNCTION_NAME, () => async (payload: HookPayload) => {
    sent.push(payload);
    return { hookStatus: 'IN_PROGRESS', callBackDelay: 3600 };
  });
  const journal: JournalEntry[] = [];
  const ports = deploymentHookPorts(twin.clients, {
    clock: twin.scheduler,
    journal: { record: (entry) => journal.push(entry) },
    logNotifier: { notify: async () => undefined },
    newId: () => twin.world.newId(),
  });
  const services = options.services ?? [{ cluster: 'prod', service: 'web', settings: errorsAtMost5Percent }];
  const handler = createDeploymentHookHandler(() => ({
    ports,
    settings: { services, functionName: FUNCTION_NAME },
  }));
  twin.start();
  await twin.runFor(150);
  const payload = sent.at(-1)!;
  return {
    twin,
    payload,
    journal,
    ask: (given: unknown) =>
      twin.settle(() => handler(given, lambdaContext(FUNCTION_NAME)) as Promise<Answer>),
  };
}

describe('deploymentHook on the twin: evidence across invocations', () => {
  async function afterAPublishedMinute(greenErrorRate: number) {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT', { greenErrorRate });
    const first = await hook.ask(hook.payload);
    await hook.twin.runFor(first.callBackDelay);
    // ECS hands back what the last IN_PROGRESS returned, merged into the hookDetails it sends.
    const second = await hook.ask({ ...structuredClone(hook.payload), hookDetails: first.hookDetails });
    return { first, second, hook };
  }

  it("waits for a published minute of green's test traffic, then succeeds on a good release", async () => {
    const { first, second } = await afterAPublishedMinute(0);

    expect(first).toMatchObject({
      hookStatus: 'IN_PROGRESS',
      hookDetails: { [HOOK_STATE_KEY]: { stage: 'POST_TEST_TRAFFIC_SHIFT', analyses: 0 } },
    });
    expect(first.callBackDelay).toBeGreaterThanOrEqual(60);
    expect(second).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  it('fails a release that errs on 20 % of its requests: ECS rolls back', async () => {
    const { second, hook } = await afterAPublishedMinute(0.2);

    expect(second).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal.at(-1)?.reason).toMatch(/^FAILED: 1 failed analysis run/);
  });

  it('fails when the state in hookDetails is not its own: a count could have been lost', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT');

    const answer = await hook.ask({
      ...hook.payload,
      hookDetails: { [HOOK_STATE_KEY]: { stage: 'nonsense' } },
    });

    expect(answer).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toContain('the hook state in hookDetails is unreadable');
  });
});

describe('deploymentHook on the twin: settings', () => {
  it("takes the service's own settings from the deployment as ECS describes it", async () => {
    const hook = await heldAt('POST_SCALE_UP', {
      hookDetails: { ecsReflex: { guardAlarms: ['web-latency'] } },
    });
    await hook.twin.runFor(120);
    expect(hook.twin.cloudWatch.describe('web-latency')?.state).toBe('ALARM');

    expect(await hook.ask(hook.payload)).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toBe('FAILED: alarm web-latency is in ALARM');
  });

  it("fails with the reason when the service's settings are invalid", async () => {
    const hook = await heldAt('POST_SCALE_UP', {
      hookDetails: { ecsReflex: { checks: [{ name: 'e', kind: 'errorRate' }] } },
    });

    expect(await hook.ask(hook.payload)).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toContain('the hook settings on the service are invalid');
  });

  it('fails a lambda check of a function the stage does not allow, before invoking anything', async () => {
    const hook = await heldAt('POST_SCALE_UP', {
      hookDetails: {
        ecsReflex: {
          tests: [
            {
              stage: 'POST_SCALE_UP',
              checks: [{ name: 'admin', kind: 'lambda', function: 'payments-admin' }],
            },
          ],
        },
      },
    });

    expect(await hook.ask(hook.payload)).toEqual({ hookStatus: 'FAILED' });
    expect(hook.journal[0]?.reason).toMatch(
      /settings on the service are invalid: tests\.0\.checks\.0\.function: function payments-admin is not one the stack may invoke \(none/,
    );
    expect(hook.journal[0]?.detail).not.toHaveProperty('tests');
  });

  it('refuses, at cold start, stage settings whose lambda check names a function the stage does not allow', () => {
    const services = [
      {
        cluster: 'prod',
        service: 'web',
        settings: {
          tests: [
            { stage: 'POST_SCALE_UP', checks: [{ name: 'suite', kind: 'lambda', function: 'web-smoke' }] },
          ],
        },
      },
    ];
    expect(hookServicesInvoking(services, ['web-smoke'])).toHaveLength(1);
    expect(() => hookServicesInvoking(services, [])).toThrow(
      /DEPLOYMENT_HOOK_SERVICES.*function web-smoke is not one the stack may invoke.*at 0\.settings\.tests\.0\.checks\.0\.function/,
    );
  });

  it("reads the green revision's own target group for target health", async () => {
    const hook = await heldAt('POST_SCALE_UP', {
      services: [
        {
          cluster: 'prod',
          service: 'web',
          settings: HookSettingsSchema.parse({
            checks: [{ name: 'healthy', kind: 'targetHealth', minHealthyPercent: 100 }],
          }),
        },
      ],
    });

    expect(await hook.ask(hook.payload)).toEqual({ hookStatus: 'SUCCEEDED' });
    const green = hook.twin.world.targetGroup('web-green').arn;
    const reads = hook.twin.world.apiCalls.filter((c) => c.api === 'DescribeTargetHealth');
    expect(reads.map((c) => c.target)).toEqual([green]);
  });
});

describe('deploymentHook on the twin: a gate', () => {
  const gated = [
    {
      cluster: 'prod',
      service: 'web',
      settings: HookSettingsSchema.parse({
        gates: [{ stage: 'POST_TEST_TRAFFIC_SHIFT', timeoutSeconds: 600 }],
      }),
    },
  ];
  const tagged = async (hook: Awaited<ReturnType<typeof heldAt>>, deploymentId: string) => {
    const service = hook.twin.world.service('prod', 'web')!;
    await hook.twin.settle(() =>
      hook.twin.clients.ecs.send(
        new TagResourceCommand({
          resourceArn: service.arn,
          tags: [{ key: GATE_TAG_KEY, value: `${deploymentId} POST_TEST_TRAFFIC_SHIFT resume alice` }],
        }),
      ),
    );
  };
  const idOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

  it('waits for a person, then goes on when the service carries the resume for this deployment', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT', { services: gated });
    const waiting = await hook.ask(hook.payload);
    await tagged(hook, idOf(hook.payload.resourceArn));

    const resumed = await hook.ask({ ...hook.payload, hookDetails: waiting.hookDetails });

    expect(waiting.hookStatus).toBe('IN_PROGRESS');
    expect(resumed).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(hook.journal[1]?.reason).toBe('SUCCEEDED: POST_TEST_TRAFFIC_SHIFT: gate resumed by alice');
  });

  it('ignores an answer recorded for another deployment', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT', { services: gated });
    await tagged(hook, 'Older0000000000000000');

    expect((await hook.ask(hook.payload)).hookStatus).toBe('IN_PROGRESS');
  });
});

describe('deploymentHook on the twin: claims ECS does not back get an error, not an answer', () => {
  const refused = async (
    hook: Awaited<ReturnType<typeof heldAt>>,
    payload: unknown,
    name: string,
    message: RegExp,
  ) => {
    await expect(hook.ask(payload)).rejects.toMatchObject({ name, message: expect.stringMatching(message) });
    expect(hook.journal).toEqual([]);
  };

  it('refuses a deployment ECS does not know', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT');
    const payload = { ...hook.payload, resourceArn: `${hook.payload.resourceArn.slice(0, -4)}0000` };
    await refused(hook, payload, 'HookClaimRefusedError', /ECS does not know deployment/);
  });

  it('refuses a revision the deployment does not deploy (the blue one)', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT');
    const deployment = hook.twin.nativeDeployments.find(hook.payload.resourceArn)!;
    const payload = structuredClone(hook.payload);
    payload.executionDetails.targetServiceRevisionArn = deployment.sourceRevisionArn;
    await refused(hook, payload, 'HookClaimRefusedError', /deploys .*, not /);
  });

  it('refuses a finished deployment: nobody waits on its hooks', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT');
    hook.twin.nativeDeployments.stop(hook.twin.nativeDeployments.find(hook.payload.resourceArn)!);
    await hook.twin.runFor(60);
    await refused(hook, hook.payload, 'HookClaimRefusedError', /is ROLLBACK_SUCCESSFUL/);
  });

  it('refuses a service the stack does not serve, before asking ECS anything', async () => {
    const hook = await heldAt('POST_TEST_TRAFFIC_SHIFT', {
      services: [{ cluster: 'prod', service: 'api', settings: errorsAtMost5Percent }],
    });
    const calls = hook.twin.world.apiCalls.length;
    await refused(hook, hook.payload, 'HookClaimRefusedError', /not one this stack's deployment hook serves/);
    expect(hook.twin.world.apiCalls.length).toBe(calls);
  });
});
