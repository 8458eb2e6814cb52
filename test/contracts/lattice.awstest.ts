// The VPC Lattice router on AWS: the TrafficRouter contract on a listener rule forwarding to weighted target
// groups (stable 100, canary 0, a bystander 0), and the Lattice contract on the listener's default action.
// One service with one HTTP listener, three IP target groups in the test VPC with no target in them; all
// named under the run's prefix and deleted afterwards. A Lattice service is billed by the hour it exists
// (a few US cents; a partial hour as a whole one); target groups, listeners and rules cost nothing.
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateServiceCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteRuleCommand,
  DeleteServiceCommand,
  DeleteTargetGroupCommand,
  ListRulesCommand,
  UpdateListenerCommand,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { latticeRouter } from '#adapters/aws/latticeRouter';
import type { RouteRef } from '#domain/rolloutRoutes';
import { AwsContractContext, describeOnAws } from './aws/context';
import { type LatticeWorld, latticeRouterContract } from './lattice.contract';
import { type RouterWorld, trafficRouterContract } from './trafficRouter.contract';

/** The target groups of the three versions: stable, canary, bystander. */
const VERSIONS = ['v1', 'v2', 'v0'] as const;

describeOnAws('VPC Lattice router on AWS', () => {
  const aws = new AwsContractContext();
  const lattice = new VPCLatticeClient({ maxAttempts: 6, retryMode: 'adaptive' });
  const tags = () => Object.fromEntries(aws.tags().map(({ key, value }) => [key, value]));
  let made: { rule: RouterWorld; listener: LatticeWorld } | undefined;

  beforeAll(async () => {
    const { vpcId } = await aws.vpc();
    const groups: { id: string; arn: string }[] = [];
    for (const version of VERSIONS) {
      const group = await lattice.send(
        new CreateTargetGroupCommand({
          name: aws.name(version),
          type: 'IP',
          config: { port: 80, protocol: 'HTTP', vpcIdentifier: vpcId },
          tags: tags(),
        }),
      );
      groups.push({ id: group.id!, arn: group.arn! });
      // Lattice refuses to delete a group a listener or rule still forwards to: retried.
      aws.defer(`target group ${group.arn}`, () =>
        aws.retrying(() => lattice.send(new DeleteTargetGroupCommand({ targetGroupIdentifier: group.id! }))),
      );
    }
    const [stable, canary, bystander] = groups as [
      (typeof groups)[0],
      (typeof groups)[0],
      (typeof groups)[0],
    ];
    const service = await lattice.send(new CreateServiceCommand({ name: aws.name('svc'), tags: tags() }));
    const serviceIdentifier = service.id!;
    aws.defer(`service ${service.arn}`, () =>
      aws.retrying(() => lattice.send(new DeleteServiceCommand({ serviceIdentifier }))),
    );
    const listener = await lattice.send(
      new CreateListenerCommand({
        serviceIdentifier,
        name: 'http',
        protocol: 'HTTP',
        port: 80,
        defaultAction: {
          forward: {
            targetGroups: [
              { targetGroupIdentifier: stable.id, weight: 100 },
              { targetGroupIdentifier: canary.id, weight: 0 },
            ],
          },
        },
        tags: tags(),
      }),
    );
    const listenerIdentifier = listener.id!;
    aws.defer(`listener ${listener.arn}`, () =>
      lattice.send(new DeleteListenerCommand({ serviceIdentifier, listenerIdentifier })),
    );
    const rule = await lattice.send(
      new CreateRuleCommand({
        serviceIdentifier,
        listenerIdentifier,
        name: 'contract',
        priority: 10,
        match: { httpMatch: { pathMatch: { match: { prefix: '/contract' } } } },
        action: {
          forward: {
            targetGroups: [
              { targetGroupIdentifier: stable.id, weight: 100 },
              { targetGroupIdentifier: canary.id, weight: 0 },
              { targetGroupIdentifier: bystander.id, weight: 0 },
            ],
          },
        },
        tags: tags(),
      }),
    );
    aws.defer(`rule ${rule.arn}`, () =>
      lattice.send(
        new DeleteRuleCommand({ serviceIdentifier, listenerIdentifier, ruleIdentifier: rule.id! }),
      ),
    );
    const { items: rules = [] } = await lattice.send(
      new ListRulesCommand({ serviceIdentifier, listenerIdentifier }),
    );
    const defaultRuleArn = rules.find((r) => r.isDefault)?.arn;
    if (!defaultRuleArn) throw new Error(`ListRules of ${listener.arn} named no default rule`);
    // The route names its versions by ARN, as a stage's opsRoutes may: Lattice answers with IDs.
    const route = {
      router: 'lattice',
      listenerArn: listener.arn!,
      ruleArn: rule.arn!,
      stable: stable.arn,
      canary: canary.arn,
    } as const;
    made = {
      rule: {
        route,
        bystander: bystander.id,
        // A well-formed rule ARN of this listener that was never made.
        missing: { ...route, ruleArn: `${listener.arn}/rule/rule-0123456789abcdef0` },
      },
      listener: {
        defaultAction: {
          router: 'lattice',
          listenerArn: listener.arn!,
          stable: stable.arn,
          canary: canary.arn,
        },
        defaultRule: {
          router: 'lattice',
          listenerArn: listener.arn!,
          ruleArn: defaultRuleArn,
          stable: stable.arn,
          canary: canary.arn,
        },
        editByHand: async (edited: Extract<RouteRef, { router: 'lattice' }>, targets) => {
          await lattice.send(
            new UpdateListenerCommand({
              serviceIdentifier,
              listenerIdentifier: edited.listenerArn,
              defaultAction: {
                forward: {
                  targetGroups: targets.map((t) => ({ targetGroupIdentifier: t.id, weight: t.weight })),
                },
              },
            }),
          );
        },
      },
    };
  }, 600_000);
  afterAll(() => aws.cleanup(), 600_000);

  const given = <T>(pick: (world: NonNullable<typeof made>) => T) => {
    if (!made) throw new Error('the Lattice service was not made: see the first failure above');
    return pick(made);
  };

  describe('listener rule (TrafficRouter contract)', () => {
    trafficRouterContract(() => ({
      router: latticeRouter(lattice),
      eventually: (read, ok) => aws.eventually(read, ok),
      given: async () => given((world) => world.rule),
    }));
  });

  describe('listener default action', () => {
    latticeRouterContract(() => ({
      router: latticeRouter(lattice),
      eventually: (read, ok) => aws.eventually(read, ok),
      given: async () => given((world) => world.listener),
    }));
  });
});
