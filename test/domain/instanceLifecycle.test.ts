import fc from 'fast-check';
import {
  decideLaunch,
  decideTerminate,
  globalTimeout,
  heartbeatDue,
  type LaunchObservation,
  LifecycleHookConfigSchema,
  mustCompleteBy,
  type TerminateObservation,
} from '#domain/instanceLifecycle';

const start = new Date('2026-11-02T10:00:00Z');
const at = (s: number) => new Date(start.getTime() + s * 1000);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';
const config = LifecycleHookConfigSchema.parse({
  groupName: 'prod-asg',
  hookName: 'ecs-reflex-launch',
  cluster: 'prod',
  targetGroups: [{ arn: TG, port: 80 }],
  registerTargets: true,
});
const clock = { startedAt: start, heartbeatTimeoutSeconds: 300 };
const active = { status: 'ACTIVE', agentConnected: true, runningServiceTasks: 0, runningStandaloneTasks: [] };

const launch = (changes: Partial<LaunchObservation>): LaunchObservation => ({
  now: at(30),
  clock,
  targets: [],
  ...changes,
});
const terminate = (changes: Partial<TerminateObservation>): TerminateObservation => ({
  now: at(30),
  clock,
  targets: [],
  managedDraining: false,
  ...changes,
});

describe('hook limits', () => {
  it('follows AWS: the global timeout is min(48 h, 100 x heartbeat timeout)', () => {
    expect(globalTimeout(30)).toBe(3000);
    expect(globalTimeout(7200)).toBe(48 * 3600);
  });

  it('always completes before the global timeout and looks again before a heartbeat is missed (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 30, max: 7200 }),
        fc.integer({ min: 0, max: 200_000 }),
        (heartbeat, elapsed) => {
          const hookClock = { startedAt: start, heartbeatTimeoutSeconds: heartbeat };
          const now = at(elapsed);
          const step = decideTerminate(
            terminate({
              now,
              clock: hookClock,
              containerInstance: { ...active, status: 'DRAINING', runningServiceTasks: 3 },
            }),
            config,
          );
          if (now >= mustCompleteBy(hookClock)) expect(step).toMatchObject({ kind: 'complete' });
          else {
            expect(step.kind).toBe('wait');
            if (step.kind === 'wait') {
              expect(step.seconds).toBeLessThanOrEqual(heartbeat / 2);
              expect(at(elapsed + step.seconds).getTime()).toBeLessThanOrEqual(
                mustCompleteBy(hookClock).getTime(),
              );
            }
          }
        },
      ),
    );
  });

  it('asks for a heartbeat once half the heartbeat timeout has passed', () => {
    expect(heartbeatDue(clock, at(149))).toBe(false);
    expect(heartbeatDue(clock, at(150))).toBe(true);
    expect(heartbeatDue({ ...clock, lastHeartbeatAt: at(140) }, at(200))).toBe(false);
  });

  it('waits no longer than until the next heartbeat is due, so the look that sends it is not late', () => {
    // Arrange: the last heartbeat 145 s ago, of a 300 s timeout; polls are 15 s
    const hookClock = { ...clock, lastHeartbeatAt: at(10) };
    const draining = { ...active, status: 'DRAINING', runningServiceTasks: 3 };

    // Act
    const step = decideTerminate(
      terminate({ now: at(155), clock: hookClock, containerInstance: draining }),
      config,
    );

    // Assess
    expect(step).toMatchObject({ kind: 'wait', seconds: 5 });
  });
});

