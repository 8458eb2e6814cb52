// The per-stage files, checked the way `serverless package` reads them (infra/stageConfig.js), without
// packaging: every stage file passes the functions' own configuration checks, and a wrong value stops the
// package step with a message that names the file and the key.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAlarmReactorConfig, loadLifecycleConfig, loadRecyclerConfig } from '#runtime/config';

interface StageConfig {
  clusters: string;
  dryRun: string;
  recyclerPolicy: string;
  alarmReactions: string;
  lifecycleHooks: string;
  arns: Record<string, { 'Fn::Sub': string }[]>;
}

const stageConfig = require('../../infra/stageConfig.js') as {
  load(stage: string): StageConfig;
  check(file: string, stage: string, raw: unknown): StageConfig;
};

const STAGES_DIR = path.resolve(__dirname, '../../infra/stages');
const stages = readdirSync(STAGES_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.replace(/\.json$/, ''));
const FILE = 'infra/stages/test.json';

/** dev.json with some keys replaced (undefined: left out). */
function devWith(changes: Record<string, unknown>): Record<string, unknown> {
  const raw = JSON.parse(readFileSync(path.join(STAGES_DIR, 'dev.json'), 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete raw[key];
    else raw[key] = value;
  }
  return raw;
}

const checkDevWith = (changes: Record<string, unknown>) => () =>
  stageConfig.check(FILE, 'test', devWith(changes));

const reaction = (overrides: Record<string, unknown>) =>
  JSON.stringify([
    {
      id: 'surge',
      alarm: { name: 'dev-web-requests-high' },
      target: { kind: 'auto-scaling-group', name: 'dev-apps-asg' },
      action: { kind: 'add-capacity', by: 2 },
      ...overrides,
    },
  ]);

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
const MESH = 'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/dev-mesh';
const LISTENER =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener/app/dev-web/50dc6c495c0c9188/f2f7dc8efc522ab2';

const lifecycleHook = (overrides: Record<string, unknown>) =>
  JSON.stringify([{ groupName: 'dev-apps-asg', hookName: 'drain', cluster: 'dev-apps', ...overrides }]);

describe('stage files', () => {
  it('has a dev and a prod stage', () => {
    expect(stages).toEqual(expect.arrayContaining(['dev', 'prod']));
  });

  it.each(stages)('%s.json passes the checks of both reflexes', (stage) => {
    const config = stageConfig.load(stage);
    const dlq = 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq';

    const recycler = loadRecyclerConfig({
      CLUSTERS: config.clusters,
      DRY_RUN: config.dryRun,
      RECYCLER_POLICY: config.recyclerPolicy,
      RECHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buffer',
      DEAD_LETTER_QUEUE_URL: dlq,
    });
    const reactor = loadAlarmReactorConfig({
      DRY_RUN: config.dryRun,
      ALARM_REACTIONS: config.alarmReactions,
      DEAD_LETTER_QUEUE_URL: dlq,
      AWS_MAX_ATTEMPTS: '4',
    });

    expect(recycler.clusters.length).toBeGreaterThan(0);
    expect(reactor.reactions).toEqual(expect.any(Array));
    expect(config.arns.autoScalingGroups!.length).toBeGreaterThan(0);
    expect(config.arns.alarms!.length).toBeGreaterThan(0);
  });

  it('keeps dev without reactions and gives prod an example for a group and a service', () => {
    expect(stageConfig.load('dev').alarmReactions).toBe('[]');
    const prod = loadAlarmReactorConfig({
      ALARM_REACTIONS: stageConfig.load('prod').alarmReactions,
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq',
    });
    expect(prod.reactions.map((r) => r.target.kind)).toEqual(
      expect.arrayContaining(['auto-scaling-group', 'ecs-service']),
    );
  });

  it('builds the ARNs the alarm reactor role is scoped to', () => {
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({ autoScalingGroupNames: ['a-asg', 'b-asg'], alarmNamePrefixes: ['dev-', 'shared-'] }),
    );
    const texts = (key: string) => config.arns[key]!.map((arn) => arn['Fn::Sub']);

    expect(texts('autoScalingGroups')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/a-asg',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/b-asg',
    ]);
    expect(texts('alarms')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:dev-*',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:shared-*',
    ]);
  });

  it.each([
    ['alarmReactions left out', { alarmReactions: undefined }, /alarmReactions must be a JSON string/],
    ['alarmReactions as an array', { alarmReactions: [] }, /alarmReactions must be a JSON string/],
    ['alarmReactions not JSON', { alarmReactions: '[{' }, /alarmReactions is not JSON/],
    ['alarmReactions an object', { alarmReactions: '{}' }, /alarmReactions must be a JSON array/],
    ['a reaction that is not an object', { alarmReactions: '[1]' }, /alarmReactions\[0\] must be an object/],
    [
      'a group that is not listed',
      { alarmReactions: reaction({ target: { kind: 'auto-scaling-group', name: 'other-asg' } }) },
      /alarmReactions\[0\] \(surge\) changes group "other-asg", which autoScalingGroupNames does not list/,
    ],
    [
      'a service of a cluster that is not listed',
      {
        alarmReactions: reaction({
          target: {
            kind: 'ecs-service',
            cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
            service: 'web',
          },
        }),
      },
      /alarmReactions\[0\] \(surge\) changes a service of cluster .*cluster\/prod", which clusters does not list/,
    ],
    [
      'an alarm outside the prefixes',
      { alarmReactions: reaction({ alarm: { prefix: 'prod-' } }) },
      /alarmReactions\[0\] \(surge\) alarm prefix "prod-" does not start with one of alarmNamePrefixes/,
    ],
    ['no groups', { autoScalingGroupNames: undefined }, /autoScalingGroupNames must be a non-empty list/],
    ['an empty group list', { autoScalingGroupNames: [] }, /autoScalingGroupNames must be a non-empty list/],
    ['a group pattern', { autoScalingGroupNames: ['*'] }, /autoScalingGroupNames: "\*" must not contain \*/],
    ['a group name twice', { autoScalingGroupNames: ['a', 'a'] }, /autoScalingGroupNames lists a name twice/],
    ['no alarm prefixes', { alarmNamePrefixes: [] }, /alarmNamePrefixes must be a non-empty list/],
    ['an empty alarm prefix', { alarmNamePrefixes: [''] }, /alarmNamePrefixes must be a non-empty list/],
    ['a placeholder in a prefix', { alarmNamePrefixes: ['$x'] }, /alarmNamePrefixes: .* must not contain/],
    ['an unknown key', { alarmReaction: '[]' }, /unknown keys: alarmReaction/],
    ['rolloutMeshArns empty', { rolloutMeshArns: [] }, /rolloutMeshArns must be a non-empty list of ARNs/],
    [
      'rolloutMeshArns as a string',
      { rolloutMeshArns: MESH },
      /rolloutMeshArns must be a non-empty list of ARNs/,
    ],
    [
      'rolloutMeshArns granting everything',
      { rolloutMeshArns: ['*'] },
      /rolloutMeshArns must be a non-empty list of ARNs/,
    ],
    [
      'a mesh ARN ending in :*',
      { rolloutMeshArns: [MESH.replace('mesh/dev-mesh', '*')] },
      /rolloutMeshArns must not grant every resource/,
    ],
    [
      'a rolloutMeshArns entry that is not a mesh',
      { rolloutMeshArns: [`${MESH}/virtualRouter/web`] },
      /rolloutMeshArns: .* is not an App Mesh mesh ARN/,
    ],
    [
      'a rolloutMeshArns entry of another service',
      { rolloutMeshArns: [LISTENER] },
      /rolloutMeshArns: .* is not an App Mesh mesh ARN/,
    ],
    [
      'rolloutListenerArns empty',
      { rolloutListenerArns: [] },
      /rolloutListenerArns must be a non-empty list of ARNs/,
    ],
    [
      'a rolloutListenerArns entry that is a rule',
      { rolloutListenerArns: [LISTENER.replace(':listener/', ':listener-rule/')] },
      /rolloutListenerArns: .* is not an Application Load Balancer listener ARN/,
    ],
    [
      'a Network Load Balancer listener',
      { rolloutListenerArns: [LISTENER.replace('listener/app/', 'listener/net/')] },
      /rolloutListenerArns: .* is not an Application Load Balancer listener ARN/,
    ],
    [
      'a target group in rolloutListenerArns',
      { rolloutListenerArns: [LISTENER.replace(/listener\/app\/.*/, 'targetgroup/dev-web/0abc')] },
      /rolloutListenerArns: .* is not an Application Load Balancer listener ARN/,
    ],
    ['lifecycleHooks left out', { lifecycleHooks: undefined }, /lifecycleHooks must be a JSON string/],
    ['lifecycleHooks not JSON', { lifecycleHooks: '[{' }, /lifecycleHooks is not JSON/],
    ['lifecycleHooks an object', { lifecycleHooks: '{}' }, /lifecycleHooks must be a JSON array/],
    [
      'a hook of a group that is not listed',
      { lifecycleHooks: lifecycleHook({ groupName: 'other-asg' }) },
      /lifecycleHooks\[0\] \(other-asg\/drain\) serves group "other-asg", which autoScalingGroupNames does not list/,
    ],
    [
      'a hook of a cluster that is not listed',
      { lifecycleHooks: lifecycleHook({ cluster: 'prod-apps' }) },
      /lifecycleHooks\[0\] .* names cluster "prod-apps", which clusters does not list/,
    ],
    [
      'a hook target group outside deregisterTargetGroupArns',
      {
        deregisterTargetGroupArns: [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
          'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/dev-*',
        ],
        lifecycleHooks: lifecycleHook({
          targetGroups: [
            {
              arn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/prod-web/0abc',
              port: 80,
            },
          ],
        }),
      },
      /names target group .*prod-web.*, which deregisterTargetGroupArns does not cover/,
    ],
  ])('stops the package step on %s, naming the file and the key', (_, changes, message) => {
    expect(checkDevWith(changes)).toThrow(message);
    expect(checkDevWith(changes)).toThrow(/^infra\/stages\/test\.json: /);
  });

  it.each(stages)('%s.json has lifecycle hooks the functions accept', (stage) => {
    const config = loadLifecycleConfig({
      LIFECYCLE_HOOKS: stageConfig.load(stage).lifecycleHooks,
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:instance-lifecycle',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq',
    });
    if (stage === 'dev') expect(config.hooks).toEqual([]);
    if (stage === 'prod') expect(config.hooks.map((hook) => hook.registerTargets)).toContain(true);
  });

  it('accepts a hook target group inside a configured pattern, and scopes capacity providers to the account', () => {
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({
        deregisterTargetGroupArns: [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
          'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/dev-*',
        ],
        lifecycleHooks: lifecycleHook({
          cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/dev-batch',
          targetGroups: [
            { arn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/dev-web/0abc', port: 80 },
          ],
        }),
      }),
    );
    expect(config.arns.capacityProviders!.map((arn) => arn['Fn::Sub'])).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:capacity-provider/*',
    ]);
  });

  it('lets rollouts shift every mesh route and ALB listener of the account and region unless the stage narrows them', () => {
    const texts = (config: StageConfig, key: string) => config.arns[key]!.map((arn) => arn['Fn::Sub']);
    const dev = stageConfig.load('dev');

    expect(texts(dev, 'rolloutMeshRoutes')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/*/virtualRouter/*/route/*',
    ]);
    expect(texts(dev, 'rolloutMeshRoutesAndVirtualNodes')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/*/virtualRouter/*/route/*',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/*/virtualNode/*',
    ]);
    expect(texts(dev, 'rolloutListeners')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener/app/*/*/*',
    ]);
    expect(texts(dev, 'rolloutListenerRules')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener-rule/app/*/*/*/*',
    ]);
    // prod names its mesh and a listener name pattern.
    const prod = stageConfig.load('prod');
    expect(texts(prod, 'rolloutMeshRoutes')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/prod-mesh/virtualRouter/*/route/*',
    ]);
    expect(texts(prod, 'rolloutListenerRulesAndListeners')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener-rule/app/prod-*/*',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener/app/prod-*',
    ]);
  });

  it('scopes rollouts to the listed meshes (a shared one by its owner account) and listeners, rules included', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
    const shared = 'arn:${AWS::Partition}:appmesh:${AWS::Region}:444455556666:mesh/shared';
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({ rolloutMeshArns: [MESH, shared], rolloutListenerArns: [LISTENER] }),
    );
    const texts = (key: string) => config.arns[key]!.map((arn) => arn['Fn::Sub']);

    expect(texts('rolloutMeshRoutes')).toEqual([
      `${MESH}/virtualRouter/*/route/*`,
      `${shared}/virtualRouter/*/route/*`,
    ]);
    expect(texts('rolloutMeshRoutesAndVirtualNodes')).toEqual([
      `${MESH}/virtualRouter/*/route/*`,
      `${shared}/virtualRouter/*/route/*`,
      `${MESH}/virtualNode/*`,
      `${shared}/virtualNode/*`,
    ]);
    expect(texts('rolloutListeners')).toEqual([LISTENER]);
    expect(texts('rolloutListenerRules')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener-rule/app/dev-web/50dc6c495c0c9188/f2f7dc8efc522ab2/*',
    ]);
  });

  it('accepts a reaction whose service cluster is given as an ARN of a configured cluster', () => {
    const alarmReactions = reaction({
      target: {
        kind: 'ecs-service',
        cluster: 'arn:aws:ecs:eu-west-1:111122223333:cluster/dev-apps',
        service: 'web',
      },
    });
    expect(checkDevWith({ alarmReactions })).not.toThrow();
  });
});
