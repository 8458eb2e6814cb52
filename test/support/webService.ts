// The `web` service the twin's world tests start from: task definition web:1 (256 CPU units, 512 MiB,
// bridge networking, healthy five seconds after it starts) and a rolling ECS service of it in `prod`,
// with the deployment circuit breaker on and no target group.
import type { World } from '#local/twin/world';

export function addWebService(world: World, desiredCount: number) {
  const web = world.addTaskDefinition({
    family: 'web',
    revision: 1,
    cpu: 256,
    memory: 512,
    networkMode: 'bridge',
    containerName: 'web',
    containerPort: 8080,
    behaviour: { startSeconds: 5, healthy: true },
  });
  world.addService({
    cluster: 'prod',
    name: 'web',
    taskDefinition: web.arn,
    desiredCount,
    targetGroups: [],
    maximumPercent: 200,
    circuitBreaker: true,
    healthCheckGraceSeconds: 0,
    history: [],
  });
  return web;
}
