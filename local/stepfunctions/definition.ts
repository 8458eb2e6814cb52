// What the runner needs to know about an ASL definition before running it on aws-local-stepfunctions:
// every Task state (nested ones in Parallel and Map too), which local handler serves it, and the few
// places where the library's defaults differ from AWS and the definition has to say what AWS assumes.
import { InvalidDefinition, TaskHandlerMissing } from '#local/stepfunctions/errors';

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  Branches?: AslMachine[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine;
}

export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

/** AWS's default for a Task state without TimeoutSeconds; the library would give it 60 s. */
export const AWS_TASK_TIMEOUT_SECONDS = 99_999_999;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const CALLBACK_SUFFIX = '.waitForTaskToken';
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:([^:]+)(?::[^:]+)?$/;

export function parseDefinition(definition: object | string): AslMachine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof definition === 'string' ? definition : JSON.stringify(definition));
  } catch (error) {
    throw new InvalidDefinition(`the definition is not JSON: ${(error as Error).message}`);
  }
  const machine = parsed as Partial<AslMachine>;
  if (!machine || typeof machine.StartAt !== 'string' || typeof machine.States !== 'object') {
    throw new InvalidDefinition('the definition needs StartAt and States');
  }
  return machine as AslMachine;
}

/** Every Task state by name, nested ones included (state names are unique across the machine). */
export function taskStates(machine: AslMachine): Map<string, AslState> {
  return new Map([...allStates(machine)].filter(([, state]) => state.Type === 'Task'));
}

/** Every state by name, those of Parallel branches and Map iterations included. */
export function allStates(machine: AslMachine): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const walk = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      found.set(name, state);
      for (const branch of state.Branches ?? []) walk(branch.States);
      if (state.Iterator) walk(state.Iterator.States);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
    }
  };
  walk(machine.States);
  return found;
}

/**
 * The definition the library runs: a Task state without a timeout gets AWS's default instead of the
 * library's 60 s, or every callback task would time out after a virtual minute.
 */
export function forLibrary(machine: AslMachine): AslMachine {
  // A JSON copy, not structuredClone: the library only expands `.$` keys in objects whose prototype is
  // this realm's Object.prototype, and structuredClone's objects come from Node's own realm under jest.
  const copy = JSON.parse(JSON.stringify(machine)) as AslMachine;
  for (const state of taskStates(copy).values()) {
    if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = AWS_TASK_TIMEOUT_SECONDS;
    }
  }
  return copy;
}

export const isCallback = (state: AslState): boolean => (state.Resource ?? '').endsWith(CALLBACK_SUFFIX);

/** The service integration of a Task state: how its input reaches the handler and its result comes back. */
export type Integration = 'lambda-arn' | 'lambda-invoke' | 'other';

export function integrationOf(state: AslState): Integration {
  const resource = state.Resource ?? '';
  if (LAMBDA_ARN.test(resource)) return 'lambda-arn';
  if (resource === LAMBDA_INVOKE || resource === `${LAMBDA_INVOKE}${CALLBACK_SUFFIX}`) return 'lambda-invoke';
  return 'other';
}

const functionNameOf = (nameOrArn: string): string => LAMBDA_ARN.exec(nameOrArn)?.[1] ?? nameOrArn;

/**
 * The keys under which a handler may be registered for a state, most specific first: the state name,
 * then the Lambda function (ARN as written, then bare name), then the resource ARN. `functionName` is
 * the FunctionName a lambda:invoke state resolved at run time.
 */
export function handlerKeys(stateName: string, state: AslState, functionName?: string): string[] {
  const keys = [stateName];
  const integration = integrationOf(state);
  const resource = state.Resource ?? '';
  if (integration === 'lambda-arn') keys.push(resource, functionNameOf(resource));
  if (integration === 'lambda-invoke') {
    const named = functionName ?? staticFunctionName(state);
    if (named) keys.push(named, functionNameOf(named));
  }
  if (integration === 'other') keys.push(resource);
  return [...new Set(keys)];
}

function staticFunctionName(state: AslState): string | undefined {
  const name = state.Parameters?.FunctionName;
  return typeof name === 'string' ? name : undefined;
}

/** Fails at creation, not mid-execution, when a Task state has nobody to serve it. */
export function checkHandlers(machine: AslMachine, handlers: Record<string, unknown>): void {
  const missing: string[] = [];
  for (const [name, state] of taskStates(machine)) {
    const dynamicFunction =
      integrationOf(state) === 'lambda-invoke' && state.Parameters?.['FunctionName.$'] !== undefined;
    if (dynamicFunction && handlerKeys(name, state).length === 1) continue;
    if (!handlerKeys(name, state).some((key) => key in handlers)) missing.push(`${name} (${state.Resource})`);
  }
  if (missing.length > 0) {
    throw new TaskHandlerMissing(`no local handler for Task state(s): ${missing.join(', ')}`);
  }
}
