import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ElbTargetRegistry } from '#adapters/aws/elbTargetRegistry';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const registry = new ElbTargetRegistry(elbv2 as unknown as ElasticLoadBalancingV2Client);

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef';

beforeEach(() => elbv2.reset());

describe('targetHealth', () => {
  it('maps every target with its port, state and reason', async () => {
    // Prepare
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.1.23', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: 'i-0aaa', Port: 32769 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.FailedHealthChecks',
            Description: 'Health checks failed',
          },
        },
        {
          Target: { Id: '10.0.1.24', Port: 8080 },
          TargetHealth: { State: 'unhealthy.draining', Reason: 'Target.DeregistrationInProgress' },
        },
        {
          Target: { Id: '10.0.1.25', Port: 8080 },
          TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' },
        },
      ],
    });

    // Act
    const health = await registry.targetHealth(TG);

    // Assess
    expect(health).toEqual({
      targetGroupArn: TG,
      targets: [
        { id: '10.0.1.23', port: 8080, state: 'healthy' },
        { id: 'i-0aaa', port: 32769, state: 'unhealthy', reason: 'Target.FailedHealthChecks' },
        { id: '10.0.1.24', port: 8080, state: 'draining', reason: 'Target.DeregistrationInProgress' },
        { id: '10.0.1.25', port: 8080, state: 'initial', reason: 'Elb.RegistrationInProgress' },
      ],
    });
    expect(elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG },
    ]);
  });

  it('returns an empty target list for an empty group', async () => {
    // Prepare
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    const health = await registry.targetHealth(TG);

    // Assess
    expect(health).toEqual({ targetGroupArn: TG, targets: [] });
  });

  it('lets a missing target group surface', async () => {
    // Prepare
    elbv2
      .on(DescribeTargetHealthCommand)
      .rejects(
        new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
      );

    // Act
    const looking = registry.targetHealth(TG);

    // Assess
    await expect(looking).rejects.toThrow('One or more target groups not found');
  });
});

describe('deregister', () => {
  it('deregisters targets with their ports', async () => {
    // Prepare
    elbv2.on(DeregisterTargetsCommand).resolves({});

    // Act
    await registry.deregister(TG, [{ id: 'i-0aaa', port: 32769 }, { id: 'lambda-or-portless' }]);

    // Assess
    expect(elbv2.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TG, Targets: [{ Id: 'i-0aaa', Port: 32769 }, { Id: 'lambda-or-portless' }] },
    ]);
  });

  it('succeeds again for a target that is no longer registered (ELB answers success)', async () => {
    // Prepare
    elbv2.on(DeregisterTargetsCommand).resolves({});

    // Act
    await registry.deregister(TG, [{ id: '10.0.1.23', port: 8080 }]);
    const again = registry.deregister(TG, [{ id: '10.0.1.23', port: 8080 }]);

    // Assess
    await expect(again).resolves.toBeUndefined();
    expect(elbv2).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 2);
  });

  it('makes no call for no targets', async () => {
    // Act
    await registry.deregister(TG, []);

    // Assess
    expect(elbv2).not.toHaveReceivedAnyCommand();
  });
});
