// The blast-radius checker (local/scenario/blastRadius.ts) can fail: on a small twin whose clock is not
// started (no ECS scheduler to replace tasks, no reflex reacting), a step makes the writes a reflex
// would through the reflexes' own ports, or the scenario acts on the world directly, and the checker
// looks after every step.

import { join } from 'node:path';
import { UpdateListenerCommand } from '@aws-sdk/client-vpc-lattice';
import { defaultRecyclerPolicy } from '#domain/recyclerPolicy';
import { BlastRadiusChecker, type ConfiguredScaleDowns, healthyFloor } from '#local/scenario/blastRadius';
import {
  blastRadiusChecker,
  configuredScaleDowns,
  loadScenario,
  prepareTwin,
  repoRoot,
  scheduleTimeline,
} from '#local/scenario/runner';
import { Twin } from '#local/twin/twin';

function aService(desiredCount: number, scaleDowns?: ConfiguredScaleDowns) {
  const twin = new Twin({
    seed: 1,
    settings: { clusters: ['prod'], dryRun: false, policy: defaultRecyclerPolicy() },
    deliverEvents: false,
  });
  const { world } = twin;
  world.addCluster('prod');
  world.addInstance('prod', 4096, 8192);
  world.addInstance('prod', 4096, 8192);
  world.addTaskDefinition({
    family: 'web',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'awsvpc',
    containerName: 'web',
    containerPort: 8080,
    behaviour: { startSeconds: 15, healthy: true },
  });
  const tg = world.addTargetGroup({
    name: 'web',
    port: 8080,
    targetType: 'ip',
    deregistrationDelaySeconds: 30,
  });
  world.addService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: 'web:1',
    desiredCount,
    targetGroups: ['web'],
    maximumPercent: 200,
    circuitBreaker: false,
    healthCheckGraceSeconds: 60,
    history: [],
  });
  const tasks = world.runningTasks('prod', 'service:web');
  const checker = new BlastRadiusChecker(twin, { scenario: 'small', maxStopShare: 0.25, scaleDowns });
  let stepsRun = 0;
  /** A step at 10 s doing `act`, then 20 s more of whatever it set off (stops complete in 5 s). */
  const step = async (act: () => void | Promise<void>) => {
    twin.scheduler.after(10, 'act', act);
    stepsRun += await twin.scheduler.runUntil(new Date(twin.scheduler.now().getTime() + 30_000), {
      afterEachStep: checker.afterEachStep,
    });
    return { ...checker.report(), stepsRun };
  };
  return { twin, tg, tasks, step };
}

