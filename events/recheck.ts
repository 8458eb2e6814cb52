import * as z from 'zod';
import { AwsTimestampSchema, awsEventSchema } from '#events/envelope';

/**
 * A later look at one task group, sent by the recycler to its own buffer queue (delayed) when a backoff
 * or a grace period has not run out yet. It has the EventBridge envelope so one parser reads the queue.
 */
export const RECHECK_SOURCE = 'ecs-reflex';
export const RECHECK_DETAIL_TYPE = 'Task Group Recheck';

export const RecheckSchema = awsEventSchema(
  RECHECK_SOURCE,
  RECHECK_DETAIL_TYPE,
  z.looseObject({
    cluster: z.string().min(1),
    group: z.string().regex(/^(service|family):.+/),
    dueAt: AwsTimestampSchema,
  }),
);

export type Recheck = z.infer<typeof RecheckSchema>;

export function recheckMessage(input: {
  cluster: string;
  group: string;
  dueAt: Date;
  account?: string;
  region?: string;
  id: string;
  now: Date;
}): Recheck {
  return {
    version: '0',
    id: input.id,
    source: RECHECK_SOURCE,
    'detail-type': RECHECK_DETAIL_TYPE,
    account: input.account ?? '000000000000',
    time: input.now.toISOString(),
    region: input.region ?? 'eu-west-1',
    resources: [],
    detail: { cluster: input.cluster, group: input.group, dueAt: input.dueAt.toISOString() },
  };
}
