// Runs of a long workflow over Step Functions, by name: is one still going, which are (with their input),
// stop one, answer the gate one waits on. The rollout reflex's steering; the lifecycle intake, which only
// starts runs, does not get these permissions.
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { executionArn, UnknownWorkflow } from '#adapters/aws/sfnWorkflows';
import type { GateAnswer, RunSummary, RunView, WorkflowRuns } from '#ports';

export class SfnWorkflowRuns implements WorkflowRuns {
  constructor(
    private readonly sfn: Pick<SFNClient, 'send'>,
    /** Workflow name -> state machine ARN, from the stage's config. */
    private readonly stateMachines: Readonly<Record<string, string>>,
  ) {}

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

  /**
   * The open gate's token is in the newest TaskScheduled event of the run's history (the callback state's
   * parameters carry `$$.Task.Token`). A token whose task has closed answers TaskTimedOut: nothing waits.
   */
  async answerGate(workflow: string, name: string, answer: GateAnswer): Promise<boolean> {
    const token = await this.newestTaskToken(executionArn(this.machine(workflow), name));
    if (!token) return false;
    try {
      if ('resume' in answer || 'promote' in answer)
        await this.sfn.send(
          new SendTaskSuccessCommand({
            taskToken: token,
            output: JSON.stringify({ decision: 'promote' in answer ? 'promote' : 'resume' }),
          }),
        );
      else
        await this.sfn.send(
          new SendTaskFailureCommand({
            taskToken: token,
            error: 'RolloutAborted',
            cause: answer.abort.slice(0, 32768),
          }),
        );
      return true;
    } catch (error) {
      if (error instanceof Error && (error.name === 'TaskTimedOut' || error.name === 'TaskDoesNotExist'))
        return false;
      throw error;
    }
  }

  private async newestTaskToken(runArn: string): Promise<string | undefined> {
    let history: GetExecutionHistoryCommandOutput;
    try {
      history = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn: runArn, reverseOrder: true, maxResults: 100 }),
      );
    } catch (error) {
      // A run that never was (a mistyped name, one forgotten after 90 days) waits on nothing either.
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
    for (const event of history.events ?? []) {
      if (
        event.type === 'ExecutionSucceeded' ||
        event.type === 'ExecutionFailed' ||
        event.type === 'ExecutionAborted'
      )
        return undefined;
      const parameters = event.taskScheduledEventDetails?.parameters;
      if (event.type !== 'TaskScheduled' || !parameters) continue;
      const token = (parseInput(parameters) as { Payload?: { taskToken?: unknown } } | undefined)?.Payload
        ?.taskToken;
      return typeof token === 'string' ? token : undefined;
    }
    return undefined;
  }

  /** DescribeExecution, then the newest step output from the history (reverse order: one page suffices). */
  async describe(workflow: string, name: string): Promise<RunView | undefined> {
    const runArn = executionArn(this.machine(workflow), name);
    let run: DescribeExecutionCommandOutput;
    try {
      run = await this.sfn.send(new DescribeExecutionCommand({ executionArn: runArn }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
    const history = await this.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: runArn, reverseOrder: true, maxResults: 100 }),
    );
    const output = history.events?.find((e) => e.stateExitedEventDetails?.output !== undefined)
      ?.stateExitedEventDetails?.output;
    return {
      name,
      status: run.status ?? 'RUNNING',
      startDate: run.startDate ?? new Date(0),
      ...(run.stopDate ? { stopDate: run.stopDate } : {}),
      input: parseInput(run.input),
      ...(run.error ? { error: run.error } : {}),
      ...(run.cause ? { cause: run.cause } : {}),
      ...(output !== undefined ? { latest: parseInput(output) } : {}),
    };
  }

  async list(workflow: string, limit: number): Promise<RunSummary[]> {
    const page = await this.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: this.machine(workflow),
        maxResults: Math.min(1000, limit),
      }),
    );
    return (page.executions ?? []).slice(0, limit).map((e) => ({
      name: e.name ?? '',
      status: e.status ?? 'RUNNING',
      startDate: e.startDate ?? new Date(0),
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    }));
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
