// The world the ops API and CLI tests share: one cluster with a web service, and an ALB rule
// splitting its two versions (all traffic on v1).
import { type Scenario, ScenarioSchema } from '#local/scenario/schema';

export function opsWorld(name: string): Scenario {
  return ScenarioSchema.parse({
    name,
    description: 'a cluster with a service and an ALB rule splitting two versions',
    duration: '1h',
    world: {
      clusters: [{ name: 'prod', instances: [{ count: 2, cpu: 4096, memory: 8192 }] }],
      taskDefinitions: [
        { family: 'web', revision: 1, cpu: 256, memory: 512, container: { name: 'web', port: 8080 } },
      ],
      targetGroups: [
        { name: 'web-v1', port: 8080, targetType: 'ip' },
        { name: 'web-v2', port: 8080, targetType: 'ip' },
      ],
      services: [
        { cluster: 'prod', name: 'web', taskDefinition: 'web:1', desiredCount: 2, targetGroups: ['web-v1'] },
      ],
      traffic: {
        listenerRules: [
          {
            name: 'web',
            targetGroups: [
              { targetGroup: 'web-v1', weight: 100 },
              { targetGroup: 'web-v2', weight: 0 },
            ],
            rps: 40,
          },
        ],
      },
    },
    config: { clusters: ['prod'] },
  });
}
