// npm start: the main job, offline. Runs the demo scenario on the local twin and prints its timeline.
import './quiet';
import { simulate } from './simulate';

simulate(['demo', ...process.argv.slice(2)]).then(
  (code) => {
    // exitCode, not exit(): a large --json document piped to another program must be written out first.
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(2);
  },
);
