// `ecs-reflex`: the ops API from a shell. Every command is one or a few signed calls to the API (status,
// rollouts, route weights, services, instances), printed for people or, with --json, for programs.
// Exit codes: 0 done, 1 the API refused or failed (its problem document is printed), 2 a usage or setup
// error (bad arguments, no endpoint, no credentials). No process.exit here: main returns the code.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDashboard } from '#local/api/dashboardProxy';
import { type Credentials, LOCAL_CREDENTIAL, LOCAL_REGION } from '#local/api/sigv4';
import { didYouMean } from '#runtime/didYouMean';
import { version } from '../package.json';
import { ApiError, CredentialsError, credentialsFrom, OpsClient, TransportError } from './client';
import {
  type DeploymentView,
  deploymentsText,
  deploymentTable,
  TRUNCATED_NOTE,
  watchDeployment,
} from './deployments';
import { type ReflexesView, reflexesText } from './reflexes';
import {
  type Accepted,
  type Action,
  actionTable,
  bar,
  type InstancesView,
  type Output,
  type RolloutSummary,
  type RolloutView,
  type RouteView,
  rolloutLine,
  type ServiceView,
  type Style,
  shortArn,
  statusText,
  styleFor,
  table,
  utcTime,
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

/** A command line that cannot be run as written: exit 2, with a pointer to --help. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  json: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  name: { type: 'string' },
  'dry-run': { type: 'boolean' },
  interval: { type: 'string' },
  reason: { type: 'string' },
  canary: { type: 'string' },
  force: { type: 'boolean' },
  cluster: { type: 'string' },
  port: { type: 'string' },
  reflex: { type: 'string' },
  target: { type: 'string' },
  limit: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Each option as `--help` shows it: its form and what it does. */
const OPTION_HELP: Record<OptionName, string> = {
  json: '--json           machine output: one JSON document (watch: one JSON object per line)',
  endpoint: '--endpoint URL   the ops API (default: $ECS_REFLEX_ENDPOINT)',
  region: "--region R       the region requests are signed for (default: the endpoint's, else $AWS_REGION)",
  help: '-h, --help       help: for everything, or for the command before it',
  version: '--version        the version of this CLI',
  file: '-f, --file F     the JSON file holding the request',
  name: "--name N         the rollout's name (default: the file's, else one made up)",
  'dry-run': '--dry-run        ask the API what it would do, and do nothing',
  interval: '--interval S     seconds between two looks (default 5)',
  reason: '--reason R       why, for the journal and the notifications',
  canary: "--canary N       the canary's percent of the traffic, 0..100",
  force: '--force          even while a rollout owns the route',
  cluster: '--cluster C      the cluster the instance belongs to',
  port: '--port P         the local port to serve on',
  reflex:
    '--reflex R       only this reflex (task-recycler, instance-lifecycle, alarm-reactor, rollout, ops-api, deployment-hook)',
  target: '--target T       only actions on this target (an ARN or a name)',
  limit: '--limit N        at most N: actions 1..200 (default 50); deployments per service 1..20',
};

/** Options every command takes. */
const GLOBAL_OPTIONS: OptionName[] = ['json', 'endpoint', 'region', 'help'];

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
  /** Its positional arguments, in order; `[NAME]` is optional. */
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
  services: {
    usage: 'services [CLUSTER] [SERVICE]',
    summary:
      "the services of every cluster, or of one; with SERVICE, its tasks, deployments and the reflexes' actions on it",
    args: ['[CLUSTER]', '[SERVICE]'],
    options: [],
    run: services,
  },
  instances: {
    usage: 'instances [CLUSTER]',
    summary: 'the container instances of every cluster, or of one, and their lifecycle workflows',
    args: ['[CLUSTER]'],
    options: [],
    run: instances,
  },
  actions: {
    usage: 'actions [--reflex R] [--target T] [--limit N]',
    summary: "the reflexes' recent actions, most recent first",
    args: [],
    options: ['reflex', 'target', 'limit'],
    run: actions,
  },
  reflexes: {
    usage: 'reflexes',
    summary:
      "the other reflexes now: the alarm reactor's changes in place, restarts given up, tasks marked unhealthy, lifecycle actions in progress, dead-letter queue depths, dry-run",
    args: [],
    options: [],
    run: reflexes,
  },
  deployments: {
    usage: 'deployments [CLUSTER SERVICE] [--limit N]',
    summary:
      "ECS native deployments of the services the deployment hook serves, with the hook's verdict at each stage and the gate waiting now; with CLUSTER SERVICE (or CLUSTER/SERVICE), that service's, with every answer",
    args: ['[CLUSTER]', '[SERVICE]'],
    options: ['limit'],
    run: deployments,
  },
  routes: {
    usage: 'routes',
    summary: 'the routes rollouts may run on, their weights and the rollout holding each',
    args: [],
    options: [],
    run: routes,
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
  ...Object.fromEntries(
    (['resume', 'abort'] as const).map((verb): [string, Command] => [
      `deployment ${verb}`,
      {
        usage: `deployment ${verb} CLUSTER SERVICE DEPLOYMENT_ID [--reason R] [--dry-run]`,
        summary: {
          resume: "let an ECS native deployment past the deployment hook's gate",
          abort: 'fail the deployment hook at its gate: ECS rolls the deployment back',
        }[verb],
        args: ['CLUSTER', 'SERVICE', 'DEPLOYMENT_ID'],
        options: ['reason', 'dry-run'],
        run: ({ args, values, client }) =>
          client.write<Accepted>(
            'POST',
            `/deployments/${args.map((arg) => encodeURIComponent(arg)).join('/')}/${verb}`,
            {
              ...(values.reason !== undefined ? { reason: values.reason } : {}),
              dryRun: values['dry-run'] === true,
            },
          ),
      },
    ]),
  ),
  'deployment watch': {
    usage: 'deployment watch CLUSTER SERVICE DEPLOYMENT_ID [--interval SECONDS]',
    summary:
      'follow an ECS native deployment of a service the hook serves until it ends, a line per answer of the hook (every 5 s by default); exit 0 only if it was SUCCESSFUL',
    args: ['CLUSTER', 'SERVICE', 'DEPLOYMENT_ID'],
    options: ['interval'],
    run: ({ args, values, client, io, style }) =>
      watchDeployment(client, {
        cluster: args[0]!,
        service: args[1]!,
        id: args[2]!,
        intervalMs: intervalOf(values.interval) * 1000,
        json: values.json === true,
        out: io.stdout,
        style,
        sleep: io.sleep,
      }),
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

const GROUPS = new Set(['rollout', 'weights', 'deployment']);

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
    if (values.version) {
      full.stdout.write(`${PROGRAM} ${version}\n`);
      return 0;
    }
    if (values.help || positionals[0] === 'help') {
      full.stdout.write(helpFor(positionals[0] === 'help' ? positionals.slice(1) : positionals));
      return 0;
    }
    const { key, command } = commandOf(positionals);
    const args = positionals.slice(key.split(' ').length);
    const required = command.args.filter((a) => !a.startsWith('['));
    if (args.length < required.length || args.length > command.args.length)
      throw new UsageError(
        args.length < required.length
          ? `${key}: missing ${required.slice(args.length).join(' ')} (usage: ${PROGRAM} ${command.usage})`
          : `${key}: unexpected argument '${args[command.args.length]}' (usage: ${PROGRAM} ${command.usage})`,
      );
    const takes = [...GLOBAL_OPTIONS, ...command.options];
    for (const token of tokens)
      if (token.kind === 'option' && !takes.includes(token.name as OptionName))
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
    if (values.limit !== undefined) limitOf(values.limit);

    const endpoint = endpointOf(values.endpoint ?? full.env.ECS_REFLEX_ENDPOINT);
    const region = regionOf(values.region, endpoint, full.env);
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

/** The command the positionals name (`status`, `rollout start`), or a usage error that says what is. */
function commandOf(positionals: string[]): { key: string; command: Command } {
  const [group, sub] = positionals;
  if (group === undefined) throw new UsageError('a command is required');
  if (GROUPS.has(group)) {
    const key = `${group} ${sub ?? ''}`.trim();
    const command = COMMANDS[key];
    if (command) return { key, command };
    const verbs = commandsOf(group);
    throw new UsageError(
      sub === undefined
        ? `'${group}' needs one of: ${verbs.join(', ')}`
        : `unknown command '${key}'${didYouMean(sub, verbs, (verb) => `'${group} ${verb}'`)}; '${group}' takes one of: ${verbs.join(', ')}`,
    );
  }
  const command = COMMANDS[group];
  if (command) return { key: group, command };
  const names = [...new Set(Object.keys(COMMANDS).map((k) => k.split(' ')[0]!))];
  throw new UsageError(`unknown command '${group}'${didYouMean(group, names)}`);
}

/**
 * The command line's options and positionals, checked here rather than by parseArgs' strict mode, so that
 * each mistake is said in this CLI's words, with the option that was probably meant.
 */
function parse(argv: string[]) {
  const parsed = parseArgs({
    args: argv,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const known = Object.keys(OPTIONS) as OptionName[];
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const option = OPTIONS[token.name as OptionName];
    if (!option)
      throw new UsageError(
        `unknown option ${token.rawName}${didYouMean(token.name, known, (name) => `--${name}`)}`,
      );
    // Not strict, parseArgs gives a string option the next word even when it is another option:
    // `--reason --dry-run` must not turn a dry run into a write with the reason "--dry-run".
    if (
      option.type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    )
      throw new UsageError(`${token.rawName} needs a value: ${OPTION_HELP[token.name as OptionName].trim()}`);
    if (option.type === 'boolean' && token.inlineValue)
      throw new UsageError(`${token.rawName} takes no value (given '${token.value}')`);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals, tokens: parsed.tokens };
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
      // The detail often repeats the first fault ("invalid request: body.canary: ..."): that part is left
      // to the list, so that each fault is printed once, on its own line.
      const [first] = problem.errors ?? [];
      const repeated = first ? `: ${first.field}: ${first.message}` : undefined;
      const detail =
        repeated && problem.detail.endsWith(repeated)
          ? problem.detail.slice(0, -repeated.length)
          : problem.detail;
      say(`${style.red(problem.title)} (${problem.status}): ${detail}`);
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

/** `execute-api.<region>.amazonaws.com`: API Gateway's hostnames name their region. */
const REGION_IN_HOST = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The region requests are signed for: the one asked for, else the one the endpoint's hostname names, else
 * the local ops server's for a local endpoint, else the environment's. A signature for another region than the
 * API's is refused by API Gateway with a 403 after the call; a mismatch is refused here, before any call.
 */
function regionOf(asked: string | undefined, endpoint: string, env: CliIo['env']): string {
  const host = new URL(endpoint).hostname;
  const named = REGION_IN_HOST.exec(host)?.[1];
  if (asked !== undefined && named !== undefined && asked !== named)
    throw new UsageError(`--region ${asked}, but the endpoint ${host} is in ${named}: leave --region out`);
  const region =
    asked ?? named ?? (LOOPBACK.has(host) ? LOCAL_REGION : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION));
  if (region) return region;
  throw new UsageError(`the endpoint ${host} names no region: pass --region or set AWS_REGION`);
}

function limitOf(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 200)
    throw new UsageError(`--limit '${value}' is not a whole number from 1 to 200`);
  return n;
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
  const [{ rollouts }, { actions }, { deployments }] = await Promise.all([
    client.get<{ rollouts: RolloutSummary[] }>('/rollouts'),
    client.get<{ actions: Action[] }>('/actions', { limit: 10 }),
    // Next to the rollouts: each hook service's latest native deployment and where the hook stands on it.
    client.get<{ deployments: DeploymentView[] }>('/deployments', { limit: 1 }),
  ]);
  const shown: (RolloutSummary | RolloutView)[] = await Promise.all(
    rollouts.map((r) =>
      r.status === 'RUNNING' ? client.get<RolloutView>(`/rollouts/${encodeURIComponent(r.name)}`) : r,
    ),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ rollouts: shown, deployments, actions })}\n`);
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
          utcTime(r.startDate),
          'history' in r
            ? `${r.service ?? ''}  ${rolloutLine(r)}`.trim()
            : r.stopDate
              ? `ended ${utcTime(r.stopDate)}`
              : '',
        ]),
        style,
      ),
    );
  if (deployments.length > 0) {
    out.write(`${style.bold('Native deployments')}\n`);
    out.write(deploymentTable(deployments, style));
  }
  out.write(`${style.bold('Recent actions')}\n`);
  out.write(actions.length === 0 ? '  none\n' : actionTable(actions, style));
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

/** The clusters named, or all those the API shows. */
async function clustersOf(client: OpsClient, named: string | undefined): Promise<string[]> {
  return named === undefined ? (await client.get<{ clusters: string[] }>('/clusters')).clusters : [named];
}

async function services({ args, client, io, values, style }: Invocation): Promise<number> {
  const [cluster, service] = args;
  if (service !== undefined) return serviceDetail(cluster!, service, { client, io, values, style });
  const listed = await Promise.all(
    (await clustersOf(client, cluster)).map(async (c) => ({
      cluster: c,
      services: (await client.get<{ services: string[] }>(`/services/${encodeURIComponent(c)}`)).services,
    })),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ clusters: listed })}\n`);
    return 0;
  }
  const rows = listed.flatMap((l) => l.services.map((s) => [l.cluster, s]));
  io.stdout.write(rows.length === 0 ? '  no services\n' : table(['CLUSTER', 'SERVICE'], rows, style));
  return 0;
}

