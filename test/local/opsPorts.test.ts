// The ops API's ports over the twin: the same answers as the AWS adapters give (test/adapters/
// dynamoIdempotencyStore, cloudWatchLogsActionHistory, ecsServiceOperations).
import { twinActionHistory, twinIdempotencyStore, twinServiceOperations } from '#local/twin/opsPorts';
import { Faults, recordedCalls } from '#local/twin/ports';
import { VirtualScheduler } from '#local/twin/scheduler';
import { World } from '#local/twin/world';
import type { JournalEntry } from '#ports';

const START = new Date('2026-11-02T09:00:00.000Z');

describe('twinIdempotencyStore', () => {
  const aStore = () => {
    let now = START;
    const store = twinIdempotencyStore({ now: () => now });
    return { store, advance: (seconds: number) => (now = new Date(now.getTime() + seconds * 1000)) };
  };

  it('claims a key once, and answers the in-progress record to a second claim', async () => {
    // Prepare
    const { store } = aStore();

    // Act
    const first = await store.claim('alice|k1', 'hash-1');
    const again = await store.claim('alice|k1', 'hash-1');

    // Assess
    expect(first).toEqual({ claimed: true });
    expect(again).toEqual({ claimed: false, record: { requestHash: 'hash-1', status: 'in-progress' } });
  });

  it('answers the stored response once the key is complete', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');

    // Act
    await store.complete('alice|k1', { statusCode: 202, body: '{"accepted":true}' });
    const again = await store.claim('alice|k1', 'hash-1');

    // Assess
    expect(again).toEqual({
      claimed: false,
      record: {
        requestHash: 'hash-1',
        status: 'done',
        response: { statusCode: 202, body: '{"accepted":true}' },
      },
    });
  });

  it('answers the record for another request too: 422 is the caller to decide, not the store', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');

    // Act
    const other = await store.claim('alice|k1', 'hash-2');

    // Assess
    expect(other).toEqual({ claimed: false, record: { requestHash: 'hash-1', status: 'in-progress' } });
  });

  it('keeps keys apart: another key is claimed on its own', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');

    // Act
    const bob = await store.claim('bob|k1', 'hash-1');

    // Assess
    expect(bob).toEqual({ claimed: true });
  });

  it('holds a key for 24 hours from its claim, then lets it be claimed again', async () => {
    // Prepare
    const { store, advance } = aStore();
    await store.claim('alice|k1', 'hash-1');
    await store.complete('alice|k1', { statusCode: 200, body: '{}' });

    // Act
    advance(24 * 60 * 60);
    const atTheDay = await store.claim('alice|k1', 'hash-2');
    advance(1);
    const afterTheDay = await store.claim('alice|k1', 'hash-2');
    const fresh = await store.claim('alice|k1', 'hash-2');

    // Assess
    expect(atTheDay).toMatchObject({ claimed: false, record: { requestHash: 'hash-1', status: 'done' } });
    expect(afterTheDay).toEqual({ claimed: true });
    expect(fresh).toEqual({ claimed: false, record: { requestHash: 'hash-2', status: 'in-progress' } });
  });

  it('lets a released key be claimed again at once, and completes no key that is gone', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');

    // Act
    await store.release('alice|k1');
    await store.complete('alice|k2', { statusCode: 200, body: '{}' });
    const k1 = await store.claim('alice|k1', 'hash-1');
    const k2 = await store.claim('alice|k2', 'hash-1');

    // Assess
    expect([k1, k2]).toEqual([{ claimed: true }, { claimed: true }]);
  });

  it('hands out copies: changing an answered record changes nothing stored', async () => {
    // Prepare
    const { store } = aStore();
    await store.claim('alice|k1', 'hash-1');
    await store.complete('alice|k1', { statusCode: 200, body: '{}' });
    const answered = await store.claim('alice|k1', 'hash-1');
    if (answered.claimed) throw new Error('claimed twice');

    // Act
    answered.record.response!.statusCode = 500;
    const again = await store.claim('alice|k1', 'hash-1');

    // Assess
    expect(again).toMatchObject({ record: { response: { statusCode: 200 } } });
  });
});

