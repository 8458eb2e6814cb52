// `ecs-reflex`: the ops API from a shell. Every command is one or a few signed calls to the API (status,
// rollouts, route weights, services, instances), printed for people or, with --json, for programs.
// Exit codes: 0 done, 1 the API refused or failed (its problem document is printed), 2 a usage or setup
// error (bad arguments, no endpoint, no credentials). No process.exit here: main returns the code.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDashboard } from '#local/api/dashboardProxy';
import { type Credentials, LOCAL_CREDENTIAL } from '#local/api/sigv4';
import { ApiError, CredentialsError, credentialsFrom, OpsClient, TransportError } from './client';
import {
  type Accepted,
  type Action,
  bar,
  clockTime,
  type Output,
  type RolloutSummary,
  type RolloutView,
  type RouteView,
  resultText,
  rolloutLine,
  type Style,
  shorten,
  statusText,
  styleFor,
  table,
} from './render';
import { watchRollout } from './watch';

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  /** Waits between polls and retries; real timers by default. */
  sleep?: (ms: number) => Promise<void>;
  /** The wall clock requests are signed with; `new Date()` by default. */
  now?: () => Date;
  /** `dashboard` runs until this settles; Ctrl-C (SIGINT) or SIGTERM by default. */
  untilStopped?: () => Promise<unknown>;
}

const PROGRAM = 'ecs-reflex';
const DEFAULT_REGION = 'eu-west-1';

/** A command line that cannot be run as written: exit 2, with a pointer to --help. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  json: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  file: { type: 'string', short: 'f' },
  name: { type: 'string' },
  'dry-run': { type: 'boolean' },
  interval: { type: 'string' },
  reason: { type: 'string' },
  canary: { type: 'string' },
  force: { type: 'boolean' },
  cluster: { type: 'string' },
  port: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

interface Invocation {
  args: string[];
  values: Values;
  client: OpsClient;
  endpoint: string;
  region: string;
  io: Required<CliIo>;
  style: Style;
}

interface Command {
  usage: string;
  summary: string;
  args: string[];
  options: OptionName[];
  required?: OptionName[];
  /** An exit code, or the API's answer to a write (printed by main). */
  run(invocation: Invocation): Promise<number | Accepted>;
}

const STEER = ['promote', 'abort', 'pause', 'resume'] as const;

const COMMANDS: Record<string, Command> = {
  status: {
    usage: 'status',
    summary: 'rollouts (the running ones in detail) and the reflexes’ last 10 actions',
    args: [],
    options: [],
    run: status,
  },
  'rollout start': {
    usage: 'rollout start --file request.json [--name N] [--dry-run]',
    summary: 'start a rollout: the file holds the request, or {"rollout": request}',
    args: [],
    options: ['file', 'name', 'dry-run'],
    required: ['file'],
    run: startRollout,
  },
  'rollout watch': {
    usage: 'rollout watch NAME [--interval SECONDS]',
    summary: 'follow a rollout until it ends (every 5 s by default); exit 0 only if it SUCCEEDED',
    args: ['NAME'],
    options: ['interval'],
    run: ({ args, values, client, io, style }) =>
      watchRollout(client, {
        name: args[0]!,
        intervalMs: intervalOf(values.interval) * 1000,
        json: values.json === true,
        out: io.stdout,
        style,
        sleep: io.sleep,
      }),
  },
  ...Object.fromEntries(
    STEER.map((verb): [string, Command] => [
      `rollout ${verb}`,
      {
        usage: `rollout ${verb} NAME [--reason R] [--dry-run]`,
        summary: {
          promote: 'promote now, skipping the steps left (or answer its gate)',
          abort: 'abort: all traffic back on stable',
          pause: 'wait at a gate at the next step',
          resume: 'resume a rollout waiting at a gate',
        }[verb],
        args: ['NAME'],
        options: ['reason', 'dry-run'],
        run: ({ args, values, client }) =>
          client.write<Accepted>('POST', `/rollouts/${encodeURIComponent(args[0]!)}/${verb}`, {
            ...(values.reason !== undefined ? { reason: values.reason } : {}),
            dryRun: values['dry-run'] === true,
          }),
      },
    ]),
  ),
  'weights get': {
    usage: 'weights get ROUTE',
    summary: "a route's weights and the rollout that owns it",
    args: ['ROUTE'],
    options: [],
    run: getWeights,
  },
  'weights set': {
    usage: 'weights set ROUTE --canary N [--force] [--reason R] [--dry-run]',
    summary: 'set a route by hand (refused while a rollout owns it, unless --force)',
    args: ['ROUTE'],
    options: ['canary', 'force', 'reason', 'dry-run'],
    required: ['canary'],
    run: ({ args, values, client }) =>
      client.write<Accepted>('PUT', `/routes/${encodeURIComponent(args[0]!)}/weights`, {
        canary: percentOf(values.canary!),
        force: values.force === true,
        ...(values.reason !== undefined ? { reason: values.reason } : {}),
        dryRun: values['dry-run'] === true,
      }),
  },
  recycle: {
    usage: 'recycle CLUSTER SERVICE [--reason R] [--dry-run]',
    summary: 'replace every task of a service, rolling',
    args: ['CLUSTER', 'SERVICE'],
    options: ['reason', 'dry-run'],
    run: ({ args, values, client }) =>
      client.write<Accepted>(
        'POST',
        `/services/${encodeURIComponent(args[0]!)}/${encodeURIComponent(args[1]!)}/recycle`,
        {
          ...(values.reason !== undefined ? { reason: values.reason } : {}),
          dryRun: values['dry-run'] === true,
        },
      ),
  },
  drain: {
    usage: 'drain INSTANCE_ID --cluster C [--reason R] [--dry-run]',
    summary: 'drain a container instance before maintenance',
    args: ['INSTANCE_ID'],
    options: ['cluster', 'reason', 'dry-run'],
    required: ['cluster'],
    run: ({ args, values, client }) =>
      client.write<Accepted>('POST', `/instances/${encodeURIComponent(args[0]!)}/drain`, {
        cluster: values.cluster,
        ...(values.reason !== undefined ? { reason: values.reason } : {}),
        dryRun: values['dry-run'] === true,
      }),
  },
  dashboard: {
    usage: 'dashboard [--port P]',
    summary: 'the dashboard in a browser: a local page that signs its API calls here (port 8788 by default)',
    args: [],
    options: ['port'],
    run: dashboard,
  },
};

