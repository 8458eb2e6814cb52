// Real ASL on aws-local-stepfunctions inside the twin: Wait states, Retry intervals and timeouts pass in
// the twin's virtual time, interleaved with everything else the twin schedules, while the Step
// Functions API around them (names, statuses, task tokens, stop, status-change events) behaves as AWS.
import { randomUUID } from 'node:crypto';
import { matchesPattern } from '#local/eventbridge/patternMatcher';
import {
  type ExecutionStatusChangeEvent,
  type TaskHandler,
  TwinStepFunctions,
} from '#local/stepfunctions/runner';
import { VirtualScheduler, VirtualTimeBusy } from '#local/twin/scheduler';

const START = new Date('2026-11-02T09:00:00Z');
const lambdaArn = (name: string) => `arn:aws:lambda:eu-west-1:111122223333:function:${name}`;

class Throttled extends Error {
  override readonly name = 'Throttled' as const;
}
class HookGone extends Error {
  override readonly name = 'HookGone' as const;
}

function aTwin() {
  const scheduler = new VirtualScheduler(START);
  const statusChanges: ExecutionStatusChangeEvent[] = [];
  const sfn = new TwinStepFunctions(scheduler, { onStatusChange: (event) => statusChanges.push(event) });
  const t = (at: Date = scheduler.now()) => scheduler.elapsedSeconds(at);
  const runTo = (seconds: number) => scheduler.runUntil(new Date(START.getTime() + seconds * 1000));
  return { scheduler, sfn, statusChanges, t, runTo };
}

// Count -> Done? -> Pause (SecondsPath) -> Count ... until the counter reaches 5.
const countingLoop = {
  StartAt: 'Count',
  States: {
    Count: { Type: 'Task', Resource: lambdaArn('count'), Next: 'Done?' },
    'Done?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.count', NumericGreaterThanEquals: 5, Next: 'Finished' }],
      Default: 'Pause',
    },
    Pause: { Type: 'Wait', SecondsPath: '$.pauseSeconds', Next: 'Count' },
    Finished: { Type: 'Succeed' },
  },
};

