// The ECS contract on the twin: the real ECS adapters over the twin's ECS client (see ecs.contract.ts;
// ecs.awstest.ts runs the same on AWS).
import { ecsContract } from './ecs.contract';
import { contractTwin, twinEventually } from './harness';

describe('ECS ports on the twin', () => {
  ecsContract(() => {
    const twin = contractTwin();
    return {
      tasks: twin.ports.tasks,
      services: twin.ports.services,
      operations: twin.opsPorts.serviceOperations,
      fleet: twin.opsPorts.instanceFleet,
      instances: twin.lifecyclePorts.instances,
      eventually: twinEventually(twin),
      given: async () => {
        const { world } = twin;
        world.addCluster('contract');
        const [first, second] = [1, 2].map((revision) =>
          world.addTaskDefinition({
            family: 'contract-web',
            revision,
            cpu: 256,
            memory: 512,
            networkMode: 'bridge',
            containerName: 'web',
            containerPort: 8080,
            behaviour: { startSeconds: 5, healthy: true },
          }),
        );
        world.addService({
          cluster: 'contract',
          name: 'web',
          taskDefinition: first!.arn,
          desiredCount: 0,
          targetGroups: [],
          maximumPercent: 200,
          circuitBreaker: true,
          healthCheckGraceSeconds: 0,
          history: [],
        });
        return {
          cluster: 'contract',
          service: 'web',
          revisions: [first!.arn, second!.arn],
          unknownTaskArn: world.arn('task', 'contract/0123456789abcdef0123456789abcdef'),
          capacityProvider: 'contract-asg',
        };
      },
    };
  });
});
