// Step Functions in the twin: the real ASL definitions run on aws-local-stepfunctions, their Task states
// routed to local handlers, their Wait states and Retry intervals waiting in the twin's virtual time
// (the scheduler points setTimeout and Date at its own queue while it runs). Around the library sits
// what the Step Functions API adds: execution names and ARNs, statuses with virtual start and stop
// dates, StopExecution, task tokens for `.waitForTaskToken` states with heartbeats, the status-change
// event, and a history of every state entered and left.
//
// One rule keeps virtual time exact: library code only ever runs inside `scheduler.runUntil`. So every
// API call that would resume an execution (start, stop, send a task result) changes the bookkeeping at
// once, as AWS answers at once, and hands the library its part as a callback at the same virtual instant.
import '#local/stepfunctions/polyfill';
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  type AslMachine,
  type AslState,
  allStates,
  checkHandlers,
  forLibrary,
  handlerKeys,
  integrationOf,
  isCallback,
  parseDefinition,
  taskStates,
} from '#local/stepfunctions/definition';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  InvalidOutput,
  InvalidToken,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  TaskTimedOut,
} from '#local/stepfunctions/errors';
import {
  type ExecutionSnapshot,
  type ExecutionStatus,
  type ExecutionStatusChangeEvent,
  executionStatusChange,
} from '#local/stepfunctions/statusChange';
import { rememberValid, validatedBefore } from '#local/stepfunctions/validated';
import { onPutAway, settled, type VirtualScheduler } from '#local/twin/scheduler';

export type { ExecutionStatus, ExecutionStatusChangeEvent } from '#local/stepfunctions/statusChange';

/** What a local handler learns about the task it serves. */
export interface TaskContext {
  stateName: string;
  resource: string;
  executionArn: string;
  executionName: string;
  stateMachineArn: string;
  /** Set for `.waitForTaskToken` states: pass it on; the task ends when someone sends it back. */
  taskToken?: string;
}

/**
 * A local stand-in for what a Task state calls. For a Lambda (a function ARN as Resource, or
 * `lambda:invoke`) it receives the Lambda's event and returns its result; for other integrations it
 * receives the state's effective input (after Parameters). Throw an error whose `name` is what Retry
 * and Catch should match.
 */
export type TaskHandler = (input: unknown, context: TaskContext) => unknown;

export interface HistoryEvent {
  at: Date;
  type: string;
  state?: string;
  error?: string;
  cause?: string;
  /** For StateRetried: which retry this is (1 for the first). */
  attempt?: number;
  /** For StateExited: the state's output as JSON text, as `stateExitedEventDetails.output` has it. */
  output?: string;
  /** For StateEntered and StateExited: the state's Type (`Task`, `Wait`...), which AWS's event type names. */
  stateType?: string;
  /** For TaskScheduled: what the task was called with, as `taskScheduledEventDetails` has it. */
  resource?: string;
  parameters?: string;
}

export type ExecutionDescription = ExecutionSnapshot;

export interface ExecutionListItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
}

export interface TwinStepFunctionsOptions {
  region?: string;
  accountId?: string;
  /** Called whenever an execution ends, with the event AWS would put on EventBridge. */
  onStatusChange?: (event: ExecutionStatusChangeEvent) => void;
  /** Called for every history event, e.g. to show state transitions on a timeline. */
  onHistoryEvent?: (executionArn: string, event: HistoryEvent) => void;
}

interface Machine {
  name: string;
  arn: string;
  tasks: Map<string, AslState>;
  /** Each state's Type, by name. */
  types: Map<string, string>;
  /** The library's machine, made at the first execution (or at creation, to validate a new definition). */
  library: () => StateMachine;
  handlers: Record<string, TaskHandler>;
  creationDate: Date;
}

interface Execution extends ExecutionSnapshot {
  machine: Machine;
  history: HistoryEvent[];
  abort?: () => void;
  /** A token minted while Parameters were evaluated, waiting for its Task state's handler to claim it. */
  mintedToken?: string;
  /** TaskScheduled events waiting for their state's StateEntered to reach the history. */
  scheduled: Omit<HistoryEvent, 'at'>[];
}

