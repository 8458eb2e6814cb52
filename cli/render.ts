// What the CLI prints for people: the API's answers as short lines, tables and progress bars. Colours only
// on a terminal (and never with NO_COLOR or TERM=dumb); --json output never goes through here.

/** The answers the CLI shows, as the ops API documents them (events/opsApi.ts). */
export interface Weights {
  stable: number;
  canary: number;
}

export interface Action {
  at: string;
  reflex: string;
  action: string;
  target: string;
  reason: string;
  outcome: string;
}

export interface RolloutSummary {
  name: string;
  status: string;
  startDate: string;
  stopDate?: string;
}

export interface RolloutView extends RolloutSummary {
  service?: string;
  route?: string;
  error?: string;
  cause?: string;
  step?: number;
  steps?: number;
  weights?: Weights;
  next?: string;
  /** While it waits at a gate: why, after which step, and when it rolls back unless answered. */
  gate?: { reason: string; afterStep: number; since?: string; rollsBackAt?: string; secondsLeft?: number };
  lastAnalysis?: {
    at: string;
    result: string;
    outcomes: { check: string; result: string; reason: string }[];
  };
  history: Action[];
}

export interface RouteView {
  name: string;
  key: string;
  weights: Weights;
  targets: { id: string; weight: number }[];
  owner?: string;
}

export interface ServiceView {
  cluster: string;
  name: string;
  desired: number;
  running: number;
  pending: number;
  taskDefinition: string;
  deployments: { id: string; status: string; taskDefinition: string; rolloutState?: string }[];
  targetGroups: string[];
  taskHealth: { healthy: number; unhealthy: number; other: number };
  recentActions: Action[];
}

export interface InstancesView {
  instances: {
    ec2InstanceId: string;
    status: string;
    agentConnected: boolean;
    runningTasks: number;
    pendingTasks: number;
  }[];
  lifecycleWorkflows: RolloutSummary[];
}

export interface Accepted {
  status: string;
  dryRun: boolean;
  detail: string;
  name?: string;
  weights?: Weights;
}

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** A terminal's width. */
  columns?: number;
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const ansi = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
const plain = (text: string) => text;

export function styleFor(output: Output, env: Record<string, string | undefined>): Style {
  const colour = output.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  if (!colour) return { bold: plain, dim: plain, green: plain, red: plain, yellow: plain };
  return { bold: ansi('1'), dim: ansi('2'), green: ansi('32'), red: ansi('31'), yellow: ansi('33') };
}

/** A run's status, coloured by how it went. */
export function statusText(status: string, style: Style): string {
  if (status === 'SUCCEEDED') return style.green(status);
  if (status === 'RUNNING') return style.yellow(status);
  return style.red(status);
}

/** An analysis verdict (or an action's outcome), coloured. */
export function resultText(result: string, style: Style): string {
  if (result === 'pass' || result === 'done') return style.green(result);
  if (result === 'fail' || result === 'failed' || result === 'error') return style.red(result);
  return style.yellow(result);
}

/** `[██████░░░░░░]`: a share of `width` cells; ASCII when not on a terminal. */
export function bar(fraction: number, width: number, unicode: boolean): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(clamped * width);
  const [on, off] = unicode ? ['█', '░'] : ['#', '-'];
  return `[${on.repeat(full)}${off.repeat(width - full)}]`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][], style: Style): string {
  const widths = header.map((h, i) =>
    Math.max(visible(h).length, ...rows.map((r) => visible(r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell).length),
      )
      .join('  ')
      .trimEnd();
  return [style.dim(line(header)), ...rows.map(line)].map((l) => `  ${l}\n`).join('');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what this strips.
const visible = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Where a run is: its step, the weights it holds and what it does next, in a few words. The step is the
 * API's (`step` of `steps`, 1-based), as the dashboard and the gate's reason number it.
 */
export function progressText(view: RolloutView): string {
  const canary = view.weights?.canary;
  const at = canary === undefined ? '' : ` at ${canary} % canary`;
  const step = view.step ?? 0;
  const steps = view.steps ?? 0;
  if (view.status !== 'RUNNING')
    return view.error ? `${view.error}${view.cause ? `: ${view.cause}` : ''}` : '';
  switch (view.next) {
    case undefined:
      return 'starting';
    case 'shift':
      return step < steps ? `shifting to step ${step + 1}/${steps}` : 'shifting';
    case 'verify':
      return `checking the route holds${at}`;
    case 'bake':
      return `baking${at} (step ${step}/${steps}), then analysis`;
    case 'gate':
      return `waiting at a gate after step ${view.gate?.afterStep ?? step}/${steps}${at}: resume, promote or abort it`;
    case 'promote':
      return 'promoting: all traffic to the new version';
    case 'rollback':
      return 'rolling back: all traffic to stable';
    case 'scale-down':
      return 'promoted; scaling the old version down';
    case 'done':
      return 'finishing';
    default:
      return view.next;
  }
}

/** `step 1/2  canary 10 %  baking ...`: one line for a table or a log. */
export function rolloutLine(view: RolloutView): string {
  const parts: string[] = [];
  if (view.steps !== undefined) parts.push(`step ${view.step ?? 0}/${view.steps}`);
  if (view.weights) parts.push(`canary ${view.weights.canary} %`);
  const where = progressText(view);
  if (where) parts.push(where);
  return parts.join('  ');
}

/** Long text (an ARN) cut in the middle to `max` characters, keeping both ends. */
export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/** `2026-05-04T10:21:07.000Z` -> `2026-05-04 10:21:07 UTC`: every time the CLI prints, as the dashboard shows it. */
export const utcTime = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

/** The name part of an ARN (`web:2` of a task definition's), the whole ARN where there is none. */
export const shortArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** The reflexes' actions, a line each. */
export function actionTable(actions: Action[], style: Style): string {
  return table(
    ['AT', 'REFLEX', 'ACTION', 'OUTCOME', 'TARGET', 'REASON'],
    actions.map((a) => [
      utcTime(a.at),
      a.reflex,
      a.action,
      resultText(a.outcome, style),
      shorten(a.target, 48),
      a.reason,
    ]),
    style,
  );
}
