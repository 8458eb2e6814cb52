import fc from 'fast-check';
import { chooseCrashLoopRemedy, lastStableTaskDefinition } from '#domain/crashLoop';
import type { Service } from '#domain/model';
import { defaultRecyclerPolicy, type RecyclerPolicy } from '#domain/recyclerPolicy';
import {
  backoffSeconds,
  decideRecycling,
  type GroupObservation,
  parseRestartLineage,
  restartStartedBy,
  Tags,
  taskId,
} from '#domain/taskRecycler';
import { aService, aStoppedTask, aTask, targetGroup } from '../support/tasks';

const now = new Date('2026-11-02T10:00:00Z');
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);
const ROOT = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/report/0123456789abcdef';

function policy(changes: (p: RecyclerPolicy) => void = () => undefined): RecyclerPolicy {
  const p = defaultRecyclerPolicy();
  p.restartStandalone.families = ['report'];
  changes(p);
  return p;
}

function observe(changes: Partial<GroupObservation>): GroupObservation {
  return {
    now,
    cluster: 'prod',
    group: { kind: 'family', name: 'report' },
    running: [],
    stopped: [],
    watchedTargetGroups: [],
    ...changes,
  };
}

const kinds = (actions: { kind: string }[]) => actions.map((a) => a.kind);

