// Every handler, given an event nested 100,000 levels deep or one of 10 MB: a clean refusal (parked with a
// short reason, an InvalidInputError for the workflow's Catch or the DLQ, or a 4xx), never a RangeError
// from a recursive parse or serialisation, never a write.
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
} from 'aws-lambda';
import { MAX_MESSAGE_BYTES } from '#adapters/aws/sqsDeadLetters';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { loadSample } from '#events/samples';
import { createAlarmReactorHandler } from '#functions/alarmReactor';
import { createInstanceLifecycleStepHandler } from '#functions/instanceLifecycleStep';
import { createLifecycleHookHandler } from '#functions/lifecycleHook';
import { createOpsHandler } from '#functions/opsApi';
import { createRolloutSafetyNetHandler } from '#functions/rolloutSafetyNet';
import { createRolloutStepHandler } from '#functions/rolloutStep';
import { createTaskRecyclerHandler } from '#functions/taskRecycler';
import { createTaskRecyclerSweepHandler } from '#functions/taskRecyclerSweep';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import { isParking } from '../support/apiCalls';
import { MESH_ROUTE } from '../support/rollouts';
import { sqsBatch } from '../support/sqs';

const DEPTH = 100_000;

/** `{a: {a: ... 'bottom' ...}}`, built from the inside out: no recursion here either. */
function deep(depth = DEPTH): unknown {
  let node: unknown = 'bottom';
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
}

/** The same as JSON text, built as text (JSON.stringify of it would overflow the stack). */
const deepText = (depth = DEPTH) => `${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}`;

/** A sample event with a 10 MB field. */
const huge = (sample: string) => ({
  ...(loadSample(sample) as object),
  padding: 'x'.repeat(10 * 1024 * 1024),
});

const HOOKS = [
  LifecycleHookConfigSchema.parse({
    groupName: 'prod-ecs-ondemand',
    hookName: 'ecs-reflex-launch',
    cluster: 'prod',
  }),
];

function aTwin() {
  const twin = new Twin({
    seed: 11,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    lifecycle: { dryRun: false, hooks: HOOKS },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  twin.traffic.addMeshRoute({
    meshName: 'shop',
    virtualRouterName: 'web',
    routeName: 'web',
    protocol: 'http',
    targets: [
      { virtualNode: 'web-v1', weight: 70 },
      { virtualNode: 'web-v2', weight: 30 },
    ],
  });
  const writes = () => twin.world.apiCalls.filter((c) => c.write && !isParking(c)).length;
  return { twin, writes };
}

/** What a handler did: its answer, or what it threw. */
async function outcomeOf(run: () => Promise<unknown>): Promise<{ value?: unknown; error?: Error }> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error: error as Error };
  }
}

const inputs = [
  ['nested 100,000 levels deep', () => deep()],
  ['of 10 MB', () => ({ detail: { padding: 'x'.repeat(10 * 1024 * 1024) } })],
] as const;

describe.each(inputs)('an event %s', (_, input) => {
  it('alarmReactor: parks it with a short reason and answers rejected', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createAlarmReactorHandler(() => ({
      ports: twin.alarmPorts,
      settings: { dryRun: false, reactions: [] },
    }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('alarmReactor')));

    // Assess
    expect(outcome).toEqual({ value: { status: 'rejected' } });
    expect(twin.recorders.parked).toHaveLength(1);
    expectParkedWithinLimits(twin);
    expect(writes()).toBe(0);
  });

  it('lifecycleHook (EventBridge): parks it and answers rejected', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createLifecycleHookHandler(() => ({
      ports: twin.lifecyclePorts,
      settings: { dryRun: false, hooks: HOOKS },
    }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('lifecycleHook')));

    // Assess
    expect(outcome).toEqual({ value: { status: 'rejected' } });
    expect(twin.recorders.parked).toHaveLength(1);
    expectParkedWithinLimits(twin);
    expect(writes()).toBe(0);
  });

  it('instanceLifecycleStep: throws InvalidInputError for the workflow to fail safe', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createInstanceLifecycleStepHandler(() => ({
      ports: twin.lifecyclePorts,
      settings: { dryRun: false, hooks: HOOKS },
    }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('instanceLifecycleStep')));

    // Assess
    expectInvalidInput(outcome);
    expect(writes()).toBe(0);
  });

  it('rolloutStep: throws InvalidInputError for the workflow to roll back', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createRolloutStepHandler(() => ({ ports: twin.rolloutPorts }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('rolloutStep')));

    // Assess
    expectInvalidInput(outcome);
    expect(writes()).toBe(0);
  });

  it('rolloutSafetyNet: throws InvalidInputError, so the event is kept in the DLQ', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createRolloutSafetyNetHandler(() => ({ ports: twin.rolloutPorts }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('rolloutSafetyNet')));

    // Assess
    expectInvalidInput(outcome);
    expect(writes()).toBe(0);
  });

  it('taskRecyclerSweep: does not read it, sweeps as on any minute', async () => {
    // Prepare
    const { twin } = aTwin();
    const handler = createTaskRecyclerSweepHandler(() => ({
      ports: twin.ports,
      settings: twin.settings,
    }));

    // Act
    const outcome = await outcomeOf(() => handler(input(), lambdaContext('taskRecyclerSweep')));

    // Assess
    expect(outcome.error).toBeUndefined();
  });
});

