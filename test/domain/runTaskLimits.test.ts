// What RunTask accepts: the recycler's copies stay inside it, the twin refuses what is outside it.
import { copyableTags, runTaskProblems } from '#domain/runTaskLimits';

const launch = {
  startedBy: 'ecs-reflex/abc/1/def',
  tags: { team: 'reports' },
  clientToken: 'root-1',
};

describe('runTaskProblems', () => {
  it('takes a launch type alone, or a strategy with a weight above zero', () => {
    // Act / Assess
    expect(runTaskProblems({ ...launch, launchType: 'EC2' })).toEqual([]);
    expect(
      runTaskProblems({ ...launch, capacityProviderStrategy: [{ capacityProvider: 'asg', weight: 1 }] }),
    ).toEqual([]);
  });

  it.each([
    ['a provider without weight', { capacityProviderStrategy: [{ capacityProvider: 'asg', weight: 0 }] }],
    [
      'a launch type beside a strategy',
      { launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'asg', weight: 1 }] },
    ],
    [
      'two bases',
      {
        capacityProviderStrategy: [
          { capacityProvider: 'a', weight: 1, base: 1 },
          { capacityProvider: 'b', weight: 1, base: 2 },
        ],
      },
    ],
    ['a weight over 1000', { capacityProviderStrategy: [{ capacityProvider: 'a', weight: 1001 }] }],
    ['an aws: tag key', { tags: { 'AWS:cloudformation:stack-name': 'x' } }],
    ['an aws: tag value', { tags: { source: 'aws:codepipeline' } }],
    ['51 tags', { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['a long startedBy', { startedBy: 's'.repeat(129) }],
    ['a startedBy with a space', { startedBy: 'ecs reflex' }],
    ['a long clientToken', { clientToken: 't'.repeat(65) }],
    ['overrides over 8192 characters', { overrides: { containerOverrides: [{ name: 'x'.repeat(8200) }] } }],
    ['six security groups', { network: { subnets: ['s'], securityGroups: ['1', '2', '3', '4', '5', '6'] } }],
  ])('refuses %s', (_, changes) => {
    // Act / Assess
    expect(runTaskProblems({ ...launch, ...changes })).not.toEqual([]);
  });
});

describe('copyableTags', () => {
  it('leaves out tags AWS reserves, whatever their case, and keeps at most 50', () => {
    // Prepare
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v']));

    // Act
    const kept = copyableTags({
      'aws:cloudformation:stack-name': 'reports',
      'AWS:ecs:serviceName': 'x',
      source: 'aws:codepipeline',
      team: 'reports',
      ...many,
    });

    // Assess
    expect(Object.keys(kept)).toHaveLength(50);
    expect(kept.team).toBe('reports');
    expect(Object.keys(kept).some((key) => key.toLowerCase().startsWith('aws:'))).toBe(false);
    expect(kept).not.toHaveProperty('source');
  });
});
