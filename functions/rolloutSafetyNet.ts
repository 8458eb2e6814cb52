// The rollout safety net: a rollout execution that ended FAILED, ABORTED or TIMED_OUT gets its route back
// to 100 % stable, whatever state it ended in. Rolling back is idempotent and leaves alone a route another
// rollout has claimed since, so hearing the same end twice, or after the workflow's own rollback, is harmless.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { rollBack } from '#app/rollout';
import { rolloutAllowance } from '#domain/declaredRoutes';
import { RestoreSchema, type RolloutSpec } from '#events/rollout';
import { ENDED_BADLY, ExecutionStatusChangeSchema } from '#events/stepfunctions';
import { assertBounded, checkText } from '#runtime/boundedInput';
import { InvalidInputError } from '#runtime/errors';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsRolloutDeps, type RolloutDeps } from '#wiring/rollout';

export function createRolloutSafetyNetHandler(deps: () => RolloutDeps) {
  return eventStack(async (event: unknown) => {
    assertBounded(event, 'not a readable execution status change');
    const change = ExecutionStatusChangeSchema.safeParse(event);
    // Thrown, not ignored: after Lambda's retries the event is kept in the dead-letter queue for a person,
    // since a rollout whose end we cannot read may have left traffic on the canary.
    if (!change.success) throw new InvalidInputError('not a Step Functions execution status change');
    const { name, status, input, error, stateMachineArn } = change.data.detail;
    // The rule matches every `*-rollout` state machine of the account and region; another stage's runs
    // are that stage's safety net's business.
    const { stateMachineArn: ours } = deps();
    if (ours && stateMachineArn !== ours) return { status: 'ignored' as const, why: 'another state machine' };
    if (!(ENDED_BADLY as readonly string[]).includes(status))
      return { status: 'ignored' as const, why: status };
    // Refused at the start because another rollout owns the route: that route is not this run's to touch.
    if (error === 'RouteBusyError') return { status: 'ignored' as const, why: 'refused start' };
    // Only what restoring needs (the route, the rollback options), leniently: a request a newer schema
    // would refuse still names the route its run may have left on the canary.
    const rollout = RestoreSchema.safeParse(parseJson(input)?.rollout);
    if (!rollout.success) {
      // Without a route there is nothing to restore; a request this broken never passed Prepare.
      logger.info('ended rollout names no readable route; nothing to restore', { name, status });
      return { status: 'ignored' as const, why: 'invalid rollout request' };
    }
    // A request the stack does not allow (an undeclared route, or a canary that route does not declare) was
    // refused at the start, before any claim: there is nothing of it to restore, and its route is not this
    // function's to read.
    const { route, rollback } = rollout.data;
    if (!rolloutAllowance({ route, promote: {}, rollback }, deps().ports.declaredRoutes).allowed)
      return { status: 'ignored' as const, why: 'refused start' };
    const reason = `execution ${status}${error ? ` (${error})` : ''}`;
    const outcome = await rollBack(
      { rollout: rollout.data as unknown as RolloutSpec, run: { id: name, startedAt: '' }, reason },
      deps().ports,
    );
    if (outcome.restored) metrics.addMetric('SafetyNetRollbacks', MetricUnit.Count, 1);
    return { status: outcome.restored ? ('restored' as const) : ('nothing-to-do' as const) };
  });
}

function parseJson(text: string | null | undefined): { rollout?: unknown } | undefined {
  if (!checkText(text ?? '').ok) return undefined;
  try {
    return JSON.parse(text ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}

export const handler = createRolloutSafetyNetHandler(builtAtColdStart(awsRolloutDeps));
