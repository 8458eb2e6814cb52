// The local commands' one entry: `npm start`, `npm run simulate` and `npm run serve` run
// `node local/bin.cjs <command> ...`, which loads this module from its build (dist/local.cjs, made by
// `npm ci` through the prepare script, remade when a source file is newer), not through tsx: a new user's
// first command answers in a fraction of a second instead of two.
import './quiet';
import { LOCAL_CREDENTIAL } from '#local/api/sigv4';
import { serve } from './serve';
import { simulate } from './simulate';
import { start } from './start';

const write = (text: string) => process.stdout.write(text);

/** Serves until Ctrl-C; a twin that cannot go on is an error to show, not a server that vanishes. */
async function serveUntilStopped(args: string[]): Promise<number> {
  const { url, dashboardUrl, settings, clock, stop } = await serve(args);
  write(
    [
      `ecs-reflex ops API on the twin: ${url}`,
      `routes: ${settings.routes.map((r) => r.name).join(', ') || 'none'}; clusters: ${settings.clusters.join(', ')}`,
      `sign with AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIAL.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIAL.secretAccessKey} AWS_REGION=eu-west-1`,
      `e.g. ECS_REFLEX_ENDPOINT=${url} npx ecs-reflex status`,
      `dashboard: ${dashboardUrl}`,
      '',
    ].join('\n'),
  );
  try {
    await clock.reached(Number.POSITIVE_INFINITY);
    return 0;
  } catch (error) {
    process.stderr.write(`the twin's clock stopped: ${(error as Error).stack}\n`);
    await stop();
    return 2;
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  start: (args) => start(args, write),
  simulate,
  serve: serveUntilStopped,
};

/**
 * Runs one local command and gives its exit code: 0 done, 1 a scenario's expectations not met, 2 the
 * command could not run (unknown, or it threw: a scenario that cannot be read is said in a line, anything
 * else with its stack).
 */
export async function runLocalCommand([command = '', ...args]: string[]): Promise<number> {
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`unknown local command "${command}": one of ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  try {
    return await run(args);
  } catch (error) {
    process.stderr.write(`${command === 'simulate' ? (error as Error).message : (error as Error).stack}\n`);
    return 2;
  }
}
