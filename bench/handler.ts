// Warm per-event handler time: the real taskRecycler handler (middy, Powertools, batch processor, zod
// parsing, the ledger, the use case and the domain) created once, run on the twin's in-memory ports with
// single-record SQS batches. The ports answer at once, so this is the CPU the function spends per event;
// a real invocation adds one network round trip per AWS call listed next to each kind.
import { createTaskRecyclerHandler } from '#functions/taskRecycler';
import { lambdaContext } from '#local/twin/delivery';
import type { Twin } from '#local/twin/twin';
import { buildFixture, type TwinEvent } from './fixture';
import { sqsBatch } from './functions';
import { type Summary, summarize } from './stats';

export type EventKind = 'standalone-restart' | 'service-no-action' | 'duplicate' | 'malformed';

export interface KindResult {
  kind: EventKind;
  description: string;
  /** What one event of this kind did, checked once before timing. */
  effect: string;
  awsCalls: number;
  us: Summary;
  eventsPerSecond: number;
}

export interface HandlerResult {
  warmupInvocations: number;
  timedInvocations: number;
  kinds: KindResult[];
  overall: { us: Summary; eventsPerSecond: number };
}

interface Prepared {
  twin: Twin;
  body: string;
}

interface KindSpec {
  kind: EventKind;
  description: string;
  prepare(): Promise<Prepared>;
  /** Why the fixture no longer does what the kind says, or undefined when it does. */
  check(twin: Twin): string | undefined;
}

const FUNCTION_NAME = 'taskRecycler';

const sqsEvent = (body: string) => sqsBatch(body, 'task-recycler-buffer');

/** The shared twin's logs grow with every event; emptied outside the timed region, so work stays equal. */
function emptyLogs(twin: Twin): Twin {
  twin.world.apiCalls.length = 0;
  twin.recorders.parked.length = 0;
  twin.timeline.entries.length = 0;
  twin.journal.length = 0;
  return twin;
}

const writesOf = (twin: Twin) => twin.world.apiCalls.filter((c) => c.write).map((c) => c.api);
const journalOf = (twin: Twin) => twin.journal.map((j) => `${j.action}:${j.outcome}`);

export async function measureHandler(options: {
  warmupRounds: number;
  rounds: number;
}): Promise<HandlerResult> {
  const shared = await buildFixture();
  let active = shared.twin;
  const handler = createTaskRecyclerHandler(() => ({
    ports: active.ports,
    settings: active.settings,
  }));

  // Task events carry a version; the ledger drops any version it has handled. Every timed delivery of a
  // kind that should get through carries a newer one, as ECS's next change of that task would.
  let version = 1_000;
  const withVersion = (event: TwinEvent) =>
    JSON.stringify({ ...event, detail: { ...event.detail, version: ++version } });
  const duplicate = JSON.stringify(shared.duplicateOf);
  const malformed = JSON.stringify({
    ...shared.serviceStop,
    detail: { ...shared.serviceStop.detail, containers: 'none' },
  });

  const kinds: KindSpec[] = [
    {
      kind: 'standalone-restart',
      description: 'standalone task crashed: restart it, recheck another in backoff',
      // RunTask changes the world (and the next look would see the restart): a fresh twin every time.
      prepare: async () => {
        const fresh = await buildFixture();
        return { twin: fresh.twin, body: withVersion(fresh.standaloneStop) };
      },
      check: (twin) => {
        const actions = journalOf(twin).join(',');
        // The recheck is a delayed message on the recycler's own queue, as in Lambda.
        return actions === 'restart-task:done,recheck:done' &&
          writesOf(twin).join(',') === 'RunTask,SendMessage'
          ? undefined
          : `expected a restart and a recheck, got [${actions}] writes [${writesOf(twin)}]`;
      },
    },
    {
      kind: 'service-no-action',
      description: 'service task crashed: ECS replaces it, no crash loop, no action',
      prepare: async () => ({ twin: emptyLogs(shared.twin), body: withVersion(shared.serviceStop) }),
      check: (twin) =>
        twin.journal.length === 0 && writesOf(twin).length === 0 && twin.world.apiCalls.length > 0
          ? undefined
          : `expected a look and no action, got [${journalOf(twin)}] writes [${writesOf(twin)}]`,
    },
    {
      kind: 'duplicate',
      description: 'redelivered task event: the ledger drops it before any AWS call',
      prepare: async () => ({ twin: emptyLogs(shared.twin), body: duplicate }),
      check: (twin) =>
        twin.world.apiCalls.length === 0
          ? undefined
          : `expected no AWS call, got ${twin.world.apiCalls.map((c) => c.api)}`,
    },
    {
      kind: 'malformed',
      description:
        "task event failing its schema (detail.containers): parked on the function's dead-letter queue",
      prepare: async () => ({ twin: emptyLogs(shared.twin), body: malformed }),
      // Parking is one SendMessage to the dead-letter queue, as in Lambda; nothing else is called.
      check: (twin) =>
        twin.recorders.parked.length === 1 &&
        twin.world.apiCalls.map((c) => c.api).join(',') === 'SendMessage' &&
        twin.world.apiCalls[0]!.target.endsWith('-dlq')
          ? undefined
          : `expected one parked input and its SendMessage only, got ${twin.recorders.parked.length} parked, calls [${twin.world.apiCalls.map((c) => c.api)}]`,
    },
  ];

  const invoke = async (prepared: Prepared): Promise<number> => {
    active = prepared.twin;
    const event = sqsEvent(prepared.body);
    const context = lambdaContext(FUNCTION_NAME);
    const started = process.hrtime.bigint();
    const response = await handler(event, context);
    const elapsed = process.hrtime.bigint() - started;
    if (response.batchItemFailures.length > 0) throw new Error('bench fixture: a record failed');
    return Number(elapsed) / 1_000;
  };

  // The duplicate's first delivery, handled in full: from now on the ledger knows its version.
  await invoke({ twin: emptyLogs(shared.twin), body: duplicate });

  const effects = new Map<EventKind, { effect: string; awsCalls: number }>();
  for (const spec of kinds) {
    const prepared = await spec.prepare();
    await invoke(prepared);
    const problem = spec.check(prepared.twin);
    if (problem) throw new Error(`bench fixture for ${spec.kind} drifted: ${problem}`);
    const calls = prepared.twin.world.apiCalls.map((c) => c.api);
    const parked = prepared.twin.recorders.parked.length > 0 ? ['parked'] : [];
    const effect = [...new Set([...calls, ...parked])].join(', ') || 'nothing';
    effects.set(spec.kind, { effect, awsCalls: calls.length });
  }

  for (let round = 0; round < options.warmupRounds; round++) {
    for (const spec of kinds) await invoke(await spec.prepare());
  }
  const samples = new Map<EventKind, number[]>(kinds.map((k) => [k.kind, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const spec of kinds) samples.get(spec.kind)!.push(await invoke(await spec.prepare()));
  }

  const perSecond = (us: number[]) => (us.length * 1e6) / us.reduce((a, b) => a + b, 0);
  const all = [...samples.values()].flat();
  return {
    warmupInvocations: options.warmupRounds * kinds.length,
    timedInvocations: all.length,
    kinds: kinds.map((spec) => ({
      kind: spec.kind,
      description: spec.description,
      effect: effects.get(spec.kind)!.effect,
      awsCalls: effects.get(spec.kind)!.awsCalls,
      us: summarize(samples.get(spec.kind)!),
      eventsPerSecond: perSecond(samples.get(spec.kind)!),
    })),
    overall: { us: summarize(all), eventsPerSecond: perSecond(all) },
  };
}
