import {
  ClusterNotFoundException,
  ECSClient,
  ListServicesCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';

const ecs = mockClient(ECSClient);

beforeEach(() => ecs.reset());

const operations = () => new EcsServiceOperations(ecs as unknown as ECSClient);
const serviceArn = (name: string) => `arn:aws:ecs:eu-west-1:111122223333:service/prod/${name}`;

describe('listServices', () => {
  it('reads every page and answers the service names', async () => {
    // Prepare
    ecs
      .on(ListServicesCommand)
      .resolvesOnce({ serviceArns: [serviceArn('web'), serviceArn('api')], nextToken: 'p2' })
      .resolvesOnce({ serviceArns: [], nextToken: 'p3' })
      // The old ARN format, without the cluster, still shows on services created before 2021.
      .resolvesOnce({
        serviceArns: [serviceArn('worker'), 'arn:aws:ecs:eu-west-1:111122223333:service/legacy'],
      });

    // Act
    const names = await operations().listServices('prod');

    // Assess
    expect(names).toEqual(['web', 'api', 'worker', 'legacy']);
    expect(ecs.commandCalls(ListServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', nextToken: undefined, maxResults: 100 },
      { cluster: 'prod', nextToken: 'p2', maxResults: 100 },
      { cluster: 'prod', nextToken: 'p3', maxResults: 100 },
    ]);
  });

  it('answers an empty list for a cluster without services', async () => {
    // Prepare
    ecs.on(ListServicesCommand).resolves({});

    // Act
    const names = await operations().listServices('empty');

    // Assess
    expect(names).toEqual([]);
    expect(ecs).toHaveReceivedCommandTimes(ListServicesCommand, 1);
  });

  it('passes ClusterNotFoundException on, for the caller to answer 404', async () => {
    // Prepare
    ecs
      .on(ListServicesCommand)
      .rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));

    // Act
    const listing = operations().listServices('nope');

    // Assess
    await expect(listing).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
  });
});

describe('forceNewDeployment', () => {
  it('updates the service with forceNewDeployment and nothing else', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).resolves({});

    // Act
    await operations().forceNewDeployment('prod', 'web');

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]!.args[0].input).toEqual({
      cluster: 'prod',
      service: 'web',
      forceNewDeployment: true,
    });
  });

  it('passes ServiceNotFoundException on', async () => {
    // Prepare
    ecs
      .on(UpdateServiceCommand)
      .rejects(new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} }));

    // Act
    const forcing = operations().forceNewDeployment('prod', 'gone');

    // Assess
    await expect(forcing).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
  });
});
