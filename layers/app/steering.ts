// What a notification tells a person they can do next: the ops CLI's command, ready to paste, and the API
// call behind it (README: "The ops CLI", "The ops API"). One place, so that a renamed command or route is
// renamed in every notification.
import type { Steer } from '#ports';

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

export const steer = {
  resumeRollout: (name: string): Steer => ({
    what: 'resume the rollout',
    command: `ecs-reflex rollout resume ${name}`,
    api: `POST /rollouts/${path(name)}/resume`,
  }),
  abortRollout: (name: string): Steer => ({
    what: 'abort it, all traffic back on stable',
    command: `ecs-reflex rollout abort ${name}`,
    api: `POST /rollouts/${path(name)}/abort`,
  }),
  watchRollout: (name: string): Steer => ({
    what: 'follow the rollout',
    command: `ecs-reflex rollout watch ${name}`,
    api: `GET /rollouts/${path(name)}`,
  }),
  lookAtService: (cluster: string, service: string): Steer => ({
    what: 'look at the service',
    command: `ecs-reflex services ${cluster} ${service}`,
    api: `GET /services/${path(cluster, service)}`,
  }),
  actionsOn: (target: string): Steer => ({
    what: "see the reflexes' actions on it",
    command: `ecs-reflex actions --target ${target}`,
    api: `GET /actions?target=${encodeURIComponent(target)}`,
  }),
  lookAtInstances: (cluster: string): Steer => ({
    what: "look at the cluster's instances and lifecycle workflows",
    command: `ecs-reflex instances ${cluster}`,
    api: `GET /instances/${path(cluster)}`,
  }),
};
