// The rollout workflow's ASL file, checked against the Amazon States Language schema with asl-validator (the
// validator serverless-step-functions runs at package time, `stepFunctions.validate`), and for the shape the
// reflex relies on: every state reachable and able to end, every Lambda step caught into a rollback (or a
// Fail that changes nothing or that the safety net covers), the manual gate on a task token.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { GATE_TIMEOUT_SECONDS } from '#domain/rolloutSchedule';
import { rolloutWiring } from '#local/twin/wiring';

type AslValidator = (
  definition: unknown,
  options?: Record<string, unknown>,
) => { isValid: boolean; errors: unknown[]; errorsText(separator?: string): string };
const aslValidator = require('asl-validator') as AslValidator;

interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string;
  Next: string;
}

interface State {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: Record<string, unknown> };
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: Catcher[];
  Retry?: { ErrorEquals: string[] }[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  ResultPath?: string;
}

interface Definition {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

const ROOT = path.resolve(__dirname, '../..');
const text = () => readFileSync(path.join(ROOT, rolloutWiring.definitionFile), 'utf8');
const definition = () => JSON.parse(text()) as Definition;
const PLACEHOLDER = ['$', `{${rolloutWiring.stepArnPlaceholder}}`].join('');
const STEP_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:ecs-reflex-dev-rolloutStep';

const INVOKE = 'arn:aws:states:::lambda:invoke';
const INVOKE_WITH_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** Lambda's own transient errors, which Step Functions recommends retrying on every Lambda task. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
];

const isTerminal = (state: State) => state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;

/** Every state a state can go to next: Next, Default, each choice, each catcher. */
function successors(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ];
}

function reachableFrom(states: Record<string, State>, start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...successors(states[name]!));
  }
  return seen;
}

const tasks = (machine: Definition) =>
  Object.entries(machine.States).filter(([, state]) => state.Type === 'Task');
const actionOf = (state: State) => state.Parameters?.Payload?.action;

/** The actions functions/rolloutStep.ts accepts (the discriminated union of its input). */
function stepActions(): string[] {
  const source = readFileSync(path.join(ROOT, 'functions', `${rolloutWiring.stepFunctionName}.ts`), 'utf8');
  const listed = /\[((?:\s*'[\w-]+',?)+)\s*\]\s*as const\)\.map/.exec(source)?.[1] ?? '';
  return [
    ...[...source.matchAll(/action: z\.literal\('([\w-]+)'\)/g)].map(([, action]) => action!),
    ...[...listed.matchAll(/'([\w-]+)'/g)].map(([, action]) => action!),
  ];
}

