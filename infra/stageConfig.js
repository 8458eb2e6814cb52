// Per-stage configuration for serverless.yml: reads infra/stages/<stage>.json, checks it, and derives the
// ARN lists the IAM statements need (one entry per cluster, group or alarm prefix, which YAML and
// CloudFormation cannot map over). Loaded by the Serverless Framework as `${file(./infra/stageConfig.js)}`;
// see infra/stages/README.md.
//
// ARNs come back as `Fn::Sub` objects over `${AWS::Partition}`, `${AWS::Region}` and `${AWS::AccountId}`,
// so packaging needs no AWS credentials and one stage file serves any account. The Serverless variable
// parser leaves `${AWS::...}` alone (its sources start with a lower-case letter).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const bundles = require('../local/build.cjs');

/** The functions' schemas and the did-you-mean helper, from their build (infra/stageSchema.ts). */
const schemas = () => bundles.load('stage');

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS.
const ACCOUNT = 'arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}';
const arn = (service, resource) => ({ 'Fn::Sub': `${ACCOUNT.replace('%s', service)}:${resource}` });
const sub = (text) => ({ 'Fn::Sub': text });

const DEFAULT_TARGET_GROUPS = [`${ACCOUNT.replace('%s', 'elasticloadbalancing')}:targetgroup/*`];
// Rollouts: every App Mesh mesh, every ALB listener and every VPC Lattice service of the account and region,
// unless the stage names its own (rolloutMeshArns, rolloutListenerArns, rolloutLatticeServiceArns).
const DEFAULT_ROLLOUT_MESHES = [`${ACCOUNT.replace('%s', 'appmesh')}:mesh/*`];
const DEFAULT_ROLLOUT_LISTENERS = [`${ACCOUNT.replace('%s', 'elasticloadbalancing')}:listener/app/*/*/*`];
const DEFAULT_ROLLOUT_LATTICE_SERVICES = [`${ACCOUNT.replace('%s', 'vpc-lattice')}:service/*`];

const KNOWN_KEYS = [
  'clusters',
  'dryRun',
  'logRetentionInDays',
  'notificationEmail',
  'recyclerPolicy',
  'passRoleArns',
  'deregisterTargetGroupArns',
  'alarmReactions',
  'autoScalingGroupNames',
  'alarmNamePrefixes',
  'lifecycleHooks',
  'rolloutMeshArns',
  'rolloutListenerArns',
  'rolloutLatticeServiceArns',
  'opsRoutes',
  'deploymentHookServices',
  'trafficCheckFunctions',
  'tracing',
  'sourceMaps',
];

/**
 * A stage file that cannot be deployed. Its stack is its message: the Serverless Framework prints an
 * error's stack, and what a person needs here is the file, the key and what is wrong, not this file's lines.
 */
class StageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StageError';
    this.stack = message;
  }
}

function fail(file, message) {
  throw new StageError(`${file}: ${message}`);
}

/**
 * The parts that are JSON objects in the stage file and JSON text in the functions' environment (a Lambda
 * environment value is a string): the loader stringifies them. A fallback is what a left-out key stands
 * for; without one (`undefined`) the key is required.
 */
const STRUCTURED = {
  recyclerPolicy: { kind: 'object', fallback: undefined },
  alarmReactions: { kind: 'array', fallback: [] },
  lifecycleHooks: { kind: 'array', fallback: [] },
  opsRoutes: { kind: 'array', fallback: [] },
  deploymentHookServices: { kind: 'array', fallback: [] },
};

/** The structured parts, as the stage gives them or their defaults, checked with the functions' schemas. */
function structuredParts(file, raw) {
  const parts = {};
  for (const [key, { kind, fallback }] of Object.entries(STRUCTURED)) {
    const value = raw[key] ?? fallback;
    if (typeof value === 'string')
      fail(
        file,
        `${key} is JSON text inside JSON: write it as a JSON ${kind} (the loader makes the text the function receives)`,
      );
    const isArray = Array.isArray(value);
    if (value === undefined || value === null || typeof value !== 'object' || isArray !== (kind === 'array'))
      fail(file, `${key} must be a JSON ${kind}`);
    parts[key] = value;
  }
  const problems = schemas().stageProblems(parts);
  if (problems.length > 0) fail(file, problems.join(`\n${file}: `));
  return parts;
}

