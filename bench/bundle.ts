// Every function as Lambda receives it: the zips `serverless package --stage dev` writes (offline, no
// credentials), reused when they are newer than every file that goes into them, made again otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type PackagedFunction, packagedFunctions } from './functions';
import { readZip } from './zip';

export interface FunctionBundle extends PackagedFunction {
  zipBytes: number;
  entries: { name: string; bytes: number; compressedBytes: number }[];
  jsBytes: number;
  mapBytes: number;
  /** The handler file, extracted where a child process can require it. */
  handlerPath: string;
  exportName: string;
}

export interface Bundles {
  /** Where the zips came from, in words. */
  source: string;
  buildSeconds?: number;
  functions: FunctionBundle[];
  /** The source maps kept beside the zips (a stage without `sourceMaps` ships none). */
  sourceMapBytes: number;
}

/** What the bundles are made of: the code, and the settings that decide what goes into them. */
const INPUTS = ['functions', 'layers', 'events', 'infra', 'serverless.yml', 'package-lock.json'];

function newestInput(root: string): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (stat.mtimeMs > newest.mtimeMs) newest = { path, mtimeMs: stat.mtimeMs };
  };
  for (const input of INPUTS) if (existsSync(join(root, input))) visit(join(root, input));
  return newest;
}

function servicePackage(root: string): void {
  const run = spawnSync('npx', ['serverless', 'package', '--stage', 'dev'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  if (run.status !== 0) {
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`serverless package failed (exit ${run.status}): ${output}`);
  }
}

export async function functionBundles(root: string, scratch: string): Promise<Bundles> {
  const packageDir = join(root, '.serverless');
  const template = join(packageDir, 'cloudformation-template-update-stack.json');
  const newest = newestInput(root);
  let source = '.serverless/ (newer than every file that goes into the zips)';
  let buildSeconds: number | undefined;
  if (!existsSync(template) || statSync(template).mtimeMs <= newest.mtimeMs) {
    const why = existsSync(template) ? `older than ${newest.path.slice(root.length + 1)}` : 'no package yet';
    const started = performance.now();
    servicePackage(root);
    buildSeconds = (performance.now() - started) / 1000;
    source = `npx serverless package --stage dev (${why})`;
  }

  const functions = packagedFunctions(packageDir).map((fn): FunctionBundle => {
    const entries = readZip(readFileSync(fn.zipPath));
    const extracted = join(scratch, fn.name);
    for (const entry of entries) {
      if (entry.name.endsWith('/')) continue;
      const path = join(extracted, entry.name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, entry.data);
    }
    const file = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.js`;
    if (!entries.some((e) => e.name === file)) throw new Error(`${fn.zipPath} holds no ${file}`);
    const bytesOf = (test: (name: string) => boolean) =>
      entries.filter((e) => test(e.name)).reduce((sum, e) => sum + e.data.length, 0);
    return {
      ...fn,
      zipBytes: statSync(fn.zipPath).size,
      entries: entries.map((e) => ({
        name: e.name,
        bytes: e.data.length,
        compressedBytes: e.compressedBytes,
      })),
      jsBytes: bytesOf((name) => name.endsWith('.js')),
      mapBytes: bytesOf((name) => name.endsWith('.map')),
      handlerPath: join(extracted, file),
      exportName: fn.handler.slice(fn.handler.lastIndexOf('.') + 1),
    };
  });
  const maps = join(packageDir, 'sourcemaps');
  const sourceMapBytes = existsSync(maps)
    ? readdirSync(maps).reduce((sum, name) => sum + statSync(join(maps, name)).size, 0)
    : 0;
  return { source, buildSeconds, functions, sourceMapBytes };
}
