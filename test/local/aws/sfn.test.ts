// Step Functions as the twin answers it (local/twin/aws/sfn.ts), through a real SDK client: the execution
// history shows AWS's event types only, however the runner beneath it records retries and failures.
import {
  GetExecutionHistoryCommand,
  HistoryEventType,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { TwinStepFunctions } from '#local/stepfunctions/runner';
import { TwinSendLayer } from '#local/twin/aws/client';
import { Faults } from '#local/twin/aws/faults';
import { sfnModel } from '#local/twin/aws/sfn';
import { VirtualScheduler } from '#local/twin/scheduler';
import type { ApiCall } from '#local/twin/world';

const START = new Date('2026-11-02T09:00:00Z');
const FLAKY = 'arn:aws:lambda:eu-west-1:111122223333:function:flaky';

class Throttled extends Error {
  override readonly name = 'Throttled' as const;
}

describe('the twin’s Step Functions', () => {
  it('shows a retried, caught task with AWS history event types only, numbered without gaps', async () => {
    // Prepare: a task throttled once (retried), then failing for good (caught)
    const scheduler = new VirtualScheduler(START);
    const stepFunctions = new TwinStepFunctions(scheduler);
    let attempts = 0;
    const { stateMachineArn } = stepFunctions.createStateMachine(
      'flaky',
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: FLAKY,
            Retry: [{ ErrorEquals: ['Throttled'], IntervalSeconds: 1, MaxAttempts: 1 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'GaveUp' }],
            End: true,
          },
          GaveUp: { Type: 'Pass', End: true },
        },
      },
      {
        flaky: () => {
          attempts += 1;
          throw attempts === 1 ? new Throttled('slow down') : new Error('broken');
        },
      },
    );
    const calls: ApiCall[] = [];
    const layer = new TwinSendLayer({ clock: scheduler, calls, faults: new Faults(1) });
    const client = layer.client(SFNClient, sfnModel(stepFunctions, 'eu-west-1'));
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'run-1' }));
    await scheduler.runUntil(new Date(START.getTime() + 60_000));

    // Act
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    // Assess
    const awsTypes = new Set<string>(Object.values(HistoryEventType));
    expect(attempts).toBe(2);
    expect(events.filter((e) => !awsTypes.has(e.type!)).map((e) => e.type)).toEqual([]);
    expect(events.filter((e) => e.type === 'TaskScheduled')).toHaveLength(2);
    expect(events.map((e) => [e.id, e.previousEventId])).toEqual(events.map((_, i) => [i + 1, i]));
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
  });

  it('shows the execution’s input on its first event and its output on its last, unless asked to leave data out', async () => {
    // Prepare: a Pass state that answers with a field of its own
    const scheduler = new VirtualScheduler(START);
    const stepFunctions = new TwinStepFunctions(scheduler);
    const { stateMachineArn } = stepFunctions.createStateMachine(
      'echo',
      { StartAt: 'Echo', States: { Echo: { Type: 'Pass', Result: { done: true }, End: true } } },
      {},
    );
    const layer = new TwinSendLayer({ clock: scheduler, calls: [], faults: new Faults(1) });
    const client = layer.client(SFNClient, sfnModel(stepFunctions, 'eu-west-1'));
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: '{"service":"web"}' }),
    );
    await scheduler.runUntil(new Date(START.getTime() + 60_000));

    // Act
    const full = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    const bare = await client.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );

    // Assess
    expect(full.events?.at(0)?.executionStartedEventDetails).toEqual({
      input: '{"service":"web"}',
      inputDetails: { truncated: false },
    });
    expect(full.events?.at(-1)?.executionSucceededEventDetails).toEqual({
      output: '{"done":true}',
      outputDetails: { truncated: false },
    });
    expect(bare.events?.at(0)?.executionStartedEventDetails).toEqual({ inputDetails: { truncated: false } });
    expect(bare.events?.at(-1)?.executionSucceededEventDetails).toEqual({
      outputDetails: { truncated: false },
    });
  });
});