const GROUPS = new Set(['rollout', 'weights']);

export async function main(argv: string[], io: CliIo): Promise<number> {
  const full: Required<CliIo> = {
    ...io,
    sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: io.now ?? (() => new Date()),
    untilStopped: io.untilStopped ?? untilSignalled,
  };
  let json = argv.includes('--json');
  try {
    const { values, positionals, tokens } = parse(argv);
    json = values.json === true;
    if (values.help || positionals[0] === 'help') {
      full.stdout.write(help());
      return 0;
    }
    const group = positionals[0];
    if (group === undefined) throw new UsageError('a command is required');
    const key = GROUPS.has(group) ? `${group} ${positionals[1] ?? ''}`.trim() : group;
    const command = COMMANDS[key];
    if (!command)
      throw new UsageError(
        GROUPS.has(group)
          ? `${positionals[1] === undefined ? '' : `unknown command '${key}': `}'${group}' needs one of: ${commandsOf(group).join(', ')}`
          : `unknown command '${group}'`,
      );
    const args = positionals.slice(key.split(' ').length);
    if (args.length !== command.args.length)
      throw new UsageError(
        args.length < command.args.length
          ? `${key}: missing ${command.args.slice(args.length).join(' ')} (usage: ${PROGRAM} ${command.usage})`
          : `${key}: unexpected argument '${args[command.args.length]}' (usage: ${PROGRAM} ${command.usage})`,
      );
    const global: OptionName[] = ['json', 'endpoint', 'region', 'help'];
    for (const token of tokens)
      if (token.kind === 'option' && ![...global, ...command.options].includes(token.name as OptionName))
        throw new UsageError(
          `${key}: option --${token.name} does not apply (usage: ${PROGRAM} ${command.usage})`,
        );
    for (const option of command.required ?? [])
      if (values[option] === undefined)
        throw new UsageError(`${key}: --${option} is required (usage: ${PROGRAM} ${command.usage})`);
    // Checked before any call, so a typo costs no request.
    if (values.canary !== undefined) percentOf(values.canary);
    if (values.interval !== undefined) intervalOf(values.interval);
    if (values.port !== undefined) portOf(values.port);

    const endpoint = endpointOf(values.endpoint ?? full.env.ECS_REFLEX_ENDPOINT);
    const region = values.region ?? full.env.AWS_REGION ?? DEFAULT_REGION;
    const client = new OpsClient({ endpoint, region, env: full.env, sleep: full.sleep, now: full.now });
    const invocation = {
      args,
      values,
      client,
      endpoint,
      region,
      io: full,
      style: styleFor(full.stdout, full.env),
    };
    const answer = await command.run(invocation);
    return typeof answer === 'number' ? answer : printAccepted(answer, invocation);
  } catch (error) {
    return report(error, json, full);
  }
}