describe('TwinStepFunctions: waits in virtual time', () => {
  it('runs a Task -> Wait(SecondsPath 300) -> Choice loop to 5 through 1200 s of virtual time', async () => {
    // Prepare
    const { sfn, t, runTo } = aTwin();
    const calls: number[] = [];
    const count: TaskHandler = (input) => {
      calls.push(t());
      const state = input as { count: number; pauseSeconds: number };
      return { ...state, count: state.count + 1 };
    };
    sfn.createStateMachine('counter', countingLoop, { count });

    // Act
    const { executionArn } = sfn.startExecution('counter', { input: { count: 0, pauseSeconds: 300 } });
    await runTo(1199);
    const before = sfn.describeExecution(executionArn).status;
    await runTo(3600);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(calls).toEqual([0, 300, 600, 900, 1200]);
    expect(before).toBe('RUNNING');
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: '{"count":5,"pauseSeconds":300}' });
    expect(t(execution.startDate)).toBe(0);
    expect(t(execution.stopDate)).toBe(1200);
    const history = sfn.getExecutionHistory(executionArn).map((e) => `${t(e.at)} ${e.type} ${e.state ?? ''}`);
    // Each Task state schedules its task (TaskScheduled, with what it was called with) once entered.
    expect(history.slice(0, 11)).toEqual([
      '0 ExecutionStarted ',
      '0 StateEntered Count',
      '0 TaskScheduled Count',
      '0 StateExited Count',
      '0 StateEntered Done?',
      '0 StateExited Done?',
      '0 StateEntered Pause',
      '300 StateExited Pause',
      '300 StateEntered Count',
      '300 TaskScheduled Count',
      '300 StateExited Count',
    ]);
    expect(history.slice(-3)).toEqual([
      '1200 StateEntered Finished',
      '1200 StateExited Finished',
      '1200 ExecutionSucceeded ',
    ]);
  });

  it('waits for Seconds, Timestamp and TimestampPath on the virtual clock', async () => {
    // Prepare
    const { sfn, t, runTo } = aTwin();
    const marks: number[] = [];
    sfn.createStateMachine(
      'waits',
      {
        StartAt: 'Seconds',
        States: {
          Seconds: { Type: 'Wait', Seconds: 90, Next: 'UntilPath' },
          UntilPath: { Type: 'Wait', TimestampPath: '$.until', Next: 'UntilFixed' },
          UntilFixed: { Type: 'Wait', Timestamp: '2026-11-02T11:00:00Z', Next: 'Mark' },
          Mark: { Type: 'Task', Resource: lambdaArn('mark'), End: true },
        },
      },
      { mark: () => marks.push(t()) },
    );

    // Act
    const { executionArn } = sfn.startExecution('waits', { input: { until: '2026-11-02T09:30:00Z' } });
    await runTo(3 * 3600);

    // Assess
    const entered = sfn
      .getExecutionHistory(executionArn)
      .filter((e) => e.type === 'StateEntered')
      .map((e) => [e.state, t(e.at)]);
    expect(entered).toEqual([
      ['Seconds', 0],
      ['UntilPath', 90],
      ['UntilFixed', 1800],
      ['Mark', 7200],
    ]);
    expect(marks).toEqual([7200]);
    expect(sfn.describeExecution(executionArn).status).toBe('SUCCEEDED');
  });

  it('interleaves two executions and the twin callbacks on one timeline, same-instant work in FIFO order', async () => {
    // Prepare: A pauses 100 s between marks, B 150 s; twin callbacks at 50, 100, 250 and 300 s
    const { scheduler, sfn, t, runTo } = aTwin();
    const log: string[] = [];
    sfn.createStateMachine(
      'marker',
      {
        StartAt: 'First',
        States: {
          First: { Type: 'Task', Resource: lambdaArn('mark'), ResultPath: null, Next: 'Pause' },
          Pause: { Type: 'Wait', SecondsPath: '$.pause', Next: 'Second' },
          Second: { Type: 'Task', Resource: lambdaArn('mark'), ResultPath: null, Next: 'PauseAgain' },
          PauseAgain: { Type: 'Wait', SecondsPath: '$.pause', Next: 'Third' },
          Third: { Type: 'Task', Resource: lambdaArn('mark'), ResultPath: null, End: true },
        },
      },
      { mark: (input, context) => log.push(`${t()} ${(input as { who: string }).who} ${context.stateName}`) },
    );
    for (const at of [50, 100, 250, 300]) scheduler.after(at, 'twin', () => void log.push(`${at} twin`));
    // A third execution started by a twin callback, inside the run.
    scheduler.after(120, 'start C', () => {
      sfn.startExecution('marker', { name: 'C', input: { who: 'C', pause: 30 } });
    });

    // Act
    sfn.startExecution('marker', { name: 'A', input: { who: 'A', pause: 100 } });
    sfn.startExecution('marker', { name: 'B', input: { who: 'B', pause: 150 } });
    await runTo(1000);

    // Assess: at 100 and 300 the twin callbacks were scheduled before the executions' timers were
    expect(log).toEqual([
      '0 A First',
      '0 B First',
      '50 twin',
      '100 twin',
      '100 A Second',
      '120 C First',
      '150 B Second',
      '150 C Second',
      '180 C Third',
      '200 A Third',
      '250 twin',
      '300 twin',
      '300 B Third',
    ]);
    expect(sfn.listExecutions('marker').map((e) => [e.name, e.status, t(e.stopDate)])).toEqual([
      ['C', 'SUCCEEDED', 180],
      ['B', 'SUCCEEDED', 300],
      ['A', 'SUCCEEDED', 200],
    ]);
  });
});

