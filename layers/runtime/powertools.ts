// Powertools singletons, created once per cold start (the tracer, made only where tracing is on, is in
// layers/runtime/tracing.ts). Service name and namespace are fixed so every reflex's logs and metrics land
// in one place; POWERTOOLS_* variables still override them.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'ecs-reflex';

export const logger = new Logger({ serviceName });
// Metrics' own warnings go through the logger, so they obey the log level like everything else.
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EcsReflex',
  logger,
});
