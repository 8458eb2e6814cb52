// The local commands and the ops CLI as a user starts them: `npm start` / `npm run simulate` run
// `node local/bin.cjs <command>`, `npx ecs-reflex` runs cli/bin.cjs, each from its bundle in dist/, which
// is remade when a source file is newer than it.
import { execFile } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '#local/repoRoot';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, bin), ...args], { cwd: repoRoot }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

const LOCAL_BUNDLE = join(repoRoot, 'dist', 'local.cjs');
const build = require('../../local/build.cjs') as {
  builtModule(name: string): string | undefined;
  newestSourceMs(): number;
};

describe('the local commands from their build', () => {
  it('runs a scenario and exits 0 when its expectations are met', async () => {
    // Act
    const simulated = await run('local/bin.cjs', ['simulate', 'demo']);

    // Assess
    expect(simulated.stdout).toMatch(/scenario demo: 7\/7 expectations met/);
    expect(simulated.code).toBe(0);
  });

  it('says which commands exist when given another, and exits 2', async () => {
    // Act
    const unknown = await run('local/bin.cjs', ['simulat', 'demo']);

    // Assess
    expect(unknown.stderr).toMatch(/unknown local command "simulat": one of start, simulate, serve/);
    expect(unknown.code).toBe(2);
  });

  it('rebuilds its bundle first when a source file is newer than it', async () => {
    // Prepare: a bundle from before the sources were last changed
    build.builtModule('local');
    const longAgo = new Date('2020-01-01T00:00:00Z');
    utimesSync(LOCAL_BUNDLE, longAgo, longAgo);

    // Act
    const simulated = await run('local/bin.cjs', ['simulate', 'demo']);

    // Assess
    expect(simulated.code).toBe(0);
    expect(statSync(LOCAL_BUNDLE).mtimeMs).toBeGreaterThan(longAgo.getTime());
  });
});

describe('a bundle’s freshness', () => {
  it('takes a bundle stamped with its sources’ time as fresh, however the file system keeps the stamp', () => {
    // Prepare: a fresh bundle whose stamp reads a hair below its sources' millisecond, as utimes can keep it
    const bundle = build.builtModule('cli')!;
    const stamp = (Math.floor(build.newestSourceMs()) - 0.001) / 1000;
    utimesSync(bundle, stamp, stamp);
    const stamped = statSync(bundle).mtimeMs;

    // Act
    build.builtModule('cli');

    // Assess: not built again
    expect(statSync(bundle).mtimeMs).toBe(stamped);
  });
});

describe('the ops CLI from its build', () => {
  it('prints its usage', async () => {
    // Act
    const help = await run('cli/bin.cjs', ['--help']);

    // Assess
    expect(help.stdout).toMatch(/^Usage: ecs-reflex <command> \[options\]/);
    expect(help.code).toBe(0);
  });
});
