#!/usr/bin/env node
// `npm start`, `npm run simulate`, `npm run serve`: runs the local command from its build (local/build.cjs),
// or from the TypeScript source through tsx where it cannot be built.
require('./build.cjs')
  .load('local')
  .runLocalCommand(process.argv.slice(2))
  .then((code) => {
    // exitCode, not exit(): a large --json document piped to another program must be written out first.
    // A command that could not run may have left a server open: that one ends here.
    process.exitCode = code;
    if (code === 2) process.exit(2);
  });
