// The ECS contract on AWS: a cluster without container instances, two revisions of a tiny task
// definition that never runs, and a service of it with no task. All deleted afterwards.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  waitUntilServicesInactive,
} from '@aws-sdk/client-ecs';
import { EcsContainerInstances } from '#adapters/aws/ecsContainerInstances';
import { EcsInstanceFleet } from '#adapters/aws/ecsInstanceFleet';
import { EcsServiceControl } from '#adapters/aws/ecsServiceControl';
import { EcsServiceOperations } from '#adapters/aws/ecsServiceOperations';
import { EcsTaskFleet } from '#adapters/aws/ecsTaskFleet';
import { AwsContractContext, describeOnAws } from './aws/context';
import { ecsContract } from './ecs.contract';

describeOnAws('ECS ports on AWS', () => {
  const aws = new AwsContractContext();
  afterAll(() => aws.cleanup());

  ecsContract(() => {
    const { ecs } = aws.clients;
    return {
      tasks: new EcsTaskFleet(ecs),
      services: new EcsServiceControl(ecs),
      operations: new EcsServiceOperations(ecs),
      fleet: new EcsInstanceFleet(ecs),
      instances: new EcsContainerInstances(ecs),
      // A deployment, even of no task, is SUCCESSFUL in ListServiceDeployments only after ECS has
      // checked it for a while: up to five minutes.
      eventually: (read, ok) => aws.eventually(read, ok, 300),
      given: async () => {
        const cluster = aws.name('cluster');
        const created = await ecs.send(new CreateClusterCommand({ clusterName: cluster, tags: aws.tags() }));
        aws.defer(`cluster ${cluster}`, () =>
          aws.retrying(() => ecs.send(new DeleteClusterCommand({ cluster }))),
        );
        const revisions: string[] = [];
        for (const command of ['sleep 3600', 'sleep 7200']) {
          const registered = await ecs.send(
            new RegisterTaskDefinitionCommand({
              family: aws.name('web'),
              networkMode: 'bridge',
              requiresCompatibilities: ['EC2'],
              containerDefinitions: [
                {
                  name: 'web',
                  image: 'public.ecr.aws/docker/library/busybox:stable',
                  memory: 64,
                  command: command.split(' '),
                  portMappings: [{ containerPort: 8080, hostPort: 0 }],
                },
              ],
              tags: aws.tags(),
            }),
          );
          const arn = registered.taskDefinition!.taskDefinitionArn!;
          revisions.push(arn);
          aws.defer(`task definition ${arn}`, async () => {
            await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
            await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [arn] }));
          });
        }
        const service = 'web';
        await ecs.send(
          new CreateServiceCommand({
            cluster,
            serviceName: service,
            taskDefinition: revisions[0],
            desiredCount: 0,
            launchType: 'EC2',
            deploymentConfiguration: {
              deploymentCircuitBreaker: { enable: true, rollback: true },
              maximumPercent: 200,
              minimumHealthyPercent: 100,
            },
            tags: aws.tags(),
          }),
        );
        aws.defer(`service ${cluster}/${service}`, async () => {
          await ecs.send(new DeleteServiceCommand({ cluster, service, force: true }));
          // The cluster can go only once its services are INACTIVE, not merely DRAINING.
          await waitUntilServicesInactive(
            { client: ecs, maxWaitTime: 600 },
            { cluster, services: [service] },
          );
        });
        const clusterArn = created.cluster!.clusterArn!;
        return {
          cluster,
          service,
          revisions: [revisions[0]!, revisions[1]!],
          unknownTaskArn: `${clusterArn.replace(':cluster/', ':task/')}/0123456789abcdef0123456789abcdef`,
        };
      },
    };
  });
});
