// What a notification tells a person they can do next: the ops CLI's command, ready to paste, and the API
// call behind it (README: "The ops CLI", "The ops API"). One place, so that a renamed command or route is
// renamed in every notification.
import type { Steer } from '#ports';

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/**
 * One argument of a command to paste into a shell: as it is when it holds only safe characters, else in
 * single quotes (names come from resources and configuration this code does not choose).
 */
const word = (text: string) =>
  /^[A-Za-z0-9_:/.@=+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;

export const steer = {
  resumeRollout: (name: string): Steer => ({
    what: 'resume the rollout',
    command: `ecs-reflex rollout resume ${word(name)}`,
    api: `POST /rollouts/${path(name)}/resume`,
  }),
  abortRollout: (name: string): Steer => ({
    what: 'abort it, all traffic back on stable',
    command: `ecs-reflex rollout abort ${word(name)}`,
    api: `POST /rollouts/${path(name)}/abort`,
  }),
  watchRollout: (name: string): Steer => ({
    what: 'follow the rollout',
    command: `ecs-reflex rollout watch ${word(name)}`,
    api: `GET /rollouts/${path(name)}`,
  }),
  lookAtService: (cluster: string, service: string): Steer => ({
    what: 'look at the service',
    command: `ecs-reflex services ${word(cluster)} ${word(service)}`,
    api: `GET /services/${path(cluster, service)}`,
  }),
  /** `target` as the reflex journals it: the action history matches it exactly. */
  actionsOn: (target: string): Steer => ({
    what: "see the reflexes' actions on it",
    command: `ecs-reflex actions --target ${word(target)}`,
    api: `GET /actions?target=${encodeURIComponent(target)}`,
  }),
  lookAtInstances: (cluster: string): Steer => ({
    what: "look at the cluster's instances and lifecycle workflows",
    command: `ecs-reflex instances ${word(cluster)}`,
    api: `GET /instances/${path(cluster)}`,
  }),
};
