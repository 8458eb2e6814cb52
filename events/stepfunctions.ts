import * as z from 'zod';
import { awsEventSchema } from '#events/envelope';

/*
 * `Step Functions Execution Status Change` (source `aws.states`): what the rollout safety net hears when a
 * rollout execution ends badly. `input` is the execution's input as JSON text; Step Functions leaves it
 * out (inputDetails.included false) when the event would pass 256 KB.
 */

export const ENDED_BADLY = ['FAILED', 'ABORTED', 'TIMED_OUT'] as const;

export const ExecutionStatusChangeSchema = awsEventSchema(
  'aws.states',
  'Step Functions Execution Status Change',
  z.looseObject({
    executionArn: z.string().startsWith('arn:'),
    stateMachineArn: z.string().startsWith('arn:'),
    name: z.string().min(1),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    input: z.string().nullish(),
    inputDetails: z.looseObject({ included: z.boolean() }).nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
);
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;
