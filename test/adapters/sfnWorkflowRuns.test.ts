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
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.taskToken).toBe('tok-2');
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
});