describe('TwinStepFunctions: Parallel branches', () => {
  it('lets Parallel branches wait side by side, a callback task in one of them', async () => {
    // Prepare: one branch bakes for 100 s, the other asks for approval that comes at 240 s
    const { scheduler, sfn, t, runTo } = aTwin();
    const log: string[] = [];
    sfn.createStateMachine(
      'bake-and-approve',
      {
        StartAt: 'Both',
        States: {
          Both: {
            Type: 'Parallel',
            End: true,
            Branches: [
              {
                StartAt: 'Bake',
                States: {
                  Bake: { Type: 'Wait', Seconds: 100, Next: 'Analyse' },
                  Analyse: { Type: 'Task', Resource: lambdaArn('analyse'), End: true },
                },
              },
              {
                StartAt: 'Approve',
                States: {
                  Approve: {
                    Type: 'Task',
                    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
                    Parameters: {
                      FunctionName: lambdaArn('askApproval'),
                      Payload: { 'token.$': '$$.Task.Token' },
                    },
                    End: true,
                  },
                },
              },
            ],
          },
        },
      },
      {
        analyse: () => {
          log.push(`${t()} analysed`);
          return { healthy: true };
        },
        askApproval: (event) => {
          log.push(`${t()} asked`);
          scheduler.after(240, 'operator approves', () => {
            sfn.sendTaskSuccess((event as { token: string }).token, { approvedBy: 'ops' });
          });
        },
      },
    );

    // Act
    const { executionArn } = sfn.startExecution('bake-and-approve');
    await runTo(3600);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(log).toEqual(['0 asked', '100 analysed']);
    expect(execution).toMatchObject({
      status: 'SUCCEEDED',
      output: '[{"healthy":true},{"approvedBy":"ops"}]',
    });
    expect(t(execution.stopDate)).toBe(240);
  });
});

describe('TwinStepFunctions: errors, Retry and Catch', () => {
  it('retries a named error after IntervalSeconds x BackoffRate^n of virtual time', async () => {
    // Prepare: three throttles, then success
    const { sfn, t, runTo } = aTwin();
    const attempts: number[] = [];
    sfn.createStateMachine(
      'retrying',
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: lambdaArn('flaky'),
            Retry: [
              { ErrorEquals: ['SomethingElse'], IntervalSeconds: 1, MaxAttempts: 5 },
              { ErrorEquals: ['Throttled'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 3 },
            ],
            End: true,
          },
        },
      },
      {
        flaky: () => {
          attempts.push(t());
          if (attempts.length <= 3) throw new Throttled('slow down');
          return { ok: true };
        },
      },
    );

    // Act
    const { executionArn } = sfn.startExecution('retrying');
    await runTo(600);

    // Assess: 2 s, then 6 s, then 18 s between attempts
    expect(attempts).toEqual([0, 2, 8, 26]);
    expect(sfn.describeExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '{"ok":true}' });
    const retried = sfn.getExecutionHistory(executionArn).filter((e) => e.type === 'StateRetried');
    expect(retried.map((e) => [t(e.at), e.attempt])).toEqual([
      [2, 1],
      [8, 2],
      [26, 3],
    ]);
  });

  it('fails the execution with the handler error once the retries are spent, the Cause as Lambda reports it', async () => {
    // Prepare
    const { sfn, t, runTo } = aTwin();
    const attempts: number[] = [];
    sfn.createStateMachine(
      'exhausted',
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: lambdaArn('flaky'),
            Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 2 }],
            End: true,
          },
        },
      },
      {
        flaky: () => {
          attempts.push(t());
          throw new Throttled('slow down');
        },
      },
    );

    // Act
    const { executionArn } = sfn.startExecution('exhausted');
    await runTo(600);

    // Assess
    expect(attempts).toEqual([0, 5, 15]);
    const execution = sfn.describeExecution(executionArn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Throttled' });
    expect(JSON.parse(execution.cause!)).toEqual({ errorType: 'Throttled', errorMessage: 'slow down' });
    expect(t(execution.stopDate)).toBe(15);
    expect(execution.output).toBeUndefined();
  });

  it('routes a caught error by its name: a known one to its own state, the rest to States.ALL', async () => {
    // Prepare
    const { sfn, runTo } = aTwin();
    sfn.createStateMachine(
      'catching',
      {
        StartAt: 'Complete',
        States: {
          Complete: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: lambdaArn('completeHook'), 'Payload.$': '$' },
            ResultSelector: { 'result.$': '$.Payload' },
            Catch: [
              { ErrorEquals: ['HookGone'], ResultPath: '$.failure', Next: 'AlreadyGone' },
              { ErrorEquals: ['States.ALL'], Next: 'Broken' },
            ],
            Next: 'Completed',
          },
          AlreadyGone: { Type: 'Pass', End: true },
          Broken: { Type: 'Fail', Error: 'HookCompletionFailed', Cause: 'could not complete the hook' },
          Completed: { Type: 'Succeed' },
        },
      },
      {
        completeHook: (event) => {
          const { outcome } = event as { outcome: string };
          if (outcome === 'gone') throw new HookGone('no active lifecycle action');
          if (outcome === 'broken') throw new Error('unexpected');
          return { completed: true };
        },
      },
    );

    // Act
    const ok = sfn.startExecution('catching', { name: 'ok', input: { outcome: 'ok' } });
    const gone = sfn.startExecution('catching', { name: 'gone', input: { outcome: 'gone' } });
    const broken = sfn.startExecution('catching', { name: 'broken', input: { outcome: 'broken' } });
    await runTo(60);

    // Assess
    const path = (arn: string) =>
      sfn
        .getExecutionHistory(arn)
        .filter((e) => e.type === 'StateEntered')
        .map((e) => e.state);
    expect(sfn.describeExecution(ok.executionArn)).toMatchObject({
      status: 'SUCCEEDED',
      output: '{"result":{"completed":true}}',
    });
    const goneOutput = JSON.parse(sfn.describeExecution(gone.executionArn).output!);
    expect(path(gone.executionArn)).toEqual(['Complete', 'AlreadyGone']);
    expect(goneOutput.failure.Error).toBe('HookGone');
    expect(JSON.parse(goneOutput.failure.Cause)).toMatchObject({
      errorMessage: 'no active lifecycle action',
    });
    expect(path(broken.executionArn)).toEqual(['Complete', 'Broken']);
    expect(sfn.describeExecution(broken.executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'HookCompletionFailed',
      cause: 'could not complete the hook',
    });
  });
});

