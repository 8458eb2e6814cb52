// Least privilege, checked on a CloudFormation template (the packaged one, or a mutated copy of it in the
// tests that show each check can fail). Three checks, each a list of findings (empty when the template
// passes):
//
// 1. wildcardActionFindings: no `*` (or `?`) in any action of any policy of the template (roles, managed
//    policies, trust policies, queue, topic and bucket policies, Lambda permissions), and no NotAction. The
//    one exception is the framework's deployment bucket policy, which *denies* `s3:*` over plain HTTP.
// 2. anyResourceFindings: every action an Allow statement names is classified (ACCESS_LEVELS, the access
//    level the Service Authorization Reference gives it); a write (any level but List and Read) on
//    Resource `*` only where the service defines no resource type for it (WRITES_ON_ANY_RESOURCE), a read on
//    `*` only with a reason (READS_ON_ANY_RESOURCE).
// 3. rolePermissionFindings: every role of the template grants exactly what its user needs (derived by the
//    caller: from the code for a function's role, from the definition for a state machine's role), no action
//    more (unused), none less (missing), and for the actions given with resources, exactly those resources.
//    A role nobody accounts for is a finding too.

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Condition?: string;
}

export interface Template {
  Resources: Record<string, Resource>;
}

export interface Finding {
  check:
    | 'wildcard-action'
    | 'not-action'
    | 'not-resource'
    | 'unclassified-action'
    | 'write-on-any-resource'
    | 'read-on-any-resource'
    | 'unused-permission'
    | 'missing-permission'
    | 'unused-resource'
    | 'missing-resource'
    | 'unaccounted-role'
    | 'unchecked-policy';
  /** The resource (and policy, statement) the finding is about: `RolloutStepRole/rollout-step/Claim`. */
  where: string;
  action?: string;
  detail?: string;
}

/** Access levels of the Service Authorization Reference; List and Read change nothing. */
export type AccessLevel = 'List' | 'Read' | 'Write' | 'Tagging' | 'Permissions management';

/**
 * The access level of every action this stack grants, as the Service Authorization Reference
 * (docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html) lists it. An action
 * missing here fails the check: classify it (and, if it is a write on `*`, justify it) before granting it.
 */
