// The task recycler handler as Lambda runs it: an SQS batch in, a partial batch response out, and the
// AWS-level calls it made against the twin's world. No mocks: the twin is the world.
import type { SQSEvent } from 'aws-lambda';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { loadSample } from '#events/samples';
import {
  createTaskRecyclerHandler,
  recordWorstCaseMs,
  type TaskRecyclerOptions,
} from '#functions/taskRecycler';
import { lambdaContext } from '#local/twin/delivery';
import { Twin } from '#local/twin/twin';
import type { RecyclerSettings } from '#runtime/config';
import { besidesParking } from '../support/apiCalls';
import { sqsBatch } from '../support/sqs';
import { addWebService } from '../support/webService';

function aWorld(settings: Partial<RecyclerSettings> = {}, options: TaskRecyclerOptions = {}) {
  const policy = defaultRecyclerPolicy();
  policy.restartStandalone.families = ['report'];
  const twin = new Twin({
    seed: 1,
    settings: { clusters: ['prod'], dryRun: false, policy, ...settings },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  twin.world.addInstance('prod', 4096, 8192);
  twin.world.addTaskDefinition({
    family: 'report',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'bridge',
    containerName: 'report',
    containerPort: 9000,
    behaviour: { startSeconds: 5, healthy: true },
  });
  const recycler = createTaskRecyclerHandler(() => ({ ports: twin.ports, settings: twin.settings }), options);
  // Invoked on the twin's clock, as Lambda would: the SDK's backoff between attempts takes virtual time.
  const handler = (...args: Parameters<typeof recycler>) => twin.settle(() => recycler(...args));
  return { twin, handler };
}

/** A real stopped-task event for a task that really stopped in the twin. */
async function crashedReportTask(twin: Twin, taskDefinitionArn = 'report:1') {
  const task = twin.world.runTask({ cluster: 'prod', taskDefinitionArn });
  if (!('arn' in task)) throw new Error('no room');
  await twin.runFor(10);
  twin.world.crash(task, 1);
  await twin.runFor(60);
  const event = structuredClone(loadSample('ecs-task-stopped-standalone-batch')) as {
    detail: Record<string, unknown>;
  };
  Object.assign(event.detail, {
    taskArn: task.arn,
    group: task.group,
    version: task.version,
    clusterArn: twin.world.arn('cluster', 'prod'),
  });
  return { task, event };
}

/** A service `web` of three running tasks, and the stop event of each task that crashes. */
async function crashedServiceTasks(twin: Twin, crashes: number) {
  addWebService(twin.world, 3, { circuitBreaker: false, healthCheckGraceSeconds: 60 });
  const victims = twin.world.runningTasks('prod', 'service:web').slice(0, crashes);
  for (const task of victims) twin.world.crash(task, 1);
  await twin.runFor(2);
  return victims.map((task) => {
    const event = structuredClone(loadSample('ecs-task-stopped-essential-exit')) as {
      detail: Record<string, unknown>;
    };
    Object.assign(event.detail, {
      taskArn: task.arn,
      group: task.group,
      version: task.version,
      clusterArn: twin.world.arn('cluster', 'prod'),
    });
    return JSON.stringify(event);
  });
}

const batch = (...bodies: string[]): SQSEvent => sqsBatch(bodies);

/** Looks at the group: each lists the group's stopped tasks once. */
const looks = (twin: Twin, from = 0) =>
  twin.world.apiCalls.slice(from).filter((c) => c.api === 'ListTasks' && c.target.endsWith('STOPPED')).length;

const writes = (twin: Twin) => twin.world.apiCalls.filter((c) => c.write && !c.failed).map((c) => c.api);

describe('taskRecycler handler', () => {
  it('restarts a crashed standalone task from its stop event', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    const before = writes(twin).length;

    // Act
    const response = await handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(writes(twin).slice(before)).toEqual(['RunTask']);
  });

  it('parks malformed input with its reason, acts on nothing, and does not ask for a retry', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    const broken = structuredClone(event);
    broken.detail.containers = 'none';
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(
      batch('{"truncated": ', JSON.stringify(broken)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
    expect(twin.recorders.parked.map((p) => p.reason)).toEqual([
      expect.stringContaining('body is not JSON'),
      expect.stringContaining('detail.containers'),
    ]);
  });

  it('ignores a duplicate of an event it already handled, and an older version of it', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    await handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'));
    const older = structuredClone(event);
    older.detail.version = (event.detail.version as number) - 1;
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(
      batch(JSON.stringify(event), JSON.stringify(older)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
  });

  it('reports only the record whose actions failed, so SQS retries just that one', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    twin.faults.add({
      api: 'RunTask',
      rate: 1,
      error: 'ThrottlingException',
      from: new Date(0),
      until: new Date(8.64e15),
    });
    const unrelated = loadSample('ecs-deployment-completed');

    // Act
    const response = await handler(
      batch(JSON.stringify(unrelated), JSON.stringify(event)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it('a retried delivery of a failed record is not mistaken for a duplicate', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    // Throttled for longer than every attempt of the SDK's retries takes, then no more.
    const throttledUntil = new Date(twin.scheduler.now().getTime() + 60_000);
    twin.faults.add({
      api: 'RunTask',
      rate: 1,
      error: 'ThrottlingException',
      from: twin.scheduler.now(),
      until: throttledUntil,
    });
    // A batch whose every record failed fails the invocation: SQS then retries the whole batch.
    await expect(handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'))).rejects.toThrow(
      /All records failed/,
    );
    await twin.runFor(60);

    // Act
    const retry = await handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'));

    // Assess
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(writes(twin)).toContain('RunTask');
  });

  it('in dry-run mode decides the same but writes nothing', async () => {
    // Prepare
    const { twin, handler } = aWorld({ dryRun: true });
    const { event } = await crashedReportTask(twin);
    const before = writes(twin).length;

    // Act
    await handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'));

    // Assess
    expect(writes(twin).slice(before)).toEqual([]);
    expect(twin.journal).toEqual([
      expect.objectContaining({ action: 'restart-task', outcome: 'dry-run', dryRun: true }),
    ]);
  });

  it('ignores clusters that are not configured', async () => {
    // Prepare
    const { twin, handler } = aWorld({ clusters: ['staging'] });
    const { event } = await crashedReportTask(twin);
    const before = twin.world.apiCalls.length;

    // Act
    await handler(batch(JSON.stringify(event)), lambdaContext('taskRecycler'));

    // Assess
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
  });

  it('hands back the records it has no time left for, untouched, instead of timing out mid-batch', async () => {
    // Prepare: a crash to restart, then two stop events of other families; the invocation's clock runs
    // down so that after the first record less than one record's worst case is left
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    const other = (family: string) =>
      JSON.stringify({ ...event, detail: { ...event.detail, group: `family:${family}` } });
    const left = [30_000, recordWorstCaseMs() - 1, 1_000];
    const context = { ...lambdaContext('taskRecycler'), getRemainingTimeInMillis: () => left.shift() ?? 0 };
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(batch(JSON.stringify(event), other('alpha'), other('beta')), context);

    // Assess: the first record was handled; the other two come back for another invocation, untouched
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    const calls = twin.world.apiCalls.slice(before);
    expect(calls.filter((c) => c.write && !c.failed).map((c) => c.api)).toEqual(['RunTask']);
    expect(calls.filter((c) => /alpha|beta/.test(c.target))).toEqual([]);
    expect(twin.recorders.parked).toEqual([]);
  });

  it('fails the later records of a message group after one of it failed, unprocessed, so the group keeps its order', async () => {
    // Prepare: two records of the report group around one of another group, from the FIFO queue; the
    // invocation has too little time for the first record only, then time again
    const { twin, handler } = aWorld();
    const { event } = await crashedReportTask(twin);
    const second = await crashedReportTask(twin);
    const other = JSON.stringify({ ...event, detail: { ...event.detail, group: 'family:alpha' } });
    const fifo = batch(JSON.stringify(event), other, JSON.stringify(second.event));
    fifo.Records.forEach((record, i) => {
      record.attributes.MessageGroupId = i === 1 ? 'prod/family:alpha' : 'prod/family:report';
    });
    const left = [recordWorstCaseMs() - 1];
    const context = {
      ...lambdaContext('taskRecycler'),
      getRemainingTimeInMillis: () => left.shift() ?? 30_000,
    };
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(fifo, context);

    // Assess: the report group's second record is handed back with the first, and nothing acted on it
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm2' }] });
    expect(twin.world.apiCalls.slice(before).filter((c) => /family:report|report:/.test(c.target))).toEqual(
      [],
    );
  });

  it('looks once at a group for all its records in a batch, and restarts each crashed task', async () => {
    // Prepare: two crashed tasks of one family, their stop events in one batch
    const { twin, handler } = aWorld();
    const first = await crashedReportTask(twin);
    const second = await crashedReportTask(twin);
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(
      batch(JSON.stringify(first.event), JSON.stringify(second.event)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(looks(twin, before)).toBe(1);
    expect(writes(twin).filter((api) => api === 'RunTask')).toHaveLength(2);
  });

  it('reports on each stopped task of a shared look: two that cannot be restarted, two give-ups', async () => {
    // Prepare: awsvpc tasks whose security groups are not configured cannot be restarted
    const { twin, handler } = aWorld();
    twin.world.addTaskDefinition({
      family: 'report',
      revision: 2,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'report',
      containerPort: 9000,
      behaviour: { startSeconds: 5, healthy: true },
    });
    const first = await crashedReportTask(twin, 'report:2');
    const second = await crashedReportTask(twin, 'report:2');
    const before = twin.world.apiCalls.length;

    // Act
    await handler(
      batch(JSON.stringify(first.event), JSON.stringify(second.event)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(looks(twin, before)).toBe(1);
    expect(twin.recorders.notifications.map((n) => n.detail.taskArn)).toEqual([
      first.task.arn,
      second.task.arn,
    ]);
  });

  it('fails every record a failed look stood for, so SQS delivers each of them again', async () => {
    // Prepare
    const { twin, handler } = aWorld();
    const first = await crashedReportTask(twin);
    const second = await crashedReportTask(twin);
    twin.faults.add({
      api: 'RunTask',
      rate: 1,
      error: 'ThrottlingException',
      from: new Date(0),
      until: new Date(8.64e15),
    });
    const unrelated = loadSample('ecs-deployment-completed');

    // Act
    const response = await handler(
      batch(JSON.stringify(first.event), JSON.stringify(unrelated), JSON.stringify(second.event)),
      lambdaContext('taskRecycler'),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm2' }] });
  });

  it('skips the stop event of a service task that a look has already seen stopped', async () => {
    // Prepare: two tasks crash; the first one's event gets a look, which sees both stopped
    const { twin, handler } = aWorld();
    const [first, second] = await crashedServiceTasks(twin, 2);
    await handler(batch(first!), lambdaContext('taskRecycler'));
    const before = twin.world.apiCalls.length;

    // Act
    const response = await handler(batch(second!), lambdaContext('taskRecycler'));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(besidesParking(twin.world.apiCalls.slice(before))).toEqual([]);
  });

  it('looks again for every such event when coalescing is off, as it did before', async () => {
    // Prepare
    const { twin, handler } = aWorld({}, { coalesce: false });
    const [first, second] = await crashedServiceTasks(twin, 2);
    await handler(batch(first!), lambdaContext('taskRecycler'));
    const before = twin.world.apiCalls.length;

    // Act
    await handler(batch(second!), lambdaContext('taskRecycler'));

    // Assess
    expect(looks(twin, before)).toBe(1);
  });

  it("still looks on a standalone task's own stop event, seen or not: its give-up is reported there", async () => {
    // Prepare: the first task's look also sees the second one stopped
    const { twin, handler } = aWorld();
    const first = await crashedReportTask(twin);
    const second = await crashedReportTask(twin);
    await handler(batch(JSON.stringify(first.event)), lambdaContext('taskRecycler'));
    const before = twin.world.apiCalls.length;

    // Act
    await handler(batch(JSON.stringify(second.event)), lambdaContext('taskRecycler'));

    // Assess
    expect(looks(twin, before)).toBe(1);
  });

  it('counts one record at worst as its slowest call through every retry, plus its other calls', () => {
    // Act / Assess: 4 attempts of 1 s + 3 s, backoffs of 1 + 2 + 4 s, 2 s for the other calls
    expect(recordWorstCaseMs(4)).toBe(25_000);
  });
});
