// Malformed input through every handler, on the twin, as properties: real samples mutated at one place
// (a field removed, a wrong type, a huge string, deep nesting, an unknown field or detail-type), damaged
// message bodies (truncated JSON, 256 KB), fully random JSON, and random requests on every ops API route.
// For each: no AWS write, and a structured answer instead of a retry storm (DESIGN.md, "Bad input").
//
// "No write" proves something only where a valid input would write: every property runs in a world in
// which each handler's valid samples (the seeds the malformed inputs come from) make at least one AWS
// write, and the first test shows it, per handler. An accepted input that wrote (a mutation that is
// still valid) uses that invitation up, so the world is built afresh after it. The runs per property
// come from MALFORMED_RUNS (200 by default; the ops API gets 2.5 times as many); a summary per handler
// (runs, rejected, accepted, accepted and wrote) is printed at the end.
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import fc from 'fast-check';
import { ReactionsSchema } from '#domain/alarmReactions';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { readAlarmReactorInput } from '#events/alarmReactorInput';
import { LifecycleDeliverySchema } from '#events/autoscaling';
import { opsRoutes } from '#events/opsApi';
import { RolloutSpecSchema } from '#events/rollout';
import { loadSample, sampleNames } from '#events/samples';
import { ExecutionStatusChangeSchema } from '#events/stepfunctions';
import { readTaskRecyclerInput } from '#events/taskRecyclerInput';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { createInstanceLifecycleStepHandler } from '#functions/instanceLifecycleStep';
import { createLifecycleHookHandler } from '#functions/lifecycleHook';
import { createOpsHandler } from '#functions/opsApi';
import { createRolloutSafetyNetHandler } from '#functions/rolloutSafetyNet';
import { createRolloutStepHandler } from '#functions/rolloutStep';
import { createTaskRecyclerHandler } from '#functions/taskRecycler';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import { isParking } from '../support/apiCalls';
import {
  damagedText,
  deepNesting,
  hugeString,
  mutated,
  type Path,
  randomJson,
  setAt,
  wrongTypeFor,
} from '../support/malformed';
import { MESH_ROUTE } from '../support/rollouts';
import { sqsBatch } from '../support/sqs';

/** Fixed, so CI replays the same inputs; fast-check prints seed and path of any counterexample. */
const SEED = 20261102;
const RUNS = Number(process.env.MALFORMED_RUNS ?? 200);
const params = (numRuns = RUNS): fc.Parameters<unknown> => ({ seed: SEED, numRuns, endOnFailure: true });

/** The topic the notification sample came through: the terminate hook's own. */
const TOPIC_OF_SAMPLE = 'arn:aws:sns:eu-west-1:111122223333:prod-ecs-lifecycle';

const HOOKS = ['launch', 'terminate'].map((transition) =>
  LifecycleHookConfigSchema.parse({
    groupName: 'prod-ecs-ondemand',
    hookName: `ecs-reflex-${transition}`,
    cluster: 'prod',
    ...(transition === 'terminate' ? { notificationTopicArn: TOPIC_OF_SAMPLE } : {}),
  }),
);

/** Every alarm of the samples raises the web service by one task while it lasts. */
const REACTIONS = ReactionsSchema.parse([
  {
    id: 'web-busy',
    alarm: { prefix: 'prod-web-' },
    target: { kind: 'ecs-service', cluster: 'prod', service: 'web' },
    action: { kind: 'add-capacity', by: 1 },
    bounds: { min: 1, max: 10 },
    cooldownSeconds: 0,
  },
]);

/** The run the safety-net sample names: it owns the route, so its bad end restores the route. */
const RUN_OF_SAMPLE = 'web-release-42';
/** The run the rollout steps' state names: in the steps' world, it owns the route. */
const RUN_OF_STEPS = 'web-1';

/**
 * The world every handler runs in, where each valid sample acts: a cluster with an instance, a web service
 * the alarm reaction scales, a standalone `batch` task that crashed (the recycler restarts its family),
 * the launch and terminate hooks of the lifecycle samples, and a mesh route at 70/30 owned by the run
 * the safety-net sample names (a rollout step shifts it, the safety net restores it, the ops API sets it).
 */
