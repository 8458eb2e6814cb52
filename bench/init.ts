// Cold start and warm invocations of every function's bundle, each in fresh `node` processes as Lambda
// starts a container: the process starts, requires the bundle (init), runs the handler once (the first
// invocation), then again and again (warm). The bare variant is the same child script requiring nothing:
// `node -e` and no more, the floor. All variants run interleaved, one process each per round, in an order
// that turns every round, so a burst of load falls on all of them alike; ratios are taken round by round.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { percentile, type Summary, summarize } from './stats';

/** Prints nothing on stdout or stderr (the bundles log there, as in Lambda): the figures go to fd 3. */
const CHILD = `
const { performance } = require('node:perf_hooks');
const { writeSync } = require('node:fs');
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const [file, exportName, eventJson, functionArn, warmupRuns, warmRuns] = process.argv.slice(1);
const report = (result) => writeSync(3, JSON.stringify(result));
if (!file) report({ readyMs: performance.now(), readyCpuMs: cpuMs() });
else {
  const handler = require(file)[exportName];
  const readyMs = performance.now();
  const readyCpuMs = cpuMs();
  const event = JSON.parse(eventJson);
  let n = 0;
  const context = () => ({
    callbackWaitsForEmptyEventLoop: true, functionName: functionArn.split(':').pop(), functionVersion: '$LATEST',
    invokedFunctionArn: functionArn, memoryLimitInMB: '256', awsRequestId: 'bench-' + ++n,
    logGroupName: '/aws/lambda/bench', logStreamName: 'bench', getRemainingTimeInMillis: () => 29000,
    done() {}, fail() {}, succeed() {},
  });
  const invoke = async () => {
    const started = performance.now();
    let threw = false;
    try { await handler(structuredClone(event), context()); } catch { threw = true; }
    return { ms: performance.now() - started, threw };
  };
  (async () => {
    const first = await invoke();
    for (let i = 0; i < Number(warmupRuns); i++) await invoke();
    const warmUs = [];
    for (let i = 0; i < Number(warmRuns); i++) warmUs.push((await invoke()).ms * 1000);
    report({ readyMs, readyCpuMs, firstMs: first.ms, threw: first.threw, warmUs });
  })();
}
`;

export interface ColdVariant {
  name: string;
  /** The bundle and the export Lambda calls; none for the bare variant. */
  module?: string;
  exportName?: string;
  event?: unknown;
  functionArn?: string;
  environment: Record<string, string>;
}

interface ChildResult {
  readyMs: number;
  readyCpuMs: number;
  firstMs?: number;
  threw?: boolean;
  warmUs?: number[];
}

export interface Spread {
  p50: number;
  min: number;
  max: number;
}

export interface ColdResult {
  name: string;
  /** From the process's start to the handler exported and ready: node's own start-up and the require. */
  readyMs: Summary;
  /** CPU time the process had used by then (user + system): steadier than wall time on a busy machine. */
  readyCpuMs: Summary;
  /** readyMs / the bare variant's, round by round. */
  readyRatio: Spread;
  readyCpuRatio: Spread;
  /** The first invocation less the warm median of the same process, per process. */
  firstExtraMs?: Spread;
  firstMs?: Summary;
  /** Every warm invocation of every round, in microseconds. */
  warmUs?: Summary;
  /** Whether the invocation ends in a thrown error (a refused input, as the row's event says). */
  threw?: boolean;
}

const spread = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), min: sorted[0]!, max: sorted[sorted.length - 1]! };
};

function runChild(variant: ColdVariant, warmupRuns: number, warmRuns: number): ChildResult {
  const args = variant.module
    ? [
        variant.module,
        variant.exportName ?? 'handler',
        JSON.stringify(variant.event ?? {}),
        variant.functionArn ?? '',
        String(warmupRuns),
        String(warmRuns),
      ]
    : [];
  const child = spawnSync(process.execPath, ['-e', CHILD, ...args], {
    cwd: variant.module ? dirname(variant.module) : undefined,
    env: { PATH: process.env.PATH ?? '', ...variant.environment },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 60_000,
  });
  const figures = child.output?.[3];
  if (child.status !== 0 || !figures)
    throw new Error(`${variant.name}: child exited ${child.status}: ${String(child.stderr).slice(0, 2000)}`);
  return JSON.parse(figures) as ChildResult;
}

export function measureCold(
  bare: ColdVariant,
  variants: ColdVariant[],
  options: { rounds: number; warmupRuns: number; warmRuns: number },
): { bare: ColdResult; functions: ColdResult[] } {
  const all = [bare, ...variants];
  // One round not kept: it pulls the bundles and the node binary into the page cache.
  for (const variant of all) runChild(variant, 0, 1);
  const samples = all.map(() => [] as ChildResult[]);
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const i = (k + round) % all.length;
      samples[i]!.push(runChild(all[i]!, options.warmupRuns, options.warmRuns));
    }
  }
  const bareSamples = samples[0]!;
  const result = (variant: ColdVariant, runs: ChildResult[]): ColdResult => {
    const base: ColdResult = {
      name: variant.name,
      readyMs: summarize(runs.map((r) => r.readyMs)),
      readyCpuMs: summarize(runs.map((r) => r.readyCpuMs)),
      readyRatio: spread(runs.map((r, i) => r.readyMs / bareSamples[i]!.readyMs)),
      readyCpuRatio: spread(runs.map((r, i) => r.readyCpuMs / bareSamples[i]!.readyCpuMs)),
    };
    if (!variant.module) return base;
    return {
      ...base,
      firstMs: summarize(runs.map((r) => r.firstMs!)),
      firstExtraMs: spread(
        runs.map(
          (r) =>
            r.firstMs! -
            percentile(
              [...r.warmUs!].sort((a, b) => a - b),
              50,
            ) /
              1000,
        ),
      ),
      warmUs: summarize(runs.flatMap((r) => r.warmUs!)),
      threw: runs[0]!.threw,
    };
  };
  return {
    bare: result(bare, bareSamples),
    functions: variants.map((variant, i) => result(variant, samples[i + 1]!)),
  };
}
