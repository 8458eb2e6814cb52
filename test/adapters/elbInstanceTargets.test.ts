import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ElbInstanceTargets } from '#adapters/aws/elbInstanceTargets';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const targets = new ElbInstanceTargets(elbv2 as unknown as ElasticLoadBalancingV2Client);

const EC2_ID = 'i-0123456789abcdef0';
const TG_WEB = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';
const TG_API = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/fedcba9876543210';

beforeEach(() => elbv2.reset());

describe('targetsOf', () => {
  it('lists each target group and keeps the instance on every port it is registered on', async () => {
    // Prepare
    elbv2
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TG_WEB })
      .resolves({
        TargetHealthDescriptions: [
          { Target: { Id: EC2_ID, Port: 8080 }, TargetHealth: { State: 'healthy' } },
          { Target: { Id: EC2_ID, Port: 8443 }, TargetHealth: { State: 'unhealthy.draining' } },
          { Target: { Id: 'i-0fffffffffffffff0', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        ],
      })
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TG_API })
      .resolves({
        TargetHealthDescriptions: [
          {
            Target: { Id: EC2_ID, Port: 9000 },
            TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
          },
        ],
      });

    // Act
    const views = await targets.targetsOf(EC2_ID, [TG_WEB, TG_API]);

    // Assess
    expect(views).toEqual([
      { targetGroupArn: TG_WEB, port: 8080, state: 'healthy' },
      { targetGroupArn: TG_WEB, port: 8443, state: 'draining' },
      { targetGroupArn: TG_API, port: 9000, state: 'initial' },
    ]);
    // The instance is not named: a named unregistered target would come back as `unused`.
    expect(elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG_WEB },
      { TargetGroupArn: TG_API },
    ]);
  });

  it('reports absent where the instance is not registered, or the target group is gone', async () => {
    // Prepare
    elbv2
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TG_WEB })
      .resolves({
        TargetHealthDescriptions: [
          { Target: { Id: 'i-0fffffffffffffff0', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        ],
      })
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TG_API })
      .rejects(
        new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
      );

    // Act
    const views = await targets.targetsOf(EC2_ID, [TG_WEB, TG_API]);

    // Assess
    expect(views).toEqual([
      { targetGroupArn: TG_WEB, port: 0, state: 'absent' },
      { targetGroupArn: TG_API, port: 0, state: 'absent' },
    ]);
  });

  it('asks each target group once, and nothing for none', async () => {
    // Prepare
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    await targets.targetsOf(EC2_ID, [TG_WEB, TG_WEB]);
    const none = await targets.targetsOf(EC2_ID, []);

    // Assess
    expect(elbv2).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 1);
    expect(none).toEqual([]);
  });

  it('surfaces other errors', async () => {
    // Prepare
    elbv2
      .on(DescribeTargetHealthCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    // Act / Assess
    await expect(targets.targetsOf(EC2_ID, [TG_WEB])).rejects.toThrow('Rate exceeded');
  });
});

describe('register', () => {
  it('registers the instance on its ports, one call per target group', async () => {
    // Prepare
    elbv2.on(RegisterTargetsCommand).resolves({});

    // Act
    await targets.register(EC2_ID, [
      { targetGroupArn: TG_WEB, port: 8080 },
      { targetGroupArn: TG_API, port: 9000 },
      { targetGroupArn: TG_WEB, port: 8443 },
      { targetGroupArn: TG_WEB, port: 8080 },
    ]);

    // Assess
    expect(elbv2.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      {
        TargetGroupArn: TG_WEB,
        Targets: [
          { Id: EC2_ID, Port: 8080 },
          { Id: EC2_ID, Port: 8443 },
        ],
      },
      { TargetGroupArn: TG_API, Targets: [{ Id: EC2_ID, Port: 9000 }] },
    ]);
  });

  it('sends nothing for no targets', async () => {
    // Act
    await targets.register(EC2_ID, []);

    // Assess
    expect(elbv2).not.toHaveReceivedCommand(RegisterTargetsCommand);
  });
});

describe('deregister', () => {
  it('deregisters the instance on its ports, one call per target group', async () => {
    // Prepare
    elbv2.on(DeregisterTargetsCommand).resolves({});

    // Act
    await targets.deregister(EC2_ID, [
      { targetGroupArn: TG_WEB, port: 8080 },
      { targetGroupArn: TG_API, port: 9000 },
    ]);

    // Assess
    expect(elbv2.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG_WEB, Targets: [{ Id: EC2_ID, Port: 8080 }] },
      { TargetGroupArn: TG_API, Targets: [{ Id: EC2_ID, Port: 9000 }] },
    ]);
  });

  it('sends nothing for no targets', async () => {
    // Act
    await targets.deregister(EC2_ID, []);

    // Assess
    expect(elbv2).not.toHaveReceivedCommand(DeregisterTargetsCommand);
  });
});