async function aTwin(owner = RUN_OF_SAMPLE, canary = owner === RUN_OF_STEPS ? 0 : 30) {
  const policy = defaultRecyclerPolicy();
  policy.restartStandalone.families = ['batch'];
  const twin = new Twin({
    seed: 7,
    settings: { clusters: ['prod'], dryRun: false, policy },
    lifecycle: { dryRun: false, hooks: HOOKS },
    deliverEvents: false,
  });
  const { world } = twin;
  world.addCluster('prod');
  world.addInstance('prod', 4096, 8192);
  for (const family of ['web', 'batch'])
    world.addTaskDefinition({
      family,
      revision: 3,
      cpu: 256,
      memory: 512,
      networkMode: 'bridge',
      containerName: family,
      containerPort: 9000,
      behaviour: { startSeconds: 5, healthy: true },
    });
  world.addService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: 'web:3',
    desiredCount: 1,
    targetGroups: [],
    maximumPercent: 200,
    circuitBreaker: false,
    healthCheckGraceSeconds: 0,
    history: [],
  });
  // The samples' alarms, in ALARM after their first evaluation; the composite follows the first.
  for (const name of ['prod-web-cpu-high', 'prod-web-canary-5xx-rate'])
    twin.cloudWatch.addAlarm({
      kind: 'metric',
      name,
      metric: 'CPUUtilization',
      dimensions: { ClusterName: 'prod', ServiceName: 'web' },
      comparison: 'GreaterThanThreshold',
      threshold: 75,
      periodSeconds: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      tags: {},
    });
  twin.cloudWatch.addAlarm({
    kind: 'composite',
    name: 'prod-web-degraded',
    rule: 'ALARM("prod-web-cpu-high")',
    tags: {},
  });
  twin.cloudWatch.setGauge('CPUUtilization', { ClusterName: 'prod', ServiceName: 'web' }, 88);
  twin.cloudWatch.start();
  const batch = world.runTask({ cluster: 'prod', taskDefinitionArn: 'batch:3' });
  if (!('arn' in batch)) throw new Error(`no room for the batch task: ${batch.failure}`);
  await twin.runFor(10);
  world.crash(batch, 1);
  await twin.runFor(60);
  twin.traffic.addMeshRoute({
    meshName: 'shop',
    virtualRouterName: 'web',
    routeName: 'web',
    protocol: 'http',
    targets: [
      { virtualNode: 'web-v1', weight: 100 - canary },
      { virtualNode: 'web-v2', weight: canary },
    ],
  });
  await twin.rolloutPorts.routers.appmesh.setOwner(MESH_ROUTE, owner);
  // Rollouts may run only on declared routes: the steps' route is one.
  twin.declaredRoutes.push({ name: 'web', route: MESH_ROUTE });
  // The fail-safe completes only an action Auto Scaling still holds: the steps' instance waits at launch.
  const group = twin.scaling.addGroup({
    name: HOOK.groupName,
    cluster: 'prod',
    min: 0,
    max: 2,
    desired: 0,
    instance: { cpu: 4096, memory: 8192 },
    launchSeconds: 60,
    policies: new Map(),
  });
  group.pending.push(HOOK.instanceId);
  /** AWS writes the reflexes made (tried), refused ones too. */
  const writes = () => twin.world.apiCalls.filter((c) => c.write && !isParking(c)).length;
  const parked = () => twin.deadLetters.length;
  return { twin, writes, parked };
}

type World = Awaited<ReturnType<typeof aTwin>>;

/**
 * The world of one property, with a count of what its runs did. `run` hands the body the current world;
 * a run that wrote used up the world's invitation to write, so the next run gets a fresh one.
 */
function worldsFor(handler: string, owner?: string) {
  let current: World | undefined;
  const tally = { handler, runs: 0, rejected: 0, accepted: 0, wrote: 0 };
  tallies.push(tally);
  return {
    tally,
    async run(body: (world: World) => Promise<{ rejected: boolean }>): Promise<void> {
      current ??= await aTwin(owner);
      const before = current.writes();
      const { rejected } = await body(current);
      tally.runs += 1;
      if (rejected) tally.rejected += 1;
      else tally.accepted += 1;
      if (current.writes() > before) {
        tally.wrote += 1;
        current = undefined;
      }
    },
  };
}

const tallies: { handler: string; runs: number; rejected: number; accepted: number; wrote: number }[] = [];
afterAll(() => {
  const lines = ['handler | runs | rejected | accepted | accepted and wrote', '--- | --- | --- | --- | ---'];
  for (const t of tallies)
    lines.push(`${t.handler} | ${t.runs} | ${t.rejected} | ${t.accepted} | ${t.wrote}`);
  console.log(lines.join('\n'));
});

const sqs = (bodies: string[]): SQSEvent => sqsBatch(bodies, 'buffer');

