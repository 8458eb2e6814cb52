#!/usr/bin/env node
// The `ecs-reflex` command (package.json "bin"): registers tsx's require hook, so the TypeScript source
// runs as it is (with the package's "#..." import aliases), then hands over to cli/main.ts.
require('tsx/cjs');
const { main } = require('./main.ts');

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
