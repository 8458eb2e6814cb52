// CloudWatch Logs as the twin answers it (local/twin/aws/cloudWatchLogs.ts), through a real SDK client:
// the action history reads the journal lines back from the functions' log groups as it does on AWS.
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogsActionHistory } from '#adapters/aws/cloudWatchLogsActionHistory';
import { TwinSendLayer } from '#local/twin/aws/client';
import { cloudWatchLogsModel, TwinLogs } from '#local/twin/aws/cloudWatchLogs';
import { Faults } from '#local/twin/aws/faults';
import type { JournalEntry } from '#ports';

const START = new Date('2026-11-02T09:00:00.000Z');
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);
const GROUPS = ['/aws/lambda/rolloutStep', '/aws/lambda/taskRecycler', '/aws/lambda/opsWrite'];
/** Groups read for every reflex: what each function journals is the wiring's business, not the model's. */
const anyReflex = (groups: string[]) => groups.map((logGroupName) => ({ logGroupName }));

function someLogs() {
  let now = START;
  const clock = { now: () => now };
  const logs = new TwinLogs(clock);
  for (const group of GROUPS) logs.createLogGroup(group);
  const layer = new TwinSendLayer({ clock, calls: [], faults: new Faults(1) });
  const client = layer.client(CloudWatchLogsClient, cloudWatchLogsModel(logs));
  const write = (group: string, entry: Partial<JournalEntry>, when: Date) => {
    now = when;
    const line = {
      reflex: 'rollout',
      action: 'shift',
      target: 'web',
      reason: 'step',
      dryRun: false,
      outcome: 'done',
      ...entry,
    };
    logs.put(
      group,
      'twin',
      JSON.stringify({ level: 'INFO', message: `${line.reflex} ${line.action}`, ...line }),
    );
  };
  return { logs, client, write, setNow: (when: Date) => (now = when), clock };
}

describe('CloudWatchLogsActionHistory over the twin’s CloudWatch Logs', () => {
  const aHistory = () => {
    const { client, write, setNow, clock } = someLogs();
    write(GROUPS[0]!, { action: 'start' }, at(0));
    write(GROUPS[1]!, { reflex: 'task-recycler', action: 'stop-task', target: 'task-1' }, at(1));
    write(GROUPS[0]!, { action: 'shift-10' }, at(2));
    write(GROUPS[0]!, { action: 'shift-20' }, at(2));
    // Another line the function logs, not a journal entry.
    write(GROUPS[0]!, { action: undefined, outcome: undefined, reflex: undefined }, at(2));
    write(GROUPS[2]!, { reflex: 'ops-api', action: 'abortRollout' }, at(3));
    setNow(at(10));
    return { history: new CloudWatchLogsActionHistory(client, anyReflex(GROUPS), clock), write, setNow };
  };

  it('answers the most recent first, the later of one instant first, at most the limit', async () => {
    // Prepare
    const { history } = aHistory();

    // Act
    const recent = await history.recent({ limit: 4 });

    // Assess
    expect(recent.map((e) => e.action)).toEqual(['abortRollout', 'shift-20', 'shift-10', 'stop-task']);
  });

  it('filters by reflex, target and since, exactly', async () => {
    // Prepare
    const { history } = aHistory();

    // Act
    const rollout = await history.recent({ reflex: 'rollout', limit: 10 });
    const web = await history.recent({ target: 'web', since: at(2), limit: 10 });
    const none = await history.recent({ target: 'we', limit: 10 });

    // Assess
    expect(rollout.map((e) => e.action)).toEqual(['shift-20', 'shift-10', 'start']);
    expect(web.map((e) => e.action)).toEqual(['abortRollout', 'shift-20', 'shift-10']);
    expect(none).toEqual([]);
  });

  it('reads the last 24 hours unless asked for more', async () => {
    // Prepare
    const { client, write, setNow, clock } = someLogs();
    write(GROUPS[0]!, { action: 'two days ago' }, at(-48 * 60));
    write(GROUPS[0]!, { action: 'today' }, at(0));
    setNow(at(60));
    const history = new CloudWatchLogsActionHistory(client, anyReflex(GROUPS), clock);

    // Act
    const recent = await history.recent({ limit: 10 });
    const all = await history.recent({ since: at(-72 * 60), limit: 10 });

    // Assess
    expect(recent.map((e) => e.action)).toEqual(['today']);
    expect(all.map((e) => e.action)).toEqual(['today', 'two days ago']);
  });
});

describe('the twin’s FilterLogEvents', () => {
  it('pages newest first with nextToken, in the direction of the first page', async () => {
    // Prepare
    const { client, write } = someLogs();
    for (let i = 0; i < 5; i++) write(GROUPS[0]!, { action: `a${i}` }, at(i));
    const ask = (nextToken?: string) =>
      client.send(
        new FilterLogEventsCommand({
          logGroupName: GROUPS[0],
          startTime: START.getTime(),
          limit: 2,
          ...(nextToken ? { nextToken } : { startFromHead: false }),
        }),
      );

    // Act
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await ask(token);
      pages.push((page.events ?? []).map((e) => JSON.parse(e.message!).action));
      token = page.nextToken;
    } while (token);

    // Assess
    expect(pages).toEqual([['a4', 'a3'], ['a2', 'a1'], ['a0']]);
  });

  it.each([
    ['an unknown log group', { logGroupName: '/aws/lambda/nope' }, 'ResourceNotFoundException'],
    [
      'a pattern that is not JSON',
      { logGroupName: GROUPS[0], filterPattern: 'ERROR' },
      'InvalidParameterException',
    ],
    [
      'newest first before 2024',
      { logGroupName: GROUPS[0], startFromHead: false, startTime: 0 },
      'InvalidParameterException',
    ],
    [
      'a token of another query',
      { logGroupName: GROUPS[0], nextToken: 'bm9wZQ' },
      'InvalidParameterException',
    ],
  ])('refuses %s', async (_what, input, name) => {
    // Prepare
    const { client } = someLogs();

    // Act
    const refused = await client.send(new FilterLogEventsCommand(input)).catch((error: Error) => error);

    // Assess
    expect(refused).toMatchObject({ name });
  });
});
