// npm run bench: the taskRecycler function's size, cold-start module init, warm per-event cost and the
// demo scenario's speed on the twin. It measures and prints; the one figure it asserts is the AWS calls per
// action (section 9): it exits non-zero when an action makes more than its row in bench/callBudgets.ts allows.
// Read bench/README.md for what each figure means. Results: a table here, bench/results/latest.json.
import './env';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '#local/scenario/runner';
import { measureActionCalls } from './actionCalls';
import { measureAlarmReactor } from './alarmReactor';
import { taskRecyclerBundle } from './bundle';
import { CALL_BUDGETS, describeExcess, documentedTable, renderBudgetTable } from './callBudgets';
import { measureHandler } from './handler';
import { measureInit, pairedDelta } from './init';
import { measureInstanceLifecycle } from './instanceLifecycle';
import { measureRollouts } from './rollout';
import { measureScenario } from './scenario';
import { rounded } from './stats';
import { measureTwinClient } from './twinClient';

const INIT_ROUNDS = 20;
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
  print(`ecs-reflex bench: taskRecycler   ${machine.date}`);
  print(
    `node ${machine.node} (Lambda runs nodejs22.x)   ${machine.cpuModel}   ${machine.cores} cores   ` +
      `${machine.platform}   load average ${fixed(machine.loadAverageAtStart, 2)}`,
  );
  print('Medians of runs taken in this process; ratios compare figures measured side by side in this run.');

  const scratch = mkdtempSync(join(tmpdir(), 'ecs-reflex-bench-'));
  try {
    // 1. The package.
    const bundle = await taskRecyclerBundle(repoRoot, scratch);
    print('\n1. Bundle: the zip Lambda receives for taskRecycler');
    print(
      `   from ${bundle.source}${bundle.buildSeconds ? `, built in ${fixed(bundle.buildSeconds)} s` : ''}`,
    );
    print(
      table(
        ['file', 'bytes', 'zipped bytes', 'size'],
        [
          ...bundle.entries.map((e) => [e.name, int(e.bytes), int(e.compressedBytes), kib(e.bytes)]),
          [
            'unzipped total / zip file',
            int(bundle.unzippedBytes),
            int(bundle.zipBytes),
            kib(bundle.zipBytes),
          ],
        ],
      ),
    );

    // 2. Module init, cold.
    const init = measureInit(bundle.handlerPath, scratch, INIT_ROUNDS);
    const [withBundle, bare, withMaps] = init;
    print(`\n2. Module init: require() in a fresh node process, ${INIT_ROUNDS} runs each, interleaved`);
    print(
      table(
        ['variant', 'require p50 ms', 'p90', 'process wall p50 ms', 'p90'],
        init.map((r) => [
          `${r.name}: ${r.description}`,
          fixed(r.requireMs.p50, 2),
          fixed(r.requireMs.p90, 2),
          fixed(r.wallMs.p50),
          fixed(r.wallMs.p90),
        ]),
      ),
    );
    const paired = {
      requireMs: pairedDelta(withBundle!.samples.requireMs, bare!.samples.requireMs),
      wallMs: pairedDelta(withBundle!.samples.wallMs, bare!.samples.wallMs),
      sourceMapsRequireMs: pairedDelta(withMaps!.samples.requireMs, withBundle!.samples.requireMs),
    };
    const initDelta = {
      requireMs: withBundle!.requireMs.p50 - bare!.requireMs.p50,
      requireRatio: withBundle!.requireMs.p50 / bare!.requireMs.p50,
      wallMs: withBundle!.wallMs.p50 - bare!.wallMs.p50,
      wallRatio: withBundle!.wallMs.p50 / bare!.wallMs.p50,
      paired,
    };
    const range = (d: { p50: number; p10: number; p90: number }) =>
      `${d.p50 >= 0 ? '+' : ''}${fixed(d.p50)} ms (p10..p90 ${fixed(d.p10)}..${fixed(d.p90)})`;
    print(
      `   bundle vs empty, medians: require +${fixed(initDelta.requireMs)} ms (x${fixed(initDelta.requireRatio)}), ` +
        `whole process +${fixed(initDelta.wallMs)} ms (x${fixed(initDelta.wallRatio, 2)})`,
    );
    print(
      `   same, paired round by round: require ${range(paired.requireMs)}, whole process ${range(paired.wallMs)}`,
    );
    print(`   --enable-source-maps, paired: require ${range(paired.sourceMapsRequireMs)}`);

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

    const totalSeconds = (performance.now() - started) / 1000;
    const results = rounded({
      machine: { ...machine, loadAverageAtEnd: loadavg()[0]! },
      bundle: { ...bundle, handlerPath: undefined, zipPath: bundle.zipPath.replace(`${repoRoot}/`, '') },
      init: { rounds: INIT_ROUNDS, variants: init, bundleVsEmpty: initDelta },
      handler,
      scenario,
      alarmReactor: alarm,
      instanceLifecycle: lifecycle,
      rollouts,
      twinClient,
      actionCalls: budgets,
      totalSeconds,
    });
    const out = join(repoRoot, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    print(
      `\nbench took ${fixed(totalSeconds)} s (load average now ${fixed(loadavg()[0]!, 2)}); ` +
        'figures in bench/results/latest.json',
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
