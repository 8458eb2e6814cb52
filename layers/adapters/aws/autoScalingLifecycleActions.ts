// Lifecycle actions over EC2 Auto Scaling: complete one, keep one alive with heartbeats, and read what the
// workflow needs to know about its hook (timeouts, default result, and whether ECS drains the group itself).
import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { type CapacityProvider, DescribeCapacityProvidersCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { LifecycleActionRef, LifecycleActions } from '#ports';

export interface LifecycleActionClients {
  autoScaling: Pick<AutoScalingClient, 'send'>;
  ecs: Pick<ECSClient, 'send'>;
}

/**
 * A heartbeat for a lifecycle action Auto Scaling no longer holds: it was completed (by another run, by
 * hand) or it timed out and the default result applied. The instance has moved on, so the workflow waiting
 * on it should stop; it is an error so that a Step Functions Catch can match it by name.
 */
export class LifecycleActionNotFound extends Error {
  override readonly name = 'LifecycleActionNotFound';
  constructor(readonly action: LifecycleActionRef) {
    super(
      `no active lifecycle action for ${action.instanceId} on hook ${action.hookName} of ${action.groupName}`,
    );
  }
}

/** Auto Scaling's defaults for a hook created without them (PutLifecycleHook API reference). */
const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 3600;
const DEFAULT_RESULT = 'ABANDON';

export class AutoScalingLifecycleActions implements LifecycleActions {
  constructor(private readonly clients: LifecycleActionClients) {}

  /**
   * The token names this very action, and the instance id is sent too so that the call reads well in
   * CloudTrail. An action that is gone (completed already, or timed out) answers ValidationError "No active
   * Lifecycle Action found with instance ID i-..." (or "... with token ..."): the hook is done either way.
   */
  async complete(action: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<void> {
    try {
      await this.clients.autoScaling.send(
        new CompleteLifecycleActionCommand({
          ...actionInput(action),
          LifecycleActionResult: result,
        }),
      );
    } catch (error) {
      if (isNoActiveAction(error)) return;
      throw error;
    }
  }

  async heartbeat(action: LifecycleActionRef): Promise<void> {
    try {
      await this.clients.autoScaling.send(new RecordLifecycleActionHeartbeatCommand(actionInput(action)));
    } catch (error) {
      // Unlike a completion, a heartbeat for a gone action is not "done": nothing waits any more, and the
      // workflow should learn that rather than keep draining an instance Auto Scaling has let go.
      if (isNoActiveAction(error)) throw new LifecycleActionNotFound(action);
      throw error;
    }
  }

  /**
   * DescribeAutoScalingInstances answers for an instance of any group of the account and region (an unknown
   * id is left out, no error); an instance of another group is not this group's. An instance the listing
   * does not hold may sit in the group's warm pool, which DescribeWarmPool lists (50 a page).
   */
  async lifecycleState(groupName: string, instanceId: string): Promise<string | undefined> {
    const found = await this.clients.autoScaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
    );
    const instance = found.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
    if (instance) return instance.AutoScalingGroupName === groupName ? instance.LifecycleState : undefined;
    let nextToken: string | undefined;
    do {
      let page: Awaited<ReturnType<typeof this.warmPoolPage>>;
      try {
        page = await this.warmPoolPage(groupName, nextToken);
      } catch (error) {
        // A group that does not exist (any more) holds nothing.
        if (error instanceof Error && error.name === 'ValidationError') return undefined;
        throw error;
      }
      const warm = page.Instances?.find((i) => i.InstanceId === instanceId);
      if (warm) return warm.LifecycleState;
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  private warmPoolPage(groupName: string, nextToken: string | undefined) {
    return this.clients.autoScaling.send(
      new DescribeWarmPoolCommand({
        AutoScalingGroupName: groupName,
        MaxRecords: 50,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
  }

  /** undefined when the group or the hook does not exist (any more): there is no action to serve. */
  async hookSettings(
    groupName: string,
    hookName: string,
  ): Promise<
    | { heartbeatTimeoutSeconds: number; defaultResult: 'CONTINUE' | 'ABANDON'; managedDraining: boolean }
    | undefined
  > {
    // DescribeAutoScalingGroups answers an empty list for a missing group, where DescribeLifecycleHooks
    // answers a ValidationError: asking for the group first keeps "not found" a plain answer.
    const groups = await this.clients.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    const group = groups.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === groupName);
    if (!group) return undefined;
    const hooks = await this.clients.autoScaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName, LifecycleHookNames: [hookName] }),
    );
    const hook = hooks.LifecycleHooks?.find((h) => h.LifecycleHookName === hookName);
    if (!hook) return undefined;
    return {
      heartbeatTimeoutSeconds: hook.HeartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
      defaultResult: hook.DefaultResult === 'CONTINUE' ? 'CONTINUE' : DEFAULT_RESULT,
      managedDraining: await this.managedDraining(groupName, group.AutoScalingGroupARN),
    };
  }

  /**
   * Whether an ECS capacity provider over this group has managed instance draining on. The group itself
   * cannot tell; ECS can. DescribeCapacityProviders without names pages through every capacity provider of
   * the account (10 a page), which needs no cluster and no configuration: a group belongs to at most one
   * capacity provider, so the first one that points at it decides. A provider being deleted (INACTIVE) no
   * longer drains anything.
   */
  private async managedDraining(groupName: string, groupArn: string | undefined): Promise<boolean> {
    let nextToken: string | undefined;
    do {
      const page = await this.clients.ecs.send(
        new DescribeCapacityProvidersCommand(nextToken ? { nextToken } : {}),
      );
      const provider = (page.capacityProviders ?? []).find((p) => pointsAt(p, groupName, groupArn));
      if (provider) {
        return (
          provider.status === 'ACTIVE' && provider.autoScalingGroupProvider?.managedDraining === 'ENABLED'
        );
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return false;
  }
}

function actionInput(action: LifecycleActionRef) {
  return {
    AutoScalingGroupName: action.groupName,
    LifecycleHookName: action.hookName,
    LifecycleActionToken: action.token,
    InstanceId: action.instanceId,
  };
}

/**
 * The group's ARN when the provider holds exactly it; otherwise by name, which ends every group ARN
 * (`...:autoScalingGroup:UUID:autoScalingGroupName/NAME`), so that an ARN written in another form still
 * matches. The listing holds only this account's providers in this region, so a name is unambiguous.
 */
function pointsAt(provider: CapacityProvider, groupName: string, groupArn: string | undefined): boolean {
  const arn = provider.autoScalingGroupProvider?.autoScalingGroupArn;
  if (!arn) return false;
  return arn === groupArn || arn.endsWith(`:autoScalingGroupName/${groupName}`);
}

function isNoActiveAction(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationError' &&
    /no active lifecycle action found/i.test(error.message)
  );
}
