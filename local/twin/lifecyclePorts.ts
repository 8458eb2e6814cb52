// The instance lifecycle reflex's ports over the twin. Each method records the AWS calls its adapter
// makes (layers/adapters/aws/autoScalingLifecycleActions.ts), in the same order and with the same answers
// for the cases that must be idempotent: completing a finished action. The container instances and the
// targets are the real adapters over the twin's ECS and ELBv2 clients.

import { LifecycleActionNotFound } from '#adapters/aws/autoScalingLifecycleActions';
import { NoActiveLifecycleAction, type TwinLifecycle } from '#local/twin/lifecycle';
import type { TwinScaling } from '#local/twin/scaling';
import type { World } from '#local/twin/world';
import type { LifecycleActions } from '#ports';

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

  return { actions };
}