describe('standalone restarts', () => {
  it('restarts a crashed standalone task once its backoff has passed, carrying lineage', () => {
    // Prepare
    const crashed = aStoppedTask(secondsAgo(11));

    // Act
    const actions = decideRecycling(observe({ stopped: [crashed] }), policy());

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'restart-task',
        task: crashed,
        attempt: 1,
        rootTaskId: taskId(crashed.taskArn),
        cause: 'crash',
      }),
    ]);
  });

  it('asks for a recheck at the end of the backoff instead of restarting early', () => {
    // Prepare
    const crashed = aStoppedTask(secondsAgo(3), {
      startedBy: restartStartedBy({ rootTaskId: ROOT, attempt: 2, previousTaskId: OTHER }),
    });

    // Act
    const actions = decideRecycling(observe({ stopped: [crashed] }), policy());

    // Assess: attempt 3 waits 10 * 2^2 = 40 s after the stop
    expect(actions).toEqual([
      { kind: 'recheck', at: new Date(crashed.stoppedAt!.getTime() + 40_000), why: expect.any(String) },
    ]);
  });

  it('does nothing for a task that was already restarted (a duplicate event changes nothing)', () => {
    // Prepare
    const crashed = aStoppedTask(secondsAgo(60));
    const replacement = aTask({
      startedBy: restartStartedBy({
        rootTaskId: taskId(crashed.taskArn),
        attempt: 1,
        previousTaskId: taskId(crashed.taskArn),
      }),
    });

    // Act
    const actions = decideRecycling(observe({ stopped: [crashed], running: [replacement] }), policy());

    // Assess
    expect(actions).toEqual([]);
  });

  it('leaves families that did not opt in alone, and honours the opt-in tag', () => {
    // Prepare
    const untagged = aStoppedTask(secondsAgo(60), { group: 'family:other' });
    const tagged = aStoppedTask(secondsAgo(60), {
      group: 'family:other',
      tags: { 'ecs-reflex:restart': 'on-failure' },
    });
    const other = { kind: 'family' as const, name: 'other' };

    // Act
    const withoutTag = decideRecycling(observe({ group: other, stopped: [untagged] }), policy());
    const withTag = decideRecycling(observe({ group: other, stopped: [tagged] }), policy());

    // Assess
    expect(withoutTag).toEqual([]);
    expect(kinds(withTag)).toEqual(['restart-task']);
  });

  it('does not restart tasks that finished their work or were stopped on purpose', () => {
    // Prepare
    const finished = aStoppedTask(secondsAgo(60), { containers: [{ name: 'app', exitCode: 0 }] });
    const stoppedByUser = aStoppedTask(secondsAgo(60), {
      stopCode: 'UserInitiated',
      stoppedReason: 'Task stopped by user',
    });

    // Act
    const actions = decideRecycling(observe({ stopped: [finished, stoppedByUser] }), policy());

    // Assess
    expect(actions).toEqual([]);
  });

  it('gives up once the root task has used its restarts in the window, on that task\u2019s own stop event', () => {
    // Prepare: three restarts, each replacing the one before it
    const restarts: ReturnType<typeof aStoppedTask>[] = [];
    for (const attempt of [1, 2, 3]) {
      const previousTaskId = attempt === 1 ? ROOT : taskId(restarts[attempt - 2]!.taskArn);
      restarts.push(
        aStoppedTask(secondsAgo(400 - attempt * 60), {
          createdAt: secondsAgo(500 - attempt * 60),
          startedBy: restartStartedBy({ rootTaskId: ROOT, attempt, previousTaskId }),
        }),
      );
    }
    const last = restarts[2]!;

    // Act
    const actions = decideRecycling(
      observe({ stopped: restarts, hint: { stoppedTaskArns: [last.taskArn] } }),
      policy((p) => (p.restartStandalone.maxRestarts = 3)),
    );

    // Assess: only the newest one is unhandled; it is the one given up on
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'give-up-restarts',
        task: last,
        rootTaskId: ROOT,
        why: '3 restarts in a row',
      }),
    ]);
  });

  it('never gives up twice: later looks at the same group stay quiet', () => {
    // Prepare
    const given = aStoppedTask(secondsAgo(60), {
      startedBy: restartStartedBy({ rootTaskId: ROOT, attempt: 5, previousTaskId: OTHER }),
    });
    // Act: a recheck or the sweep, not the task's own stop event
    const actions = decideRecycling(observe({ stopped: [given] }), policy());

    // Assess
    expect(kinds(actions)).not.toContain('give-up-restarts');
    expect(kinds(actions)).not.toContain('restart-task');
  });

  it('reads and writes restart lineage within what startedBy allows', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{32}$/),
        fc.integer({ min: 1, max: 100 }),
        fc.stringMatching(/^[0-9a-f]{32}$/),
        (rootTaskId, attempt, previousTaskId) => {
          const startedBy = restartStartedBy({ rootTaskId, attempt, previousTaskId });
          expect(startedBy.length).toBeLessThanOrEqual(128);
          expect(startedBy).toMatch(/^[A-Za-z0-9_/-]+$/);
          expect(parseRestartLineage(startedBy)).toEqual({ rootTaskId, attempt, previousTaskId });
        },
      ),
    );
    expect(parseRestartLineage('ecs-svc/1234567890')).toBeUndefined();
    expect(parseRestartLineage(undefined)).toBeUndefined();
  });

  it('does not restart service tasks: the ECS scheduler does', () => {
    // Act
    const actions = decideRecycling(
      observe({
        group: { kind: 'service', name: 'report' },
        stopped: [aStoppedTask(secondsAgo(60), { group: 'service:report' })],
      }),
      policy((p) => (p.crashLoopBreaker.enabled = false)),
    );

    // Assess
    expect(actions).toEqual([]);
  });

  it('backs off exponentially up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 60, max: 3600 }),
        (attempt, base, max) => {
          const rules = {
            ...defaultRecyclerPolicy().restartStandalone,
            backoffBaseSeconds: base,
            backoffMaxSeconds: max,
          };
          const delay = backoffSeconds(attempt, rules);
          expect(delay).toBeLessThanOrEqual(max);
          expect(backoffSeconds(attempt + 1, rules)).toBeGreaterThanOrEqual(delay);
          if (attempt === 1) expect(delay).toBe(Math.min(base, max));
        },
      ),
    );
  });
});