export const ACCESS_LEVELS: Record<string, AccessLevel> = {
  'application-autoscaling:DescribeScalableTargets': 'Read',
  'application-autoscaling:DescribeScalingPolicies': 'Read',
  'application-autoscaling:PutScalingPolicy': 'Write',
  'application-autoscaling:RegisterScalableTarget': 'Write',
  'appmesh:DescribeRoute': 'Read',
  'appmesh:ListTagsForResource': 'List',
  'appmesh:TagResource': 'Tagging',
  'appmesh:UntagResource': 'Tagging',
  'appmesh:UpdateRoute': 'Write',
  'autoscaling:CompleteLifecycleAction': 'Write',
  'autoscaling:CreateOrUpdateTags': 'Tagging',
  'autoscaling:DeleteTags': 'Tagging',
  'autoscaling:DescribeAutoScalingGroups': 'List',
  'autoscaling:DescribeAutoScalingInstances': 'List',
  'autoscaling:DescribeLifecycleHooks': 'List',
  'autoscaling:DescribePolicies': 'List',
  'autoscaling:DescribeTags': 'Read',
  'autoscaling:DescribeWarmPool': 'List',
  'autoscaling:PutScalingPolicy': 'Write',
  'autoscaling:RecordLifecycleActionHeartbeat': 'Write',
  'autoscaling:SetDesiredCapacity': 'Write',
  'cloudwatch:DescribeAlarms': 'Read',
  'cloudwatch:GetMetricData': 'Read',
  'cloudwatch:ListTagsForResource': 'Read',
  'dynamodb:DeleteItem': 'Write',
  'dynamodb:GetItem': 'Read',
  'dynamodb:PutItem': 'Write',
  'dynamodb:UpdateItem': 'Write',
  'ecs:DescribeCapacityProviders': 'Read',
  'ecs:DescribeContainerInstances': 'Read',
  'ecs:DescribeServiceDeployments': 'Read',
  'ecs:DescribeServiceRevisions': 'Read',
  'ecs:DescribeServices': 'Read',
  'ecs:DescribeTasks': 'Read',
  'ecs:ListContainerInstances': 'List',
  'ecs:ListServiceDeployments': 'List',
  'ecs:ListServices': 'List',
  'ecs:ListTasks': 'List',
  'ecs:RunTask': 'Write',
  'ecs:StopServiceDeployment': 'Write',
  'ecs:StopTask': 'Write',
  'ecs:TagResource': 'Tagging',
  'ecs:UntagResource': 'Tagging',
  'ecs:UpdateContainerInstancesState': 'Write',
  'ecs:UpdateService': 'Write',
  'elasticloadbalancing:AddTags': 'Tagging',
  'elasticloadbalancing:DeregisterTargets': 'Write',
  'elasticloadbalancing:DescribeListeners': 'Read',
  'elasticloadbalancing:DescribeRules': 'Read',
  'elasticloadbalancing:DescribeTags': 'Read',
  'elasticloadbalancing:DescribeTargetHealth': 'Read',
  'elasticloadbalancing:ModifyListener': 'Write',
  'elasticloadbalancing:ModifyRule': 'Write',
  'elasticloadbalancing:RegisterTargets': 'Write',
  'elasticloadbalancing:RemoveTags': 'Tagging',
  'iam:PassRole': 'Write',
  'lambda:InvokeFunction': 'Write',
  'logs:CreateLogStream': 'Write',
  'logs:FilterLogEvents': 'Read',
  'logs:PutLogEvents': 'Write',
  'sns:Publish': 'Write',
  'sqs:ChangeMessageVisibility': 'Write',
  'sqs:DeleteMessage': 'Write',
  'sqs:GetQueueAttributes': 'Read',
  'sqs:ReceiveMessage': 'Read',
  'sqs:SendMessage': 'Write',
  'states:DescribeExecution': 'Read',
  'states:GetExecutionHistory': 'Read',
  'states:ListExecutions': 'List',
  'states:SendTaskFailure': 'Write',
  'states:SendTaskSuccess': 'Write',
  'states:StartExecution': 'Write',
  'states:StopExecution': 'Write',
  'sts:AssumeRole': 'Write',
  'vpc-lattice:GetListener': 'Read',
  'vpc-lattice:GetRule': 'Read',
  'vpc-lattice:ListTagsForResource': 'Read',
  'vpc-lattice:TagResource': 'Tagging',
  'vpc-lattice:UntagResource': 'Tagging',
  'vpc-lattice:UpdateListener': 'Write',
  'vpc-lattice:UpdateRule': 'Write',
  'xray:PutTelemetryRecords': 'Write',
  'xray:PutTraceSegments': 'Write',
};

export const isWrite = (action: string): boolean =>
  ACCESS_LEVELS[action] !== undefined && ACCESS_LEVELS[action] !== 'List' && ACCESS_LEVELS[action] !== 'Read';

/**
 * The only writes allowed on Resource `*`: the Service Authorization Reference defines no resource type for
 * them, so `*` is the only value IAM accepts. Every other write names its resources.
 */
export const WRITES_ON_ANY_RESOURCE: Record<string, string> = {
  'xray:PutTraceSegments':
    'X-Ray defines no resource type for it (list_awsx-ray); Lambda uploads the trace segments of the function (active tracing) with its role',
  'xray:PutTelemetryRecords':
    'X-Ray defines no resource type for it (list_awsx-ray); Lambda sends the tracing telemetry with the role',
  'states:SendTaskSuccess':
    'Step Functions defines no resource type for it (list_awsstepfunctions): the task token names the task; the ops API answers a rollout gate with it',
  'states:SendTaskFailure':
    'Step Functions defines no resource type for it (list_awsstepfunctions): the task token names the task; the ops API answers a rollout gate with it',
};

