// The Elastic Load Balancing contract on the twin (see elb.contract.ts; elb.awstest.ts runs the same on AWS).
import { elbContract } from './elb.contract';
import { contractTwin } from './harness';

describe('Elastic Load Balancing ports on the twin', () => {
  elbContract(
    () => {
      const twin = contractTwin();
      return {
        registry: twin.ports.targets,
        instances: twin.lifecyclePorts.targets,
        given: async () => {
          const { world } = twin;
          const group = (name: string, targetType: 'ip' | 'instance', port: number) =>
            world.addTargetGroup({ name, port, targetType, deregistrationDelaySeconds: 300 }).arn;
          const ipTargetGroup = group('contract-ip', 'ip', 8080);
          return {
            ipTargetGroup,
            unregisteredIp: '10.0.1.200',
            instanceTargetGroups: [
              group('contract-i1', 'instance', 80),
              group('contract-i2', 'instance', 8080),
            ],
            missingTargetGroup: ipTargetGroup.replace(
              /targetgroup\/.*$/,
              'targetgroup/gone/0123456789abcdef',
            ),
          };
        },
      };
    },
    { unregisteredInstance: 'i-0fedcba9876543210' },
  );
});