describe('TwinStepFunctions: the execution API', () => {
  const waitThenMark = {
    StartAt: 'Hold',
    States: {
      Hold: { Type: 'Wait', Seconds: 3600, Next: 'Mark' },
      Mark: { Type: 'Task', Resource: lambdaArn('mark'), End: true },
    },
  };

  it('keeps execution names unique: same name and input while running is the same execution', async () => {
    // Prepare
    const { sfn, runTo } = aTwin();
    sfn.createStateMachine('holding', waitThenMark, { mark: () => 'marked' });
    const first = sfn.startExecution('holding', { name: 'hook-1', input: { instance: 'i-1' } });
    await runTo(60);

    // Act
    const again = sfn.startExecution('holding', { name: 'hook-1', input: '{"instance":"i-1"}' });
    const otherInput = () => sfn.startExecution('holding', { name: 'hook-1', input: { instance: 'i-2' } });

    // Assess
    expect(again).toEqual(first);
    expect(otherInput).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    expect(sfn.listExecutions('holding')).toHaveLength(1);

    // Act: once it has ended, the name stays taken
    await runTo(7200);
    const afterEnd = () => sfn.startExecution('holding', { name: 'hook-1', input: { instance: 'i-1' } });

    // Assess
    expect(sfn.describeExecution(first.executionArn).status).toBe('SUCCEEDED');
    expect(afterEnd).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    expect(() => sfn.startExecution('nope')).toThrow(
      expect.objectContaining({ name: 'StateMachineDoesNotExist' }),
    );
    expect(() => sfn.startExecution('holding', { name: 'has space' })).toThrow(
      expect.objectContaining({ name: 'InvalidName' }),
    );
    expect(() => sfn.describeExecution(`${first.executionArn}-x`)).toThrow(
      expect.objectContaining({ name: 'ExecutionDoesNotExist' }),
    );
  });

  it('ends an execution TIMED_OUT when the state machine TimeoutSeconds passes', async () => {
    // Prepare
    const { sfn, t, runTo } = aTwin();
    const marks: number[] = [];
    sfn.createStateMachine(
      'bounded',
      { ...waitThenMark, TimeoutSeconds: 600 },
      { mark: () => marks.push(t()) },
    );

    // Act
    const { executionArn } = sfn.startExecution('bounded');
    await runTo(7200);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(execution.status).toBe('TIMED_OUT');
    expect(t(execution.stopDate)).toBe(600);
    expect(marks).toEqual([]);
    expect(sfn.listExecutions('bounded', 'TIMED_OUT').map((e) => e.executionArn)).toEqual([executionArn]);
    expect(sfn.getExecutionHistory(executionArn).at(-1)).toMatchObject({ type: 'ExecutionTimedOut' });
  });

  it('aborts an execution with stopExecution at once; it never resumes', async () => {
    // Prepare
    const { sfn, t, runTo } = aTwin();
    const marks: number[] = [];
    sfn.createStateMachine('stoppable', waitThenMark, { mark: () => marks.push(t()) });
    const { executionArn } = sfn.startExecution('stoppable');
    await runTo(100);

    // Act
    const { stopDate } = sfn.stopExecution(executionArn, 'Operator', 'rollout aborted by hand');
    const statusAtOnce = sfn.describeExecution(executionArn).status;
    await runTo(7200);
    const again = sfn.stopExecution(executionArn);

    // Assess
    expect(statusAtOnce).toBe('ABORTED');
    expect(t(stopDate)).toBe(100);
    expect(again.stopDate).toEqual(stopDate);
    expect(marks).toEqual([]);
    expect(sfn.describeExecution(executionArn)).toMatchObject({
      status: 'ABORTED',
      error: 'Operator',
      cause: 'rollout aborted by hand',
    });
    expect(sfn.listExecutions('stoppable', 'RUNNING')).toEqual([]);
  });
});