describe.each([
  ['nested 100,000 levels deep', () => deepText()],
  ['of 10 MB', () => JSON.stringify(huge('ecs-task-stopped-essential-exit'))],
] as const)('a message body %s', (_, body) => {
  it('taskRecycler: parks the record, fails none of the batch, writes nothing', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createTaskRecyclerHandler(() => ({ ports: twin.ports, settings: twin.settings }));

    // Act
    const outcome = await outcomeOf(() => handler(sqsBatch([body()]), lambdaContext('taskRecycler')));

    // Assess
    expect(outcome).toEqual({ value: { batchItemFailures: [] } satisfies SQSBatchResponse });
    expect(twin.recorders.parked).toHaveLength(1);
    expectParkedWithinLimits(twin);
    expect(writes()).toBe(0);
  });

  it('lifecycleHook (SQS): parks the record, fails none of the batch', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createLifecycleHookHandler(() => ({
      ports: twin.lifecyclePorts,
      settings: { dryRun: false, hooks: HOOKS },
    }));

    // Act
    const outcome = await outcomeOf(() =>
      handler(sqsBatch([body()], 'lifecycle'), lambdaContext('lifecycleHook')),
    );

    // Assess
    expect(outcome).toEqual({ value: { batchItemFailures: [] } });
    expect(twin.recorders.parked).toHaveLength(1);
    expectParkedWithinLimits(twin);
    expect(writes()).toBe(0);
  });

  it('rolloutSafetyNet: an execution input this deep or large is refused, not parsed into a RangeError', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createRolloutSafetyNetHandler(() => ({ ports: twin.rolloutPorts }));
    const sample = loadSample('sfn-rollout-execution-failed') as { detail: object };
    const event = { ...sample, detail: { ...sample.detail, input: body() } };

    // Act
    const outcome = await outcomeOf(() => handler(event, lambdaContext('rolloutSafetyNet')));

    // Assess: nothing to restore from, so nothing restored
    expect(outcome.error?.name ?? 'answered').not.toBe('RangeError');
    expect(writes()).toBe(0);
  });

  it('opsApi: answers 4xx with a problem document, writes nothing', async () => {
    // Prepare
    const { twin, writes } = aTwin();
    const handler = createOpsHandler(['write'], () => ({
      ports: twin.opsPorts,
      settings: { routes: [{ name: 'web', route: MESH_ROUTE }], clusters: ['prod'] },
    }));
    const request = {
      rawPath: '/rollouts',
      headers: { 'content-type': 'application/json' },
      body: body(),
      isBase64Encoded: false,
      queryStringParameters: {},
      requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: 'arn:aws:iam::1:user/a' } } },
    } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;

    // Act
    const result = (await handler(request, lambdaContext('ops'))) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(result.body!.length).toBeLessThan(4096);
    expect(writes()).toBe(0);
  });
});

function expectInvalidInput(outcome: { value?: unknown; error?: Error }): void {
  expect(outcome.error?.name).toBe('InvalidInputError');
  expect(outcome.error!.message.length).toBeLessThan(2048);
}

/** A parked letter fits one SQS message, and its reason is short enough to read. */
function expectParkedWithinLimits(twin: Twin): void {
  for (const letter of twin.recorders.parked) {
    expect(Buffer.byteLength(letter.input)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(letter.reason.length).toBeLessThanOrEqual(1000);
  }
}
