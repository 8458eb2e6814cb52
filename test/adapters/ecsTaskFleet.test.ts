import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  ECSClient,
  type Task as EcsTask,
  InvalidParameterException,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import type { TaskLaunch } from '#ports';

const ecs = mockClient(ECSClient);
const fleet = new EcsTaskFleet(ecs as unknown as ECSClient);

const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod';
const taskArn = (n: number) =>
  `arn:aws:ecs:eu-west-1:111122223333:task/prod/${n.toString(16).padStart(32, '0')}`;
const instanceArn = (n: number) => `arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/${n}`;

function sdkTask(n: number, changes: Partial<EcsTask> = {}): EcsTask {
  return {
    taskArn: taskArn(n),
    clusterArn: CLUSTER_ARN,
    group: 'family:report',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 3,
    launchType: 'FARGATE',
    containers: [{ name: 'app' }],
    tags: [],
    ...changes,
  };
}

/** DescribeTasks answers with the tasks it was asked for, built by `build`. */
function describeTasksWith(build: (arn: string) => EcsTask) {
  ecs.on(DescribeTasksCommand).callsFake((input: DescribeTasksCommandInput) => ({
    tasks: (input.tasks ?? []).map(build),
  }));
}

beforeEach(() => ecs.reset());

describe('listTasks', () => {
  it('lists a family by family and desired status, then describes with tags', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1)] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [sdkTask(1)] });

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');

    // Assess
    expect(tasks.map((t) => t.taskArn)).toEqual([taskArn(1)]);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', family: 'report', desiredStatus: 'STOPPED', maxResults: 100 },
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', tasks: [taskArn(1)], include: ['TAGS'] },
    ]);
    expect(ecs).not.toHaveReceivedCommand(DescribeContainerInstancesCommand);
  });

  it('describes a task ECS has stopped once, and a task still stopping on every listing', async () => {
    // Prepare: task 1 has stopped, task 2 is on its way (a STOPPED listing returns both)
    const remembering = new EcsTaskFleet(ecs as unknown as ECSClient);
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1), taskArn(2)] });
    describeTasksWith((arn) =>
      sdkTask(arn === taskArn(1) ? 1 : 2, {
        desiredStatus: 'STOPPED',
        lastStatus: arn === taskArn(1) ? 'STOPPED' : 'DEPROVISIONING',
      }),
    );
    const first = await remembering.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');

    // Act
    const second = await remembering.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');

    // Assess: the same answer, in the listing's order, with one describe fewer
    expect(second).toEqual(first);
    expect(second.map((t) => t.taskArn)).toEqual([taskArn(1), taskArn(2)]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks)).toEqual([
      [taskArn(1), taskArn(2)],
      [taskArn(2)],
    ]);
  });

  it('forgets nothing ECS still lists, and returns nothing ECS no longer lists', async () => {
    // Prepare
    const remembering = new EcsTaskFleet(ecs as unknown as ECSClient);
    describeTasksWith((arn) => sdkTask(arn === taskArn(1) ? 1 : 2, { lastStatus: 'STOPPED' }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1), taskArn(2)] });
    await remembering.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(2)] });

    // Act
    const tasks = await remembering.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');

    // Assess
    expect(tasks.map((t) => t.taskArn)).toEqual([taskArn(2)]);
  });

  it('lists a service by service name', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1)] });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [sdkTask(1, { group: 'service:web' })] });

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'service', name: 'web' }, 'RUNNING');

    // Assess
    expect(tasks).toHaveLength(1);
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'prod',
      serviceName: 'web',
      desiredStatus: 'RUNNING',
    });
    expect(ecs.commandCalls(ListTasksCommand)[0]!.args[0].input).not.toHaveProperty('family');
  });

  it('follows nextToken through every page', async () => {
    // Prepare
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [taskArn(1), taskArn(2)], nextToken: 'page-2' })
      .resolvesOnce({ taskArns: [taskArn(3)], nextToken: 'page-3' })
      .resolvesOnce({ taskArns: [taskArn(4)] });
    describeTasksWith((arn) => sdkTask(Number.parseInt(arn.slice(-32), 16)));

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    expect(tasks.map((t) => t.taskArn)).toEqual([taskArn(1), taskArn(2), taskArn(3), taskArn(4)]);
    expect(ecs).toHaveReceivedCommandTimes(ListTasksCommand, 3);
    expect(ecs).toHaveReceivedNthSpecificCommandWith(2, ListTasksCommand, { nextToken: 'page-2' });
    expect(ecs).toHaveReceivedNthSpecificCommandWith(3, ListTasksCommand, { nextToken: 'page-3' });
    expect(ecs.commandCalls(ListTasksCommand)[0]!.args[0].input).not.toHaveProperty('nextToken');
  });

  it('describes at most 100 tasks a call', async () => {
    // Prepare
    const arns = Array.from({ length: 250 }, (_, i) => taskArn(i + 1));
    ecs.on(ListTasksCommand).resolves({ taskArns: arns });
    describeTasksWith((arn) => sdkTask(Number.parseInt(arn.slice(-32), 16)));

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    expect(tasks).toHaveLength(250);
    const batches = ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks ?? []);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(arns);
  });

  it('does not call DescribeTasks when nothing is listed', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    expect(tasks).toEqual([]);
    expect(ecs).not.toHaveReceivedCommand(DescribeTasksCommand);
  });

  it('keeps only the asked group: a family listing also returns the service tasks of that family', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1), taskArn(2)] });
    ecs
      .on(DescribeTasksCommand)
      .resolves({ tasks: [sdkTask(1), sdkTask(2, { group: 'service:report-api' })] });

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    expect(tasks.map((t) => t.taskArn)).toEqual([taskArn(1)]);
  });

  it('maps an awsvpc task: ENI address and subnet, tags, exit codes, overrides, statuses as ECS gives them', async () => {
    // Prepare
    const overrides = { containerOverrides: [{ name: 'app', command: ['run', '--daily'] }] };
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1)] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        sdkTask(1, {
          // Stopping but not yet stopped: a STOPPED listing returns it with lastStatus RUNNING.
          lastStatus: 'RUNNING',
          desiredStatus: 'STOPPED',
          startedBy: 'ecs-reflex/task-recycler',
          capacityProviderName: 'FARGATE_SPOT',
          createdAt: new Date('2026-11-02T09:00:00Z'),
          startedAt: new Date('2026-11-02T09:00:15Z'),
          stoppedAt: new Date('2026-11-02T09:10:00Z'),
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          containers: [{ name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed' }],
          attachments: [
            {
              type: 'ElasticNetworkInterface',
              status: 'ATTACHED',
              details: [
                { name: 'subnetId', value: 'subnet-0abc' },
                { name: 'networkInterfaceId', value: 'eni-0123' },
                { name: 'privateIPv4Address', value: '10.0.1.23' },
              ],
            },
          ],
          overrides,
          tags: [
            { key: 'team', value: 'reports' },
            { key: 'ecs-reflex:restart-attempt', value: '2' },
          ],
        }),
      ],
    });

    // Act
    const [task] = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'STOPPED');

    // Assess
    expect(task).toEqual({
      taskArn: taskArn(1),
      clusterArn: CLUSTER_ARN,
      group: 'family:report',
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
      lastStatus: 'RUNNING',
      desiredStatus: 'STOPPED',
      version: 3,
      startedBy: 'ecs-reflex/task-recycler',
      launchType: 'FARGATE',
      capacityProviderName: 'FARGATE_SPOT',
      createdAt: new Date('2026-11-02T09:00:00Z'),
      startedAt: new Date('2026-11-02T09:00:15Z'),
      stoppedAt: new Date('2026-11-02T09:10:00Z'),
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'app', exitCode: 137, reason: 'OutOfMemoryError: Container killed' }],
      privateIp: '10.0.1.23',
      subnetId: 'subnet-0abc',
      overrides,
      tags: { team: 'reports', 'ecs-reflex:restart-attempt': '2' },
    });
    expect(ecs).not.toHaveReceivedCommand(DescribeContainerInstancesCommand);
  });

  it('finds the EC2 instance of bridge tasks, one lookup for the distinct container instances', async () => {
    // Prepare
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn(1), taskArn(2), taskArn(3)] });
    const bridged = (n: number, instance: number) =>
      sdkTask(n, {
        launchType: 'EC2',
        containerInstanceArn: instanceArn(instance),
        containers: [
          { name: 'app', networkBindings: [{ containerPort: 8080, hostPort: 32768 + n, protocol: 'tcp' }] },
        ],
      });
    ecs.on(DescribeTasksCommand).resolves({ tasks: [bridged(1, 1), bridged(2, 1), bridged(3, 2)] });
    ecs.on(DescribeContainerInstancesCommand).resolves({
      containerInstances: [
        { containerInstanceArn: instanceArn(1), ec2InstanceId: 'i-0aaa' },
        { containerInstanceArn: instanceArn(2), ec2InstanceId: 'i-0bbb' },
      ],
    });

    // Act
    const tasks = await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    expect(tasks.map((t) => t.ec2InstanceId)).toEqual(['i-0aaa', 'i-0aaa', 'i-0bbb']);
    expect(tasks[0]!.containers).toEqual([
      { name: 'app', bindings: [{ containerPort: 8080, hostPort: 32769 }] },
    ]);
    expect(ecs.commandCalls(DescribeContainerInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', containerInstances: [instanceArn(1), instanceArn(2)] },
    ]);
  });

  it('looks up at most 100 container instances a call', async () => {
    // Prepare
    const arns = Array.from({ length: 150 }, (_, i) => taskArn(i + 1));
    ecs.on(ListTasksCommand).resolves({ taskArns: arns });
    describeTasksWith((arn) => {
      const n = Number.parseInt(arn.slice(-32), 16);
      return sdkTask(n, { launchType: 'EC2', containerInstanceArn: instanceArn(n) });
    });
    ecs.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [] });

    // Act
    await fleet.listTasks('prod', { kind: 'family', name: 'report' }, 'RUNNING');

    // Assess
    const batches = ecs
      .commandCalls(DescribeContainerInstancesCommand)
      .map((c) => c.args[0].input.containerInstances);
    expect(batches.map((b) => b?.length)).toEqual([100, 50]);
  });
});

