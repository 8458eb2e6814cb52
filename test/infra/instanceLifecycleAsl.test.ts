// The instance lifecycle workflow's real ASL on aws-local-stepfunctions, in the twin's virtual time:
// the control flow the Lambda step relies on. The step itself is a local function here, scripted per
// test, because this suite is about the state machine (loop, waits, retries, fail-safe), not the step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '#local/scenario/runner';
import { TwinStepFunctions } from '#local/stepfunctions/runner';
import { VirtualScheduler } from '#local/twin/scheduler';

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:ecs-reflex-dev-instanceLifecycleStep';
/** serverless-step-functions fills this placeholder with the step function's ARN at package time. */
const PLACEHOLDER = ['$', '{InstanceLifecycleStepFunctionArn}'].join('');
const definition = () =>
  JSON.parse(
    readFileSync(join(repoRoot, 'infra/stateMachines/instanceLifecycle.asl.json'), 'utf8').replaceAll(
      PLACEHOLDER,
      FUNCTION_ARN,
    ),
  );

type Payload = { action: string; hook: unknown; progress?: { looks: number }; error?: { Error: string } };

function workflow(step: (payload: Payload, at: number) => unknown) {
  const scheduler = new VirtualScheduler(new Date('2026-11-02T10:00:00Z'));
  const sfn = new TwinStepFunctions(scheduler);
  const calls: { action: string; at: number }[] = [];
  sfn.createStateMachine('instance-lifecycle', definition(), {
    [FUNCTION_ARN]: async (payload: unknown) => {
      const p = payload as Payload;
      const at = scheduler.elapsedSeconds();
      calls.push({ action: p.action, at });
      return step(p, at);
    },
  });
  return { scheduler, sfn, calls };
}

const input = { hook: { instanceId: 'i-0abc', transition: 'terminate' }, progress: { looks: 0 } };

describe('instance lifecycle state machine', () => {
  it('looks, waits what the step asks, and looks again until the step says done', async () => {
    // Prepare: three waits of 15 s, then done
    const { scheduler, sfn, calls } = workflow((p) => {
      const looks = (p.progress?.looks ?? 0) + 1;
      return { hook: p.hook, progress: { looks }, done: looks === 4, waitSeconds: 15 };
    });

    // Act
    const { executionArn } = sfn.startExecution('instance-lifecycle', { name: 'terminate-i-0abc', input });
    await scheduler.runUntil(new Date('2026-11-02T11:00:00Z'));

    // Assess
    expect(sfn.describeExecution(executionArn).status).toBe('SUCCEEDED');
    expect(calls).toEqual([
      { action: 'look', at: 0 },
      { action: 'look', at: 15 },
      { action: 'look', at: 30 },
      { action: 'look', at: 45 },
    ]);
  });

  it('retries a throttled step, then goes on', async () => {
    // Prepare
    let attempts = 0;
    const { scheduler, sfn, calls } = workflow((p) => {
      attempts += 1;
      if (attempts <= 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { hook: p.hook, progress: { looks: 1 }, done: true, waitSeconds: 0 };
    });

    // Act
    const { executionArn } = sfn.startExecution('instance-lifecycle', { name: 't', input });
    await scheduler.runUntil(new Date('2026-11-02T11:00:00Z'));

    // Assess: 5 s, then 10 s between attempts
    expect(sfn.describeExecution(executionArn).status).toBe('SUCCEEDED');
    expect(calls.map((c) => c.at)).toEqual([0, 5, 15]);
  });

  it('ends every failure in FailSafe, which completes the lifecycle action, then fails the execution', async () => {
    // Prepare
    const { scheduler, sfn, calls } = workflow((p) => {
      if (p.action === 'look') throw Object.assign(new Error('instance vanished'), { name: 'StepFailed' });
      return { completed: 'ABANDON' };
    });

    // Act
    const { executionArn } = sfn.startExecution('instance-lifecycle', { name: 'f', input });
    await scheduler.runUntil(new Date('2026-11-02T11:00:00Z'));

    // Assess
    const execution = sfn.describeExecution(executionArn);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('LifecycleWorkflowFailed');
    expect(calls.map((c) => c.action)).toEqual(['look', 'fail-safe']);
  });

  it('refuses a second execution for the same instance and hook while one runs', async () => {
    // Prepare
    const { sfn } = workflow((p) => ({ hook: p.hook, progress: { looks: 1 }, done: false, waitSeconds: 60 }));
    sfn.startExecution('instance-lifecycle', { name: 'terminate-i-0abc-hook', input });

    // Act
    const again = () =>
      sfn.startExecution('instance-lifecycle', {
        name: 'terminate-i-0abc-hook',
        input: { ...input, progress: { looks: 9 } },
      });

    // Assess
    expect(again).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
  });
});
