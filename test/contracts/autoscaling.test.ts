// The EC2 Auto Scaling contract on the twin (see autoscaling.contract.ts; autoscaling.awstest.ts runs the
// same on AWS).
import { autoScalingContract } from './autoscaling.contract';
import { contractTwin, twinEventually } from './harness';

describe('EC2 Auto Scaling ports on the twin', () => {
  autoScalingContract(() => {
    const twin = contractTwin();
    return {
      lifecycle: twin.lifecyclePorts.actions,
      scaling: twin.alarmPorts.scaling,
      memory: twin.alarmPorts.memory,
      eventually: twinEventually(twin),
      given: async () => {
        twin.world.addCluster('contract');
        twin.scaling.addGroup({
          name: 'contract-asg',
          cluster: 'contract',
          min: 0,
          max: 0,
          desired: 0,
          instance: { cpu: 2048, memory: 1024 },
          launchSeconds: 60,
          policies: new Map([
            [
              'contract-tracking',
              {
                name: 'contract-tracking',
                type: 'TargetTrackingScaling',
                targetValue: 50,
                disableScaleIn: false,
                metric: 'ASGAverageCPUUtilization',
              },
            ],
            [
              'contract-steps',
              {
                name: 'contract-steps',
                type: 'StepScaling',
                steps: [{ lower: 0, adjustment: 1 }],
                adjustmentType: 'ChangeInCapacity',
              },
            ],
          ]),
        });
        twin.lifecycle.addHook('contract-asg', {
          name: 'contract-drain',
          transition: 'terminate',
          heartbeatTimeoutSeconds: 300,
          defaultResult: 'CONTINUE',
        });
        // What Auto Scaling stores for a hook put without HeartbeatTimeout and DefaultResult.
        twin.lifecycle.addHook('contract-asg', {
          name: 'contract-defaults',
          transition: 'terminate',
          heartbeatTimeoutSeconds: 3600,
          defaultResult: 'ABANDON',
        });
        return {
          group: 'contract-asg',
          hook: 'contract-drain',
          defaultsHook: 'contract-defaults',
          trackingPolicy: 'contract-tracking',
          stepPolicy: 'contract-steps',
        };
      },
    };
  });
});
