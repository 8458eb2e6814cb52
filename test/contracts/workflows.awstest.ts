// The workflows contract on AWS: a role Step Functions may assume (no permissions: the contract's workflow
// only passes and waits) and a Standard state machine of WAITING_WORKFLOW. Runs still going are stopped
// before the machine is deleted; both are deleted afterwards.
import { CreateRoleCommand, DeleteRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  ListExecutionsCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { AwsContractContext, describeOnAws } from './aws/context';
import { WAITING_WORKFLOW, workflowsContract } from './workflows.contract';

/** IAM is eventually consistent: a new role can take a while before Step Functions may assume it. */
const ROLE_PROPAGATION_SECONDS = 90;

describeOnAws('Workflow ports on AWS', () => {
  const aws = new AwsContractContext();
  const { sfn } = aws.clients;
  const iam = new IAMClient({ maxAttempts: 6, retryMode: 'adaptive' });
  afterAll(() => aws.cleanup());

  workflowsContract(() => {
    const machines: Record<string, string> = {};
    return {
      workflows: new SfnWorkflows(sfn, machines),
      runs: new SfnWorkflowRuns(sfn, machines),
      // ListExecutions is eventually consistent; a stopped run shows ABORTED within seconds.
      eventually: (read, ok) => aws.eventually(read, ok),
      given: async () => {
        const roleName = aws.name('states');
        const role = await iam.send(
          new CreateRoleCommand({
            RoleName: roleName,
            AssumeRolePolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            }),
            Description: 'ecs-reflex port contract: a state machine that only passes and waits',
            Tags: aws.tags().map(({ key, value }) => ({ Key: key, Value: value })),
          }),
        );
        aws.defer(`role ${roleName}`, () => iam.send(new DeleteRoleCommand({ RoleName: roleName })));
        const create = new CreateStateMachineCommand({
          name: aws.name('wait'),
          type: 'STANDARD',
          definition: JSON.stringify(WAITING_WORKFLOW),
          roleArn: role.Role!.Arn!,
          tags: aws.tags(),
        });
        const deadline = Date.now() + ROLE_PROPAGATION_SECONDS * 1000;
        let stateMachineArn: string | undefined;
        while (!stateMachineArn) {
          try {
            stateMachineArn = (await sfn.send(create)).stateMachineArn!;
          } catch (error) {
            // "Neither the global service principal states.amazonaws.com, nor the regional one is
            // authorized to assume the provided role.": the role is not everywhere yet.
            if (!/assume the provided role/i.test((error as Error).message) || Date.now() > deadline)
              throw error;
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
        }
        const machine = stateMachineArn;
        aws.defer(`state machine ${machine}`, async () => {
          // A machine with runs still going is only deleted once they end: end them first.
          const { executions = [] } = await sfn.send(
            new ListExecutionsCommand({ stateMachineArn: machine, statusFilter: 'RUNNING' }),
          );
          for (const { executionArn } of executions)
            await sfn.send(new StopExecutionCommand({ executionArn, cause: 'port contract cleanup' }));
          await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machine }));
        });
        machines.contract = machine;
        return { workflow: 'contract' };
      },
    };
  });
});
