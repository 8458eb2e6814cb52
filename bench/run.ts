// npm run bench: every function's zip, cold start, first and warm invocations; the task recycler's warm
// per-event cost on the twin, the demo scenario's speed, the other reflexes' figures, the crash storm and
// the fleet's event-to-action latency, one batch at a time against by task group. It
// measures and prints; the one figure it asserts is the AWS calls per action (section 9): it exits non-zero
// when an action makes more than its row in bench/callBudgets.ts allows.
// Read bench/README.md for what each figure means. Results: a table here, bench/results/latest.json.
import './env';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET } from '#local/scenario/fleet';
import { repoRoot } from '#local/scenario/runner';
import { taskRecyclerWiring } from '#local/twin/wiring';
import { measureActionCalls } from './actionCalls';
import { measureAlarmReactor } from './alarmReactor';
import { functionBundles } from './bundle';
import { CALL_BUDGETS, describeExcess, documentedTable, renderBudgetTable } from './callBudgets';
import { AWS_LATENCY, EVENT_TO_ACTION_GOAL_SECONDS, measureFleet } from './fleet';
import { BENCH_EVENTS, functionArn, lambdaEnvironment } from './functions';
import { measureHandler } from './handler';
import { measureCold, type Spread } from './init';
import { measureInstanceLifecycle } from './instanceLifecycle';
import { type LoadReading, readLoad, unreliable } from './load';
import { measureNativeRollbacks } from './nativeRollbacks';
import { measureRollouts } from './rollout';
import { measureScenario } from './scenario';
import { rounded } from './stats';
import { measureStorm, STORM_SCENARIO } from './storm';
import { measureTwinClient } from './twinClient';

