import * as z from 'zod';

/**
 * The EventBridge envelope every AWS service event arrives in. Loose on purpose: AWS documents that it
 * may add fields at any time, and an added field must never turn a good event into a rejected one.
 * The fields are those of Powertools' EventBridgeSchema (@aws-lambda-powertools/parser), written here
 * because that module's `import { z } from 'zod'` keeps all of zod in every bundle (455 KB, locales
 * included) where `import * as z` lets esbuild keep what the schemas use.
 */
export const EventBridgeEnvelopeSchema = z.looseObject({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.string().optional(),
});

export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

/**
 * Timestamps inside event details. ECS writes RFC 3339 (`2024-05-01T10:00:00.123Z`), but CloudWatch
 * writes `2024-05-01T10:00:00.123+0000` (offset without a colon), which `z.iso.datetime()` rejects.
 * One schema accepts both so no detail field depends on which service wrote it.
 */
export const AwsTimestampSchema = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/,
    'expected an ISO 8601 timestamp',
  );

/**
 * A full event schema for one AWS event kind: the envelope with `source` and `detail-type` pinned to
 * literals, so a rule routing the wrong kind of event to a handler fails parsing instead of being
 * misread.
 */
export function awsEventSchema<const S extends string, const D extends string, T extends z.ZodType>(
  source: S,
  detailType: D,
  detail: T,
) {
  return EventBridgeEnvelopeSchema.extend({
    source: z.literal(source),
    'detail-type': z.literal(detailType),
    detail,
  });
}
