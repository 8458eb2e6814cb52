// The use case against the twin's world: observe, decide, act, and the order of the AWS writes.

import { recycleTaskGroup } from '#app/recycleTaskGroup';
import { defaultRecyclerPolicy, type RecyclerPolicy } from '#domain/recyclerPolicy';
import { Tags } from '#domain/taskRecycler';
import { Twin } from '#local/twin/twin';

function aTwin(configure: (policy: RecyclerPolicy) => void = () => undefined) {
  const policy = defaultRecyclerPolicy();
  configure(policy);
  const twin = new Twin({
    seed: 3,
    settings: { clusters: ['prod'], dryRun: false, policy },
    deliverEvents: false,
  });
  twin.world.addCluster('prod');
  twin.world.addInstance('prod', 4096, 8192);
  return twin;
}

const writes = (twin: Twin) =>
  twin.world.apiCalls.filter((c) => c.write && !c.failed).map((c) => `${c.api} ${c.target}`);

async function crashLoopingService(twin: Twin, history: boolean) {
  for (const revision of [1, 2]) {
    twin.world.addTaskDefinition({
      family: 'web',
      revision,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'web',
      containerPort: 8080,
      behaviour: { startSeconds: 5, healthy: true },
    });
  }
  const start = twin.scheduler.now().getTime();
  twin.world.addService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: 'web:2',
    desiredCount: 3,
    targetGroups: [],
    circuitBreaker: false,
    maximumPercent: 200,
    healthCheckGraceSeconds: 60,
    history: history
      ? [
          {
            taskDefinitionArn: twin.world.taskDefinition('web:2').arn,
            status: 'SUCCESSFUL',
            startedAt: new Date(start - 3600_000),
            finishedAt: new Date(start - 3500_000),
          },
          {
            taskDefinitionArn: twin.world.taskDefinition('web:1').arn,
            status: 'SUCCESSFUL',
            startedAt: new Date(start - 86400_000),
            finishedAt: new Date(start - 86000_000),
          },
        ]
      : [],
  });
  await twin.runFor(30);
  for (const task of twin.world.runningTasks('prod', 'service:web')) twin.world.crash(task, 1);
  await twin.runFor(1);
}

