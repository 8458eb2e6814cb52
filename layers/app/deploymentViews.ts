// ECS native deployments of the services the deployment hook serves, with the hook's verdicts at each stage,
// for operators (GET /deployments). ECS describes the deployment (status, stage, revisions, times) but keeps
// no record of what a hook answered (lifecycleHookDetails says only where each hook run is), so the verdicts
// are read where the hook writes every answer: its journal, through the same action history GET /reflexes
// reads the other reflexes' journals with. A person's answer at a gate is the ops API's own journal line.
import { DEPLOYMENT_HOOK_REFLEX, HOOK_ANSWER_ACTION } from '#app/deploymentHook';
import { OPS_REFLEX } from '#app/opsApi';
import type { GateStanding } from '#domain/deploymentHook';
import { type CheckOutcome, runResult } from '#domain/rolloutAnalysis';
import type { HookService } from '#events/deploymentHook';
import type { ActionHistory, JournalEntry, NativeDeployment, NativeDeployments } from '#ports';

export interface DeploymentViewPorts {
  nativeDeployments: Pick<NativeDeployments, 'recent'>;
  actions: ActionHistory;
}

/** The operations of the ops API that answer a hook gate (events/opsApi.ts). */
const GATE_ANSWERS: Record<string, 'resume' | 'abort'> = {
  resumeDeploymentGate: 'resume',
  abortDeploymentGate: 'abort',
};

/**
 * Journal lines read per service: a gate held for hours at one answer a minute stays well inside. Reaching
 * either marks the view `truncated`: older verdicts may be missing from it.
 */
const HOOK_LINES_READ = 1000;
const GATE_ANSWER_LINES_READ = 200;

type Line = JournalEntry & { at: Date };

/** One answer of the hook, as its journal line holds it. */
interface HookLine {
  at: Date;
  /** `CLUSTER/SERVICE`. */
  service: string;
  deploymentId: string;
  stage: string;
  hookStatus: string;
  reason: string;
  callBackDelay?: number;
  outcomes: CheckOutcome[];
  gate?: GateStanding;
}

interface GateAnswerLine {
  at: Date;
  service: string;
  deploymentId: string;
  stage: string;
  decision: 'resume' | 'abort';
  by: string;
}

/** Each served service's recent deployments, newest first, each with its stages' verdicts. */
export async function deploymentsView(
  ports: DeploymentViewPorts,
  services: HookService[],
  options: { limit: number; now: Date; history?: boolean },
) {
  const listed = await Promise.all(
    services.map(async ({ cluster, service }) => ({
      cluster,
      service,
      deployments: await ports.nativeDeployments.recent(cluster, service, options.limit),
    })),
  );
  // Nothing to put verdicts beside: no journal read.
  if (listed.every((l) => l.deployments.length === 0)) return { deployments: [] };
  let truncated = false;
  const views = await Promise.all(
    listed.map(async ({ cluster, service, deployments }) => {
      if (deployments.length === 0) return [];
      // Each service's own lines, back to its oldest deployment shown: one service's answers, or the ops
      // API's other actions, crowd out no other service's verdicts.
      const created = deployments.map((d) => d.createdAt?.getTime() ?? Number.NaN);
      const oldest = Math.min(...created.filter(Number.isFinite));
      const since = Number.isFinite(oldest) ? { since: new Date(oldest) } : {};
      const targetPrefix = `${cluster}/${service} `;
      const [hookLines, gateLines] = await Promise.all([
        ports.actions.recent({
          reflex: DEPLOYMENT_HOOK_REFLEX,
          actions: [HOOK_ANSWER_ACTION],
          targetPrefix,
          limit: HOOK_LINES_READ,
          ...since,
        }),
        ports.actions.recent({
          reflex: OPS_REFLEX,
          actions: Object.keys(GATE_ANSWERS),
          targetPrefix,
          limit: GATE_ANSWER_LINES_READ,
          ...since,
        }),
      ]);
      if (hookLines.length >= HOOK_LINES_READ || gateLines.length >= GATE_ANSWER_LINES_READ) truncated = true;
      const answers = hookLines.flatMap(hookLineOf).reverse();
      const gateAnswers = gateLines.flatMap(gateAnswerOf).reverse();
      return deployments.map((deployment) => {
        const id = idOf(deployment.arn);
        const mine = (line: { service: string; deploymentId: string }) =>
          line.service === `${cluster}/${service}` && line.deploymentId === id;
        return deploymentView(
          cluster,
          service,
          deployment,
          answers.filter(mine),
          gateAnswers.filter(mine),
          options,
        );
      });
    }),
  );
  return { deployments: views.flat(), ...(truncated ? { truncated } : {}) };
}

