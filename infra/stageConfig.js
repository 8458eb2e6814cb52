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

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS.
const ACCOUNT = 'arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}';
const arn = (service, resource) => ({ 'Fn::Sub': `${ACCOUNT.replace('%s', service)}:${resource}` });
const sub = (text) => ({ 'Fn::Sub': text });

const DEFAULT_TARGET_GROUPS = [`${ACCOUNT.replace('%s', 'elasticloadbalancing')}:targetgroup/*`];
// Rollouts: every App Mesh mesh, and every ALB listener, of the account and region, unless the stage names
// its own (rolloutMeshArns, rolloutListenerArns).
const DEFAULT_ROLLOUT_MESHES = [`${ACCOUNT.replace('%s', 'appmesh')}:mesh/*`];
const DEFAULT_ROLLOUT_LISTENERS = [`${ACCOUNT.replace('%s', 'elasticloadbalancing')}:listener/app/*/*/*`];

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
  'opsRoutes',
  'tracing',
  'sourceMaps',
];

function fail(file, message) {
  throw new Error(`${file}: ${message}`);
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

/**
 * The reactions travel as JSON text (ALARM_REACTIONS); the function checks them against ReactionsSchema at
 * cold start. Here: that the text is a JSON array of objects, and that every target and alarm a reaction
 * names lies inside what the role may touch, so a reaction cannot be configured that IAM would refuse at
 * run time.
 */
function checkReactions(file, text, { clusters, autoScalingGroupNames, alarmNamePrefixes }) {
  if (typeof text !== 'string') fail(file, 'alarmReactions must be a JSON string, not an array');
  let reactions;
  try {
    reactions = JSON.parse(text);
  } catch (error) {
    fail(file, `alarmReactions is not JSON: ${error.message}`);
  }
  if (!Array.isArray(reactions)) fail(file, 'alarmReactions must be a JSON array (of reactions)');
  const underPrefix = (name) =>
    typeof name === 'string' && alarmNamePrefixes.some((prefix) => name.startsWith(prefix));
  reactions.forEach((reaction, i) => {
    const at = `alarmReactions[${i}]${reaction && typeof reaction.id === 'string' ? ` (${reaction.id})` : ''}`;
    if (reaction === null || typeof reaction !== 'object' || Array.isArray(reaction))
      fail(file, `${at} must be an object`);
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
  return text;
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
 * The lifecycle hooks travel as JSON text (LIFECYCLE_HOOKS); the functions check them against
 * LifecycleHookConfigSchema at cold start. Here: that the text is a JSON array of objects, and that what
 * each hook names lies inside what the lifecycle roles may touch (its group, its cluster, its target
 * groups), so a hook cannot be configured that IAM would refuse while an instance waits on it.
 */
function checkLifecycleHooks(file, text, { clusters, autoScalingGroupNames, targetGroups }) {
  if (typeof text !== 'string') fail(file, 'lifecycleHooks must be a JSON string, not an array');
  let hooks;
  try {
    hooks = JSON.parse(text);
  } catch (error) {
    fail(file, `lifecycleHooks is not JSON: ${error.message}`);
  }
  if (!Array.isArray(hooks)) fail(file, 'lifecycleHooks must be a JSON array (of hooks)');
  const allowedTargetGroups = targetGroups.map(arnPattern);
  hooks.forEach((hook, i) => {
    if (hook === null || typeof hook !== 'object' || Array.isArray(hook))
      fail(file, `lifecycleHooks[${i}] must be an object`);
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
    if (
      hook.notificationTopicArn !== undefined &&
      !/^arn:[^:]+:sns:[^:]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(String(hook.notificationTopicArn))
    )
      fail(
        file,
        `${at} notificationTopicArn ${JSON.stringify(hook.notificationTopicArn)} is not an SNS topic ARN`,
      );
  });
  return text;
}

/**
 * The SNS topics the lifecycle notification queue admits (`aws:SourceArn`): the hooks' notificationTopicArn,
 * each once. None configured: the queue gets no policy, and no topic can send to it.
 */
function lifecycleNotificationTopics(lifecycleHooks) {
  const topics = JSON.parse(lifecycleHooks)
    .map((hook) => hook.notificationTopicArn)
    .filter((arn) => typeof arn === 'string');
  return [...new Set(topics)];
}

/**
 * The ops API's named routes travel as JSON text (OPS_ROUTES): `[{"name": …, "route": <a rollout route>}]`;
 * the functions check each route against the rollout route schema at cold start. Here: that the text is a
 * JSON array of `{name, route}` with unique names the API accepts, and that each route lies inside what the
 * ops roles may read and write (the rollout meshes and listeners), so a route cannot be named that IAM would
 * refuse when someone sets its weights. App Mesh routes are compared by mesh name (and owner account when
 * the route names one): the partition, region and account of the stack are unknown at package time.
 */
/**
 * A route's services (`{"stable": {"cluster", "service"}, "canary": …}`, each optional): the only services a
 * rollout on the route may scale down, in the stage's clusters.
 */
function checkRouteServices(file, at, services, clusters) {
  if (services === undefined) return;
  if (services === null || typeof services !== 'object' || Array.isArray(services))
    fail(file, `${at} services must be an object with stable and/or canary`);
  const extra = Object.keys(services).filter((key) => key !== 'stable' && key !== 'canary');
  if (extra.length > 0) fail(file, `${at} services has unknown keys: ${extra.join(', ')}`);
  for (const [version, ref] of Object.entries(services)) {
    if (
      ref === null ||
      typeof ref !== 'object' ||
      typeof ref.cluster !== 'string' ||
      typeof ref.service !== 'string'
    )
      fail(file, `${at} services.${version} must be {"cluster": …, "service": …}`);
    const keys = Object.keys(ref).filter((key) => key !== 'cluster' && key !== 'service');
    if (keys.length > 0) fail(file, `${at} services.${version} has unknown keys: ${keys.join(', ')}`);
    if (!clusters.includes(ref.cluster))
      fail(
        file,
        `${at} services.${version} is in cluster ${JSON.stringify(ref.cluster)}, not one of clusters`,
      );
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(ref.service))
      fail(file, `${at} services.${version} needs a service name of letters, digits, - and _`);
  }
}

function checkOpsRoutes(file, text, { rolloutMeshArns, rolloutListenerArns, clusters }) {
  if (typeof text !== 'string') fail(file, 'opsRoutes must be a JSON string, not an array');
  let routes;
  try {
    routes = JSON.parse(text);
  } catch (error) {
    fail(file, `opsRoutes is not JSON: ${error.message}`);
  }
  if (!Array.isArray(routes)) fail(file, 'opsRoutes must be a JSON array (of named routes)');
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
  const names = new Set();
  routes.forEach((named, i) => {
    if (named === null || typeof named !== 'object' || Array.isArray(named))
      fail(file, `opsRoutes[${i}] must be an object`);
    const extra = Object.keys(named).filter((key) => !['name', 'route', 'services'].includes(key));
    if (extra.length > 0) fail(file, `opsRoutes[${i}] has unknown keys: ${extra.join(', ')}`);
    if (typeof named.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(named.name))
      fail(file, `opsRoutes[${i}] needs a name of letters, digits, - and _ (at most 64)`);
    if (names.has(named.name)) fail(file, `opsRoutes names ${JSON.stringify(named.name)} twice`);
    names.add(named.name);
    const at = `opsRoutes[${i}] (${named.name})`;
    const route = named.route;
    if (route === null || typeof route !== 'object' || Array.isArray(route))
      fail(file, `${at} needs a route object`);
    if (route.router === 'appmesh') {
      const owner = route.meshOwner;
      const candidate = `arn:x:appmesh:x:${owner ?? 'x'}:mesh/${String(route.meshName ?? '')}`;
      const covered = meshes.some((mesh) => (owner ? mesh.withOwner : mesh.ownAccount).test(candidate));
      if (!covered)
        fail(
          file,
          `${at} is a route of mesh ${JSON.stringify(route.meshName)}${owner ? ` (owner ${owner})` : ''}, which rolloutMeshArns does not cover`,
        );
    } else if (route.router === 'alb') {
      const listener = String(route.listenerArn ?? '');
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
    } else {
      fail(file, `${at} has router ${JSON.stringify(route.router)}: "appmesh" or "alb"`);
    }
    checkRouteServices(file, at, named.services, clusters);
  });
  return text;
}

/** Checks one stage file's contents and derives what serverless.yml and the IAM statements use. */
function check(file, stage, raw) {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 'must be a JSON object');
  const unknown = Object.keys(raw).filter((key) => !KNOWN_KEYS.includes(key));
  if (unknown.length > 0) fail(file, `unknown keys: ${unknown.join(', ')}`);

  // Same rule as layers/runtime/config.ts: cluster names, not ARNs (the ARNs are built here).
  if (typeof raw.clusters !== 'string')
    fail(file, 'clusters must be a comma-separated string of cluster names');
  const clusters = raw.clusters
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (clusters.length === 0 || !clusters.every((name) => /^[A-Za-z0-9_-]{1,255}$/.test(name))) {
    fail(file, `clusters must name at least one cluster (names, not ARNs): "${raw.clusters}"`);
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

  // A Lambda environment value is a string: the policy travels as JSON text and is parsed (and checked
  // against RecyclerPolicySchema) by the function at cold start. Checking it is JSON here fails early.
  if (typeof raw.recyclerPolicy !== 'string')
    fail(file, 'recyclerPolicy must be a JSON string, not an object');
  try {
    const policy = JSON.parse(raw.recyclerPolicy);
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
      throw new Error('not an object');
  } catch (error) {
    fail(file, `recyclerPolicy is not a JSON object: ${error.message}`);
  }

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
  const alarmReactions = checkReactions(file, raw.alarmReactions, {
    clusters,
    autoScalingGroupNames,
    alarmNamePrefixes,
  });
  // The instance lifecycle reflex: its hooks, inside the groups, clusters and target groups above.
  const lifecycleHooks = checkLifecycleHooks(file, raw.lifecycleHooks, {
    clusters,
    autoScalingGroupNames,
    targetGroups,
  });
  const lifecycleNotificationTopicArns = lifecycleNotificationTopics(lifecycleHooks);

  // Progressive rollouts: the routes they may shift, and the rules and listeners.
  const rolloutMeshArns = rolloutMeshes(file, raw.rolloutMeshArns ?? DEFAULT_ROLLOUT_MESHES);
  const rolloutListenerArns = rolloutListeners(file, raw.rolloutListenerArns ?? DEFAULT_ROLLOUT_LISTENERS);
  const meshRoutes = rolloutMeshArns.map((mesh) => `${mesh}/virtualRouter/*/route/*`);
  const meshVirtualNodes = rolloutMeshArns.map((mesh) => `${mesh}/virtualNode/*`);
  // A rule's ARN is its listener's, as `listener-rule/…`, plus the rule id.
  const listenerRules = rolloutListenerArns.map(
    (listener) => `${listener.replace(':listener/', ':listener-rule/')}/*`,
  );
  // The ops API: the routes it shows and sets by hand, inside the rollouts' meshes and listeners.
  const opsRoutes = checkOpsRoutes(file, raw.opsRoutes ?? '[]', {
    rolloutMeshArns,
    rolloutListenerArns,
    clusters,
  });

  // The services rollouts may scale down (and read): those the declared routes name, nothing else. With
  // none declared, a service ARN no cluster of the stage can hold, so the statement grants nothing.
  const declaredServices = [
    ...new Set(
      JSON.parse(opsRoutes).flatMap((named) =>
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
    recyclerPolicy: raw.recyclerPolicy,
    alarmReactions,
    lifecycleHooks,
    lifecycleNotificationTopicArns,
    lifecycleNotificationTopicCount: String(lifecycleNotificationTopicArns.length),
    opsRoutes,
    arns: {
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
    },
  };
}

function load(stage) {
  const file = path.join('infra', 'stages', `${stage}.json`);
  const full = path.join(__dirname, 'stages', `${stage}.json`);
  if (!fs.existsSync(full)) fail(file, `no configuration for stage "${stage}"`);
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
