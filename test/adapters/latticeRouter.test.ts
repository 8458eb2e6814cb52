// The VPC Lattice router's own choices, on a mocked client: limits checked before any write, the default
// action written through its listener, Lattice's identifiers kept as it gave them. What it does against the
// API (read back, marks, missing routes) is its contract: test/contracts/lattice.test.ts.
import {
  GetListenerCommand,
  GetRuleCommand,
  ListTagsForResourceCommand,
  UpdateListenerCommand,
  UpdateRuleCommand,
  VPCLatticeClient,
} from '@aws-sdk/client-vpc-lattice';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { latticeRouter } from '#adapters/aws/latticeRouter';
import type { RouteRef } from '#domain/rolloutRoutes';
import { InvalidInputError, WeightOutOfRangeError } from '#runtime/errors';

const lattice = mockClient(VPCLatticeClient);
const router = latticeRouter(lattice as unknown as VPCLatticeClient);

const ACCOUNT = 'arn:aws:vpc-lattice:eu-west-1:111122223333';
const SERVICE_ARN = `${ACCOUNT}:service/svc-0123456789abcdef0`;
const LISTENER_ARN = `${SERVICE_ARN}/listener/listener-0123456789abcdef0`;
const RULE_ARN = `${LISTENER_ARN}/rule/rule-0123456789abcdef0`;
const tg = (n: number) => `tg-${String(n).padStart(17, '0')}`;
const STABLE = `${ACCOUNT}:targetgroup/${tg(1)}`;
const CANARY = `${ACCOUNT}:targetgroup/${tg(2)}`;
const RULE_ROUTE: RouteRef = {
  router: 'lattice',
  listenerArn: LISTENER_ARN,
  ruleArn: RULE_ARN,
  stable: STABLE,
  canary: CANARY,
};

beforeEach(() => {
  lattice.reset();
  lattice.on(ListTagsForResourceCommand).resolves({ tags: {} });
});

describe('latticeRouter', () => {
  it('refuses a forward that would hold more than 10 target groups, before any write', async () => {
    // Arrange: stable and nine others; adding the canary would make eleven.
    const others = [3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => ({ targetGroupIdentifier: tg(n), weight: 0 }));
    lattice.on(GetRuleCommand).resolves({
      isDefault: false,
      action: { forward: { targetGroups: [{ targetGroupIdentifier: tg(1), weight: 100 }, ...others] } },
    });

    // Act
    const refused = router.setWeights(RULE_ROUTE, { stable: 90, canary: 10 });

    // Assess
    await expect(refused).rejects.toBeInstanceOf(WeightOutOfRangeError);
    await expect(refused).rejects.toThrow(/1\.\.10 weighted targets, not 11/);
    expect(lattice).not.toHaveReceivedCommand(UpdateRuleCommand);
    expect(lattice).not.toHaveReceivedCommand(UpdateListenerCommand);
  });

  it('writes the default action through its listener, with the service the listener ARN names', async () => {
    // Arrange
    lattice.on(GetListenerCommand).resolves({
      defaultAction: { forward: { targetGroups: [{ targetGroupIdentifier: tg(1), weight: 100 }] } },
    });

    // Act
    await router.setWeights({ ...RULE_ROUTE, ruleArn: undefined }, { stable: 80, canary: 20 });

    // Assess
    expect(lattice).not.toHaveReceivedCommand(UpdateRuleCommand);
    expect(lattice).toHaveReceivedCommandWith(UpdateListenerCommand, {
      serviceIdentifier: SERVICE_ARN,
      listenerIdentifier: LISTENER_ARN,
      defaultAction: {
        forward: {
          targetGroups: [
            { targetGroupIdentifier: tg(1), weight: 80 },
            { targetGroupIdentifier: CANARY, weight: 20 },
          ],
        },
      },
    });
  });

  it('reads groups by ID or ARN alike, and writes each back as Lattice gave it', async () => {
    // Arrange: Lattice answers IDs; the route names ARNs.
    lattice.on(GetRuleCommand).resolves({
      isDefault: false,
      action: {
        forward: {
          targetGroups: [
            { targetGroupIdentifier: tg(1), weight: 60 },
            { targetGroupIdentifier: tg(2), weight: 40 },
          ],
        },
      },
    });

    // Act
    const state = await router.read(RULE_ROUTE);
    await router.setWeights(RULE_ROUTE, { stable: 0, canary: 100 }, state);

    // Assess
    expect(state.weights).toEqual({ stable: 60, canary: 40 });
    expect(lattice).toHaveReceivedCommandTimes(GetRuleCommand, 1);
    expect(lattice).toHaveReceivedCommandWith(UpdateRuleCommand, {
      ruleIdentifier: RULE_ARN,
      action: {
        forward: {
          targetGroups: [
            { targetGroupIdentifier: tg(1), weight: 0 },
            { targetGroupIdentifier: tg(2), weight: 100 },
          ],
        },
      },
    });
  });

  it('reads a default action that answers a fixed response as no route to shift', async () => {
    // Arrange
    lattice.on(GetListenerCommand).resolves({ defaultAction: { fixedResponse: { statusCode: 404 } } });

    // Act
    const read = router.read({
      router: 'lattice',
      listenerArn: LISTENER_ARN,
      stable: STABLE,
      canary: CANARY,
    });

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'RouteNotFoundError' });
  });

  it('serves only VPC Lattice routes', async () => {
    // Act
    const refused = router.read({ ...RULE_ROUTE, router: 'alb' } as RouteRef);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
    expect(lattice).not.toHaveReceivedAnyCommand();
  });
});
