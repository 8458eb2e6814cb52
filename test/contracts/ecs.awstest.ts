// The ECS contract on AWS: a cluster without container instances, two revisions of a tiny task
// definition that never runs, a service of it with no task, and a capacity provider over an Auto Scaling
// group that can hold no instance (no managed scaling, so nothing launches). All deleted afterwards.
import {
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteCapacityProviderCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  PutClusterCapacityProvidersCommand,
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

/** The region's current ECS-optimized AMI, resolved by EC2 at launch: no AMI id to keep up to date. */
const ECS_AMI = 'resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id';

describeOnAws('ECS ports on AWS', () => {
  const aws = new AwsContractContext();
  afterAll(() => aws.cleanup());

  /** A launch template, a group of it of size 0, a capacity provider over the group, given to the cluster. */
  async function emptyCapacityProvider(cluster: string): Promise<string> {
    const { autoScaling, ecs } = aws.clients;
    const { subnetIds } = await aws.vpc();
    const template = await aws.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: aws.name('cp-lt'),
        LaunchTemplateData: { ImageId: ECS_AMI, InstanceType: 't3.micro' },
      }),
    );
    const templateId = template.LaunchTemplate?.LaunchTemplateId;
    if (!templateId) throw new Error(`CreateLaunchTemplate ${aws.name('cp-lt')} answered no id`);
    aws.defer(`launch template ${templateId}`, () =>
      aws.retrying(() => aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }))),
    );
    const group = aws.name('cp-asg');
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Default' },
        MinSize: 0,
        MaxSize: 0,
        DesiredCapacity: 0,
        VPCZoneIdentifier: subnetIds.join(','),
      }),
    );
    aws.defer(`Auto Scaling group ${group}`, () =>
      aws.retrying(() =>
        autoScaling.send(
          new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true }),
        ),
      ),
    );
    const described = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
    );
    const groupArn = described.AutoScalingGroups?.[0]?.AutoScalingGroupARN;
    if (!groupArn) throw new Error(`Auto Scaling group ${group} has no ARN`);
    const name = aws.name('cp');
    await ecs.send(
      new CreateCapacityProviderCommand({
        name,
        autoScalingGroupProvider: {
          autoScalingGroupArn: groupArn,
          managedScaling: { status: 'DISABLED' },
          managedTerminationProtection: 'DISABLED',
        },
        tags: aws.tags(),
      }),
    );
    aws.defer(`capacity provider ${name}`, () =>
      aws.retrying(() => ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: name }))),
    );
    await ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster,
        capacityProviders: [name],
        defaultCapacityProviderStrategy: [],
      }),
    );
    // A provider can be deleted only once no cluster has it.
    aws.defer(`capacity providers of ${cluster}`, () =>
      aws.retrying(() =>
        ecs.send(
          new PutClusterCapacityProvidersCommand({
            cluster,
            capacityProviders: [],
            defaultCapacityProviderStrategy: [],
          }),
        ),
      ),
    );
    return name;
  }

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
        const capacityProvider = await emptyCapacityProvider(cluster);
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
          capacityProvider,
        };
      },
    };
  });
});
