// The rollout workflow's one Lambda step. `action` names the step; every step but `prepare` gets the whole
// state back from the execution, re-reads the world and returns the next state. Named errors go to the
// workflow's Retry and Catch: a refused start ends the run untouched, anything else rolls back.
import * as z from 'zod';
import {
  analyseCanary,
  announceGate,
  prepareRollout,
  promoteCanary,
  type RolloutState,
  rollBack,
  scaleDownStable,
  shiftTraffic,
  testBeforeTraffic,
  verifyTraffic,
} from '#app/rollout';
import { RolloutSpecSchema } from '#events/rollout';
import { assertBounded } from '#runtime/boundedInput';
import { InvalidInputError } from '#runtime/errors';
import { stepStack } from '#runtime/middleware';
import { builtAtColdStart } from '#wiring/coldStart';
import type { RolloutDeps } from '#wiring/rollout';
import { awsRolloutStepDeps } from '#wiring/rolloutStep';

const RunId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'an execution name');
const StateSchema = z.looseObject({
  rollout: RolloutSpecSchema,
  run: z.looseObject({ id: RunId, startedAt: z.string() }),
  plan: z.array(z.looseObject({ canary: z.number().int(), bakeSeconds: z.number().int() })),
  progress: z.looseObject({
    step: z.number().int().min(0),
    weights: z.looseObject({ stable: z.number(), canary: z.number() }),
    windowStart: z.iso.datetime(),
  }),
});

const StepInput = z.discriminatedUnion('action', [
  z.looseObject({ action: z.literal('prepare'), rollout: z.unknown(), runId: RunId }),
  ...(['test', 'shift', 'verify', 'analyse', 'gate', 'promote', 'scale-down'] as const).map((action) =>
    z.looseObject({ action: z.literal(action), state: StateSchema }),
  ),
  z.looseObject({
    action: z.literal('rollback'),
    state: z.looseObject({
      rollout: RolloutSpecSchema,
      run: z.looseObject({ id: RunId }),
      reason: z.string().optional(),
    }),
    error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }),
]);

const invalid = (message: string, error: z.ZodError) =>
  new InvalidInputError(
    message,
    error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })),
  );

export function createRolloutStepHandler(deps: () => RolloutDeps) {
  return stepStack(async (event: unknown) => {
    // Measured before zod, which recurses: a deep enough input would overflow the stack.
    assertBounded(event, 'invalid rollout step input');
    const parsed = StepInput.safeParse(event);
    if (!parsed.success) throw invalid('invalid rollout step input', parsed.error);
    const { ports } = deps();
    const input = parsed.data;
    if (input.action === 'prepare') {
      const rollout = RolloutSpecSchema.safeParse(input.rollout);
      if (!rollout.success) throw invalid('invalid rollout request', rollout.error);
      return prepareRollout(rollout.data, input.runId, ports);
    }
    if (input.action === 'rollback') {
      const reason = input.state.reason ?? input.error?.Error ?? 'rollback';
      const cause = input.error?.Cause ? `: ${input.error.Cause.slice(0, 200)}` : '';
      const state = {
        ...input.state,
        run: { id: input.state.run.id, startedAt: '' },
        reason: `${reason}${cause}`,
      };
      return rollBack(state, ports);
    }
    const state = input.state as unknown as RolloutState;
    switch (input.action) {
      case 'test':
        return testBeforeTraffic(state, ports);
      case 'shift':
        return shiftTraffic(state, ports);
      case 'verify':
        return verifyTraffic(state, ports);
      case 'analyse':
        return analyseCanary(state, ports);
      case 'gate':
        await announceGate(state, ports);
        return { announced: true };
      case 'promote':
        return promoteCanary(state, ports);
      case 'scale-down':
        return scaleDownStable(state, ports);
    }
  });
}

export const handler = createRolloutStepHandler(builtAtColdStart(awsRolloutStepDeps));