function arnList(file, key, value) {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v) => typeof v === 'string' && v.startsWith('arn:'))
  ) {
    fail(
      file,
      `${key} must be a non-empty list of ARNs (may use \${AWS::Partition}, \${AWS::Region}, \${AWS::AccountId})`,
    );
  }
  if (value.some((v) => v === '*' || /:\*$/.test(v))) fail(file, `${key} must not grant every resource`);
  // Passing any role in the account to a task is a privilege escalation: name the roles.
  if (key === 'passRoleArns' && value.some((v) => /:role\/\*?$/.test(v)))
    fail(file, `${key} must name roles`);
  return value;
}

/**
 * A non-empty list of names (or name prefixes) that end up inside an ARN: no IAM wildcards (`*`, `?`: the
 * ARN adds its own where one belongs) and no `$` (Fn::Sub would read `${` as a placeholder).
 */
function nameList(file, key, value, what) {
  if (!Array.isArray(value) || value.length === 0) fail(file, `${key} must be a non-empty list of ${what}`);
  for (const name of value) {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 255)
      fail(file, `${key} must be a non-empty list of ${what}, got ${JSON.stringify(name)}`);
    if (/[*?$]/.test(name))
      fail(file, `${key}: ${JSON.stringify(name)} must not contain *, ? or $ (${what}, not patterns)`);
  }
  if (new Set(value).size !== value.length) fail(file, `${key} lists a name twice`);
  return value;
}

/** Lambda function names (not ARNs: the stage's account and region are the ones the checks run in). */
function functionNames(file, value) {
  nameList(file, 'trafficCheckFunctions', value, 'function names');
  for (const name of value)
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      fail(
        file,
        `trafficCheckFunctions: ${JSON.stringify(name)} is not a function name (letters, digits, - and _, at most 64)`,
      );
  return value;
}

/**
 * The reactions (ALARM_REACTIONS), already checked against ReactionsSchema: that every target and alarm a
 * reaction names lies inside what the role may touch, so a reaction cannot be configured that IAM would
 * refuse at run time.
 */
