// The workflow ports' contract: what the lifecycle intake, the rollout steps and the ops API rely on Step
// Functions to do with runs they name. One small workflow stands in for the real ones: a first step that
// reports progress, then a wait as long as the run's input asks (a long one stays running, a short one ends
// at once). It has no callback state: a gate needs a Lambda-shaped task (the adapter reads the token from
// the task's Payload), and a Lambda is more than this contract creates, so only the "no gate" answers are
// checked here; the gate itself is covered by the adapter's tests and the rollout scenarios.

import type { WorkflowRuns, Workflows } from '#ports';
import type { Eventually } from './harness';

/** The contract's state machine, the same on the twin and on AWS. */
export const WAITING_WORKFLOW = {
  Comment: 'ecs-reflex port contract: a step that reports progress, then a wait of $.seconds',
  StartAt: 'Begin',
  States: {
    Begin: { Type: 'Pass', Result: { phase: 'waiting' }, ResultPath: '$.progress', Next: 'Wait' },
    Wait: { Type: 'Wait', SecondsPath: '$.seconds', End: true },
  },
} as const;

export interface WorkflowsHarness {
  workflows: Workflows;
  runs: WorkflowRuns;
  eventually: Eventually;
  /** Creates WAITING_WORKFLOW; answers the workflow name both ports know it by. */
  given(): Promise<{ workflow: string }>;
}

export function workflowsContract(harness: () => WorkflowsHarness): void {
  let sfn: WorkflowsHarness;
  let workflow: string;
  const long = { seconds: 3600, rollout: { service: 'web' } };
  const short = { seconds: 1 };
  let longRunId: string;
  let shortRunId: string;

  beforeAll(async () => {
    sfn = harness();
    ({ workflow } = await sfn.given());
  });

  it('starts a run once: the same name and input again is the same run, another input is refused', async () => {
    // Act
    const first = await sfn.workflows.start(workflow, 'long-1', long);
    const again = await sfn.workflows.start(workflow, 'long-1', long);
    const other = await sfn.workflows.start(workflow, 'long-1', { ...long, rollout: { service: 'api' } });
    longRunId = first.runId;

    // Assess
    expect(first.started).toBe(true);
    expect(first.runId).toMatch(/:execution:[^:]+:long-1$/);
    // Step Functions answers a repeat of a running run with that run (StartExecution is idempotent then).
    expect(again).toEqual({ started: true, runId: first.runId });
    expect(other).toEqual({ started: false, runId: first.runId });
  });

  it('tells a running run from one that has ended and from one that never was', async () => {
    // Prepare
    shortRunId = (await sfn.workflows.start(workflow, 'short-1', short)).runId;

    // Act
    const ended = await sfn.eventually(
      () => sfn.runs.status(workflow, 'short-1'),
      (status) => status === 'ended',
    );
    const statuses = [
      await sfn.runs.status(workflow, 'long-1'),
      ended,
      await sfn.runs.status(workflow, 'never-started'),
    ];

    // Assess
    expect(statuses).toEqual(['running', 'ended', 'unknown']);
  });

  it('starts no new run under the name of one that has ended', async () => {
    // Act
    const repeat = await sfn.workflows.start(workflow, 'short-1', short);

    // Assess
    expect(repeat).toEqual({ started: false, runId: shortRunId });
  });

  it('lists the running runs, each with its input', async () => {
    // Act
    const running = await sfn.eventually(
      () => sfn.runs.running(workflow),
      (runs) => runs.some((r) => r.name === 'long-1') && !runs.some((r) => r.name === 'short-1'),
    );

    // Assess
    expect(running).toEqual([{ name: 'long-1', input: long }]);
  });

  it('describes a run with its input and the output of its latest finished step', async () => {
    // Act
    const run = await sfn.eventually(
      () => sfn.runs.describe(workflow, 'long-1'),
      (view) => view?.latest !== undefined,
    );
    const never = await sfn.runs.describe(workflow, 'never-started');

    // Assess
    expect(run).toEqual({
      name: 'long-1',
      status: 'RUNNING',
      startDate: expect.any(Date),
      input: long,
      latest: { ...long, progress: { phase: 'waiting' } },
    });
    expect(never).toBeUndefined();
  });

  it('lists the runs newest first, at most as many as asked', async () => {
    // Act
    const all = await sfn.eventually(
      () => sfn.runs.list(workflow, 10),
      (runs) => runs.length >= 2,
    );
    const newest = await sfn.runs.list(workflow, 1);

    // Assess
    expect(all.map((r) => [r.name, r.status])).toEqual([
      ['short-1', 'SUCCEEDED'],
      ['long-1', 'RUNNING'],
    ]);
    expect(all[0]?.stopDate).toBeInstanceOf(Date);
    expect(newest.map((r) => r.name)).toEqual(['short-1']);
  });

  it('answers no gate for a run that waits on none, has ended, or never was', async () => {
    // Act
    const answers = [
      await sfn.runs.answerGate(workflow, 'long-1', { resume: true }),
      await sfn.runs.answerGate(workflow, 'short-1', { promote: true }),
      await sfn.runs.answerGate(workflow, 'never-started', { abort: 'contract' }),
    ];

    // Assess
    expect(answers).toEqual([false, false, false]);
  });

  it('stops a running run with the cause, and stopping one that has ended or never was is no error', async () => {
    // Act
    await sfn.runs.stop(workflow, 'long-1', 'stopped by the port contract');
    const stopped = await sfn.eventually(
      () => sfn.runs.describe(workflow, 'long-1'),
      (view) => view?.status === 'ABORTED',
    );
    const again = sfn.runs.stop(workflow, 'long-1', 'stopped twice');
    const ended = sfn.runs.stop(workflow, 'short-1', 'stopped after it ended');
    const never = sfn.runs.stop(workflow, 'never-started', 'nothing to stop');

    // Assess
    expect(stopped).toMatchObject({
      name: 'long-1',
      status: 'ABORTED',
      stopDate: expect.any(Date),
      error: 'Aborted',
      cause: 'stopped by the port contract',
    });
    await expect(Promise.all([again, ended, never])).resolves.toEqual([undefined, undefined, undefined]);
    expect(await sfn.runs.status(workflow, 'long-1')).toBe('ended');
    expect(longRunId).toMatch(/:long-1$/);
  });
}