async function serviceDetail(
  cluster: string,
  service: string,
  { client, io, values, style }: Pick<Invocation, 'client' | 'io' | 'values' | 'style'>,
): Promise<number> {
  const view = await client.get<ServiceView>(
    `/services/${encodeURIComponent(cluster)}/${encodeURIComponent(service)}`,
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify(view)}\n`);
    return 0;
  }
  const out = io.stdout;
  const { healthy, unhealthy, other } = view.taskHealth;
  out.write(`${style.bold(`${view.cluster}/${view.name}`)}  ${style.dim(shortArn(view.taskDefinition))}\n`);
  out.write(`  tasks    ${view.running} running, ${view.pending} pending of ${view.desired} desired\n`);
  if (view.targetGroups.length > 0)
    out.write(`  targets  ${healthy} healthy, ${unhealthy} unhealthy, ${other} other\n`);
  out.write(`${style.bold('Deployments')}\n`);
  out.write(
    table(
      ['ID', 'STATUS', 'ROLLOUT', 'TASK DEFINITION'],
      view.deployments.map((d) => [d.id, d.status, d.rolloutState ?? '', shortArn(d.taskDefinition)]),
      style,
    ),
  );
  out.write(`${style.bold('Recent actions')}\n`);
  out.write(view.recentActions.length === 0 ? '  none\n' : actionTable(view.recentActions, style));
  return 0;
}

async function instances({ args, client, io, values, style }: Invocation): Promise<number> {
  const listed = await Promise.all(
    (await clustersOf(client, args[0])).map(async (cluster) => ({
      cluster,
      ...(await client.get<InstancesView>(`/instances/${encodeURIComponent(cluster)}`)),
    })),
  );
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ clusters: listed })}\n`);
    return 0;
  }
  const out = io.stdout;
  const rows = listed.flatMap((l) =>
    l.instances.map((i) => [
      l.cluster,
      i.ec2InstanceId,
      i.status,
      i.agentConnected ? 'connected' : style.red('disconnected'),
      String(i.runningTasks),
      String(i.pendingTasks),
    ]),
  );
  out.write(
    rows.length === 0
      ? '  no container instances\n'
      : table(['CLUSTER', 'INSTANCE', 'STATUS', 'AGENT', 'RUNNING', 'PENDING'], rows, style),
  );
  const workflows = listed.flatMap((l) => l.lifecycleWorkflows);
  if (workflows.length > 0) {
    out.write(`${style.bold('Lifecycle workflows')}\n`);
    out.write(
      table(
        ['NAME', 'STATUS', 'STARTED'],
        workflows.map((w) => [w.name, statusText(w.status, style), utcTime(w.startDate)]),
        style,
      ),
    );
  }
  return 0;
}