function parse(argv: string[]) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals, tokens: parsed.tokens };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function report(error: unknown, json: boolean, io: Required<CliIo>): number {
  const style = styleFor(io.stderr, io.env);
  const say = (text: string) => io.stderr.write(`${PROGRAM}: ${text}\n`);
  if (error instanceof UsageError || error instanceof CredentialsError) {
    if (json) io.stderr.write(`${JSON.stringify({ error: error.name, message: error.message })}\n`);
    else {
      say(error.message);
      if (error instanceof UsageError) io.stderr.write(`Run '${PROGRAM} --help' for usage.\n`);
    }
    return 2;
  }
  if (error instanceof ApiError) {
    const { problem } = error;
    if (json) io.stderr.write(`${JSON.stringify(problem)}\n`);
    else {
      say(`${style.red(problem.title)} (${problem.status}): ${problem.detail}`);
      for (const fault of problem.errors ?? [])
        io.stderr.write(`  ${style.bold(fault.field)}: ${fault.message}\n`);
    }
    return 1;
  }
  const message =
    error instanceof TransportError ? error.message : `unexpected error: ${(error as Error)?.stack ?? error}`;
  if (json) io.stderr.write(`${JSON.stringify({ error: (error as Error)?.name ?? 'Error', message })}\n`);
  else say(message);
  return 1;
}

// --- arguments ----------------------------------------------------------------------------------------

function endpointOf(value: string | undefined): string {
  if (!value) throw new UsageError('no endpoint: pass --endpoint URL or set ECS_REFLEX_ENDPOINT');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--endpoint '${value}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--endpoint '${value}' is not an http(s) URL`);
  return url.toString();
}

function percentOf(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n))
    throw new UsageError(`--canary '${value}' is not a whole number`);
  return n;
}

function portOf(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535)
    throw new UsageError(`--port '${value}' is not a port number (0..65535; 0 picks a free one)`);
  return n;
}

function intervalOf(value: string | undefined): number {
  if (value === undefined) return 5;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`--interval '${value}' is not a positive number of seconds`);
  return n;
}

/** The request file: a rollout request, or the workflow's input {"rollout": request} (with its name). */
function rolloutRequestFrom(path: string): { name?: string; rollout: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new UsageError(`--file ${path} must hold a JSON object`);
  const wrapped = document as { rollout?: unknown; name?: unknown };
  if (wrapped.rollout !== undefined)
    return { ...(typeof wrapped.name === 'string' ? { name: wrapped.name } : {}), rollout: wrapped.rollout };
  return { rollout: document };
}

// --- commands -----------------------------------------------------------------------------------------

async function status({ client, io, values, style }: Invocation): Promise<number> {
  const [{ rollouts }, { actions }] = await Promise.all([
    client.get<{ rollouts: RolloutSummary[] }>('/rollouts'),
    client.get<{ actions: Action[] }>('/actions', { limit: 10 }),
  ]);
  const shown: (RolloutSummary | RolloutView)[] = await Promise.all(
    rollouts.map((r) =>
      r.status === 'RUNNING' ? client.get<RolloutView>(`/rollouts/${encodeURIComponent(r.name)}`) : r,
    ),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ rollouts: shown, actions })}\n`);
    return 0;
  }
  const out = io.stdout;
  out.write(`${style.bold('Rollouts')}\n`);
  if (shown.length === 0) out.write('  none\n');
  else
    out.write(
      table(
        ['NAME', 'STATUS', 'STARTED', 'WHERE'],
        shown.map((r) => [
          r.name,
          statusText(r.status, style),
          r.startDate.replace(/\.\d{3}Z$/, 'Z'),
          'history' in r
            ? `${r.service ?? ''}  ${rolloutLine(r)}`.trim()
            : r.stopDate
              ? `ended ${r.stopDate.replace(/\.\d{3}Z$/, 'Z')}`
              : '',
        ]),
        style,
      ),
    );
  out.write(`${style.bold('Recent actions')}\n`);
  if (actions.length === 0) out.write('  none\n');
  else
    out.write(
      table(
        ['AT', 'REFLEX', 'ACTION', 'OUTCOME', 'TARGET', 'REASON'],
        actions.map((a) => [
          `${a.at.slice(0, 10)} ${clockTime(a.at)}`,
          a.reflex,
          a.action,
          resultText(a.outcome, style),
          shorten(a.target, 48),
          a.reason,
        ]),
        style,
      ),
    );
  return 0;
}

async function startRollout({ client, values }: Invocation): Promise<Accepted> {
  const request = rolloutRequestFrom(values.file!);
  const name = values.name ?? request.name;
  return client.write<Accepted>('POST', '/rollouts', {
    ...(name !== undefined ? { name } : {}),
    rollout: request.rollout,
    dryRun: values['dry-run'] === true,
  });
}

async function getWeights({ args, client, io, values, style }: Invocation): Promise<number> {
  const route = await client.get<RouteView>(`/routes/${encodeURIComponent(args[0]!)}`);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(route)}\n`);
    return 0;
  }
  const unicode = io.stdout.isTTY === true;
  const out = io.stdout;
  out.write(`${style.bold(route.name)}  ${style.dim(route.key)}\n`);
  for (const side of ['stable', 'canary'] as const)
    out.write(
      `  ${side.padEnd(6)} ${bar(route.weights[side] / 100, 30, unicode)} ${String(route.weights[side]).padStart(3)} %\n`,
    );
  out.write(`  owner  ${route.owner ? `rollout ${route.owner}` : 'none (no rollout holds it)'}\n`);
  return 0;
}

