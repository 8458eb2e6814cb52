// Workflows and WorkflowRuns over the twin's Step Functions, by workflow name, as SfnWorkflows and
// SfnWorkflowRuns are over Step Functions: a workflow is one state machine (here by its twin name, there
// by its ARN from the stage's config), a run is an execution of it, named by the caller.
import { UnknownWorkflow } from '#adapters/aws/sfnWorkflows';
import type { TwinStepFunctions } from '#local/stepfunctions/runner';
import type { RecordedCall } from '#local/twin/lifecyclePorts';
import type { WorkflowRuns, Workflows } from '#ports';

/** Workflow name -> the twin state machine that runs it. */
export type TwinStateMachines = Readonly<Record<string, string>>;

function machineOf(machines: TwinStateMachines, workflow: string): string {
  const machine = machines[workflow];
  if (!machine) throw new UnknownWorkflow(workflow);
  return machine;
}

export function twinWorkflows(
  stepFunctions: TwinStepFunctions,
  machines: TwinStateMachines,
  call: RecordedCall,
): Workflows {
  return {
    async start(workflow, name, input) {
      const machine = machineOf(machines, workflow);
      try {
        const { executionArn } = call('StartExecution', `${workflow} ${name}`, true, () =>
          stepFunctions.startExecution(machine, { name, input }),
        );
        return { started: true, runId: executionArn };
      } catch (error) {
        if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
        // The run that holds the name, by the ARN Step Functions gives it, as the adapter reports it.
        return { started: false, runId: stepFunctions.executionArn(machine, name) };
      }
    },
  };
}

export function twinWorkflowRuns(
  stepFunctions: TwinStepFunctions,
  machines: TwinStateMachines,
  call: RecordedCall,
): WorkflowRuns {
  const runOf = (workflow: string, name: string) => {
    const machine = machineOf(machines, workflow);
    const arn = stepFunctions.executionArn(machine, name);
    const known = stepFunctions.listExecutions(machine).some((e) => e.executionArn === arn);
    return { machine, arn, known };
  };
  return {
    async status(workflow, name) {
      const run = runOf(workflow, name);
      call('DescribeExecution', name, false);
      if (!run.known) return 'unknown';
      return stepFunctions.describeExecution(run.arn).status === 'RUNNING' ? 'running' : 'ended';
    },
    async running(workflow) {
      const machine = machineOf(machines, workflow);
      call('ListExecutions', machine, false);
      return stepFunctions.listExecutions(machine, 'RUNNING').map((e) => {
        call('DescribeExecution', e.name, false);
        return { name: e.name, input: JSON.parse(stepFunctions.describeExecution(e.executionArn).input) };
      });
    },
    async stop(workflow, name, cause) {
      const run = runOf(workflow, name);
      call('StopExecution', name, true, () => {
        if (run.known) stepFunctions.stopExecution(run.arn, 'Aborted', cause);
      });
    },
    async describe(workflow, name) {
      const run = runOf(workflow, name);
      call('DescribeExecution', name, false);
      if (!run.known) return undefined;
      const execution = stepFunctions.describeExecution(run.arn);
      call('GetExecutionHistory', name, false);
      const exited = stepFunctions
        .getExecutionHistory(run.arn)
        .filter((e) => e.type === 'StateExited' && e.output !== undefined)
        .at(-1);
      return {
        name,
        status: execution.status,
        startDate: execution.startDate,
        ...(execution.stopDate ? { stopDate: execution.stopDate } : {}),
        input: JSON.parse(execution.input),
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: execution.cause } : {}),
        ...(exited?.output ? { latest: JSON.parse(exited.output) } : {}),
      };
    },
    async list(workflow, limit) {
      const machine = machineOf(machines, workflow);
      call('ListExecutions', machine, false);
      return stepFunctions
        .listExecutions(machine)
        .slice(0, limit)
        .map((e) => ({
          name: e.name,
          status: e.status,
          startDate: e.startDate,
          ...(e.stopDate ? { stopDate: e.stopDate } : {}),
        }));
    },
    async answerGate(workflow, name, answer) {
      const run = runOf(workflow, name);
      call('GetExecutionHistory', name, false);
      if (!run.known) return false;
      // The newest token, as the adapter reads it from the history: a retried gate task leaves older ones.
      const token = stepFunctions.openTaskTokens(run.arn).at(-1);
      if (!token) return false;
      if ('resume' in answer || 'promote' in answer) {
        call('SendTaskSuccess', name, true, () =>
          stepFunctions.sendTaskSuccess(token, { decision: 'promote' in answer ? 'promote' : 'resume' }),
        );
      } else {
        call('SendTaskFailure', name, true, () =>
          stepFunctions.sendTaskFailure(token, 'RolloutAborted', answer.abort),
        );
      }
      return true;
    },
  };
}
