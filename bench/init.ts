// Module init: what a cold start pays to load the function's code, before the first event. Each run is a
// fresh `node` process that times `require()` of one file with performance.now() and prints it; the
// variants run interleaved (A, B, C, A, B, C, ...) so machine noise falls on all of them alike.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BENCH_ENV } from './env';
import { percentile, type Summary, summarize } from './stats';

const CHILD = [
  "const { performance } = require('node:perf_hooks');",
  'const t0 = performance.now();',
  'require(process.argv[1]);',
  'const requireMs = performance.now() - t0;',
  'process.stdout.write(JSON.stringify({ requireMs, sinceStartMs: performance.now() }));',
].join(' ');

export interface InitVariant {
  name: string;
  description: string;
  module: string;
  nodeOptions?: string;
}

export interface InitResult {
  name: string;
  description: string;
  /** `require()` alone, timed inside the child. */
  requireMs: Summary;
  /** From spawn to exit, timed by this process: node's own start, the require, and the exit. */
  wallMs: Summary;
  /** Every run in order, so two variants can be compared round by round. */
  samples: { requireMs: number[]; wallMs: number[] };
}

export interface PairedDelta {
  /** Median over rounds of (a - b), each pair measured back to back: slow drifts in load cancel out. */
  p50: number;
  p10: number;
  p90: number;
}

export function pairedDelta(a: readonly number[], b: readonly number[]): PairedDelta {
  const deltas = a.map((x, i) => x - b[i]!).sort((x, y) => x - y);
  return { p50: percentile(deltas, 50), p10: percentile(deltas, 10), p90: percentile(deltas, 90) };
}

function runOnce(variant: InitVariant): { requireMs: number; wallMs: number } {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...BENCH_ENV };
  if (variant.nodeOptions) env.NODE_OPTIONS = variant.nodeOptions;
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-e', CHILD, variant.module], {
    cwd: dirname(variant.module),
    env,
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${variant.name}: child exited ${child.status}: ${child.stderr}`);
  const { requireMs } = JSON.parse(child.stdout) as { requireMs: number };
  return { requireMs, wallMs };
}

export function measureInit(handlerPath: string, scratch: string, rounds: number): InitResult[] {
  const empty = join(scratch, 'empty.js');
  writeFileSync(empty, '');
  const variants: InitVariant[] = [
    { name: 'bundle', description: 'require(taskRecycler.js)', module: handlerPath },
    { name: 'empty', description: 'require(empty.js), bare node', module: empty },
    {
      name: 'bundle+maps',
      description: 'same, NODE_OPTIONS=--enable-source-maps (as deployed)',
      module: handlerPath,
      nodeOptions: '--enable-source-maps',
    },
  ];
  // One round not kept: it pulls the files and the node binary into the page cache.
  for (const variant of variants) runOnce(variant);
  const samples = variants.map(() => ({ requireMs: [] as number[], wallMs: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    variants.forEach((variant, i) => {
      const { requireMs, wallMs } = runOnce(variant);
      samples[i]!.requireMs.push(requireMs);
      samples[i]!.wallMs.push(wallMs);
    });
  }
  return variants.map((variant, i) => ({
    name: variant.name,
    description: variant.description,
    requireMs: summarize(samples[i]!.requireMs),
    wallMs: summarize(samples[i]!.wallMs),
    samples: samples[i]!,
  }));
}
