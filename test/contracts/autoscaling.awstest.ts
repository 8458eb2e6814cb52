// The EC2 Auto Scaling contract on AWS: a launch template and a group of it that can hold no instance
// (MinSize = MaxSize = DesiredCapacity = 0) in the run's subnets, two terminate hooks, a target tracking
// and a step policy. Nothing launches; the group (with its hooks, policies and the target tracking
// policy's alarms) and the template are deleted afterwards.
import {
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeLifecycleHooksCommand,
  DescribePoliciesCommand,
  PutLifecycleHookCommand,
  PutScalingPolicyCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { AutoScalingLifecycleActions } from '#adapters/aws/autoScalingLifecycleActions';
import { AwsScalingControls } from '#adapters/aws/scalingControls';
import { TagReactionMemory } from '#adapters/aws/tagReactionMemory';
import { autoScalingContract } from './autoscaling.contract';
import { AwsContractContext, describeOnAws } from './aws/context';

/** The region's current ECS-optimized AMI, resolved by EC2 at launch: no AMI id to keep up to date. */
const ECS_AMI = 'resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

describeOnAws('EC2 Auto Scaling ports on AWS', () => {
  const aws = new AwsContractContext();
  afterAll(() => aws.cleanup());

  autoScalingContract(() => {
    const { autoScaling, applicationAutoScaling, ecs } = aws.clients;
    const tags = aws.tags().map(({ key, value }) => ({ Key: key, Value: value }));
    return {
      lifecycle: new AutoScalingLifecycleActions({ autoScaling, ecs }),
      scaling: new AwsScalingControls({ autoScaling, applicationAutoScaling, ecs }),
      memory: new TagReactionMemory({ autoScaling, ecs }),
      eventually: (read, ok) => aws.eventually(read, ok),
      given: async () => {
        const { subnetIds } = await aws.vpc();

        const template = await aws.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: aws.name('lt'),
            LaunchTemplateData: { ImageId: ECS_AMI, InstanceType: 't3.micro' },
            TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags }],
          }),
        );
        const templateId = template.LaunchTemplate?.LaunchTemplateId;
        if (!templateId) throw new Error(`CreateLaunchTemplate ${aws.name('lt')} answered no id`);
        aws.defer(`launch template ${templateId}`, () =>
          aws.retrying(() => aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: templateId }))),
        );

        const group = aws.name('asg');
        await autoScaling.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: group,
            LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Default' },
            MinSize: 0,
            MaxSize: 0,
            DesiredCapacity: 0,
            VPCZoneIdentifier: subnetIds.join(','),
            Tags: tags.map((tag) => ({ ...tag, PropagateAtLaunch: false })),
          }),
        );
        // ForceDelete takes the hooks, the policies and their alarms with the group; a group that is still
        // settling after its creation answers ScalingActivityInProgress or ResourceInUse for a while.
        aws.defer(`Auto Scaling group ${group}`, () =>
          aws.retrying(() =>
            autoScaling.send(
              new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: group, ForceDelete: true }),
            ),
          ),
        );

        const hook = 'drain';
        const defaultsHook = 'defaults';
        await autoScaling.send(
          new PutLifecycleHookCommand({
            AutoScalingGroupName: group,
            LifecycleHookName: hook,
            LifecycleTransition: TERMINATING,
            HeartbeatTimeout: 300,
            DefaultResult: 'CONTINUE',
          }),
        );
        await autoScaling.send(
          new PutLifecycleHookCommand({
            AutoScalingGroupName: group,
            LifecycleHookName: defaultsHook,
            LifecycleTransition: TERMINATING,
          }),
        );

        const trackingPolicy = 'tracking';
        const stepPolicy = 'steps';
        await autoScaling.send(
          new PutScalingPolicyCommand({
            AutoScalingGroupName: group,
            PolicyName: trackingPolicy,
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: {
              PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
              TargetValue: 50,
            },
          }),
        );
        // No alarm invokes it: a step policy on its own never runs.
        await autoScaling.send(
          new PutScalingPolicyCommand({
            AutoScalingGroupName: group,
            PolicyName: stepPolicy,
            PolicyType: 'StepScaling',
            AdjustmentType: 'ChangeInCapacity',
            StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
          }),
        );

        // Completions and heartbeats name the hook: wait until Auto Scaling shows both hooks and policies.
        await aws.eventually(
          async () => {
            const [hooks, policies] = await Promise.all([
              autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group })),
              autoScaling.send(new DescribePoliciesCommand({ AutoScalingGroupName: group })),
            ]);
            return (hooks.LifecycleHooks?.length ?? 0) + (policies.ScalingPolicies?.length ?? 0);
          },
          (count) => count === 4,
        );
        return { group, hook, defaultsHook, trackingPolicy, stepPolicy };
      },
    };
  });
});
