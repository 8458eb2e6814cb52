// The workflows contract on the twin (see workflows.contract.ts; workflows.awstest.ts runs the same on AWS):
// the twin's Step Functions runs the contract's state machine, behind the same ports the reflexes get.
import { recordedCalls } from '#local/twin/ports';
import { twinWorkflowRuns, twinWorkflows } from '#local/twin/workflows';
import { contractTwin, twinEventually } from './harness';
import { WAITING_WORKFLOW, workflowsContract } from './workflows.contract';

describe('Workflow ports on the twin', () => {
  workflowsContract(() => {
    const twin = contractTwin();
    const machines = { contract: 'ecs-reflex-contract-wait' };
    const call = recordedCalls(twin.world, twin.faults);
    return {
      workflows: twinWorkflows(twin.stepFunctions, machines, call),
      runs: twinWorkflowRuns(twin.stepFunctions, machines, call),
      eventually: twinEventually(twin),
      given: async () => {
        twin.stepFunctions.createStateMachine(machines.contract, WAITING_WORKFLOW);
        return { workflow: 'contract' };
      },
    };
  });
});
