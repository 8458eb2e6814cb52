// The `web` service the twin's world tests start from: task definition web:1 (256 CPU units, 512 MiB,
// bridge networking, healthy five seconds after it starts) and a rolling ECS service of it in `prod`,
// with no target group; the deployment circuit breaker on and no health check grace unless told.
import type { ServiceState } from '#local/twin/state';
import type { World } from '#local/twin/world';

export function addWebService(
  world: World,
  desiredCount: number,
  service: Partial<Pick<ServiceState, 'circuitBreaker' | 'healthCheckGraceSeconds'>> = {},
) {
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
    circuitBreaker: service.circuitBreaker ?? true,
    healthCheckGraceSeconds: service.healthCheckGraceSeconds ?? 0,
    history: [],
  });
  return web;
}
