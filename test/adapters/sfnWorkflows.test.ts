import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
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
