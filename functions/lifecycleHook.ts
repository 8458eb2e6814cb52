// Lifecycle hook intake: an Auto Scaling lifecycle action, from EventBridge (one event) or from the
// older notification form through SQS (a batch, SNS-wrapped or not), starts its workflow.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { LIFECYCLE_REFLEX, startLifecycleWorkflow } from '#app/instanceLifecycle';
import { LifecycleDeliverySchema } from '#events/autoscaling';
import { boundedJson, PARK_LIMITS } from '#runtime/boundedInput';
import { fromElsewhere, type StackLocation, stackLocation } from '#runtime/location';
import { eventStack } from '#runtime/middleware';
import { logger, metrics } from '#runtime/powertools';
import { builtAtColdStart } from '#wiring/coldStart';
import { awsLifecycleIntakeDeps, type LifecycleIntakeDeps } from '#wiring/lifecycle';

export function createLifecycleHookHandler(deps: () => LifecycleIntakeDeps) {
  const processor = new BatchProcessor(EventType.SQS);

  const intake = async (input: unknown, here: StackLocation | undefined) => {
    const { ports, settings } = deps();
    const delivery = LifecycleDeliverySchema.safeParse(input);
    if (!delivery.success) {
      // Never thrown: it could only fail again. Parked with its reason.
      const reason = delivery.error.issues
        .slice(0, 10)
        .map((i) => `${i.path.join('.').slice(0, 200) || '(root)'}: ${i.message.slice(0, 200)}`)
        .join('; ');
      logger.warn('rejected input', { reason });
      metrics.addMetric('RejectedInput', MetricUnit.Count, 1);
      await ports.deadLetters.park(
        typeof input === 'string' ? input : boundedJson(input, PARK_LIMITS),
        reason,
        LIFECYCLE_REFLEX,
      );
      return { status: 'rejected' as const };
    }
    if (delivery.data.kind === 'test-notification') {
      // Auto Scaling sends one to a new notification target: proof of delivery, not an action.
      logger.info('skipped autoscaling:TEST_NOTIFICATION');
      return { status: 'ignored' as const, why: 'test notification' };
    }
    // An action of another account or region names an instance that is not ours, whatever its id.
    const elsewhere = fromElsewhere(delivery.data, here);
    if (elsewhere) {
      logger.warn('ignored a lifecycle action from another account or region', { why: elsewhere });
      metrics.addMetric('EventFromElsewhere', MetricUnit.Count, 1);
      return { status: 'ignored' as const, why: elsewhere };
    }
    const { at, ...action } = delivery.data;
    return startLifecycleWorkflow({ ...action, at: new Date(at) }, ports, settings);
  };

  return eventStack(async (event: unknown, context) => {
    const here = stackLocation(context);
    if (isSqsEvent(event)) {
      return processPartialResponse(event, (record: SQSRecord) => intake(record.body, here), processor, {
        context,
      });
    }
    return intake(event, here);
  });
}

const isSqsEvent = (event: unknown): event is SQSEvent =>
  typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records);

export const handler = createLifecycleHookHandler(builtAtColdStart(awsLifecycleIntakeDeps));
