// The taskRecycler function as Lambda receives it: the zip `serverless package` writes, reused when it is
// newer than every source file, rebuilt otherwise; without serverless.yml (or when packaging fails), the
// same esbuild settings serverless-esbuild would apply, zipped here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readZip, writeZip } from './zip';

export const FUNCTION = 'taskRecycler';

export interface BundleResult {
  /** Where the zip came from, in words. */
  source: string;
  zipPath: string;
  zipBytes: number;
  entries: { name: string; bytes: number; compressedBytes: number }[];
  jsBytes: number;
  mapBytes: number;
  unzippedBytes: number;
  /** The handler file, extracted where the init benchmark can require it. */
  handlerPath: string;
  buildSeconds?: number;
}

const SOURCE_DIRS = ['functions', 'layers', 'events'];

function newestSource(root: string): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const { mtimeMs } = statSync(path);
        if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
      }
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(join(root, dir))) walk(join(root, dir));
  return newest;
}

function servicePackage(root: string): { ok: true } | { ok: false; why: string } {
  const run = spawnSync('npx', ['serverless', 'package', '--stage', 'dev'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
  });
  if (run.status === 0) return { ok: true };
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return { ok: false, why: `serverless package failed (exit ${run.status}): ${output}` };
}

/**
 * serverless-esbuild's build for one function, with the settings serverless.yml's custom.esbuild gives
 * it (keep the two in step), zipped the way the plugin zips (archiver's default: deflate level 1).
 */
async function esbuildPackage(root: string, outDir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(outDir, 'build', 'functions', `${FUNCTION}.js`);
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'functions', `${FUNCTION}.ts`)],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
  const zipPath = join(outDir, `${FUNCTION}.zip`);
  writeFileSync(
    zipPath,
    writeZip(
      [
        { name: `functions/${FUNCTION}.js`, data: readFileSync(outfile) },
        { name: `functions/${FUNCTION}.js.map`, data: readFileSync(`${outfile}.map`) },
      ],
      1,
    ),
  );
  return zipPath;
}

/** Another `serverless package` (tests, a colleague) may empty .serverless/ at any moment. */
function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

export async function taskRecyclerBundle(root: string, scratch: string): Promise<BundleResult> {
  const packaged = join(root, '.serverless', `${FUNCTION}.zip`);
  const newest = newestSource(root);
  const forceEsbuild = process.env.BENCH_FORCE_ESBUILD === '1';
  let source = '.serverless/taskRecycler.zip (newer than every source file)';
  let zipPath = packaged;
  let zip: Buffer | undefined;
  let buildSeconds: number | undefined;
  if (!forceEsbuild && existsSync(packaged) && statSync(packaged).mtimeMs > newest.mtimeMs) {
    zip = readIfThere(packaged);
  }
  if (!zip) {
    const started = performance.now();
    const why = existsSync(packaged)
      ? `older than ${newest.path.slice(root.length + 1)}`
      : 'no .serverless/taskRecycler.zip yet';
    let problem: string;
    if (forceEsbuild) problem = 'BENCH_FORCE_ESBUILD=1';
    else if (!existsSync(join(root, 'serverless.yml'))) problem = 'no serverless.yml';
    else {
      const packagedNow = servicePackage(root);
      zip = packagedNow.ok ? readIfThere(packaged) : undefined;
      problem = packagedNow.ok ? 'the packaged zip vanished before it was read' : packagedNow.why;
      source = `npx serverless package --stage dev (${why})`;
    }
    if (!zip) {
      zipPath = await esbuildPackage(root, scratch);
      zip = readFileSync(zipPath);
      source = `esbuild with serverless-esbuild's settings, zipped by bench/zip.ts (${problem})`;
    }
    buildSeconds = (performance.now() - started) / 1000;
  }

  const entries = readZip(zip);
  const extracted = join(scratch, 'package');
  for (const entry of entries) {
    if (entry.name.endsWith('/')) continue;
    const path = join(extracted, entry.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, entry.data);
  }
  const handler =
    entries.find((e) => e.name === `functions/${FUNCTION}.js`) ?? entries.find((e) => e.name.endsWith('.js'));
  if (!handler) throw new Error(`${zipPath} holds no .js file`);
  const bytesOf = (test: (name: string) => boolean) =>
    entries.filter((e) => test(e.name)).reduce((sum, e) => sum + e.data.length, 0);
  return {
    source,
    zipPath,
    zipBytes: zip.length,
    entries: entries.map((e) => ({ name: e.name, bytes: e.data.length, compressedBytes: e.compressedBytes })),
    jsBytes: bytesOf((name) => name.endsWith('.js')),
    mapBytes: bytesOf((name) => name.endsWith('.map')),
    unzippedBytes: bytesOf(() => true),
    handlerPath: join(extracted, handler.name),
    buildSeconds,
  };
}
