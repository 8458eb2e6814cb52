// The instance lifecycle reflex's ports over the twin. Each method records the AWS calls its adapter
// makes (layers/adapters/aws/autoScalingLifecycleActions.ts, elbInstanceTargets.ts), in the same order
// and with the same answers for the cases that must be idempotent: completing a finished action,
// registering a registered target. The container instances are the real adapter over the twin's ECS.

import { LifecycleActionNotFound } from '#adapters/aws/autoScalingLifecycleActions';
import type { TargetView } from '#domain/instanceLifecycle';
import { NoActiveLifecycleAction, type TwinLifecycle } from '#local/twin/lifecycle';
import type { TwinScaling } from '#local/twin/scaling';
import { TargetGroupNotFound, type TargetGroupState, type World } from '#local/twin/world';
import type { InstanceTargets, LifecycleActions } from '#ports';

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
  targets: InstanceTargets;
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

  return { actions, targets };
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
