import {
  DescribeServiceRevisionsCommand,
  type DescribeServiceRevisionsCommandInput,
  DescribeServicesCommand,
  ECSClient,
  type Service as EcsService,
  ListServiceDeploymentsCommand,
  type ServiceDeploymentBrief,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';

const ecs = mockClient(ECSClient);

const SERVICE_ARN = 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web';
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod';
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';
const taskDefinition = (revision: number) =>
  `arn:aws:ecs:eu-west-1:111122223333:task-definition/web:${revision}`;
const revisionArn = (n: number) => `arn:aws:ecs:eu-west-1:111122223333:service-revision/prod/web/${n}`;
const deploymentArn = (n: number) => `arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod/web/${n}`;
const at = (day: number) => new Date(Date.UTC(2026, 9, day, 12));

function sdkService(changes: Partial<EcsService> = {}): EcsService {
  return {
    serviceName: 'web',
    serviceArn: SERVICE_ARN,
    clusterArn: CLUSTER_ARN,
    status: 'ACTIVE',
    taskDefinition: taskDefinition(7),
    desiredCount: 4,
    runningCount: 3,
    pendingCount: 1,
    ...changes,
  };
}

function brief(n: number, changes: Partial<ServiceDeploymentBrief> = {}): ServiceDeploymentBrief {
  return {
    serviceDeploymentArn: deploymentArn(n),
    serviceArn: SERVICE_ARN,
    clusterArn: CLUSTER_ARN,
    targetServiceRevisionArn: revisionArn(n),
    status: 'SUCCESSFUL',
    createdAt: at(n),
    startedAt: at(n),
    finishedAt: new Date(at(n).getTime() + 600_000),
    ...changes,
  };
}

/** Revision n runs task definition web:n. */
function describeRevisionsAsTheirNumber() {
  ecs.on(DescribeServiceRevisionsCommand).callsFake((input: DescribeServiceRevisionsCommandInput) => ({
    serviceRevisions: (input.serviceRevisionArns ?? []).map((arn) => ({
      serviceRevisionArn: arn,
      taskDefinition: taskDefinition(Number(arn.split('/').pop())),
    })),
  }));
}

let control: EcsServiceControl;

beforeEach(() => {
  ecs.reset();
  control = new EcsServiceControl(ecs as unknown as ECSClient);
});

describe('describeService', () => {
  it('maps the service with its tags, target groups, circuit breaker and deployments', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        sdkService({
          deploymentConfiguration: {
            minimumHealthyPercent: 50,
            maximumPercent: 200,
            deploymentCircuitBreaker: { enable: true, rollback: true },
          },
          loadBalancers: [
            { targetGroupArn: TG, containerName: 'app', containerPort: 8080 },
            { targetGroupArn: TG, containerName: 'app', containerPort: 8081 },
          ],
          deployments: [
            {
              id: 'ecs-svc/1111',
              status: 'PRIMARY',
              taskDefinition: taskDefinition(7),
              rolloutState: 'IN_PROGRESS',
              runningCount: 1,
              desiredCount: 4,
              createdAt: at(20),
              updatedAt: at(21),
            },
            {
              id: 'ecs-svc/0000',
              status: 'ACTIVE',
              taskDefinition: taskDefinition(6),
              runningCount: 2,
              desiredCount: 0,
            },
          ],
          tags: [{ key: 'team', value: 'web' }],
        }),
      ],
      failures: [],
    });

    // Act
    const service = await control.describeService('prod', 'web');

    // Assess
    expect(service).toEqual({
      serviceName: 'web',
      serviceArn: SERVICE_ARN,
      clusterArn: CLUSTER_ARN,
      taskDefinitionArn: taskDefinition(7),
      desiredCount: 4,
      runningCount: 3,
      pendingCount: 1,
      circuitBreaker: true,
      deploymentController: 'ECS',
      deploymentStrategy: 'ROLLING',
      deployments: [
        {
          id: 'ecs-svc/1111',
          status: 'PRIMARY',
          taskDefinitionArn: taskDefinition(7),
          rolloutState: 'IN_PROGRESS',
          runningCount: 1,
          desiredCount: 4,
          createdAt: at(20),
          updatedAt: at(21),
        },
        {
          id: 'ecs-svc/0000',
          status: 'ACTIVE',
          taskDefinitionArn: taskDefinition(6),
          runningCount: 2,
          desiredCount: 0,
        },
      ],
      targetGroupArns: [TG],
      tags: { team: 'web' },
    });
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', services: ['web'], include: ['TAGS'] },
    ]);
  });

  it('takes a floor of 100% when the service does not say', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({ services: [sdkService()] });

    // Act
    const service = await control.describeService('prod', 'web');

    // Assess
    expect(service?.circuitBreaker).toBe(false);
    expect(service?.targetGroupArns).toEqual([]);
    expect(service?.tags).toEqual({});
  });

  it.each([
    [{ deploymentController: { type: 'CODE_DEPLOY' as const }, deployments: [] }, 'CODE_DEPLOY', 'ROLLING'],
    [{ deploymentController: { type: 'EXTERNAL' as const } }, 'EXTERNAL', 'ROLLING'],
    [
      {
        deploymentController: { type: 'ECS' as const },
        deploymentConfiguration: { strategy: 'BLUE_GREEN' as const },
      },
      'ECS',
      'BLUE_GREEN',
    ],
    [{ deploymentConfiguration: { strategy: 'CANARY' as const } }, 'ECS', 'CANARY'],
  ])('reads who deploys the service and its strategy from %j', async (changes, controller, strategy) => {
    ecs.on(DescribeServicesCommand).resolves({ services: [sdkService(changes)] });
    const service = await control.describeService('prod', 'web');
    expect([service?.deploymentController, service?.deploymentStrategy]).toEqual([controller, strategy]);
  });

  it('returns undefined for a missing service', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] });

    // Act
    const service = await control.describeService('prod', 'web');

    // Assess
    expect(service).toBeUndefined();
  });

  it('returns undefined for a deleted (INACTIVE) service', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({ services: [sdkService({ status: 'INACTIVE' })] });

    // Act
    const service = await control.describeService('prod', 'web');

    // Assess
    expect(service).toBeUndefined();
  });
});

