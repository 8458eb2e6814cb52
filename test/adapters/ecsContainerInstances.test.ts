import {
  type ContainerInstance,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  type Task as EcsTask,
  InvalidParameterException,
  ListContainerInstancesCommand,
  ListTasksCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ContainerInstanceDrainFailed, EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';

const ecs = mockClient(ECSClient);
const instances = new EcsContainerInstances(ecs as unknown as ECSClient);

const EC2_ID = 'i-0123456789abcdef0';
const CI_ARN = 'arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/5b6c7d8e9f0a4b1c';
const taskArn = (n: number) =>
  `arn:aws:ecs:eu-west-1:111122223333:task/prod/${n.toString(16).padStart(32, '0')}`;

function containerInstance(changes: Partial<ContainerInstance> = {}): ContainerInstance {
  return {
    containerInstanceArn: CI_ARN,
    ec2InstanceId: EC2_ID,
    status: 'ACTIVE',
    agentConnected: true,
    ...changes,
  };
}

function registered(changes: Partial<ContainerInstance> = {}) {
  ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [CI_ARN] });
  ecs.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [containerInstance(changes)] });
}

function sdkTask(n: number, changes: Partial<EcsTask> = {}): EcsTask {
  return {
    taskArn: taskArn(n),
    group: 'service:web',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    ...changes,
  };
}

beforeEach(() => ecs.reset());

describe('describe', () => {
  it('finds the container instance by EC2 id and splits its service tasks from standalone ones', async () => {
    // Prepare
    registered();
    const started = new Date('2026-03-01T10:00:00Z');
    ecs
      .on(ListTasksCommand, { desiredStatus: 'RUNNING' })
      .resolves({ taskArns: [taskArn(1), taskArn(2)], nextToken: 'next' })
      .on(ListTasksCommand, { desiredStatus: 'RUNNING', nextToken: 'next' })
      .resolves({ taskArns: [taskArn(3)] })
      .on(ListTasksCommand, { desiredStatus: 'STOPPED' })
      .resolves({ taskArns: [taskArn(4), taskArn(5)] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        sdkTask(1),
        sdkTask(2, { group: 'family:report', startedAt: started }),
        sdkTask(3, { group: 'family:batch', lastStatus: 'PENDING' }),
        // Being stopped by the drain, still running its containers: not moved yet.
        sdkTask(4, { desiredStatus: 'STOPPED', lastStatus: 'DEACTIVATING' }),
        // Stopped: gone from the instance.
        sdkTask(5, { desiredStatus: 'STOPPED', lastStatus: 'STOPPED' }),
      ],
    });

    // Act
    const view = await instances.describe('prod', EC2_ID);

    // Assess
    expect(view).toEqual({
      status: 'ACTIVE',
      agentConnected: true,
      runningServiceTasks: 2,
      runningStandaloneTasks: [{ taskArn: taskArn(2), startedAt: started }, { taskArn: taskArn(3) }],
    });
    expect(ecs.commandCalls(ListContainerInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', filter: `ec2InstanceId == ${EC2_ID}` },
    ]);
    expect(ecs.commandCalls(DescribeContainerInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', containerInstances: [CI_ARN] },
    ]);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', containerInstance: CI_ARN, desiredStatus: 'RUNNING', maxResults: 100 },
      {
        cluster: 'prod',
        containerInstance: CI_ARN,
        desiredStatus: 'RUNNING',
        maxResults: 100,
        nextToken: 'next',
      },
      { cluster: 'prod', containerInstance: CI_ARN, desiredStatus: 'STOPPED', maxResults: 100 },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', tasks: [1, 2, 3, 4, 5].map(taskArn) },
    ]);
  });

  it('describes an instance with no tasks without calling DescribeTasks', async () => {
    // Prepare
    registered({ status: 'REGISTERING', agentConnected: false });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    // Act
    const view = await instances.describe('prod', EC2_ID);

    // Assess
    expect(view).toEqual({
      status: 'REGISTERING',
      agentConnected: false,
      runningServiceTasks: 0,
      runningStandaloneTasks: [],
    });
    expect(ecs).not.toHaveReceivedCommand(DescribeTasksCommand);
  });

  it('answers undefined before the agent has registered the instance', async () => {
    // Prepare
    ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [] });

    // Act
    const view = await instances.describe('prod', EC2_ID);

    // Assess
    expect(view).toBeUndefined();
    expect(ecs).not.toHaveReceivedCommand(DescribeContainerInstancesCommand);
    expect(ecs).not.toHaveReceivedCommand(ListTasksCommand);
  });

  it('answers undefined for an instance deregistered between the listing and the describe', async () => {
    // Prepare
    ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [CI_ARN] });
    ecs
      .on(DescribeContainerInstancesCommand)
      .resolves({ containerInstances: [], failures: [{ arn: CI_ARN, reason: 'MISSING' }] });

    // Act / Assess
    expect(await instances.describe('prod', EC2_ID)).toBeUndefined();
  });
});