/** What a handler did with one input: its answer, or what it threw. */
async function outcomeOf<T>(
  run: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** A sample, mutated at one place; or random JSON in its stead. */
const malformedFrom = (names: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...names).chain((name) => mutated(loadSample(name))) },
    {
      weight: 1,
      arbitrary: fc
        .record({ name: fc.constantFrom(...names), detailType: fc.string({ maxLength: 40 }) })
        .map(({ name, detailType }) => ({
          value: { ...(loadSample(name) as object), 'detail-type': detailType },
          how: `detail-type ${JSON.stringify(detailType)}`,
        })),
    },
    { weight: 1, arbitrary: randomJson },
  );

/** An SQS body: a malformed event as JSON text, or damaged text. */
const malformedBody = (names: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: malformedFrom(names).map(({ value }) => JSON.stringify(value) ?? 'undefined') },
    { weight: 2, arbitrary: fc.constantFrom(...names).chain((name) => damagedText(loadSample(name))) },
  );

const HOOK = {
  groupName: 'prod-ecs-ondemand',
  hookName: 'ecs-reflex-launch',
  instanceId: 'i-0f9e8d7c6b5a43210',
  token: '3c5e7a9b-1d3f-4a5c-8e7b-9d1f3a5c7e9b',
  transition: 'launch',
  cluster: 'prod',
  startedAt: '2026-11-02T09:00:00Z',
};
const hookPaths: Path[] = [['hook'], ...Object.keys(HOOK).map((key) => ['hook', key])];
// Each seed with the paths a change of type, or removal, always makes invalid (from the step's schema).
const LIFECYCLE_SEEDS: { seed: object; required: Path[]; typed: Path[] }[] = [
  {
    seed: { action: 'look', hook: HOOK, progress: { looks: 2 } },
    required: [['action'], ...hookPaths, ['progress'], ['progress', 'looks']],
    typed: [],
  },
  {
    seed: { action: 'fail-safe', hook: HOOK, progress: { looks: 1 }, error: { Error: 'X', Cause: 'y' } },
    required: [['action'], ...hookPaths],
    typed: [['progress'], ['error'], ['error', 'Error'], ['error', 'Cause']],
  },
];

const REQUEST = {
  service: 'web',
  route: MESH_ROUTE,
  schedule: { kind: 'weights', weights: [10, 50], bakeSeconds: 300 },
};
const STATE = {
  rollout: REQUEST,
  run: { id: 'web-1', startedAt: '2026-11-02T09:00:00Z' },
  plan: [
    { canary: 10, bakeSeconds: 300 },
    { canary: 50, bakeSeconds: 300 },
  ],
  progress: { step: 0, weights: { stable: 90, canary: 10 }, windowStart: '2026-11-02T09:00:00.000Z' },
};
const statePaths: Path[] = [
  ['state'],
  ['state', 'rollout'],
  ['state', 'run'],
  ['state', 'run', 'id'],
  ['state', 'run', 'startedAt'],
  ['state', 'plan'],
  ['state', 'plan', 0, 'canary'],
  ['state', 'plan', 0, 'bakeSeconds'],
  ['state', 'progress'],
  ['state', 'progress', 'step'],
  ['state', 'progress', 'weights'],
  ['state', 'progress', 'weights', 'stable'],
  ['state', 'progress', 'weights', 'canary'],
  ['state', 'progress', 'windowStart'],
];
const ROLLOUT_SEEDS = [
  {
    seed: { action: 'prepare', runId: 'web-1', rollout: REQUEST },
    required: [['action'], ['runId']],
    typed: [],
  },
  ...['shift', 'verify', 'analyse', 'gate', 'promote', 'scale-down'].map((action) => ({
    seed: { action, state: STATE },
    required: [['action'], ...statePaths],
    typed: [],
  })),
  {
    seed: {
      action: 'rollback',
      state: { rollout: REQUEST, run: { id: 'web-1' }, reason: 'r' },
      error: { Error: 'E' },
    },
    required: [['action'], ['state'], ['state', 'rollout'], ['state', 'run'], ['state', 'run', 'id']],
    typed: [['state', 'reason'], ['error'], ['error', 'Error']],
  },
] as { seed: object; required: Path[]; typed: Path[] }[];

/**
 * The step inputs the invalid ones start from: those whose valid form writes in this world. Left out: a
 * launch `look` (the hook's instance is not one the twin has, so the step finds nothing to do), and the
 * rollout steps that only read (verify, analyse) or find nothing to write here (shift and promote see
 * the route as edited by hand, scale-down has no service to scale down).
 */
