import {
  DescribeContainerInstancesCommand,
  ECSClient,
  ListContainerInstancesCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsInstanceFleet } from '#adapters/aws/ecsInstanceFleet';

const ecs = mockClient(ECSClient);
const arn = (n: number) =>
  `arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/${n.toString(16).padStart(32, '0')}`;

beforeEach(() => ecs.reset());

describe('EcsInstanceFleet', () => {
  it('lists every page of container instances and describes them 100 at a time', async () => {
    // Prepare: 150 instances over two pages
    ecs
      .on(ListContainerInstancesCommand, { cluster: 'prod' })
      .resolvesOnce({ containerInstanceArns: Array.from({ length: 100 }, (_, i) => arn(i)), nextToken: 'p2' })
      .resolvesOnce({ containerInstanceArns: Array.from({ length: 50 }, (_, i) => arn(100 + i)) });
    ecs.on(DescribeContainerInstancesCommand).callsFake((input: { containerInstances: string[] }) => ({
      containerInstances: input.containerInstances.map((a, i) => ({
        containerInstanceArn: a,
        ec2InstanceId: `i-${(i + 1).toString(16).padStart(17, '0')}`,
        status: i === 0 ? 'DRAINING' : 'ACTIVE',
        agentConnected: true,
        runningTasksCount: 3,
        pendingTasksCount: 1,
      })),
    }));
    const fleet = new EcsInstanceFleet(ecs as unknown as ECSClient);

    // Act
    const instances = await fleet.list('prod');

    // Assess
    expect(instances).toHaveLength(150);
    expect(instances[0]).toEqual({
      ec2InstanceId: 'i-00000000000000001',
      status: 'DRAINING',
      agentConnected: true,
      runningTasks: 3,
      pendingTasks: 1,
    });
    expect(
      ecs
        .commandCalls(DescribeContainerInstancesCommand)
        .map((c) => c.args[0].input.containerInstances?.length),
    ).toEqual([100, 50]);
    expect(ecs.commandCalls(ListContainerInstancesCommand)[1]!.args[0].input.nextToken).toBe('p2');
  });
});