describe('rollout ASL definition', () => {
  it('gives a person as long at a gate as the ops API tells them they have', () => {
    const gate = definition().States.WaitForPerson as State & { TimeoutSeconds?: number };
    expect(gate.TimeoutSeconds).toBe(GATE_TIMEOUT_SECONDS);
  });

  it('is valid Amazon States Language', () => {
    const result = aslValidator(definition());
    expect({ valid: result.isValid, errors: result.errorsText('\n') }).toEqual({
      valid: true,
      errors: expect.any(String),
    });
  });

  it('is valid with the step function placeholder filled in, as CloudFormation deploys it', () => {
    expect(text()).toContain(PLACEHOLDER);
    const filled = JSON.parse(text().replaceAll(PLACEHOLDER, STEP_ARN)) as Definition;
    expect(aslValidator(filled).isValid).toBe(true);
    // That placeholder is the only one: CloudFormation would leave any other in the deployed definition.
    expect(JSON.stringify(filled)).not.toMatch(/\$\{/);
  });

  it('is checked for real: a transition to a state that does not exist is refused', () => {
    const broken = definition();
    broken.States.Bake!.Next = 'Nowhere';
    const result = aslValidator(broken);
    expect(result.isValid).toBe(false);
    expect(result.errorsText()).toMatch(/Nowhere/);
  });

  it('reaches every state from the start, and can end from every state; the whole run is bounded', () => {
    const machine = definition();
    const names = Object.keys(machine.States);

    expect(names).toContain(machine.StartAt);
    expect([...reachableFrom(machine.States, machine.StartAt)].sort()).toEqual([...names].sort());
    for (const [name, state] of Object.entries(machine.States)) {
      for (const next of successors(state))
        expect({ name, next, exists: next in machine.States }).toEqual({
          name,
          next,
          exists: true,
        });
      // No trap: some terminal state is reachable from each state (the bake/analyse loop included).
      const ends = [...reachableFrom(machine.States, name)].filter((other) =>
        isTerminal(machine.States[other]!),
      );
      expect({ name, canEnd: ends.length > 0 }).toEqual({ name, canEnd: true });
      // A non-terminal state always goes somewhere.
      if (!isTerminal(state))
        expect({ name, goesOn: successors(state).length > 0 }).toEqual({ name, goesOn: true });
    }
    // Loops end: the bake/analyse loop by the analysis limits, and in any case by the execution timeout
    // (its end then reaches the safety net as TIMED_OUT).
    expect(machine.TimeoutSeconds).toBeGreaterThan(0);
  });

  it('runs every step on the one step function, with an action the function accepts', () => {
    const machine = definition();
    const accepted = stepActions();
    const used = new Set<unknown>();

    expect(accepted.sort()).toEqual(
      ['analyse', 'gate', 'prepare', 'promote', 'rollback', 'scale-down', 'shift', 'test', 'verify'].sort(),
    );
    for (const [name, state] of tasks(machine)) {
      expect({ name, resource: [INVOKE, INVOKE_WITH_TOKEN].includes(state.Resource!) }).toEqual({
        name,
        resource: true,
      });
      expect({ name, functionName: state.Parameters?.FunctionName }).toEqual({
        name,
        functionName: PLACEHOLDER,
      });
      expect({ name, action: accepted.includes(actionOf(state) as string) }).toEqual({ name, action: true });
      used.add(actionOf(state));
    }
    // And every action the function accepts is one the workflow uses.
    expect([...used].sort()).toEqual([...accepted].sort());
  });

  it('catches every failure of every step into a rollback, or into a Fail state that changed nothing', () => {
    const machine = definition();
    const rollbacks = tasks(machine)
      .filter(([, state]) => actionOf(state) === 'rollback')
      .map(([name]) => name);
    const fails = Object.entries(machine.States)
      .filter(([, state]) => state.Type === 'Fail')
      .map(([name]) => name);

    expect(rollbacks.length).toBeGreaterThanOrEqual(2);
    for (const [name, state] of tasks(machine)) {
      const catchers = state.Catch ?? [];
      // The last catcher takes everything the others do not.
      expect({ name, catchesAll: catchers.at(-1)?.ErrorEquals }).toEqual({
        name,
        catchesAll: ['States.ALL'],
      });
      for (const catcher of catchers) {
        // The error goes next to the state, so a rollback still has the route to restore.
        expect({ name, resultPath: catcher.ResultPath }).toEqual({ name, resultPath: '$.error' });
        const target = machine.States[catcher.Next]!;
        const into = rollbacks.includes(catcher.Next) ? 'rollback' : target.Type;
        expect({ name, next: catcher.Next, into: ['rollback', 'Fail'].includes(into) }).toEqual({
          name,
          next: catcher.Next,
          into: true,
        });
      }
      // A rollback that fails for good ends in a Fail state (the safety net then rolls back), never in a
      // rollback again.
      if (rollbacks.includes(name))
        for (const catcher of catchers)
          expect({ name, next: fails.includes(catcher.Next) }).toEqual({ name, next: true });
    }
    // Once traffic may have moved (after Prepare), a failed step is rolled back, not merely failed: only
    // Prepare (nothing claimed or moved yet), the rollback itself and the scale-down after a promotion (all
    // traffic on the new version already) may end in a Fail straight away.
    const straightToFail = tasks(machine)
      .filter(([, state]) => (state.Catch ?? []).some((catcher) => fails.includes(catcher.Next)))
      .map(([name, state]) => (rollbacks.includes(name) ? 'rollback' : actionOf(state)));
    expect([...new Set(straightToFail)].sort()).toEqual(['prepare', 'rollback', 'scale-down']);
  });

  it('retries Lambda service errors on every step, and bounds every plain step in time', () => {
    const machine = definition();
    for (const [name, state] of tasks(machine)) {
      const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
      const coversService =
        retried.includes('States.ALL') || LAMBDA_SERVICE_ERRORS.every((error) => retried.includes(error));
      expect({ name, coversService }).toEqual({ name, coversService: true });
      if (state.Resource === INVOKE)
        expect({ name, timeout: (state.TimeoutSeconds ?? 0) > 0 }).toEqual({ name, timeout: true });
    }
  });

  it('waits at the gate on a task token, for a bounded time shorter than the whole run', () => {
    const machine = definition();
    const gates = tasks(machine).filter(([, state]) => state.Resource === INVOKE_WITH_TOKEN);

    // The one callback state is the gate; no other step waits on a token.
    expect(gates.map(([, state]) => actionOf(state))).toEqual(['gate']);
    const [[name, gate]] = gates as [[string, State]];
    expect(gate.Parameters?.Payload?.['taskToken.$']).toBe('$$.Task.Token');
    expect(gate.Parameters?.Payload?.['state.$']).toBe('$.state');
    // A person who never answers: the gate times out (States.Timeout, caught below) and the rollout rolls
    // back, well before the execution itself would time out.
    expect(gate.TimeoutSeconds !== undefined || gate.TimeoutSecondsPath !== undefined).toBe(true);
    if (gate.TimeoutSeconds !== undefined) {
      expect(gate.TimeoutSeconds).toBeGreaterThan(0);
      expect(gate.TimeoutSeconds).toBeLessThan(machine.TimeoutSeconds ?? Number.POSITIVE_INFINITY);
    }
    if (gate.TimeoutSecondsPath !== undefined) expect(gate.TimeoutSecondsPath).toMatch(/^\$\.state\./);
    // The answer does not replace the state the next steps read.
    expect(gate.ResultPath).not.toBe('$');
    expect(gate.ResultPath).not.toBe('$.state');
    // An abort (SendTaskFailure) or a timeout at the gate rolls back.
    const rollbackOnAbort = (gate.Catch ?? []).find((catcher) => catcher.ErrorEquals.includes('States.ALL'));
    expect(actionOf(machine.States[rollbackOnAbort?.Next ?? '']!)).toBe('rollback');
    // Choices route to the gate.
    const toGate = Object.values(machine.States).filter((state) =>
      (state.Choices ?? []).some((choice) => choice.Next === name),
    );
    expect(toGate.length).toBeGreaterThan(0);
  });

  it('goes from a gate answered with the promote decision to Promote, and a promote request from ShiftTraffic too', async () => {
    const machine = definition();
    /** The named Choice state alone, run on aws-local-stepfunctions: which state it goes to for an input. */
    const choose = async (choice: string, input: Parameters<StateMachine['run']>[0]) => {
      const ends = new Set(successors(machine.States[choice]!));
      const alone = {
        StartAt: choice,
        States: {
          [choice]: machine.States[choice],
          ...Object.fromEntries([...ends].map((name) => [name, { Type: 'Pass', Result: name, End: true }])),
        },
      } as unknown as StateMachineDefinition;
      return new StateMachine(alone).run(input).result;
    };
    const state = (next: string, afterGate?: string) => ({ next, ...(afterGate ? { afterGate } : {}) });

    // The gate's answer (SendTaskSuccess output, at $.gate): promote goes to Promote, whatever came next.
    expect(await choose('Resumed', { state: state('gate', 'shift'), gate: { decision: 'promote' } })).toBe(
      'Promote',
    );
    expect(await choose('Resumed', { state: state('gate', 'shift'), gate: { decision: 'resume' } })).toBe(
      'ShiftTraffic',
    );
    expect(await choose('Resumed', { state: state('gate', 'promote'), gate: { decision: 'resume' } })).toBe(
      'Promote',
    );
    // An answer without a decision (sent by hand, say) resumes: a missing path would fail the Choice on AWS.
    expect(await choose('Resumed', { state: state('gate', 'shift'), gate: {} })).toBe('ShiftTraffic');
    const resumed = machine.States.Resumed as State & { Choices: Record<string, unknown>[] };
    expect(resumed.Choices[0]).toEqual({
      And: [
        { Variable: '$.gate.decision', IsPresent: true },
        { Variable: '$.gate.decision', StringEquals: 'promote' },
      ],
      Next: 'Promote',
    });
    // A promote request read by ShiftTraffic: straight to Promote, not to VerifyTraffic; a pause to the gate.
    expect(await choose('Shifted?', { state: state('promote') })).toBe('Promote');
    expect(await choose('Shifted?', { state: state('gate', 'shift') })).toBe('WaitForPerson');
    expect(await choose('Shifted?', { state: state('verify') })).toBe('VerifyTraffic');
    // A pause read by Promote: to the gate.
    expect(await choose('Promoted?', { state: state('gate', 'promote') })).toBe('WaitForPerson');
  });
});
