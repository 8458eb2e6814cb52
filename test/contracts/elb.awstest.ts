// The Elastic Load Balancing contract on AWS: three target groups with no target and no load balancer in
// the run's VPC (aws.vpc()), deleted afterwards. Target groups cost nothing by themselves.
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
  type TargetTypeEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';
import { AwsContractContext, describeOnAws } from './aws/context';
import { elbContract } from './elb.contract';

describeOnAws('Elastic Load Balancing ports on AWS', () => {
  const aws = new AwsContractContext();
  afterAll(() => aws.cleanup());

  elbContract(
    () => {
      const { elbv2 } = aws.clients;

      /** Name: the 16-character prefix and a short suffix, within ELB's 32. */
      const targetGroup = async (suffix: string, type: TargetTypeEnum, port: number): Promise<string> => {
        const { vpcId } = await aws.vpc();
        const created = await elbv2.send(
          new CreateTargetGroupCommand({
            Name: aws.name(suffix),
            Protocol: 'HTTP',
            Port: port,
            VpcId: vpcId,
            TargetType: type,
            Tags: aws.tags().map(({ key, value }) => ({ Key: key, Value: value })),
          }),
        );
        const arn = created.TargetGroups?.[0]?.TargetGroupArn;
        if (!arn) throw new Error(`CreateTargetGroup ${aws.name(suffix)} answered no ARN`);
        aws.defer(`target group ${arn}`, () =>
          aws.retrying(() => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }))),
        );
        // A group just created may not be visible to every ELB endpoint yet.
        await aws.retrying(() => elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })), 60);
        return arn;
      };

      return {
        registry: new ElbTargetRegistry(elbv2),
        instances: new ElbInstanceTargets(elbv2),
        given: async () => {
          const ipTargetGroup = await targetGroup('ip', 'ip', 8080);
          const instanceTargetGroups: [string, string] = [
            await targetGroup('i1', 'instance', 80),
            await targetGroup('i2', 'instance', 8080),
          ];
          return {
            ipTargetGroup,
            unregisteredIp: await addressInFirstSubnet(aws),
            instanceTargetGroups,
            // Same account and region, a name this run never created.
            missingTargetGroup: ipTargetGroup.replace(
              /targetgroup\/.*$/,
              `targetgroup/${aws.name('gone')}/0123456789abcdef`,
            ),
          };
        },
      };
    },
    { unregisteredInstance: process.env.ECS_REFLEX_TEST_INSTANCE_ID },
  );
});

/**
 * An address an `ip` target group of this VPC accepts (RegisterTargets takes addresses of the VPC's
 * subnets): the 100th of the first subnet, or its last usable one in a small subnet. AWS keeps the first
 * four and the last address of every subnet.
 */
async function addressInFirstSubnet(aws: AwsContractContext): Promise<string> {
  const { subnetIds } = await aws.vpc();
  const subnets = await aws.ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds.slice(0, 1) }));
  const cidr = subnets.Subnets?.[0]?.CidrBlock;
  if (!cidr) throw new Error(`no IPv4 CIDR block for subnet ${subnetIds[0]}`);
  const [address = '', bits = '32'] = cidr.split('/');
  const network = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const host = network + Math.min(100, size - 2);
  return [24, 16, 8, 0].map((shift) => Math.floor(host / 2 ** shift) % 256).join('.');
}