describe('drain', () => {
  it('sets an ACTIVE instance to DRAINING', async () => {
    // Prepare
    registered();
    ecs.on(UpdateContainerInstancesStateCommand).resolves({ containerInstances: [], failures: [] });

    // Act
    await instances.drain('prod', EC2_ID);

    // Assess
    expect(ecs.commandCalls(UpdateContainerInstancesStateCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', containerInstances: [CI_ARN], status: 'DRAINING' },
    ]);
  });

  it('drains the container instance its describe read in the same look, with no second look-up', async () => {
    // Prepare
    registered();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    ecs.on(UpdateContainerInstancesStateCommand).resolves({ containerInstances: [], failures: [] });
    const seen = await instances.describe('prod', EC2_ID);

    // Act
    await instances.drain('prod', EC2_ID, seen);

    // Assess
    expect(ecs.commandCalls(ListContainerInstancesCommand)).toHaveLength(1);
    expect(ecs.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    expect(ecs.commandCalls(UpdateContainerInstancesStateCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', containerInstances: [CI_ARN], status: 'DRAINING' },
    ]);
  });

  it.each(['DRAINING', 'DEREGISTERING'])('leaves a %s instance alone: success', async (status) => {
    // Prepare
    registered({ status });

    // Act
    await instances.drain('prod', EC2_ID);

    // Assess
    expect(ecs).not.toHaveReceivedCommand(UpdateContainerInstancesStateCommand);
  });

  it('succeeds when there is no container instance to drain', async () => {
    // Prepare
    ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [] });

    // Act
    await instances.drain('prod', EC2_ID);

    // Assess
    expect(ecs).not.toHaveReceivedCommand(UpdateContainerInstancesStateCommand);
  });

  it('succeeds when another run drained the instance in between', async () => {
    // Prepare
    ecs.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [CI_ARN] });
    ecs
      .on(DescribeContainerInstancesCommand)
      .resolvesOnce({ containerInstances: [containerInstance()] })
      .resolves({ containerInstances: [containerInstance({ status: 'DRAINING' })] });
    ecs
      .on(UpdateContainerInstancesStateCommand)
      .rejects(new InvalidParameterException({ message: 'Container instance is not ACTIVE', $metadata: {} }));

    // Act / Assess
    await expect(instances.drain('prod', EC2_ID)).resolves.toBeUndefined();
    expect(ecs).toHaveReceivedCommandTimes(DescribeContainerInstancesCommand, 2);
  });

  it('raises ContainerInstanceDrainFailed when ECS answers a failure and the instance is not draining', async () => {
    // Prepare
    registered();
    ecs
      .on(UpdateContainerInstancesStateCommand)
      .resolves({ containerInstances: [], failures: [{ arn: CI_ARN, reason: 'MISSING' }] });

    // Act
    const error = await instances.drain('prod', EC2_ID).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ContainerInstanceDrainFailed);
    expect(error).toHaveProperty('name', 'ContainerInstanceDrainFailed');
    expect((error as Error).message).toContain('MISSING');
  });

  it('surfaces errors that are not a refusal', async () => {
    // Prepare
    registered();
    ecs
      .on(UpdateContainerInstancesStateCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act / Assess
    await expect(instances.drain('prod', EC2_ID)).rejects.toThrow('Rate exceeded');
    expect(ecs).toHaveReceivedCommandTimes(DescribeContainerInstancesCommand, 1);
  });
});

describe('stopTasks', () => {
  it('stops each task with the reason, cut to 255 characters', async () => {
    // Prepare
    ecs.on(StopTaskCommand).resolves({});
    const reason = 'x'.repeat(300);

    // Act
    await instances.stopTasks('prod', [taskArn(1), taskArn(2)], reason);

    // Assess
    expect(ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', task: taskArn(1), reason: 'x'.repeat(255) },
      { cluster: 'prod', task: taskArn(2), reason: 'x'.repeat(255) },
    ]);
  });

  it('goes on past a task ECS has already forgotten', async () => {
    // Prepare
    ecs
      .on(StopTaskCommand, { task: taskArn(1) })
      .rejects(
        new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }),
      )
      .on(StopTaskCommand, { task: taskArn(2) })
      .resolves({});

    // Act
    await instances.stopTasks('prod', [taskArn(1), taskArn(2)], 'standalone grace over');

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
  });

  it('surfaces other invalid parameters', async () => {
    // Prepare
    ecs
      .on(StopTaskCommand)
      .rejects(
        new InvalidParameterException({ message: 'Invalid identifier: malformed ARN', $metadata: {} }),
      );

    // Act / Assess
    await expect(instances.stopTasks('prod', ['not-an-arn'], 'why')).rejects.toThrow('malformed ARN');
  });
});
