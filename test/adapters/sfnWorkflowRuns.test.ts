import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';

const sfn = mockClient(SFNClient);

beforeEach(() => sfn.reset());

describe('runs', () => {
  const ROLLOUTS = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-prod-rollout';
  const runs = new SfnWorkflowRuns(sfn as unknown as SFNClient, { rollout: ROLLOUTS });
  const runArn = (name: string) =>
    `arn:aws:states:eu-west-1:111122223333:execution:ecs-reflex-prod-rollout:${name}`;

  it('tells a running run from an ended one and from one that never was', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand, { executionArn: runArn('web-1') })
      .resolves({ status: 'RUNNING' } as never)
      .on(DescribeExecutionCommand, { executionArn: runArn('web-0') })
      .resolves({ status: 'SUCCEEDED' } as never)
      .on(DescribeExecutionCommand, { executionArn: runArn('web-9') })
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // Act
    const states = await Promise.all(['web-1', 'web-0', 'web-9'].map((n) => runs.status('rollout', n)));

    // Assess
    expect(states).toEqual(['running', 'ended', 'unknown']);
  });

  it('lists every page of running runs with their input', async () => {
    // Prepare
    sfn
      .on(ListExecutionsCommand, { stateMachineArn: ROLLOUTS, statusFilter: 'RUNNING' })
      .resolvesOnce({
        executions: [{ name: 'web-1', executionArn: runArn('web-1') }] as never,
        nextToken: 'p2',
      })
      .resolvesOnce({ executions: [{ name: 'api-4', executionArn: runArn('api-4') }] as never });
    sfn
      .on(DescribeExecutionCommand, { executionArn: runArn('web-1') })
      .resolves({ input: '{"rollout":{"service":"web"}}' } as never)
      .on(DescribeExecutionCommand, { executionArn: runArn('api-4') })
      .resolves({ input: '{"rollout":{"service":"api"}}' } as never);

    // Act
    const running = await runs.running('rollout');

    // Assess
    expect(running).toEqual([
      { name: 'web-1', input: { rollout: { service: 'web' } } },
      { name: 'api-4', input: { rollout: { service: 'api' } } },
    ]);
    expect(sfn.commandCalls(ListExecutionsCommand)[1]!.args[0].input.nextToken).toBe('p2');
  });

  it('stops a run by name, and a run that does not exist is not an error', async () => {
    // Prepare
    sfn
      .on(StopExecutionCommand, { executionArn: runArn('web-1') })
      .resolves({ stopDate: new Date() })
      .on(StopExecutionCommand, { executionArn: runArn('gone') })
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // Act
    await runs.stop('rollout', 'web-1', 'guard alarm web-5xx in ALARM');
    await runs.stop('rollout', 'gone', 'abort');

    // Assess
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: runArn('web-1'),
      error: 'Aborted',
      cause: 'guard alarm web-5xx in ALARM',
    });
  });
});

describe('gates', () => {
  const ROLLOUTS = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-prod-rollout';
  const runs = new SfnWorkflowRuns(sfn as unknown as SFNClient, { rollout: ROLLOUTS });
  const RUN_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:ecs-reflex-prod-rollout:web-1';
  const scheduled = (token: string) => ({
    type: 'TaskScheduled',
    taskScheduledEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: 'eu-west-1',
      parameters: JSON.stringify({ FunctionName: 'arn:fn', Payload: { action: 'gate', taskToken: token } }),
    },
  });

  it('resumes the gate the run waits on, with the token from its newest TaskScheduled event', async () => {
    // Prepare
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [scheduled('tok-2'), scheduled('tok-1')] as never });
    sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const answered = await runs.answerGate('rollout', 'web-1', { resume: true });

    // Assess
    expect(answered).toBe(true);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toMatchObject({
      executionArn: RUN_ARN,
      reverseOrder: true,
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok-2',
      output: '{"decision":"resume"}',
    });
  });

  it('promotes from the gate: the same token, with the promote decision the workflow branches on', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [scheduled('tok-3')] as never });
    sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const answered = await runs.answerGate('rollout', 'web-1', { promote: true });

    // Assess
    expect(answered).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: 'tok-3', output: '{"decision":"promote"}' },
    ]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('aborts a gate with RolloutAborted and the cause', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [scheduled('tok-1')] as never });
    sfn.on(SendTaskFailureCommand).resolves({});

    // Act
    await runs.answerGate('rollout', 'web-1', { abort: 'aborted by alice' });

    // Assess
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok-1',
      error: 'RolloutAborted',
      cause: 'aborted by alice',
    });
  });

  it('answers false when the run has ended or its gate has closed', async () => {
    // Prepare
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [{ type: 'ExecutionFailed' }, scheduled('tok-1')] as never })
      .resolvesOnce({ events: [scheduled('tok-1')] as never });
    sfn
      .on(SendTaskSuccessCommand)
      .rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));

    // Act
    const ended = await runs.answerGate('rollout', 'web-1', { resume: true });
    const closed = await runs.answerGate('rollout', 'web-1', { resume: true });

    // Assess
    expect([ended, closed]).toEqual([false, false]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('answers false for a run that never was, as for one waiting on nothing', async () => {
    // Prepare
    sfn
      .on(GetExecutionHistoryCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // Act
    const answered = await runs.answerGate('rollout', 'web-typo', { abort: 'aborted by alice' });

    // Assess
    expect(answered).toBe(false);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });
});