describe('blast-radius checker', () => {
  it('takes the floor from the recycler stop budget: a quarter of the desired count, at least one task', () => {
    // Prepare
    const desired = [0, 1, 2, 3, 4, 8, 10];

    // Act
    const floors = desired.map((n) => healthyFloor(n, 0.25));

    // Assess
    expect(floors).toEqual([0, 0, 1, 2, 3, 6, 8]);
  });

  it('reports a reflex stopping healthy tasks below the floor, with the time and the calls', async () => {
    // Prepare
    const { twin, tasks, step } = aService(4);
    const [first, second] = tasks;

    // Act
    const report = await step(async () => {
      await twin.ports.tasks.stopTask('prod', first!.arn, 'reflex-like');
      await twin.ports.tasks.stopTask('prod', second!.arn, 'reflex-like');
    });

    // Assess
    expect(report.violations).toEqual([
      {
        scenario: 'small',
        at: '00:00:10',
        step: 'act',
        invariant: 'healthy-floor',
        subject: 'prod/web',
        detail: 'healthy tasks 4 -> 2, below the floor of 3 (desired 4)',
        calls: [`StopTask ${first!.arn}`, `StopTask ${second!.arn}`],
      },
    ]);
    expect(report.steps).toBe(report.stepsRun);
  });

  it('reports a reflex deregistering the last healthy target', async () => {
    // Prepare
    const { twin, tg, tasks, step } = aService(1);
    const ip = tasks[0]!.privateIp!;

    // Act
    const report = await step(() => twin.ports.targets.deregister(tg.arn, [{ id: ip, port: 8080 }]));

    // Assess
    expect(report.violations).toEqual([
      expect.objectContaining({
        invariant: 'last-healthy-target',
        subject: 'web',
        detail: 'healthy targets 1 -> 0',
        calls: [`DeregisterTargets ${tg.arn} ${ip}:8080`],
      }),
    ]);
  });

  it('reports weights outside the router limits, whoever wrote them', async () => {
    // Prepare
    const { twin, step } = aService(2);
    twin.traffic.addMeshRoute({
      meshName: 'prod',
      virtualRouterName: 'web-router',
      routeName: 'web',
      protocol: 'http',
      targets: [
        { virtualNode: 'web-v1', weight: 100 },
        { virtualNode: 'web-v2', weight: 0 },
      ],
    });

    // Act
    const report = await step(() => twin.traffic.manualEdit('web', { 'web-v1': 0, 'web-v2': 0 }));

    // Assess
    expect(report.violations).toEqual([
      expect.objectContaining({
        at: '00:00:10',
        invariant: 'router-limits',
        subject: 'web',
        detail: 'appmesh needs at least one target with a weight above 0',
      }),
    ]);
  });

  it("names the VPC Lattice write that left a route's weights outside its limits", async () => {
    // Prepare
    const { twin, step } = aService(2);
    const route = twin.traffic.addLatticeRoute({
      name: 'web',
      default: true,
      targetGroups: [
        { targetGroup: 'web-v1', weight: 100 },
        { targetGroup: 'web-v2', weight: 0 },
      ],
    });
    const group = (name: string) => twin.traffic.lattice.targetGroup(name).id;

    // Act: a write that sends no traffic anywhere (Lattice takes weights of 0)
    const report = await step(async () => {
      await twin.clients.vpcLattice.send(
        new UpdateListenerCommand({
          serviceIdentifier: route.listenerArn!.replace(/\/listener\/.*$/, ''),
          listenerIdentifier: route.listenerArn!,
          defaultAction: {
            forward: {
              targetGroups: [
                { targetGroupIdentifier: group('web-v1'), weight: 0 },
                { targetGroupIdentifier: group('web-v2'), weight: 0 },
              ],
            },
          },
        }),
      );
    });

    // Assess
    expect(report.violations).toEqual([
      expect.objectContaining({
        invariant: 'router-limits',
        subject: 'web',
        calls: [expect.stringMatching(/^UpdateListener /)],
      }),
    ]);
  });

  it('does not blame a reflex for the scenario crashing tasks, even while a reflex writes elsewhere', async () => {
    // Prepare
    const { twin, tasks, step } = aService(4);
    const [first, second, third] = tasks;

    // Act
    const report = await step(async () => {
      twin.world.crash(first!, 1);
      twin.world.crash(second!, 1);
      await twin.ports.tasks.tagTask('prod', third!.arn, { note: 'looked at' });
    });

    // Assess
    expect(twin.world.runningTasks('prod', 'service:web')).toHaveLength(2);
    expect(report.violations).toEqual([]);
  });

  it('does not blame a reflex for stopping a task that was not healthy', async () => {
    // Prepare
    const { twin, tg, tasks, step } = aService(4);
    const [first, second] = tasks;
    await step(() => {
      for (const target of tg.targets.filter((t) => t.taskArn === first!.arn || t.taskArn === second!.arn))
        target.state = 'unhealthy';
    });

    // Act
    const report = await step(async () => {
      await twin.ports.tasks.stopTask('prod', first!.arn, 'unhealthy');
      await twin.ports.tasks.stopTask('prod', second!.arn, 'unhealthy');
    });

    // Assess
    expect(report.violations).toEqual([]);
  });

  describe('a reflex lowering a desired count', () => {
    it('is reported outside a configured scale-down', async () => {
      // Prepare
      const { twin, step } = aService(4);

      // Act
      const lowered = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 2));
      const zero = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 0));

      // Assess
      expect(zero.violations).toEqual([
        expect.objectContaining({
          invariant: 'desired-lowered',
          subject: 'prod/web',
          detail: 'desired count 4 -> 2, below 4 and not a configured scale-down',
          calls: ['UpdateService prod/web desiredCount=2'],
        }),
        expect.objectContaining({
          invariant: 'desired-lowered',
          detail: 'desired count 2 -> 0, below 4 and not a configured scale-down',
        }),
      ]);
      expect(lowered.violations).toHaveLength(1);
    });

    it('is the configured scale-down when a rollout names the service, to zero only', async () => {
      // Prepare
      const configured = { services: ['prod/web'], crashLoopScaleToZero: false };
      const { twin, step } = aService(4, configured);

      // Act
      const halved = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 2));
      const zero = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 0));

      // Assess
      expect(zero.violations).toEqual([
        expect.objectContaining({
          invariant: 'desired-lowered',
          detail: expect.stringMatching(/^desired count 4 -> 2/),
        }),
      ]);
      expect(halved.violations).toHaveLength(1);
    });

    /** rollout-alb-promoted with its route declaring web-v1 and web-v2, its rollout scaling `stable` and `canary`. */
    function scalingScenario(stable: string, canary: string) {
      const scenario = loadScenario(join(repoRoot, 'local', 'scenarios', 'rollout-alb-promoted.json'));
      scenario.world.traffic.listenerRules[0]!.services = {
        stable: { cluster: 'prod', service: 'web-v1' },
        canary: { cluster: 'prod', service: 'web-v2' },
      };
      const step = scenario.timeline.find((s) => 'startRollout' in s) as {
        startRollout: { request: Record<string, unknown> };
      };
      step.startRollout.request.promote = { scaleDownStable: { cluster: 'prod', service: stable } };
      step.startRollout.request.rollback = { scaleDownCanary: { cluster: 'prod', service: canary } };
      return scenario;
    }

    it('takes the configured scale-downs from the scenario: its rollouts and its crash-loop policy', () => {
      // Prepare
      const scenario = scalingScenario('web-v1', 'web-v2');
      scenario.config.policy.crashLoopBreaker.whenNoStableRevision = 'scale-to-zero';

      // Act
      const scaleDowns = configuredScaleDowns(scenario, prepareTwin(scenario).declaredRoutes);

      // Assess
      expect(scaleDowns).toEqual({ services: ['prod/web-v1', 'prod/web-v2'], crashLoopScaleToZero: true });
    });

    it('is a violation when a rollout request scales a service its route does not declare', async () => {
      // Prepare: the request names prod/web (undeclared) for both scale-downs, as a request the allowance
      // check should have refused; a reflex that scaled it anyway lowered a count it does not own
      const scenario = scalingScenario('web', 'web');
      const scaleDowns = configuredScaleDowns(scenario, prepareTwin(scenario).declaredRoutes);
      const { twin, step } = aService(4, scaleDowns);

      // Act
      const zero = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 0));

      // Assess
      expect(scaleDowns.services).toEqual([]);
      expect(zero.violations).toEqual([
        expect.objectContaining({
          invariant: 'desired-lowered',
          subject: 'prod/web',
          detail: 'desired count 4 -> 0, below 4 and not a configured scale-down',
        }),
      ]);
    });

    it('is a restore when it puts back the value it raised, and a violation below it', async () => {
      // Prepare: a person set 3; a reaction raised it to 6
      const { twin, step } = aService(4);
      await step(() => twin.world.updateService('prod', 'web', { desiredCount: 3 }));
      await step(() => twin.ports.services.setDesiredCount('prod', 'web', 6));

      // Act
      const restored = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 3));
      const below = await step(() => twin.ports.services.setDesiredCount('prod', 'web', 2));

      // Assess
      expect(restored.violations).toEqual([]);
      expect(below.violations).toEqual([
        expect.objectContaining({
          invariant: 'desired-lowered',
          detail: 'desired count 3 -> 2, below 3 and not a configured scale-down',
        }),
      ]);
    });
  });

  describe('a terminate action completed while its instance still serves', () => {
    /** lifecycle-step-fails: ECS never lists the instance, so its tasks cannot be drained before it goes. */
    async function undrainedTermination(fromFailSafe: boolean) {
      const scenario = loadScenario(join(repoRoot, 'local', 'scenarios', 'lifecycle-step-fails.json'));
      const twin = prepareTwin(scenario);
      if (!fromFailSafe) {
        // The same completion, as if the workflow's normal path had made it without draining first.
        const record = twin.world.apiCalls.push.bind(twin.world.apiCalls);
        twin.world.apiCalls.push = (...calls) =>
          record(
            ...calls.map((c) =>
              c.by?.endsWith(':fail-safe') ? { ...c, by: 'instanceLifecycleStep:look' } : c,
            ),
          );
      }
      scheduleTimeline(twin, scenario);
      twin.start();
      const checker = blastRadiusChecker(twin, scenario);
      await twin.scheduler.runUntil(new Date(twin.scheduler.now().getTime() + scenario.duration * 1000), {
        afterEachStep: checker.afterEachStep,
      });
      return { twin, report: checker.report() };
    }

    it('is the scale-in going ahead when the fail-safe released it: the workflow could not drain', async () => {
      // Act
      const { twin, report } = await undrainedTermination(true);

      // Assess
      expect(
        twin.lifecycle.completions.filter((c) => c.transition === 'terminate' && c.stillServing),
      ).not.toEqual([]);
      expect(report.violations).toEqual([]);
    });

    it('is a reflex taking the service below its floor when any other step completes it', async () => {
      // Act
      const { report } = await undrainedTermination(false);

      // Assess
      expect(report.violations).toContainEqual(
        expect.objectContaining({
          invariant: 'healthy-floor',
          subject: 'prod/web',
          calls: [expect.stringMatching(/^CompleteLifecycleAction prod-asg i-/)],
        }),
      );
    });
  });
});
