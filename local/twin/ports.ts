// The reflexes' ports over the twin. Each method is named after the AWS call it stands for, records it
// (the order of AWS-level actions is what scenarios assert) and can be made to fail like AWS does.
import { deadLetterOf } from '#adapters/aws/sqsDeadLetters';
import type { Service, Task } from '#domain/model';
import { runTaskProblems } from '#domain/runTaskLimits';
import { type Faults, faultError } from '#local/twin/aws/faults';
import { reachAws, runtimeExit, runtimeGone } from '#local/twin/lambdas';
import type { TaskState, World } from '#local/twin/world';
import type {
  ActionJournal,
  CapacitySignal,
  DeadLetters,
  Notifier,
  Rechecks,
  RecyclerPorts,
  ServiceControl,
  TargetRegistry,
  TaskFleet,
} from '#ports';

/** Same bound as the adapters' clients (layers/runtime/clients.ts, AWS_MAX_ATTEMPTS default). */
export const SDK_MAX_ATTEMPTS = 4;
export { type FaultRule, Faults } from '#local/twin/aws/faults';

/** ECS's answer to a request it will not take; the SDK names it InvalidParameterException. */
export class TwinInvalidParameterError extends Error {
  override readonly name = 'InvalidParameterException';
}

export interface TwinRecorders {
  journal: ActionJournal;
  notifications: Parameters<Notifier['notify']>[0][];
  shortfalls: Parameters<CapacitySignal['reportShortfall']>[0][];
  parked: { input: string; reason: string; source: string }[];
  onShortfall?: (shortfall: Parameters<CapacitySignal['reportShortfall']>[0]) => void;
  /** Where a recheck message goes: the same buffer queue the events go to. */
  recheck: (cluster: string, group: string, at: Date) => void;
}

/**
 * One AWS call against the twin: recorded (scenarios assert their order), and failed when a fault rule
 * says so. The AWS adapters' SDK clients retry throttling, 5xx and timeouts themselves (bounded
 * attempts); the twin does the same, so a fault reaches a reflex only when every attempt failed.
 * A write passes its effect: a fault that lets the call take effect before the client times out
 * (`applied`) applies it on that attempt and on each retry, as AWS would see the same command again;
 * such an attempt is recorded as done, with the error the client saw in `answered`. A command AWS
 * refuses (its effect throws AWS's error) is recorded as failed with that error: it did nothing.
 * A call from a Lambda runtime that has died never leaves it, so it is not recorded at all.
 * `attempts` stands for a client built with fewer (1: the adapter retries itself, after checking).
 */
export function recordedCalls(world: World, faults: Faults) {
  function call(api: string, target: string, write: boolean): void;
  function call<T>(api: string, target: string, write: boolean, effect: () => T, attempts?: number): T;
  function call<T>(
    api: string,
    target: string,
    write: boolean,
    effect?: () => T,
    attempts = SDK_MAX_ATTEMPTS,
  ): T | undefined {
    const invocation = reachAws(api, write);
    const byInvocation = invocation ? { by: invocation } : {};
    for (let attempt = 1; ; attempt++) {
      const at = world.clock.now();
      const by = attempt > 1 ? { ...byInvocation, attempt } : byInvocation;
      const fault = faults.draw(api, at, write && effect !== undefined);
      if (!fault) {
        if (!effect) {
          world.apiCalls.push({ at, api, target, write, ...by });
          return undefined;
        }
        try {
          const result = effect();
          world.apiCalls.push({ at, api, target, write, ...by });
          return result;
        } catch (refusal) {
          // AWS refused the command (a completed lifecycle action, a missing service): it did nothing.
          world.apiCalls.push({ at, api, target, write, failed: (refusal as Error).name, ...by });
          throw refusal;
        }
      }
      const error = faultError(api, fault);
      if (fault.applied) {
        try {
          effect?.();
        } catch (refusal) {
          // AWS's own refusal of the repeated command (the action is already completed) is its answer.
          world.apiCalls.push({ at, api, target, write, failed: (refusal as Error).name, ...by });
          throw refusal;
        }
        world.apiCalls.push({ at, api, target, write, answered: error.name, ...by });
      } else {
        world.apiCalls.push({ at, api, target, write, failed: error.name, ...by });
      }
      if (attempt >= attempts) throw error;
    }
  }
  return call;
}

