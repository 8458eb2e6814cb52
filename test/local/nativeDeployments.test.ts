// ECS native deployments on the twin, through a real ECSClient: UpdateService's settings and refusals, the
// deployment commands' answers, and the run in virtual time (each strategy's weights on the production
// rule, hooks asked again after callBackDelay, rollback on FAILED, a crashed hook, an alarm, a stop, and
// the ECS Deployment State Change events).
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import type { HookPayload } from '#local/twin/nativeDeployments';
import { Twin } from '#local/twin/twin';

const ROLE = 'arn:aws:iam::111122223333:role/ecsInfrastructure';

function aTwin() {
  const twin = new Twin({
    seed: 5,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
  });
  const { world, traffic } = twin;
  world.addCluster('prod');
  for (let i = 0; i < 2; i++) world.addInstance('prod', 4096, 8192);
  const td = { family: 'web', cpu: 256, memory: 512, networkMode: 'awsvpc' as const, containerName: 'web' };
  const v1 = world.addTaskDefinition({
    ...td,
    revision: 1,
    containerPort: 8080,
    behaviour: { startSeconds: 5, healthy: true },
  });
  const v2 = world.addTaskDefinition({
    ...td,
    revision: 2,
    containerPort: 8080,
    behaviour: { startSeconds: 5, healthy: true },
  });
  const blue = world.addTargetGroup({
    name: 'web-blue',
    port: 8080,
    targetType: 'ip',
    deregistrationDelaySeconds: 0,
  });
  const green = world.addTargetGroup({
    name: 'web-green',
    port: 8080,
    targetType: 'ip',
    deregistrationDelaySeconds: 0,
  });
  world.addService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: v1.arn,
    desiredCount: 2,
    targetGroups: ['web-blue'],
    maximumPercent: 200,
    circuitBreaker: false,
    healthCheckGraceSeconds: 0,
    history: [],
  });
  const route = traffic.addListenerRule({
    name: 'web',
    targetGroups: [
      { targetGroup: 'web-blue', weight: 100 },
      { targetGroup: 'web-green', weight: 0 },
    ],
    rps: 10,
  });
  const test = traffic.addListenerRule({
    name: 'web-test',
    priority: 50,
    targetGroups: [{ targetGroup: 'web-blue', weight: 1 }],
  });
  twin.start();
  const ecs = twin.clients.ecs;
  const events: { eventName: string; reason: string }[] = [];
  const put = twin.bus.put.bind(twin.bus);
  twin.bus.put = (event) => {
    const e = event as { 'detail-type': string; detail: { eventName: string; reason: string } };
    if (e['detail-type'] === 'ECS Deployment State Change') events.push(e.detail);
    return put(event);
  };
  /** A hook function of the twin's Lambda host answering `answers` in turn (the last one again and again). */
  const hook = (name: string, answers: unknown[]) => {
    const payloads: HookPayload[] = [];
    twin.lambdas.function(name, () => async (event: HookPayload) => {
      payloads.push(event);
      const answer = answers[Math.min(payloads.length - 1, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return answer;
    });
    return { arn: twin.nativeDeployments.functionArn(name), payloads };
  };
  const nativeUpdate = (
    config: UpdateServiceCommandInput['deploymentConfiguration'],
    extra: Partial<UpdateServiceCommandInput> = {},
  ) =>
    new UpdateServiceCommand({
      cluster: 'prod',
      service: 'web',
      taskDefinition: v2.arn,
      deploymentConfiguration: config,
      loadBalancers: [
        {
          targetGroupArn: blue.arn,
          containerName: 'web',
          containerPort: 8080,
          advancedConfiguration: {
            alternateTargetGroupArn: green.arn,
            productionListenerRule: route.ruleArn,
            testListenerRule: test.ruleArn,
            roleArn: ROLE,
          },
        },
      ],
      ...extra,
    });
  const send = <T = unknown>(command: { input: object }) =>
    twin.settle(() => ecs.send(command as never) as Promise<T>);
  const ecsWeights = () =>
    traffic
      .writesTo('web')
      .filter((w) => w.by === 'ecs')
      .map((w) => [w.at, w.weights['web-green']] as const);
  return { twin, ecs, send, hook, nativeUpdate, events, ecsWeights, v1, v2 };
}

const minutesOf = (twin: Twin, at: Date) => (at.getTime() - twin.scheduler.start.getTime()) / 60_000;

describe('ECS native deployments in the twin: the run', () => {
  it('moves a canary to its percent, bakes, then shifts the rest, and ends SUCCESSFUL', async () => {
    const { twin, send, nativeUpdate, events, ecsWeights } = aTwin();

    await send(
      nativeUpdate({
        strategy: 'CANARY',
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 5 },
        bakeTimeInMinutes: 2,
      }),
    );
    await twin.runFor(15 * 60);

    const weights = ecsWeights().map(([at, green]) => [Math.round(minutesOf(twin, at) * 2) / 2, green]);
    expect(weights.map(([, g]) => g)).toEqual([10, 100]);
    expect(weights[1]![0]! - weights[0]![0]!).toBe(5);
    const [deployment] = twin.nativeDeployments.deployments;
    expect(deployment!.status).toBe('SUCCESSFUL');
    expect(events.map((e) => e.eventName)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
    ]);
    const service = twin.world.service('prod', 'web')!;
    expect(twin.world.runningTasks('prod', 'service:web').map((t) => t.taskDefinitionArn)).toEqual([
      deployment!.green.taskDefinitionArn,
      deployment!.green.taskDefinitionArn,
    ]);
    expect(service.targetGroupArns).toEqual([twin.world.targetGroup('web-green').arn]);
  });
});

