// AWS Step Functions as the twin answers it: the execution API over the twin's runner
// (local/stepfunctions/runner.ts, which runs the ASL in virtual time). StartExecution's name is its
// idempotency (the same name and input while the first runs give the same execution, anything else with a
// used name is ExecutionAlreadyExists); ListExecutions and GetExecutionHistory page with nextToken; the
// history has AWS's event types and details, so a reader finds a callback's token where AWS puts it.
import {
  type DescribeExecutionInput,
  type DescribeExecutionOutput,
  ExecutionStatus,
  type GetExecutionHistoryInput,
  type GetExecutionHistoryOutput,
  type HistoryEvent,
  type ListExecutionsInput,
  type ListExecutionsOutput,
  type SendTaskFailureInput,
  type SendTaskSuccessInput,
  type StartExecutionInput,
  type StartExecutionOutput,
  type StopExecutionInput,
  type StopExecutionOutput,
} from '@aws-sdk/client-sfn';
import * as runnerErrors from '#local/stepfunctions/errors';
import type { HistoryEvent as RunnerEvent, TwinStepFunctions } from '#local/stepfunctions/runner';
import { AwsServiceError, constraintError, read, type ServiceModel, write } from '#local/twin/aws/client';

/** Execution input and output, and a task's output: at most 256 KiB (UTF-8). */
const MAX_PAYLOAD_BYTES = 262_144;
const MAX_ERROR = 256;
const MAX_CAUSE = 32_768;
const MAX_TOKEN = 2048;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):([^:]+)$/;
/** The runner's errors are the API's, passed on as AWS answers them; a Task without a handler is the twin's. */
const API_ERRORS = new Set(Object.keys(runnerErrors).filter((name) => name !== 'TaskHandlerMissing'));

/**
 * The runner's answer, its errors as AWS answers them. A task token the runner does not know is
 * TaskDoesNotExist when this twin could have minted it (its task is simply unknown), InvalidToken when it
 * could never have been a token.
 */
function answered<T>(act: () => T, taskToken?: string): T {
  try {
    return act();
  } catch (error) {
    const { name, message } = error as Error;
    if (name === 'InvalidToken' && tokenExecution(taskToken) !== undefined)
      throw new AwsServiceError('TaskDoesNotExist', `Task Does Not Exist: '${taskToken}'`);
    if (API_ERRORS.has(name)) throw new AwsServiceError(name, message);
    throw error;
  }
}

function checkArn(arn: string | undefined, pattern: RegExp, what: string): string {
  if (!arn || !pattern.test(arn))
    throw new AwsServiceError('InvalidArn', `Invalid Arn: '${what} ARN: ${arn}'`);
  return arn;
}

function checkLength(value: string | undefined, max: number, field: string): void {
  if (value !== undefined && value.length > max)
    throw constraintError('ValidationException', field, {
      constraint: `Member must have length less than or equal to ${max}`,
    });
}

function checkJson(text: string | undefined, error: 'InvalidExecutionInput' | 'InvalidOutput'): void {
  if (text === undefined) return;
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES)
    throw new AwsServiceError(error, `Size of the payload exceeds the maximum of ${MAX_PAYLOAD_BYTES} bytes`);
  try {
    JSON.parse(text);
  } catch {
    throw new AwsServiceError(
      error,
      `Invalid ${error === 'InvalidOutput' ? 'Output' : 'Input'}: not valid JSON`,
    );
  }
}

/** `machine:name` of an execution ARN, as the call log names an execution. */
const executionOf = (arn: string | undefined) => {
  const match = EXECUTION_ARN.exec(arn ?? '');
  return match ? `${match[1]}:${match[2]}` : (arn ?? '');
};
/** What a command on one execution acts on; a callback's, the execution its token was minted for. */
const byExecutionArn = (input: { executionArn?: string }) => executionOf(input.executionArn);
const byTaskToken = (input: { taskToken?: string }) => executionOf(tokenExecution(input.taskToken));
const machineOf = (arn: string | undefined) => arn?.split(':').pop() ?? '';

/** The execution a token of this twin's runner was minted for (base64url of `<execution ARN>#<n>`). */
function tokenExecution(token: string | undefined): string | undefined {
  const [arn = ''] = Buffer.from(token ?? '', 'base64url')
    .toString()
    .split('#');
  return EXECUTION_ARN.test(arn) ? arn : undefined;
}

