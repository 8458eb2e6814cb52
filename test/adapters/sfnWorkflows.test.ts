import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SfnWorkflows, UnknownWorkflow } from '#adapters/aws/sfnWorkflows';

const sfn = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-prod-instance-lifecycle';
const workflows = new SfnWorkflows(sfn as unknown as SFNClient, { 'instance-lifecycle': MACHINE });

const NAME = 'ecs-prod-drain-on-terminate-i-0123456789abcdef0';
const RUN = `arn:aws:states:eu-west-1:111122223333:execution:ecs-reflex-prod-instance-lifecycle:${NAME}`;

beforeEach(() => sfn.reset());

describe('start', () => {
  it("starts an execution of the workflow's state machine under the given name, with the input as JSON", async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: RUN, startDate: new Date() });

    // Act
    const run = await workflows.start('instance-lifecycle', NAME, { instanceId: 'i-0123456789abcdef0' });

    // Assess
    expect(run).toEqual({ started: true, runId: RUN });
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: MACHINE, name: NAME, input: '{"instanceId":"i-0123456789abcdef0"}' },
    ]);
  });

  it('reports a run that already exists under that name as not started, with its execution ARN', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: `Execution Already Exists: '${RUN}'`, $metadata: {} }));

    // Act
    const run = await workflows.start('instance-lifecycle', NAME, { instanceId: 'i-0123456789abcdef0' });

    // Assess
    expect(run).toEqual({ started: false, runId: RUN });
  });

  it('surfaces other errors', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(
        Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }),
      );

    // Act / Assess
    await expect(workflows.start('instance-lifecycle', NAME, {})).rejects.toThrow(
      'State Machine Does Not Exist',
    );
  });

  it('refuses a workflow it has no state machine for, without calling Step Functions', async () => {
    // Act
    const error = await workflows.start('rollout', NAME, {}).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(UnknownWorkflow);
    expect(error).toHaveProperty('name', 'UnknownWorkflow');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('runs', () => {
  const ROLLOUTS = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-prod-rollout';
  const runs = new SfnWorkflows(sfn as unknown as SFNClient, { rollout: ROLLOUTS });
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