async function actions({ client, io, values, style }: Invocation): Promise<number> {
  const { actions: list } = await client.get<{ actions: Action[] }>('/actions', {
    reflex: values.reflex,
    target: values.target,
    limit: values.limit === undefined ? undefined : limitOf(values.limit),
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ actions: list })}\n`);
    return 0;
  }
  io.stdout.write(list.length === 0 ? '  none\n' : actionTable(list, style));
  return 0;
}

async function deployments({ args, client, io, values, style }: Invocation): Promise<number> {
  const [cluster, service] = args.length === 1 ? args[0]!.split('/') : args;
  if (cluster !== undefined && (service === undefined || service === '' || args[0]!.split('/').length > 2))
    throw new UsageError(
      `deployments: name a service as CLUSTER SERVICE or CLUSTER/SERVICE, not '${args.join(' ')}'`,
    );
  const limit = values.limit === undefined ? undefined : deploymentLimitOf(values.limit);
  const path =
    cluster === undefined
      ? '/deployments'
      : `/deployments/${encodeURIComponent(cluster)}/${encodeURIComponent(service!)}`;
  const { deployments: list, truncated } = await client.get<{
    deployments: DeploymentView[];
    truncated?: true;
  }>(path, { limit });
  if (values.json)
    io.stdout.write(`${JSON.stringify({ deployments: list, ...(truncated ? { truncated } : {}) })}\n`);
  else io.stdout.write(deploymentsText(list, style) + (truncated ? `  ${TRUNCATED_NOTE}\n` : ''));
  return 0;
}

function deploymentLimitOf(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1 || n > 20)
    throw new UsageError(`--limit '${value}' is not a whole number from 1 to 20`);
  return n;
}

async function routes({ client, io, values, style }: Invocation): Promise<number> {
  const { routes: list } = await client.get<{ routes: RouteView[] }>('/routes');
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ routes: list })}\n`);
    return 0;
  }
  io.stdout.write(
    list.length === 0
      ? '  no routes configured\n'
      : table(
          ['ROUTE', 'STABLE', 'CANARY', 'OWNER'],
          list.map((r) => [r.name, `${r.weights.stable} %`, `${r.weights.canary} %`, r.owner ?? '']),
          style,
        ),
  );
  return 0;
}

