#!/usr/bin/env node
// The `ecs-reflex` command (package.json "bin"): runs cli/main.ts from its build (local/build.cjs), or from
// the TypeScript source through tsx where it cannot be built.
const { builtModule, ENTRIES } = require('../local/build.cjs');

let built = builtModule('cli');
if (!built) {
  require('tsx/cjs');
  built = require('node:path').join(__dirname, '..', ENTRIES.cli);
}
const { main } = require(built);

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    // exitCode, not exit(): output piped to another program must be written out first.
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
