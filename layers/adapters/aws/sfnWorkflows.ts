// Workflow runs over Step Functions: a run is an execution of the workflow's state machine, and the run's
// name is the execution name, which Step Functions keeps unique per state machine. That uniqueness is what
// makes a duplicate event unable to start a second run.
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Workflows } from '#ports';

/** A workflow name the adapter has no state machine for: configuration, not a transient failure. */
export class UnknownWorkflow extends Error {
  override readonly name = 'UnknownWorkflow';
  constructor(readonly workflow: string) {
    super(`no state machine configured for workflow ${workflow}`);
  }
}

export class SfnWorkflows implements Workflows {
  constructor(
    private readonly sfn: Pick<SFNClient, 'send'>,
    /** Workflow name -> state machine ARN, from the stage's config. */
    private readonly stateMachines: Readonly<Record<string, string>>,
  ) {}

  /**
   * ExecutionAlreadyExists comes for a name used before on this state machine (a closed execution, kept for
   * 90 days on Standard workflows, or a running one started with another input): the run exists, so
   * report it, with the ARN Step Functions gives every execution. A repeat with the same input while the
   * first run is still going succeeds instead (StartExecution is idempotent then) and returns the first
   * run's ARN, reported as started: either way one run, never two.
   */
  async start(workflow: string, name: string, input: unknown): Promise<{ started: boolean; runId: string }> {
    const stateMachineArn = this.stateMachines[workflow];
    if (!stateMachineArn) throw new UnknownWorkflow(workflow);
    try {
      const output = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input ?? {}) }),
      );
      return { started: true, runId: output.executionArn ?? executionArn(stateMachineArn, name) };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
        return { started: false, runId: executionArn(stateMachineArn, name) };
      }
      throw error;
    }
  }
}

/**
 * arn:PARTITION:states:REGION:ACCOUNT:stateMachine:MACHINE -> ...:execution:MACHINE:NAME. Only the first
 * `:stateMachine:` is the resource type; a machine name cannot contain a colon.
 */
export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
