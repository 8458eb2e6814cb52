// The fleet scenario (local/scenario/fleet.ts), smaller than the bench's, with every AWS call taking
// 30-120 ms of virtual time: fed one batch at a time or by task group, the recycler decides the same.

import { crashLooping, fleetScenario } from '#local/scenario/fleet';
import { runScenario } from '#local/scenario/runner';
import { AWS_LATENCY } from '../../bench/fleet';

const SHAPE = { clusters: 3, servicesPerCluster: 10, crashLoopingShare: 0.2 };

describe('a fleet with a fifth of its services crash-looping at once', () => {
  it.each(['one-at-a-time', 'task-group-fifo'] as const)(
    'rolls each of them back once and touches nothing else, fed %s',
    async (recyclerDeployment) => {
      // Prepare
      const scenario = fleetScenario(SHAPE);

      // Act
      const result = await runScenario(scenario, {
        deployment: { awsLatency: AWS_LATENCY, recyclerDeployment },
      });

      // Assess
      expect(crashLooping(SHAPE)).toHaveLength(6);
      expect(
        result.expectations.filter((e) => !e.passed).map((e) => `${e.description}: ${e.actual}`),
      ).toEqual([]);
    },
  );
});
