// The instance lifecycle reflex's container instance and target ports over the twin. Each method records
// the AWS calls its adapter makes (layers/adapters/aws/ecsContainerInstances.ts, elbInstanceTargets.ts),
// in the same order and with the same answers for the cases that must be idempotent: draining a draining
// instance, registering a registered target. Lifecycle actions are the real adapter over the twin's
// Auto Scaling (local/twin/aws/autoScaling.ts).

import type { ContainerInstanceView, TargetView } from '#domain/instanceLifecycle';
import {
  type InstanceState,
  TargetGroupNotFound,
  type TargetGroupState,
  type World,
} from '#local/twin/world';
import type { ContainerInstances, InstanceTargets } from '#ports';

/**
 * The recorder from recordedCalls(world, faults): records the call, and throws when a fault says so. A
 * write passes its effect, which a fault may apply before the client sees a timeout, and again on retry.
 */
export interface RecordedCall {
  (api: string, target: string, write: boolean): void;
  <T>(api: string, target: string, write: boolean, effect: () => T, attempts?: number): T;
}

export interface TwinLifecyclePorts {
  instances: ContainerInstances;
  targets: InstanceTargets;
}

export function twinLifecyclePorts(world: World, call: RecordedCall): TwinLifecyclePorts {
  /** ListContainerInstances + DescribeContainerInstances: nothing before the agent registers. */
  const find = (cluster: string, ec2InstanceId: string): InstanceState | undefined => {
    call('ListContainerInstances', `${cluster} ${ec2InstanceId}`, false);
    const instance = world.instance(ec2InstanceId);
    if (!instance || instance.cluster !== cluster || instance.status === 'REGISTERING') return undefined;
    call('DescribeContainerInstances', `${cluster} ${ec2InstanceId}`, false);
    return instance;
  };

  const instances: ContainerInstances = {
    async describe(cluster, ec2InstanceId): Promise<ContainerInstanceView | undefined> {
      const instance = find(cluster, ec2InstanceId);
      if (!instance) return undefined;
      // Both desired statuses are listed, as the adapter does: a task being stopped still runs.
      call('ListTasks', `${cluster} ${ec2InstanceId} RUNNING`, false);
      call('ListTasks', `${cluster} ${ec2InstanceId} STOPPED`, false);
      const tasks = world.tasksOn(ec2InstanceId).filter((t) => t.cluster === cluster);
      if (tasks.length > 0) call('DescribeTasks', `${cluster} ${ec2InstanceId}`, false);
      const service = tasks.filter((t) => t.group.startsWith('service:'));
      const standalone = tasks.filter((t) => !t.group.startsWith('service:'));
      return {
        status: instance.status,
        agentConnected: instance.agentConnected,
        runningServiceTasks: service.length,
        runningStandaloneTasks: standalone.map((t) => ({
          taskArn: t.arn,
          ...(t.startedAt ? { startedAt: t.startedAt } : {}),
        })),
      };
    },
    async drain(cluster, ec2InstanceId) {
      const instance = find(cluster, ec2InstanceId);
      // DRAINING already is the goal; an unregistered instance has nothing to drain.
      if (instance?.status !== 'ACTIVE') return;
      call('UpdateContainerInstancesState', `${cluster} ${ec2InstanceId} DRAINING`, true, () =>
        world.setInstanceStatus(ec2InstanceId, 'DRAINING'),
      );
    },
    async stopTasks(cluster, taskArns, reason) {
      for (const taskArn of taskArns) {
        // A task the twin has forgotten is stopped: success, as the adapter treats "not found".
        call('StopTask', taskArn, true, () => {
          if (world.tasks.get(taskArn)?.cluster === cluster) world.stopTask(taskArn, reason.slice(0, 255));
        });
      }
    },
  };

  const targetGroup = (arn: string): TargetGroupState => {
    const tg = world.targetGroups.get(arn);
    if (!tg) throw new TargetGroupNotFound(`One or more target groups not found: ${arn}`);
    return tg;
  };

  const targets: InstanceTargets = {
    async targetsOf(ec2InstanceId, targetGroupArns): Promise<TargetView[]> {
      return [...new Set(targetGroupArns)].flatMap((targetGroupArn): TargetView[] => {
        call('DescribeTargetHealth', targetGroupArn, false);
        const mine = (world.targetGroups.get(targetGroupArn)?.targets ?? []).filter(
          (t) => t.id === ec2InstanceId,
        );
        if (mine.length === 0) return [{ targetGroupArn, port: 0, state: 'absent' }];
        return mine.map((t) => ({ targetGroupArn, port: t.port, state: t.state }));
      });
    },
    async register(ec2InstanceId, refs) {
      for (const [targetGroupArn, ports] of byTargetGroup(refs)) {
        call('RegisterTargets', `${targetGroupArn} ${ec2InstanceId}`, true, () => {
          const tg = targetGroup(targetGroupArn);
          const now = world.clock.now().getTime();
          for (const port of ports) {
            // Registering a registered target is a no-op; a draining one is registered anew.
            const existing = tg.targets.find(
              (t) => t.id === ec2InstanceId && t.port === port && t.state !== 'draining',
            );
            if (existing) continue;
            tg.targets.push({ id: ec2InstanceId, port, state: 'initial', registeredAt: now });
          }
        });
      }
    },
    async deregister(ec2InstanceId, refs) {
      for (const [targetGroupArn, ports] of byTargetGroup(refs)) {
        call('DeregisterTargets', `${targetGroupArn} ${ec2InstanceId}`, true, () => {
          const tg = targetGroup(targetGroupArn);
          // A target that is not registered (or draining already): ELB answers success.
          for (const target of tg.targets.filter(
            (t) => t.id === ec2InstanceId && ports.includes(t.port) && t.state !== 'draining',
          ))
            world.drain(tg, target);
        });
      }
    },
  };

  return { instances, targets };
}

function byTargetGroup(refs: { targetGroupArn: string; port: number }[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const { targetGroupArn, port } of refs) {
    const ports = groups.get(targetGroupArn) ?? [];
    if (!ports.includes(port)) ports.push(port);
    groups.set(targetGroupArn, ports);
  }
  return groups;
}