describe('ECS native deployments in the twin: strategies, hooks and rollbacks', () => {
  it('shifts a linear deployment in equal steps, one bake apart, and blue/green all at once after test traffic', async () => {
    const linear = aTwin();
    await linear.send(
      linear.nativeUpdate({
        strategy: 'LINEAR',
        linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 3 },
      }),
    );
    await linear.twin.runFor(20 * 60);
    const steps = linear.ecsWeights();
    expect(steps.map(([, g]) => g)).toEqual([25, 50, 75, 100]);
    expect(steps.slice(1).map(([at], i) => (at.getTime() - steps[i]![0].getTime()) / 60_000)).toEqual([
      3, 3, 3,
    ]);

    const blueGreen = aTwin();
    await blueGreen.send(blueGreen.nativeUpdate({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 }));
    await blueGreen.twin.runFor(10 * 60);
    expect(blueGreen.ecsWeights().map(([, g]) => g)).toEqual([100]);
    expect(blueGreen.twin.traffic.writesTo('web-test').map((w) => w.weights['web-green'])).toEqual([100]);
    expect(blueGreen.twin.nativeDeployments.deployments[0]!.status).toBe('SUCCESSFUL');
  });

  it('asks an IN_PROGRESS hook again after its callBackDelay, handing back its hookDetails, with ECS payload', async () => {
    const { twin, send, nativeUpdate, hook } = aTwin();
    const gate = hook('gate', [
      { hookStatus: 'IN_PROGRESS', callBackDelay: 90, hookDetails: { checks: 1 } },
      { hookStatus: 'SUCCEEDED' },
    ]);
    const lifecycleHooks = [
      {
        hookTargetArn: gate.arn,
        roleArn: ROLE,
        lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const],
        hookDetails: { service: 'web' },
      },
    ];

    await send(nativeUpdate({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0, lifecycleHooks }));
    await twin.runFor(10 * 60);

    const [first, second] = gate.payloads;
    const d = twin.nativeDeployments.deployments[0]!;
    expect(first).toMatchObject({
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      resourceArn: d.arn,
      executionDetails: {
        serviceArn: d.service.arn,
        targetServiceRevisionArn: d.targetRevisionArn,
        testTrafficWeights: {},
        productionTrafficWeights: {},
      },
      hookDetails: { service: 'web' },
    });
    expect(second!.hookDetails).toEqual({ service: 'web', checks: 1 });
    const invocations = twin.lambdas.invocations.filter((i) => i.function === 'gate');
    expect(invocations).toHaveLength(2);
    expect(d.status).toBe('SUCCESSFUL');
    expect(d.hookDetails[0]).toMatchObject({
      targetArn: gate.arn,
      status: 'SUCCEEDED',
      timeoutAction: 'ROLLBACK',
    });
  });

  it('keeps what a hook handed back for its later stages in the deployment, and applies its timeout action', async () => {
    const linear = aTwin();
    const step = linear.hook('step', [
      { hookStatus: 'IN_PROGRESS', callBackDelay: 10, hookDetails: { seen: 1 } },
      { hookStatus: 'SUCCEEDED' },
    ]);
    const at = (
      arn: string,
      stages: ('PRODUCTION_TRAFFIC_SHIFT' | 'POST_SCALE_UP')[],
      timeoutConfiguration?: object,
    ) => [
      {
        hookTargetArn: arn,
        roleArn: ROLE,
        lifecycleStages: stages,
        ...(timeoutConfiguration ? { timeoutConfiguration } : {}),
      },
    ];
    await linear.send(
      linear.nativeUpdate({
        strategy: 'LINEAR',
        linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 1 },
        lifecycleHooks: at(step.arn, ['PRODUCTION_TRAFFIC_SHIFT']),
      }),
    );
    await linear.twin.runFor(10 * 60);
    expect(step.payloads.map((p) => p.hookDetails)).toEqual([undefined, { seen: 1 }, { seen: 1 }]);

    const outcomes: string[] = [];
    for (const action of ['ROLLBACK', 'CONTINUE']) {
      const slow = aTwin();
      const waits = slow.hook('waits', [{ hookStatus: 'IN_PROGRESS', callBackDelay: 60 }]);
      const hooks = at(waits.arn, ['POST_SCALE_UP'], { timeoutInMinutes: 2, action });
      await slow.send(
        slow.nativeUpdate({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0, lifecycleHooks: hooks }),
      );
      await slow.twin.runFor(10 * 60);
      const d = slow.twin.nativeDeployments.deployments[0]!;
      outcomes.push(`${d.status} ${d.hookDetails[0]!.status} ${waits.payloads.length}`);
    }
    expect(outcomes).toEqual(['ROLLBACK_SUCCESSFUL TIMED_OUT 3', 'SUCCESSFUL TIMED_OUT 3']);
  });

  it.each([
    ['answers FAILED', [{ hookStatus: 'FAILED' }], 'answered FAILED'],
    ['crashes', [new Error('boom')], 'Error: boom'],
    ['answers no hookStatus', [{ ok: true }], 'no valid hookStatus'],
  ])(
    'rolls back when the hook %s: traffic back on blue, green gone, the events',
    async (_how, answers, reason) => {
      const { twin, send, nativeUpdate, hook, events, ecsWeights, v1 } = aTwin();
      const check = hook('check', answers);
      const lifecycleHooks = [
        { hookTargetArn: check.arn, roleArn: ROLE, lifecycleStages: ['PRODUCTION_TRAFFIC_SHIFT' as const] },
      ];

      await send(
        nativeUpdate({
          strategy: 'CANARY',
          canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 5 },
          lifecycleHooks,
        }),
      );
      await twin.runFor(10 * 60);

      const d = twin.nativeDeployments.deployments[0]!;
      expect(d.status).toBe('ROLLBACK_SUCCESSFUL');
      expect(d.rollback?.reason).toContain(reason);
      // Asked at the step (if it lived to answer), then once more as traffic goes back to blue.
      const weights = (green: number) => ({
        [d.targetRevisionArn]: green,
        [d.sourceRevisionArn]: 100 - green,
      });
      expect(
        check.payloads.map((p) => [p.lifecycleStage, p.executionDetails.productionTrafficWeights]),
      ).toEqual([
        ['PRODUCTION_TRAFFIC_SHIFT', weights(20)],
        ['PRODUCTION_TRAFFIC_SHIFT', weights(0)],
      ]);
      expect(ecsWeights().map(([, g]) => g)).toEqual([20, 0]);
      expect(events.map((e) => e.eventName)).toEqual([
        'SERVICE_DEPLOYMENT_IN_PROGRESS',
        'SERVICE_DEPLOYMENT_FAILED',
        'SERVICE_DEPLOYMENT_IN_PROGRESS',
        'SERVICE_DEPLOYMENT_COMPLETED',
      ]);
      await twin.runFor(60);
      expect(twin.world.runningTasks('prod', 'service:web').map((t) => t.taskDefinitionArn)).toEqual([
        v1.arn,
        v1.arn,
      ]);
    },
  );

  it('rolls back when the runtime of the hook function dies, and when the hook names no function', async () => {
    const crashed = aTwin();
    const check = crashed.hook('check', [{ hookStatus: 'SUCCEEDED' }]);
    crashed.twin.lambdas.crashUntil.set('check', new Date(Date.parse('2027-01-01')));
    const hooks = (arn: string) => [
      { hookTargetArn: arn, roleArn: ROLE, lifecycleStages: ['PRE_SCALE_UP' as const] },
    ];
    await crashed.send(
      crashed.nativeUpdate({
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 0,
        lifecycleHooks: hooks(check.arn),
      }),
    );
    await crashed.twin.runFor(60);
    expect(crashed.twin.nativeDeployments.deployments[0]!.rollback?.reason).toContain('Runtime.ExitError');

    const missing = aTwin();
    const arn = missing.twin.nativeDeployments.functionArn('nobody');
    await missing.send(
      missing.nativeUpdate({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 0, lifecycleHooks: hooks(arn) }),
    );
    await missing.twin.runFor(60);
    expect(missing.twin.nativeDeployments.deployments[0]!.rollback?.reason).toContain(
      'ResourceNotFoundException',
    );
    expect(missing.ecsWeights()).toEqual([]);
  });

  it('rolls a canary back when a deployment alarm goes to ALARM, after the bad requests the canary served', async () => {
    const { twin, send, nativeUpdate, ecsWeights } = aTwin();
    const green = twin.world.targetGroup('web-green');
    twin.cloudWatch.addAlarm({
      kind: 'metric',
      name: 'web-5xx',
      namespace: 'AWS/ApplicationELB',
      metric: 'HTTPCode_Target_5XX_Count',
      dimensions: {
        LoadBalancer: twin.traffic.route('web').loadBalancer!,
        TargetGroup: green.arn.replace(/^.*:/, ''),
      },
      statistic: 'Sum',
      comparison: 'GreaterThanThreshold',
      threshold: 5,
      periodSeconds: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      tags: {},
    });
    twin.traffic.setProfile('web-green', { errorRate: 0.5 });
    const alarms = { alarmNames: ['web-5xx'], enable: true, rollback: true };

    await send(
      nativeUpdate({
        strategy: 'CANARY',
        canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 10 },
        alarms,
      }),
    );
    await twin.runFor(15 * 60);

    const d = twin.nativeDeployments.deployments[0]!;
    expect(d.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(d.triggeredAlarms).toEqual(['web-5xx']);
    expect(ecsWeights().map(([, g]) => g)).toEqual([20, 0]);
    const { ecs } = twin.clients;
    const described = await twin.settle(() =>
      ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [d.arn] })),
    );
    expect(described.serviceDeployments?.[0]).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      alarms: { status: 'TRIGGERED', alarmNames: ['web-5xx'], triggeredAlarmNames: ['web-5xx'] },
      rollback: { serviceRevisionArn: d.sourceRevisionArn },
      targetServiceRevision: { arn: d.targetRevisionArn, requestedProductionTrafficWeight: 0 },
    });
  });
});

