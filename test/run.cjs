// `npm test`: the static checks (`npm run check`: tsc, then biome) and jest, side by side. Jest keeps two
// workers busy for most of its run, but not all of it (its last files end one at a time); the type check
// (TypeScript 7) takes about 8 s of CPU and biome about 2 s, so side by side they add a few seconds to
// jest's run rather than their own.
// Jest's output streams as it runs; the checks' output comes in one piece when they end. A failed check
// stops jest at once, so a type error is reported as soon as tsc finds it, as it was when it ran first.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// The browser test needs Chromium before jest starts; this returns at once when it is there.
const chromium = spawnSync(process.execPath, [path.join(__dirname, 'browser', 'ensureChromium.cjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (chromium.status !== 0) process.exit(chromium.status ?? 1);

const startedAt = Date.now();
const seconds = () => `${Math.round((Date.now() - startedAt) / 1000)} s`;

// Each in a process group of its own, so that stopping one stops all it started (tsc under npm, jest's
// workers); an interrupt of `npm test` is passed on to both.
const check = spawn(npm, ['run', '--silent', 'check'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let checkOutput = '';
check.stdout.on('data', (chunk) => {
  checkOutput += chunk;
});
check.stderr.on('data', (chunk) => {
  checkOutput += chunk;
});

const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  detached: true,
});
const stop = (child, signal = 'SIGTERM') => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already ended
  }
};

const ended = (child) =>
  new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    interrupted = true;
    stop(check, signal);
    stop(jest, signal);
  });
// However this process ends (an uncaught error too), nothing it started goes on using the machine.
process.on('exit', () => {
  stop(check);
  stop(jest);
});

(async () => {
  const checkEnded = ended(check).then((code) => {
    if (checkOutput.trim()) process.stdout.write(`\n${checkOutput.trimEnd()}\n`);
    if (interrupted) return code || 1;
    if (code === 0) console.log(`\nnpm test: types and lint passed (${seconds()}); jest goes on.\n`);
    else {
      console.error(`\nnpm test: types or lint failed (${seconds()}, exit ${code}); jest stopped.\n`);
      stop(jest);
    }
    return code;
  });
  const [checkCode, jestCode] = await Promise.all([checkEnded, ended(jest)]);
  if (checkCode !== 0) process.exit(checkCode);
  process.exit(jestCode);
})();