/** The part of the library's event log the history is built from. */
interface LibraryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; output?: unknown };
  /** Map iterations and Parallel branches name the Map or Parallel state here. */
  parentState?: { name: string };
  Error?: unknown;
  Cause?: unknown;
  retry?: { attempt: number };
}

interface TokenWait {
  token: string;
  execution: Execution;
  stateName: string;
  open: boolean;
  lastBeat: number;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Ends what the library is still doing for an execution that is already over (stopped, timed out):
 * the library neither retries nor catches it, and its run loop winds down and clears its timers.
 */
class ExecutionClosed extends Error {
  override readonly name = 'ExecutionClosed' as const;
  readonly isRetryable = false;
  readonly isCatchable = false;
}

/** A failed task as Step Functions reports it: Error is the name Retry and Catch match, Cause the text. */
class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** States.Runtime: neither retried nor caught (States.ALL does not match it on AWS either). */
class StatesRuntime extends Error {
  override readonly name = 'States.Runtime' as const;
  readonly isRetryable = false;
  readonly isCatchable = false;
}

const HEARTBEAT_TIMEOUT = 'States.HeartbeatTimeout';
/** Names AWS accepts: 1 to 80 characters, none of them white space, control or `<>{}[]?*"#%\^|~`$&,;:/`. */
const validName = (name: string): boolean =>
  name.length >= 1 &&
  name.length <= 80 &&
  ![...name].some((c) => {
    const code = c.codePointAt(0)!;
    return (
      /\s/.test(c) || code < 0x20 || (code >= 0x7f && code <= 0x9f) || '<>{}[]?*"#%\\^|~`$&,;:/'.includes(c)
    );
  });
const END_EVENT: Record<Exclude<ExecutionStatus, 'RUNNING'>, string> = {
  SUCCEEDED: 'ExecutionSucceeded',
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  ABORTED: 'ExecutionAborted',
};

export class TwinStepFunctions {
  onStatusChange: ((event: ExecutionStatusChangeEvent) => void) | undefined;
  onHistoryEvent: ((executionArn: string, event: HistoryEvent) => void) | undefined;
  private readonly region: string;
  private readonly accountId: string;
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, TokenWait>();
  /** Tokens of ended executions: still recognised (TaskTimedOut), no longer holding their promises. */
  private readonly closedTokens = new Set<string>();
  private counter = 0;

  constructor(
    private readonly scheduler: VirtualScheduler,
    options: TwinStepFunctionsOptions = {},
  ) {
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '111122223333';
    this.onStatusChange = options.onStatusChange;
    this.onHistoryEvent = options.onHistoryEvent;
    // A twin put away with executions still running stops their library runs, or their next Wait would
    // sleep on the real clock, again and again.
    onPutAway(() => {
      for (const execution of this.executions.values())
        if (execution.status === 'RUNNING') execution.abort?.();
    });
  }

  // --- state machines ----------------------------------------------------------------------------

  createStateMachine(
    name: string,
    definition: object | string,
    taskHandlers: Record<string, TaskHandler> = {},
  ): { stateMachineArn: string; creationDate: Date } {
    if (!validName(name)) throw new InvalidName(`invalid state machine name: ${name}`);
    if (this.machines.has(name)) throw new StateMachineAlreadyExists(`state machine ${name} already exists`);
    const parsed = parseDefinition(definition);
    checkHandlers(parsed, taskHandlers);
    const library = libraryMachine(parsed);
    const machine: Machine = {
      name,
      arn: `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`,
      tasks: taskStates(parsed),
      types: new Map([...allStates(parsed)].map(([stateName, state]) => [stateName, state.Type])),
      library,
      handlers: { ...taskHandlers },
      creationDate: this.scheduler.now(),
    };
    this.machines.set(name, machine);
    return { stateMachineArn: machine.arn, creationDate: machine.creationDate };
  }

  // --- executions ----------------------------------------------------------------------------------

  /**
   * Like StartExecution: names are unique per state machine; starting a running execution again with
   * the same name and input returns it, anything else with a used name is ExecutionAlreadyExists.
   */
  startExecution(
    stateMachine: string,
    request: { name?: string; input?: unknown } = {},
  ): { executionArn: string; startDate: Date } {
    const machine = this.machine(stateMachine);
    const name = request.name ?? this.newUuid();
    if (!validName(name)) throw new InvalidName(`invalid execution name: ${name}`);
    const input = jsonText(request.input ?? {}, (message) => new InvalidExecutionInput(message));
    const executionArn = this.executionArn(machine.name, name);

    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new ExecutionAlreadyExists(`Execution Already Exists: '${executionArn}'`);
    }