/** A page token: where the next page starts, for which listing (a token of another listing is refused). */
function page<T>(items: T[], listing: string, input: { maxResults?: number; nextToken?: string }) {
  const size = input.maxResults ?? 0;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE)
    throw constraintError('ValidationException', 'maxResults', {
      value: size,
      constraint: `Member must have value less than or equal to ${MAX_PAGE}`,
    });
  let start = 0;
  if (input.nextToken !== undefined) {
    let token: { listing?: string; start?: number } = {};
    try {
      token = JSON.parse(Buffer.from(input.nextToken, 'base64url').toString());
    } catch {
      // refused below
    }
    if (token.listing !== listing || typeof token.start !== 'number')
      throw new AwsServiceError('InvalidToken', `Invalid Token: '${input.nextToken}'`);
    start = token.start;
  }
  const end = start + (size === 0 ? DEFAULT_PAGE : size);
  return {
    items: items.slice(start, end),
    ...(end < items.length
      ? { nextToken: Buffer.from(JSON.stringify({ listing, start: end })).toString('base64url') }
      : {}),
  };
}

export function sfnModel(stepFunctions: TwinStepFunctions, region: string): ServiceModel {
  return {
    StartExecution: write(
      (input: StartExecutionInput) => `${machineOf(input.stateMachineArn)} ${input.name ?? ''}`.trim(),
      (input: StartExecutionInput): StartExecutionOutput => {
        const stateMachineArn = checkArn(input.stateMachineArn, STATE_MACHINE_ARN, 'state machine');
        checkJson(input.input, 'InvalidExecutionInput');
        return answered(() =>
          stepFunctions.startExecution(stateMachineArn, {
            ...(input.name !== undefined ? { name: input.name } : {}),
            input: input.input ?? '{}',
          }),
        );
      },
    ),
    StopExecution: write(byExecutionArn, (input: StopExecutionInput): StopExecutionOutput => {
      checkLength(input.error, MAX_ERROR, 'error');
      checkLength(input.cause, MAX_CAUSE, 'cause');
      const arn = checkArn(input.executionArn, EXECUTION_ARN, 'execution');
      return answered(() => stepFunctions.stopExecution(arn, input.error, input.cause));
    }),
    DescribeExecution: read(byExecutionArn, (input: DescribeExecutionInput): DescribeExecutionOutput => {
      // The runner's description has AWS's fields, an output even for a run that did not succeed.
      const arn = checkArn(input.executionArn ?? '', EXECUTION_ARN, 'execution');
      const { output, ...run } = answered(() => stepFunctions.describeExecution(arn));
      return {
        ...run,
        inputDetails: { included: true },
        ...(run.status === 'SUCCEEDED' && output !== undefined
          ? { output, outputDetails: { included: true } }
          : {}),
      };
    }),
    ListExecutions: read(
      (input: ListExecutionsInput) => machineOf(input.stateMachineArn),
      (input: ListExecutionsInput): ListExecutionsOutput => {
        const stateMachineArn = checkArn(input.stateMachineArn, STATE_MACHINE_ARN, 'state machine');
        const status = input.statusFilter;
        if (status !== undefined && !Object.values(ExecutionStatus).includes(status))
          throw constraintError('ValidationException', 'statusFilter', { value: status });
        const runs = answered(() =>
          status === 'PENDING_REDRIVE' ? [] : stepFunctions.listExecutions(stateMachineArn, status),
        );
        const { items: executions, ...next } = page(runs, `${stateMachineArn}|${status ?? ''}`, input);
        return { executions, ...next };
      },
    ),
    GetExecutionHistory: read(
      byExecutionArn,
      (input: GetExecutionHistoryInput): GetExecutionHistoryOutput => {
        const arn = checkArn(input.executionArn, EXECUTION_ARN, 'execution');
        const run = answered(() => stepFunctions.describeExecution(arn));
        const data = input.includeExecutionData !== false ? run : undefined;
        const events = answered(() => stepFunctions.getExecutionHistory(arn))
          .filter((event) => !RUNNER_ONLY.has(event.type))
          .map((event, index) => historyEvent(event, index, region, data));
        if (input.reverseOrder) events.reverse();
        const { items, ...next } = page(events, `${arn}|${input.reverseOrder ? 'reverse' : ''}`, input);
        return { events: items, ...next };
      },
    ),
    SendTaskSuccess: write(byTaskToken, (input: SendTaskSuccessInput) => {
      const token = checkToken(input.taskToken);
      checkJson(input.output ?? '', 'InvalidOutput');
      answered(() => stepFunctions.sendTaskSuccess(token, input.output ?? ''), token);
      return {};
    }),
    SendTaskFailure: write(byTaskToken, (input: SendTaskFailureInput) => {
      const token = checkToken(input.taskToken);
      checkLength(input.error, MAX_ERROR, 'error');
      checkLength(input.cause, MAX_CAUSE, 'cause');
      answered(() => stepFunctions.sendTaskFailure(token, input.error, input.cause), token);
      return {};
    }),
  };
}

