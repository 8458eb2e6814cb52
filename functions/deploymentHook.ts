// Deployment hook: ECS invokes it at the lifecycle stages of a native blue/green, linear or canary
// deployment that a service configures; it answers with a hookStatus. A payload that is not ECS's shape,
// or whose claims ECS does not back, gets a named error instead of an answer (see README: FAILED or error).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { answerDeploymentHook } from '#app/deploymentHook';
import { HookPayloadSchema } from '#events/deploymentHook';
import { checkValue } from '#runtime/boundedInput';
import { InvalidInputError } from '#runtime/errors';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsDeploymentHookDeps, type DeploymentHookDeps } from '#wiring/deploymentHook';

export function createDeploymentHookHandler(deps: () => DeploymentHookDeps) {
  return eventStack(async (event: unknown) => {
    const { ports, settings } = deps();
    // Measured before parsing: zod recurses, and a deep payload must not overflow the stack.
    const size = checkValue(event);
    const payload = size.ok ? HookPayloadSchema.safeParse(event) : undefined;
    if (!payload?.success) {
      const issues = payload
        ? payload.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }))
        : [{ path: '(root)', message: size.ok ? 'invalid' : size.reason }];
      logger.warn('rejected hook payload', { issues });
      metrics.addMetric('RejectedInput', MetricUnit.Count, 1);
      throw new InvalidInputError('not a deployment lifecycle hook payload', issues);
    }
    try {
      return await answerDeploymentHook(payload.data, ports, settings);
    } catch (error) {
      if (error instanceof Error && error.name === 'HookClaimRefusedError') {
        logger.warn('refused a hook invocation', { reason: error.message });
        metrics.addMetric('HookClaimRefused', MetricUnit.Count, 1);
      }
      throw error;
    }
  });
}

export const handler = createDeploymentHookHandler(builtAtColdStart(awsDeploymentHookDeps));
