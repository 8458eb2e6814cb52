// Runs tests before traffic and judges each: what a rollout does before its first shift, and what a
// deployment hook can do at any stage. Keeps no state and knows nothing of rollouts: the caller says what
// the functions under test are told (`context`) and decides what the verdicts mean for it.
import type { CheckOutcome } from '#domain/rolloutAnalysis';
import { assessTrafficCheck, type TrafficCheck, type TrafficCheckObservation } from '#domain/trafficChecks';
import type { TrafficChecks } from '#ports';

export async function runTrafficChecks(
  checks: readonly TrafficCheck[],
  runners: TrafficChecks,
  context: Record<string, string>,
): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  // One after another: a check that reaches the new version should not compete with the next one for it.
  for (const check of checks) {
    let seen: TrafficCheckObservation;
    try {
      seen =
        check.kind === 'http'
          ? await runners.http.run(check, context)
          : await runners.lambda.run(check, context);
    } catch (error) {
      // A runner that throws is broken itself: its check is an error, the others still run.
      outcomes.push({
        check: check.name,
        result: 'error',
        reason: `check could not run: ${(error as Error).message}`,
      });
      continue;
    }
    outcomes.push(assessTrafficCheck(check, seen));
  }
  return outcomes;
}
