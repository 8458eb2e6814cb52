import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { type CapacityProvider, DescribeCapacityProvidersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  AutoScalingLifecycleActions,
  LifecycleActionNotFound,
} from '#adapters/aws/autoScalingLifecycleActions';
import type { LifecycleActionRef } from '#ports';

const autoScaling = mockClient(AutoScalingClient);
const ecs = mockClient(ECSClient);
const actions = new AutoScalingLifecycleActions({
  autoScaling: autoScaling as unknown as AutoScalingClient,
  ecs: ecs as unknown as ECSClient,
});

const GROUP = 'ecs-prod';
const GROUP_ARN =
  'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:autoScalingGroupName/ecs-prod';
const HOOK = 'drain-on-terminate';
const ACTION: LifecycleActionRef = {
  groupName: GROUP,
  hookName: HOOK,
  instanceId: 'i-0123456789abcdef0',
  token: 'bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635',
};
const ACTION_INPUT = {
  AutoScalingGroupName: GROUP,
  LifecycleHookName: HOOK,
  LifecycleActionToken: ACTION.token,
  InstanceId: ACTION.instanceId,
};

/** The error Auto Scaling answers for an action that is complete or timed out. */
function noActiveAction(): Error {
  return Object.assign(new Error(`No active Lifecycle Action found with instance ID ${ACTION.instanceId}`), {
    name: 'ValidationError',
  });
}

function provider(name: string, changes: Partial<NonNullable<CapacityProvider['autoScalingGroupProvider']>>) {
  return {
    name,
    status: 'ACTIVE' as const,
    autoScalingGroupProvider: {
      autoScalingGroupArn: GROUP_ARN,
      managedDraining: 'ENABLED' as const,
      ...changes,
    },
  };
}

beforeEach(() => {
  autoScaling.reset();
  ecs.reset();
});

describe('complete', () => {
  it('completes the action with its token, instance and result', async () => {
    // Prepare
    autoScaling.on(CompleteLifecycleActionCommand).resolves({});

    // Act
    await actions.complete(ACTION, 'ABANDON');

    // Assess
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input)).toEqual([
      { ...ACTION_INPUT, LifecycleActionResult: 'ABANDON' },
    ]);
  });

  it('succeeds for an action that is no longer active (completed twice, or timed out)', async () => {
    // Prepare
    autoScaling.on(CompleteLifecycleActionCommand).rejects(noActiveAction());

    // Act / Assess
    await expect(actions.complete(ACTION, 'CONTINUE')).resolves.toBeUndefined();
  });

  it('surfaces any other validation error', async () => {
    // Prepare
    autoScaling
      .on(CompleteLifecycleActionCommand)
      .rejects(Object.assign(new Error('Group ecs-prod not found'), { name: 'ValidationError' }));

    // Act / Assess
    await expect(actions.complete(ACTION, 'CONTINUE')).rejects.toThrow('Group ecs-prod not found');
  });
});

describe('heartbeat', () => {
  it('records a heartbeat for the action', async () => {
    // Prepare
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});

    // Act
    await actions.heartbeat(ACTION);

    // Assess
    expect(
      autoScaling.commandCalls(RecordLifecycleActionHeartbeatCommand).map((c) => c.args[0].input),
    ).toEqual([ACTION_INPUT]);
  });

  it('raises LifecycleActionNotFound for an action that is gone, so the workflow can stop', async () => {
    // Prepare
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).rejects(noActiveAction());

    // Act
    const error = await actions.heartbeat(ACTION).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(LifecycleActionNotFound);
    expect(error).toHaveProperty('name', 'LifecycleActionNotFound');
  });
});