    const execution: Execution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      status: 'RUNNING',
      input,
      startDate: this.scheduler.now(),
      machine,
      history: [],
      scheduled: [],
    };
    this.executions.set(executionArn, execution);
    this.record(execution, { type: 'ExecutionStarted' });
    this.scheduler.after(0, `start execution ${name}`, async () => {
      if (execution.status !== 'RUNNING') return;
      this.launch(execution);
      await settled();
    });
    return { executionArn, startDate: execution.startDate };
  }

  /** The ARN an execution of this name has (or would have) on the state machine. */
  executionArn(stateMachine: string, name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:execution:${this.machine(stateMachine).name}:${name}`;
  }

  describeExecution(executionArn: string): ExecutionDescription {
    const e = this.execution(executionArn);
    const description: ExecutionDescription = {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      input: e.input,
      startDate: e.startDate,
    };
    if (e.stopDate) description.stopDate = e.stopDate;
    if (e.output !== undefined) description.output = e.output;
    if (e.error !== undefined) description.error = e.error;
    if (e.cause !== undefined) description.cause = e.cause;
    return description;
  }

  /** Most recent first, like ListExecutions. */
  listExecutions(stateMachine: string, status?: ExecutionStatus): ExecutionListItem[] {
    const machine = this.machine(stateMachine);
    return [...this.executions.values()]
      .filter((e) => e.machine === machine && (status === undefined || e.status === status))
      .reverse()
      .map(({ executionArn, stateMachineArn, name, status: s, startDate, stopDate }) => ({
        executionArn,
        stateMachineArn,
        name,
        status: s,
        startDate,
        ...(stopDate ? { stopDate } : {}),
      }));
  }

  /** Every state entered, exited, failed, retried or caught, with its virtual time. */
  getExecutionHistory(executionArn: string): HistoryEvent[] {
    return this.execution(executionArn).history.map((event) => ({ ...event }));
  }

  /** Like StopExecution: ABORTED at once; stopping an execution that has ended changes nothing. */
  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const execution = this.execution(executionArn);
    this.close(execution, 'ABORTED', { error, cause });
    return { stopDate: execution.stopDate! };
  }

  // --- task tokens ---------------------------------------------------------------------------------

  sendTaskSuccess(taskToken: string, output: unknown): void {
    const wait = this.openWait(taskToken);
    const text = jsonText(output, (message) => new InvalidOutput(message));
    wait.open = false;
    this.scheduler.after(0, `task success ${wait.stateName}`, async () => {
      wait.resolve(JSON.parse(text));
      await settled();
    });
  }

  sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    const wait = this.openWait(taskToken);
    wait.open = false;
    this.scheduler.after(0, `task failure ${wait.stateName}`, async () => {
      wait.reject(new TaskFailure(error ?? '', cause ?? ''));
      await settled();
    });
  }

  sendTaskHeartbeat(taskToken: string): void {
    this.openWait(taskToken).lastBeat = this.scheduler.now().getTime();
  }

  // --- inside ----------------------------------------------------------------------------------------

  private launch(execution: Execution): void {
    const { machine } = execution;
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of machine.tasks) {
      overrides[stateName] = (input) => this.runTask(execution, stateName, state, input);
    }
    const run = machine.library().run(JSON.parse(execution.input), {
      context: this.contextObject(execution),
      overrides: { taskResourceLocalHandlers: overrides as never },
    });
    execution.abort = run.abort;
    // The end is recorded once the library's last transitions are, so the history stays in order.
    const followed = this.follow(execution, run.eventLogs as AsyncGenerator<LibraryEvent>);
    run.result.then(
      (output) =>
        followed.then(() => this.close(execution, 'SUCCEEDED', { output: JSON.stringify(output ?? null) })),
      (error: Error) => followed.then(() => this.closeWithError(execution, error)),
    );
  }

  /**
   * The context object behind `$$`. Task.Token is a getter: the library reads it while it evaluates the
   * Parameters of a callback Task state, right before (and in the same synchronous step as) it calls
   * that state's handler, which claims the token. Every attempt of the state gets a new token.
   */
  private contextObject(execution: Execution): Record<string, unknown> {
    const task = {};
    Object.defineProperty(task, 'Token', {
      enumerable: true,
      get: () => {
        execution.mintedToken ??= this.newToken(execution);
        return execution.mintedToken;
      },
    });
    return {
      Execution: { Id: execution.executionArn, Name: execution.name },
      StateMachine: { Id: execution.machine.arn, Name: execution.machine.name },
      Task: task,
    };
  }

  private async runTask(execution: Execution, stateName: string, state: AslState, input: unknown) {
    const token = execution.mintedToken;
    execution.mintedToken = undefined;
    if (execution.status !== 'RUNNING') throw new ExecutionClosed('the execution has ended');

    const integration = integrationOf(state);
    const invoke = integration === 'lambda-invoke' ? (input as Record<string, unknown> | null) : undefined;
    const functionName = typeof invoke?.FunctionName === 'string' ? invoke.FunctionName : undefined;
    const key = handlerKeys(stateName, state, functionName).find((k) => k in execution.machine.handlers);
    const handler = key === undefined ? undefined : execution.machine.handlers[key];
    if (!handler) {
      throw new StatesRuntime(`no local handler for ${stateName} (${functionName ?? state.Resource})`);
    }
    const event = integration === 'lambda-invoke' ? (invoke?.Payload ?? {}) : input;
    const context: TaskContext = {
      stateName,
      resource: state.Resource ?? '',
      executionArn: execution.executionArn,
      executionName: execution.name,
      stateMachineArn: execution.machine.arn,
      ...(token ? { taskToken: token } : {}),
    };
    const lambda = integration !== 'other';
    // As on AWS, the history shows what the task was called with (a callback's token among it), right
    // after the state was entered: the library's events reach the history a moment after it calls here.
    const scheduled = {
      type: 'TaskScheduled',
      state: stateName,
      resource: state.Resource ?? '',
      parameters: JSON.stringify(input ?? null),
    };
    const last = execution.history.at(-1);
    // A Retry calls the task again without entering the state again: its new call (a new token) follows
    // the StateRetried event.
    if ((last?.type === 'StateEntered' || last?.type === 'StateRetried') && last.state === stateName)
      this.record(execution, scheduled);
    else execution.scheduled.push(scheduled);

    if (!isCallback(state)) {
      const result = await callHandler(handler, event, context, lambda);
      return integration === 'lambda-invoke' ? lambdaInvokeResult(result, execution) : result;
    }
    if (!token) {
      throw new StatesRuntime(
        `${stateName} waits for a task token but its Parameters never read $$.Task.Token`,
      );
    }
    // Open the wait before the handler runs: it may hand the token on and get an answer at once.
    const answer = this.openTokenWait(token, execution, stateName, state.HeartbeatSeconds);
    await callHandler(handler, event, context, lambda).catch((error: Error) => {
      this.closeWait(token);
      throw error;
    });
    return answer;
  }

  private openTokenWait(
    token: string,
    execution: Execution,
    stateName: string,
    heartbeatSeconds: number | undefined,
  ): Promise<unknown> {
    const answer = new Promise((resolve, reject) => {
      const wait: TokenWait = {
        token,
        execution,
        stateName,
        open: true,
        lastBeat: this.scheduler.now().getTime(),
        resolve,
        reject,
      };
      this.tokens.set(token, wait);
      if (heartbeatSeconds !== undefined) this.watchHeartbeat(wait, heartbeatSeconds * 1000);
    });
    // The library may have left the state already (it failed before the wait began): then nobody awaits
    // the answer, and ending the execution's waits must not surface as an unhandled rejection.
    answer.catch(() => undefined);
    return answer;
  }

  /** States.HeartbeatTimeout when no heartbeat (or result) arrives within HeartbeatSeconds. */
  private watchHeartbeat(wait: TokenWait, heartbeatMs: number): void {
    this.scheduler.at(new Date(wait.lastBeat + heartbeatMs), `heartbeat ${wait.stateName}`, async () => {
      if (!wait.open) return;
      if (this.scheduler.now().getTime() < wait.lastBeat + heartbeatMs) {
        this.watchHeartbeat(wait, heartbeatMs);
        return;
      }
      wait.open = false;
      wait.reject(new TaskFailure(HEARTBEAT_TIMEOUT, `no heartbeat for ${heartbeatMs / 1000} seconds`));
      await settled();
    });
  }

  private openWait(taskToken: string): TokenWait {
    const wait = this.tokens.get(taskToken);
    if (!wait && !this.closedTokens.has(taskToken)) throw new InvalidToken(`Invalid Token: '${taskToken}'`);
    if (!wait?.open) {
      throw new TaskTimedOut('Task Timed Out: the task token has expired or its task has already closed');
    }
    return wait;
  }

  private closeWait(token: string): void {
    const wait = this.tokens.get(token);
    if (wait) wait.open = false;
  }

  /** The library's transitions become the execution's history, stamped with virtual time. */
  private async follow(execution: Execution, events: AsyncGenerator<LibraryEvent>): Promise<void> {
    for await (const event of events) {
      if (event.type.startsWith('Execution')) continue; // the runner records these itself
      const entry: Omit<HistoryEvent, 'at'> = {
        type: event.type,
        state: event.state?.name ?? event.parentState?.name,
      };
      if (event.Error !== undefined) {
        entry.error = String(event.Error);
        entry.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
      }
      if (event.retry) entry.attempt = event.retry.attempt;
      const type = entry.state === undefined ? undefined : execution.machine.types.get(entry.state);
      if (type !== undefined && (event.type === 'StateEntered' || event.type === 'StateExited'))
        entry.stateType = type;
      if (event.type === 'StateExited' && event.state?.output !== undefined)
        entry.output = JSON.stringify(event.state.output);
      // A callback state that failed otherwise (its TimeoutSeconds ran out): its token is dead now.
      if (event.type === 'StateFailed' && event.state) {
        for (const wait of this.tokens.values()) {
          if (wait.execution === execution && wait.stateName === event.state.name) wait.open = false;
        }
      }
      this.record(execution, entry, new Date(event.timestamp));
      if (event.type === 'StateEntered' || event.type === 'StateRetried') {
        const waiting = execution.scheduled.findIndex((task) => task.state === entry.state);
        if (waiting >= 0) this.record(execution, execution.scheduled.splice(waiting, 1)[0]!);
      }
    }
  }

  private closeWithError(execution: Execution, error: Error): void {
    if (error.name === 'ExecutionTimeoutError') {
      this.close(execution, 'TIMED_OUT', {});
      return;
    }
    if (error.name === 'ExecutionAbortedError') {
      this.close(execution, 'ABORTED', {});
      return;
    }
    const failure = (error.name === 'ExecutionError' ? error.cause : error) as Error | undefined;
    // A Fail state without Error or Cause: AWS reports neither, the library reports its own defaults.
    const unnamed = failure?.name === 'FailStateError';
    this.close(execution, 'FAILED', {
      error: unnamed ? undefined : failure?.name,
      cause: unnamed ? undefined : failure?.message,
    });
  }

  private close(
    execution: Execution,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    end: { output?: string; error?: string; cause?: string },
  ): void {
    if (execution.status !== 'RUNNING') return;
    execution.status = status;
    execution.stopDate = this.scheduler.now();
    if (end.output !== undefined) execution.output = end.output;
    if (end.error !== undefined) execution.error = end.error;
    if (end.cause !== undefined) execution.cause = end.cause;
    this.record(execution, { type: END_EVENT[status], error: end.error, cause: end.cause });

    // Tasks still waiting for a token end with the execution. The library winds down at the same
    // instant, in a callback of its own (this may be called outside runUntil, by a test).
    const waiting = [...this.tokens.values()].filter((w) => w.execution === execution);
    for (const wait of waiting) {
      wait.open = false;
      this.tokens.delete(wait.token);
      this.closedTokens.add(wait.token);
    }
    if (status === 'ABORTED' || waiting.length > 0) {
      this.scheduler.after(0, `wind down ${execution.name}`, async () => {
        if (status === 'ABORTED') execution.abort?.();
        for (const wait of waiting) wait.reject(new ExecutionClosed('the execution has ended'));
        await settled();
      });
    }
    this.onStatusChange?.(
      executionStatusChange(this.describeExecution(execution.executionArn), {
        id: this.newUuid(),
        account: this.accountId,
        region: this.region,
        time: execution.stopDate,
      }),
    );
  }

  private record(execution: Execution, event: Omit<HistoryEvent, 'at'>, at = this.scheduler.now()): void {
    const entry: HistoryEvent = { at, type: event.type };
    if (event.state !== undefined) entry.state = event.state;
    if (event.error !== undefined) entry.error = event.error;
    if (event.cause !== undefined) entry.cause = event.cause;
    if (event.attempt !== undefined) entry.attempt = event.attempt;
    if (event.output !== undefined) entry.output = event.output;
    if (event.stateType !== undefined) entry.stateType = event.stateType;
    if (event.resource !== undefined) entry.resource = event.resource;
    if (event.parameters !== undefined) entry.parameters = event.parameters;
    execution.history.push(entry);
    this.onHistoryEvent?.(execution.executionArn, entry);
  }

  private machine(nameOrArn: string): Machine {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':').pop() ?? '') : nameOrArn;
    const machine = this.machines.get(name);
    if (!machine || (nameOrArn.startsWith('arn:') && machine.arn !== nameOrArn)) {
      throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${nameOrArn}'`);
    }
    return machine;
  }

  private execution(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new ExecutionDoesNotExist(`Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  /** Deterministic ids: the same scenario gives the same execution names and event ids every run. */
  private newUuid(): string {
    this.counter += 1;
    return `00000000-0000-4000-8000-${this.counter.toString(16).padStart(12, '0')}`;
  }

  private newToken(execution: Execution): string {
    this.counter += 1;
    return Buffer.from(`${execution.executionArn}#${this.counter}`).toString('base64url');
  }
}

