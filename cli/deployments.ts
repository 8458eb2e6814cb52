// `ecs-reflex deployments [CLUSTER SERVICE]`: the ECS native deployments of the services the deployment hook
// serves (GET /deployments), each with the hook's verdict at every stage it answered at, and the gate it
// waits at now with the commands that answer it. Times in UTC with the zone; revisions and ids short.
import { durationText } from './reflexes';
import { resultText, type Style, shortArn, table, utcTime } from './render';

interface Outcome {
  check: string;
  result: string;
  canary?: number;
  stable?: number;
  limit?: number;
  reason: string;
}

interface Gate {
  status: string;
  openedAt?: string;
  timesOutAt?: string;
  secondsLeft?: number;
  by?: string;
  at?: string;
  answered?: { decision: string; by: string; at: string };
}

interface Share {
  arn: string;
  productionWeight: number;
  testWeight: number;
}

/** GET /deployments, as the ops API documents it (events/opsApi.ts). */
export interface DeploymentView {
  cluster: string;
  service: string;
  id: string;
  arn: string;
  status: string;
  statusReason?: string;
  strategy?: string;
  lifecycleStage?: string;
  sourceRevisions: Share[];
  targetRevision: Share;
  createdAt?: string;
  finishedAt?: string;
  stoppedAt?: string;
  rollback?: { reason?: string; startedAt?: string };
  stages: {
    stage: string;
    answer: string;
    reason: string;
    lastAt: string;
    invocations: number;
    analyses: { at: string; result: string; outcomes: Outcome[] }[];
    gate?: Gate;
  }[];
  gate?: Gate & { stage: string };
  verdict?: { stage: string; hookStatus: string; reason: string; at: string };
  history?: { at: string; stage: string; hookStatus: string; reason: string; result?: string }[];
}

/** A deployment's status, coloured by how it went for the new revision. */
export function deploymentStatusText(status: string, style: Style): string {
  if (status === 'SUCCESSFUL') return style.green(status);
  if (status === 'PENDING' || status === 'IN_PROGRESS') return style.yellow(status);
  return style.red(status);
}

/** The hook's answer, coloured: SUCCEEDED lets ECS go on, FAILED rolls back. */
export function hookStatusText(status: string, style: Style): string {
  if (status === 'SUCCEEDED') return style.green(status);
  if (status === 'FAILED') return style.red(status);
  return style.yellow(status);
}

const percent = (share: Share) => `${share.productionWeight} % prod, ${share.testWeight} % test`;

/** `fail fail pass`: each analysis of a stage, oldest first, the last few. */
const ANALYSES_SHOWN = 6;
function analysesText(analyses: { result: string }[], style: Style): string {
  if (analyses.length === 0) return '';
  const shown = analyses.slice(-ANALYSES_SHOWN).map((a) => resultText(a.result, style));
  return `${analyses.length > ANALYSES_SHOWN ? '… ' : ''}${shown.join(' ')}`;
}

function gateText(gate: Gate | undefined): string {
  if (!gate) return '';
  if (gate.status === 'waiting')
    return `waiting since ${utcTime(gate.openedAt!)}${gate.answered ? `; ${gate.answered.decision} by ${gate.answered.by} at ${utcTime(gate.answered.at)}, read at the hook's next call` : ''}`;
  if (gate.status === 'timed-out') return `timed out (open since ${utcTime(gate.openedAt!)})`;
  return `${gate.status} by ${gate.by}${gate.at ? ` at ${utcTime(gate.at)}` : ''}`;
}

/** The numbers of an analysis's checks: `errors fail: canary 0.2, stable 0.0008, limit 0.05`. */
function outcomeLine(outcome: Outcome, style: Style): string {
  const numbers = (['canary', 'stable', 'limit'] as const)
    .filter((key) => outcome[key] !== undefined)
    .map((key) => `${key} ${Number(outcome[key]!.toPrecision(4))}`);
  return `${outcome.check} ${resultText(outcome.result, style)}: ${outcome.reason}${numbers.length ? ` (${numbers.join(', ')})` : ''}`;
}

