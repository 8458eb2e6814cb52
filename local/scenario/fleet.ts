// The fleet scenario: an account's worth of clusters and services, a tenth of them crash-looping at once,
// and the sweep's rechecks beside them. A thousand services do not belong in a JSON file, so this builds
// the scenario in code, through the same schema every scenario file is read with.
import { type Scenario, ScenarioSchema } from '#local/scenario/schema';

export interface FleetShape {
  clusters: number;
  servicesPerCluster: number;
  /** Every tenth service crash-loops with 0.1: the first few of each cluster. */
  crashLoopingShare: number;
}

/** Issue 14's fleet: 20 clusters x 50 services, a tenth of them crash-looping at once. */
export const FLEET: FleetShape = { clusters: 20, servicesPerCluster: 50, crashLoopingShare: 0.1 };

/** When the bad release's tasks start crashing, and how: both tasks of a service, every 10 s, 3 times. */
export const FLEET_CRASH = { atSeconds: 60, everySeconds: 10, times: 3, tasks: 2 } as const;

const pad = (n: number) => String(n).padStart(2, '0');
export const fleetCluster = (c: number) => `fleet-${pad(c + 1)}`;
export const fleetService = (s: number) => `svc-${pad(s + 1)}`;

/** The crash-looping services, as cluster and service name. */
export function crashLooping(shape: FleetShape = FLEET): { cluster: string; service: string }[] {
  const perCluster = Math.round(shape.servicesPerCluster * shape.crashLoopingShare);
  return Array.from({ length: shape.clusters }, (_, c) =>
    Array.from({ length: perCluster }, (_, s) => ({ cluster: fleetCluster(c), service: fleetService(s) })),
  ).flat();
}

export function fleetScenario(shape: FleetShape = FLEET): Scenario {
  const clusters = Array.from({ length: shape.clusters }, (_, c) => fleetCluster(c));
  const services = Array.from({ length: shape.servicesPerCluster }, (_, s) => fleetService(s));
  const looping = crashLooping(shape);
  const { atSeconds, everySeconds, times, tasks } = FLEET_CRASH;
  return ScenarioSchema.parse({
    name: 'fleet-storm',
    description: `${shape.clusters} clusters x ${shape.servicesPerCluster} services; ${looping.length} of them start crash-looping at once after a bad release (both tasks crash every ${everySeconds} s, ${times} times), while the sweep rechecks the restarted family of every cluster each minute. Each crash-looping service is rolled back once to its stable revision; nothing else is touched.`,
    seed: 14,
    duration: '12m',
    world: {
      clusters: clusters.map((name) => ({
        name,
        instances: [{ count: 2, cpu: 65536, memory: 131072 }],
      })),
      // One family per service name, deployed to every cluster as a real account deploys an app.
      taskDefinitions: services.flatMap((family) =>
        [1, 2].map((revision) => ({
          family,
          revision,
          cpu: 64,
          memory: 128,
          container: { name: family, port: 8080 },
        })),
      ),
      services: clusters.flatMap((cluster) =>
        services.map((name) => ({
          cluster,
          name,
          taskDefinition: `${name}:2`,
          desiredCount: tasks,
          history: [
            { taskDefinition: `${name}:1`, startedAgo: '3d', finishedAgo: '3d' },
            { taskDefinition: `${name}:2`, startedAgo: '4m', finishedAgo: '3m' },
          ],
        })),
      ),
    },
    config: {
      clusters,
      policy: {
        crashLoopBreaker: { failures: 3, windowSeconds: 600, minStableSeconds: 600 },
        // The sweep's load: a recheck of this family in every cluster, every minute.
        restartStandalone: { families: ['batch'] },
      },
    },
    timeline: [
      { at: atSeconds, note: `${looping.length} services start crash-looping after a bad release` },
      ...looping.map(({ cluster, service }) => ({
        at: atSeconds,
        crash: {
          cluster,
          group: `service:${service}`,
          oom: true,
          count: tasks,
          repeat: { every: everySeconds, times },
        },
      })),
    ],
    expect: [
      { action: 'break-crash-loop', outcome: 'done', count: looping.length },
      { api: 'UpdateService', count: looping.length },
      { api: 'StopTask', count: 0 },
      { api: 'RunTask', count: 0 },
      { deadLetters: true, count: 0 },
      ...looping.map(({ cluster, service }) => ({
        service: { cluster, name: service },
        taskDefinition: `${service}:1`,
      })),
    ],
  });
}