const WRITING_LIFECYCLE_SEEDS = LIFECYCLE_SEEDS.filter(
  ({ seed }) => (seed as { action: string }).action === 'fail-safe',
);
const WRITING_ROLLOUT_SEEDS = ROLLOUT_SEEDS.filter(({ seed }) =>
  ['prepare', 'gate', 'rollback'].includes((seed as { action: string }).action),
);

/** What each handler is fed in this file, as the twin's delivery would feed it. */
const invoke = {
  taskRecycler: ({ twin }: World, bodies: string[]) =>
    createTaskRecyclerHandler(() => ({ ports: twin.ports, settings: twin.settings }))(
      sqs(bodies),
      lambdaContext('taskRecycler'),
    ),
  alarmReactor: ({ twin }: World, event: unknown) =>
    createAlarmReactorHandler(() => ({
      ports: twin.alarmPorts,
      settings: { dryRun: false, reactions: REACTIONS },
    }))(event, lambdaContext('alarmReactor')),
  lifecycleHook: ({ twin }: World, event: unknown) =>
    createLifecycleHookHandler(() => ({
      ports: twin.lifecyclePorts,
      settings: { dryRun: false, hooks: HOOKS },
    }))(event, lambdaContext('lifecycleHook')),
  rolloutSafetyNet: ({ twin }: World, event: unknown) =>
    createRolloutSafetyNetHandler(() => ({ ports: twin.rolloutPorts }))(
      event,
      lambdaContext('rolloutSafetyNet'),
    ),
};

/**
 * The samples each handler's malformed inputs start from: those a valid copy of makes the handler write in
 * this world. Left out, as they never write by design: ECS events the recycler only reads or logs (a task
 * running, service and deployment events, a draining instance, placement failures it reports as a metric,
 * stops of service tasks, which the ECS scheduler replaces), the Auto Scaling test notification, and alarm
 * states other than ALARM (OK restores only what an ALARM changed; INSUFFICIENT_DATA does nothing).
 */
const SEEDS = {
  taskRecycler: ['ecs-task-stopped-standalone-batch'],
  alarmReactor: [
    'cloudwatch-alarm-composite',
    'cloudwatch-alarm-metric-alarm',
    'cloudwatch-alarm-metric-math',
  ],
  lifecycleHook: [
    'asg-lifecycle-launch-eventbridge',
    'asg-lifecycle-terminate-eventbridge',
    'asg-lifecycle-sns-notification',
    'asg-lifecycle-sqs-body',
  ],
  rolloutSafetyNet: ['sfn-rollout-execution-failed'],
};

describe('the world the properties run in', () => {
  const writesOf = async (act: (world: World) => Promise<unknown>, owner?: string) => {
    const world = await aTwin(owner);
    const before = world.writes();
    // A step may write and still throw (a verify that finds the weights not applied yet): the write counts.
    await act(world).catch(() => undefined);
    return world.writes() - before;
  };

  it('makes each valid sample, step and request write at least once', async () => {
    // Act
    const wrote: Record<string, number> = {};
    for (const name of SEEDS.taskRecycler)
      wrote[name] = await writesOf((w) => invoke.taskRecycler(w, [JSON.stringify(loadSample(name))]));
    for (const name of SEEDS.alarmReactor)
      wrote[name] = await writesOf((w) => invoke.alarmReactor(w, loadSample(name)));
    for (const name of SEEDS.lifecycleHook.filter((n) => n !== 'asg-lifecycle-sqs-body'))
      wrote[name] = await writesOf((w) => invoke.lifecycleHook(w, loadSample(name)));
    wrote['asg-lifecycle-sqs-body (SQS)'] = await writesOf((w) =>
      invoke.lifecycleHook(w, sqs([JSON.stringify(loadSample('asg-lifecycle-sqs-body'))])),
    );
    for (const name of SEEDS.rolloutSafetyNet)
      wrote[name] = await writesOf((w) => invoke.rolloutSafetyNet(w, loadSample(name)));
    for (const { seed } of WRITING_LIFECYCLE_SEEDS)
      wrote[`instanceLifecycleStep ${(seed as { action: string }).action}`] = await writesOf(({ twin }) =>
        createInstanceLifecycleStepHandler(() => ({
          ports: twin.lifecyclePorts,
          settings: { dryRun: false, hooks: HOOKS },
        }))(seed, lambdaContext('instanceLifecycleStep')),
      );
    for (const { seed } of WRITING_ROLLOUT_SEEDS)
      wrote[`rolloutStep ${(seed as { action: string }).action}`] = await writesOf(
        ({ twin }) =>
          createRolloutStepHandler(() => ({ ports: twin.rolloutPorts }))(seed, lambdaContext('rolloutStep')),
        RUN_OF_STEPS,
      );
    wrote['opsApi PUT /routes/web/weights'] = await writesOf(({ twin }) =>
      createOpsHandler(['write'], () => ({
        ports: twin.opsPorts,
        settings: { routes: [{ name: 'web', route: MESH_ROUTE }], clusters: ['prod'] },
      }))(
        apiEvent({
          method: 'PUT',
          path: '/routes/web/weights',
          body: JSON.stringify({ canary: 20, force: true }),
          base64: false,
          caller: true,
          contentType: 'application/json',
        }),
        lambdaContext('ops'),
      ),
    );

    // Assess
    expect(
      Object.values(SEEDS)
        .flat()
        .filter((name) => !sampleNames().includes(name)),
    ).toEqual([]);
    expect(Object.entries(wrote).filter(([, n]) => n < 1)).toEqual([]);
  });
});

