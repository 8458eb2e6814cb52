// The per-stage files, checked the way `serverless package` reads them (infra/stageConfig.js), without
// packaging: every stage file passes the functions' own configuration checks, and a wrong value stops the
// package step with a message that names the file and the key.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeclaredRouteSchema } from '#events/rollout';
import {
  loadAlarmReactorConfig,
  loadLifecycleConfig,
  loadOpsConfig,
  loadRecyclerConfig,
} from '#runtime/config';

interface StageConfig {
  clusters: string;
  dryRun: string;
  recyclerPolicy: string;
  alarmReactions: string;
  lifecycleHooks: string;
  lifecycleNotificationTopicArns: string[];
  lifecycleNotificationTopicCount: string;
  opsRoutes: string;
  tracingDefine: string;
  esbuildSourcemap: boolean | 'external';
  nodeOptions: string | null;
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

const reaction = (overrides: Record<string, unknown>) => [
  {
    id: 'surge',
    alarm: { name: 'dev-web-requests-high' },
    target: { kind: 'auto-scaling-group', name: 'dev-apps-asg' },
    action: { kind: 'add-capacity', by: 2 },
    ...overrides,
  },
];

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
const MESH = 'arn:${AWS::Partition}:appmesh:${AWS::Region}:${AWS::AccountId}:mesh/dev-mesh';
const LISTENER =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:listener/app/dev-web/50dc6c495c0c9188/f2f7dc8efc522ab2';

/** A named ALB route of the ops API, on LISTENER's load balancer in some account and region. */
const ALB_ROUTE = {
  router: 'alb',
  listenerArn:
    'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/dev-web/50dc6c495c0c9188/f2f7dc8efc522ab2',
  ruleArn:
    'arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/dev-web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee',
  stable: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/dev-web/73e2d6bc24d8a067',
  canary: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/dev-web-canary/2453ed029918f21f',
};
const MESH_ROUTE = {
  router: 'appmesh',
  meshName: 'dev-mesh',
  virtualRouterName: 'orders-router',
  routeName: 'orders',
  stable: 'orders-v1',
  canary: 'orders-v2',
};
const LATTICE_SERVICE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
  'arn:${AWS::Partition}:vpc-lattice:${AWS::Region}:${AWS::AccountId}:service/svc-0a1b2c3d4e5f60718';
const LATTICE_LISTENER =
  'arn:aws:vpc-lattice:eu-west-1:111122223333:service/svc-0a1b2c3d4e5f60718/listener/listener-0a1b2c3d4e5f60718';
/** A named VPC Lattice route of the ops API, on LATTICE_SERVICE's listener in some account and region. */
const LATTICE_ROUTE = {
  router: 'lattice',
  listenerArn: LATTICE_LISTENER,
  ruleArn: `${LATTICE_LISTENER}/rule/rule-0a1b2c3d4e5f60718`,
  stable: 'tg-0a1b2c3d4e5f60711',
  canary: 'tg-0a1b2c3d4e5f60722',
};
const opsRoutesOf = (...routes: unknown[]) => routes;

const lifecycleHook = (overrides: Record<string, unknown>) => [
  { groupName: 'dev-apps-asg', hookName: 'drain', cluster: 'dev-apps', ...overrides },
];

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
    [
      'alarmReactions as JSON text',
      { alarmReactions: '[]' },
      /alarmReactions is JSON text inside JSON: write it as a JSON array/,
    ],
    ['alarmReactions an object', { alarmReactions: {} }, /alarmReactions must be a JSON array/],
    [
      'a reaction that is not an object',
      { alarmReactions: [1] },
      /alarmReactions\[0\]: must be an object, not a number/,
    ],
    [
      'a reaction with a misspelt field',
      { alarmReactions: reaction({ cooldown: 60 }) },
      /^infra\/stages\/test.json: alarmReactions\[0\]: unknown field "cooldown" \(did you mean "cooldownSeconds"\?\); valid: id, alarm,/,
    ],
    [
      'a recycler policy with a misspelt field',
      { recyclerPolicy: { restartStandalone: { maxRestart: 3 } } },
      /recyclerPolicy.restartStandalone: unknown field "maxRestart" \(did you mean "maxRestarts"\?\); valid: enabled, families,/,
    ],
    ['recyclerPolicy left out', { recyclerPolicy: undefined }, /recyclerPolicy must be a JSON object/],
    [
      'a misspelt key',
      { alarmReaction: [] },
      /unknown key alarmReaction \(did you mean alarmReactions\?\); valid: clusters, dryRun,/,
    ],
    [
      'clusters as one string',
      { clusters: 'dev-apps,dev-batch' },
      /clusters must be a list of at least one cluster name/,
    ],
    [
      'a cluster ARN',
      { clusters: ['arn:aws:ecs:eu-west-1:111122223333:cluster/dev'] },
      /clusters must be a list .*names, not ARNs/,
    ],
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
    ['lifecycleHooks as JSON text', { lifecycleHooks: '[]' }, /lifecycleHooks is JSON text inside JSON/],
    ['lifecycleHooks an object', { lifecycleHooks: {} }, /lifecycleHooks must be a JSON array/],
    [
      'a hook without a cluster',
      { lifecycleHooks: lifecycleHook({ cluster: undefined }) },
      /lifecycleHooks\[0\].cluster: is required/,
    ],
    [
      'a hook notification topic that is not an SNS topic ARN',
      { lifecycleHooks: lifecycleHook({ notificationTopicArn: 'arn:aws:sqs:eu-west-1:111122223333:q' }) },
      /lifecycleHooks\[0\].notificationTopicArn: an SNS topic ARN/,
    ],
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
    ['opsRoutes as JSON text', { opsRoutes: '[]' }, /opsRoutes is JSON text inside JSON/],
    ['opsRoutes an object', { opsRoutes: {} }, /opsRoutes must be a JSON array/],
    [
      'a named route that is not an object',
      { opsRoutes: ['web'] },
      /opsRoutes\[0\]: must be an object, not a string/,
    ],
    [
      'a named route with another key',
      { opsRoutes: opsRoutesOf({ name: 'web', route: ALB_ROUTE, weights: {} }) },
      /opsRoutes\[0\]: unknown field "weights"; valid: name, route, services/,
    ],
    [
      'a route name the API refuses',
      { opsRoutes: opsRoutesOf({ name: 'web/1', route: ALB_ROUTE }) },
      /opsRoutes\[0\].name: a route name/,
    ],
    [
      'a route name twice',
      {
        opsRoutes: opsRoutesOf({ name: 'web', route: ALB_ROUTE }, { name: 'web', route: MESH_ROUTE }),
      },
      /opsRoutes names "web" twice/,
    ],
    ['a named route without a route', { opsRoutes: opsRoutesOf({ name: 'web' }) }, /opsRoutes\[0\].route: /],
    [
      'a route of another router',
      { opsRoutes: opsRoutesOf({ name: 'web', route: { ...ALB_ROUTE, router: 'nlb' } }) },
      /opsRoutes\[0\].route.router: must be one of "appmesh", "alb", "lattice"/,
    ],
    [
      'a route of a listener outside rolloutListenerArns',
      {
        rolloutListenerArns: [LISTENER],
        opsRoutes: opsRoutesOf({
          name: 'web',
          route: { ...ALB_ROUTE, listenerArn: ALB_ROUTE.listenerArn.replace('dev-web', 'prod-web') },
        }),
      },
      /opsRoutes\[0\] \(web\) names listener .*prod-web.*, which rolloutListenerArns does not cover/,
    ],
    [
      'a VPC Lattice route of a service outside rolloutLatticeServiceArns',
      {
        rolloutLatticeServiceArns: [LATTICE_SERVICE],
        opsRoutes: opsRoutesOf({
          name: 'web',
          route: {
            ...LATTICE_ROUTE,
            listenerArn: LATTICE_LISTENER.replace('svc-0a1b2c3d4e5f60718', 'svc-99999999999999999'),
            ruleArn: undefined,
          },
        }),
      },
      /opsRoutes\[0\] \(web\) names VPC Lattice listener .*svc-99999999999999999.*, which rolloutLatticeServiceArns does not cover/,
    ],
    [
      'a VPC Lattice rule of another listener',
      {
        opsRoutes: opsRoutesOf({
          name: 'web',
          route: {
            ...LATTICE_ROUTE,
            ruleArn: LATTICE_ROUTE.ruleArn.replace('listener-0a1b', 'listener-9a1b'),
          },
        }),
      },
      /opsRoutes\[0\].route.ruleArn: the rule must be a rule of the listener named/,
    ],
    [
      'a rolloutLatticeServiceArns entry that is not a service',
      { rolloutLatticeServiceArns: [`${LATTICE_SERVICE}/listener/*`] },
      /rolloutLatticeServiceArns: .* is not a VPC Lattice service ARN/,
    ],
    [
      'a rule under another listener',
      {
        rolloutListenerArns: [LISTENER],
        opsRoutes: opsRoutesOf({
          name: 'web',
          route: { ...ALB_ROUTE, ruleArn: ALB_ROUTE.ruleArn.replace('f2f7dc8efc522ab2', '0000000000000000') },
        }),
      },
      /opsRoutes\[0\] \(web\) names rule .*, which is not under rolloutListenerArns/,
    ],
    [
      'a route of a mesh outside rolloutMeshArns',
      {
        rolloutMeshArns: [MESH],
        opsRoutes: opsRoutesOf({ name: 'orders', route: { ...MESH_ROUTE, meshName: 'prod-mesh' } }),
      },
      /opsRoutes\[0\] \(orders\) is a route of mesh "prod-mesh", which rolloutMeshArns does not cover/,
    ],
    [
      'a route of a shared mesh whose owner is not the listed one',
      {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
        rolloutMeshArns: ['arn:${AWS::Partition}:appmesh:${AWS::Region}:444455556666:mesh/shared'],
        opsRoutes: opsRoutesOf({
          name: 'orders',
          route: { ...MESH_ROUTE, meshName: 'shared', meshOwner: '777788889999' },
        }),
      },
      /is a route of mesh "shared" \(owner 777788889999\), which rolloutMeshArns does not cover/,
    ],
    [
      'route services in a cluster the stage does not configure',
      {
        opsRoutes: opsRoutesOf({
          name: 'orders',
          route: MESH_ROUTE,
          services: { canary: { cluster: 'prod-apps', service: 'orders-v2' } },
        }),
      },
      /opsRoutes\[0\] \(orders\) services.canary is in cluster "prod-apps", not one of clusters/,
    ],
    [
      'route services of another shape',
      { opsRoutes: opsRoutesOf({ name: 'orders', route: MESH_ROUTE, services: { blue: {} } }) },
      /opsRoutes\[0\].services: unknown field "blue"; valid: stable, canary/,
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

  it("admits to the notification queue exactly the hooks' SNS topics, each once, and none without any", () => {
    // Prepare: two hooks of one topic, one of another, one that notifies no topic
    const topic = (name: string) => `arn:aws:sns:eu-west-1:111122223333:${name}`;
    const hooks = [
      { groupName: 'dev-apps-asg', hookName: 'a', cluster: 'dev-apps', notificationTopicArn: topic('one') },
      { groupName: 'dev-apps-asg', hookName: 'b', cluster: 'dev-apps', notificationTopicArn: topic('one') },
      { groupName: 'dev-apps-asg', hookName: 'c', cluster: 'dev-apps', notificationTopicArn: topic('two') },
      { groupName: 'dev-apps-asg', hookName: 'd', cluster: 'dev-apps' },
    ];

    // Act
    const some = stageConfig.check(FILE, 'test', devWith({ lifecycleHooks: hooks }));
    const none = stageConfig.check(FILE, 'test', devWith({ lifecycleHooks: [] }));

    // Assess
    expect([some.lifecycleNotificationTopicArns, some.lifecycleNotificationTopicCount]).toEqual([
      [topic('one'), topic('two')],
      '2',
    ]);
    expect([none.lifecycleNotificationTopicArns, none.lifecycleNotificationTopicCount]).toEqual([[], '0']);
    expect(stageConfig.load('prod').lifecycleNotificationTopicArns).toEqual([
      'arn:aws:sns:eu-central-1:111122223333:prod-apps-lifecycle',
    ]);
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

  it.each(stages)('%s.json has ops routes the ops functions accept', (stage) => {
    const config = loadOpsConfig({
      CLUSTERS: stageConfig.load(stage).clusters,
      OPS_ROUTES: stageConfig.load(stage).opsRoutes,
      ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-test-rollout',
      LIFECYCLE_STATE_MACHINE_ARN:
        'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-test-instance-lifecycle',
      IDEMPOTENCY_TABLE: 'ecs-reflex-test-ops-idempotency',
    });
    // Each route as awsOpsDeps and awsRolloutDeps check it at cold start.
    for (const named of config.routes) expect(DeclaredRouteSchema.safeParse(named).error).toBeUndefined();
    if (stage === 'dev') expect(config.routes).toEqual([]);
    if (stage === 'prod')
      expect(config.routes.map((named) => (named.route as { router: string }).router).sort()).toEqual([
        'alb',
        'appmesh',
      ]);
  });

  it('defaults opsRoutes to none, and accepts routes inside the rollout meshes and listeners', () => {
    expect(stageConfig.check(FILE, 'test', devWith({ opsRoutes: undefined })).opsRoutes).toBe('[]');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders.
    const shared = 'arn:${AWS::Partition}:appmesh:${AWS::Region}:444455556666:mesh/shared';
    const opsRoutes = opsRoutesOf(
      { name: 'web', route: ALB_ROUTE },
      { name: 'web-default', route: { ...ALB_ROUTE, ruleArn: undefined } },
      { name: 'orders', route: MESH_ROUTE },
      { name: 'shared-orders', route: { ...MESH_ROUTE, meshName: 'shared', meshOwner: '444455556666' } },
      { name: 'api', route: LATTICE_ROUTE },
      { name: 'api-default', route: { ...LATTICE_ROUTE, ruleArn: undefined } },
    );
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({
        rolloutMeshArns: [MESH, shared],
        rolloutListenerArns: [LISTENER],
        rolloutLatticeServiceArns: [LATTICE_SERVICE],
        opsRoutes,
      }),
    );
    expect(config.opsRoutes).toBe(JSON.stringify(opsRoutes));
    // Without rolloutMeshArns / rolloutListenerArns every mesh and ALB listener of the account is allowed.
    expect(checkDevWith({ opsRoutes })).not.toThrow();
  });

  it('bundles neither the tracer nor the source maps unless the stage asks, and sets NODE_OPTIONS only with the maps', () => {
    const plain = stageConfig.check(FILE, 'test', devWith({ tracing: undefined, sourceMaps: undefined }));
    expect(plain).toMatchObject({
      tracingDefine: '"false"',
      esbuildSourcemap: 'external',
      nodeOptions: null,
    });
    const asked = stageConfig.check(FILE, 'test', devWith({ tracing: true, sourceMaps: true }));
    expect(asked).toMatchObject({
      tracingDefine: '"true"',
      esbuildSourcemap: true,
      nodeOptions: '--enable-source-maps',
    });
    expect(checkDevWith({ tracing: 'yes' })).toThrow(`${FILE}: tracing must be true or false`);
    expect(checkDevWith({ sourceMaps: 1 })).toThrow(`${FILE}: sourceMaps must be true or false`);
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

describe('the services rollouts may scale', () => {
  it('are the services the declared routes name, and only those', () => {
    // Act
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({
        opsRoutes: opsRoutesOf({
          name: 'orders',
          route: MESH_ROUTE,
          services: {
            stable: { cluster: 'dev-apps', service: 'orders-v1' },
            canary: { cluster: 'dev-apps', service: 'orders-v2' },
          },
        }),
      }),
    );

    // Assess
    expect(config.arns.rolloutServices!.map((a) => a['Fn::Sub'])).toEqual([
      expect.stringMatching(/:service\/dev-apps\/orders-v1$/),
      expect.stringMatching(/:service\/dev-apps\/orders-v2$/),
    ]);
  });

  it('are none when no route declares services: an ARN no configured cluster holds', () => {
    const arns = stageConfig.load('dev').arns.rolloutServices!.map((a) => a['Fn::Sub']);
    expect(arns).toEqual([expect.stringMatching(/:service\/no-declared-route-service\/none$/)]);
  });
});

describe('the functions lambda checks may invoke', () => {
  it('are the names the stage lists, each with its versions and aliases, and in the rollout environment', () => {
    const config = stageConfig.check(
      FILE,
      'test',
      devWith({ trafficCheckFunctions: ['web-smoke', 'api-smoke'] }),
    );

    expect(config.arns.trafficCheckFunctions!.map((a) => a['Fn::Sub'])).toEqual([
      expect.stringMatching(/:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:web-smoke$/),
      expect.stringMatching(/:function:web-smoke:\*$/),
      expect.stringMatching(/:function:api-smoke$/),
      expect.stringMatching(/:function:api-smoke:\*$/),
    ]);
    expect((config as unknown as { trafficCheckFunctions: string }).trafficCheckFunctions).toBe(
      'web-smoke,api-smoke',
    );
  });

  it('are none by default: a name longer than Lambda allows, so the grant reaches no function', () => {
    const [arn, ...rest] = stageConfig.load('dev').arns.trafficCheckFunctions!.map((a) => a['Fn::Sub']);
    expect(rest).toHaveLength(1);
    expect(arn!.split(':function:')[1]!.length).toBeGreaterThan(64);
  });

  it.each([
    [['arn:aws:lambda:eu-west-1:111122223333:function:x']],
    [['web-*']],
    [['a'.repeat(65)]],
    ['web-smoke'],
  ])('refuses %j, naming the key', (trafficCheckFunctions) => {
    expect(checkDevWith({ trafficCheckFunctions })).toThrow(/trafficCheckFunctions/);
  });
});

describe('npm run validate', () => {
  const validate = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.resolve(__dirname, '../../infra/validate.cjs'), ...args],
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });

  it('passes every shipped stage, one line each', async () => {
    const run = await validate();
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(
      stages.map((stage) => expect.stringMatching(new RegExp(`^infra/stages/${stage}.json: ok: `))),
    );
  });

  it('refuses an unknown stage in one line, naming the ones there are', async () => {
    const run = await validate('--stage', 'qa');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `no stage "qa": infra/stages holds ${stages.join(', ')} (a new stage is a new file there, see infra/stages/README.md)\n`,
    );
  });

  it('says a stage problem without a stack trace, as serverless prints the error it gets', () => {
    let thrown: Error | undefined;
    try {
      stageConfig.check(FILE, 'test', devWith({ recyclerPolicy: { crashLoopBreaker: { failure: 3 } } }));
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.stack).toMatch(
      /^infra\/stages\/test.json: recyclerPolicy.crashLoopBreaker: unknown field "failure" \(did you mean "failures"\?\)/,
    );
    expect(thrown?.stack).not.toMatch(/\n\s+at /);
  });
});
