import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CapacityShortfall, CapacitySignal } from '#ports';
import { logger, metrics } from '#runtime/powertools';

/**
 * Capacity shortfalls as a log line and an EMF metric per cluster. An alarm on `CapacityShortfall` is
 * how the alarm reactor will add capacity; until then a person sees it on a dashboard.
 */
export class EmfCapacitySignal implements CapacitySignal {
  async reportShortfall(shortfall: CapacityShortfall): Promise<void> {
    logger.warn('capacity shortfall', { ...shortfall, at: shortfall.at.toISOString() });
    const metric = metrics.singleMetric();
    metric.addDimensions({ cluster: shortfall.cluster });
    metric.addMetadata('group', shortfall.group);
    metric.addMetadata('reason', shortfall.reason);
    metric.addMetric('CapacityShortfall', MetricUnit.Count, 1);
  }
}