describe('runTask', () => {
  const launch = (changes: Partial<TaskLaunch> = {}): TaskLaunch => ({
    cluster: 'prod',
    taskDefinitionArn: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
    group: 'family:report',
    startedBy: 'ecs-reflex/task-recycler',
    launchType: 'EC2',
    tags: { team: 'reports' },
    clientToken: 'root-1',
    ...changes,
  });

  it('starts a copy with a launch type and returns its ARN', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(9) }], failures: [] });

    // Act
    const result = await fleet.runTask(launch());

    // Assess
    expect(result).toEqual({ started: true, taskArn: taskArn(9) });
    expect(ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input)).toEqual([
      {
        cluster: 'prod',
        taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
        group: 'family:report',
        startedBy: 'ecs-reflex/task-recycler',
        launchType: 'EC2',
        tags: [{ key: 'team', value: 'reports' }],
        clientToken: 'root-1',
      },
    ]);
  });

  it('starts a copy on a capacity provider with its weight, and no launch type', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(9) }] });

    // Act
    await fleet.runTask(
      launch({
        launchType: undefined,
        capacityProviderStrategy: [{ capacityProvider: 'prod-asg', weight: 1 }],
        tags: { team: 'reports' },
      }),
    );

    // Assess: exactly what ECS gets
    expect(ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input)).toEqual([
      {
        cluster: 'prod',
        taskDefinition: 'arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3',
        group: 'family:report',
        startedBy: 'ecs-reflex/task-recycler',
        capacityProviderStrategy: [{ capacityProvider: 'prod-asg', weight: 1 }],
        tags: [{ key: 'team', value: 'reports' }],
        clientToken: 'root-1',
      },
    ]);
  });

  it('passes overrides and the awsvpc network through, and leaves propagateTags unset', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: taskArn(9) }] });
    const overrides = {
      containerOverrides: [{ name: 'app', environment: [{ name: 'MODE', value: 'daily' }] }],
    };

    // Act
    await fleet.runTask(
      launch({
        launchType: 'FARGATE',
        overrides,
        network: { subnets: ['subnet-0abc'], securityGroups: ['sg-0123'], assignPublicIp: false },
      }),
    );

    // Assess
    const input = ecs.commandCalls(RunTaskCommand)[0]!.args[0].input;
    expect(input.overrides).toEqual(overrides);
    expect(input.networkConfiguration).toEqual({
      awsvpcConfiguration: {
        subnets: ['subnet-0abc'],
        securityGroups: ['sg-0123'],
        assignPublicIp: 'DISABLED',
      },
    });
    expect(input).not.toHaveProperty('propagateTags');
  });

  it('surfaces what ECS refuses instead of changing the launch behind the caller', async () => {
    // Prepare
    ecs
      .on(RunTaskCommand)
      .rejects(new InvalidParameterException({ message: 'Tag keys cannot start with aws:', $metadata: {} }));

    // Act
    const running = fleet.runTask(launch({ tags: { 'aws:cloudformation:stack-name': 'reports' } }));

    // Assess
    await expect(running).rejects.toThrow('Tag keys cannot start with aws:');
    expect(ecs.commandCalls(RunTaskCommand)[0]!.args[0].input.tags).toEqual([
      { key: 'aws:cloudformation:stack-name', value: 'reports' },
    ]);
  });

  it('reports a placement failure as not started, with the reason ECS gave', async () => {
    // Prepare
    ecs
      .on(RunTaskCommand)
      .resolves({ tasks: [], failures: [{ arn: instanceArn(1), reason: 'RESOURCE:MEMORY' }] });

    // Act
    const result = await fleet.runTask(launch());

    // Assess
    expect(result).toEqual({ started: false, reason: 'RESOURCE:MEMORY' });
  });

  it.each([
    'No Container Instances were found in your cluster.',
    'No Container Instances were found in your capacity provider.',
  ])('reports not started when ECS throws "%s"', async (message) => {
    // Prepare
    ecs.on(RunTaskCommand).rejects(new InvalidParameterException({ message, $metadata: {} }));

    // Act
    const result = await fleet.runTask(launch());

    // Assess
    expect(result).toEqual({ started: false, reason: message });
  });

  it('still throws any other invalid parameter from RunTask', async () => {
    // Prepare
    ecs
      .on(RunTaskCommand)
      .rejects(new InvalidParameterException({ message: 'TaskDefinition is inactive', $metadata: {} }));

    // Act
    const running = fleet.runTask(launch());

    // Assess
    await expect(running).rejects.toThrow('TaskDefinition is inactive');
  });

  it('reports not started when ECS returns neither a task nor a failure', async () => {
    // Prepare
    ecs.on(RunTaskCommand).resolves({});

    // Act
    const result = await fleet.runTask(launch());

    // Assess
    expect(result).toEqual({ started: false, reason: expect.any(String) });
  });
});

