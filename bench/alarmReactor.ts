// The alarm reactor on the twin: how long from an alarm entering ALARM to the capacity change (the
// write, and the new instances in service), and how many AWS calls one reaction costs against the
// fewest the design needs. Virtual time, so the figures are exact, not noisy.
import { join } from 'node:path';
import { loadScenario, repoRoot, runScenario } from '#local/scenario/runner';
import { budgetOf, minimumCalls } from './callBudgets';

export interface AlarmReactorBench {
  scenario: string;
  alarmToWriteSeconds: number;
  alarmToInServiceSeconds: number;
  applyCalls: { api: string; write: boolean }[];
  restoreCalls: { api: string; write: boolean }[];
  /** Apply: read the alarm, read the knob with its memory, remember (pending), write, mark done. */
  minimumApplyCalls: number;
  /** Restore: read the alarm, read the knob with its memory, write, forget. */
  minimumRestoreCalls: number;
}

export async function measureAlarmReactor(): Promise<AlarmReactorBench> {
  const path = join(repoRoot, 'local', 'scenarios', 'alarm-surge-restore.json');
  const result = await runScenario(loadScenario(path));
  const alarmAt = result.timeline.find((e) => e.kind === 'world' && /-> ALARM$/.test(e.text))?.t;
  const inServiceAt = result.timeline.filter((e) => e.kind === 'world' && /joined/.test(e.text)).at(-1)?.t;
  const calls = result.apiCalls.map((c) => ({
    at: c.at.getTime(),
    api: c.api,
    write: c.write,
    failed: c.failed,
  }));
  const appliedAt = result.timeline.find((e) => e.kind === 'action' && e.text.startsWith('apply '))?.t;
  // One reaction is the calls of the invocation that made the write: same virtual instant.
  const writes = calls.filter((c) => c.api === 'SetDesiredCapacity' && !c.failed);
  const callsAt = (at: number | undefined) =>
    calls
      .filter(
        (c) =>
          c.at === at && !['ListTasks', 'DescribeTasks', 'DescribeServices', 'SendMessage'].includes(c.api),
      )
      .map(({ api, write }) => ({ api, write }));
  const firstWrite = writes[0]?.at;
  return {
    scenario: 'local/scenarios/alarm-surge-restore.json',
    alarmToWriteSeconds: appliedAt !== undefined && alarmAt !== undefined ? appliedAt - alarmAt : Number.NaN,
    alarmToInServiceSeconds:
      inServiceAt !== undefined && alarmAt !== undefined ? inServiceAt - alarmAt : Number.NaN,
    applyCalls: callsAt(firstWrite),
    restoreCalls: callsAt(writes[1]?.at),
    minimumApplyCalls: minimumCalls(budgetOf('apply (group capacity)')),
    minimumRestoreCalls: minimumCalls(budgetOf('restore (group capacity)')),
  };
}