// Validating a definition (asl-validator) costs about 0.3 s; every twin would pay it for every workflow.
// A library StateMachine keeps no state between runs, so twins share one per distinct definition, and a
// definition that passed once on this machine is not validated again (local/stepfunctions/validated.ts).
// The library itself (with its validators, JSONata and JSONPath: 0.9 MB of code) is loaded only once an
// execution starts or a new definition is to be validated: most twins a test builds run no workflow, and
// each test file loads its modules anew.
const libraryMachines = new Map<string, StateMachine>();

function libraryMachine(definition: AslMachine): () => StateMachine {
  const text = JSON.stringify(forLibrary(definition));
  const validated = libraryMachines.has(text) || validatedBefore(text);
  const machine = () => {
    let made = libraryMachines.get(text);
    if (!made) {
      const { StateMachine } = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions');
      made = new StateMachine(
        JSON.parse(text) as StateMachineDefinition,
        validated ? { validationOptions: { noValidate: true } } : undefined,
      );
      libraryMachines.set(text, made);
    }
    return made;
  };
  if (!validated) {
    try {
      machine();
    } catch (error) {
      throw new InvalidDefinition((error as Error).message);
    }
    rememberValid(text);
  }
  return machine;
}

/** JSON text as the API carries it: a string is taken as JSON already, anything else is serialized. */
function jsonText(value: unknown, invalid: (message: string) => Error): string {
  if (typeof value === 'string') {
    try {
      JSON.parse(value);
      return value;
    } catch {
      throw invalid(`not valid JSON: ${value.slice(0, 80)}`);
    }
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw invalid('not JSON-serializable');
  return text;
}

/**
 * Calls a handler and turns what it throws into a task failure. For Lambda integrations the Cause is
 * the JSON document Lambda reports ({"errorType", "errorMessage"}), as on AWS.
 */
async function callHandler(handler: TaskHandler, event: unknown, context: TaskContext, lambda: boolean) {
  try {
    return await handler(event, context);
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const name = error.name || 'Error';
    const cause = lambda ? JSON.stringify({ errorType: name, errorMessage: error.message }) : error.message;
    throw new TaskFailure(name, cause);
  }
}

/** What the optimized `lambda:invoke` integration returns: the function's result sits under Payload. */
function lambdaInvokeResult(payload: unknown, execution: Execution) {
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload ?? null,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: `${execution.name}-${execution.history.length}` },
    StatusCode: 200,
  };
}