/** A line per deployment, for `status`: where it is and the hook's latest word on it. */
export function deploymentTable(deployments: DeploymentView[], style: Style): string {
  return table(
    ['SERVICE', 'DEPLOYMENT', 'STRATEGY', 'STATUS', 'STAGE', 'HOOK'],
    deployments.map((d) => {
      const stage = d.stages.at(-1);
      const gate = d.gate
        ? `gate waiting at ${d.gate.stage}, ${durationText(d.gate.secondsLeft ?? 0)} left`
        : undefined;
      return [
        `${d.cluster}/${d.service}`,
        d.id,
        d.strategy ?? '',
        deploymentStatusText(d.status, style),
        d.lifecycleStage ?? '',
        gate ??
          (stage
            ? `${hookStatusText(stage.answer, style)} at ${stage.stage}: ${stage.reason}`
            : 'no answer yet'),
      ];
    }),
    style,
  );
}

/** What the CLI and the dashboard say when the API read as many journal lines as a view reads. */
export const TRUNCATED_NOTE =
  'note: more hook answers than one view reads; the oldest verdicts may be missing';

export function deploymentsText(deployments: DeploymentView[], style: Style): string {
  if (deployments.length === 0) return '  no native deployments of the services the deployment hook serves\n';
  return deployments.map((d) => deploymentText(d, style)).join('\n');
}

function deploymentText(d: DeploymentView, style: Style): string {
  const lines: string[] = [];
  const head = [
    style.bold(`${d.cluster}/${d.service}`),
    d.id,
    d.strategy ?? '',
    deploymentStatusText(d.status, style),
    d.lifecycleStage ? `at ${d.lifecycleStage}` : '',
  ].filter(Boolean);
  lines.push(`${head.join('  ')}\n`);
  const times = [
    d.createdAt ? `created ${utcTime(d.createdAt)}` : '',
    d.finishedAt ? `finished ${utcTime(d.finishedAt)}` : '',
    d.stoppedAt ? `stopped ${utcTime(d.stoppedAt)}` : '',
  ].filter(Boolean);
  if (times.length > 0) lines.push(`  ${times.join(', ')}\n`);
  const from = d.sourceRevisions.map((s) => `${shortArn(s.arn)} (${percent(s)})`).join(', ') || 'none';
  lines.push(`  revisions  ${from} → ${shortArn(d.targetRevision.arn)} (${percent(d.targetRevision)})\n`);
  if (d.statusReason) lines.push(`  ECS says   ${d.statusReason}\n`);
  if (d.stages.length === 0) lines.push('  the hook has not answered yet\n');
  else
    lines.push(
      table(
        ['STAGE', 'HOOK', 'ANALYSES', 'GATE', 'LAST', 'REASON'],
        d.stages.map((s) => [
          s.stage,
          hookStatusText(s.answer, style),
          analysesText(s.analyses, style),
          gateText(s.gate),
          utcTime(s.lastAt),
          s.reason,
        ]),
        style,
      ),
    );
  const lastAnalysis = d.stages.flatMap((s) => s.analyses).at(-1);
  if (lastAnalysis && lastAnalysis.result !== 'pass')
    for (const outcome of lastAnalysis.outcomes.filter((o) => o.result !== 'pass'))
      lines.push(`  ${outcomeLine(outcome, style)}\n`);
  if (d.verdict)
    lines.push(
      `  verdict    ${hookStatusText(d.verdict.hookStatus, style)} at ${d.verdict.stage}, ${utcTime(d.verdict.at)}: ${d.verdict.reason}\n`,
    );
  if (d.gate) {
    const left = d.gate.timesOutAt
      ? `; the hook fails at ${utcTime(d.gate.timesOutAt)} (${durationText(d.gate.secondsLeft ?? 0)} left) unless answered`
      : '';
    lines.push(`  ${style.yellow('gate')}       waiting at ${d.gate.stage}${left}\n`);
    const ids = `${d.cluster} ${d.service} ${d.id}`;
    lines.push(`  resume: ecs-reflex deployment resume ${ids}   abort: ecs-reflex deployment abort ${ids}\n`);
  }
  if (d.history?.length)
    lines.push(
      `${style.bold('  Answers')}\n`,
      table(
        ['AT', 'STAGE', 'HOOK', 'ANALYSIS', 'REASON'],
        d.history.map((h) => [
          utcTime(h.at),
          h.stage,
          hookStatusText(h.hookStatus, style),
          h.result ? resultText(h.result, style) : '',
          h.reason,
        ]),
        style,
      ),
    );
  return lines.join('');
}

