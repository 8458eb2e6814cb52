// The deployable stack, checked where it is decided: `serverless package` runs once, offline and with no
// AWS credentials, and the CloudFormation template it writes is held against the event contract
// (events/patterns), the local twin's wiring (so the twin cannot drift from AWS), the configuration the
// code reads, and the calls the AWS adapters make (so IAM grants exactly those).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { taskRecyclerWiring as wiring } from '#local/twin/wiring';
import { loadRecyclerConfig } from '#runtime/config';

const ROOT = path.resolve(__dirname, '../..');
const STAGE = 'dev';
const PACKAGE_TIMEOUT_MS = 240_000;

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Condition?: string;
}

interface Template {
  Resources: Record<string, Resource>;
}

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let outDir: string;
let template: Template;

/** The environment of a machine with no AWS account: no credentials, no profile, no instance metadata. */
function offlineEnv(emptyFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) env[key] = value;
  }
  return {
    ...env,
    AWS_SDK_LOAD_CONFIG: '0',
    AWS_SHARED_CREDENTIALS_FILE: emptyFile,
    AWS_CONFIG_FILE: emptyFile,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'ecs-reflex-package-'));
  const emptyFile = path.join(outDir, 'empty-aws-config');
  writeFileSync(emptyFile, '');
  const packageDir = path.join(outDir, 'package');
  try {
    execFileSync('npx', ['serverless', 'package', '--stage', STAGE, '--package', packageDir], {
      cwd: ROOT,
      env: offlineEnv(emptyFile),
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: PACKAGE_TIMEOUT_MS - 10_000,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  template = JSON.parse(
    readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  );
}, PACKAGE_TIMEOUT_MS);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

// --- reading the template ---------------------------------------------------------------------------

const logicalIdOf = (functionName: string) => `${functionName[0]!.toUpperCase()}${functionName.slice(1)}`;
const functionLogicalId = (functionName: string) => `${logicalIdOf(functionName)}LambdaFunction`;

function resource(logicalId: string, type?: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  if (type) expect(found.Type).toBe(type);
  return found;
}

function resourcesOf(type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The logical id a `{ "Fn::GetAtt": [id, "Arn"] }` points at. */
function getAttArn(value: unknown): string {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'];
  if (getAtt?.[1] !== 'Arn') throw new Error(`not a GetAtt Arn: ${JSON.stringify(value)}`);
  return getAtt[0];
}

function refOf(value: unknown): string {
  const ref = (value as { Ref?: string })?.Ref;
  if (!ref) throw new Error(`not a Ref: ${JSON.stringify(value)}`);
  return ref;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every policy statement anywhere in the template: roles, managed policies, queue and bucket policies. */
function statementsIn(value: unknown, found: Statement[] = []): Statement[] {
  if (Array.isArray(value)) {
    for (const item of value) statementsIn(item, found);
  } else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Effect' in object && ('Action' in object || 'NotAction' in object))
      found.push(object as unknown as Statement);
    else for (const item of Object.values(object)) statementsIn(item, found);
  }
  return found;
}

/** The Allow statements a function's role holds: its inline policies and its managed policies. */
function roleStatements(roleId: string): Statement[] {
  const role = resource(roleId, 'AWS::IAM::Role').Properties;
  const inline = asList(role.Policies as { PolicyDocument: unknown }[]).map((p) => p.PolicyDocument);
  const managed = asList(role.ManagedPolicyArns).map(
    (arn) => resource(refOf(arn), 'AWS::IAM::ManagedPolicy').Properties.PolicyDocument,
  );
  return statementsIn([...inline, ...managed]).filter((s) => s.Effect === 'Allow');
}

function roleOf(functionName: string): string {
  return getAttArn(resource(functionLogicalId(functionName), 'AWS::Lambda::Function').Properties.Role);
}

function bufferQueueId(): string {
  const [[, mapping]] = resourcesOf('AWS::Lambda::EventSourceMapping') as [[string, Resource]];
  return getAttArn(mapping.Properties.EventSourceArn);
}

/** The SQS queue policies that let EventBridge send to a queue, with the source ARNs they allow. */
function eventBridgeSendersTo(queueId: string): string[] {
  return resourcesOf('AWS::SQS::QueuePolicy')
    .filter(([, policy]) => asList(policy.Properties.Queues).some((q) => refOf(q) === queueId))
    .flatMap(([, policy]) => statementsIn(policy.Properties.PolicyDocument))
    .filter(
      (s) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }) &&
        asList(s.Action).includes('sqs:SendMessage'),
    )
    .flatMap((s) => asList(s.Condition?.ArnEquals?.['aws:SourceArn']).map(getAttArn));
}

