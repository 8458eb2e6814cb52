// Quiet, deterministic Powertools output in tests: no EMF flushing to stdout, no log noise.
process.env.POWERTOOLS_DEV = process.env.POWERTOOLS_DEV ?? 'false';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_SERVICE_NAME = 'ecs-reflex';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'eu-west-1';
