// Workflow runs over Step Functions: a run is an execution of the workflow's state machine, and the run's
// name is the execution name, which Step Functions keeps unique per state machine. That uniqueness is what
// makes a duplicate event unable to start a second run.
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { WorkflowRuns, Workflows } from '#ports';

/** A workflow name the adapter has no state machine for: configuration, not a transient failure. */
export class UnknownWorkflow extends Error {
  override readonly name = 'UnknownWorkflow';
  constructor(readonly workflow: string) {
    super(`no state machine configured for workflow ${workflow}`);
  }
}

export class SfnWorkflows implements Workflows, WorkflowRuns {
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

  async status(workflow: string, name: string): Promise<'running' | 'ended' | 'unknown'> {
    try {
      const run = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: executionArn(this.machine(workflow), name) }),
      );
      return run.status === 'RUNNING' || run.status === 'PENDING_REDRIVE' ? 'running' : 'ended';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return 'unknown';
      throw error;
    }
  }

  /** ListExecutions (every page) for the running ones, then DescribeExecution for each one's input. */
  async running(workflow: string): Promise<{ name: string; input: unknown }[]> {
    const stateMachineArn = this.machine(workflow);
    const runs: { name: string; input: unknown }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken, maxResults: 100 }),
      );
      for (const item of page.executions ?? []) {
        if (!item.executionArn || !item.name) continue;
        const run = await this.sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
        runs.push({ name: item.name, input: parseInput(run.input) });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return runs;
  }

  async stop(workflow: string, name: string, cause: string): Promise<void> {
    try {
      await this.sfn.send(
        new StopExecutionCommand({
          executionArn: executionArn(this.machine(workflow), name),
          error: 'Aborted',
          cause: cause.slice(0, 32768),
        }),
      );
    } catch (error) {
      // A run that has ended already is stopped as far as anyone can tell; AWS does not complain then,
      // and a run that never existed has nothing to stop.
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return;
      throw error;
    }
  }

  private machine(workflow: string): string {
    const stateMachineArn = this.stateMachines[workflow];
    if (!stateMachineArn) throw new UnknownWorkflow(workflow);
    return stateMachineArn;
  }
}

/** Input that is not JSON (it always is, from this project) is handed on as text, for the caller to refuse. */
function parseInput(input: string | undefined): unknown {
  try {
    return JSON.parse(input ?? 'null');
  } catch {
    return input;
  }
}

/**
 * arn:PARTITION:states:REGION:ACCOUNT:stateMachine:MACHINE -> ...:execution:MACHINE:NAME. Only the first
 * `:stateMachine:` is the resource type; a machine name cannot contain a colon.
 */
function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
