// Which Auto Scaling states confirm that a lifecycle action waits, per move (warm pools included), and the
// heartbeat margin of the lifecycle workflow's looks.
import {
  type LifecyclePorts,
  type LifecycleSettings,
  type LifecycleWorkflowState,
  lookAtInstance,
  waitingStates,
} from '#app/instanceLifecycle';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';

const hook = (
  transition: 'launch' | 'terminate',
  origin?: string,
  destination?: string,
): LifecycleWorkflowState['hook'] => ({
  groupName: 'prod-asg',
  hookName: 'h',
  instanceId: 'i-0123456789abcdef0',
  token: 't',
  transition,
  cluster: 'prod',
  startedAt: '2026-12-07T00:00:00Z',
  ...(origin ? { origin } : {}),
  ...(destination ? { destination } : {}),
});

describe('waitingStates', () => {
  it.each([
    ['launch into the group', hook('launch', 'EC2', 'AutoScalingGroup'), ['Pending:Wait']],
    ['launch into the warm pool', hook('launch', 'EC2', 'WarmPool'), ['Warmed:Pending:Wait']],
    ['warm pool into the group', hook('launch', 'WarmPool', 'AutoScalingGroup'), ['Pending:Wait']],
    ['scale-in', hook('terminate', 'AutoScalingGroup', 'EC2'), ['Terminating:Wait']],
    ['a warm pool instance terminated', hook('terminate', 'WarmPool', 'EC2'), ['Warmed:Terminating:Wait']],
    [
      'scale-in back into the warm pool',
      hook('terminate', 'AutoScalingGroup', 'WarmPool'),
      ['Terminating:Wait', 'Warmed:Pending:Wait'],
    ],
    ['a notification without the move', hook('terminate'), ['Terminating:Wait', 'Warmed:Terminating:Wait']],
  ])('%s', (_, action, states) => {
    expect(waitingStates(action)).toEqual(states);
  });

  it('never takes InService as waiting', () => {
    for (const transition of ['launch', 'terminate'] as const)
      for (const place of [undefined, 'EC2', 'AutoScalingGroup', 'WarmPool'])
        expect(waitingStates(hook(transition, place, place))).not.toContain('InService');
  });
});

// The heartbeat margin, in the workflow's loop: Look, then Pause for its waitSeconds, or the Retry of
// instanceLifecycle.asl.json after a look that failed (5 s, then 10, 20, 40). Slow calls take clock time, as
// the SDK's backoff does under throttling.
describe('the heartbeat under slow and failing looks', () => {
  const HEARTBEAT_TIMEOUT = 120;
  const settings: LifecycleSettings = {
    dryRun: false,
    hooks: [LifecycleHookConfigSchema.parse({ groupName: 'prod-asg', hookName: 'h', cluster: 'prod' })],
  };

  class Throttled extends Error {
    override readonly name = 'ThrottlingException';
  }

  /** Ports over a clock the calls move: each describe takes `readSeconds`; `readFails(n)` throttles the n-th. */
  function world(readSeconds: number, readFails: (n: number) => boolean) {
    let t = Date.parse('2026-12-07T00:00:00Z');
    const heartbeats: number[] = [];
    let reads = 0;
    const ports = {
      clock: { now: () => new Date(t) },
      actions: {
        hookSettings: async () => ({
          heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT,
          defaultResult: 'CONTINUE' as const,
          managedDraining: false,
        }),
        lifecycleState: async () => 'Terminating:Wait',
        heartbeat: async () => {
          t += 2000;
          heartbeats.push(t);
        },
        complete: async () => {},
      },
      instances: {
        describe: async () => {
          t += readSeconds * 1000;
          if (readFails(++reads)) throw new Throttled('Rate exceeded');
          // Draining, with service tasks that never move: the look waits, again and again.
          return {
            status: 'DRAINING',
            agentConnected: true,
            runningServiceTasks: 2,
            runningStandaloneTasks: [],
          };
        },
        drain: async () => {},
        stopTasks: async () => {},
      },
      targets: { targetsOf: async () => [], register: async () => {}, deregister: async () => {} },
      workflows: { start: async () => ({ started: true, runId: 'r' }) },
      notifier: { notify: async () => {} },
      journal: { record: () => {} },
      deadLetters: { park: async () => {} },
    } satisfies LifecyclePorts;
    const sleep = (seconds: number) => {
      t += seconds * 1000;
    };
    return { ports, heartbeats, sleep, now: () => t };
  }

  /** Runs the workflow for `minutes`; the longest time Auto Scaling went without a heartbeat, in seconds. */
  async function longestSilence(w: ReturnType<typeof world>, minutes: number): Promise<number> {
    const start = w.now();
    let state: LifecycleWorkflowState = {
      hook: { ...hook('terminate', 'AutoScalingGroup', 'EC2'), startedAt: new Date(start).toISOString() },
      progress: { looks: 0 },
    };
    let retries = 0;
    while (w.now() < start + minutes * 60_000) {
      try {
        const result = await lookAtInstance(state, w.ports, settings);
        retries = 0;
        state = { hook: result.hook, progress: result.progress };
        w.sleep(result.waitSeconds);
      } catch (error) {
        expect((error as Error).name).toBe('ThrottlingException');
        expect(retries).toBeLessThan(4); // past the Retry's four attempts, FailSafe would complete the action
        w.sleep(5 * 2 ** retries++);
      }
    }
    const times = [start, ...w.heartbeats, w.now()];
    return Math.max(...times.slice(1).map((at, i) => (at - times[i]!) / 1000));
  }

  it('heartbeats in time when every look takes 10 s', async () => {
    expect(
      await longestSilence(
        world(10, () => false),
        30,
      ),
    ).toBeLessThan(HEARTBEAT_TIMEOUT);
  });

  it('heartbeats in time when looks take 10 s and two in a row fail on their read', async () => {
    const silence = await longestSilence(
      world(10, (n) => n % 6 >= 4),
      30,
    );
    expect(silence).toBeLessThan(HEARTBEAT_TIMEOUT);
  });

  it('sends a due heartbeat before the look reads, so a look that fails reading has heartbeated', async () => {
    const w = world(10, (n) => n > 1);
    const first = await lookAtInstance(
      { hook: hook('terminate', 'AutoScalingGroup', 'EC2'), progress: { looks: 0 } },
      w.ports,
      settings,
    );
    expect(w.heartbeats).toHaveLength(1); // the confirmation
    w.sleep(HEARTBEAT_TIMEOUT / 2);
    await expect(
      lookAtInstance({ hook: first.hook, progress: first.progress }, w.ports, settings),
    ).rejects.toThrow('Rate exceeded');
    expect(w.heartbeats).toHaveLength(2);
  });
});