describe('deploymentHistory', () => {
  it('assembles deployments with their task definitions, newest first, whatever their status', async () => {
    // Prepare
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        brief(1),
        brief(3, { status: 'ROLLBACK_SUCCESSFUL' }),
        brief(2),
        brief(4, { status: 'IN_PROGRESS', finishedAt: undefined }),
      ],
    });
    describeRevisionsAsTheirNumber();

    // Act
    const history = await control.deploymentHistory('prod', 'web');

    // Assess
    expect(history).toEqual([
      {
        taskDefinitionArn: taskDefinition(4),
        status: 'IN_PROGRESS',
        startedAt: at(4),
        finishedAt: undefined,
      },
      {
        taskDefinitionArn: taskDefinition(3),
        status: 'ROLLBACK_SUCCESSFUL',
        startedAt: at(3),
        finishedAt: new Date(at(3).getTime() + 600_000),
      },
      {
        taskDefinitionArn: taskDefinition(2),
        status: 'SUCCESSFUL',
        startedAt: at(2),
        finishedAt: expect.any(Date),
      },
      {
        taskDefinitionArn: taskDefinition(1),
        status: 'SUCCESSFUL',
        startedAt: at(1),
        finishedAt: expect.any(Date),
      },
    ]);
    expect(ecs.commandCalls(ListServiceDeploymentsCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', maxResults: 100 },
    ]);
    expect(ecs.commandCalls(DescribeServiceRevisionsCommand).map((c) => c.args[0].input)).toEqual([
      { serviceRevisionArns: [revisionArn(1), revisionArn(3), revisionArn(2), revisionArn(4)] },
    ]);
  });

  it('pages through ListServiceDeployments and describes at most 20 revisions a call', async () => {
    // Prepare
    const briefs = Array.from({ length: 45 }, (_, i) =>
      brief(i + 1, { startedAt: new Date(at(1).getTime() + i * 3600_000) }),
    );
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: briefs.slice(0, 30), nextToken: 'more' })
      .resolvesOnce({ serviceDeployments: briefs.slice(30) });
    describeRevisionsAsTheirNumber();

    // Act
    const history = await control.deploymentHistory('prod', 'web');

    // Assess
    expect(history).toHaveLength(45);
    expect(history[0]?.taskDefinitionArn).toBe(taskDefinition(45));
    expect(ecs).toHaveReceivedNthSpecificCommandWith(2, ListServiceDeploymentsCommand, { nextToken: 'more' });
    const batches = ecs
      .commandCalls(DescribeServiceRevisionsCommand)
      .map((c) => c.args[0].input.serviceRevisionArns);
    expect(batches.map((b) => b?.length)).toEqual([20, 20, 5]);
  });

  it('describes a revision shared by several deployments once', async () => {
    // Prepare
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [brief(1), brief(2, { targetServiceRevisionArn: revisionArn(1) })],
    });
    describeRevisionsAsTheirNumber();

    // Act
    const history = await control.deploymentHistory('prod', 'web');

    // Assess
    expect(history.map((r) => r.taskDefinitionArn)).toEqual([taskDefinition(1), taskDefinition(1)]);
    expect(ecs.commandCalls(DescribeServiceRevisionsCommand).map((c) => c.args[0].input)).toEqual([
      { serviceRevisionArns: [revisionArn(1)] },
    ]);
  });

  it('leaves out deployments whose revision cannot be described', async () => {
    // Prepare
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [brief(1), brief(2)] });
    ecs.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [{ serviceRevisionArn: revisionArn(2), taskDefinition: taskDefinition(2) }],
      failures: [{ arn: revisionArn(1), reason: 'MISSING' }],
    });

    // Act
    const history = await control.deploymentHistory('prod', 'web');

    // Assess
    expect(history.map((r) => r.taskDefinitionArn)).toEqual([taskDefinition(2)]);
  });

  it('makes no revision call for a service without deployments', async () => {
    // Prepare
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });

    // Act
    const history = await control.deploymentHistory('prod', 'web');

    // Assess
    expect(history).toEqual([]);
    expect(ecs).not.toHaveReceivedCommand(DescribeServiceRevisionsCommand);
  });
});