// --- deployment watch ------------------------------------------------------------------------------------

/** Statuses after which ECS does no more with the deployment. */
const ENDED = ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'];
/** GET /deployments/{cluster}/{service} returns at most this many: the one watched is among them. */
const RECENT = 20;

export interface DeploymentWatchOptions {
  cluster: string;
  service: string;
  id: string;
  intervalMs: number;
  json: boolean;
  out: { write(chunk: string): unknown };
  style: Style;
  sleep: (ms: number) => Promise<void>;
}

/**
 * `deployment watch CLUSTER SERVICE ID`: polls the service's deployments until this one ends, a line per
 * answer of the hook and per change of status, stage or gate (with --json, one object per line). 0 when
 * ECS completed it (SUCCESSFUL), 1 otherwise.
 */
export async function watchDeployment(
  client: { get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T> },
  options: DeploymentWatchOptions,
): Promise<number> {
  const { cluster, service, id, out, style } = options;
  const path = `/deployments/${encodeURIComponent(cluster)}/${encodeURIComponent(service)}`;
  const line = options.json
    ? (value: Record<string, unknown>) => out.write(`${JSON.stringify(value)}\n`)
    : undefined;
  const seen = new Set<string>();
  let last = '';
  for (;;) {
    const { deployments } = await client.get<{ deployments: DeploymentView[] }>(path, { limit: RECENT });
    const d = deployments.find((candidate) => candidate.id === id);
    if (!d) {
      out.write(
        line
          ? `${JSON.stringify({ event: 'missing', id })}\n`
          : `deployment ${id} is not among the ${RECENT} most recent of ${cluster}/${service}\n`,
      );
      return 1;
    }
    for (const answer of d.history ?? []) {
      const key = `${answer.at}|${answer.stage}|${answer.hookStatus}|${answer.reason}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (line) line({ event: 'answer', ...answer });
      else
        out.write(
          `${style.dim(utcTime(answer.at))}  ${answer.stage}  ${hookStatusText(answer.hookStatus, style)}${answer.result ? `  analysis ${resultText(answer.result, style)}` : ''}: ${answer.reason}\n`,
        );
    }
    const state = { status: d.status, lifecycleStage: d.lifecycleStage, gate: d.gate?.status };
    if (JSON.stringify(state) !== last) {
      last = JSON.stringify(state);
      if (line) line({ event: 'state', id, ...state });
      else {
        out.write(
          `${cluster}/${service} ${id} ${deploymentStatusText(d.status, style)}${d.lifecycleStage ? ` at ${d.lifecycleStage}` : ''}\n`,
        );
        if (d.gate) {
          const ids = `${cluster} ${service} ${id}`;
          out.write(
            `  waiting at the hook's gate (${durationText(d.gate.secondsLeft ?? 0)} left); resume: ecs-reflex deployment resume ${ids}   abort: ecs-reflex deployment abort ${ids}\n`,
          );
        }
      }
    }
    if (ENDED.includes(d.status)) {
      const succeeded = d.status === 'SUCCESSFUL';
      if (line)
        line({ event: 'end', id, status: d.status, ...(d.verdict ? { verdict: d.verdict } : {}), succeeded });
      else
        out.write(
          `deployment ${id} ${deploymentStatusText(d.status, style)}${d.statusReason ? `: ${d.statusReason}` : ''}\n`,
        );
      return succeeded ? 0 : 1;
    }
    await options.sleep(options.intervalMs);
  }
}
