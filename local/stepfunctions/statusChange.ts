// The event Step Functions puts on the default EventBridge bus when an execution changes status, in the
// shape AWS sends it (source aws.states; dates in epoch milliseconds; input and output as JSON text), so
// a rule written for AWS (a safety net that reacts to FAILED, TIMED_OUT or ABORTED) matches it locally.

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: [string];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate: number;
    stopDate: number | null;
    input: string;
    inputDetails: { included: true };
    output: string | null;
    outputDetails: { included: true } | null;
    error: string | null;
    cause: string | null;
  };
}

export interface ExecutionSnapshot {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export function executionStatusChange(
  execution: ExecutionSnapshot,
  meta: { id: string; account: string; region: string; time: Date },
): ExecutionStatusChangeEvent {
  return {
    version: '0',
    id: meta.id,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: meta.account,
    // EventBridge stamps events to the second.
    time: meta.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: meta.region,
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate.getTime(),
      stopDate: execution.stopDate?.getTime() ?? null,
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output ?? null,
      outputDetails: execution.output === undefined ? null : { included: true },
      error: execution.error ?? null,
      cause: execution.cause ?? null,
    },
  };
}