describe('malformed input, through every handler (properties)', () => {
  it('taskRecycler: answers a partial batch response, parks what it rejects, writes nothing for it', async () => {
    const worlds = worldsFor('taskRecycler');
    const bodies = fc.array(malformedBody(SEEDS.taskRecycler), { minLength: 1, maxLength: 4 });

    await fc.assert(
      fc.asyncProperty(bodies, (batch) =>
        worlds.run(async (world) => {
          const [writesBefore, parkedBefore] = [world.writes(), world.parked()];
          const rejected = batch.map((body) => readTaskRecyclerInput(body).kind === 'rejected');

          const outcome = await outcomeOf(() => invoke.taskRecycler(world, batch));

          if (rejected.every(Boolean)) expect(world.writes()).toBe(writesBefore);
          // Every rejected record parked once, never retried.
          expect(world.parked() - parkedBefore).toBe(rejected.filter(Boolean).length);
          if (outcome.ok) {
            const failed = (outcome.value as SQSBatchResponse).batchItemFailures.map((f) => f.itemIdentifier);
            for (const id of failed) expect(rejected[Number(id.slice(1))]).toBe(false);
          } else {
            // Only a batch in which every record was readable, and failed, is thrown back whole.
            expect(outcome.error.name).toBe('FullBatchFailureError');
            expect(rejected.some(Boolean)).toBe(false);
          }
          return { rejected: rejected.every(Boolean) };
        }),
      ),
      params(),
    );
  });

  it('alarmReactor: never throws for input that cannot succeed, parks it, writes nothing', async () => {
    const worlds = worldsFor('alarmReactor');
    const events = malformedFrom(SEEDS.alarmReactor);

    await fc.assert(
      fc.asyncProperty(events, ({ value }) =>
        worlds.run(async (world) => {
          const [writesBefore, parkedBefore] = [world.writes(), world.parked()];
          const rejected = readAlarmReactorInput(value).kind === 'rejected';

          const outcome = await outcomeOf(() => invoke.alarmReactor(world, value));

          if (!outcome.ok) throw outcome.error;
          if (rejected) {
            expect(world.writes()).toBe(writesBefore);
            expect(outcome.value).toEqual({ status: 'rejected' });
            expect(world.parked() - parkedBefore).toBe(1);
          } else {
            expect(world.parked()).toBe(parkedBefore);
          }
          return { rejected };
        }),
      ),
      params(),
    );
  });

  it('lifecycleHook (EventBridge): never throws for input that cannot succeed, parks it, writes nothing', async () => {
    const worlds = worldsFor('lifecycleHook (EventBridge)');
    // Single events only: an object with a Records array is the SQS form, which has its own property.
    const events = malformedFrom(SEEDS.lifecycleHook).filter(
      ({ value }) => !(typeof value === 'object' && value !== null && 'Records' in value),
    );

    await fc.assert(
      fc.asyncProperty(events, ({ value }) =>
        worlds.run(async (world) => {
          const [writesBefore, parkedBefore] = [world.writes(), world.parked()];
          const rejected = !LifecycleDeliverySchema.safeParse(value).success;

          const outcome = await outcomeOf(() => invoke.lifecycleHook(world, value));

          if (rejected) {
            if (!outcome.ok) throw outcome.error;
            expect(outcome.value).toEqual({ status: 'rejected' });
            expect(world.parked() - parkedBefore).toBe(1);
            expect(world.writes()).toBe(writesBefore);
          }
          return { rejected };
        }),
      ),
      params(),
    );
  });

  it('lifecycleHook (SQS): answers a partial batch response, parks what it rejects, writes nothing for it', async () => {
    const worlds = worldsFor('lifecycleHook (SQS)');
    const bodies = fc.array(malformedBody(SEEDS.lifecycleHook), { minLength: 1, maxLength: 4 });

    await fc.assert(
      fc.asyncProperty(bodies, (batch) =>
        worlds.run(async (world) => {
          const [writesBefore, parkedBefore] = [world.writes(), world.parked()];
          const rejected = batch.map((body) => !LifecycleDeliverySchema.safeParse(body).success);

          const outcome = await outcomeOf(() => invoke.lifecycleHook(world, sqs(batch)));

          expect(world.parked() - parkedBefore).toBe(rejected.filter(Boolean).length);
          if (rejected.every(Boolean)) expect(world.writes()).toBe(writesBefore);
          if (outcome.ok) {
            const failed = (outcome.value as SQSBatchResponse).batchItemFailures.map((f) => f.itemIdentifier);
            for (const id of failed) expect(rejected[Number(id.slice(1))]).toBe(false);
          } else {
            expect(outcome.error.name).toBe('FullBatchFailureError');
            expect(rejected.some(Boolean)).toBe(false);
          }
          return { rejected: rejected.every(Boolean) };
        }),
      ),
      params(),
    );
  });

  describe('Step Functions steps: InvalidInputError with issues, nothing written', () => {
    /** Inputs that can never be a valid step: a required field removed or of the wrong type, or random. */
    function invalidFrom(seeds: { seed: object; required: Path[]; typed: Path[] }[]) {
      return fc.oneof(
        fc.constantFrom(...seeds).chain(({ seed, required, typed }) =>
          fc.oneof(
            fc.constantFrom(...required).map((path) => ({
              value: setAt(seed, path, undefined, true),
              how: `removed ${path.join('.')}`,
            })),
            fc.constantFrom(...required, ...typed).chain((path) =>
              fc
                .oneof(
                  wrongTypeFor(pathValue(seed, path)),
                  // Deep nesting of another kind than the field's own (an object for an object is valid).
                  deepNesting.filter((deep) => kindOf(deep) !== kindOf(pathValue(seed, path))),
                )
                .map((value) => ({ value: setAt(seed, path, value), how: `${path.join('.')} replaced` })),
            ),
          ),
        ),
        fc
          .record({ seed: fc.constantFrom(...seeds), action: fc.string({ maxLength: 30 }) })
          .filter(({ seed, action }) => action !== (seed.seed as { action: string }).action)
          .map(({ seed, action }) => ({
            value: { ...seed.seed, action },
            how: `action ${JSON.stringify(action)}`,
          })),
        randomJson,
      );
    }

    it('instanceLifecycleStep', async () => {
      const worlds = worldsFor('instanceLifecycleStep');
      const formatBroken = fc
        .record({
          seed: fc.constantFrom(...WRITING_LIFECYCLE_SEEDS),
          field: fc.constantFrom('instanceId', 'startedAt', 'transition'),
          value: hugeString,
        })
        .map(({ seed, field, value }) => ({
          value: setAt(seed.seed, ['hook', field], value),
          how: `huge ${field}`,
        }));

      await fc.assert(
        fc.asyncProperty(fc.oneof(invalidFrom(WRITING_LIFECYCLE_SEEDS), formatBroken), ({ value }) =>
          worlds.run(async ({ twin, writes }) => {
            const writesBefore = writes();
            const handler = createInstanceLifecycleStepHandler(() => ({
              ports: twin.lifecyclePorts,
              settings: { dryRun: false, hooks: HOOKS },
            }));
            const outcome = await outcomeOf(() => handler(value, lambdaContext('instanceLifecycleStep')));
            expectInvalidInput(outcome);
            expect(writes()).toBe(writesBefore);
            return { rejected: true };
          }),
        ),
        params(),
      );
    });

    it('rolloutStep', async () => {
      const worlds = worldsFor('rolloutStep', RUN_OF_STEPS);
      // Anything inside the rollout request, mutated, kept only when the request's own schema refuses it.
      const brokenRequest = fc.constantFrom(...WRITING_ROLLOUT_SEEDS).chain(({ seed }) => {
        const at: Path = 'runId' in seed ? ['rollout'] : ['state', 'rollout'];
        return mutated(REQUEST)
          .filter(({ value }) => !RolloutSpecSchema.safeParse(value).success)
          .map(({ value, how }) => ({ value: setAt(seed, at, value), how: `rollout: ${how}` }));
      });

      await fc.assert(
        fc.asyncProperty(fc.oneof(invalidFrom(WRITING_ROLLOUT_SEEDS), brokenRequest), ({ value }) =>
          worlds.run(async ({ twin, writes }) => {
            const writesBefore = writes();
            const handler = createRolloutStepHandler(() => ({ ports: twin.rolloutPorts }));
            const outcome = await outcomeOf(() => handler(value, lambdaContext('rolloutStep')));
            expectInvalidInput(outcome);
            expect(writes()).toBe(writesBefore);
            return { rejected: true };
          }),
        ),
        params(),
      );
    });
  });

  it('rolloutSafetyNet: an unreadable event is thrown as InvalidInputError (for the DLQ), never a write', async () => {
    const worlds = worldsFor('rolloutSafetyNet');
    const sample = loadSample('sfn-rollout-execution-failed') as { detail: { input: string } };
    // The execution input is JSON text inside the event: damage it as text too.
    const damagedInput = damagedText(JSON.parse(sample.detail.input)).map((input) => ({
      value: setAt(sample, ['detail', 'input'], input),
      how: 'detail.input damaged',
    }));
    const events = fc.oneof(malformedFrom(SEEDS.rolloutSafetyNet), damagedInput);

    await fc.assert(
      fc.asyncProperty(events, ({ value }) =>
        worlds.run(async (world) => {
          const writesBefore = world.writes();
          const readable = ExecutionStatusChangeSchema.safeParse(value).success;
          // A readable end whose request still names the route legitimately restores it (a write): only the
          // inputs with nothing to restore from must leave the route alone.
          const restorable = readable && restorableRoute(value);

          const outcome = await outcomeOf(() => invoke.rolloutSafetyNet(world, value));

          if (!readable) expectInvalidInput(outcome, { issues: false });
          if (!restorable) expect(world.writes()).toBe(writesBefore);
          return { rejected: !restorable };
        }),
      ),
      params(),
    );
  });

  it('opsApi: every route answers random requests with < 500, and 4xx as problem+json with a detail, no write', async () => {
    const worlds = worldsFor('opsApi');

    await fc.assert(
      fc.asyncProperty(opsRequest, whichHandler, (request, which) =>
        worlds.run(async ({ twin, writes }) => {
          const writesBefore = writes();
          const deps = () => ({
            ports: twin.opsPorts,
            settings: { routes: [{ name: 'web', route: MESH_ROUTE }], clusters: ['prod'] },
          });
          const access = which === 'own' ? (request.method === 'GET' ? 'read' : 'write') : which;

          const result = (await createOpsHandler([access], deps)(
            apiEvent(request),
            lambdaContext('ops'),
          )) as APIGatewayProxyStructuredResultV2;

          const status = result.statusCode!;
          expect(status).toBeLessThan(500);
          if (status >= 400) {
            expect(result.headers?.['content-type']).toBe('application/problem+json');
            const problem = JSON.parse(result.body ?? 'null');
            expect(problem).toMatchObject({ status, detail: expect.any(String) });
            expect(writes()).toBe(writesBefore);
          }
          if (request.method === 'GET') expect(writes()).toBe(writesBefore);
          return { rejected: status >= 400 };
        }),
      ),
      params(Math.round(RUNS * 2.5)),
    );
  });
});

