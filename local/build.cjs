// The local tools' build: `node local/bin.cjs` (npm start, simulate, serve) and `cli/bin.cjs` (the ops
// CLI) run one bundled file each from dist/ instead of compiling the TypeScript through tsx on every call
// (about 1.5 s of a first answer); infra/stageConfig.js checks a stage with the functions' schemas from
// dist/stage.cjs. `npm ci` builds them (the prepare script); a bin rebuilds its file
// first when a source file is newer, so an edited checkout never runs stale code. Packages stay outside
// the bundle (required from node_modules as usual): only the project's own code is bundled.
const {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
/** Bundle name -> its entry module. */
const ENTRIES = { local: 'local/cli/main.ts', cli: 'cli/main.ts', stage: 'infra/stageSchema.ts' };
/** Where the bundled code comes from: the #... imports of package.json resolve inside these. */
const SOURCE_DIRS = ['layers', 'functions', 'events', 'local', 'cli', 'infra'];

function newestSourceMs() {
  // This file and the compiler options decide the bundle too.
  let newest = Math.max(
    ...['package.json', 'tsconfig.json', 'local/build.cjs'].map((f) => statSync(join(ROOT, f)).mtimeMs),
  );
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return newest;
}

const bundlePath = (name) => join(DIST, `${name}.cjs`);

function build(name) {
  // Read before building: a file saved while esbuild runs is then newer than the bundle, which is built
  // again on the next call instead of passing for fresh without that edit.
  const sourcesAt = new Date(newestSourceMs());
  const { buildSync } = require('esbuild');
  const { outputFiles } = buildSync({
    absWorkingDir: ROOT,
    entryPoints: [ENTRIES[name]],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    write: false,
    logLevel: 'error',
  });
  // Written aside, then renamed: two commands started at once never read a half-written bundle.
  mkdirSync(DIST, { recursive: true });
  const aside = `${bundlePath(name)}.${process.pid}`;
  writeFileSync(aside, outputFiles[0].contents);
  utimesSync(aside, sourcesAt, sourcesAt);
  renameSync(aside, bundlePath(name));
}

/**
 * The path of a fresh bundle, built first when missing or older than a source file; undefined when it
 * cannot be built (an install without devDependencies has no esbuild): the caller then runs the source.
 */
function builtModule(name) {
  const path = bundlePath(name);
  // Whole milliseconds: the stamp is written through a Date, and a file system keeps finer times. The
  // stamp read back may fall a hair below the millisecond it was (seconds as a float: .972 is kept as
  // .971999), so it is rounded, not floored: floored, a fresh clone's bundle could look stale at every
  // start and be built again each time.
  if (existsSync(path) && Math.round(statSync(path).mtimeMs) >= Math.floor(newestSourceMs())) return path;
  try {
    require.resolve('esbuild');
  } catch {
    return undefined;
  }
  // In a process of its own: esbuild's synchronous API leaves a service running in the caller, which
  // keeps a long-lived caller (a test runner) from exiting.
  execFileSync(process.execPath, [__filename, name], { stdio: ['ignore', 'ignore', 'inherit'] });
  return path;
}

/** A bundle's exports: from its fresh build, or from the TypeScript source through tsx where there is none. */
function load(name) {
  const built = builtModule(name);
  if (built) return require(built);
  require('tsx/cjs');
  return require(join(ROOT, ENTRIES[name]));
}

module.exports = { builtModule, load, newestSourceMs };

if (require.main === module) {
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(ENTRIES);
  for (const name of names) build(name);
  process.stdout.write(`built ${names.map((n) => `dist/${n}.cjs`).join(', ')}\n`);
}
