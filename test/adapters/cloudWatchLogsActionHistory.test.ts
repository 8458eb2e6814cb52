import {
  CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  actionOf,
  CloudWatchLogsActionHistory,
  journalFilterPattern,
  NEWEST_FIRST_SINCE,
} from '#adapters/aws/cloudWatchLogsActionHistory';
import type { JournalEntry } from '#ports';
import { journalLines } from '../support/journalLines';

const logs = mockClient(CloudWatchLogsClient);

beforeEach(() => logs.reset());

const NOW = new Date('2026-11-02T09:00:00.000Z');
const GROUPS = ['/aws/lambda/ecs-reflex-prod-rolloutStep', '/aws/lambda/ecs-reflex-prod-taskRecycler'];
const newHistory = (groups: readonly string[] = GROUPS) =>
  new CloudWatchLogsActionHistory(
    logs as unknown as CloudWatchLogsClient,
    groups.map((logGroupName) => ({ logGroupName })),
    { now: () => NOW },
  );

const entry = (changes: Partial<JournalEntry> = {}): JournalEntry => ({
  reflex: 'rollout',
  action: 'shift',
  target: 'web appmesh:prod/web/web-route',
  reason: 'step 2 of 5',
  dryRun: false,
  outcome: 'done',
  ...changes,
});

/** The line powertoolsJournal writes for an entry (layers/runtime/journal.ts), as CloudWatch stores it. */
const logged = (e: JournalEntry, at: string, eventId = at): FilteredLogEvent => ({
  eventId,
  logStreamName: '2026/11/02/[$LATEST]0123456789abcdef',
  timestamp: Date.parse(at),
  ingestionTime: Date.parse(at) + 500,
  message: `${JSON.stringify({
    level: e.outcome === 'failed' ? 'WARN' : 'INFO',
    message: `${e.reflex} ${e.action} ${e.outcome}`,
    timestamp: at,
    service: 'ecs-reflex',
    sampling_rate: 0,
    xray_trace_id: '1-6725ea40-0123456789abcdef01234567',
    ...e,
  })}\n`,
});

