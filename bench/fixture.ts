// The world the warm-handler benchmark runs in: one cluster, a service of 6 tasks, a family of standalone
// tasks (some stopped), and target groups the recycler watches. Built the way the handler tests build
// theirs (a twin with deliverEvents: false, the handler invoked directly), and the events come from the
// twin itself, so they have exactly the shape AWS delivers.
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { restartStartedBy } from '#domain/taskRecycler';
import { Twin } from '#local/twin/twin';
import type { TaskState } from '#local/twin/world';

export interface TwinEvent {
  'detail-type': string;
  detail: Record<string, unknown> & { taskArn?: string; lastStatus?: string; version?: number };
}

export interface Fixture {
  twin: Twin;
  /** A report task that crashed 65 s ago: its backoff ran out, so it gets restarted. */
  standaloneStop: TwinEvent;
  /** A service task that crashed: ECS replaces it and one failure is no crash loop, so no action. */
  serviceStop: TwinEvent;
  /** Another service task's stop, delivered once before timing; every later delivery is a duplicate. */
  duplicateOf: TwinEvent;
}

const CLUSTER = 'prod';

export async function buildFixture(seed = 42): Promise<Fixture> {
  const policy = defaultRecyclerPolicy();
  policy.restartStandalone.families = ['report'];
  const twin = new Twin({
    seed,
    settings: { clusters: [CLUSTER], dryRun: false, policy },
    deliverEvents: false,
  });
  const emitted: TwinEvent[] = [];
  // No rules with deliverEvents: false; keep what the world announces instead of dropping it.
  twin.bus.put = (event) => {
    emitted.push(event as TwinEvent);
    return 0;
  };
  const { world } = twin;

  world.addCluster(CLUSTER);
  for (let i = 0; i < 3; i++) world.addInstance(CLUSTER, 4096, 8192);
  const web = world.addTaskDefinition({
    family: 'web',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'awsvpc',
    containerName: 'web',
    containerPort: 8080,
    behaviour: { startSeconds: 5, healthy: true },
  });
  const report = world.addTaskDefinition({
    family: 'report',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'bridge',
    containerName: 'report',
    containerPort: 9000,
    behaviour: { startSeconds: 5, healthy: true },
  });
  world.addTargetGroup({ name: 'web', port: 8080, targetType: 'ip', deregistrationDelaySeconds: 30 });
  // Target groups ECS does not act on: an internal one the service's tasks are also in, and the one an
  // outside registrar puts the report tasks in.
  const webInternal = world.addTargetGroup({
    name: 'web-internal',
    port: 8080,
    targetType: 'ip',
    deregistrationDelaySeconds: 30,
  });
  const reportTg = world.addTargetGroup({
    name: 'report',
    port: 9000,
    targetType: 'instance',
    deregistrationDelaySeconds: 30,
  });
  policy.stopUnhealthy.watch = [
    { cluster: CLUSTER, group: 'service:web', targetGroupArns: [webInternal.arn] },
    { cluster: CLUSTER, group: 'family:report', targetGroupArns: [reportTg.arn] },
  ];

  const start = world.clock.now().getTime();
  world.addService({
    cluster: CLUSTER,
    name: 'web',
    taskDefinition: web.arn,
    desiredCount: 6,
    targetGroups: ['web'],
    circuitBreaker: false,
    maximumPercent: 200,
    healthCheckGraceSeconds: 60,
    history: [
      {
        taskDefinitionArn: web.arn,
        status: 'SUCCESSFUL',
        startedAt: new Date(start - 3 * 86_400_000),
        finishedAt: new Date(start - 3 * 86_400_000 + 600_000),
      },
    ],
  });
  const webTasks = world.runningTasks(CLUSTER, 'service:web');
  for (const task of webTasks) {
    webInternal.targets.push({
      id: task.privateIp!,
      port: 8080,
      state: 'healthy',
      taskArn: task.arn,
      registeredAt: start,
    });
  }
  twin.start();

  const runReport = (startedBy = 'events-rule/nightly-report'): TaskState => {
    const task = world.runTask({
      cluster: CLUSTER,
      taskDefinitionArn: report.arn,
      startedBy,
      tags: { team: 'finance' },
      registerIn: [reportTg.arn],
    });
    if (!('arn' in task)) throw new Error(`bench fixture: no room for a report task (${task.failure})`);
    return task;
  };
  const reports = [runReport(), runReport(), runReport(), runReport()];
  // The second restart of an earlier failure, crashing again below: its next backoff is still running.
  const relaunched = runReport(
    restartStartedBy({
      rootTaskId: 'c0ffee00c0ffee00c0ffee00c0ffee00',
      attempt: 2,
      previousTaskId: 'deadbeefdeadbeefdeadbeefdeadbeef',
    }),
  );
  await twin.runFor(30);

  const [crashing, , finished] = reports;
  const [webA, webB] = webTasks;
  world.crash(webA!, 1);
  world.crash(webB!, 1);
  world.crash(finished!, 0);
  world.crash(crashing!, 1);
  await twin.runFor(60);
  world.crash(relaunched, 1);
  await twin.runFor(5);

  const stopEventOf = (task: TaskState): TwinEvent => {
    const found = emitted.findLast((e) => e.detail.taskArn === task.arn && e.detail.lastStatus === 'STOPPED');
    if (!found) throw new Error(`bench fixture: no STOPPED event for ${task.arn}`);
    return found;
  };
  return {
    twin,
    standaloneStop: stopEventOf(crashing!),
    serviceStop: stopEventOf(webA!),
    duplicateOf: stopEventOf(webB!),
  };
}
