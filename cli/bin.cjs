#!/usr/bin/env node
// The `ecs-reflex` command (package.json "bin"): runs cli/main.ts from its build (local/build.cjs), or from
// the TypeScript source through tsx where it cannot be built.
const { main } = require('../local/build.cjs').load('cli');

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