describe('TwinStepFunctions: task tokens', () => {
  // Like the launch hook: ask someone to check the instance, wait for the answer.
  const askAndWait = {
    StartAt: 'AskForHealth',
    States: {
      AskForHealth: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: lambdaArn('askForHealth'),
          Payload: { 'token.$': '$$.Task.Token', 'instance.$': '$.instance' },
        },
        ResultPath: '$.answer',
        Next: 'Healthy',
      },
      Healthy: { Type: 'Succeed' },
    },
  };

  function withAnswerer(answer: (token: string) => void, after = 45) {
    const twin = aTwin();
    const asked: { token: string; contextToken?: string; instance: string; at: number }[] = [];
    twin.sfn.createStateMachine('launch-hook', askAndWait, {
      askForHealth: (event, context) => {
        const { token, instance } = event as { token: string; instance: string };
        asked.push({ token, contextToken: context.taskToken, instance, at: twin.t() });
        twin.scheduler.after(after, 'health answer', () => answer(token));
        return { StatusCode: 202 };
      },
    });
    return { ...twin, asked };
  }

  it('resumes a waitForTaskToken task when a twin callback later sends the task success', async () => {
    // Prepare
    const twin = withAnswerer((token) => twin.sfn.sendTaskSuccess(token, { healthy: true }));
    const { sfn, t, runTo, asked } = twin;

    // Act
    const { executionArn } = sfn.startExecution('launch-hook', { input: { instance: 'i-0abc' } });
    await runTo(44);
    const waiting = sfn.describeExecution(executionArn).status;
    await runTo(600);

    // Assess
    expect(waiting).toBe('RUNNING');
    expect(asked).toEqual([
      { token: expect.any(String), contextToken: asked[0]?.token, instance: 'i-0abc', at: 0 },
    ]);
    const execution = sfn.describeExecution(executionArn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(t(execution.stopDate)).toBe(45);
    expect(JSON.parse(execution.output!)).toEqual({ instance: 'i-0abc', answer: { healthy: true } });
    expect(() => sfn.sendTaskSuccess(asked[0]!.token, {})).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
    expect(() => sfn.sendTaskSuccess('not-a-token', {})).toThrow(
      expect.objectContaining({ name: 'InvalidToken' }),
    );
  });

  it('shows a retried callback task in the history with its new token, which is the one that resumes it', async () => {
    // Prepare: the asking Lambda fails on its first call (its runtime died) and the state retries it
    const twin = aTwin();
    const tokens: string[] = [];
    twin.sfn.createStateMachine(
      'launch-hook',
      {
        ...askAndWait,
        States: {
          ...askAndWait.States,
          AskForHealth: {
            ...askAndWait.States.AskForHealth,
            Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 5, MaxAttempts: 2 }],
          },
        },
      },
      {
        askForHealth: (event) => {
          tokens.push((event as { token: string }).token);
          if (tokens.length === 1) throw Object.assign(new Error('killed'), { name: 'Runtime.ExitError' });
          return { StatusCode: 202 };
        },
      },
    );

    // Act
    const { executionArn } = twin.sfn.startExecution('launch-hook', { input: { instance: 'i-0abc' } });
    await twin.runTo(60);
    const scheduled = twin.sfn
      .getExecutionHistory(executionArn)
      .filter((e) => e.type === 'TaskScheduled')
      .map((e) => (JSON.parse(e.parameters!) as { Payload: { token: string } }).Payload.token);
    twin.sfn.sendTaskSuccess(scheduled.at(-1)!, { healthy: true });
    await twin.runTo(120);

    // Assess: the newest TaskScheduled names the retry's token (what the ops API answers a gate with)
    expect(tokens).toHaveLength(2);
    expect(scheduled).toEqual(tokens);
    expect(twin.sfn.describeExecution(executionArn).status).toBe('SUCCEEDED');
  });

  it('fails a waitForTaskToken task with the error and cause of sendTaskFailure', async () => {
    // Prepare
    const twin = withAnswerer((token) =>
      twin.sfn.sendTaskFailure(token, 'InstanceUnhealthy', 'never passed the target group health check'),
    );
    const { sfn, t, runTo } = twin;

    // Act
    const { executionArn } = sfn.startExecution('launch-hook', { input: { instance: 'i-0abc' } });
    await runTo(600);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(execution).toMatchObject({
      status: 'FAILED',
      error: 'InstanceUnhealthy',
      cause: 'never passed the target group health check',
    });
    expect(t(execution.stopDate)).toBe(45);
  });

  it('times a callback task out after HeartbeatSeconds without a heartbeat', async () => {
    // Prepare: heartbeats at 50 and 100 s, then silence; the state allows 60 s between them
    const { scheduler, sfn, t, runTo } = aTwin();
    const definition = structuredClone(askAndWait) as typeof askAndWait & {
      States: { AskForHealth: { HeartbeatSeconds?: number } };
    };
    definition.States.AskForHealth.HeartbeatSeconds = 60;
    sfn.createStateMachine('heartbeats', definition, {
      askForHealth: (_event, context) => {
        for (const at of [50, 100])
          scheduler.after(at, 'beat', () => sfn.sendTaskHeartbeat(context.taskToken!));
      },
    });

    // Act
    const { executionArn } = sfn.startExecution('heartbeats', { input: { instance: 'i-0abc' } });
    await runTo(600);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect(t(execution.stopDate)).toBe(160);
  });

  it('ends the waiting task with the execution when the execution times out', async () => {
    // Prepare: nobody ever answers
    const twin = aTwin();
    const { sfn, t, runTo } = twin;
    const tokens: string[] = [];
    sfn.createStateMachine(
      'unanswered',
      { ...askAndWait, TimeoutSeconds: 300 },
      {
        askForHealth: (event) => void tokens.push((event as { token: string }).token),
      },
    );

    // Act
    const { executionArn } = sfn.startExecution('unanswered', { input: { instance: 'i-0abc' } });
    await runTo(86_400);

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(execution.status).toBe('TIMED_OUT');
    expect(t(execution.stopDate)).toBe(300);
    expect(() => sfn.sendTaskSuccess(tokens[0]!, {})).toThrow(
      expect.objectContaining({ name: 'TaskTimedOut' }),
    );
  });
});

