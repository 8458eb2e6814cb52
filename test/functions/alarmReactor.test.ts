// The alarm reactor handler as Lambda runs it: an EventBridge event in, scaling calls out, on the twin.
import { ReactionsSchema } from '#domain/alarmReactions';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { loadSample } from '#events/samples';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import { logger } from '#runtime/powertools';
import { guardedDeploymentPorts } from '#wiring/alarmReactor';
import { besidesParking } from '../support/apiCalls';

const reactions = ReactionsSchema.parse([
  {
    id: 'surge',
    alarm: { name: 'prod-web-cpu-high' },
    target: { kind: 'auto-scaling-group', name: 'prod-asg' },
    action: { kind: 'add-capacity', by: 2 },
    bounds: { min: 2, max: 6 },
  },
]);

async function aWorld(dryRun = false) {
  const twin = new Twin({
    seed: 5,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    alarmReactor: { dryRun, reactions },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  twin.scaling.addGroup({
    name: 'prod-asg',
    cluster: 'prod',
    min: 1,
    max: 10,
    desired: 2,
    instance: { cpu: 4096, memory: 8192 },
    launchSeconds: 60,
    policies: new Map(),
  });
  twin.cloudWatch.addAlarm({
    kind: 'metric',
    name: 'prod-web-cpu-high',
    metric: 'CPUUtilization',
    dimensions: { ClusterName: 'prod', ServiceName: 'web' },
    comparison: 'GreaterThanThreshold',
    threshold: 75,
    periodSeconds: 60,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    tags: {},
  });
  twin.cloudWatch.setGauge('CPUUtilization', { ClusterName: 'prod', ServiceName: 'web' }, 88);
  twin.start();
  await twin.runFor(61);
  const handler = createAlarmReactorHandler(() => ({
    ports: twin.alarmPorts,
    settings: { dryRun, reactions },
  }));
  return { twin, handler };
}

const writes = (twin: Twin) =>
  twin.world.apiCalls.filter((c) => c.write && !c.failed).map((c) => `${c.api} ${c.target}`);

describe('alarmReactor handler', () => {
  it('raises capacity when the alarm it reads is in ALARM, and tells people', async () => {
    // Prepare
    const { twin, handler } = await aWorld();

    // Act
    await handler(loadSample('cloudwatch-alarm-metric-alarm'), lambdaContext('alarmReactor'));

    // Assess
    expect(writes(twin)).toEqual([
      expect.stringMatching(/^CreateOrUpdateTags asg\/prod-asg/),
      'SetDesiredCapacity prod-asg desired=4',
      expect.stringMatching(/^CreateOrUpdateTags asg\/prod-asg/),
      'Publish ecs-reflex: asg/prod-asg desired 2 -> 4 (prod-web-cpu-high)',
    ]);
    expect(twin.recorders.notifications).toEqual([
      expect.objectContaining({
        reflex: 'alarm-reactor',
        target: 'prod-asg',
        summary: expect.stringMatching(
          /^prod-web-cpu-high is in ALARM: reaction \S+ set asg\/prod-asg desired from 2 to 4\./,
        ),
        steer: [expect.objectContaining({ command: "ecs-reflex actions --target 'asg/prod-asg desired'" })],
      }),
    ]);
  });

  it('raises capacity even when stopping guarded deployments fails, and fails the event so it is retried', async () => {
    // Prepare: ECS throttles the look for the hook's services' deployments
    const { twin } = await aWorld();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const handler = createAlarmReactorHandler(() => ({
      ports: twin.alarmPorts,
      settings: { dryRun: false, reactions },
      deployments: {
        ports: {
          ...guardedDeploymentPorts(twin.clients, twin.alarmPorts),
          stops: { unfinished: async () => Promise.reject(throttled), stop: async () => ({ stopped: true }) },
        },
        settings: {
          dryRun: false,
          services: [{ cluster: 'prod', service: 'web' }],
          hookFunctionName: 'hook',
        },
      },
    }));

    // Act
    const invocation = handler(loadSample('cloudwatch-alarm-metric-alarm'), lambdaContext('alarmReactor'));

    // Assess
    await expect(invocation).rejects.toThrow('Rate exceeded');
    expect(writes(twin)).toContain('SetDesiredCapacity prod-asg desired=4');
  });

  it('acts on the alarm as CloudWatch has it now, not on a stale event', async () => {
    // Prepare: the event says OK, CloudWatch says ALARM
    const { twin, handler } = await aWorld();
    const stale = structuredClone(loadSample('cloudwatch-alarm-metric-alarm')) as {
      detail: { state: { value: string } };
    };
    stale.detail.state.value = 'OK';

    // Act
    await handler(stale, lambdaContext('alarmReactor'));
    await handler(stale, lambdaContext('alarmReactor'));

    // Assess: applied once, never restored on the stale OK
    expect(writes(twin).filter((w) => w.startsWith('SetDesiredCapacity'))).toEqual([
      'SetDesiredCapacity prod-asg desired=4',
    ]);
  });

  it('parks malformed input with its reason and touches nothing', async () => {
    // Prepare
    const { twin, handler } = await aWorld();
    const broken = structuredClone(loadSample('cloudwatch-alarm-metric-alarm')) as {
      detail: Record<string, unknown>;
    };
    delete broken.detail.alarmName;
    const before = twin.world.apiCalls.length;

    // Act
    const result = await handler(broken, lambdaContext('alarmReactor'));

    // Assess
    expect(result).toEqual({ status: 'rejected' });
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
    expect(twin.recorders.parked).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('detail.alarmName') }),
    ]);
  });

  it('ignores alarms no reaction names, and other event kinds', async () => {
    // Prepare
    const { twin, handler } = await aWorld();
    const other = structuredClone(loadSample('cloudwatch-alarm-metric-alarm')) as {
      detail: { alarmName: string };
    };
    other.detail.alarmName = 'someone-elses-alarm';
    const before = twin.world.apiCalls.length;

    // Act
    const results = [
      await handler(other, lambdaContext('alarmReactor')),
      await handler(loadSample('ecs-task-running'), lambdaContext('alarmReactor')),
    ];

    // Assess
    expect(results).toEqual([expect.objectContaining({ status: 'ignored' }), { status: 'ignored' }]);
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
  });

  it.each([
    ['another account', { account: '444455556666' }],
    ['another region', { region: 'us-east-1' }],
  ])(
    'ignores an alarm event from %s with a log line, and reads no alarm of its own name',
    async (_, where) => {
      // Prepare: the same alarm name, in ALARM here, but the event is not of this stack's account and region
      const { twin, handler } = await aWorld();
      const foreign = {
        ...(structuredClone(loadSample('cloudwatch-alarm-metric-alarm')) as object),
        ...where,
      };
      const warned = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const before = twin.world.apiCalls.length;

      // Act
      const result = await handler(foreign, lambdaContext('alarmReactor'));

      // Assess
      expect(result).toEqual(expect.objectContaining({ status: 'ignored' }));
      expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
      expect(warned).toHaveBeenCalledWith(
        'ignored an event from another account or region',
        expect.objectContaining({ why: expect.stringMatching(/^from (account|region) /) }),
      );
      warned.mockRestore();
    },
  );

  it.each([
    // Auto Scaling's unmodeled code, and the JSON APIs' (Application Auto Scaling, CloudWatch)
    { error: 'ValidationError', retried: false },
    { error: 'ValidationException', retried: false },
    { error: 'ThrottlingException', retried: true },
  ])(
    'journals a refused write ($error) as failed, and fails the event only if a retry can help',
    async ({ error, retried }) => {
      // Prepare: the knob's write is refused
      const { twin } = await aWorld();
      const refusal = Object.assign(new Error('refused'), { name: error });
      const scaling = { ...twin.alarmPorts.scaling, write: async () => Promise.reject(refusal) };
      const handler = createAlarmReactorHandler(() => ({
        ports: { ...twin.alarmPorts, scaling },
        settings: { dryRun: false, reactions },
      }));

      // Act
      const outcome = handler(
        loadSample('cloudwatch-alarm-metric-alarm'),
        lambdaContext('alarmReactor'),
      ).then(
        () => 'handled',
        () => 'failed',
      );

      // Assess
      expect(await outcome).toBe(retried ? 'failed' : 'handled');
      expect(twin.journal).toContainEqual(
        expect.objectContaining({
          action: 'apply',
          outcome: 'failed',
          reason: expect.stringContaining(error),
        }),
      );
    },
  );

  it('in dry-run logs the change and makes none', async () => {
    // Prepare
    const { twin, handler } = await aWorld(true);

    // Act
    await handler(loadSample('cloudwatch-alarm-metric-alarm'), lambdaContext('alarmReactor'));

    // Assess
    expect(writes(twin)).toEqual([]);
    expect(twin.journal).toEqual([
      expect.objectContaining({ action: 'apply', outcome: 'dry-run', reason: '2 -> 4' }),
    ]);
  });
});
