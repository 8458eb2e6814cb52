#!/usr/bin/env node
// npm run validate -- [--stage S]: checks one stage file, or every one under infra/stages/, as
// `serverless package` would (infra/stageConfig.js), without packaging. Exit 1 when one is wrong.
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { load } = require('./stageConfig.js');

function stagesToCheck() {
  const { values } = parseArgs({ options: { stage: { type: 'string' } }, strict: true });
  if (values.stage) return [values.stage];
  return fs
    .readdirSync(path.join(__dirname, 'stages'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length));
}

let failed = 0;
let stages;
try {
  stages = stagesToCheck();
} catch (error) {
  process.stderr.write(`usage: npm run validate -- [--stage S] (${error.message})\n`);
  process.exit(2);
}
for (const stage of stages) {
  try {
    const config = load(stage);
    const count = (text) => JSON.parse(text).length;
    process.stdout.write(
      `infra/stages/${stage}.json: ok: clusters ${config.clusters}, dryRun ${config.dryRun}, ` +
        `${count(config.alarmReactions)} alarm reactions, ${count(config.lifecycleHooks)} lifecycle hooks, ` +
        `${count(config.opsRoutes)} ops routes\n`,
    );
  } catch (error) {
    failed++;
    process.stderr.write(`${error.message}\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