describe('TwinStepFunctions: status-change events', () => {
  const safetyNet = {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
  };

  it('emits the EventBridge "Step Functions Execution Status Change" event when an execution ends', async () => {
    // Prepare
    const { sfn, statusChanges, runTo } = aTwin();
    const { stateMachineArn } = sfn.createStateMachine(
      'rollout',
      {
        StartAt: 'Bake',
        States: {
          Bake: { Type: 'Wait', Seconds: 300, Next: 'Promote' },
          Promote: { Type: 'Task', Resource: lambdaArn('promote'), End: true },
        },
      },
      {
        promote: (input) => {
          if ((input as { route: string }).route === 'broken') throw new Error('weights rejected');
          return { promoted: true };
        },
      },
    );

    // Act
    const good = sfn.startExecution('rollout', { name: 'web-42', input: { route: 'web' } });
    const bad = sfn.startExecution('rollout', { name: 'api-7', input: { route: 'broken' } });
    await runTo(30);
    const stopped = sfn.startExecution('rollout', { name: 'db-1', input: { route: 'db' } });
    sfn.stopExecution(stopped.executionArn, 'Aborted', 'guard alarm');
    await runTo(900);

    // Assess
    expect(statusChanges.map((e) => [e.detail.name, e.detail.status])).toEqual([
      ['db-1', 'ABORTED'],
      ['web-42', 'SUCCEEDED'],
      ['api-7', 'FAILED'],
    ]);
    expect(statusChanges[1]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '111122223333',
      time: '2026-11-02T09:05:00Z',
      region: 'eu-west-1',
      resources: [good.executionArn],
      detail: {
        executionArn: good.executionArn,
        stateMachineArn,
        name: 'web-42',
        status: 'SUCCEEDED',
        startDate: START.getTime(),
        stopDate: START.getTime() + 300_000,
        input: '{"route":"web"}',
        inputDetails: { included: true },
        output: '{"promoted":true}',
        outputDetails: { included: true },
        error: null,
        cause: null,
      },
    });
    expect(statusChanges[2]?.detail).toMatchObject({
      executionArn: bad.executionArn,
      status: 'FAILED',
      output: null,
      outputDetails: null,
      error: 'Error',
    });
    expect(statusChanges[0]?.detail).toMatchObject({
      status: 'ABORTED',
      startDate: START.getTime() + 30_000,
      stopDate: START.getTime() + 30_000,
      error: 'Aborted',
      cause: 'guard alarm',
    });
    expect(statusChanges.filter((e) => matchesPattern(safetyNet, e)).map((e) => e.detail.name)).toEqual([
      'db-1',
      'api-7',
    ]);
  });
});

