// The Elastic Load Balancing ports' contract: what the task recycler (TargetRegistry) and the instance
// lifecycle (InstanceTargets) rely on ELB to do, checked on target groups that hold no target (no load
// balancer, nothing running, nothing that costs).
//
// InstanceTargets.register is left out: ELB registers only a running EC2 instance, and an instance costs
// money. Deregistering an instance that is not registered needs one that exists too: for an id that does
// not, the API reference lists InvalidTarget ("The specified target does not exist"). The twin takes any
// id; on AWS that assertion runs only when the harness names a real instance in the target groups' VPC.

import type { InstanceTargets, TargetRegistry } from '#ports';

export interface ElbWorld {
  /** An `ip` target group (tasks in awsvpc mode) with no target. */
  ipTargetGroup: string;
  /** An IP address inside the group's VPC, never registered. */
  unregisteredIp: string;
  /** Two `instance` target groups with no target. */
  instanceTargetGroups: [string, string];
  /** A well-formed ARN of a target group that does not exist. */
  missingTargetGroup: string;
}

export interface ElbHarness {
  registry: TargetRegistry;
  instances: InstanceTargets;
  given(): Promise<ElbWorld>;
}

export interface ElbContractOptions {
  /** An EC2 instance in the target groups' VPC that is not registered in them; without one, that case is skipped. */
  unregisteredInstance: string | undefined;
}

/** Any instance id: DescribeTargetHealth without named targets does not look the instance up. */
const SOME_INSTANCE = 'i-0123456789abcdef0';

export function elbContract(harness: () => ElbHarness, options: ElbContractOptions): void {
  let elb: ElbHarness;
  let world: ElbWorld;

  beforeAll(async () => {
    elb = harness();
    world = await elb.given();
  });

  describe('TargetRegistry', () => {
    it('answers an empty target group with no target', async () => {
      // Act
      const health = await elb.registry.targetHealth(world.ipTargetGroup);

      // Assess
      expect(health).toEqual({ targetGroupArn: world.ipTargetGroup, targets: [] });
    });

    it('deregisters a target that is not registered without an error, and registers nothing', async () => {
      // Act
      await elb.registry.deregister(world.ipTargetGroup, [{ id: world.unregisteredIp, port: 8080 }]);
      const health = await elb.registry.targetHealth(world.ipTargetGroup);

      // Assess
      expect(health.targets).toEqual([]);
    });

    it('fails with TargetGroupNotFoundException for a target group that does not exist', async () => {
      // Act
      const reading = elb.registry.targetHealth(world.missingTargetGroup);

      // Assess
      await expect(reading).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    });
  });

  describe('InstanceTargets', () => {
    it('finds the instance absent from target groups it is not registered in, and from one that is gone', async () => {
      // Act
      const targets = await elb.instances.targetsOf(SOME_INSTANCE, [
        ...world.instanceTargetGroups,
        world.missingTargetGroup,
      ]);

      // Assess
      expect(targets).toEqual(
        [...world.instanceTargetGroups, world.missingTargetGroup].map((targetGroupArn) => ({
          targetGroupArn,
          port: 0,
          state: 'absent',
        })),
      );
    });

    const withInstance = options.unregisteredInstance ? it : it.skip;
    withInstance(
      'deregisters an instance that is not registered without an error (on AWS: set ECS_REFLEX_TEST_INSTANCE_ID)',
      async () => {
        // Prepare
        const instance = options.unregisteredInstance!;
        const [first, second] = world.instanceTargetGroups;

        // Act
        await elb.instances.deregister(instance, [
          { targetGroupArn: first, port: 80 },
          { targetGroupArn: second, port: 8080 },
        ]);
        const targets = await elb.instances.targetsOf(instance, world.instanceTargetGroups);

        // Assess
        expect(targets.map((t) => t.state)).toEqual(['absent', 'absent']);
      },
    );
  });
}