/** Reads allowed on Resource `*`, each with the reason no narrower resource will do. */
export const READS_ON_ANY_RESOURCE: Record<string, string> = {
  'autoscaling:DescribeAutoScalingGroups': 'EC2 Auto Scaling defines no resource type for it',
  'autoscaling:DescribeAutoScalingInstances': 'EC2 Auto Scaling defines no resource type for it',
  'autoscaling:DescribeLifecycleHooks': 'EC2 Auto Scaling defines no resource type for it',
  'autoscaling:DescribeWarmPool': 'EC2 Auto Scaling defines no resource type for it',
  'autoscaling:DescribePolicies': 'EC2 Auto Scaling defines no resource type for it',
  'autoscaling:DescribeTags': 'EC2 Auto Scaling defines no resource type for it',
  'application-autoscaling:DescribeScalableTargets':
    'Application Auto Scaling defines no resource type for it',
  'application-autoscaling:DescribeScalingPolicies':
    'Application Auto Scaling defines no resource type for it',
  'elasticloadbalancing:DescribeListeners': 'ELBv2 defines no resource type for it',
  'elasticloadbalancing:DescribeRules': 'ELBv2 defines no resource type for it',
  'elasticloadbalancing:DescribeTags': 'ELBv2 defines no resource type for it',
  'elasticloadbalancing:DescribeTargetHealth': 'ELBv2 defines no resource type for it',
  'cloudwatch:GetMetricData':
    'no resource type for classic metrics (its optional `dataset` type is for OTLP datasets, which are not read)',
  'cloudwatch:DescribeAlarms':
    'its `alarm` type would hide composite alarms: CloudWatch returns them only to a caller allowed DescribeAlarms on `*`',
  'ecs:ListServices':
    'ECS defines no resource type for it; narrowed to the configured clusters by `ecs:cluster`',
  'ecs:ListTasks':
    'authorized against a container instance, which Fargate tasks lack; narrowed to the configured clusters by `ecs:cluster`',
};

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

type PolicyKind = 'identity' | 'trust' | 'resource';

interface Located {
  where: string;
  kind: PolicyKind;
  /** The resource the statement belongs to. */
  logicalId: string;
  statement: Statement;
}

/** The statements of a policy document (or of anything holding some), with where they are. */
function statementsOf(
  document: unknown,
  where: string,
  found: { where: string; statement: Statement }[] = [],
) {
  if (Array.isArray(document)) {
    for (const item of document) statementsOf(item, where, found);
  } else if (document && typeof document === 'object') {
    const object = document as Record<string, unknown>;
    if ('Effect' in object && ('Action' in object || 'NotAction' in object)) {
      const sid = (object as { Sid?: string }).Sid;
      found.push({ where: sid ? `${where}/${sid}` : where, statement: object as unknown as Statement });
    } else for (const item of Object.values(object)) statementsOf(item, where, found);
  }
  return found;
}

/** Every statement of the template, with the kind of policy it is in; Lambda permissions as statements. */
export function allStatements(template: Template): Located[] {
  const located: Located[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role') {
      for (const { where, statement } of statementsOf(properties.AssumeRolePolicyDocument, logicalId))
        located.push({ where, kind: 'trust', logicalId, statement });
      for (const policy of asList(properties.Policies as { PolicyName?: string; PolicyDocument: unknown }[]))
        for (const { where, statement } of statementsOf(
          policy.PolicyDocument,
          `${logicalId}/${policy.PolicyName ?? ''}`,
        ))
          located.push({ where, kind: 'identity', logicalId, statement });
    } else if (resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::IAM::Policy') {
      for (const { where, statement } of statementsOf(properties.PolicyDocument, logicalId))
        located.push({ where, kind: 'identity', logicalId, statement });
    } else if (resource.Type === 'AWS::Lambda::Permission') {
      located.push({
        where: logicalId,
        kind: 'resource',
        logicalId,
        statement: { Effect: 'Allow', Action: properties.Action as string, Principal: properties.Principal },
      });
    } else {
      for (const { where, statement } of statementsOf(properties, logicalId))
        located.push({ where, kind: 'resource', logicalId, statement });
    }
  }
  return located;
}

/** The framework's deployment bucket policy: deny every S3 action over plain HTTP. A wildcard that takes away. */
function isTlsOnlyDeny(template: Template, located: Located): boolean {
  const condition = located.statement.Condition?.Bool?.['aws:SecureTransport'];
  return (
    located.statement.Effect === 'Deny' &&
    template.Resources[located.logicalId]?.Type === 'AWS::S3::BucketPolicy' &&
    asList(located.statement.Action).every((action) => action === 's3:*') &&
    (condition === false || condition === 'false')
  );
}

/** Check 1: any `*` (or `?`) in an action, anywhere; any NotAction; NotResource in an Allow. */
export function wildcardActionFindings(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const located of allStatements(template)) {
    const { statement, where } = located;
    if (statement.NotAction !== undefined) findings.push({ check: 'not-action', where });
    if (statement.Effect === 'Allow' && statement.NotResource !== undefined)
      findings.push({ check: 'not-resource', where });
    if (isTlsOnlyDeny(template, located)) continue;
    for (const action of asList(statement.Action))
      if (/[*?]/.test(action)) findings.push({ check: 'wildcard-action', where, action });
  }
  return findings;
}

/**
 * Any resource: `*`, or an ARN that leaves everything after the service open (`arn:aws:ecs:*:*:*`,
 * `arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*`).
 */
