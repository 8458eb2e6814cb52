// The instance lifecycle reflex's ports over the twin. Each method records the AWS calls its adapter
// makes (layers/adapters/aws/autoScalingLifecycleActions.ts, ecsContainerInstances.ts), in the same order
// and with the same answers for the cases that must be idempotent: completing a finished action, draining
// a draining instance. Its targets are the real ElbInstanceTargets over the twin's ELBv2 client.

import { LifecycleActionNotFound } from '#adapters/aws/autoScalingLifecycleActions';
import type { ContainerInstanceView } from '#domain/instanceLifecycle';
import { NoActiveLifecycleAction, type TwinLifecycle } from '#local/twin/lifecycle';
import type { TwinScaling } from '#local/twin/scaling';
import type { InstanceState, World } from '#local/twin/world';
import type { ContainerInstances, LifecycleActions } from '#ports';

/**
 * The recorder from recordedCalls(world, faults): records the call, and throws when a fault says so. A
 * write passes its effect, which a fault may apply before the client sees a timeout, and again on retry.
 */
export interface RecordedCall {
  (api: string, target: string, write: boolean): void;
  <T>(api: string, target: string, write: boolean, effect: () => T, attempts?: number): T;
}

export interface TwinLifecyclePorts {
  actions: LifecycleActions;
  instances: ContainerInstances;
}

export function twinLifecyclePorts(
  world: World,
  scaling: TwinScaling,
  lifecycle: TwinLifecycle,
  call: RecordedCall,
): TwinLifecyclePorts {
  const actions: LifecycleActions = {
    async complete(action, result) {
      try {
        call('CompleteLifecycleAction', `${action.groupName} ${action.instanceId}`, true, () =>
          lifecycle.complete(action, result),
        );
      } catch (error) {
        // The adapter's rule: an action that is gone was completed or timed out; the hook is done.
        if (error instanceof NoActiveLifecycleAction) return;
        throw error;
      }
    },
    async heartbeat(action) {
      try {
        call('RecordLifecycleActionHeartbeat', `${action.groupName} ${action.instanceId}`, true, () =>
          lifecycle.heartbeat(action),
        );
      } catch (error) {
        if (error instanceof NoActiveLifecycleAction) throw new LifecycleActionNotFound(action);
        throw error;
      }
    },
    async lifecycleState(groupName, instanceId) {
      call('DescribeAutoScalingInstances', instanceId, false);
      const group = scaling.groupOf(instanceId);
      if (group) return group.name === groupName ? scaling.lifecycleState(instanceId) : undefined;
      // Not in any group: the adapter then pages the claimed group's warm pool.
      call('DescribeWarmPool', groupName, false);
      if (!scaling.groups.has(groupName)) return undefined;
      return scaling.warmPoolState(groupName, instanceId);
    },
    async hookSettings(groupName, hookName) {
      call('DescribeAutoScalingGroups', groupName, false);
      const group = scaling.groups.get(groupName);
      if (!group) return undefined;
      call('DescribeLifecycleHooks', `${groupName} ${hookName}`, false);
      const hook = lifecycle.hook(groupName, hookName);
      if (!hook) return undefined;
      // The adapter pages DescribeCapacityProviders to learn whether ECS drains the group itself.
      call('DescribeCapacityProviders', groupName, false);
      return {
        heartbeatTimeoutSeconds: hook.heartbeatTimeoutSeconds,
        defaultResult: hook.defaultResult,
        managedDraining: group.managedDraining ?? false,
      };
    },
  };

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

  return { actions, instances };
}