function pathValue(seed: object, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)?.[key], seed);
}

const kindOf = (value: unknown) => (Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value);

function expectInvalidInput(
  outcome: { ok: true; value: unknown } | { ok: false; error: Error },
  { issues = true } = {},
): void {
  if (outcome.ok) throw new Error(`accepted: answered ${JSON.stringify(outcome.value)?.slice(0, 300)}`);
  expect(outcome.error.name).toBe('InvalidInputError');
  if (issues) {
    const { issues: found } = outcome.error as Error & { issues?: unknown[] };
    expect(Array.isArray(found) && found.length > 0).toBe(true);
  }
}

function restorableRoute(event: unknown): boolean {
  try {
    const input = JSON.parse((event as { detail: { input: string } }).detail.input);
    return input?.rollout?.route !== undefined;
  } catch {
    return false;
  }
}

// --- the ops API's requests -------------------------------------------------------------------------

interface OpsRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
  base64: boolean;
  caller: boolean;
  contentType?: string;
}

/** A path parameter: a plausible value, random text (raw or percent-encoded), or broken encoding. */
const segment = fc.oneof(
  fc.constantFrom('web', 'prod', 'web-1', 'i-0123456789abcdef0', 'api', 'nope'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('%', '%E0%A4%A', '%zz', '..', '.'),
  fc.string({ minLength: 256, maxLength: 300 }).map(encodeURIComponent),
);

const routePath = fc
  .record({ route: fc.constantFrom(...opsRoutes), values: fc.array(segment, { minLength: 3, maxLength: 3 }) })
  .map(({ route, values }) => {
    let i = 0;
    return { method: route.method as string, path: route.path.replace(/\{[^}]+\}/g, () => values[i++]!) };
  });