describe('decideLaunch', () => {
  it('waits for the ECS agent, then registers the targets, then waits for them to be healthy, then continues', () => {
    // Act
    const steps = [
      decideLaunch(launch({}), config),
      decideLaunch(launch({ containerInstance: active }), config),
      decideLaunch(
        launch({ containerInstance: active, targets: [{ targetGroupArn: TG, port: 80, state: 'initial' }] }),
        config,
      ),
      decideLaunch(
        launch({ containerInstance: active, targets: [{ targetGroupArn: TG, port: 80, state: 'healthy' }] }),
        config,
      ),
    ];

    // Assess
    expect(steps.map((s) => s.kind)).toEqual(['wait', 'register-targets', 'wait', 'complete']);
    expect(steps[1]).toEqual({ kind: 'register-targets', targets: [{ targetGroupArn: TG, port: 80 }] });
    expect(steps[3]).toMatchObject({ result: 'CONTINUE' });
  });

  it('abandons an instance whose agent never connects', () => {
    // Act
    const step = decideLaunch(launch({ now: at(601) }), config);

    // Assess
    expect(step).toMatchObject({
      kind: 'complete',
      result: 'ABANDON',
      why: expect.stringContaining('ECS agent'),
    });
  });

  it('deregisters what it registered before abandoning when targets never become healthy', () => {
    // Act
    const step = decideLaunch(
      launch({
        now: at(700),
        agentReadyAt: at(60),
        containerInstance: active,
        targets: [{ targetGroupArn: TG, port: 80, state: 'unhealthy' }],
      }),
      config,
    );

    // Assess
    expect(step).toEqual({
      kind: 'deregister-targets',
      targets: [{ targetGroupArn: TG, port: 80 }],
      afterwards: 'abandon',
    });
  });

  it('does not register targets when the group does it itself', () => {
    // Act
    const step = decideLaunch(launch({ containerInstance: active }), { ...config, registerTargets: false });

    // Assess
    expect(step.kind).toBe('wait');
  });
});

describe('decideTerminate', () => {
  it('drains, deregisters, waits for tasks and connections, stops standalone tasks after the grace, then continues', () => {
    // Act
    const steps = [
      decideTerminate(
        terminate({
          containerInstance: { ...active, runningServiceTasks: 2 },
          targets: [{ targetGroupArn: TG, port: 80, state: 'healthy' }],
        }),
        config,
      ),
      decideTerminate(
        terminate({
          containerInstance: { ...active, status: 'DRAINING', runningServiceTasks: 2 },
          targets: [{ targetGroupArn: TG, port: 80, state: 'healthy' }],
        }),
        config,
      ),
      decideTerminate(
        terminate({
          containerInstance: { ...active, status: 'DRAINING', runningServiceTasks: 2 },
          targets: [{ targetGroupArn: TG, port: 80, state: 'draining' }],
        }),
        config,
      ),
      decideTerminate(
        terminate({
          now: at(60),
          drainStartedAt: at(30),
          containerInstance: {
            ...active,
            status: 'DRAINING',
            runningStandaloneTasks: [{ taskArn: 'arn:task/1' }],
          },
        }),
        config,
      ),
      decideTerminate(
        terminate({
          now: at(200),
          drainStartedAt: at(30),
          containerInstance: {
            ...active,
            status: 'DRAINING',
            runningStandaloneTasks: [{ taskArn: 'arn:task/1' }],
          },
        }),
        config,
      ),
      decideTerminate(terminate({ containerInstance: { ...active, status: 'DRAINING' } }), config),
    ];

    // Assess
    expect(steps.map((s) => s.kind)).toEqual([
      'drain',
      'deregister-targets',
      'wait',
      'wait',
      'stop-standalone',
      'complete',
    ]);
    expect(steps[4]).toEqual({ kind: 'stop-standalone', taskArns: ['arn:task/1'] });
  });

  it('leaves instances of groups with ECS managed draining to ECS', () => {
    // Act
    const step = decideTerminate(terminate({ managedDraining: true, containerInstance: active }), config);

    // Assess
    expect(step).toMatchObject({ kind: 'complete', why: expect.stringContaining('managed draining') });
  });

  it('is safe to run twice: a drained instance with no targets completes', () => {
    // Act
    const first = decideTerminate(
      terminate({ containerInstance: { ...active, status: 'DRAINING' } }),
      config,
    );
    const second = decideTerminate(terminate({ containerInstance: undefined }), config);

    // Assess
    expect(first.kind).toBe('complete');
    expect(second.kind).toBe('complete');
  });
});