describe('TwinStepFunctions: definitions', () => {
  it('refuses a state machine whose Task states have no local handler, or whose ASL is invalid', () => {
    // Prepare
    const { sfn } = aTwin();

    // Act
    const noHandler = () => sfn.createStateMachine('counter', countingLoop, {});
    const invalid = () =>
      sfn.createStateMachine(
        'broken',
        { StartAt: 'Nowhere', States: { A: { Type: 'Pass', End: true } } },
        {},
      );

    // Assess
    expect(noHandler).toThrow(expect.objectContaining({ name: 'TaskHandlerMissing' }));
    expect(invalid).toThrow(expect.objectContaining({ name: 'InvalidDefinition' }));
  });

  it('refuses an invalid definition in every twin: only one that passed is remembered', () => {
    // Prepare: a definition no earlier run can have seen
    const broken = { Comment: randomUUID(), StartAt: 'Nowhere', States: { A: { Type: 'Pass', End: true } } };

    // Act
    const first = () => aTwin().sfn.createStateMachine('broken', broken, {});
    const second = () => aTwin().sfn.createStateMachine('broken', broken, {});

    // Assess
    expect(first).toThrow(expect.objectContaining({ name: 'InvalidDefinition' }));
    expect(second).toThrow(expect.objectContaining({ name: 'InvalidDefinition' }));
  });

  it('accepts a handler registered by state name, function ARN or function name', async () => {
    // Prepare
    const { sfn, runTo } = aTwin();
    const byArn = sfn.createStateMachine('by-arn', countingLoop, {
      [lambdaArn('count')]: () => ({ count: 5 }),
    });
    sfn.createStateMachine('by-state', countingLoop, { Count: () => ({ count: 5 }) });

    // Act
    const one = sfn.startExecution(byArn.stateMachineArn);
    const two = sfn.startExecution('by-state');
    await runTo(1);

    // Assess
    expect(sfn.describeExecution(one.executionArn).status).toBe('SUCCEEDED');
    expect(sfn.describeExecution(two.executionArn).status).toBe('SUCCEEDED');
  });
});