describe('recycleTaskGroup', () => {
  it('rolls a crash-looping service back first and only then remembers the loop as handled', async () => {
    // Prepare
    const twin = aTwin();
    await crashLoopingService(twin, true);

    // Act
    const outcome = await recycleTaskGroup(
      { cluster: 'prod', group: 'service:web' },
      twin.ports,
      twin.settings,
    );

    // Assess
    expect(outcome).toEqual({
      status: 'handled',
      actions: ['break-crash-loop'],
      observed: expect.any(Array),
    });
    expect(writes(twin)).toEqual([
      expect.stringMatching(/^UpdateService prod\/web taskDefinition=.*web:1$/),
      'TagResource prod/web ecs-reflex:crash-loop-deployment',
    ]);
    expect(twin.world.service('prod', 'web')!.tags[Tags.crashLoopHandled]).toMatch(/^ecs-svc\//);
  });

  it('reads a service nobody watches without its running tasks, and says which task versions it saw', async () => {
    // Prepare: the crashed tasks' replacements are running again
    const twin = aTwin();
    await crashLoopingService(twin, true);
    await twin.runFor(30);
    const before = twin.world.apiCalls.length;

    // Act
    const outcome = await recycleTaskGroup(
      { cluster: 'prod', group: 'service:web' },
      twin.ports,
      twin.settings,
    );

    // Assess
    const listings = twin.world.apiCalls.slice(before).filter((c) => c.api === 'ListTasks');
    expect(listings.map((c) => c.target)).toEqual(['prod service:web STOPPED']);
    expect(outcome).toMatchObject({
      status: 'handled',
      observed: [1, 2, 3].map(() => ({ taskArn: expect.any(String), version: expect.any(Number) })),
    });
  });

  it('scales the service to zero when configured and no revision ran stably', async () => {
    // Prepare
    const twin = aTwin((p) => (p.crashLoopBreaker.whenNoStableRevision = 'scale-to-zero'));
    await crashLoopingService(twin, false);

    // Act
    await recycleTaskGroup({ cluster: 'prod', group: 'service:web' }, twin.ports, twin.settings);

    // Assess
    expect(writes(twin)).toEqual([
      expect.stringMatching(/^Publish .*crash-looping/),
      'UpdateService prod/web desiredCount=0',
      'TagResource prod/web ecs-reflex:crash-loop-deployment',
    ]);
    expect(twin.world.service('prod', 'web')!.desiredCount).toBe(0);
  });

  it('gives up on an awsvpc task whose security groups are unknown, saying what to configure', async () => {
    // Prepare
    const twin = aTwin((p) => (p.restartStandalone.families = ['report']));
    twin.world.addTaskDefinition({
      family: 'report',
      revision: 1,
      cpu: 256,
      memory: 512,
      networkMode: 'awsvpc',
      containerName: 'report',
      containerPort: 9000,
      behaviour: { startSeconds: 5, healthy: true },
    });
    const task = twin.world.runTask({ cluster: 'prod', taskDefinitionArn: 'report:1' });
    if (!('arn' in task)) throw new Error('no room');
    await twin.runFor(10);
    twin.world.crash(task, 1);
    await twin.runFor(60);

    // Act: the task's own stop event, then a later look at the group
    const hint = { stoppedTaskArns: [task.arn] };
    await recycleTaskGroup({ cluster: 'prod', group: 'family:report', hint }, twin.ports, twin.settings);
    await recycleTaskGroup({ cluster: 'prod', group: 'family:report' }, twin.ports, twin.settings);

    // Assess: one alert, no RunTask that could only fail
    expect(writes(twin).map((w) => w.split(' ')[0])).toEqual(['Publish']);
    expect(twin.recorders.notifications[0]!.detail.why).toContain('restartStandalone.network.report');
    expect(twin.journal).toEqual([expect.objectContaining({ action: 'give-up-restarts', outcome: 'done' })]);
  });

  it('reports a shortfall and looks again after the backoff when a restart cannot be placed', async () => {
    // Prepare: the task needs more memory than is left
    const twin = aTwin((p) => (p.restartStandalone.families = ['big']));
    twin.world.addTaskDefinition({
      family: 'big',
      revision: 1,
      cpu: 256,
      memory: 6000,
      networkMode: 'bridge',
      containerName: 'big',
      containerPort: 9000,
      behaviour: { startSeconds: 5, healthy: true },
    });
    const task = twin.world.runTask({ cluster: 'prod', taskDefinitionArn: 'big:1' });
    if (!('arn' in task)) throw new Error('no room');
    await twin.runFor(10);
    twin.world.crash(task, 1);
    twin.world.runTask({ cluster: 'prod', taskDefinitionArn: 'big:1', group: 'family:other' });
    await twin.runFor(60);

    // Act
    await recycleTaskGroup({ cluster: 'prod', group: 'family:big' }, twin.ports, twin.settings);

    // Assess
    expect(twin.recorders.shortfalls).toEqual([
      expect.objectContaining({ group: 'family:big', reason: 'RESOURCE:MEMORY' }),
    ]);
    expect(twin.journal).toEqual([
      expect.objectContaining({
        action: 'restart-task',
        outcome: 'failed',
        detail: expect.objectContaining({ error: 'RESOURCE:MEMORY' }),
      }),
    ]);
    expect(twin.queue.depth).toBe(1);
  });

  it('restarts a task that ran on a capacity provider on the same provider, without its aws: tags', async () => {
    // Prepare: a bridge task on an Auto Scaling group's capacity provider, tagged by CloudFormation too
    const twin = aTwin((p) => (p.restartStandalone.families = ['report']));
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
    const task = twin.world.runTask({
      cluster: 'prod',
      taskDefinitionArn: 'report:1',
      capacityProviderName: 'prod-asg',
      tags: { team: 'reports', 'aws:cloudformation:stack-name': 'reports' },
    });
    if (!('arn' in task)) throw new Error('no room');
    await twin.runFor(10);
    twin.world.crash(task, 1);
    await twin.runFor(60);

    // Act
    await recycleTaskGroup({ cluster: 'prod', group: 'family:report' }, twin.ports, twin.settings);

    // Assess: RunTask was taken (the twin refuses what ECS refuses) and the copy runs on prod-asg
    expect(twin.world.apiCalls.filter((c) => c.api === 'RunTask').map((c) => c.failed ?? 'taken')).toEqual([
      'taken',
    ]);
    const [copy] = twin.world.runningTasks('prod', 'family:report');
    expect(copy).toMatchObject({ capacityProviderName: 'prod-asg', tags: { team: 'reports' } });
    expect(Object.keys(copy!.tags).some((key) => key.startsWith('aws:'))).toBe(false);
    expect(twin.journal).toEqual([expect.objectContaining({ action: 'restart-task', outcome: 'done' })]);
  });

  it('ignores groups that are neither service: nor family:', async () => {
    // Act
    const outcome = await recycleTaskGroup(
      { cluster: 'prod', group: 'batch:nightly' },
      aTwin().ports,
      aTwin().settings,
    );

    // Assess
    expect(outcome).toEqual({
      status: 'ignored',
      why: expect.stringContaining('neither service:NAME nor family:NAME'),
    });
  });
});