describe('describe and list', () => {
  const ROLLOUTS = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-prod-rollout';
  const runs = new SfnWorkflowRuns(sfn as unknown as SFNClient, { rollout: ROLLOUTS });
  const RUN_ARN = 'arn:aws:states:eu-west-1:111122223333:execution:ecs-reflex-prod-rollout:web-1';
  const STARTED = new Date('2026-11-02T09:00:00.000Z');
  const STOPPED = new Date('2026-11-02T09:40:00.000Z');
  const exited = (name: string, output: string) => ({
    type: 'TaskStateExited',
    stateExitedEventDetails: { name, output },
  });

  it('describes a run with its input and the output of its newest finished step', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand, { executionArn: RUN_ARN }).resolves({
      executionArn: RUN_ARN,
      status: 'RUNNING',
      startDate: STARTED,
      input: '{"rollout":{"service":"web"}}',
    } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { type: 'TaskScheduled' },
        exited('Bake', '{"state":{"step":3}}'),
        exited('Shift', '{"state":{"step":2}}'),
      ] as never,
    });

    // Act
    const run = await runs.describe('rollout', 'web-1');

    // Assess
    expect(run).toEqual({
      name: 'web-1',
      status: 'RUNNING',
      startDate: STARTED,
      input: { rollout: { service: 'web' } },
      latest: { state: { step: 3 } },
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]!.args[0].input).toEqual({
      executionArn: RUN_ARN,
      reverseOrder: true,
      maxResults: 100,
    });
  });

  it('describes an ended run with its stop date, error and cause, and no step output when none finished', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      startDate: STARTED,
      stopDate: STOPPED,
      input: '{}',
      error: 'RolloutAborted',
      cause: 'aborted by alice',
    } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ type: 'ExecutionFailed' }] as never });

    // Act
    const run = await runs.describe('rollout', 'web-1');

    // Assess
    expect(run).toEqual({
      name: 'web-1',
      status: 'FAILED',
      startDate: STARTED,
      stopDate: STOPPED,
      input: {},
      error: 'RolloutAborted',
      cause: 'aborted by alice',
    });
  });

  it('describes a run that does not exist as undefined, without reading a history', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // Act
    const run = await runs.describe('rollout', 'gone');

    // Assess
    expect(run).toBeUndefined();
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it('lists runs of the workflow as Step Functions orders them (newest first), at most the limit', async () => {
    // Prepare
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        { name: 'web-3', status: 'RUNNING', startDate: STOPPED },
        { name: 'web-2', status: 'ABORTED', startDate: STARTED, stopDate: STOPPED },
        { name: 'web-1', status: 'SUCCEEDED', startDate: STARTED, stopDate: STARTED },
      ] as never,
    });

    // Act
    const listed = await runs.list('rollout', 2);

    // Assess
    expect(listed).toEqual([
      { name: 'web-3', status: 'RUNNING', startDate: STOPPED },
      { name: 'web-2', status: 'ABORTED', startDate: STARTED, stopDate: STOPPED },
    ]);
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: ROLLOUTS,
      maxResults: 2,
    });
  });

  it('asks for at most 1000 runs, the most one ListExecutions page holds', async () => {
    // Prepare
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });

    // Act
    const listed = await runs.list('rollout', 5000);

    // Assess
    expect(listed).toEqual([]);
    expect(sfn.commandCalls(ListExecutionsCommand)[0]!.args[0].input.maxResults).toBe(1000);
  });

  it('refuses a workflow it has no state machine for', async () => {
    // Act
    const describing = runs.describe('nope', 'web-1');
    const listing = runs.list('nope', 10);

    // Assess
    await expect(describing).rejects.toMatchObject({ name: 'UnknownWorkflow' });
    await expect(listing).rejects.toMatchObject({ name: 'UnknownWorkflow' });
  });
});
