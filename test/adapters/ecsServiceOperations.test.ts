import {
  ClusterNotFoundException,
  DescribeServicesCommand,
  ECSClient,
  ListServicesCommand,
  ServerException,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';

const ecs = mockClient(ECSClient);

beforeEach(() => ecs.reset());

const pauses: [number, boolean][] = [];
beforeEach(() => {
  pauses.length = 0;
});
const operations = () =>
  new EcsServiceOperations(ecs as unknown as ECSClient, {
    attempts: 4,
    pause: async (retry, throttled) => {
      pauses.push([retry, throttled]);
    },
  });
/** DescribeServices with this PRIMARY deployment (and an older ACTIVE one). */
const withPrimary = (id: string) => ({
  services: [
    {
      serviceName: 'web',
      deployments: [
        { id, status: 'PRIMARY' },
        { id: 'ecs-svc/old', status: 'ACTIVE' },
      ],
    },
  ],
});
const timeout = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
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
  beforeEach(() => {
    ecs.on(DescribeServicesCommand).resolves(withPrimary('ecs-svc/before'));
  });

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

  it('confirms from the service after a timeout: a new PRIMARY deployment is its own, so it does not send again', async () => {
    // Prepare: the UpdateService took effect, then its answer was lost
    ecs.on(UpdateServiceCommand).rejectsOnce(timeout()).resolves({});
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(withPrimary('ecs-svc/before'))
      .resolves(withPrimary('ecs-svc/after'));

    // Act
    await operations().forceNewDeployment('prod', 'web');

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'prod', services: ['web'] });
    expect(pauses).toEqual([]);
  });

  it('sends again after a 5xx when the service shows no new deployment', async () => {
    // Prepare
    ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(new ServerException({ message: 'Internal error', $metadata: { httpStatusCode: 500 } }))
      .resolves({});

    // Act
    await operations().forceNewDeployment('prod', 'web');

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 2);
    expect(pauses).toEqual([[0, false]]);
  });

  it('retries throttling without reading the service: AWS did nothing', async () => {
    // Prepare
    ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({});

    // Act
    await operations().forceNewDeployment('prod', 'web');

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 2);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(pauses).toEqual([[0, true]]);
  });

  it('gives up with the last error after its attempts, each confirmed as not taken', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).rejects(timeout());

    // Act
    const forcing = operations().forceNewDeployment('prod', 'web');

    // Assess
    await expect(forcing).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 4);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 5);
  });
});