describe('writes', () => {
  it('points the service at another task definition', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).resolves({});

    // Act
    await control.setTaskDefinition('prod', 'web', taskDefinition(6));

    // Assess
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', taskDefinition: taskDefinition(6) },
    ]);
  });

  it('sets the desired count and nothing else', async () => {
    // Prepare
    ecs.on(UpdateServiceCommand).resolves({});

    // Act
    await control.setDesiredCount('prod', 'web', 0);

    // Assess
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', desiredCount: 0 },
    ]);
  });

  it('tags the service by the ARN it already saw, without describing it again', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({ services: [sdkService()] });
    ecs.on(TagResourceCommand).resolves({});
    await control.describeService('prod', 'web');
    ecs.resetHistory();

    // Act
    await control.tagService('prod', 'web', { 'ecs-reflex:crash-loop-handled': 'ecs-svc/1111' });

    // Assess
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
    expect(ecs.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { resourceArn: SERVICE_ARN, tags: [{ key: 'ecs-reflex:crash-loop-handled', value: 'ecs-svc/1111' }] },
    ]);
  });

  it('describes the service first to learn its ARN when it has not seen it', async () => {
    // Prepare: an account on the old ARN format, which a name alone could not rebuild
    const shortArn = 'arn:aws:ecs:eu-west-1:111122223333:service/web';
    ecs.on(DescribeServicesCommand).resolves({ services: [sdkService({ serviceArn: shortArn })] });
    ecs.on(TagResourceCommand).resolves({});

    // Act
    await control.tagService('prod', 'web', { team: 'web' });

    // Assess
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(TagResourceCommand, { resourceArn: shortArn });
  });

  it('fails to tag a service that does not exist', async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });

    // Act
    const tagging = control.tagService('prod', 'web', { team: 'web' });

    // Assess
    await expect(tagging).rejects.toThrow('service web not found in cluster prod');
    expect(ecs).not.toHaveReceivedCommand(TagResourceCommand);
  });
});