describe('virtual time for libraries (VirtualScheduler)', () => {
  it('points setTimeout and Date at virtual time only while it runs', async () => {
    // Prepare
    const scheduler = new VirtualScheduler(START);
    const realSetTimeout = globalThis.setTimeout;
    const seen: { now: number; fired?: Date }[] = [];
    let longFired: number | undefined;
    scheduler.after(10, 'library work', () => {
      const entry: { now: number; fired?: Date } = { now: Date.now() };
      seen.push(entry);
      setTimeout(() => {
        entry.fired = new Date();
      }, 5_000);
      // Longer than Node's 2^31-1 ms: kept, not fired after 1 ms.
      setTimeout(() => {
        longFired = Date.now();
      }, 30 * 86_400_000);
      const cancelled = setTimeout(() => seen.push({ now: -1 }), 1_000);
      clearTimeout(cancelled);
    });

    // Act
    await scheduler.runUntil(new Date(START.getTime() + 60_000));
    const afterOneMinute = longFired;
    await scheduler.runUntil(new Date(START.getTime() + 31 * 86_400_000));

    // Assess
    expect(seen).toEqual([{ now: START.getTime() + 10_000, fired: new Date(START.getTime() + 15_000) }]);
    expect(seen[0]?.fired).toBeInstanceOf(Date);
    expect(afterOneMinute).toBeUndefined();
    expect(longFired).toBe(START.getTime() + 10_000 + 30 * 86_400_000);
    expect(globalThis.setTimeout).toBe(realSetTimeout);
    expect(Math.abs(Date.now() - START.getTime())).toBeGreaterThan(1000);
  });

  it('calls afterEachStep once per callback, after what it awaited, with its label and time', async () => {
    // Prepare
    const scheduler = new VirtualScheduler(START);
    const log: string[] = [];
    scheduler.after(1, 'first', async () => {
      await Promise.resolve();
      log.push('first ran');
    });
    scheduler.after(2, 'library', () => {
      setTimeout(() => log.push('timer ran'), 1_000);
    });

    // Act
    const steps = await scheduler.runUntil(new Date(START.getTime() + 5_000), {
      afterEachStep: (label) => log.push(`after ${label} at ${scheduler.elapsedSeconds()} s`),
    });

    // Assess
    expect(steps).toBe(3);
    expect(log).toEqual([
      'first ran',
      'after first at 1 s',
      'after library at 2 s',
      'timer ran',
      'after setTimeout at 3 s',
    ]);
  });

  it('refuses to run two clocks at once', async () => {
    // Prepare
    const one = new VirtualScheduler(START);
    const two = new VirtualScheduler(START);
    let inner: unknown;
    one.after(1, 'nested', async () => {
      inner = await two.runUntil(START).catch((error: Error) => error);
    });

    // Act
    await one.runUntil(new Date(START.getTime() + 5_000));

    // Assess
    expect(inner).toBeInstanceOf(VirtualTimeBusy);
  });
});