function deploymentView(
  cluster: string,
  service: string,
  deployment: NativeDeployment,
  answers: HookLine[],
  gateAnswers: GateAnswerLine[],
  options: { now: Date; history?: boolean },
) {
  const stageNames = [...new Set(answers.map((a) => a.stage))];
  const stages = stageNames.map((stage) =>
    stageView(
      stage,
      answers.filter((a) => a.stage === stage),
      gateAnswers.filter((g) => g.stage === stage),
      options.now,
    ),
  );
  const last = answers.at(-1);
  const running = deployment.status === 'IN_PROGRESS' || deployment.status === 'PENDING';
  // A gate is open only at the stage ECS is at now, and only while the deployment runs.
  const waiting = stages.find(
    (s) => running && s.stage === deployment.lifecycleStage && s.gate?.status === 'waiting',
  );
  const decided = [...answers].reverse().find((a) => a.hookStatus !== 'IN_PROGRESS');
  return {
    cluster,
    service,
    id: idOf(deployment.arn),
    arn: deployment.arn,
    status: deployment.status,
    ...(deployment.statusReason ? { statusReason: deployment.statusReason } : {}),
    ...(deployment.strategy ? { strategy: deployment.strategy } : {}),
    ...(deployment.lifecycleStage ? { lifecycleStage: deployment.lifecycleStage } : {}),
    sourceRevisions: deployment.sources,
    targetRevision: deployment.target,
    ...(deployment.createdAt ? { createdAt: deployment.createdAt.toISOString() } : {}),
    ...(deployment.finishedAt ? { finishedAt: deployment.finishedAt.toISOString() } : {}),
    ...(deployment.stoppedAt ? { stoppedAt: deployment.stoppedAt.toISOString() } : {}),
    ...(deployment.rollback
      ? {
          rollback: {
            ...(deployment.rollback.reason ? { reason: deployment.rollback.reason } : {}),
            ...(deployment.rollback.startedAt
              ? { startedAt: deployment.rollback.startedAt.toISOString() }
              : {}),
          },
        }
      : {}),
    hookRuns: (deployment.hookRuns ?? []).map((run) => ({
      ...(run.hookTargetArn ? { hookTargetArn: run.hookTargetArn } : {}),
      ...(run.status ? { status: run.status } : {}),
      ...(run.expiresAt ? { expiresAt: run.expiresAt.toISOString() } : {}),
    })),
    stages,
    ...(waiting?.gate ? { gate: { stage: waiting.stage, ...waiting.gate } } : {}),
    // The hook's last word that decided a stage: FAILED is why ECS rolled back.
    ...(decided
      ? {
          verdict: {
            stage: decided.stage,
            hookStatus: decided.hookStatus,
            reason: decided.reason,
            at: decided.at.toISOString(),
          },
        }
      : {}),
    ...(last ? { lastAnswerAt: last.at.toISOString() } : {}),
    ...(options.history ? { history: answers.map(answerView) } : {}),
  };
}

