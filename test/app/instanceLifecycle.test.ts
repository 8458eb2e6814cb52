// Which Auto Scaling states confirm that a lifecycle action waits, per move (warm pools included).
import { type LifecycleWorkflowState, waitingStates } from '#app/instanceLifecycle';

const hook = (
  transition: 'launch' | 'terminate',
  origin?: string,
  destination?: string,
): LifecycleWorkflowState['hook'] => ({
  groupName: 'prod-asg',
  hookName: 'h',
  instanceId: 'i-0123456789abcdef0',
  token: 't',
  transition,
  cluster: 'prod',
  startedAt: '2026-12-07T00:00:00Z',
  ...(origin ? { origin } : {}),
  ...(destination ? { destination } : {}),
});

describe('waitingStates', () => {
  it.each([
    ['launch into the group', hook('launch', 'EC2', 'AutoScalingGroup'), ['Pending:Wait']],
    ['launch into the warm pool', hook('launch', 'EC2', 'WarmPool'), ['Warmed:Pending:Wait']],
    ['warm pool into the group', hook('launch', 'WarmPool', 'AutoScalingGroup'), ['Pending:Wait']],
    ['scale-in', hook('terminate', 'AutoScalingGroup', 'EC2'), ['Terminating:Wait']],
    ['a warm pool instance terminated', hook('terminate', 'WarmPool', 'EC2'), ['Warmed:Terminating:Wait']],
    [
      'scale-in back into the warm pool',
      hook('terminate', 'AutoScalingGroup', 'WarmPool'),
      ['Terminating:Wait', 'Warmed:Pending:Wait'],
    ],
    ['a notification without the move', hook('terminate'), ['Terminating:Wait', 'Warmed:Terminating:Wait']],
  ])('%s', (_, action, states) => {
    expect(waitingStates(action)).toEqual(states);
  });

  it('never takes InService as waiting', () => {
    for (const transition of ['launch', 'terminate'] as const)
      for (const place of [undefined, 'EC2', 'AutoScalingGroup', 'WarmPool'])
        expect(waitingStates(hook(transition, place, place))).not.toContain('InService');
  });
});
