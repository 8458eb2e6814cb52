// Whether a guard alarm stops a native deployment now. The alarm event only says an alarm changed; what
// decides is what AWS answers: the alarm's state now, the settings the deployment's hook runs with, and the
// deployment's status.
import type { AlarmState } from '#domain/alarmReactions';

export type DeploymentStopDecision =
  /** StopServiceDeployment with ROLLBACK. */
  | { kind: 'stop'; why: string }
  /** ECS is already taking it back: a second alarm event, or the hook's FAILED, got there first. */
  | { kind: 'already-stopping'; why: string }
  /** Nothing to do, and nothing worth a journal line: the alarm does not guard it, or it has not started. */
  | { kind: 'none'; why: string };

export interface DeploymentStopFacts {
  alarmName: string;
  alarmState: AlarmState | 'missing';
  /** The guard alarms of the hook's settings for this deployment (as the hook itself resolves them). */
  guardAlarms: readonly string[];
  /** The deployment's status as ECS describes it now. */
  status: string;
}

/** Whether the alarm is one of the guard alarms: the one fact worth reading the alarm's state for. */
export const isGuardedBy = (guardAlarms: readonly string[], alarmName: string) =>
  guardAlarms.includes(alarmName);

export function decideDeploymentStop(facts: DeploymentStopFacts): DeploymentStopDecision {
  const { alarmName, alarmState, guardAlarms, status } = facts;
  if (!isGuardedBy(guardAlarms, alarmName))
    return { kind: 'none', why: `${alarmName} is not one of its guard alarms` };
  if (alarmState !== 'ALARM') return { kind: 'none', why: `${alarmName} is ${alarmState} now, not ALARM` };
  if (status === 'IN_PROGRESS') return { kind: 'stop', why: `guard alarm ${alarmName} is in ALARM` };
  if (status.startsWith('ROLLBACK_') || status === 'STOP_REQUESTED')
    return { kind: 'already-stopping', why: `ECS is already rolling it back (${status})` };
  // PENDING: no traffic has moved, and the hook fails it at its first invocation if the alarm still holds.
  return { kind: 'none', why: `it is ${status}, not IN_PROGRESS` };
}
