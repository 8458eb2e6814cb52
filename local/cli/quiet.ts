// Imported first by the local entry points: the handlers' Powertools output would drown the timeline,
// which already shows every decision and action. LOG_LEVEL=DEBUG brings the JSON logs back.
process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'eu-west-1';
