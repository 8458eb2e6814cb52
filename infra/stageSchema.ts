// The structured parts of a stage file (infra/stages/<stage>.json) checked with the schemas the functions
// parse them with at cold start, when the template is built: a typo (`maxRestart`, `cooldown`) stops
// `serverless package` with the file, the path and the names that are valid, instead of a function that
// fails at its first start after the deploy. infra/stageConfig.js loads this from its build
// (local/build.cjs, dist/stage.cjs), being plain JavaScript that the Serverless Framework requires.
import { z } from 'zod';
import { ReactionsSchema } from '#domain/alarmReactions';
import { LifecycleHookConfigSchema } from '#domain/instanceLifecycle';
import { RecyclerPolicySchema } from '#domain/recyclerPolicy';
import { HookServicesSchema } from '#events/deploymentHook';
import { DeclaredRouteSchema } from '#events/rollout';
import { issueInWords } from '#runtime/issueWords';

export { closest } from '#runtime/didYouMean';

const StructuredParts = z.object({
  recyclerPolicy: RecyclerPolicySchema,
  alarmReactions: ReactionsSchema,
  lifecycleHooks: z.array(LifecycleHookConfigSchema),
  opsRoutes: z.array(DeclaredRouteSchema),
  deploymentHookServices: HookServicesSchema,
});

/** What is wrong with a stage's structured parts, one `path: problem` line each; none when it is right. */
export function stageProblems(stage: Record<string, unknown>): string[] {
  const parsed = StructuredParts.safeParse(stage, { error: issueInWords });
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const path = issue.path.map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`,
    );
    return `${path.join('')}: ${issue.message}`;
  });
}