describe('stopTask', () => {
  it('stops with the reason cut to 255 characters', async () => {
    // Prepare
    ecs.on(StopTaskCommand).resolves({ task: { taskArn: taskArn(1), desiredStatus: 'STOPPED' } });

    // Act
    await fleet.stopTask('prod', taskArn(1), `unhealthy ${'x'.repeat(300)}`);

    // Assess
    const input = ecs.commandCalls(StopTaskCommand)[0]!.args[0].input;
    expect(input).toEqual({ cluster: 'prod', task: taskArn(1), reason: expect.any(String) });
    expect(input.reason).toHaveLength(255);
  });

  it('succeeds for a task ECS no longer knows', async () => {
    // Prepare
    ecs
      .on(StopTaskCommand)
      .rejects(
        new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }),
      );

    // Act
    const stopping = fleet.stopTask('prod', taskArn(1), 'unhealthy');

    // Assess
    await expect(stopping).resolves.toBeUndefined();
  });

  it('still fails on any other invalid parameter', async () => {
    // Prepare
    ecs
      .on(StopTaskCommand)
      .rejects(new InvalidParameterException({ message: 'Task Identifier is invalid', $metadata: {} }));

    // Act
    const stopping = fleet.stopTask('prod', 'not-an-arn', 'unhealthy');

    // Assess
    await expect(stopping).rejects.toThrow('Task Identifier is invalid');
  });
});

describe('tagTask', () => {
  it('sets string values and removes null ones on the task ARN', async () => {
    // Prepare
    ecs.on(TagResourceCommand).resolves({});
    ecs.on(UntagResourceCommand).resolves({});

    // Act
    await fleet.tagTask('prod', taskArn(1), {
      'ecs-reflex:gave-up': 'true',
      'ecs-reflex:unhealthy-since': null,
    });

    // Assess
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: taskArn(1), tags: [{ key: 'ecs-reflex:gave-up', value: 'true' }] },
    ]);
    expect(ecs.commandCalls(UntagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: taskArn(1), tagKeys: ['ecs-reflex:unhealthy-since'] },
    ]);
  });

  it('only untags when every value is null', async () => {
    // Prepare
    ecs.on(UntagResourceCommand).resolves({});

    // Act
    await fleet.tagTask('prod', taskArn(1), { 'ecs-reflex:unhealthy-since': null });

    // Assess
    expect(ecs).not.toHaveReceivedCommand(TagResourceCommand);
    expect(ecs).toHaveReceivedCommandTimes(UntagResourceCommand, 1);
  });
});
