// Alarm reactor sweep: every minute, changes still in place are looked at again, so an expiry or an OK
// event that never arrived (EventBridge delivery is best-effort) still puts the knob back.
import { type AlarmReactorDeps, awsAlarmReactorDeps } from '#adapters/aws/alarmReactorPorts';
import { reviewReactions } from '#app/reactToAlarm';
import { eventStack } from '#runtime/middleware';

export function createAlarmReactorSweepHandler(deps: () => AlarmReactorDeps) {
  return eventStack(async (_event: unknown) => {
    const { ports, settings } = deps();
    return reviewReactions(ports, settings);
  });
}

export const handler = createAlarmReactorSweepHandler(awsAlarmReactorDeps);
