// The reflexes' ports over the twin. Each method is named after the AWS call it stands for, records it
// (the order of AWS-level actions is what scenarios assert) and can be made to fail like AWS does.
import { deadLetterOf } from '#adapters/aws/sqsDeadLetters';
import { type Faults, faultError } from '#local/twin/aws/faults';
import { reachAws, runtimeExit, runtimeGone } from '#local/twin/lambdas';
import type { World } from '#local/twin/world';
import type { ActionJournal, CapacitySignal, DeadLetters, Notifier, Rechecks, RecyclerPorts } from '#ports';

/** Same bound as the adapters' clients (layers/runtime/clients.ts, AWS_MAX_ATTEMPTS default). */
export const SDK_MAX_ATTEMPTS = 4;
export { type FaultRule, Faults } from '#local/twin/aws/faults';

export interface TwinRecorders {
  journal: ActionJournal;
  notifications: Parameters<Notifier['notify']>[0][];
  shortfalls: Parameters<CapacitySignal['reportShortfall']>[0][];
  parked: { input: string; reason: string; source: string }[];
  onShortfall?: (shortfall: Parameters<CapacitySignal['reportShortfall']>[0]) => void;
  /** Where a recheck message goes: the same buffer queue the events go to. */
  recheck: (cluster: string, group: string, at: Date) => void;
}

/**
 * One AWS call against the twin: recorded (scenarios assert their order), and failed when a fault rule
 * says so. The AWS adapters' SDK clients retry throttling, 5xx and timeouts themselves (bounded
 * attempts); the twin does the same, so a fault reaches a reflex only when every attempt failed.
 * A write passes its effect: a fault that lets the call take effect before the client times out
 * (`applied`) applies it on that attempt and on each retry, as AWS would see the same command again;
 * such an attempt is recorded as done, with the error the client saw in `answered`. A command AWS
 * refuses (its effect throws AWS's error) is recorded as failed with that error: it did nothing.
 * A call from a Lambda runtime that has died never leaves it, so it is not recorded at all.
 * `attempts` stands for a client built with fewer (1: the adapter retries itself, after checking).
 */
export function recordedCalls(world: World, faults: Faults) {
  function call(api: string, target: string, write: boolean): void;
  function call<T>(api: string, target: string, write: boolean, effect: () => T, attempts?: number): T;
  function call<T>(
    api: string,
    target: string,
    write: boolean,
    effect?: () => T,
    attempts = SDK_MAX_ATTEMPTS,
  ): T | undefined {
    const invocation = reachAws(api, write);
    const byInvocation = invocation ? { by: invocation } : {};
    for (let attempt = 1; ; attempt++) {
      const at = world.clock.now();
      const by = attempt > 1 ? { ...byInvocation, attempt } : byInvocation;
      const fault = faults.draw(api, at, write && effect !== undefined);
      if (!fault) {
        if (!effect) {
          world.apiCalls.push({ at, api, target, write, ...by });
          return undefined;
        }
        try {
          const result = effect();
          world.apiCalls.push({ at, api, target, write, ...by });
          return result;
        } catch (refusal) {
          // AWS refused the command (a completed lifecycle action, a missing service): it did nothing.
          world.apiCalls.push({ at, api, target, write, failed: (refusal as Error).name, ...by });
          throw refusal;
        }
      }
      const error = faultError(api, fault);
      if (fault.applied) {
        try {
          effect?.();
        } catch (refusal) {
          // AWS's own refusal of the repeated command (the action is already completed) is its answer.
          world.apiCalls.push({ at, api, target, write, failed: (refusal as Error).name, ...by });
          throw refusal;
        }
        world.apiCalls.push({ at, api, target, write, answered: error.name, ...by });
      } else {
        world.apiCalls.push({ at, api, target, write, failed: error.name, ...by });
      }
      if (attempt >= attempts) throw error;
    }
  }
  return call;
}

export function twinRecyclerPorts(
  world: World,
  faults: Faults,
  recorders: TwinRecorders,
  onParked: (reason: string) => void = () => undefined,
): Omit<RecyclerPorts, 'tasks' | 'services' | 'targets'> {
  const call = recordedCalls(world, faults);
  const notifier: Notifier = {
    async notify(notification) {
      call('Publish', notification.subject, true, () => recorders.notifications.push(notification));
    },
  };
  const capacity: CapacitySignal = {
    async reportShortfall(shortfall) {
      // An EMF metric is a log line: a runtime that has died writes none.
      if (runtimeGone()) return;
      recorders.shortfalls.push(shortfall);
      recorders.onShortfall?.(shortfall);
    },
  };
  const rechecks: Rechecks = {
    async recheckAt(cluster, group, at) {
      call('SendMessage', `recheck ${cluster} ${group}`, false);
      recorders.recheck(cluster, group, at);
    },
  };
  const deadLetters: DeadLetters = {
    async park(input, reason, source) {
      // SendMessage to the dead-letter queue, which a runtime that has died never sends; what it holds
      // is the adapter's message, cut to what SQS takes.
      if (runtimeGone()) throw runtimeExit();
      const letter = deadLetterOf(input, reason, source);
      recorders.parked.push({ input: letter.body, reason: letter.reason, source: letter.source });
      onParked(reason);
    },
  };

  return {
    notifier,
    capacity,
    rechecks,
    clock: world.clock,
    journal: recorders.journal,
    deadLetters,
  };
}