describe('ECS native deployments in the twin: the API', () => {
  it.each([
    [{ strategy: 'BLUE_GREEN' as const }, 'bakeTimeInMinutes is required'],
    [{ strategy: 'CANARY' as const, canaryConfiguration: { canaryPercent: 0.05 } }, 'canaryPercent'],
    [{ strategy: 'LINEAR' as const, linearConfiguration: { stepPercent: 2 } }, 'stepPercent'],
    [
      { strategy: 'LINEAR' as const, linearConfiguration: { stepBakeTimeInMinutes: 1441 } },
      'stepBakeTimeInMinutes',
    ],
    [
      { strategy: 'BLUE_GREEN' as const, bakeTimeInMinutes: 1, canaryConfiguration: { canaryPercent: 5 } },
      'only valid with the CANARY',
    ],
    [
      {
        strategy: 'CANARY' as const,
        lifecycleHooks: [
          { hookTargetArn: 'arn:aws:sns:x', roleArn: ROLE, lifecycleStages: ['PRE_SCALE_UP' as const] },
        ],
      },
      'hookTargetArn',
    ],
    [
      {
        strategy: 'CANARY' as const,
        lifecycleHooks: [
          {
            hookTargetArn: 'arn:aws:lambda:eu-west-1:111122223333:function:h',
            lifecycleStages: ['PRE_SCALE_UP' as const],
          },
        ],
      },
      'roleArn',
    ],
    [
      {
        strategy: 'CANARY' as const,
        lifecycleHooks: [
          {
            hookTargetArn: 'arn:aws:lambda:eu-west-1:111122223333:function:h',
            roleArn: ROLE,
            lifecycleStages: ['BAKE_TIME' as never],
          },
        ],
      },
      'lifecycleStages',
    ],
  ])('refuses %j with InvalidParameterException and starts nothing', async (config, message) => {
    const { twin, send, nativeUpdate, v1 } = aTwin();

    const refused = send(nativeUpdate(config));

    await expect(refused).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining(message),
    });
    expect(twin.nativeDeployments.deployments).toEqual([]);
    expect(twin.world.service('prod', 'web')!.deployments.map((d) => d.taskDefinitionArn)).toEqual([v1.arn]);
  });

  it('lists, describes and stops a native deployment; a stop while it rolls back changes nothing, one after it ended conflicts; unknown ARNs are MISSING or not found', async () => {
    const { twin, send, nativeUpdate, events, ecsWeights } = aTwin();
    await send(
      nativeUpdate({
        strategy: 'CANARY',
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 30 },
      }),
    );
    await twin.runFor(3 * 60);

    const listed = await send<{
      serviceDeployments: {
        serviceDeploymentArn: string;
        status: string;
        targetServiceRevisionArn: string;
      }[];
    }>(new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web', maxResults: 1 }));
    const [brief] = listed.serviceDeployments;
    expect(brief).toMatchObject({ status: 'IN_PROGRESS' });
    const revisions = await send<{ serviceRevisions: { taskDefinition: string }[] }>(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [brief!.targetServiceRevisionArn] }),
    );
    expect(revisions.serviceRevisions[0]!.taskDefinition).toContain('web:2');
    const described = await send<{ serviceDeployments: unknown[]; failures: unknown[] }>(
      new DescribeServiceDeploymentsCommand({
        serviceDeploymentArns: [brief!.serviceDeploymentArn, `${brief!.serviceDeploymentArn}x`],
      }),
    );
    expect(described.serviceDeployments[0]).toMatchObject({
      lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
      deploymentConfiguration: {
        strategy: 'CANARY',
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 30 },
      },
      targetServiceRevision: { requestedProductionTrafficWeight: 10, runningTaskCount: 2 },
      sourceServiceRevisions: [{ requestedProductionTrafficWeight: 90, runningTaskCount: 2 }],
    });
    expect(described.failures).toEqual([{ arn: `${brief!.serviceDeploymentArn}x`, reason: 'MISSING' }]);
    const services = await send<{ services: Record<string, unknown>[] }>(
      new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }),
    );
    expect(services.services[0]).toMatchObject({
      deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 10 } },
      loadBalancers: [
        { advancedConfiguration: { productionListenerRule: twin.traffic.route('web').ruleArn } },
      ],
    });

    const stop = () =>
      send(
        new StopServiceDeploymentCommand({
          serviceDeploymentArn: brief!.serviceDeploymentArn,
          stopType: 'ROLLBACK',
        }),
      );
    const statuses = async () =>
      (
        await send<{ serviceDeployments: { status: string }[] }>(
          new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }),
        )
      ).serviceDeployments.map((d) => d.status);
    const stopped = await stop();
    // The developer guide: IN_PROGRESS moves to ROLLBACK_REQUESTED, then the rollback starts; a stop while it
    // is requested or in progress goes on as it was.
    expect(await statuses()).toEqual(['ROLLBACK_REQUESTED']);
    const weightsBefore = ecsWeights().length;
    expect(await stop()).toEqual(
      expect.objectContaining({ serviceDeploymentArn: brief!.serviceDeploymentArn }),
    );
    expect(await statuses()).toEqual(['ROLLBACK_REQUESTED']);
    await twin.runFor(5);
    expect(await statuses()).toEqual(['ROLLBACK_IN_PROGRESS']);
    expect(ecsWeights().slice(weightsBefore)).toEqual([[expect.anything(), 0]]);
    await stop();
    expect(await statuses()).toEqual(['ROLLBACK_IN_PROGRESS']);
    await twin.runFor(60);
    await expect(stop()).rejects.toMatchObject({ name: 'ConflictException' });
    const unknown = send(
      new StopServiceDeploymentCommand({ serviceDeploymentArn: `${brief!.serviceDeploymentArn}x` }),
    );
    await expect(unknown).rejects.toMatchObject({ name: 'ServiceDeploymentNotFoundException' });

    expect(stopped).toEqual(expect.objectContaining({ serviceDeploymentArn: brief!.serviceDeploymentArn }));
    expect(twin.nativeDeployments.deployments[0]!.rollback?.reason).toContain('StopServiceDeployment');
    expect(events.map((e) => e.eventName)).toContain('SERVICE_DEPLOYMENT_FAILED');
    expect(await statuses()).toEqual(['ROLLBACK_SUCCESSFUL']);
  });
});