interface ZipEntry {
  name: string;
  size: number;
  /** The entry's bytes, inflated. */
  read(): Buffer;
}

/** Entries of a zip file, from its central directory (stored and deflated entries, as the framework writes). */
function zipEntries(file: string): ZipEntry[] {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file} is not a zip`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const data = () => {
      const start =
        localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const raw = zip.subarray(start, start + compressedSize);
      return method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    };
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      size: zip.readUInt32LE(at + 24),
      read: data,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Optional modules the SDK requires inside a try block (SigV4a via the CRT): absent in Lambda, and the SDK
 * manages without them. Everything else a bundle requires must be part of Node.
 */
const OPTIONAL_REQUIRES = new Set(['@aws-sdk/signature-v4-crt']);

/** Modules a bundle still loads at run time that Node does not provide. */
function unbundledRequires(code: string): string[] {
  const required = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map(([, name]) => name!);
  const builtin = (name: string) => name.startsWith('node:') || builtinModules.includes(name.split('/')[0]!);
  return [...new Set(required)].filter((name) => !builtin(name) && !OPTIONAL_REQUIRES.has(name));
}

/** `rate(1 minute)`, `rate(5 minutes)`, ... in seconds. */
function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`not a rate expression: ${expression}`);
  const unit = { minute: 60, hour: 3600, day: 86400 }[
    match[2]!.replace(/s$/, '') as 'minute' | 'hour' | 'day'
  ];
  return Number(match[1]) * unit;
}

/** IAM actions for the SDK v3 commands the AWS adapters send, e.g. `new ListTasksCommand(` -> ecs:ListTasks. */
/** The AWS actions the SDK commands in the given adapter files send (all adapters when none are named). */
function adapterActions(only?: string[]): Set<string> {
  const prefixes: Record<string, string> = {
    'client-ecs': 'ecs',
    'client-elastic-load-balancing-v2': 'elasticloadbalancing',
    'client-sns': 'sns',
    'client-sqs': 'sqs',
  };
  const dir = path.join(ROOT, 'layers/adapters/aws');
  const actions = new Set<string>();
  for (const file of readdirSync(dir).filter(
    (name) => name.endsWith('.ts') && (!only || only.includes(name)),
  )) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const moduleOf = new Map<string, string>();
    for (const [, names, client] of source.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/([\w-]+)'/g,
    )) {
      for (const name of names!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim())) {
        moduleOf.set(name, client!);
      }
    }
    for (const [, command] of source.matchAll(/new (\w+)Command\(/g)) {
      const client = moduleOf.get(`${command}Command`);
      const prefix = client ? prefixes[client] : undefined;
      if (!prefix) throw new Error(`${file}: cannot tell which service ${command}Command belongs to`);
      actions.add(`${prefix}:${command}`);
    }
  }
  return actions;
}

/** What the Lambda service does with a function's role, beyond the calls the code makes. */
const PLATFORM_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  // The SQS event source mapping's poller.
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ChangeMessageVisibility',
  // RunTask and UpdateService pass the task definition's roles.
  'iam:PassRole',
]);

/** Actions whose service defines no resource type (or, for ListTasks, none a Fargate task has). */
const STAR_RESOURCE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'elasticloadbalancing:DescribeTargetHealth',
  'ecs:ListTasks',
]);

const stageConfig = JSON.parse(readFileSync(path.join(ROOT, 'infra/stages', `${STAGE}.json`), 'utf8')) as {
  clusters: string;
};
const configuredClusters = stageConfig.clusters.split(',').map((name) => name.trim());

// --- the checks -----------------------------------------------------------------------------------------

describe('serverless package (offline, no AWS credentials)', () => {
  it('packages each function as one bundle of its own, the AWS SDK inside', () => {
    for (const functionName of [wiring.functionName, wiring.sweepFunctionName]) {
      const zip = path.join(outDir, 'package', `${functionName}.zip`);
      const entries = zipEntries(zip);
      const handlerFile = entries.find((entry) => entry.name === `functions/${functionName}.js`);

      expect(statSync(zip).size).toBeGreaterThan(100 * 1024);
      expect(entries.map((entry) => entry.name)).toContain(`functions/${functionName}.js.map`);
      // SDK clients, Powertools, middy and zod are inside the handler: it requires nothing but Node (not
      // even the SDK the Lambda runtime carries), and no node_modules come along.
      expect(handlerFile?.size).toBeGreaterThan(300 * 1024);
      const code = handlerFile!.read().toString('utf8');
      expect(code).toMatch(/^"use strict";/);
      expect(unbundledRequires(code)).toEqual([]);
      expect(entries.filter((entry) => entry.name.startsWith('node_modules/'))).toEqual([]);
    }
  });

  it('routes each rule with the very pattern file the local twin routes with, into the buffer queue', () => {
    for (const rule of wiring.rules) {
      const properties = resource(`${rule.name}Rule`, 'AWS::Events::Rule').Properties;
      const pattern = JSON.parse(readFileSync(path.join(ROOT, rule.patternFile), 'utf8'));
      const targets = properties.Targets as { Arn: unknown }[];

      expect(properties.EventPattern).toEqual(pattern);
      expect(properties.State).toBe('ENABLED');
      expect(targets.map((target) => getAttArn(target.Arn))).toEqual([bufferQueueId()]);
      expect(eventBridgeSendersTo(bufferQueueId())).toContain(`${rule.name}Rule`);
    }
  });

  it('gives every rule target a retry policy and a dead-letter queue EventBridge may write to', () => {
    const rules = resourcesOf('AWS::Events::Rule');
    expect(rules.length).toBeGreaterThanOrEqual(wiring.rules.length + 1); // + the sweep's schedule

    for (const [ruleId, rule] of rules) {
      const targets = rule.Properties.Targets as {
        RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
        DeadLetterConfig?: { Arn: unknown };
      }[];
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target.RetryPolicy?.MaximumRetryAttempts).toEqual(expect.any(Number));
        expect(target.RetryPolicy?.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
        expect(target.RetryPolicy?.MaximumEventAgeInSeconds).toBeLessThanOrEqual(86_400);
        const dlq = getAttArn(target.DeadLetterConfig?.Arn);
        resource(dlq, 'AWS::SQS::Queue');
        expect(eventBridgeSendersTo(dlq)).toContain(ruleId);
      }
    }
  });

  it('buffers events in the queue the twin models, redriven to a dead-letter queue', () => {
    const buffer = resource(bufferQueueId(), 'AWS::SQS::Queue').Properties;
    const recycler = resource(functionLogicalId(wiring.functionName)).Properties;
    const redrive = buffer.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    const dlq = resource(getAttArn(redrive.deadLetterTargetArn), 'AWS::SQS::Queue').Properties;

    expect(buffer.QueueName).toMatch(new RegExp(`-${wiring.queue}$`));
    expect(buffer.VisibilityTimeout).toBe(wiring.visibilityTimeoutSeconds);
    expect(buffer.VisibilityTimeout).toBe(6 * (recycler.Timeout as number));
    expect(redrive.maxReceiveCount).toBe(wiring.maxReceiveCount);
    expect(buffer.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('feeds the recycler in batches of the twin size, one batch at a time, reporting partial failures', () => {
    const mappings = resourcesOf('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    const recycler = resource(functionLogicalId(wiring.functionName)).Properties;

    expect(getAttArn(mapping.Properties.FunctionName)).toBe(functionLogicalId(wiring.functionName));
    expect(mapping.Properties.BatchSize).toBe(wiring.batchSize);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(recycler.ReservedConcurrentExecutions).toBe(1);
  });

  it('sweeps at the twin rate, without retries, failures kept in a dead-letter queue', () => {
    const sweepId = functionLogicalId(wiring.sweepFunctionName);
    const schedules = resourcesOf('AWS::Events::Rule').filter(([, rule]) =>
      (rule.Properties.Targets as { Arn: unknown }[]).some((target) => getAttArn(target.Arn) === sweepId),
    );
    const [[, invokeConfig]] = resourcesOf('AWS::Lambda::EventInvokeConfig').filter(
      ([, config]) => refOf(config.Properties.FunctionName) === sweepId,
    ) as [[string, Resource]];
    const onFailure = (invokeConfig.Properties.DestinationConfig as { OnFailure: { Destination: unknown } })
      .OnFailure.Destination;

    expect(schedules).toHaveLength(1);
    expect(rateSeconds(schedules[0]![1].Properties.ScheduleExpression as string)).toBe(
      wiring.sweepRateSeconds,
    );
    expect(invokeConfig.Properties.MaximumRetryAttempts).toBe(0);
    resource(getAttArn(onFailure), 'AWS::SQS::Queue');
  });

  it('runs every function on nodejs22.x arm64, traced, with the configuration the code reads', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      [functionLogicalId(wiring.functionName), functionLogicalId(wiring.sweepFunctionName)].sort(),
    );
    const buffer = resource(bufferQueueId()).Properties;
    const bufferDlq = getAttArn(
      (buffer.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
    );

    for (const [id, fn] of functions) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const topic = resource(refOf(env.NOTIFY_TOPIC_ARN), 'AWS::SNS::Topic').Properties;

      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(refOf(env.RECHECK_QUEUE_URL)).toBe(bufferQueueId());
      expect(refOf(env.DEAD_LETTER_QUEUE_URL)).toBe(bufferDlq);
      expect(topic.KmsMasterKeyId).toBe('alias/aws/sns');
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('ecs-reflex');
      // What CloudFormation fills in is stood in for; the rest must pass the function's own config check.
      const config = loadRecyclerConfig({
        ...(env as Record<string, string>),
        RECHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buffer',
        DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq',
        NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:notifications',
      });
      expect({ id, clusters: config.clusters }).toEqual({ id, clusters: configuredClusters });
    }
  });

  it('gives every function a role of its own, assumable by Lambda only', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    const roles = functions.map(([, fn]) => getAttArn(fn.Properties.Role));

    expect(new Set(roles).size).toBe(functions.length);
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const roleId of roles) {
      const trust = statementsIn(resource(roleId, 'AWS::IAM::Role').Properties.AssumeRolePolicyDocument);
      expect(trust).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
  });

  it('never grants an action with a wildcard, anywhere in the template', () => {
    const statements = statementsIn(template.Resources);
    expect(statements.length).toBeGreaterThan(15);

    for (const statement of statements) {
      expect(statement.NotAction).toBeUndefined();
      expect(statement.NotResource).toBeUndefined();
      const wildcards = asList(statement.Action).filter((action) => action.includes('*'));
      if (statement.Effect === 'Allow') {
        expect({ sid: statement.Sid, wildcards }).toEqual({ sid: statement.Sid, wildcards: [] });
      } else {
        // The framework's deployment bucket policy denies every S3 action over plain HTTP: a wildcard that
        // takes rights away. Any other Deny must name its actions too.
        expect(wildcards.length === 0 || statement.Condition?.Bool?.['aws:SecureTransport'] === false).toBe(
          true,
        );
      }
    }
  });

  it('lets each role make exactly the calls the adapters make, plus what Lambda does with the role', () => {
    // The recycler acts through every adapter; the sweep only enqueues rechecks.
    const calls = {
      [wiring.functionName]: adapterActions(),
      [wiring.sweepFunctionName]: adapterActions(['sqsRechecks.ts']),
    };
    expect(calls[wiring.functionName]!.size).toBeGreaterThan(10);
    expect([...calls[wiring.sweepFunctionName]!]).toEqual(['sqs:SendMessage']);

    for (const functionName of [wiring.functionName, wiring.sweepFunctionName]) {
      const called = calls[functionName]!;
      const granted = new Set(roleStatements(roleOf(functionName)).flatMap((s) => asList(s.Action)));
      const missing = [...called].filter((action) => !granted.has(action));
      const unused = [...granted].filter((action) => !called.has(action) && !PLATFORM_ACTIONS.has(action));

      expect({ functionName, missing, unused }).toEqual({ functionName, missing: [], unused: [] });
    }
    const consume = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];
    const recyclerActions = roleStatements(roleOf(wiring.functionName)).flatMap((s) => asList(s.Action));
    const sweepActions = roleStatements(roleOf(wiring.sweepFunctionName)).flatMap((s) => asList(s.Action));
    expect(recyclerActions).toEqual(expect.arrayContaining(consume));
    expect(sweepActions.filter((action) => consume.includes(action))).toEqual([]);
  });

  it('scopes every grant to its resources, with `*` only where the service allows nothing else', () => {
    for (const functionName of [wiring.functionName, wiring.sweepFunctionName]) {
      const roleId = roleOf(functionName);
      for (const statement of roleStatements(roleId)) {
        const actions = asList(statement.Action);
        const resources = asList(statement.Resource);
        expect(resources.length).toBeGreaterThan(0);

        if (resources.includes('*')) {
          expect({ sid: statement.Sid, actions }).toEqual({
            sid: statement.Sid,
            actions: actions.filter((action) => STAR_RESOURCE_ACTIONS.has(action)),
          });
        }
        if (actions.some((action) => action.startsWith('logs:'))) {
          expect(resources.map(getAttArn)).toEqual([`${logicalIdOf(functionName)}LogGroup`]);
        }
        if (actions.includes('iam:PassRole')) {
          expect(statement.Condition?.StringEquals?.['iam:PassedToService']).toBe('ecs-tasks.amazonaws.com');
          expect(resources).not.toContain('*');
        }
        const ecsActions = actions.filter((action) => action.startsWith('ecs:'));
        if (ecsActions.length === 0) continue;

        // Every ECS grant names the configured clusters: in its resource ARNs, or in an ecs:cluster
        // condition where the resource (a task definition, or `*` for ListTasks) cannot.
        const clusterCondition = asList(statement.Condition?.ArnEquals?.['ecs:cluster']).map((arn) =>
          String((arn as { 'Fn::Sub'?: string })['Fn::Sub']),
        );
        const arns = resources.map((arn) =>
          arn === '*' ? '*' : String((arn as { 'Fn::Sub'?: string })['Fn::Sub']),
        );
        const inClusters = (arn: string) =>
          configuredClusters.some((cluster) =>
            new RegExp(`:(task|container-instance|service|service-revision)/${cluster}/\\*$`).test(arn),
          );
        const byArn = arns.every(inClusters);
        const byCondition =
          clusterCondition.length === configuredClusters.length &&
          configuredClusters.every((cluster) =>
            clusterCondition.some((arn) => arn.endsWith(`:cluster/${cluster}`)),
          );
        expect({ sid: statement.Sid, scoped: byArn || byCondition }).toEqual({
          sid: statement.Sid,
          scoped: true,
        });
      }
    }
  });
});