describe('hookSettings', () => {
  function groupWithHook(hook: { HeartbeatTimeout?: number; DefaultResult?: string }) {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          AutoScalingGroupARN: GROUP_ARN,
          MinSize: 0,
          MaxSize: 10,
          DesiredCapacity: 3,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-west-1a'],
          HealthCheckType: 'EC2',
          CreatedTime: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    });
    autoScaling.on(DescribeLifecycleHooksCommand).resolves({
      LifecycleHooks: [{ AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, ...hook }],
    });
  }

  it('reads the hook and finds no capacity provider over the group', async () => {
    // Prepare
    groupWithHook({ HeartbeatTimeout: 900, DefaultResult: 'CONTINUE' });
    ecs.on(DescribeCapacityProvidersCommand).resolves({
      capacityProviders: [{ name: 'FARGATE', status: 'ACTIVE' }],
    });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess
    expect(settings).toEqual({
      heartbeatTimeoutSeconds: 900,
      defaultResult: 'CONTINUE',
      managedDraining: false,
    });
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupNames: [GROUP] },
    ]);
    expect(autoScaling.commandCalls(DescribeLifecycleHooksCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, LifecycleHookNames: [HOOK] },
    ]);
    expect(ecs.commandCalls(DescribeCapacityProvidersCommand).map((c) => c.args[0].input)).toEqual([{}]);
  });

  it("falls back to Auto Scaling's defaults for a hook created without them", async () => {
    // Prepare
    groupWithHook({});
    ecs.on(DescribeCapacityProvidersCommand).resolves({ capacityProviders: [] });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess
    expect(settings).toEqual({
      heartbeatTimeoutSeconds: 3600,
      defaultResult: 'ABANDON',
      managedDraining: false,
    });
  });

  it('pages through the capacity providers until one points at the group with managed draining', async () => {
    // Prepare
    groupWithHook({ HeartbeatTimeout: 300, DefaultResult: 'ABANDON' });
    ecs
      .on(DescribeCapacityProvidersCommand, {})
      .resolves({
        capacityProviders: [
          provider('other', {
            autoScalingGroupArn:
              'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:99999999-0000-0000-0000-000000000000:autoScalingGroupName/other',
          }),
        ],
        nextToken: 'page-2',
      })
      .on(DescribeCapacityProvidersCommand, { nextToken: 'page-2' })
      .resolves({ capacityProviders: [provider('prod-ec2', {})] });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess
    expect(settings).toEqual({
      heartbeatTimeoutSeconds: 300,
      defaultResult: 'ABANDON',
      managedDraining: true,
    });
    expect(ecs.commandCalls(DescribeCapacityProvidersCommand).map((c) => c.args[0].input)).toEqual([
      {},
      { nextToken: 'page-2' },
    ]);
  });

  it('matches a provider that names the group by an ARN in another form', async () => {
    // Prepare
    groupWithHook({ HeartbeatTimeout: 300 });
    ecs.on(DescribeCapacityProvidersCommand).resolves({
      capacityProviders: [
        provider('prod-ec2', {
          autoScalingGroupArn:
            'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/ecs-prod',
        }),
      ],
    });

    // Act / Assess
    expect(await actions.hookSettings(GROUP, HOOK)).toHaveProperty('managedDraining', true);
  });

  it.each([
    ['managed draining is disabled', provider('prod-ec2', { managedDraining: 'DISABLED' })],
    ['the provider is being deleted', { ...provider('prod-ec2', {}), status: 'INACTIVE' as const }],
  ])('reports no managed draining when %s', async (_why, found) => {
    // Prepare
    groupWithHook({ HeartbeatTimeout: 300 });
    ecs.on(DescribeCapacityProvidersCommand).resolves({ capacityProviders: [found], nextToken: 'more' });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess: the group's provider decides, so the listing stops there.
    expect(settings).toHaveProperty('managedDraining', false);
    expect(ecs).toHaveReceivedCommandTimes(DescribeCapacityProvidersCommand, 1);
  });

  it('answers undefined for a group that does not exist, without asking for its hooks', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess
    expect(settings).toBeUndefined();
    expect(autoScaling).not.toHaveReceivedCommand(DescribeLifecycleHooksCommand);
    expect(ecs).not.toHaveReceivedCommand(DescribeCapacityProvidersCommand);
  });

  it('answers undefined for a hook that does not exist', async () => {
    // Prepare
    groupWithHook({});
    autoScaling.on(DescribeLifecycleHooksCommand).resolves({ LifecycleHooks: [] });

    // Act
    const settings = await actions.hookSettings(GROUP, HOOK);

    // Assess
    expect(settings).toBeUndefined();
    expect(ecs).not.toHaveReceivedCommand(DescribeCapacityProvidersCommand);
  });
});

describe('lifecycleState', () => {
  const INSTANCE = ACTION.instanceId;

  it("answers the instance's state in the group, from DescribeAutoScalingInstances", async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        {
          InstanceId: INSTANCE,
          AutoScalingGroupName: GROUP,
          LifecycleState: 'Terminating:Wait',
          AvailabilityZone: 'eu-west-1a',
          HealthStatus: 'HEALTHY',
          ProtectedFromScaleIn: false,
        },
      ],
    });

    // Act
    const state = await actions.lifecycleState(GROUP, INSTANCE);

    // Assess
    expect(state).toBe('Terminating:Wait');
    expect(autoScaling).toHaveReceivedCommandWith(DescribeAutoScalingInstancesCommand, {
      InstanceIds: [INSTANCE],
    });
    expect(autoScaling).not.toHaveReceivedCommand(DescribeWarmPoolCommand);
  });

  it('answers undefined for an instance of another group', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        {
          InstanceId: INSTANCE,
          AutoScalingGroupName: 'someone-elses-group',
          LifecycleState: 'Terminating:Wait',
          AvailabilityZone: 'eu-west-1a',
          HealthStatus: 'HEALTHY',
          ProtectedFromScaleIn: false,
        },
      ],
    });

    // Act
    const state = await actions.lifecycleState(GROUP, INSTANCE);

    // Assess
    expect(state).toBeUndefined();
  });

  it("pages through the group's warm pool for an instance no group lists", async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    autoScaling
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: GROUP, MaxRecords: 50 })
      .resolves({ Instances: [], NextToken: 'page-2' })
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: GROUP, MaxRecords: 50, NextToken: 'page-2' })
      .resolves({
        Instances: [
          {
            InstanceId: INSTANCE,
            LifecycleState: 'Warmed:Pending:Wait',
            AvailabilityZone: 'eu-west-1a',
            HealthStatus: 'HEALTHY',
            ProtectedFromScaleIn: false,
          },
        ],
      });

    // Act
    const state = await actions.lifecycleState(GROUP, INSTANCE);

    // Assess
    expect(state).toBe('Warmed:Pending:Wait');
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeWarmPoolCommand, 2);
  });

  it('answers undefined when the group does not exist (DescribeWarmPool: ValidationError)', async () => {
    // Prepare
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    autoScaling
      .on(DescribeWarmPoolCommand)
      .rejects(Object.assign(new Error('Group not found'), { name: 'ValidationError' }));

    // Act
    const state = await actions.lifecycleState(GROUP, INSTANCE);

    // Assess
    expect(state).toBeUndefined();
  });
});
