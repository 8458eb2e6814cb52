// Imported first by bench/run.ts, before anything loads Powertools: its singletons read POWERTOOLS_* when
// they are created. Logs silenced and metrics disabled, so the figures measure the handler, not stdout.
// The handler's own configuration (CLUSTERS, queue URLs, ...) is read lazily and is not needed here.

/** The environment of the child processes that time the bundle's import, and of this process. */
export const BENCH_ENV = {
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
} as const;

Object.assign(process.env, BENCH_ENV, { POWERTOOLS_TRACE_ENABLED: 'false' });