export function isAnyResource(value: unknown): boolean {
  const text = typeof value === 'string' ? value : (value as { 'Fn::Sub'?: unknown } | null)?.['Fn::Sub'];
  if (typeof text !== 'string') return false;
  // `${AWS::Region}` and the like stand for one ARN field (their own colons aside).
  const fields = text.replace(/\$\{[^}]*\}/g, 'x');
  return fields === '*' || /^arn:[^:]+:[^:]+:[^:]*:[^:]*:\*$/.test(fields);
}

/** Check 2: every action classified; writes on `*` only where nothing narrower exists, reads with a reason. */
export function anyResourceFindings(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const { statement, where } of allStatements(template)) {
    if (statement.Effect !== 'Allow') continue;
    const onAny = asList(statement.Resource).some(isAnyResource);
    for (const action of asList(statement.Action)) {
      if (!(action in ACCESS_LEVELS)) {
        findings.push({ check: 'unclassified-action', where, action });
        continue;
      }
      if (!onAny) continue;
      if (isWrite(action) && !(action in WRITES_ON_ANY_RESOURCE))
        findings.push({ check: 'write-on-any-resource', where, action });
      if (!isWrite(action) && !(action in READS_ON_ANY_RESOURCE))
        findings.push({ check: 'read-on-any-resource', where, action });
    }
  }
  return findings;
}

/** What a role's user needs: actions, and for some (a workflow's invocations) the exact resources. */
export interface Need {
  actions: Set<string>;
  /** Per action, the resources (as the template writes them) it must be granted on, no more. */
  resources?: Map<string, unknown[]>;
}

const refOf = (value: unknown) => (value as { Ref?: string } | null)?.Ref;

/** The Allow statements of a role's identity policies: inline, managed (by Ref), and policies naming it. */
export function roleGrants(
  template: Template,
  roleId: string,
): { statements: Located[]; findings: Finding[] } {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`no role ${roleId} in the template`);
  const findings: Finding[] = [];
  const policyIds = new Set<string>();
  for (const arn of asList(role.Properties.ManagedPolicyArns)) {
    const id = refOf(arn);
    if (id && template.Resources[id]?.Type === 'AWS::IAM::ManagedPolicy') policyIds.add(id);
    else findings.push({ check: 'unchecked-policy', where: roleId, detail: JSON.stringify(arn) });
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy' && resource.Type !== 'AWS::IAM::Policy') continue;
    if (asList(resource.Properties.Roles).some((attached) => refOf(attached) === roleId)) policyIds.add(id);
  }
  const statements = allStatements(template).filter(
    (located) =>
      located.kind === 'identity' &&
      located.statement.Effect === 'Allow' &&
      (located.logicalId === roleId || policyIds.has(located.logicalId)),
  );
  return { statements, findings };
}

/** Check 3: each role grants exactly what its user needs. */
export function rolePermissionFindings(template: Template, needs: Map<string, Need>): Finding[] {
  const findings: Finding[] = [];
  for (const [roleId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const need = needs.get(roleId);
    if (!need) {
      findings.push({ check: 'unaccounted-role', where: roleId });
      continue;
    }
    const { statements, findings: unchecked } = roleGrants(template, roleId);
    findings.push(...unchecked);
    const granted = new Map<string, { where: string; resources: unknown[] }[]>();
    for (const { statement, where } of statements)
      for (const action of asList(statement.Action))
        granted.set(action, [
          ...(granted.get(action) ?? []),
          { where, resources: asList(statement.Resource) },
        ]);
    for (const [action, grants] of granted)
      if (!need.actions.has(action))
        for (const { where } of grants) findings.push({ check: 'unused-permission', where, action });
    for (const action of need.actions)
      if (!granted.has(action)) findings.push({ check: 'missing-permission', where: roleId, action });
    for (const [action, expected] of need.resources ?? []) {
      const wanted = new Set(expected.map((value) => JSON.stringify(value)));
      const grants = granted.get(action) ?? [];
      for (const { where, resources } of grants)
        for (const value of resources)
          if (!wanted.has(JSON.stringify(value)))
            findings.push({ check: 'unused-resource', where, action, detail: JSON.stringify(value) });
      const has = new Set(grants.flatMap(({ resources }) => resources.map((value) => JSON.stringify(value))));
      for (const value of wanted)
        if (!has.has(value))
          findings.push({ check: 'missing-resource', where: roleId, action, detail: value });
    }
  }
  return findings;
}