/** Fresh processes per function (and bare ones) in section 2. */
const COLD_ROUNDS = 15;
/** Invocations after the first in each of those processes: not timed, then timed. */
const COLD_WARMUP_RUNS = 20;
const COLD_WARM_RUNS = 100;
/** The goals of issue 14, printed next to the figures. */
const ZIP_GOAL_BYTES = 150_000;
const INIT_RATIO_GOAL = 1.3;
const FIRST_EXTRA_GOAL_MS = 5;
const HANDLER_WARMUP_ROUNDS = 100; // x 4 event kinds
const HANDLER_ROUNDS = 1_000; // x 4 event kinds
const SCENARIO_RUNS = 5;

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Text columns (the first, and any listed) align left; figures align right. */
function table(header: string[], rows: string[][], textColumns: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const left = new Set([0, ...textColumns]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
    .map((l) => `  ${l}`)
    .join('\n');
}

const print = (text = '') => process.stdout.write(`${text}\n`);

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = cpus();
  const machine = {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg()[0]!,
  };
  const loads: LoadReading[] = [readLoad()];
  print(`ecs-reflex bench: every function   ${machine.date}`);
  print(
    `node ${machine.node} (Lambda runs nodejs22.x)   ${machine.cpuModel}   ${machine.cores} cores   ` +
      `${machine.platform}   load average ${fixed(machine.loadAverageAtStart, 2)}, ` +
      `a busy loop got ${fixed(loads[0]!.cpuShare * 100, 0)} % of a core`,
  );
  print('Medians of runs taken in this process; ratios compare figures measured side by side in this run.');

  const scratch = mkdtempSync(join(tmpdir(), 'ecs-reflex-bench-'));
  try {
    // 1. The packages.
    const bundles = await functionBundles(repoRoot, scratch);
    print('\n1. Bundles: the zip Lambda receives for each function (serverless.yml, stage dev)');
    print(
      `   from ${bundles.source}${bundles.buildSeconds ? `, built in ${fixed(bundles.buildSeconds)} s` : ''}`,
    );
    print(
      table(
        ['function', 'handler', 'zip bytes', 'zip', 'bundle .js bytes', 'maps in zip', 'goal 150 KB'],
        bundles.functions.map((fn) => [
          fn.name,
          fn.handler,
          int(fn.zipBytes),
          kib(fn.zipBytes),
          int(fn.jsBytes),
          int(fn.mapBytes),
          fn.zipBytes <= ZIP_GOAL_BYTES ? 'met' : `over by ${kib(fn.zipBytes - ZIP_GOAL_BYTES)}`,
        ]),
        [1, 6],
      ),
    );
    print(
      `   source maps kept beside the zips (.serverless/sourcemaps/, not deployed): ${int(bundles.sourceMapBytes)} bytes`,
    );

    // 2. Cold start and warm invocations of every bundle.
    const cold = measureCold(
      { name: 'bare node', environment: {} },
      bundles.functions.map((fn) => {
        const bench = BENCH_EVENTS[fn.name];
        if (!bench) throw new Error(`bench: no event for ${fn.name} (bench/functions.ts BENCH_EVENTS)`);
        return {
          name: fn.name,
          module: fn.handlerPath,
          exportName: fn.exportName,
          event: bench.event,
          functionArn: functionArn(fn.name),
          environment: { ...fn.environment, ...lambdaEnvironment(fn.name), ...bench.environment },
        };
      }),
      { rounds: COLD_ROUNDS, warmupRuns: COLD_WARMUP_RUNS, warmRuns: COLD_WARM_RUNS },
    );
    print(
      `\n2. Cold start and warm invocations: ${COLD_ROUNDS} fresh node processes per function and ${COLD_ROUNDS} bare ones, ` +
        'interleaved;\n   the deployed environment (logs at INFO and EMF metrics to stdout, discarded)',
    );
    const range = (s: Spread, digits = 2) =>
      `${fixed(s.p50, digits)} (${fixed(s.min, digits)}..${fixed(s.max, digits)})`;
    print(
      table(
        [
          'function',
          'ready ms',
          'x bare (min..max)',
          'CPU ms',
          'x bare CPU',
          'first +ms (min..max)',
          'warm p50 us',
          'p99 us',
          'the event',
        ],
        [
          [
            `bare node (node -e)`,
            fixed(cold.bare.readyMs.p50),
            '1',
            fixed(cold.bare.readyCpuMs.p50),
            '1',
            '',
            '',
            '',
            'nothing required',
          ],
          ...cold.functions.map((r) => [
            r.name,
            fixed(r.readyMs.p50),
            range(r.readyRatio),
            fixed(r.readyCpuMs.p50),
            fixed(r.readyCpuRatio.p50, 2),
            range(r.firstExtraMs!, 1),
            fixed(r.warmUs!.p50),
            fixed(r.warmUs!.p99),
            `${BENCH_EVENTS[r.name]!.what}${r.threw ? ' (throws)' : ''}`,
          ]),
        ],
        [8],
      ),
    );
    print(
      `   ready = from the process's start to the handler exported (node's start-up and the bundle's require);\n` +
        `   x bare = ready / the bare process's of the same round (median, min..max over rounds); goal ${INIT_RATIO_GOAL}.\n` +
        `   first +ms = the first invocation less the same process's warm median; goal ${FIRST_EXTRA_GOAL_MS} ms.\n` +
        `   warm = invocations ${COLD_WARMUP_RUNS + 2}..${COLD_WARMUP_RUNS + COLD_WARM_RUNS + 1} of each process, all rounds together.`,
    );

    // 3. Warm handler on the twin.
    const handler = await measureHandler({ warmupRounds: HANDLER_WARMUP_ROUNDS, rounds: HANDLER_ROUNDS });
    print(
      `\n3. Warm handler on the twin: single-record SQS batches, ${int(handler.warmupInvocations)} warm-up, ` +
        `${int(handler.timedInvocations)} timed (kinds interleaved)`,
    );
    const byKind = handler.kinds.map((k) => [
      k.kind,
      fixed(k.us.p50),
      fixed(k.us.p99),
      fixed(k.us.mean),
      int(k.eventsPerSecond),
      String(k.awsCalls),
      k.effect,
    ]);
    const { us, eventsPerSecond } = handler.overall;
    print(
      table(
        ['event', 'p50 us', 'p99 us', 'mean us', 'events/s', 'AWS calls', 'what it did'],
        [
          ...byKind,
          ['all kinds', fixed(us.p50), fixed(us.p99), fixed(us.mean), int(eventsPerSecond), '', ''],
        ],
        [6],
      ),
    );
    for (const k of handler.kinds) print(`   ${k.kind}: ${k.description}`);
    const restart = handler.kinds.find((k) => k.kind === 'standalone-restart')!;
    const dropped = handler.kinds.find((k) => k.kind === 'duplicate')!;
    print(`   a full look + restart costs x${fixed(restart.us.p50 / dropped.us.p50)} a ledger drop (p50)`);

    // 4. Demo scenario.
    const scenario = await measureScenario(SCENARIO_RUNS);
    print(`\n4. Demo scenario on the twin (${scenario.scenario}), ${scenario.runs} runs`);
    print(
      table(
        ['virtual time', 'wall p50 ms', 'min', 'max', 'virtual s / wall s', 'expectations'],
        [
          [
            `${scenario.virtualSeconds / 60} min`,
            fixed(scenario.wallMs.p50),
            fixed(scenario.wallMs.min),
            fixed(scenario.wallMs.max),
            int(scenario.speedup),
            scenario.allPassed ? 'all met' : 'SOME FAILED',
          ],
        ],
      ),
    );

    // 5. Alarm reactor.
    const alarm = await measureAlarmReactor();
    print(`\n5. Alarm reactor on the twin (${alarm.scenario}), virtual time`);
    print(
      table(
        ['measure', 'value'],
        [
          ['alarm ALARM -> SetDesiredCapacity', `${fixed(alarm.alarmToWriteSeconds)} s`],
          ['alarm ALARM -> new instances in service', `${fixed(alarm.alarmToInServiceSeconds)} s`],
          [
            'AWS calls to apply (minimum the design needs)',
            `${alarm.applyCalls.length} (${alarm.minimumApplyCalls}): ${alarm.applyCalls.map((c) => c.api).join(', ')}`,
          ],
          [
            'AWS calls to restore',
            `${alarm.restoreCalls.length} (${alarm.minimumRestoreCalls}): ${alarm.restoreCalls.map((c) => c.api).join(', ')}`,
          ],
        ],
        [1],
      ),
    );
    print(
      '   minimum: read the alarm (level-triggered), read the knob and the memory on the target (one call where the\n' +
        '   target returns its tags), remember the change as pending, make it, mark it done. Restore: read, read, write, forget.',
    );

    // 6. Instance lifecycle.
    const lifecycle = await measureInstanceLifecycle();
    print(`\n6. Instance lifecycle on the twin: scale-in of ${lifecycle.instances} instances, virtual time`);
    const writes = Object.values(lifecycle.writesPerInstance).reduce((a, b) => a + b, 0);
    print(
      table(
        ['measure', 'value'],
        [
          [
            'hook -> completion (deregistration delay)',
            `${fixed(lifecycle.hookToCompletionSeconds.min)}..${fixed(lifecycle.hookToCompletionSeconds.max)} s (${lifecycle.deregistrationDelaySeconds} s)`,
          ],
          [
            'writes per instance (minimum the design needs)',
            `${fixed(writes)} (${lifecycle.minimumWritesPerInstance}): ${Object.entries(
              lifecycle.writesPerInstance,
            )
              .map(([api, n]) => `${api} ${n}`)
              .join(', ')}`,
          ],
          [
            'reads per instance, over looks',
            `${fixed(lifecycle.readsPerInstance)} over ${fixed(lifecycle.looksPerInstance)} looks`,
          ],
        ],
        [1],
      ),
    );
    print(
      `   minimum writes: start the workflow, drain, deregister, complete, and a heartbeat every half heartbeat timeout\n` +
        `   (${lifecycle.heartbeatTimeoutSeconds} s) of waiting. Reads: each look re-reads the instance (level-triggered), one look per quarter\n` +
        "   heartbeat timeout at most, capped by the hook's poll interval.",
    );

    // 7. Progressive rollouts.
    const rollouts = await measureRollouts();
    const { abort } = rollouts;
    const { eventDriven: ed, analysisOnly: ao } = abort;
    print('\n7. Progressive rollouts on the twin, virtual time');
    print(
      `   a) a canary at ${abort.canaryWeight} % of ${abort.requestsPerSecond} requests/s turns bad (${abort.errorRate * 100} % 5xx) ` +
        `${abort.badAtSeconds - ed.stepStartSeconds} s into its step, until the route puts it back at 0 %`,
    );
    print(
      table(
        ['run', 'bad -> canary at 0 %', 'canary 5xx', 'rolled back by'],
        [
          [
            `event-driven: guard alarm > ${ed.threshold} 5xx/min, ${ed.evaluationPeriods} period; ${ed.bakeSeconds} s bake`,
            `${fixed(ed.seconds)} s`,
            int(ed.canary5xx),
            `the alarm's event (ALARM after ${fixed(ed.alarmAfterSeconds ?? Number.NaN)} s)`,
          ],
          [
            `analysis-only, as Flagger: 5xx rate > ${ao.maxErrorRate} every ${ao.intervalSeconds} s, N = ${ao.threshold}`,
            `${fixed(ao.seconds)} s`,
            int(ao.canary5xx),
            `failed check ${ao.failedAnalyses} of ${ao.threshold}`,
          ],
          ['analysis-only / event-driven', `x${fixed(abort.ratio)}`, '', ''],
        ],
        [3],
      ),
    );
    const spread = (pick: (s: (typeof abort.sweep)[number]) => number) =>
      `${fixed(Math.min(...abort.sweep.map(pick)))}..${fixed(Math.max(...abort.sweep.map(pick)))} s`;
    print(
      `   turning bad ${abort.sweep.map((s) => s.badAtSeconds % 60).join(', ')} s into a minute instead: ` +
        `event-driven ${spread((s) => s.eventDrivenSeconds)}, analysis-only ${spread((s) => s.analysisOnlySeconds)}`,
    );
    print(
      '   b) AWS calls per rollout action against the design minimum (bench/callBudgets.ts): per invocation of each',
    );
    const vs = (n: number, minimum: number, digits = 0) => `${fixed(n, digits)} (${fixed(minimum, digits)})`;
    print(
      table(
        ['route', 'action', 'invocations', 'calls (min)', 'what one called'],
        rollouts.calls.flatMap((c) => [
          ...c.actions.map((a, i) => [
            i === 0 ? c.router : '',
            a.action,
            String(a.invocations),
            vs(a.calls, a.minimum),
            a.apis.join(', '),
          ]),
          ['', `per weight change (${c.steps})`, '', vs(c.perStep.calls, c.perStep.minimum, 2), ''],
          ['', 'whole rollout', '', vs(c.total.calls, c.total.minimum), ''],
        ]),
        [1, 4],
      ),
    );
    print(
      '   a weight change is its shift (read the route and its owner, write from that answer), its verify (the read\n' +
        '   back) and the analyses since the last one (GetMetricData each); section 9 holds every action to its row.',
    );

    const nativeRollbacks = await measureNativeRollbacks();
    print(
      '   c) ECS native deployments: one bad release (20 % 5xx) under a native canary (10 % of 20 requests/s), from\n' +
        "   green's first traffic to ECS's rollback; its 5xx by listener (test: 5 requests/s where a test client runs)",
    );
    print(
      table(
        [
          'rolled back by',
          'first shift -> rollback',
          'after the alarm',
          'production 5xx',
          'test 5xx',
          'scenario',
        ],
        nativeRollbacks.map((r) => [
          r.how,
          `${fixed(r.secondsToRollback)} s`,
          r.secondsAfterAlarm === undefined ? '' : `${fixed(r.secondsAfterAlarm)} s`,
          int(r.production5xx),
          int(r.test5xx),
          r.scenario,
        ]),
        [5],
      ),
    );

    // 8. The twin's send layer.
    const twinClient = await measureTwinClient();
    print(
      `\n8. One AWS call on the twin (DescribeServices): ${twinClient.blocks} interleaved blocks of ` +
        `${twinClient.callsPerBlock} calls per variant`,
    );
    const plain = twinClient.variants.find((v) => v.name === 'plain { send }')!.us.p50;
    print(
      table(
        ['variant', 'p50 us/call', 'p90', 'x plain', 'what it is'],
        twinClient.variants.map((v) => [
          v.name,
          fixed(v.us.p50),
          fixed(v.us.p90),
          fixed(v.us.p50 / plain),
          v.description,
        ]),
        [4],
      ),
    );

    // 9. AWS calls per action, held to the design minimum.
    const budgets = await measureActionCalls();
    print(
      `\n9. AWS calls per action against the design minimum (docs/design.md, bench/callBudgets.ts), ` +
        `every invocation of ${budgets.scenarios.length} scenarios`,
    );
    print(
      table(
        ['reflex', 'action', 'invocations', 'most calls (made every time)', 'over budget', 'held to it'],
        budgets.rows.map((r) => [
          r.reflex,
          r.action,
          String(r.invocations),
          r.maxCalls > 0 ? vs(r.maxCalls, r.minimum) : `with another (${r.minimum})`,
          r.overBudget.length > 0
            ? `${r.overBudget.length}: ${describeExcess(r.overBudget[0]!.excess)}`
            : 'none',
          r.asserted ? 'yes' : 'no (see docs/design.md)',
        ]),
        [1, 4],
      ),
    );
    const measuredActions = new Set(budgets.rows.map((r) => r.action));
    const unmeasured = CALL_BUDGETS.filter((b) => !measuredActions.has(b.action)).map((b) => b.action);
    print(`   rows no invocation of these scenarios took: ${unmeasured.join('; ')}`);
    const docTable = documentedTable();
    const docDrift = docTable !== renderBudgetTable();
    if (docDrift) print('   docs/design.md does not hold the table bench/callBudgets.ts renders');
    for (const f of budgets.failures)
      print(
        `   OVER BUDGET: ${f.actions.join(' + ')}, ${f.scenario} ${f.invocation}: ${describeExcess(f.excess)}`,
      );
    for (const u of budgets.unclassified)
      print(
        `   NO ROW: ${u.scenario} ${u.invocation} (${u.apis.join(', ')}): add its action to bench/callBudgets.ts`,
      );
    const overBudget = budgets.failures.length + budgets.unclassified.length + (docDrift ? 1 : 0);

    // 10. The crash storm, coalescing off and on.
    const storm = await measureStorm();
    print(`\n10. Storm: ${STORM_SCENARIO}, the task recycler's coalescing off and on (counts are exact)`);
    const counts = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([api, n]) => `${api} ${n}`)
        .join(', ') || 'none';
    print(
      table(
        [
          'coalescing',
          'events',
          'looks',
          'looks/event',
          'reads',
          'reads/event',
          'destructive writes',
          'wall s',
        ],
        [storm.off, storm.on].map((run) => [
          run.coalesce ? 'on' : 'off',
          int(run.events),
          int(run.looks),
          fixed(run.looks / run.events, 3),
          int(run.reads),
          fixed(run.readsPerEvent, 3),
          counts(run.destructive),
          fixed(run.wallMs / 1000),
        ]),
        [6],
      ),
    );
    print(
      `   reads/event on vs off: ${fixed(storm.on.readsPerEvent / storm.off.readsPerEvent, 3)}x; ` +
        `reads by API (on): ${counts(storm.on.readsByApi)}; other writes (on): ${counts(storm.on.otherWrites)}`,
    );
    if (storm.on.expectationsFailed.length > 0)
      throw new Error(
        `the storm no longer meets its expectations: ${storm.on.expectationsFailed.join('; ')}`,
      );

    // 11. The fleet, fed to the recycler one batch at a time and by task group.
    const fleet = await measureFleet();
    const fleetRuns = [fleet.oneAtATime, fleet.taskGroupFifo];
    print(
      `\n11. Fleet: ${FLEET.clusters} clusters x ${FLEET.servicesPerCluster} services, ${fleet.taskGroupFifo.crashLooping} ` +
        `crash-looping at once, the sweep; every AWS call ${AWS_LATENCY.minMs}-${AWS_LATENCY.maxMs} ms ` +
        '(virtual seconds: exact, the same on every run)',
    );
    const deploymentName = {
      'one-at-a-time': 'one at a time (reserved concurrency 1)',
      'task-group-fifo': `task-group FIFO (max concurrency ${taskRecyclerWiring.maximumConcurrency})`,
    } as const;
    print(
      table(
        [
          'deployment',
          'events',
          'event->action p50 s',
          'p99 s',
          'max s',
          'event->recycler p50 s',
          'p99 s',
          'backlog drain s',
          'rollbacks',
          'wall s',
        ],
        fleetRuns.map((run) => [
          deploymentName[run.deployment],
          int(run.events),
          fixed(run.eventToAction.p50),
          fixed(run.eventToAction.p99),
          fixed(run.eventToAction.max),
          fixed(run.eventToRecycler.p50),
          fixed(run.eventToRecycler.p99),
          fixed(run.drainSeconds),
          int(run.rollbacks),
          fixed(run.wallMs / 1000),
        ]),
        [0],
      ),
    );
    print(
      `   goal: event->action p99 <= ${EVENT_TO_ACTION_GOAL_SECONDS} s: ` +
        fleetRuns
          .map(
            (run) =>
              `${run.deployment} ${run.eventToAction.p99 <= EVENT_TO_ACTION_GOAL_SECONDS ? 'meets it' : 'MISSES IT'} ` +
              `(${fixed(run.eventToAction.p99)} s)`,
          )
          .join(', '),
    );
    for (const run of fleetRuns)
      if (run.expectationsFailed.length > 0)
        throw new Error(
          `the fleet (${run.deployment}) no longer meets its expectations: ${run.expectationsFailed.join('; ')}`,
        );

    loads.push(readLoad());
    const unreliableWhy = unreliable(loads);
    const totalSeconds = (performance.now() - started) / 1000;
    const results = rounded({
      machine: { ...machine, loadAverageAtEnd: loadavg()[0]! },
      bundles: {
        ...bundles,
        functions: bundles.functions.map(({ handlerPath: _, environment: __, ...fn }) => ({
          ...fn,
          zipPath: fn.zipPath.replace(`${repoRoot}/`, ''),
        })),
      },
      cold: { rounds: COLD_ROUNDS, warmupRuns: COLD_WARMUP_RUNS, warmRuns: COLD_WARM_RUNS, ...cold },
      load: { readings: loads, unreliable: unreliableWhy ?? null },
      handler,
      scenario,
      alarmReactor: alarm,
      instanceLifecycle: lifecycle,
      rollouts,
      nativeRollbacks,
      twinClient,
      storm,
      fleet,
      actionCalls: budgets,
      totalSeconds,
    });
    const out = join(repoRoot, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    print(
      `\nbench took ${fixed(totalSeconds)} s (load average now ${fixed(loadavg()[0]!, 2)}, a busy loop got ` +
        `${fixed(loads[1]!.cpuShare * 100, 0)} % of a core); figures in bench/results/latest.json`,
    );
    if (unreliableWhy)
      print(
        `FIGURES UNRELIABLE: the machine was busy (${unreliableWhy}); compare ratios within this run only, ` +
          'and measure again on a quiet machine before quoting a millisecond.',
      );
    if (overBudget > 0) {
      process.stderr.write(
        `bench: ${overBudget} over the design minimum of AWS calls (section 9): see the lines marked above\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