/**
 * The local signing proxy in front of the API, with this CLI's credentials, until Ctrl-C. The credentials
 * are resolved once up front (none: exit 2 before anything listens), then again every few minutes, so
 * that short-lived ones (SSO, roles) are renewed by their provider.
 */
async function dashboard({ values, endpoint, region, io, style }: Invocation): Promise<number> {
  let cached: { at: number; credentials: Promise<Credentials> } | undefined;
  const credentials = () => {
    const at = performance.now();
    if (!cached || at - cached.at > CREDENTIALS_TTL_MS) {
      const fresh = { at, credentials: credentialsFrom(io.env) };
      fresh.credentials.catch(() => {
        if (cached === fresh) cached = undefined;
      });
      cached = fresh;
    }
    return cached.credentials;
  };
  try {
    await credentials();
  } catch (error) {
    throw new CredentialsError(`no AWS credentials to sign with (${(error as Error).message})`);
  }
  const port = values.port === undefined ? DASHBOARD_PORT : portOf(values.port);
  let running: Awaited<ReturnType<typeof startDashboard>>;
  try {
    running = await startDashboard({ endpoint, credentials, region, port, clock: io.now });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`the dashboard cannot listen on 127.0.0.1:${port} (${code}); pick another --port`);
  }
  io.stdout.write(`${style.bold('ecs-reflex dashboard')}: ${running.url}\n`);
  io.stdout.write(`  the ops API at ${endpoint}, every call signed here (${region}); Ctrl-C to stop\n`);
  try {
    await io.untilStopped();
  } finally {
    await running.close();
  }
  return 0;
}

const DASHBOARD_PORT = 8788;
const CREDENTIALS_TTL_MS = 5 * 60_000;

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function printAccepted(answer: Accepted, { io, values, style }: Invocation): number {
  if (values.json) {
    io.stdout.write(`${JSON.stringify(answer)}\n`);
    return 0;
  }
  const label = answer.dryRun ? style.yellow('dry run') : style.green(answer.status);
  io.stdout.write(`${label}: ${answer.detail}\n`);
  if (answer.name && !answer.dryRun)
    io.stdout.write(`  follow it: ${PROGRAM} rollout watch ${answer.name}\n`);
  return 0;
}

// --- help ---------------------------------------------------------------------------------------------

function commandsOf(group: string): string[] {
  return Object.keys(COMMANDS)
    .filter((k) => k.startsWith(`${group} `))
    .map((k) => k.slice(group.length + 1));
}

export function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${PROGRAM} ${c.usage}\n      ${c.summary}`);
  return `Usage: ${PROGRAM} <command> [options]

The ecs-reflex ops API from a shell: every call signed with AWS SigV4 (execute-api).

Commands:
${lines.join('\n')}

Options (every command):
  --json           machine output: one JSON document (watch: one JSON object per line)
  --endpoint URL   the ops API (default: $ECS_REFLEX_ENDPOINT)
  --region R       the region requests are signed for (default: $AWS_REGION, else ${DEFAULT_REGION})
  -h, --help       this text

Credentials come from the standard AWS chain (environment, AWS_PROFILE, SSO, shared files, container or
instance roles). Against the local ops server, use its credential:
  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIAL.accessKeyId}
  export AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIAL.secretAccessKey}

Exit codes: 0 done (watch: the rollout SUCCEEDED), 1 the API refused or failed (or the rollout did not
succeed), 2 usage or setup error.
`;
}
