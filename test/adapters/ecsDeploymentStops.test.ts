import {
  ConflictException,
  ECSClient,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  ServiceDeploymentNotFoundException,
  StopServiceDeploymentCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsDeploymentStops } from '#adapters/aws/ecsDeploymentStops';

const ecs = mockClient(ECSClient);
const DEPLOYMENT = (id: string) =>
  `arn:aws:ecs:eu-west-1:210987654321:service-deployment/shop/checkout/${id}`;
const meta = { $metadata: {}, message: 'x' };

beforeEach(() => ecs.reset());

describe('EcsDeploymentStops', () => {
  it("lists a service's unfinished deployments only, page after page", async () => {
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [{ serviceDeploymentArn: DEPLOYMENT('a') }], nextToken: 'more' })
      .resolvesOnce({ serviceDeployments: [{ serviceDeploymentArn: DEPLOYMENT('b') }] });

    const arns = await new EcsDeploymentStops(new ECSClient({})).unfinished('shop', 'checkout');

    expect(arns).toEqual([DEPLOYMENT('a'), DEPLOYMENT('b')]);
    expect(ecs).toHaveReceivedNthCommandWith(1, ListServiceDeploymentsCommand, {
      cluster: 'shop',
      service: 'checkout',
      status: ['PENDING', 'IN_PROGRESS', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'],
      maxResults: 100,
    });
    expect(ecs).toHaveReceivedNthCommandWith(2, ListServiceDeploymentsCommand, { nextToken: 'more' });
  });

  it('stops with ROLLBACK', async () => {
    ecs.on(StopServiceDeploymentCommand).resolves({ serviceDeploymentArn: DEPLOYMENT('a') });

    expect(await new EcsDeploymentStops(new ECSClient({})).stop(DEPLOYMENT('a'))).toEqual({ stopped: true });
    expect(ecs).toHaveReceivedCommandWith(StopServiceDeploymentCommand, {
      serviceDeploymentArn: DEPLOYMENT('a'),
      stopType: 'ROLLBACK',
    });
  });

  it('answers "not stopped" with ECS\'s words for a deployment that ended or is gone, and throws the rest', async () => {
    const stops = new EcsDeploymentStops(new ECSClient({}));
    ecs
      .on(StopServiceDeploymentCommand)
      .rejectsOnce(new ConflictException(meta))
      .rejectsOnce(new ServiceDeploymentNotFoundException(meta))
      .rejectsOnce(new InvalidParameterException(meta));

    expect(await stops.stop(DEPLOYMENT('a'))).toEqual({ stopped: false, why: 'ConflictException: x' });
    expect(await stops.stop(DEPLOYMENT('a'))).toMatchObject({ stopped: false });
    await expect(stops.stop(DEPLOYMENT('a'))).rejects.toThrow(InvalidParameterException);
  });
});