describe('twinActionHistory', () => {
  const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);
  const entry = (changes: Partial<JournalEntry & { at: Date }>): JournalEntry & { at: Date } => ({
    reflex: 'rollout',
    action: 'shift',
    target: 'web',
    reason: 'step',
    dryRun: false,
    outcome: 'done',
    at: START,
    ...changes,
  });
  const journal = [
    entry({ action: 'start', at: at(0) }),
    entry({ reflex: 'task-recycler', action: 'stop-task', target: 'task-1', at: at(1) }),
    entry({ action: 'shift-10', at: at(2) }),
    entry({ action: 'shift-20', at: at(2) }),
    entry({ reflex: 'ops-api', action: 'abortRollout', at: at(3) }),
  ];
  const history = twinActionHistory(() => journal);

  it('answers the most recent first, the later of one instant first, at most the limit', async () => {
    // Act
    const recent = await history.recent({ limit: 4 });

    // Assess
    expect(recent.map((e) => e.action)).toEqual(['abortRollout', 'shift-20', 'shift-10', 'stop-task']);
  });

  it('filters by reflex, target and since, exactly', async () => {
    // Act
    const rollout = await history.recent({ reflex: 'rollout', limit: 10 });
    const web = await history.recent({ target: 'web', since: at(2), limit: 10 });
    const none = await history.recent({ target: 'we', limit: 10 });

    // Assess
    expect(rollout.map((e) => e.action)).toEqual(['shift-20', 'shift-10', 'start']);
    expect(web.map((e) => e.action)).toEqual(['abortRollout', 'shift-20', 'shift-10']);
    expect(none).toEqual([]);
  });

  it('with a clock, reads the last 24 hours unless asked for more, like the logs', async () => {
    // Prepare
    const old = [entry({ action: 'two days ago', at: at(-48 * 60) }), entry({ action: 'today', at: at(0) })];
    const withClock = twinActionHistory(() => old, { now: () => at(60) });

    // Act
    const recent = await withClock.recent({ limit: 10 });
    const all = await withClock.recent({ since: at(-72 * 60), limit: 10 });

    // Assess
    expect(recent.map((e) => e.action)).toEqual(['today']);
    expect(all.map((e) => e.action)).toEqual(['today', 'two days ago']);
  });

  it('reads the journal as it is at the time of asking, and leaves it as it was', async () => {
    // Prepare
    const growing = [entry({ action: 'first', at: at(0) })];
    const live = twinActionHistory(() => growing);

    // Act
    growing.push(entry({ action: 'second', at: at(1) }));
    const recent = await live.recent({ limit: 10 });
    recent[0]!.action = 'changed';

    // Assess
    expect(recent.map((e) => e.action)).toEqual(['changed', 'first']);
    expect(growing.map((e) => e.action)).toEqual(['first', 'second']);
  });
});

describe('twinServiceOperations', () => {
  function aWorld() {
    const clock = new VirtualScheduler(START);
    const world = new World(clock, { event: () => undefined, note: () => undefined }, 7);
    world.addCluster('prod');
    world.addCluster('staging');
    world.addInstance('prod', 4096, 8192);
    world.addInstance('staging', 4096, 8192);
    world.addTaskDefinition({
      family: 'web',
      revision: 3,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'app',
      containerPort: 8080,
      behaviour: { startSeconds: 10, healthy: true },
    });
    const service = (cluster: string, name: string) =>
      world.addService({
        cluster,
        name,
        taskDefinition: 'web:3',
        desiredCount: 1,
        targetGroups: [],
        maximumPercent: 200,
        circuitBreaker: true,
        healthCheckGraceSeconds: 0,
        history: [],
      });
    service('prod', 'web');
    service('prod', 'api');
    service('staging', 'web');
    const operations = twinServiceOperations(world, recordedCalls(world, new Faults(1)));
    return { world, operations };
  }

  it("lists the cluster's services, and records ListServices", async () => {
    // Prepare
    const { world, operations } = aWorld();

    // Act
    const prod = await operations.listServices('prod');
    const other = await operations.listServices('dev');

    // Assess
    expect(prod).toEqual(['web', 'api']);
    expect(other).toEqual([]);
    expect(world.apiCalls.map((c) => [c.api, c.target, c.write])).toEqual([
      ['ListServices', 'prod', false],
      ['ListServices', 'dev', false],
    ]);
  });

  it('forces a new deployment of the same revision, and records the DescribeServices before and the UpdateService', async () => {
    // Prepare
    const { world, operations } = aWorld();
    const before = world.service('prod', 'web')!.deployments[0]!;

    // Act
    await operations.forceNewDeployment('prod', 'web');

    // Assess
    const deployments = world.service('prod', 'web')!.deployments;
    expect(deployments).toHaveLength(2);
    expect(deployments[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      taskDefinitionArn: before.taskDefinitionArn,
    });
    expect(deployments[1]).toMatchObject({ id: before.id, status: 'ACTIVE' });
    expect(world.service('staging', 'web')!.deployments).toHaveLength(1);
    expect(world.apiCalls.map((c) => [c.api, c.target, c.write])).toEqual([
      ['DescribeServices', 'prod/web', false],
      ['UpdateService', 'prod/web forceNewDeployment', true],
    ]);
  });

  it('refuses an unknown service with ServiceNotFoundException, as ECS does', async () => {
    // Prepare
    const { operations } = aWorld();

    // Act
    const forcing = operations.forceNewDeployment('prod', 'gone');

    // Assess
    await expect(forcing).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
  });
});