function checkReactions(file, reactions, { clusters, autoScalingGroupNames, alarmNamePrefixes }) {
  const underPrefix = (name) =>
    typeof name === 'string' && alarmNamePrefixes.some((prefix) => name.startsWith(prefix));
  reactions.forEach((reaction, i) => {
    const at = `alarmReactions[${i}] (${reaction.id})`;
    const target = reaction.target ?? {};
    if (target.kind === 'auto-scaling-group' && !autoScalingGroupNames.includes(target.name)) {
      fail(
        file,
        `${at} changes group ${JSON.stringify(target.name)}, which autoScalingGroupNames does not list`,
      );
    }
    if (target.kind === 'ecs-service') {
      const cluster = String(target.cluster ?? '').replace(/^arn:.*\//, '');
      if (!clusters.includes(cluster))
        fail(
          file,
          `${at} changes a service of cluster ${JSON.stringify(target.cluster)}, which clusters does not list`,
        );
    }
    // The reactor reads the tags of any alarm when some reaction picks alarms by tag: its role may read
    // only the alarms under alarmNamePrefixes, so every alarm a reaction names must lie there too.
    const alarm = reaction.alarm ?? {};
    for (const key of ['name', 'prefix']) {
      if (alarm[key] !== undefined && !underPrefix(alarm[key])) {
        fail(
          file,
          `${at} alarm ${key} ${JSON.stringify(alarm[key])} does not start with one of alarmNamePrefixes`,
        );
      }
    }
  });
}

/** An ARN with its `${AWS::…}` placeholders stood in for, so that its colons can be counted. */
const withoutPlaceholders = (text) => text.replace(/\$\{AWS::\w+\}/g, 'x');

/**
 * The meshes whose routes rollouts may shift: `arn:…:appmesh:<region>:<account>:mesh/<name or pattern>`. A
 * shared mesh carries its owner's account id. The role gets each mesh's routes and virtual nodes.
 */
function rolloutMeshes(file, value) {
  const meshes = arnList(file, 'rolloutMeshArns', value);
  for (const mesh of meshes) {
    if (!/^arn:[^:]+:appmesh:[^:]+:[^:]+:mesh\/[^/:]+$/.test(withoutPlaceholders(mesh)))
      fail(
        file,
        `rolloutMeshArns: ${JSON.stringify(mesh)} is not an App Mesh mesh ARN (…:appmesh:…:mesh/NAME)`,
      );
  }
  return meshes;
}

/**
 * The ALB listeners whose rules (and default actions) rollouts may shift:
 * `arn:…:elasticloadbalancing:<region>:<account>:listener/app/<lb name>/<lb id>/<listener id>`, any part of
 * it a pattern. The role gets these listeners and the rules under them.
 */
function rolloutListeners(file, value) {
  const listeners = arnList(file, 'rolloutListenerArns', value);
  for (const listener of listeners) {
    if (
      !/^arn:[^:]+:elasticloadbalancing:[^:]+:[^:]+:listener\/app\/[^:]+$/.test(withoutPlaceholders(listener))
    )
      fail(
        file,
        `rolloutListenerArns: ${JSON.stringify(listener)} is not an Application Load Balancer listener ARN (…:listener/app/…)`,
      );
  }
  return listeners;
}

/**
 * The VPC Lattice services whose listeners' rules (and default actions) rollouts may shift:
 * `arn:…:vpc-lattice:<region>:<account>:service/<svc id or pattern>`. The roles get their listeners and the
 * rules under them.
 */
function rolloutLatticeServices(file, value) {
  const services = arnList(file, 'rolloutLatticeServiceArns', value);
  for (const service of services) {
    if (!/^arn:[^:]+:vpc-lattice:[^:]+:[^:]+:service\/[^/:]+$/.test(withoutPlaceholders(service)))
      fail(
        file,
        `rolloutLatticeServiceArns: ${JSON.stringify(service)} is not a VPC Lattice service ARN (…:vpc-lattice:…:service/svc-…)`,
      );
  }
  return services;
}

/** An IAM ARN pattern (`*`, `?`, `${AWS::…}` placeholders) as a regular expression over literal ARNs. */
function arnPattern(pattern) {
  const source = pattern
    .split(/(\$\{AWS::\w+\}|\*|\?)/)
    .map((part) => {
      if (part === '*') return '.*';
      if (part === '?') return '.';
      if (/^\$\{AWS::\w+\}$/.test(part)) return '[^:]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * The lifecycle hooks (LIFECYCLE_HOOKS), already checked against LifecycleHookConfigSchema: that what each
 * hook names lies inside what the lifecycle roles may touch (its group, its cluster, its target groups), so
 * a hook cannot be configured that IAM would refuse while an instance waits on it.
 */
function checkLifecycleHooks(file, hooks, { clusters, autoScalingGroupNames, targetGroups }) {
  const allowedTargetGroups = targetGroups.map(arnPattern);
  hooks.forEach((hook, i) => {
    const at = `lifecycleHooks[${i}] (${hook.groupName}/${hook.hookName})`;
    if (!autoScalingGroupNames.includes(hook.groupName))
      fail(
        file,
        `${at} serves group ${JSON.stringify(hook.groupName)}, which autoScalingGroupNames does not list`,
      );
    const cluster = String(hook.cluster ?? '').replace(/^arn:.*\//, '');
    if (!clusters.includes(cluster))
      fail(file, `${at} names cluster ${JSON.stringify(hook.cluster)}, which clusters does not list`);
    for (const targetGroup of Array.isArray(hook.targetGroups) ? hook.targetGroups : []) {
      const arn = String(targetGroup?.arn ?? '');
      if (!allowedTargetGroups.some((pattern) => pattern.test(arn)))
        fail(
          file,
          `${at} names target group ${JSON.stringify(arn)}, which deregisterTargetGroupArns does not cover`,
        );
    }
  });
}

/**
 * The SNS topics the lifecycle notification queue admits (`aws:SourceArn`): the hooks' notificationTopicArn,
 * each once. None configured: the queue gets no policy, and no topic can send to it.
 */
function lifecycleNotificationTopics(lifecycleHooks) {
  const topics = lifecycleHooks
    .map((hook) => hook.notificationTopicArn)
    .filter((arn) => typeof arn === 'string');
  return [...new Set(topics)];
}

/**
 * A route's services (`{"stable": {"cluster", "service"}, "canary": …}`, each optional): the only services a
 * rollout on the route may scale down, in the stage's clusters.
 */
function checkRouteServices(file, at, services = {}, clusters) {
  for (const [version, ref] of Object.entries(services))
    if (!clusters.includes(ref.cluster))
      fail(
        file,
        `${at} services.${version} is in cluster ${JSON.stringify(ref.cluster)}, not one of clusters`,
      );
}

/**
 * The ops API's named routes (OPS_ROUTES), already checked against DeclaredRouteSchema: that their names
 * are unique, and that each route lies inside what the ops roles may read and write (the rollout meshes and
 * listeners), so a route cannot be named that IAM would refuse when someone sets its weights. App Mesh
 * routes are compared by mesh name (and owner account when the route names one): the partition, region and
 * account of the stack are unknown at package time.
 */
function checkOpsRoutes(
  file,
  routes,
  { rolloutMeshArns, rolloutListenerArns, rolloutLatticeServiceArns, clusters },
) {
  // `arn:<partition>:appmesh:<region>:<account>:mesh/<name>`, the partition and region of any stack, a
  // placeholder for any account (it stands for the stack's own, unknown here).
  const meshParts = (mesh) => {
    const [, , , , account, resource] = mesh.replace(/\$\{AWS::\w+\}/g, '*').split(':');
    return { account, resource };
  };
  const meshes = rolloutMeshArns.map((mesh) => {
    const { account, resource } = meshParts(mesh);
    return {
      withOwner: arnPattern(`arn:*:appmesh:*:${account}:${resource}`),
      // A route without meshOwner is in the stack's own account, whatever account the pattern names.
      ownAccount: arnPattern(`arn:*:appmesh:*:*:${resource}`),
    };
  });
  const listeners = rolloutListenerArns.map(arnPattern);
  const rules = rolloutListenerArns.map((listener) =>
    arnPattern(`${listener.replace(':listener/', ':listener-rule/')}/*`),
  );
  const latticeListeners = rolloutLatticeServiceArns.map((service) => arnPattern(`${service}/listener/*`));
  const names = new Set();
  routes.forEach((named, i) => {
    if (names.has(named.name)) fail(file, `opsRoutes names ${JSON.stringify(named.name)} twice`);
    names.add(named.name);
    const at = `opsRoutes[${i}] (${named.name})`;
    const route = named.route;
    if (route.router === 'appmesh') {
      const owner = route.meshOwner;
      const candidate = `arn:x:appmesh:x:${owner ?? 'x'}:mesh/${route.meshName}`;
      const covered = meshes.some((mesh) => (owner ? mesh.withOwner : mesh.ownAccount).test(candidate));
      if (!covered)
        fail(
          file,
          `${at} is a route of mesh ${JSON.stringify(route.meshName)}${owner ? ` (owner ${owner})` : ''}, which rolloutMeshArns does not cover`,
        );
    } else if (route.router === 'lattice') {
      // The schema keeps a rule under its listener: the listener decides.
      if (!latticeListeners.some((pattern) => pattern.test(route.listenerArn)))
        fail(
          file,
          `${at} names VPC Lattice listener ${JSON.stringify(route.listenerArn)}, which rolloutLatticeServiceArns does not cover`,
        );
    } else {
      const listener = route.listenerArn;
      if (!listeners.some((pattern) => pattern.test(listener)))
        fail(
          file,
          `${at} names listener ${JSON.stringify(listener)}, which rolloutListenerArns does not cover`,
        );
      if (route.ruleArn !== undefined && !rules.some((pattern) => pattern.test(String(route.ruleArn))))
        fail(
          file,
          `${at} names rule ${JSON.stringify(route.ruleArn)}, which is not under rolloutListenerArns`,
        );
    }
    checkRouteServices(file, at, named.services, clusters);
  });
}

/** Checks one stage file's contents and derives what serverless.yml and the IAM statements use. */
function check(file, stage, raw) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 'must be a JSON object');
  for (const key of Object.keys(raw))
    if (!KNOWN_KEYS.includes(key)) {
      const meant = schemas().closest(key, KNOWN_KEYS);
      fail(
        file,
        `unknown key ${key}${meant ? ` (did you mean ${meant}?)` : ''}; valid: ${KNOWN_KEYS.join(', ')}`,
      );
    }

  // Same rule as layers/runtime/config.ts: cluster names, not ARNs (the ARNs are built here).
  const clusters = raw.clusters;
  if (
    !Array.isArray(clusters) ||
    clusters.length === 0 ||
    !clusters.every((name) => typeof name === 'string' && /^[A-Za-z0-9_-]{1,255}$/.test(name))
  ) {
    fail(
      file,
      `clusters must be a list of at least one cluster name (names, not ARNs): ${JSON.stringify(clusters)}`,
    );
  }

  if (typeof raw.dryRun !== 'boolean') fail(file, 'dryRun must be true or false');
  if (!Number.isInteger(raw.logRetentionInDays))
    fail(file, 'logRetentionInDays must be a whole number of days');

  // Both decide what goes into the bundles (infra/esbuildPlugins.js, docs/design.md "Cold start"): off,
  // the X-Ray SDK and the source maps stay out of the zips and out of every cold start.
  const tracing = raw.tracing ?? false;
  if (typeof tracing !== 'boolean') fail(file, 'tracing must be true or false, or left out (false)');
  const sourceMaps = raw.sourceMaps ?? false;
  if (typeof sourceMaps !== 'boolean') fail(file, 'sourceMaps must be true or false, or left out (false)');

  const notificationEmail = raw.notificationEmail ?? '';
  if (
    typeof notificationEmail !== 'string' ||
    (notificationEmail !== '' && !/^[^@\s]+@[^@\s]+$/.test(notificationEmail))
  ) {
    fail(file, 'notificationEmail must be an e-mail address, or left out');
  }

  // The policy, reactions, hooks and routes, each against the schema its function parses it with.
  const parts = structuredParts(file, raw);

  const passRoleArns = arnList(file, 'passRoleArns', raw.passRoleArns);
  const targetGroups = arnList(
    file,
    'deregisterTargetGroupArns',
    raw.deregisterTargetGroupArns ?? DEFAULT_TARGET_GROUPS,
  );

  // The alarm reactor: the groups it may change, the alarms it may read, and its reactions.
  const autoScalingGroupNames = nameList(
    file,
    'autoScalingGroupNames',
    raw.autoScalingGroupNames,
    'Auto Scaling group names',
  );
  const alarmNamePrefixes = nameList(file, 'alarmNamePrefixes', raw.alarmNamePrefixes, 'alarm name prefixes');
  checkReactions(file, parts.alarmReactions, {
    clusters,
    autoScalingGroupNames,
    alarmNamePrefixes,
  });
  // The instance lifecycle reflex: its hooks, inside the groups, clusters and target groups above.
  checkLifecycleHooks(file, parts.lifecycleHooks, {
    clusters,
    autoScalingGroupNames,
    targetGroups,
  });
  const lifecycleNotificationTopicArns = lifecycleNotificationTopics(parts.lifecycleHooks);

  // Progressive rollouts: the routes they may shift, and the rules and listeners.
  const rolloutMeshArns = rolloutMeshes(file, raw.rolloutMeshArns ?? DEFAULT_ROLLOUT_MESHES);
  const rolloutListenerArns = rolloutListeners(file, raw.rolloutListenerArns ?? DEFAULT_ROLLOUT_LISTENERS);
  const meshRoutes = rolloutMeshArns.map((mesh) => `${mesh}/virtualRouter/*/route/*`);
  const meshVirtualNodes = rolloutMeshArns.map((mesh) => `${mesh}/virtualNode/*`);
  // A rule's ARN is its listener's, as `listener-rule/…`, plus the rule id.
  const listenerRules = rolloutListenerArns.map(
    (listener) => `${listener.replace(':listener/', ':listener-rule/')}/*`,
  );
  const rolloutLatticeServiceArns = rolloutLatticeServices(
    file,
    raw.rolloutLatticeServiceArns ?? DEFAULT_ROLLOUT_LATTICE_SERVICES,
  );
  const latticeListeners = rolloutLatticeServiceArns.map((service) => `${service}/listener/*`);
  const latticeRules = rolloutLatticeServiceArns.map((service) => `${service}/listener/*/rule/*`);
  // The ops API: the routes it shows and sets by hand, inside the rollouts' meshes, listeners and services.
  checkOpsRoutes(file, parts.opsRoutes, {
    rolloutMeshArns,
    rolloutListenerArns,
    rolloutLatticeServiceArns,
    clusters,
  });

  // The services rollouts may scale down (and read): those the declared routes name, nothing else. With
  // none declared, a service ARN no cluster of the stage can hold, so the statement grants nothing.
  const declaredServices = [
    ...new Set(
      parts.opsRoutes.flatMap((named) =>
        ['stable', 'canary'].flatMap((version) => {
          const ref = named.services?.[version];
          return ref ? [`service/${ref.cluster}/${ref.service}`] : [];
        }),
      ),
    ),
  ];
  const rolloutServices = (
    declaredServices.length > 0 ? declaredServices : ['service/no-declared-route-service/none']
  ).map((resource) => arn('ecs', resource));
  // The deployment hook: the services it serves, inside the stage's clusters. With none, a service name
  // nobody gives a service, so its read-only statements grant nothing that exists.
  parts.deploymentHookServices.forEach((entry, i) => {
    if (!clusters.includes(entry.cluster))
      fail(
        file,
        `deploymentHookServices[${i}] (${entry.cluster}/${entry.service}) is in a cluster clusters does not list`,
      );
  });
  const hookServices =
    parts.deploymentHookServices.length > 0
      ? parts.deploymentHookServices.map((entry) => `${entry.cluster}/${entry.service}`)
      : [`${clusters[0]}/ecs-reflex-no-hook-service`];
  const perHookService = (kind, suffix = '') =>
    hookServices.map((path) => arn('ecs', `${kind}/${path}${suffix}`));
  // The functions lambda checks may invoke (tests before traffic), each with any version or alias. With
  // none, a name longer than Lambda allows (64), so the statement grants nothing.
  const trafficCheckFunctions = (
    raw.trafficCheckFunctions === undefined ||
    (Array.isArray(raw.trafficCheckFunctions) && raw.trafficCheckFunctions.length === 0)
      ? ['no-traffic-check-function-is-allowed-in-this-stage-so-this-name-is-too-long']
      : functionNames(file, raw.trafficCheckFunctions)
  ).flatMap((name) => [arn('lambda', `function:${name}`), arn('lambda', `function:${name}:*`)]);
  const perCluster = (...resources) =>
    resources.flatMap((resource) => clusters.map((name) => arn('ecs', resource.replace('NAME', name))));
  return {
    stage,
    clusters: clusters.join(','),
    dryRun: String(raw.dryRun),
    logRetentionInDays: raw.logRetentionInDays,
    notificationEmail,
    // esbuild's `define` takes JavaScript text: the string literal "true" or "false".
    tracingDefine: JSON.stringify(String(tracing)),
    // In the zip and linked (true), or written beside it as .serverless/sourcemaps/ ('external').
    esbuildSourcemap: sourceMaps ? true : 'external',
    // Node reads the maps only with this flag, which costs every cold start: only where they are shipped.
    nodeOptions: sourceMaps ? '--enable-source-maps' : null,
    // The functions' environment: JSON text of what the stage file holds as JSON.
    recyclerPolicy: JSON.stringify(parts.recyclerPolicy),
    alarmReactions: JSON.stringify(parts.alarmReactions),
    lifecycleHooks: JSON.stringify(parts.lifecycleHooks),
    lifecycleNotificationTopicArns,
    lifecycleNotificationTopicCount: String(lifecycleNotificationTopicArns.length),
    opsRoutes: JSON.stringify(parts.opsRoutes),
    deploymentHookServices: JSON.stringify(parts.deploymentHookServices),
    trafficCheckFunctions: (raw.trafficCheckFunctions ?? []).join(','),
    arns: {
      hookServices: perHookService('service'),
      hookServiceDeployments: perHookService('service-deployment', '/*'),
      hookServiceRevisions: perHookService('service-revision', '/*'),
      trafficCheckFunctions,
      clusters: perCluster('cluster/NAME'),
      tasks: perCluster('task/NAME/*'),
      containerInstances: perCluster('container-instance/NAME/*'),
      services: perCluster('service/NAME/*'),
      rolloutServices,
      tasksAndServices: perCluster('task/NAME/*', 'service/NAME/*'),
      serviceRevisionsAndServices: perCluster('service-revision/NAME/*', 'service/NAME/*'),
      taskDefinitions: [arn('ecs', 'task-definition/*:*')],
      // Capacity providers are not inside a cluster: every one of the account and region (read-only).
      capacityProviders: [arn('ecs', 'capacity-provider/*')],
      passRoles: passRoleArns.map(sub),
      targetGroups: targetGroups.map(sub),
      // The group id in the ARN is unknown before the group exists, and changes when it is recreated.
      autoScalingGroups: autoScalingGroupNames.map((name) =>
        arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`),
      ),
      alarms: alarmNamePrefixes.map((prefix) => arn('cloudwatch', `alarm:${prefix}*`)),
      // Scalable target ARNs carry an opaque id, not the service: any scalable target of the account and
      // region, narrowed by condition keys to ECS service desired counts (infra/alarmReactorIam.yml).
      scalableTargets: [arn('application-autoscaling', 'scalable-target/*')],
      // App Mesh names a route by its mesh and virtual router; UpdateRoute is also authorized against the
      // virtual nodes its weighted targets name.
      rolloutMeshRoutes: meshRoutes.map(sub),
      rolloutMeshRoutesAndVirtualNodes: [...meshRoutes, ...meshVirtualNodes].map(sub),
      rolloutListeners: rolloutListenerArns.map(sub),
      rolloutListenerRules: listenerRules.map(sub),
      rolloutListenerRulesAndListeners: [...listenerRules, ...rolloutListenerArns].map(sub),
      // A VPC Lattice rule's ARN is its listener's plus `/rule/<id>`; a listener's, its service's plus
      // `/listener/<id>`.
      rolloutLatticeListeners: latticeListeners.map(sub),
      rolloutLatticeRules: latticeRules.map(sub),
      rolloutLatticeRulesAndListeners: [...latticeRules, ...latticeListeners].map(sub),
    },
  };
}

function load(stage) {
  const file = path.join('infra', 'stages', `${stage}.json`);
  const full = path.join(__dirname, 'stages', `${stage}.json`);
  if (!fs.existsSync(full)) {
    const known = fs
      .readdirSync(path.join(__dirname, 'stages'))
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length));
    throw new StageError(
      `no stage "${stage}": infra/stages holds ${known.join(', ')} (a new stage is a new file there, see infra/stages/README.md)`,
    );
  }
  let raw;
  try {
    raw = JSON.parse(fs.readFileSync(full, 'utf8'));
  } catch (error) {
    fail(file, `not JSON: ${error.message}`);
  }
  return check(file, stage, raw);
}

module.exports = async ({ resolveVariable }) => load(await resolveVariable('sls:stage'));
module.exports.load = load;
module.exports.check = check;