export function twinRecyclerPorts(
  world: World,
  faults: Faults,
  recorders: TwinRecorders,
  onParked: (reason: string) => void = () => undefined,
): RecyclerPorts {
  const call = recordedCalls(world, faults);
  const startedByToken = new Map<string, string>();

  const tasks: TaskFleet = {
    async listTasks(cluster, group, status) {
      call('ListTasks', `${cluster} ${group.kind}:${group.name}`, false);
      call('DescribeTasks', `${cluster} ${group.kind}:${group.name}`, false);
      // ECS filters ListTasks on desired status: a task being stopped is already listed as STOPPED.
      return [...world.tasks.values()]
        .filter(
          (t) =>
            t.cluster === cluster && t.group === `${group.kind}:${group.name}` && t.desiredStatus === status,
        )
        .map((t) => toDomainTask(world, t));
    },
    async runTask(launch) {
      // What ECS refuses before it places anything (#domain/runTaskLimits), refused the same way;
      // RunTask's clientToken: the same token returns the task it already started (a retry too).
      const result = call('RunTask', launch.taskDefinitionArn, true, () => {
        const problems = runTaskProblems(launch);
        if (problems.length > 0) throw new TwinInvalidParameterError(problems.join('; '));
        const existing = startedByToken.get(launch.clientToken);
        if (existing) return { arn: existing };
        const started = world.runTask({
          cluster: launch.cluster,
          taskDefinitionArn: launch.taskDefinitionArn,
          group: launch.group,
          startedBy: launch.startedBy,
          launchType: launch.launchType,
          // One copy: it lands on the provider of the greatest weight (the base, if any, is met first).
          capacityProviderName: [...(launch.capacityProviderStrategy ?? [])].sort(
            (x, y) => (y.base ?? 0) - (x.base ?? 0) || y.weight - x.weight,
          )[0]?.capacityProvider,
          overrides: launch.overrides,
          tags: launch.tags,
          registerIn: [],
        });
        if (!('failure' in started)) startedByToken.set(launch.clientToken, started.arn);
        return started;
      });
      return 'failure' in result
        ? { started: false, reason: result.failure }
        : { started: true, taskArn: result.arn };
    },
    async stopTask(_cluster, taskArn, reason) {
      call('StopTask', taskArn, true, () => world.stopTask(taskArn, reason));
    },
    async tagTask(_cluster, taskArn, tags) {
      const removing = Object.entries(tags).some(([, v]) => v === null);
      call(removing ? 'UntagResource' : 'TagResource', taskArn, true, () => {
        const task = world.tasks.get(taskArn);
        if (!task) return;
        for (const [key, value] of Object.entries(tags)) {
          if (value === null) delete task.tags[key];
          else task.tags[key] = value;
        }
      });
    },
  };

  const services: ServiceControl = {
    async describeService(cluster, name) {
      call('DescribeServices', `${cluster}/${name}`, false);
      const service = world.service(cluster, name);
      if (!service) return undefined;
      const alive = world.runningTasks(cluster, `service:${name}`);
      const result: Service = {
        serviceName: service.name,
        serviceArn: service.arn,
        clusterArn: world.arn('cluster', cluster),
        taskDefinitionArn: service.deployments.find((d) => d.status === 'PRIMARY')!.taskDefinitionArn,
        desiredCount: service.desiredCount,
        runningCount: alive.filter((t) => t.lastStatus === 'RUNNING').length,
        pendingCount: alive.filter((t) => t.lastStatus === 'PENDING').length,
        circuitBreaker: service.circuitBreaker,
        deploymentController: service.deploymentController,
        deploymentStrategy: service.strategy,
        deployments: service.deployments.map((d) => ({
          id: d.id,
          status: d.status,
          taskDefinitionArn: d.taskDefinitionArn,
          rolloutState: d.rolloutState,
          runningCount: alive.filter((t) => t.deploymentId === d.id && t.lastStatus === 'RUNNING').length,
          desiredCount: d.status === 'PRIMARY' ? service.desiredCount : 0,
          createdAt: d.createdAt,
          updatedAt: d.updatedAt,
        })),
        targetGroupArns: [...service.targetGroupArns],
        tags: { ...service.tags },
      };
      return result;
    },
    async deploymentHistory(cluster, name) {
      call('ListServiceDeployments', `${cluster}/${name}`, false);
      call('DescribeServiceRevisions', `${cluster}/${name}`, false);
      return [...(world.service(cluster, name)?.history ?? [])];
    },
    async setTaskDefinition(cluster, name, taskDefinitionArn) {
      call('UpdateService', `${cluster}/${name} taskDefinition=${taskDefinitionArn}`, true, () =>
        world.updateService(cluster, name, { taskDefinitionArn }),
      );
    },
    async setDesiredCount(cluster, name, desiredCount) {
      call('UpdateService', `${cluster}/${name} desiredCount=${desiredCount}`, true, () =>
        world.updateService(cluster, name, { desiredCount }),
      );
    },
    async tagService(cluster, name, tags) {
      call('TagResource', `${cluster}/${name}`, true, () => {
        const service = world.service(cluster, name);
        if (service) Object.assign(service.tags, tags);
      });
    },
  };

  const targets: TargetRegistry = {
    async targetHealth(targetGroupArn) {
      call('DescribeTargetHealth', targetGroupArn, false);
      const tg = world.targetGroup(targetGroupArn);
      return {
        targetGroupArn: tg.arn,
        targets: tg.targets.map((t) => ({ id: t.id, port: t.port, state: t.state, reason: t.reason })),
      };
    },
    async deregister(targetGroupArn, refs) {
      call(
        'DeregisterTargets',
        `${targetGroupArn} ${refs.map((r) => `${r.id}:${r.port ?? ''}`).join(',')}`,
        true,
        () => {
          const tg = world.targetGroup(targetGroupArn);
          for (const ref of refs) {
            const target = tg.targets.find(
              (t) => t.id === ref.id && (ref.port === undefined || t.port === ref.port),
            );
            if (target && target.state !== 'draining') world.drain(tg, target);
          }
        },
      );
    },
  };

  const notifier: Notifier = {
    async notify(notification) {
      call('Publish', notification.subject, true, () => recorders.notifications.push(notification));
    },
  };
  const capacity: CapacitySignal = {
    async reportShortfall(shortfall) {
      // An EMF metric is a log line: a runtime that has died writes none.
      if (runtimeGone()) return;
      recorders.shortfalls.push(shortfall);
      recorders.onShortfall?.(shortfall);
    },
  };
  const rechecks: Rechecks = {
    async recheckAt(cluster, group, at) {
      call('SendMessage', `recheck ${cluster} ${group}`, false);
      recorders.recheck(cluster, group, at);
    },
  };
  const deadLetters: DeadLetters = {
    async park(input, reason, source) {
      // SendMessage to the dead-letter queue, which a runtime that has died never sends; what it holds
      // is the adapter's message, cut to what SQS takes.
      if (runtimeGone()) throw runtimeExit();
      const letter = deadLetterOf(input, reason, source);
      recorders.parked.push({ input: letter.body, reason: letter.reason, source: letter.source });
      onParked(reason);
    },
  };

  return {
    tasks,
    services,
    targets,
    notifier,
    capacity,
    rechecks,
    clock: world.clock,
    journal: recorders.journal,
    deadLetters,
  };
}

function toDomainTask(world: World, t: TaskState): Task {
  const td = world.taskDefinition(t.taskDefinitionArn);
  return {
    taskArn: t.arn,
    clusterArn: world.arn('cluster', t.cluster),
    group: t.group,
    taskDefinitionArn: t.taskDefinitionArn,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    version: t.version,
    startedBy: t.startedBy,
    launchType: t.launchType,
    capacityProviderName: t.capacityProviderName,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    stoppedAt: t.stoppedAt,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    containers: [
      {
        name: td.containerName,
        exitCode: t.exitCode,
        reason: t.containerReason,
        bindings: t.hostPort ? [{ containerPort: td.containerPort, hostPort: t.hostPort }] : undefined,
      },
    ],
    ec2InstanceId: t.instance.instanceId,
    privateIp: t.privateIp,
    subnetId: t.privateIp ? t.instance.subnetId : undefined,
    overrides: t.overrides,
    tags: { ...t.tags },
  };
}