describe('reading the journal back', () => {
  it('parses the very line powertoolsJournal writes for an entry, and skips the EMF line of its metric', () => {
    // Prepare
    const written = entry({ outcome: 'failed', detail: { weights: { stable: 80, canary: 20 } } });
    const lines = journalLines(written);

    // Act
    const parsed = lines.map((message) => actionOf({ message, timestamp: NOW.getTime() })).filter(Boolean);

    // Assess
    expect(lines).toHaveLength(2);
    expect(parsed).toEqual([{ ...written, at: NOW }]);
  });

  it('skips lines that are not journal entries', () => {
    // Prepare
    const at = NOW.getTime();
    const events: FilteredLogEvent[] = [
      { message: 'START RequestId: 8f5e Version: $LATEST', timestamp: at },
      { message: '{"level":"INFO","message":"rollout step","reflex":"rollout"}', timestamp: at },
      { message: JSON.stringify({ ...entry(), outcome: 'maybe' }), timestamp: at },
      { message: JSON.stringify({ ...entry(), dryRun: 'no' }), timestamp: at },
      { message: '"just a string"', timestamp: at },
      { message: JSON.stringify(entry()) },
    ];

    // Act
    const parsed = events.map(actionOf);

    // Assess
    expect(parsed).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('selects journal lines with a JSON pattern, the reflex and the target exactly when asked', () => {
    // Act
    const any = journalFilterPattern({});
    const narrow = journalFilterPattern({ reflex: 'rollout', target: 'web "blue"' });

    // Assess
    expect(any).toBe(
      '{ $.reflex = "*" && $.action = "*" && ($.outcome = "done" || $.outcome = "dry-run" || $.outcome = "held" || $.outcome = "failed") }',
    );
    expect(narrow).toBe(
      '{ $.reflex = "rollout" && $.action = "*" && ($.outcome = "done" || $.outcome = "dry-run" || $.outcome = "held" || $.outcome = "failed") && $.target = "web \\"blue\\"" }',
    );
  });

  it("selects one service's lines of given actions: a target prefix with CloudWatch's wildcard", () => {
    const pattern = journalFilterPattern({
      reflex: 'ops-api',
      targetPrefix: 'prod/web ',
      actions: ['resumeDeploymentGate', 'abortDeploymentGate'],
    });

    expect(pattern).toBe(
      '{ $.reflex = "ops-api" && ($.action = "resumeDeploymentGate" || $.action = "abortDeploymentGate") && ($.outcome = "done" || $.outcome = "dry-run" || $.outcome = "held" || $.outcome = "failed") && $.target = "prod/web *" }',
    );
  });
});

describe('recent actions', () => {
  it('queries every log group, newest first, from the last 24 hours by default', async () => {
    // Prepare
    logs
      .on(FilterLogEventsCommand, { logGroupName: GROUPS[0] })
      .resolves({ events: [logged(entry({ action: 'promote' }), '2026-11-02T08:50:00.000Z')] })
      .on(FilterLogEventsCommand, { logGroupName: GROUPS[1] })
      .resolves({
        events: [
          logged(entry({ reflex: 'task-recycler', action: 'stop-task' }), '2026-11-02T08:55:00.000Z'),
          logged(entry({ reflex: 'task-recycler', action: 'restart' }), '2026-11-02T08:40:00.000Z'),
        ],
      });

    // Act
    const recent = await newHistory().recent({ limit: 10 });

    // Assess
    expect(recent.map((a) => [a.reflex, a.action, a.at.toISOString()])).toEqual([
      ['task-recycler', 'stop-task', '2026-11-02T08:55:00.000Z'],
      ['rollout', 'promote', '2026-11-02T08:50:00.000Z'],
      ['task-recycler', 'restart', '2026-11-02T08:40:00.000Z'],
    ]);
    expect(logs).toHaveReceivedCommandTimes(FilterLogEventsCommand, 2);
    for (const [i, group] of GROUPS.entries()) {
      expect(logs.commandCalls(FilterLogEventsCommand)[i]!.args[0].input).toEqual({
        logGroupName: group,
        filterPattern: journalFilterPattern({}),
        startTime: NOW.getTime() - 24 * 60 * 60 * 1000,
        startFromHead: false,
        limit: 10,
      });
    }
  });

  it("reads one reflex's actions from the groups of the functions that journal it, and groups it knows nothing of, never a group of a function that journals nothing", async () => {
    // Prepare: rolloutStep journals the rollout, taskRecycler the task recycler, the router nothing, opsRead
    // is not described
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    const history = new CloudWatchLogsActionHistory(
      logs as unknown as CloudWatchLogsClient,
      [
        { logGroupName: GROUPS[0]!, reflexes: ['rollout'] },
        { logGroupName: GROUPS[1]!, reflexes: ['task-recycler'] },
        { logGroupName: '/aws/lambda/ecs-reflex-prod-taskRecyclerRouter', reflexes: [] },
        { logGroupName: '/aws/lambda/ecs-reflex-prod-opsRead' },
      ],
      { now: () => NOW },
    );
    const groupsRead = () =>
      logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.logGroupName);

    // Act
    await history.recent({ reflex: 'rollout', limit: 10 });
    const forRollout = groupsRead();
    logs.resetHistory();
    await history.recent({ limit: 10 });
    const forAny = groupsRead();
    logs.resetHistory();
    await history.recent({ reflex: 'deployment-hook', limit: 10 });
    const forNoneJournaling = groupsRead();

    // Assess
    expect(forRollout).toEqual([GROUPS[0], '/aws/lambda/ecs-reflex-prod-opsRead']);
    expect(forAny).toEqual([...GROUPS, '/aws/lambda/ecs-reflex-prod-opsRead']);
    expect(forNoneJournaling).toEqual(['/aws/lambda/ecs-reflex-prod-opsRead']);
  });

  it('pages with nextToken until it has the limit, and caps the merged list at the limit', async () => {
    // Prepare
    logs
      .on(FilterLogEventsCommand, { logGroupName: GROUPS[0] })
      .resolvesOnce({
        events: [logged(entry({ action: 'a1' }), '2026-11-02T08:59:00.000Z')],
        nextToken: 'p2',
      })
      .resolvesOnce({ events: [], nextToken: 'p3' })
      .resolvesOnce({
        events: [logged(entry({ action: 'a2' }), '2026-11-02T08:30:00.000Z')],
        nextToken: 'p4',
      })
      .resolvesOnce({ events: [logged(entry({ action: 'never read' }), '2026-11-02T08:00:00.000Z')] });
    logs.on(FilterLogEventsCommand, { logGroupName: GROUPS[1] }).resolves({
      events: [
        logged(entry({ action: 'b1' }), '2026-11-02T08:45:00.000Z'),
        logged(entry({ action: 'b2' }), '2026-11-02T08:44:00.000Z'),
      ],
    });

    // Act
    const recent = await newHistory().recent({ limit: 2 });

    // Assess
    expect(recent.map((a) => a.action)).toEqual(['a1', 'b1']);
    const calls = logs
      .commandCalls(FilterLogEventsCommand)
      .map((c) => c.args[0].input)
      .filter((input) => input.logGroupName === GROUPS[0]);
    expect(calls.map((input) => [input.nextToken, input.startFromHead, input.limit])).toEqual([
      [undefined, false, 2],
      ['p2', undefined, 1],
      ['p3', undefined, 1],
    ]);
  });

  it('narrows to a reflex and a target in the pattern and again after parsing', async () => {
    // Prepare
    const target = 'web appmesh:prod/web/*';
    logs.on(FilterLogEventsCommand).resolves({
      events: [
        // What a wildcard in the target lets CloudWatch return besides the exact one.
        logged(entry({ target: 'web appmesh:prod/web/web-route' }), '2026-11-02T08:58:00.000Z', 'e1'),
        logged(entry({ target, action: 'pause' }), '2026-11-02T08:57:00.000Z', 'e2'),
        logged(entry({ reflex: 'ops-api', target }), '2026-11-02T08:56:00.000Z', 'e3'),
      ],
    });

    // Act
    const recent = await newHistory(GROUPS.slice(0, 1)).recent({ reflex: 'rollout', target, limit: 5 });

    // Assess
    expect(recent).toEqual([
      { ...entry({ target, action: 'pause' }), at: new Date('2026-11-02T08:57:00.000Z') },
    ]);
    expect(logs.commandCalls(FilterLogEventsCommand)[0]!.args[0].input.filterPattern).toBe(
      journalFilterPattern({ reflex: 'rollout', target }),
    );
  });

  it('starts at `since`, but never before newest-first reading is allowed', async () => {
    // Prepare
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    const history = newHistory(GROUPS.slice(0, 1));

    // Act
    await history.recent({ since: new Date('2026-10-30T00:00:00.000Z'), limit: 5 });
    await history.recent({ since: new Date(0), limit: 5 });

    // Assess
    expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.startTime)).toEqual([
      Date.parse('2026-10-30T00:00:00.000Z'),
      NEWEST_FIRST_SINCE,
    ]);
  });

  it('skips lines that do not parse and events a page repeats', async () => {
    // Prepare
    const first = logged(entry({ action: 'a1' }), '2026-11-02T08:59:00.000Z', 'e1');
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [first, { eventId: 'x', timestamp: NOW.getTime(), message: '{"reflex":"rollout"' }],
        nextToken: 'p2',
      })
      .resolvesOnce({ events: [first, logged(entry({ action: 'a2' }), '2026-11-02T08:58:00.000Z', 'e2')] });

    // Act
    const recent = await newHistory(GROUPS.slice(0, 1)).recent({ limit: 5 });

    // Assess
    expect(recent.map((a) => a.action)).toEqual(['a1', 'a2']);
  });

  it('takes a log group that does not exist (a function that never logged) as empty', async () => {
    // Prepare
    logs
      .on(FilterLogEventsCommand, { logGroupName: GROUPS[0] })
      .rejects(
        new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }),
      )
      .on(FilterLogEventsCommand, { logGroupName: GROUPS[1] })
      .resolves({ events: [logged(entry(), '2026-11-02T08:59:00.000Z')] });

    // Act
    const recent = await newHistory().recent({ limit: 5 });

    // Assess
    expect(recent).toHaveLength(1);
  });

  it('passes other failures on', async () => {
    // Prepare
    logs
      .on(FilterLogEventsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const reading = newHistory().recent({ limit: 5 });

    // Assess
    await expect(reading).rejects.toThrow('Rate exceeded');
  });

  it('asks nothing for a limit of zero or without log groups', async () => {
    // Act
    const none = await newHistory().recent({ limit: 0 });
    const noGroups = await newHistory([]).recent({ limit: 5 });

    // Assess
    expect([none, noGroups]).toEqual([[], []]);
    expect(logs).not.toHaveReceivedCommand(FilterLogEventsCommand);
  });
});
