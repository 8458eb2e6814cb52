// The instance lifecycle reflex on the twin, for a scale-in of 10 instances: AWS calls per instance
// against the fewest the design needs, and virtual time from the hook to its completion against the
// target group's deregistration delay. Virtual time: exact figures, not noisy ones.
import { runScenario } from '#local/scenario/runner';
import { ScenarioSchema } from '#local/scenario/schema';

const WRITES = new Set([
  'StartExecution',
  'UpdateContainerInstancesState',
  'DeregisterTargets',
  'RecordLifecycleActionHeartbeat',
  'CompleteLifecycleAction',
  'StopTask',
]);

export interface LifecycleBench {
  instances: number;
  deregistrationDelaySeconds: number;
  heartbeatTimeoutSeconds: number;
  hookToCompletionSeconds: { min: number; max: number };
  writesPerInstance: Record<string, number>;
  readsPerInstance: number;
  looksPerInstance: number;
  /** Start, drain, deregister, complete, plus a heartbeat per half heartbeat timeout spent waiting. */
  minimumWritesPerInstance: number;
}

export async function measureInstanceLifecycle(): Promise<LifecycleBench> {
  const delay = 300;
  const heartbeat = 120;
  const scenario = ScenarioSchema.parse({
    name: 'bench-scale-in-10',
    description: 'scale-in of 10 instances behind a target group, terminate hook',
    seed: 61,
    duration: '40m',
    world: {
      clusters: [{ name: 'prod', instances: [] }],
      taskDefinitions: [
        { family: 'web', revision: 1, cpu: 256, memory: 512, container: { name: 'web', port: 8080 } },
      ],
      targetGroups: [{ name: 'edge', port: 80, targetType: 'instance', deregistrationDelay: delay }],
      services: [{ cluster: 'prod', name: 'web', taskDefinition: 'web:1', desiredCount: 12 }],
      autoScalingGroups: [
        {
          name: 'prod-asg',
          cluster: 'prod',
          min: 1,
          max: 20,
          desired: 12,
          instance: { cpu: 4096, memory: 8192 },
          targetGroups: ['edge:80'],
          hooks: [
            {
              name: 'ecs-reflex-terminate',
              transition: 'terminate',
              heartbeatTimeout: heartbeat,
              defaultResult: 'CONTINUE',
            },
          ],
        },
      ],
    },
    config: {
      clusters: ['prod'],
      lifecycle: {
        hooks: [
          {
            groupName: 'prod-asg',
            hookName: 'ecs-reflex-terminate',
            cluster: 'prod',
            targetGroups: [{ arn: 'arn:tg:edge', port: 80 }],
          },
        ],
      },
    },
    timeline: [{ at: '1m', manualEdit: { group: 'prod-asg', desired: 2 } }],
  });
  const result = await runScenario(scenario);
  const completions = result.timeline.filter((e) => e.kind === 'action' && e.text.startsWith('complete-'));
  const started = result.timeline.filter((e) => e.kind === 'world' && /chosen for scale-in/.test(e.text));
  const instances = completions.length;
  const lifecycleCalls = result.apiCalls.filter(
    (c) => !c.failed && /i-0[0-9a-f]+|instance-lifecycle/.test(c.target),
  );
  const writes: Record<string, number> = {};
  for (const c of lifecycleCalls.filter((c) => WRITES.has(c.api))) writes[c.api] = (writes[c.api] ?? 0) + 1;
  const perInstance = (n: number) => Math.round((n / Math.max(1, instances)) * 10) / 10;
  const looks = result.apiCalls.filter((c) => !c.failed && c.api === 'ListContainerInstances').length;
  const durations = completions.map((c, i) => c.t - (started[i]?.t ?? c.t));
  return {
    instances,
    deregistrationDelaySeconds: delay,
    heartbeatTimeoutSeconds: heartbeat,
    hookToCompletionSeconds: { min: Math.min(...durations), max: Math.max(...durations) },
    writesPerInstance: Object.fromEntries(Object.entries(writes).map(([api, n]) => [api, perInstance(n)])),
    readsPerInstance: perInstance(lifecycleCalls.filter((c) => !WRITES.has(c.api)).length),
    looksPerInstance: perInstance(looks),
    minimumWritesPerInstance: 4 + Math.ceil(delay / (heartbeat / 2)) - 1,
  };
}