function stageView(stage: string, answers: HookLine[], gateAnswers: GateAnswerLine[], now: Date) {
  const last = answers.at(-1)!;
  const analyses = answers.filter((a) => a.outcomes.length > 0);
  const standing = [...answers].reverse().find((a) => a.gate)?.gate;
  const person = gateAnswers.at(-1);
  return {
    stage,
    answer: last.hookStatus,
    reason: last.reason,
    firstAt: answers[0]!.at.toISOString(),
    lastAt: last.at.toISOString(),
    invocations: answers.length,
    analyses: analyses.map((a) => ({
      at: a.at.toISOString(),
      result: runResult(a.outcomes),
      outcomes: a.outcomes,
    })),
    ...(standing ? { gate: gateView(standing, person, now) } : {}),
  };
}

/**
 * The gate as the hook last saw it, with the person who answered and when (the ops API's line). An answer
 * given while the hook still waits is shown with the wait: the hook reads it at its next invocation.
 */
function gateView(standing: GateStanding, person: GateAnswerLine | undefined, now: Date) {
  const answered = person
    ? { decision: person.decision, by: person.by, at: person.at.toISOString() }
    : undefined;
  if (standing.status === 'waiting')
    return {
      status: standing.status,
      openedAt: standing.openedAt,
      timesOutAt: standing.timesOutAt,
      secondsLeft: Math.max(0, Math.round((Date.parse(standing.timesOutAt) - now.getTime()) / 1000)),
      ...(answered ? { answered } : {}),
    };
  if (standing.status === 'timed-out') return { status: standing.status, openedAt: standing.openedAt };
  return {
    status: standing.status,
    by: standing.by,
    ...(answered && DECIDED[answered.decision] === standing.status ? { at: answered.at } : {}),
  };
}

const DECIDED = { resume: 'resumed', abort: 'aborted' } as const;

const answerView = (a: HookLine) => ({
  at: a.at.toISOString(),
  stage: a.stage,
  hookStatus: a.hookStatus,
  reason: a.reason,
  ...(a.callBackDelay !== undefined ? { callBackDelay: a.callBackDelay } : {}),
  ...(a.outcomes.length > 0 ? { result: runResult(a.outcomes), outcomes: a.outcomes } : {}),
  ...(a.gate ? { gate: a.gate } : {}),
});

const idOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** The hook's `answer-hook` line (target `CLUSTER/SERVICE ID STAGE`, reason `STATUS: why`); nothing else. */
function hookLineOf(line: Line): HookLine[] {
  const [service, deploymentId, stage] = line.target.split(' ');
  const detail = line.detail ?? {};
  if (
    line.action !== HOOK_ANSWER_ACTION ||
    !service ||
    !deploymentId ||
    !stage ||
    typeof detail.hookStatus !== 'string'
  )
    return [];
  const prefix = `${detail.hookStatus}: `;
  return [
    {
      at: line.at,
      service,
      deploymentId,
      stage,
      hookStatus: detail.hookStatus,
      reason: line.reason.startsWith(prefix) ? line.reason.slice(prefix.length) : line.reason,
      ...(typeof detail.callBackDelay === 'number' ? { callBackDelay: detail.callBackDelay } : {}),
      outcomes: Array.isArray(detail.outcomes) ? (detail.outcomes as CheckOutcome[]) : [],
      ...(detail.gate && typeof detail.gate === 'object' ? { gate: detail.gate as GateStanding } : {}),
    },
  ];
}

/** A person's resume or abort the ops API carried out (target `CLUSTER/SERVICE ID STAGE`), not a dry run. */
function gateAnswerOf(line: Line): GateAnswerLine[] {
  const decision = GATE_ANSWERS[line.action];
  const [service, deploymentId, stage] = line.target.split(' ');
  if (!decision || line.outcome !== 'done' || !service || !deploymentId || !stage) return [];
  const by = typeof line.detail?.caller === 'string' ? line.detail.caller : 'unknown';
  return [{ at: line.at, service, deploymentId, stage, decision, by }];
}
