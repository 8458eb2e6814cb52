// Alarm reactor: CloudWatch alarm state changes, delivered by EventBridge, turned into bounded,
// reversible scaling changes; and, every minute, the sweep over the changes in place and over the guarded
// native deployments whose guard alarm is in ALARM. One function for both, with a reserved concurrency of 1:
// one actor on the scaling knobs at a time.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ALARM_REFLEX, reactToAlarm, reviewReactions } from '#app/reactToAlarm';
import { abortGuardedRollouts } from '#app/rollout';
import { stopDeploymentsUnderAlarm, stopGuardedDeployments } from '#app/stopGuardedDeployments';
import { readAlarmReactorInput } from '#events/alarmReactorInput';
import { rolloutRequestOf } from '#events/rollout';
import { boundedJson, PARK_LIMITS } from '#runtime/boundedInput';
import { stackLocation } from '#runtime/location';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { type AlarmReactorDeps, awsAlarmReactorDeps } from '#wiring/alarmReactor';
import { builtAtColdStart } from '#wiring/coldStart';

export function createAlarmReactorHandler(deps: () => AlarmReactorDeps) {
  return eventStack(async (event: unknown, context) => {
    const { ports, settings } = deps();
    metrics.addMetric('InputReceived', MetricUnit.Count, 1);
    const input = readAlarmReactorInput(event, stackLocation(context));
    if (input.kind === 'sweep') {
      // The next sweep, a minute later, is this one's retry: a failure is logged, not sent to the DLQ.
      // Guarded deployments first, as for an ALARM event; their failure does not keep the reactions' review from running.
      const { deployments } = deps();
      if (deployments) {
        try {
          const stops = await stopDeploymentsUnderAlarm(deployments.ports, deployments.settings);
          if (stops.length > 0) logger.info('native deployments under a guard alarm', { stops });
        } catch (error) {
          logger.warn('sweep of guarded native deployments incomplete', { error });
          metrics.addMetric('SweepIncomplete', MetricUnit.Count, 1);
        }
      }
      try {
        return await reviewReactions(ports, settings);
      } catch (error) {
        logger.warn('sweep incomplete', { error });
        metrics.addMetric('SweepIncomplete', MetricUnit.Count, 1);
        return { status: 'incomplete' as const };
      }
    }
    if (input.kind === 'rejected') {
      // Never throw here: Lambda would retry an event that can only fail again.
      logger.warn('rejected input', { reason: input.reason, issues: input.issues });
      metrics.addMetric('RejectedInput', MetricUnit.Count, 1);
      await ports.deadLetters.park(
        boundedJson(event, PARK_LIMITS),
        `${input.reason}: ${boundedJson(input.issues)}`,
        ALARM_REFLEX,
      );
      return { status: 'rejected' as const };
    }
    if (input.kind === 'elsewhere') {
      logger.warn('ignored an event from another account or region', { why: input.why });
      metrics.addMetric('EventFromElsewhere', MetricUnit.Count, 1);
      return { status: 'ignored' as const, why: input.why };
    }
    if (input.kind === 'ignored') {
      logger.debug('ignored', { why: input.why });
      return { status: 'ignored' as const };
    }
    // Guard alarms first: a rollout's abort is the most urgent thing an ALARM can ask for.
    // A failure here must not keep the scaling reactions from running: it is raised after them, so the
    // event is retried (both paths are level-triggered and safe to run again).
    const { rollouts, deployments } = deps();
    let abortFailure: unknown;
    if (rollouts && input.reportedState === 'ALARM') {
      try {
        const aborted = await abortGuardedRollouts(input.alarmName, rollouts.ports, rolloutRequestOf);
        if (aborted.length > 0) logger.info('rollouts aborted', { alarm: input.alarmName, aborted });
      } catch (error) {
        abortFailure = error;
      }
    }
    // Native deployments the alarm guards: stopped now rather than at the deployment hook's next invocation.
    if (deployments && input.reportedState === 'ALARM') {
      try {
        const stops = await stopGuardedDeployments(input.alarmName, deployments.ports, deployments.settings);
        // Said either way: a second event for the same alarm, after the stop, finds nothing to stop.
        if (stops.length > 0) logger.info('guarded native deployments', { alarm: input.alarmName, stops });
        else
          logger.info('no native deployment in progress is guarded by the alarm', { alarm: input.alarmName });
      } catch (error) {
        abortFailure ??= error;
      }
    }
    // AWS errors throw: Lambda retries the event, then it lands in the on-failure destination.
    const outcome = await reactToAlarm(input.alarmName, ports, settings);
    if (abortFailure) throw abortFailure;
    return outcome;
  });
}

export const handler = createAlarmReactorHandler(builtAtColdStart(awsAlarmReactorDeps));
