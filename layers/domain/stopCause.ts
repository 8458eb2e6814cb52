// Why did a task stop? ECS says it in three places (stopCode, stoppedReason, the containers' exit codes
// and reasons) and none is enough alone. The order of the checks below matters: the most specific
// evidence wins, so an ELB health check stop is not mistaken for a deployment because both come from
// the service scheduler.
import type { Task } from '#domain/model';

export type StopCause =
  | 'crash'
  | 'out-of-memory'
  | 'container-health-check'
  | 'elb-health-check'
  | 'image-pull'
  | 'start-failure'
  | 'placement'
  | 'spot-interruption'
  | 'termination-notice'
  | 'infrastructure'
  | 'stopped-unhealthy'
  | 'scheduler-stop'
  | 'user-stop'
  | 'completed'
  | 'unknown';

export interface StopClassification {
  cause: StopCause;
  /** The task itself went wrong (as opposed to being stopped on purpose or by the platform). */
  failure: boolean;
  /** Evidence that the task definition is bad: these count toward the crash-loop breaker. */
  crashLoopEvidence: boolean;
  /** A standalone task stopped this way deserves another run. */
  restartable: boolean;
  detail: string;
}

/** Prefix of every stop reason ecs-reflex writes, so its own stops are recognised later. */
export const REFLEX_STOP_PREFIX = 'ecs-reflex:';

const byCause: Record<StopCause, Omit<StopClassification, 'cause' | 'detail'>> = {
  crash: { failure: true, crashLoopEvidence: true, restartable: true },
  'out-of-memory': { failure: true, crashLoopEvidence: true, restartable: true },
  'container-health-check': { failure: true, crashLoopEvidence: true, restartable: true },
  'elb-health-check': { failure: true, crashLoopEvidence: true, restartable: true },
  'image-pull': { failure: true, crashLoopEvidence: true, restartable: true },
  // ResourceInitializationError, CannotStartContainerError, ...: secrets, volumes, the command itself.
  'start-failure': { failure: true, crashLoopEvidence: true, restartable: true },
  // Capacity is missing, not the task broken: retrying with backoff helps, rolling back would not.
  placement: { failure: true, crashLoopEvidence: false, restartable: true },
  // The platform took the host away; the work was lost through no fault of the task.
  'spot-interruption': { failure: false, crashLoopEvidence: false, restartable: true },
  'termination-notice': { failure: false, crashLoopEvidence: false, restartable: true },
  infrastructure: { failure: false, crashLoopEvidence: false, restartable: true },
  // ecs-reflex stopped it for being unhealthy in a target group nobody else watches.
  'stopped-unhealthy': { failure: true, crashLoopEvidence: false, restartable: true },
  // Deployments and scale-in: ECS gives both the same reason, "Scaling activity initiated by (deployment ...)".
  'scheduler-stop': { failure: false, crashLoopEvidence: false, restartable: false },
  'user-stop': { failure: false, crashLoopEvidence: false, restartable: false },
  completed: { failure: false, crashLoopEvidence: false, restartable: false },
  unknown: { failure: false, crashLoopEvidence: false, restartable: false },
};

function classified(cause: StopCause, detail: string): StopClassification {
  return { cause, detail, ...byCause[cause] };
}

export function classifyStop(
  task: Pick<Task, 'stopCode' | 'stoppedReason' | 'containers'>,
): StopClassification {
  const reason = task.stoppedReason ?? '';
  const containerReasons = task.containers.map((c) => c.reason ?? '').join(' | ');
  const evidence = `${reason} ${containerReasons}`;

  if (/RESOURCE:/.test(evidence)) return classified('placement', reason || containerReasons);
  if (/CannotPullContainerError|pull image manifest|ImagePull/i.test(evidence)) {
    return classified('image-pull', containerReasons || reason);
  }
  if (/failed ELB health checks/i.test(reason)) return classified('elb-health-check', reason);
  if (/failed container health checks/i.test(reason)) return classified('container-health-check', reason);

  switch (task.stopCode) {
    case 'SpotInterruption':
      return classified('spot-interruption', reason);
    case 'TerminationNotice':
      return classified('termination-notice', reason);
    case 'InfrastructureHealth':
      return classified('infrastructure', reason);
    case 'UserInitiated':
      return reason.startsWith(REFLEX_STOP_PREFIX)
        ? classified('stopped-unhealthy', reason)
        : classified('user-stop', reason);
    case 'ServiceSchedulerInitiated':
      return classified('scheduler-stop', reason);
    case 'TaskFailedToStart':
      return classified('start-failure', reason || containerReasons);
    case 'EssentialContainerExited':
      return classifyExit(task, reason);
    default:
      return classifyExit(task, reason);
  }
}

/** Exit codes of containers killed because their task was stopping (SIGKILL, SIGTERM). */
const OOM_EXIT_CODE = 137;
const STOP_SIGNAL_EXITS = new Set([OOM_EXIT_CODE, 143]);

function classifyExit(task: Pick<Task, 'containers'>, reason: string): StopClassification {
  if (task.containers.some((c) => /OutOfMemory/i.test(c.reason ?? ''))) {
    return classified('out-of-memory', 'OutOfMemoryError');
  }
  const exited = task.containers.filter((c) => c.exitCode !== undefined);
  const crashed = exited.find((c) => c.exitCode !== 0 && !STOP_SIGNAL_EXITS.has(c.exitCode!));
  if (crashed) return classified('crash', `container ${crashed.name} exited with ${crashed.exitCode}`);
  const killed = exited.filter((c) => STOP_SIGNAL_EXITS.has(c.exitCode!));
  // The essential container finished with 0 and its sidecars were killed as the task stopped.
  if (exited.some((c) => c.exitCode === 0))
    return classified('completed', 'essential container exited with 0');
  const first = killed[0];
  if (first?.exitCode === OOM_EXIT_CODE) {
    return classified(
      'out-of-memory',
      `container ${first.name} exited with 137 (killed, usually for memory)`,
    );
  }
  if (first) return classified('crash', `container ${first.name} exited with ${first.exitCode}`);
  if (/Essential container in task exited/i.test(reason)) return classified('crash', reason);
  return classified('unknown', reason || 'no stop code or reason');
}