describe('unhealthy tasks in watched target groups', () => {
  const ip = (n: number) => `10.0.1.${n}`;
  const unhealthy = (n: number) => ({
    id: ip(n),
    port: 9000,
    state: 'unhealthy' as const,
    reason: 'Target.FailedHealthChecks',
  });
  const healthy = (n: number) => ({ id: ip(n), port: 9000, state: 'healthy' as const });

  it('remembers the first unhealthy sighting in a tag and looks again after the grace period', () => {
    // Prepare
    const task = aTask({ privateIp: ip(1) });

    // Act
    const actions = decideRecycling(
      observe({ running: [task], watchedTargetGroups: [targetGroup(TG, [unhealthy(1), healthy(2)])] }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      { kind: 'mark-unhealthy', task, targetGroupArn: TG },
      { kind: 'recheck', at: new Date(now.getTime() + 120_000), why: 'unhealthy grace' },
    ]);
  });

  it('deregisters and stops a task unhealthy for longer than the grace period', () => {
    // Prepare
    const task = aTask({ privateIp: ip(1), tags: { [Tags.unhealthySince]: secondsAgo(150).toISOString() } });

    // Act
    const actions = decideRecycling(
      observe({ running: [task], watchedTargetGroups: [targetGroup(TG, [unhealthy(1), healthy(2)])] }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      {
        kind: 'stop-unhealthy-task',
        task,
        targets: [{ targetGroupArn: TG, target: { id: ip(1), port: 9000 } }],
        unhealthyForSeconds: 150,
      },
    ]);
  });

  it('clears the mark when the task is healthy again', () => {
    // Prepare
    const task = aTask({ privateIp: ip(1), tags: { [Tags.unhealthySince]: secondsAgo(50).toISOString() } });

    // Act
    const actions = decideRecycling(
      observe({ running: [task], watchedTargetGroups: [targetGroup(TG, [healthy(1)])] }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([{ kind: 'clear-unhealthy', task }]);
  });

  it('holds when no target in the group is healthy: the cause is likely shared, not the task', () => {
    // Prepare
    const tasks = [1, 2].map((n) =>
      aTask({ privateIp: ip(n), tags: { [Tags.unhealthySince]: secondsAgo(600).toISOString() } }),
    );

    // Act
    const actions = decideRecycling(
      observe({ running: tasks, watchedTargetGroups: [targetGroup(TG, [unhealthy(1), unhealthy(2)])] }),
      policy(),
    );

    // Assess
    expect(kinds(actions)).toEqual(['hold', 'hold']);
    expect(actions[0]).toMatchObject({ reason: expect.stringContaining('last-healthy-target') });
  });

  it('stops no more than the blast-radius share at once, counting tasks already on their way out', () => {
    // Prepare: 8 tasks, 4 unhealthy for long, share 0.25 -> 2, one already stopping -> 1 more
    const tasks = Array.from({ length: 7 }, (_, i) =>
      aTask({
        privateIp: ip(i + 1),
        tags: i < 4 ? { [Tags.unhealthySince]: secondsAgo(600 - i).toISOString() } : {},
      }),
    );
    const leaving = aTask({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING', privateIp: ip(8) });
    const targets = [...[1, 2, 3, 4].map(unhealthy), ...[5, 6, 7].map(healthy)];

    // Act
    const actions = decideRecycling(
      observe({ running: tasks, stopped: [leaving], watchedTargetGroups: [targetGroup(TG, targets)] }),
      policy(),
    );

    // Assess: the longest-unhealthy one goes, the rest are held
    const stops = actions.filter((a) => a.kind === 'stop-unhealthy-task');
    expect(stops).toEqual([expect.objectContaining({ task: tasks[0] })]);
    expect(actions.filter((a) => a.kind === 'hold')).toHaveLength(3);
  });

  it('counts tasks it stopped within the grace period as out of service, so stops do not cascade', () => {
    // Prepare: 4 tasks, share 0.25 -> 1 at a time; one was stopped by the reflex 20 s ago
    const tasks = [1, 2, 3].map((n) =>
      aTask({
        privateIp: ip(n),
        tags: n < 3 ? { [Tags.unhealthySince]: secondsAgo(600).toISOString() } : {},
      }),
    );
    const justStopped = aStoppedTask(secondsAgo(20), {
      stopCode: 'UserInitiated',
      stoppedReason: 'ecs-reflex: unhealthy in its target group for 130s',
    });
    const targets = [unhealthy(1), unhealthy(2), healthy(3)];

    // Act
    const actions = decideRecycling(
      observe({ running: tasks, stopped: [justStopped], watchedTargetGroups: [targetGroup(TG, targets)] }),
      policy((p) => (p.restartStandalone.enabled = false)),
    );

    // Assess
    expect(kinds(actions)).toEqual(['hold', 'hold']);
    expect(actions[0]).toMatchObject({ reason: expect.stringContaining('blast-radius') });
  });

  it('finishes a stop that failed halfway: deregistered, still running, past its grace', () => {
    // Prepare: the target is draining (deregistered by an earlier attempt whose StopTask failed)
    const task = aTask({ privateIp: ip(1), tags: { [Tags.unhealthySince]: secondsAgo(300).toISOString() } });
    const draining = { id: ip(1), port: 9000, state: 'draining' as const };

    // Act
    const actions = decideRecycling(
      observe({
        running: [task, aTask({ privateIp: ip(2) })],
        watchedTargetGroups: [targetGroup(TG, [draining, healthy(2)])],
      }),
      policy(),
    );

    // Assess: stop it, with nothing left to deregister
    expect(actions).toEqual([{ kind: 'stop-unhealthy-task', task, targets: [], unhealthyForSeconds: 300 }]);
  });

  it('leaves tasks in a service\u2019s own target groups to ECS', () => {
    // Prepare
    const task = aTask({
      group: 'service:web',
      privateIp: ip(1),
      tags: { [Tags.unhealthySince]: secondsAgo(600).toISOString() },
    });

    // Act
    const actions = decideRecycling(
      observe({
        group: { kind: 'service', name: 'web' },
        service: aService({ targetGroupArns: [TG] }),
        running: [task],
        watchedTargetGroups: [targetGroup(TG, [unhealthy(1), healthy(2)])],
      }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([]);
  });

  it('never stops a healthy task and never exceeds the budget (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            unhealthy: fc.boolean(),
            markedSecondsAgo: fc.option(fc.integer({ min: 0, max: 900 })),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (shape, share) => {
          const tasks = shape.map((s, i) =>
            aTask({
              privateIp: ip(i + 1),
              tags:
                s.markedSecondsAgo === null
                  ? {}
                  : { [Tags.unhealthySince]: secondsAgo(s.markedSecondsAgo).toISOString() },
            }),
          );
          const targets = shape.map((s, i) => (s.unhealthy ? unhealthy(i + 1) : healthy(i + 1)));
          const obs = observe({ running: tasks, watchedTargetGroups: [targetGroup(TG, targets)] });
          const actions = decideRecycling(
            obs,
            policy((p) => (p.stopUnhealthy.maxStopShare = share)),
          );
          const stopped = actions.flatMap((a) =>
            a.kind === 'stop-unhealthy-task' ? [a.task.privateIp] : [],
          );
          // Nothing is out of service yet: the share of the group, at least one.
          expect(stopped.length).toBeLessThanOrEqual(Math.max(1, Math.floor(tasks.length * share)));
          for (const stoppedIp of stopped)
            expect(targets.find((t) => t.id === stoppedIp)?.state).toBe('unhealthy');
        },
      ),
    );
  });
});

describe('crash-loop breaker', () => {
  const web = { kind: 'service' as const, name: 'web' };
  const failing = (n: number, changes = {}) =>
    Array.from({ length: n }, (_, i) =>
      aStoppedTask(secondsAgo(30 + i * 40), {
        group: 'service:web',
        taskDefinitionArn: aService().taskDefinitionArn,
        containers: [
          { name: 'web', exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' },
        ],
        ...changes,
      }),
    );

  it('trips after N failures of the current task definition in the window, outside deployments', () => {
    // Act
    const actions = decideRecycling(
      observe({ group: web, service: aService(), stopped: failing(3) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        failures: 3,
        failingTaskDefinitionArn: aService().taskDefinitionArn,
      }),
    ]);
  });

  it.each([
    [
      'CODE_DEPLOY (task sets: no deployment listed)',
      { deploymentController: 'CODE_DEPLOY', deployments: [] },
    ],
    ['an EXTERNAL controller', { deploymentController: 'EXTERNAL' }],
  ])('alerts, without rolling back, on a service deployed by %s', (_what, changes) => {
    // Act
    const actions = decideRecycling(
      observe({ group: web, service: aService(changes as Partial<Service>), stopped: failing(3) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        rollback: false,
        why: expect.stringContaining('deployment controller'),
      }),
    ]);
  });

  it('alerts, without rolling back, during an ECS BLUE_GREEN deployment even with a circuit breaker', () => {
    // Prepare
    const shifting = aService({ deploymentStrategy: 'BLUE_GREEN', circuitBreaker: true });
    shifting.deployments[0]!.rolloutState = 'IN_PROGRESS';

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: shifting, stopped: failing(3) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        rollback: false,
        why: expect.stringContaining('BLUE_GREEN'),
      }),
    ]);
  });

  it('holds during a deployment that has a circuit breaker: ECS owns that one', () => {
    // Prepare
    const deploying = aService({ circuitBreaker: true });
    deploying.deployments[0]!.rolloutState = 'IN_PROGRESS';

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: deploying, stopped: failing(5) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'hold', reason: expect.stringContaining('deployment-in-progress') }),
    ]);
  });

  it('alerts, without rolling back, on a failing deployment that has no circuit breaker', () => {
    // Prepare
    const deploying = aService({ circuitBreaker: false });
    deploying.deployments[0]!.rolloutState = 'IN_PROGRESS';

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: deploying, stopped: failing(5) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        rollback: false,
        why: expect.stringContaining('circuit breaker'),
      }),
    ]);
  });

  it('does not count failures from before the deployment completed', () => {
    // Prepare: three failures 5 minutes ago, the deployment completed 2 minutes ago
    const completed = aService();
    completed.deployments[0]!.updatedAt = secondsAgo(120);
    const duringDeployment = failing(3).map((t) => ({ ...t, stoppedAt: secondsAgo(300) }));

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: completed, stopped: duringDeployment }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([]);
  });

  it('alerts instead of rolling back a revision that ran stably before it started failing', () => {
    // Prepare: completed an hour ago, OOM loop now
    const longStable = aService();
    longStable.deployments[0]!.updatedAt = secondsAgo(3600);

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: longStable, stopped: failing(3) }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        rollback: false,
        why: expect.stringContaining('likely not the release'),
      }),
    ]);
  });

  it('alerts instead of rolling back when the loop is health checks failing: likely a shared cause', () => {
    // Prepare
    const elbFailures = failing(3, {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason:
        'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1)',
      containers: [{ name: 'web' }],
    });

    // Act
    const actions = decideRecycling(
      observe({ group: web, service: aService(), stopped: elbFailures }),
      policy(),
    );

    // Assess
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'break-crash-loop',
        rollback: false,
        why: expect.stringContaining('shared cause'),
      }),
    ]);
  });

  it('acts once per loop: a handled deployment is not handled again', () => {
    // Prepare
    const handled = aService({ tags: { [Tags.crashLoopHandled]: aService().deployments[0]!.id } });

    // Act
    const actions = decideRecycling(observe({ group: web, service: handled, stopped: failing(6) }), policy());

    // Assess
    expect(kinds(actions)).toEqual(['hold']);
  });

  it('does not count failures of other task definitions, old failures, or deployment stops', () => {
    // Prepare
    const stopped = [
      ...failing(2),
      ...failing(2, { taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/web:1' }),
      aStoppedTask(secondsAgo(3000), {
        group: 'service:web',
        taskDefinitionArn: aService().taskDefinitionArn,
      }),
      aStoppedTask(secondsAgo(10), {
        group: 'service:web',
        taskDefinitionArn: aService().taskDefinitionArn,
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
        containers: [{ name: 'web' }],
      }),
    ];

    // Act
    const actions = decideRecycling(observe({ group: web, service: aService(), stopped }), policy());

    // Assess
    expect(actions).toEqual([]);
  });

  it('rolls back to the newest revision that ran stably, skipping the failing one and short-lived ones', () => {
    // Prepare
    const td = (r: number) => `arn:aws:ecs:eu-west-1:111122223333:task-definition/web:${r}`;
    const t = (min: number) => new Date(now.getTime() - min * 60_000);
    const history = [
      { taskDefinitionArn: td(4), status: 'SUCCESSFUL', startedAt: t(20), finishedAt: t(18) },
      { taskDefinitionArn: td(3), status: 'SUCCESSFUL', startedAt: t(25), finishedAt: t(24) }, // replaced after 4 min
      { taskDefinitionArn: td(2), status: 'SUCCESSFUL', startedAt: t(300), finishedAt: t(299) },
      { taskDefinitionArn: td(1), status: 'SUCCESSFUL', startedAt: t(900), finishedAt: t(899) },
    ];

    // Act
    const picked = lastStableTaskDefinition(history, td(4), 600);

    // Assess
    expect(picked).toBe(td(2));
  });

  it('alerts (or scales to zero when configured) when no stable revision exists', () => {
    // Prepare
    const rules = defaultRecyclerPolicy().crashLoopBreaker;

    // Act
    const alert = chooseCrashLoopRemedy([], 'td', rules);
    const scale = chooseCrashLoopRemedy([], 'td', { ...rules, whenNoStableRevision: 'scale-to-zero' });

    // Assess
    expect(alert.kind).toBe('alert-only');
    expect(scale.kind).toBe('scale-to-zero');
  });
});