const opsRequest: fc.Arbitrary<OpsRequest> = fc
  .record(
    {
      target: fc.oneof(
        { weight: 5, arbitrary: routePath },
        {
          weight: 1,
          arbitrary: fc.record({
            method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'get', 'OPTIONS'),
            path: fc.oneof(
              fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
              fc.string({ maxLength: 50 }),
            ),
          }),
        },
        {
          weight: 1,
          arbitrary: routePath.chain((target) =>
            fc
              .constantFrom('GET', 'POST', 'PUT', 'DELETE')
              .map((method) => ({ ...target, method }))
              .filter(({ method }) => method !== target.method),
          ),
        },
      ),
      query: fc.option(
        fc.dictionary(
          fc.oneof(fc.constantFrom('limit', 'arn', 'reflex', 'target'), fc.string({ maxLength: 10 })),
          fc.oneof(
            fc.string({ maxLength: 30 }),
            fc.integer().map(String),
            fc.constantFrom('-1', '0', '1e9', 'NaN'),
          ),
          { maxKeys: 3 },
        ),
        { nil: undefined },
      ),
      body: fc.option(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          fc
            .record(
              {
                canary: fc.oneof(fc.integer({ min: -5, max: 105 }), fc.string(), fc.constant(null)),
                force: fc.oneof(fc.boolean(), fc.string()),
                dryRun: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
                dryrun: fc.boolean(),
                cluster: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
                reason: fc.oneof(fc.string({ minLength: 501, maxLength: 600 }), fc.integer()),
                rollout: fc.jsonValue({ maxDepth: 2 }),
              },
              { requiredKeys: [] },
            )
            .filter((body) => Object.keys(body).length > 0)
            .map((v) => JSON.stringify(v)),
          damagedText({ name: 'web-2', rollout: { service: 'web', route: MESH_ROUTE }, dryRun: true }),
          deepNesting.map((v) => JSON.stringify(v)),
        ),
        { nil: undefined },
      ),
      base64: fc.boolean(),
      // Mostly signed: an unsigned request is refused (403) before anything else is looked at.
      caller: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
      contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/xml', ''), {
        nil: undefined,
      }),
    },
    { requiredKeys: ['target', 'base64', 'caller'] },
  )
  .map(({ target, ...rest }) => ({ ...target, ...rest }));