function checkToken(token: string | undefined): string {
  if (!token || token.length > MAX_TOKEN)
    throw constraintError('ValidationException', 'taskToken', {
      constraint: `Member must have length between 1 and ${MAX_TOKEN}`,
    });
  return token;
}

/**
 * The runner's own transitions that are no AWS history event type: AWS shows a retry as the task
 * scheduled again, a caught error as the next state entered, and a failed task as TaskFailed or
 * LambdaFunctionFailed, which the twin does not report.
 */
const RUNNER_ONLY = new Set([
  'StateFailed',
  'StateRetried',
  'StateCaught',
  'ParallelBranchStarted',
  'ParallelBranchSucceeded',
  'ParallelBranchFailed',
]);

/**
 * One event of the runner's history as GetExecutionHistory shows it; `data` (the execution's input and
 * output) unless the caller left execution data out.
 */
function historyEvent(
  event: RunnerEvent,
  index: number,
  region: string,
  data: { input?: string; output?: string } | undefined,
): HistoryEvent {
  const base = { id: index + 1, previousEventId: index, timestamp: event.at };
  const withData = data !== undefined;
  switch (event.type) {
    // The execution's input and its output as the first and last events carry them (no roleArn: the
    // twin's state machines run under no IAM role).
    case 'ExecutionStarted':
      return {
        ...base,
        type: event.type,
        executionStartedEventDetails: {
          ...(data?.input !== undefined ? { input: data.input } : {}),
          inputDetails: { truncated: false },
        },
      };
    case 'ExecutionSucceeded':
      return {
        ...base,
        type: event.type,
        executionSucceededEventDetails: {
          ...(data?.output !== undefined ? { output: data.output } : {}),
          outputDetails: { truncated: false },
        },
      };
    case 'ExecutionFailed':
    case 'ExecutionAborted':
    case 'ExecutionTimedOut':
      // executionFailedEventDetails...: the error and cause of an end
      return { ...base, type: event.type, [`e${event.type.slice(1)}EventDetails`]: failure(event) };
    case 'StateEntered':
    case 'StateExited':
      // TaskStateEntered, WaitStateExited...: named by the state's type; only an exit has an output
      return {
        ...base,
        type: `${event.stateType ?? 'Task'}${event.type}` as HistoryEvent['type'],
        [`s${event.type.slice(1)}EventDetails`]: {
          name: event.state ?? '',
          ...(withData && event.output !== undefined ? { output: event.output } : {}),
        },
      };
    case 'TaskScheduled': {
      // arn:aws:states:::lambda:invoke.waitForTaskToken -> resourceType lambda, resource invoke.waitForTaskToken
      const integration = /^arn:aws[a-z-]*:states:::([^:]+):(.+)$/.exec(event.resource ?? '');
      return {
        ...base,
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          resourceType: integration?.[1] ?? 'lambda',
          resource: integration?.[2] ?? event.resource ?? '',
          region,
          parameters: withData ? (event.parameters ?? '{}') : '{}',
        },
      };
    }
    default:
      return { ...base, type: event.type as HistoryEvent['type'] };
  }
}

const failure = (event: RunnerEvent) => ({
  ...(event.error !== undefined ? { error: event.error } : {}),
  ...(event.cause !== undefined ? { cause: event.cause } : {}),
});
