import { decideDeploymentStop } from '#domain/guardedDeployments';

const facts = {
  alarmName: 'web-5xx',
  alarmState: 'ALARM' as const,
  guardAlarms: ['web-5xx'],
  status: 'IN_PROGRESS',
};

describe('decideDeploymentStop', () => {
  it('stops a deployment in progress whose guard alarm is in ALARM now', () => {
    expect(decideDeploymentStop(facts)).toEqual({ kind: 'stop', why: 'guard alarm web-5xx is in ALARM' });
  });

  it.each([
    ['an alarm it is not guarded by', { guardAlarms: ['other'] }, 'is not one of its guard alarms'],
    ['an alarm back to OK since the event', { alarmState: 'OK' as const }, 'is OK now, not ALARM'],
    ['an alarm deleted since the event', { alarmState: 'missing' as const }, 'is missing now'],
    ['a deployment not started', { status: 'PENDING' }, 'it is PENDING, not IN_PROGRESS'],
  ])('does nothing for %s', (_, given, why) => {
    expect(decideDeploymentStop({ ...facts, ...given })).toEqual({
      kind: 'none',
      why: expect.stringContaining(why),
    });
  });

  it.each(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'STOP_REQUESTED'])(
    'says a deployment %s is already being stopped',
    (status) => {
      expect(decideDeploymentStop({ ...facts, status })).toEqual({
        kind: 'already-stopping',
        why: `ECS is already rolling it back (${status})`,
      });
    },
  );
});