describe('placement failures', () => {
  it('reports a capacity shortfall when the event says placement failed', () => {
    // Act
    const actions = decideRecycling(observe({ hint: { placementFailure: 'RESOURCE:MEMORY' } }), policy());

    // Assess
    expect(actions).toEqual([{ kind: 'report-shortfall', reason: 'RESOURCE:MEMORY' }]);
  });

  it('reports it for a service that still lacks tasks', () => {
    // Act
    const actions = decideRecycling(
      observe({
        group: { kind: 'service', name: 'web' },
        service: aService({ desiredCount: 4, runningCount: 3, pendingCount: 0 }),
        hint: { placementFailure: 'RESOURCE:MEMORY' },
      }),
      policy(),
    );

    // Assess
    expect(actions).toContainEqual({ kind: 'report-shortfall', reason: 'RESOURCE:MEMORY' });
  });

  it('reports it during a rolling deployment whose new tasks cannot be placed, though old ones fill the count', () => {
    // Prepare
    const old = aService().deployments[0]!;
    const rolling = aService({
      desiredCount: 4,
      runningCount: 4,
      pendingCount: 0,
      deployments: [
        {
          ...old,
          id: 'ecs-svc/2',
          status: 'PRIMARY',
          rolloutState: 'IN_PROGRESS',
          runningCount: 0,
          desiredCount: 4,
        },
        { ...old, status: 'ACTIVE', runningCount: 4, desiredCount: 4 },
      ],
    });

    // Act
    const actions = decideRecycling(
      observe({
        group: { kind: 'service', name: 'web' },
        service: rolling,
        hint: { placementFailure: 'RESOURCE:MEMORY' },
      }),
      policy(),
    );

    // Assess
    expect(actions).toContainEqual({ kind: 'report-shortfall', reason: 'RESOURCE:MEMORY' });
  });

  it('holds a late placement failure of a service that has placed all its tasks since', () => {
    // Act
    const actions = decideRecycling(
      observe({
        group: { kind: 'service', name: 'web' },
        service: aService({
          desiredCount: 4,
          runningCount: 4,
          pendingCount: 0,
          deployments: [{ ...aService().deployments[0]!, runningCount: 4, desiredCount: 4 }],
        }),
        hint: { placementFailure: 'RESOURCE:MEMORY' },
      }),
      policy(),
    );

    // Assess
    expect(kinds(actions)).not.toContain('report-shortfall');
    expect(actions).toContainEqual(expect.objectContaining({ kind: 'hold', target: 'web' }));
  });

  it('stays quiet when placement reporting is switched off', () => {
    // Act
    const actions = decideRecycling(
      observe({ hint: { placementFailure: 'RESOURCE:MEMORY' } }),
      policy((p) => (p.reportPlacementFailures.enabled = false)),
    );

    // Assess
    expect(actions).toEqual([]);
  });
});