/** Mostly the function that serves the method; sometimes the other one, which must not serve it. */
const whichHandler = fc.oneof(
  { weight: 4, arbitrary: fc.constant('own' as const) },
  { weight: 1, arbitrary: fc.constantFrom('read' as const, 'write' as const) },
);

/** An HTTP API (payload format 2.0) event as API Gateway sends it after IAM authorization. */
function apiEvent(request: OpsRequest): APIGatewayProxyEventV2WithIAMAuthorizer {
  const body =
    request.body !== undefined && request.base64
      ? Buffer.from(request.body).toString('base64')
      : request.body;
  return {
    version: '2.0',
    routeKey: `${request.method} ${request.path}`,
    rawPath: request.path,
    rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
    queryStringParameters: request.query,
    headers: request.contentType === undefined ? {} : { 'content-type': request.contentType },
    body,
    isBase64Encoded: request.body !== undefined && request.base64,
    requestContext: {
      accountId: '111122223333',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.10',
        userAgent: 'fast-check',
      },
      requestId: 'req-1',
      routeKey: `${request.method} ${request.path}`,
      stage: '$default',
      time: '01/Dec/2026:10:00:00 +0000',
      timeEpoch: 1796119200000,
      authorizer: {
        iam: request.caller
          ? {
              accessKey: 'ASIAEXAMPLE',
              accountId: '111122223333',
              callerId: 'AROAEXAMPLE:deployer',
              cognitoIdentity: null as never,
              principalOrgId: 'o-example',
              userArn: 'arn:aws:iam::111122223333:role/deployer',
              userId: 'AROAEXAMPLE:deployer',
            }
          : (undefined as never),
      },
    },
  } as APIGatewayProxyEventV2WithIAMAuthorizer;
}
