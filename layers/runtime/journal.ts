// The AWS-side journal: every action a reflex decides is one structured log line and one EMF metric.
// Reflex, action and outcome are dimensions (few values); target and reason stay in the log line and
// the metric's metadata, where high cardinality costs nothing.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ActionJournal, JournalEntry } from '#ports';
import { logger, metrics } from '#runtime/powertools';

export const powertoolsJournal = (): ActionJournal => ({
  record(entry: JournalEntry) {
    const level = entry.outcome === 'failed' ? 'warn' : 'info';
    logger[level](`${entry.reflex} ${entry.action} ${entry.outcome}`, { ...entry });
    const metric = metrics.singleMetric();
    metric.addDimensions({ reflex: entry.reflex, action: entry.action, outcome: entry.outcome });
    metric.addMetadata('target', entry.target);
    metric.addMetadata('reason', entry.reason);
    metric.addMetric('ReflexAction', MetricUnit.Count, 1);
  },
});