async function reflexes({ client, io, values, style }: Invocation): Promise<number> {
  const view = await client.get<ReflexesView>('/reflexes');
  io.stdout.write(values.json ? `${JSON.stringify(view)}\n` : reflexesText(view, style));
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

/** Help for what the words name: everything, a group (`rollout`) or one command (`rollout start`). */
export function helpFor(words: string[]): string {
  if (words.length === 0) return help();
  const { key, command } =
    GROUPS.has(words[0]!) && words[1] === undefined
      ? { key: words[0]!, command: undefined }
      : commandOf(words);
  if (!command) {
    const lines = commandsOf(key).map((verb) => {
      const c = COMMANDS[`${key} ${verb}`]!;
      return `  ${PROGRAM} ${c.usage}\n      ${c.summary}`;
    });
    return `Usage: ${PROGRAM} ${key} <${commandsOf(key).join('|')}> [options]\n\n${lines.join('\n')}\n\nRun '${PROGRAM} ${key} <command> --help' for one of them.\n`;
  }
  const options = [...command.options, ...GLOBAL_OPTIONS].map((o) => `  ${OPTION_HELP[o]}`);
  return `Usage: ${PROGRAM} ${command.usage}\n\n${command.summary}\n\nOptions:\n${options.join('\n')}\n`;
}

export function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${PROGRAM} ${c.usage}\n      ${c.summary}`);
  return `Usage: ${PROGRAM} <command> [options]

The ecs-reflex ops API from a shell: every call signed with AWS SigV4 (execute-api).

Commands:
${lines.join('\n')}

Options (every command):
${[...GLOBAL_OPTIONS, 'version' as const].map((o) => `  ${OPTION_HELP[o]}`).join('\n')}
Run '${PROGRAM} <command> --help' for a command's own options.

Credentials come from the standard AWS chain (environment, AWS_PROFILE, SSO, shared files, container or
instance roles). Against the local ops server, use its credential:
  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIAL.accessKeyId}
  export AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIAL.secretAccessKey}

Exit codes: 0 done (watch: the rollout SUCCEEDED), 1 the API refused or failed (or the rollout did not
succeed), 2 usage or setup error.
`;
}
