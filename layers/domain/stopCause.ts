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
  | 'placement'
  | 'spot-interruption'
  | 'termination-notice'
  | 'infrastructure'
  | 'stopped-unhealthy'
  | 'deployment'
  | 'scale-in'
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

const OOM_EXIT_CODE = 137;

const byCause: Record<StopCause, Omit<StopClassification, 'cause' | 'detail'>> = {
  crash: { failure: true, crashLoopEvidence: true, restartable: true },
  'out-of-memory': { failure: true, crashLoopEvidence: true, restartable: true },
  'container-health-check': { failure: true, crashLoopEvidence: true, restartable: true },
  'elb-health-check': { failure: true, crashLoopEvidence: true, restartable: true },
  'image-pull': { failure: true, crashLoopEvidence: true, restartable: true },
  // Capacity is missing, not the task broken: retrying with backoff helps, rolling back would not.
  placement: { failure: true, crashLoopEvidence: false, restartable: true },
  // The platform took the host away; the work was lost through no fault of the task.
  'spot-interruption': { failure: false, crashLoopEvidence: false, restartable: true },
  'termination-notice': { failure: false, crashLoopEvidence: false, restartable: true },
  infrastructure: { failure: false, crashLoopEvidence: false, restartable: true },
  // ecs-reflex stopped it for being unhealthy in a target group nobody else watches.
  'stopped-unhealthy': { failure: true, crashLoopEvidence: false, restartable: true },
  deployment: { failure: false, crashLoopEvidence: false, restartable: false },
  'scale-in': { failure: false, crashLoopEvidence: false, restartable: false },
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
      return /deployment/i.test(reason) ? classified('deployment', reason) : classified('scale-in', reason);
    case 'EssentialContainerExited':
    case 'TaskFailedToStart':
      return classifyExit(task, reason);
    default:
      return classifyExit(task, reason);
  }
}

function classifyExit(task: Pick<Task, 'containers'>, reason: string): StopClassification {
  if (task.containers.some((c) => /OutOfMemory/i.test(c.reason ?? ''))) {
    return classified('out-of-memory', 'OutOfMemoryError');
  }
  const exited = task.containers.filter((c) => c.exitCode !== undefined);
  const failed = exited.find((c) => c.exitCode !== 0);
  if (failed?.exitCode === OOM_EXIT_CODE) {
    return classified(
      'out-of-memory',
      `container ${failed.name} exited with 137 (killed, usually for memory)`,
    );
  }
  if (failed) return classified('crash', `container ${failed.name} exited with ${failed.exitCode}`);
  if (exited.length > 0) return classified('completed', 'essential containers exited with 0');
  if (/Essential container in task exited/i.test(reason)) return classified('crash', reason);
  return classified('unknown', reason || 'no stop code or reason');
}
