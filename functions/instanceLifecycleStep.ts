// The instance lifecycle workflow's one Lambda step: `look` (re-read the instance, take at most one
// step, say how long to wait) or `fail-safe` (complete the action with the hook's default result).
import * as z from 'zod';
import { failSafe, type LifecycleWorkflowState, lookAtInstance } from '#app/instanceLifecycle';
import { assertBounded } from '#runtime/boundedInput';
import { InvalidInputError } from '#runtime/errors';
import { stepStack } from '#runtime/middleware';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsLifecycleStepDeps, type LifecycleStepDeps } from '#wiring/lifecycle';

const Hook = z.looseObject({
  groupName: z.string().min(1),
  hookName: z.string().min(1),
  instanceId: z.string().regex(/^i-[0-9a-f]+$/),
  token: z.string().min(1),
  transition: z.enum(['launch', 'terminate']),
  cluster: z.string().min(1),
  startedAt: z.iso.datetime(),
  origin: z.string().min(1).optional(),
  destination: z.string().min(1).optional(),
});

const StepInput = z.discriminatedUnion('action', [
  z.looseObject({
    action: z.literal('look'),
    hook: Hook,
    progress: z.looseObject({ looks: z.number().int().min(0) }),
  }),
  z.looseObject({
    action: z.literal('fail-safe'),
    hook: Hook,
    progress: z.looseObject({}).optional(),
    error: z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  }),
]);

export function createInstanceLifecycleStepHandler(deps: () => LifecycleStepDeps) {
  return stepStack(async (event: unknown) => {
    // Measured before zod, which recurses: a deep enough input would overflow the stack.
    assertBounded(event, 'invalid lifecycle step input');
    const parsed = StepInput.safeParse(event);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 10)
        .map((i) => ({ path: i.path.join('.'), message: i.message }));
      // Named, so the workflow's Catch sends it to FailSafe, which completes the action.
      throw new InvalidInputError('invalid lifecycle step input', issues);
    }
    const { ports, settings } = deps();
    const state = parsed.data as unknown as LifecycleWorkflowState;
    if (parsed.data.action === 'look') return lookAtInstance(state, ports, settings);
    return failSafe(
      { ...state, progress: state.progress ?? { looks: 0 }, error: parsed.data.error },
      ports,
      settings,
    );
  });
}

export const handler = createInstanceLifecycleStepHandler(builtAtColdStart(awsLifecycleStepDeps));
