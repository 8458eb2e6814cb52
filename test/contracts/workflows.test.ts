// The workflows contract on the twin (see workflows.contract.ts; workflows.awstest.ts runs the same on AWS):
// the real adapters over the twin's Step Functions client, which runs the contract's state machine.
import { SfnWorkflowRuns } from '#adapters/aws/sfnWorkflowRuns';
import { SfnWorkflows } from '#adapters/aws/sfnWorkflows';
import { contractTwin, twinEventually } from './harness';
import { WAITING_WORKFLOW, workflowsContract } from './workflows.contract';

describe('Workflow ports on the twin', () => {
  workflowsContract(() => {
    const twin = contractTwin();
    const machine = 'ecs-reflex-contract-wait';
    const machines = { contract: twin.stateMachineArn(machine) };
    return {
      workflows: new SfnWorkflows(twin.clients.sfn, machines),
      runs: new SfnWorkflowRuns(twin.clients.sfn, machines),
      eventually: twinEventually(twin),
      given: async () => {
        twin.stepFunctions.createStateMachine(machine, WAITING_WORKFLOW);
        return { workflow: 'contract' };
      },
    };
  });
});
