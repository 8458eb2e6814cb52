// What a function's ports need from where it runs, besides AWS: the time, where its actions are written
// down, and where a notification goes when no topic is configured. In Lambda: the system clock and
// Powertools' logs. The twin passes its virtual clock and its
// own record of what the functions logged.
import { randomUUID } from 'node:crypto';
import type { HttpNetwork } from '#adapters/aws/httpTrafficCheck';
import type { ActionJournal, Clock, Notifier } from '#ports';
import { powertoolsJournal } from '#runtime/journal';
import { logger } from '#runtime/powertools';

export interface Host {
  clock: Clock;
  journal: ActionJournal;
  /** Without a topic, notifications still reach the logs, where an alarm on them can page someone. */
  logNotifier: Notifier;
  /** Ids for the messages the functions send (the twin's are repeatable). */
  newId: () => string;
  /** How http checks resolve and reach a URL: DNS and Node's http client in Lambda, the twin's test listener. */
  http?: HttpNetwork;
}

const systemClock: Clock = { now: () => new Date() };

const logNotifier: Notifier = {
  notify: async (notification) => logger.error(notification.subject, { notification }),
};

export function lambdaHost(): Host {
  return { clock: systemClock, journal: powertoolsJournal(), logNotifier, newId: randomUUID };
}
