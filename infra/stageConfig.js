// Per-stage configuration for serverless.yml: reads infra/stages/<stage>.json, checks it, and derives the
// ARN lists the IAM statements need (one entry per cluster, which YAML and CloudFormation cannot map over).
// Loaded by the Serverless Framework as `${file(./infra/stageConfig.js)}`; see infra/stages/README.md.
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

  const known = [
    'clusters',
    'dryRun',
    'logRetentionInDays',
    'notificationEmail',
    'recyclerPolicy',
    'passRoleArns',
    'deregisterTargetGroupArns',
  ];
  const unknown = Object.keys(raw).filter((key) => !known.includes(key));
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

  const perCluster = (...resources) =>
    resources.flatMap((resource) => clusters.map((name) => arn('ecs', resource.replace('NAME', name))));
  return {
    stage,
    clusters: clusters.join(','),
    dryRun: String(raw.dryRun),
    logRetentionInDays: raw.logRetentionInDays,
    notificationEmail,
    recyclerPolicy: raw.recyclerPolicy,
    arns: {
      clusters: perCluster('cluster/NAME'),
      tasks: perCluster('task/NAME/*'),
      containerInstances: perCluster('container-instance/NAME/*'),
      services: perCluster('service/NAME/*'),
      tasksAndServices: perCluster('task/NAME/*', 'service/NAME/*'),
      serviceRevisionsAndServices: perCluster('service-revision/NAME/*', 'service/NAME/*'),
      taskDefinitions: [arn('ecs', 'task-definition/*:*')],
      passRoles: passRoleArns.map(sub),
      targetGroups: targetGroups.map(sub),
    },
  };
}

module.exports = async ({ resolveVariable }) => load(await resolveVariable('sls:stage'));
module.exports.load = load;
