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
import {
  lifecycleWiring as lifecycle,
  alarmReactorWiring as reactor,
  taskRecyclerWiring as recycler,
} from '#local/twin/wiring';
import { loadAlarmReactorConfig, loadLifecycleConfig, loadRecyclerConfig } from '#runtime/config';

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

/** The SQS event source mappings that feed a function. */
function mappingsOf(functionName: string): [string, Resource][] {
  return resourcesOf('AWS::Lambda::EventSourceMapping').filter(
    ([, mapping]) => getAttArn(mapping.Properties.FunctionName) === functionLogicalId(functionName),
  );
}

function bufferQueueId(): string {
  const [[, mapping]] = mappingsOf(recycler.functionName) as [[string, Resource]];
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

// --- which calls each function makes --------------------------------------------------------------------

const ADAPTERS_DIR = path.join(ROOT, 'layers/adapters/aws');

/** The `#adapters/aws/…` files a source file imports for their values (type-only imports build nothing). */
function adapterImports(source: string): string[] {
  return [...source.matchAll(/import\s+(?!type\s)[^;]*?from\s*'#adapters\/aws\/([\w-]+)'/g)].map(
    ([, name]) => `${name}.ts`,
  );
}

/**
 * The adapter files a function builds: the ports file its handler imports (recyclerPorts.ts,
 * alarmReactorPorts.ts), and every adapter that file imports, transitively.
 */
function adaptersOf(functionName: string): string[] {
  const found = new Set<string>();
  const queue = adapterImports(readFileSync(path.join(ROOT, 'functions', `${functionName}.ts`), 'utf8'));
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (found.has(file)) continue;
    found.add(file);
    queue.push(...adapterImports(readFileSync(path.join(ADAPTERS_DIR, file), 'utf8')));
  }
  return [...found].sort();
}

/** The IAM prefix of each SDK v3 client package the adapters use. */
const SDK_PREFIXES: Record<string, string> = {
  'client-app-mesh': 'appmesh',
  'client-application-auto-scaling': 'application-autoscaling',
  'client-auto-scaling': 'autoscaling',
  'client-cloudwatch': 'cloudwatch',
  'client-ecs': 'ecs',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-sfn': 'states',
  'client-sns': 'sns',
  'client-sqs': 'sqs',
};

/**
 * IAM actions for the SDK v3 commands the given adapter files send, e.g. `new ListTasksCommand(` ->
 * ecs:ListTasks. Renamed imports count by their SDK name (`PutScalingPolicyCommand as
 * PutServicePolicyCommand` from client-application-auto-scaling -> application-autoscaling:PutScalingPolicy).
 */
function adapterActions(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(path.join(ADAPTERS_DIR, file), 'utf8');
    const imported = new Map<string, { client: string; name: string }>();
    for (const [, names, client] of source.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/([\w-]+)'/g,
    )) {
      for (const entry of names!.split(',')) {
        const [name, alias] = entry
          .replace(/^\s*type\s+/, '')
          .trim()
          .split(/\s+as\s+/);
        if (name) imported.set(alias ?? name, { client: client!, name });
      }
    }
    for (const [, local] of source.matchAll(/new (\w+Command)\(/g)) {
      const found = imported.get(local!);
      const prefix = found ? SDK_PREFIXES[found.client] : undefined;
      if (!found || !prefix) throw new Error(`${file}: cannot tell which service ${local} belongs to`);
      actions.add(`${prefix}:${found.name.replace(/Command$/, '')}`);
    }
  }
  return actions;
}

/** The top-level functions of a source file, by name, with their text. */
function topLevelFunctions(source: string): Map<string, string> {
  const functions = new Map<string, string>();
  for (const match of source.matchAll(/^(?:export )?(?:async )?function (\w+)\(/gm)) {
    const end = source.indexOf('\n}\n', match.index);
    functions.set(match[1]!, source.slice(match.index, end < 0 ? undefined : end));
  }
  return functions;
}

/**
 * The ports a lifecycle function uses: `ports.x` in its handler, and in the use cases of
 * layers/app/instanceLifecycle.ts it calls, with the helpers those call, transitively.
 */
function lifecyclePortsUsedBy(functionName: string): Set<string> {
  const handler = readFileSync(path.join(ROOT, 'functions', `${functionName}.ts`), 'utf8');
  const app = topLevelFunctions(readFileSync(path.join(ROOT, 'layers/app/instanceLifecycle.ts'), 'utf8'));
  const calls = (text: string) => [...app.keys()].filter((name) => new RegExp(`\\b${name}\\(`).test(text));
  const reached = new Set<string>();
  const queue = calls(handler);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (reached.has(name)) continue;
    reached.add(name);
    queue.push(...calls(app.get(name)!));
  }
  const texts = [handler, ...[...reached].map((name) => app.get(name)!)];
  return new Set(texts.flatMap((text) => [...text.matchAll(/\bports\.(\w+)/g)].map(([, port]) => port!)));
}

/** The adapter file behind each lifecycle port, as layers/adapters/aws/lifecyclePorts.ts builds them. */
function lifecyclePortAdapters(): Map<string, string> {
  const source = readFileSync(path.join(ADAPTERS_DIR, 'lifecyclePorts.ts'), 'utf8');
  const fileOf = new Map(
    [...source.matchAll(/import\s*\{\s*(\w+)\s*\}\s*from\s*'#adapters\/aws\/([\w-]+)'/g)].map(
      ([, name, file]) => [name!, `${file}.ts`],
    ),
  );
  const adapters = new Map<string, string>();
  for (const [, port, adapter] of source.matchAll(/^\s*(\w+): [^\n]*?\bnew (\w+)\(/gm)) {
    const file = fileOf.get(adapter!);
    if (file) adapters.set(port!, file);
  }
  return adapters;
}

/** Lifecycle ports that make no AWS call of their own (the clock; the journal logs through Powertools). */
const LIFECYCLE_PORTS_WITHOUT_CALLS = ['clock', 'journal'];

/** The adapters whose calls each function's role grants. */
function adapterFilesOf(functionName: string): string[] {
  // The recycler's sweep builds the recycler's ports but only enqueues rechecks: the recycler stays the
  // one function that acts, so its sweep's role allows that one adapter (a subset, checked below).
  if (functionName === recycler.sweepFunctionName) return ['sqsRechecks.ts'];
  // Both lifecycle functions build all the lifecycle ports; each is granted the adapters of the ports its
  // code uses (a subset, checked below).
  if (functionName === lifecycle.intakeFunctionName || functionName === lifecycle.stepFunctionName) {
    const adapters = lifecyclePortAdapters();
    const used = [...lifecyclePortsUsedBy(functionName)].filter(
      (port) => !LIFECYCLE_PORTS_WITHOUT_CALLS.includes(port),
    );
    return used
      .map((port) => {
        const file = adapters.get(port);
        if (!file)
          throw new Error(`${functionName} uses port ${port}, which lifecyclePorts.ts builds no adapter for`);
        return file;
      })
      .sort();
  }
  return adaptersOf(functionName);
}

/** What the Lambda service does with every function's role: its logs and traces. */
const LAMBDA_ACTIONS = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
];
/** The SQS event source mapping's poller (the recycler's buffer queue). */
const SQS_POLLER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ChangeMessageVisibility',
];

/** Each role's actions beyond the calls its code makes. */
const PLATFORM_ACTIONS: Record<string, string[]> = {
  // RunTask and UpdateService (to another revision) pass the task definition's roles.
  [recycler.functionName]: [...LAMBDA_ACTIONS, ...SQS_POLLER_ACTIONS, 'iam:PassRole'],
  [recycler.sweepFunctionName]: LAMBDA_ACTIONS,
  // The alarm reactor's UpdateService sets a desired count only: no role passes.
  [reactor.functionName]: LAMBDA_ACTIONS,
  // The lifecycle intake also reads the notification queue.
  [lifecycle.intakeFunctionName]: [...LAMBDA_ACTIONS, ...SQS_POLLER_ACTIONS],
  [lifecycle.stepFunctionName]: LAMBDA_ACTIONS,
};

/** The alarm reactor's sweep is its own schedule, not a function: five functions in all. */
const ALL_FUNCTIONS = [
  recycler.functionName,
  recycler.sweepFunctionName,
  reactor.functionName,
  lifecycle.intakeFunctionName,
  lifecycle.stepFunctionName,
];

/**
 * Actions whose service defines no resource type for them (or, for ListTasks, none a Fargate task has; for
 * DescribeAlarms, none that still returns composite alarms).
 */
const STAR_RESOURCE_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'elasticloadbalancing:DescribeTargetHealth',
  'ecs:ListTasks',
  'cloudwatch:DescribeAlarms',
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribePolicies',
  'autoscaling:DescribeTags',
  'autoscaling:DescribeLifecycleHooks',
  'application-autoscaling:DescribeScalableTargets',
  'application-autoscaling:DescribeScalingPolicies',
]);

/** The tag keys the alarm reactor keeps its memory in (layers/adapters/aws/tagReactionMemory.ts). */
const REACTOR_TAG_KEYS = ['ecs-reflex:reaction:*', 'ecs-reflex:last-change'];

const stageConfig = JSON.parse(readFileSync(path.join(ROOT, 'infra/stages', `${STAGE}.json`), 'utf8')) as {
  clusters: string;
  alarmReactions: string;
  lifecycleHooks: string;
  deregisterTargetGroupArns?: string[];
  autoScalingGroupNames: string[];
  alarmNamePrefixes: string[];
};
const configuredClusters = stageConfig.clusters.split(',').map((name) => name.trim());

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS.
const ACCOUNT_ARN = 'arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}';
/** An ARN of this account and region as infra/stageConfig.js writes it, e.g. `arn:${AWS::Partition}:ecs:…`. */
const accountArn = (service: string, resource: string) => `${ACCOUNT_ARN.replace('%s', service)}:${resource}`;

/** The text of a `{ "Fn::Sub": text }` ARN, or `*`. */
const subText = (arn: unknown) => (arn === '*' ? '*' : String((arn as { 'Fn::Sub'?: string })['Fn::Sub']));

/** The asynchronous invocation config of a function, and the queue its failures go to. */
function invokeConfigOf(functionName: string): { retries: unknown; onFailure: string } {
  const id = functionLogicalId(functionName);
  const configs = resourcesOf('AWS::Lambda::EventInvokeConfig').filter(
    ([, config]) => refOf(config.Properties.FunctionName) === id,
  );
  expect(configs).toHaveLength(1);
  const properties = configs[0]![1].Properties;
  const onFailure = (properties.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure
    .Destination;
  return { retries: properties.MaximumRetryAttempts, onFailure: getAttArn(onFailure) };
}

/** The workflow's state machine, as serverless-step-functions generates it. */
const STATE_MACHINE_ID = 'InstanceLifecycle';
/** The placeholder the ASL file holds for the step function's ARN. */
const STEP_ARN_PLACEHOLDER = ['$', '{InstanceLifecycleStepFunctionArn}'].join('');

function stateMachineRoleId(): string {
  return getAttArn(resource(STATE_MACHINE_ID, 'AWS::StepFunctions::StateMachine').Properties.RoleArn);
}

/** The rules whose targets invoke a function. */
function rulesInvoking(functionName: string): [string, Resource][] {
  const id = functionLogicalId(functionName);
  return resourcesOf('AWS::Events::Rule').filter(([, rule]) =>
    (rule.Properties.Targets as { Arn: unknown }[]).some((target) => getAttArn(target.Arn) === id),
  );
}

// --- the checks -----------------------------------------------------------------------------------------

describe('serverless package (offline, no AWS credentials)', () => {
  it('packages each function as one bundle of its own, the AWS SDK inside', () => {
    const zips = readdirSync(path.join(outDir, 'package')).filter((name) => name.endsWith('.zip'));
    expect(zips.sort()).toEqual(ALL_FUNCTIONS.map((name) => `${name}.zip`).sort());

    for (const functionName of ALL_FUNCTIONS) {
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

  it('routes each recycler rule with the very pattern file the local twin routes with, into the buffer queue', () => {
    for (const rule of recycler.rules) {
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
    // The recycler's rules, the alarm reactor's rule, and the two schedules (the recycler's sweep function,
    // the alarm reactor's sweep).
    expect(rules.length).toBeGreaterThanOrEqual(recycler.rules.length + 3);

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
    const recyclerFn = resource(functionLogicalId(recycler.functionName)).Properties;
    const redrive = buffer.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    const dlq = resource(getAttArn(redrive.deadLetterTargetArn), 'AWS::SQS::Queue').Properties;

    expect(buffer.QueueName).toMatch(new RegExp(`-${recycler.queue}$`));
    expect(buffer.VisibilityTimeout).toBe(recycler.visibilityTimeoutSeconds);
    expect(buffer.VisibilityTimeout).toBe(6 * (recyclerFn.Timeout as number));
    expect(redrive.maxReceiveCount).toBe(recycler.maxReceiveCount);
    expect(buffer.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('feeds the recycler in batches of the twin size, one batch at a time, reporting partial failures', () => {
    const mappings = mappingsOf(recycler.functionName);
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    const recyclerFn = resource(functionLogicalId(recycler.functionName)).Properties;

    expect(getAttArn(mapping.Properties.FunctionName)).toBe(functionLogicalId(recycler.functionName));
    expect(mapping.Properties.BatchSize).toBe(recycler.batchSize);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(recyclerFn.ReservedConcurrentExecutions).toBe(1);
  });

  it('sweeps the task recycler at the twin rate, without retries, failures kept in a dead-letter queue', () => {
    const schedules = rulesInvoking(recycler.sweepFunctionName);
    const { retries, onFailure } = invokeConfigOf(recycler.sweepFunctionName);

    expect(schedules).toHaveLength(1);
    expect(rateSeconds(schedules[0]![1].Properties.ScheduleExpression as string)).toBe(
      recycler.sweepRateSeconds,
    );
    expect(retries).toBe(0);
    resource(onFailure, 'AWS::SQS::Queue');
  });

  it('sweeps the alarm reactor from the reactor itself, at the twin rate, under its one-at-a-time lock', () => {
    const reactorId = functionLogicalId(reactor.functionName);
    const schedules = rulesInvoking(reactor.functionName).filter(
      ([, rule]) => rule.Properties.ScheduleExpression !== undefined,
    );
    expect(schedules).toHaveLength(1);
    const [[scheduleId, schedule]] = schedules as [[string, Resource]];
    const targets = schedule.Properties.Targets as {
      Arn: unknown;
      Input?: unknown;
      InputPath?: unknown;
      InputTransformer?: unknown;
      RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      DeadLetterConfig?: { Arn: unknown };
    }[];
    const alarmRule = resource(`${reactor.rule.name}Rule`, 'AWS::Events::Rule').Properties;
    const alarmRuleDlq = getAttArn(
      (alarmRule.Targets as { DeadLetterConfig?: { Arn: unknown } }[])[0]!.DeadLetterConfig?.Arn,
    );

    expect(rateSeconds(schedule.Properties.ScheduleExpression as string)).toBe(reactor.sweepRateSeconds);
    expect(schedule.Properties.State).toBe('ENABLED');
    expect(targets.map((target) => getAttArn(target.Arn))).toEqual([reactorId]);
    // The handler tells a sweep by the Scheduled Event itself (source aws.events): nothing replaces it.
    expect(targets[0]!.Input).toBeUndefined();
    expect(targets[0]!.InputPath).toBeUndefined();
    expect(targets[0]!.InputTransformer).toBeUndefined();
    // EventBridge retries a tick it cannot hand over, until the next one supersedes it, then keeps it in
    // the reactor's rule dead-letter queue.
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(targets[0]!.RetryPolicy?.MaximumEventAgeInSeconds).toBeLessThanOrEqual(reactor.sweepRateSeconds);
    expect(getAttArn(targets[0]!.DeadLetterConfig?.Arn)).toBe(alarmRuleDlq);
    expect(eventBridgeSendersTo(alarmRuleDlq)).toContain(scheduleId);

    // One function, so the sweep is under the reactor's reserved concurrency of 1: it cannot put a knob
    // back while an alarm event acts on it. No sweep function, role or log group of its own.
    expect(resource(reactorId, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions).toBe(1);
    expect(Object.keys(template.Resources).filter((id) => id.startsWith('AlarmReactorSweep'))).toEqual([]);
  });

  it('invokes the alarm reactor straight from its rule, with the very pattern file the twin routes with', () => {
    const ruleId = `${reactor.rule.name}Rule`;
    const rule = resource(ruleId, 'AWS::Events::Rule').Properties;
    const pattern = JSON.parse(readFileSync(path.join(ROOT, reactor.rule.patternFile), 'utf8'));
    const targets = rule.Targets as {
      Arn: unknown;
      RetryPolicy?: { MaximumRetryAttempts?: number };
      DeadLetterConfig?: { Arn: unknown };
    }[];
    const reactorId = functionLogicalId(reactor.functionName);

    expect(rule.EventPattern).toEqual(pattern);
    expect(rule.State).toBe('ENABLED');
    expect(targets.map((target) => getAttArn(target.Arn))).toEqual([reactorId]);
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
    const ruleDlq = getAttArn(targets[0]!.DeadLetterConfig?.Arn);
    expect(resource(ruleDlq, 'AWS::SQS::Queue').Properties.SqsManagedSseEnabled).toBe(true);
    // The two rules that invoke it: this one, and the schedule that drives its sweep.
    const invokers = rulesInvoking(reactor.functionName).map(([id]) => id);
    const [scheduleId] = invokers.filter((id) => id !== ruleId);
    expect(invokers.sort()).toEqual([ruleId, scheduleId!].sort());
    expect(resource(scheduleId!).Properties.EventPattern).toBeUndefined();
    expect(eventBridgeSendersTo(ruleDlq).sort()).toEqual([ruleId, scheduleId!].sort());

    // EventBridge may invoke the reactor from these two rules only.
    const permissions = resourcesOf('AWS::Lambda::Permission').filter(
      ([, permission]) => getAttArn(permission.Properties.FunctionName) === reactorId,
    );
    expect(
      permissions
        .map(([, permission]) => permission.Properties)
        .sort((a, b) => getAttArn(a.SourceArn).localeCompare(getAttArn(b.SourceArn))),
    ).toEqual(
      [ruleId, scheduleId!].sort().map((sourceId) => ({
        FunctionName: { 'Fn::GetAtt': [reactorId, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [sourceId, 'Arn'] },
      })),
    );
  });

  it('retries the alarm reactor as often as the twin does, one invocation at a time, then keeps the event', () => {
    const reactorFn = resource(functionLogicalId(reactor.functionName)).Properties;
    const env = (reactorFn.Environment as { Variables: Record<string, unknown> }).Variables;
    const { retries, onFailure } = invokeConfigOf(reactor.functionName);
    const dlq = resource(onFailure, 'AWS::SQS::Queue').Properties;

    expect(retries).toBe(reactor.retryAttempts);
    expect(reactorFn.ReservedConcurrentExecutions).toBe(1);
    // Failed invocations (alarm events and sweeps alike) and rejected input all land in the one
    // dead-letter queue.
    expect(refOf(env.DEAD_LETTER_QUEUE_URL)).toBe(onFailure);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('runs every function on nodejs22.x arm64, traced, with the configuration the code reads', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(ALL_FUNCTIONS.map(functionLogicalId).sort());
    const buffer = resource(bufferQueueId()).Properties;
    const bufferDlq = getAttArn(
      (buffer.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
    );

    for (const [id, fn] of functions) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('ecs-reflex');
      // What CloudFormation fills in is stood in for; the rest must pass the function's own config check.
      const standIns = {
        DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/dlq',
        RECHECK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/buffer',
        NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:notifications',
      };

      if (id.startsWith('LifecycleHook') || id.startsWith('InstanceLifecycleStep')) {
        expect(env.LIFECYCLE_HOOKS).toBe(stageConfig.lifecycleHooks);
        expect(refOf(env.DEAD_LETTER_QUEUE_URL)).toBe(invokeConfigOf(lifecycle.intakeFunctionName).onFailure);
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        // The intake starts executions of the state machine; the step cannot name it by Ref (the state
        // machine names the step), so it gets the same machine's ARN, written out from its name.
        const machineName = resource('InstanceLifecycle').Properties.StateMachineName;
        if (id.startsWith('LifecycleHook')) expect(refOf(env.STATE_MACHINE_ARN)).toBe('InstanceLifecycle');
        else expect(subText(env.STATE_MACHINE_ARN)).toMatch(new RegExp(`:stateMachine:${machineName}$`));
        const config = loadLifecycleConfig({
          ...(env as Record<string, string>),
          ...standIns,
          STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:111122223333:stateMachine:${machineName}`,
        });
        expect({ id, hooks: config.hooks.length }).toEqual({
          id,
          hooks: JSON.parse(stageConfig.lifecycleHooks).length,
        });
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
      } else if (id.startsWith('TaskRecycler')) {
        const topic = resource(refOf(env.NOTIFY_TOPIC_ARN), 'AWS::SNS::Topic').Properties;
        expect(refOf(env.RECHECK_QUEUE_URL)).toBe(bufferQueueId());
        expect(refOf(env.DEAD_LETTER_QUEUE_URL)).toBe(bufferDlq);
        expect(topic.KmsMasterKeyId).toBe('alias/aws/sns');
        const config = loadRecyclerConfig({ ...(env as Record<string, string>), ...standIns });
        expect({ id, clusters: config.clusters }).toEqual({ id, clusters: configuredClusters });
      } else {
        expect(Object.keys(env).sort()).toEqual(
          expect.arrayContaining(['ALARM_REACTIONS', 'AWS_MAX_ATTEMPTS', 'DEAD_LETTER_QUEUE_URL', 'DRY_RUN']),
        );
        expect(env.RECHECK_QUEUE_URL).toBeUndefined();
        expect(env.ALARM_REACTIONS).toBe(stageConfig.alarmReactions);
        resource(refOf(env.DEAD_LETTER_QUEUE_URL), 'AWS::SQS::Queue');
        const config = loadAlarmReactorConfig({
          ...(env as Record<string, string>),
          DEAD_LETTER_QUEUE_URL: standIns.DEAD_LETTER_QUEUE_URL,
        });
        expect({ id, reactions: config.reactions.length }).toEqual({
          id,
          reactions: JSON.parse(stageConfig.alarmReactions).length,
        });
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
      }
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
    expect(statements.length).toBeGreaterThan(25);
    // The alarm reactor's, the lifecycle functions' and the workflow's roles are among them.
    expect(roleStatements(roleOf(reactor.functionName)).length).toBeGreaterThan(5);
    expect(roleStatements(roleOf(lifecycle.intakeFunctionName)).length).toBeGreaterThan(3);
    expect(roleStatements(roleOf(lifecycle.stepFunctionName)).length).toBeGreaterThan(8);
    expect(roleStatements(stateMachineRoleId()).length).toBeGreaterThan(0);

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

  it('derives each role from the adapters its function builds', () => {
    const recyclerAdapters = adaptersOf(recycler.functionName);
    const reactorAdapters = adaptersOf(reactor.functionName);

    expect(recyclerAdapters).toContain('recyclerPorts.ts');
    expect(reactorAdapters).toEqual(
      expect.arrayContaining([
        'alarmReactorPorts.ts',
        'cloudWatchAlarmStates.ts',
        'scalingControls.ts',
        'tagReactionMemory.ts',
        'sqsDeadLetters.ts',
      ]),
    );
    // Neither reflex is granted the other's adapters.
    expect(recyclerAdapters.filter((file) => reactorAdapters.includes(file))).toEqual(['sqsDeadLetters.ts']);
    // The recycler's sweep is granted a part of what its ports file builds.
    expect(adaptersOf(recycler.sweepFunctionName)).toEqual(
      expect.arrayContaining(adapterFilesOf(recycler.sweepFunctionName)),
    );

    // Both lifecycle functions build the lifecycle ports; each is granted the adapters of the ports its
    // code uses: the intake starts workflows and parks input, the step does everything else.
    const lifecycleAdapters = [
      'autoScalingLifecycleActions.ts',
      'ecsContainerInstances.ts',
      'elbInstanceTargets.ts',
      'lifecyclePorts.ts',
      'sfnWorkflows.ts',
      'snsNotifier.ts',
      'sqsDeadLetters.ts',
    ];
    for (const functionName of [lifecycle.intakeFunctionName, lifecycle.stepFunctionName]) {
      expect(adaptersOf(functionName)).toEqual(expect.arrayContaining(lifecycleAdapters));
      expect(adaptersOf(functionName)).toEqual(expect.arrayContaining(adapterFilesOf(functionName)));
    }
    expect([...lifecyclePortsUsedBy(lifecycle.intakeFunctionName)].sort()).toEqual([
      'deadLetters',
      'workflows',
    ]);
    expect(adapterFilesOf(lifecycle.intakeFunctionName)).toEqual(['sfnWorkflows.ts', 'sqsDeadLetters.ts']);
    expect(adapterFilesOf(lifecycle.stepFunctionName)).toEqual([
      'autoScalingLifecycleActions.ts',
      'ecsContainerInstances.ts',
      'elbInstanceTargets.ts',
      'snsNotifier.ts',
    ]);
  });

  it('lets each role make exactly the calls its adapters make, plus what Lambda does with the role', () => {
    const calls = Object.fromEntries(
      ALL_FUNCTIONS.map((name) => [name, adapterActions(adapterFilesOf(name))]),
    );
    expect(calls[recycler.functionName]!.size).toBeGreaterThan(10);
    expect([...calls[recycler.sweepFunctionName]!]).toEqual(['sqs:SendMessage']);
    expect([...calls[reactor.functionName]!].sort()).toEqual(
      [
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:DescribeScalingPolicies',
        'application-autoscaling:PutScalingPolicy',
        'application-autoscaling:RegisterScalableTarget',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DeleteTags',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribePolicies',
        'autoscaling:DescribeTags',
        'autoscaling:PutScalingPolicy',
        'autoscaling:SetDesiredCapacity',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:ListTagsForResource',
        'ecs:DescribeServices',
        'ecs:TagResource',
        'ecs:UntagResource',
        'ecs:UpdateService',
        'sqs:SendMessage',
      ].sort(),
    );
    expect([...calls[lifecycle.intakeFunctionName]!].sort()).toEqual([
      'sqs:SendMessage',
      'states:StartExecution',
    ]);
    expect([...calls[lifecycle.stepFunctionName]!].sort()).toEqual(
      [
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:RecordLifecycleActionHeartbeat',
        'ecs:DescribeCapacityProviders',
        'ecs:DescribeContainerInstances',
        'ecs:DescribeTasks',
        'ecs:ListContainerInstances',
        'ecs:ListTasks',
        'ecs:StopTask',
        'ecs:UpdateContainerInstancesState',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:RegisterTargets',
        'sns:Publish',
      ].sort(),
    );

    for (const functionName of ALL_FUNCTIONS) {
      const called = calls[functionName]!;
      const platform = PLATFORM_ACTIONS[functionName]!;
      const granted = new Set(roleStatements(roleOf(functionName)).flatMap((s) => asList(s.Action)));
      const missing = [...called, ...platform].filter((action) => !granted.has(action));
      const unused = [...granted].filter((action) => !called.has(action) && !platform.includes(action));

      expect({ functionName, missing, unused }).toEqual({ functionName, missing: [], unused: [] });
    }
  });

  it('scopes every grant to its resources, with `*` only where the service allows nothing else', () => {
    const groupArns = stageConfig.autoScalingGroupNames.map((name) =>
      accountArn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`),
    );
    const alarmArns = stageConfig.alarmNamePrefixes.map((prefix) =>
      accountArn('cloudwatch', `alarm:${prefix}*`),
    );
    const targetGroupArns = stageConfig.deregisterTargetGroupArns ?? [
      accountArn('elasticloadbalancing', 'targetgroup/*'),
    ];

    for (const functionName of ALL_FUNCTIONS) {
      const roleId = roleOf(functionName);
      for (const statement of roleStatements(roleId)) {
        const actions = asList(statement.Action);
        const resources = asList(statement.Resource);
        const arns = resources.map(subText);
        const sid = statement.Sid;
        expect(resources.length).toBeGreaterThan(0);

        if (resources.includes('*')) {
          expect({ sid, actions }).toEqual({
            sid,
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
        if (actions.includes('sqs:SendMessage')) {
          for (const queue of resources) resource(getAttArn(queue), 'AWS::SQS::Queue');
        }
        // Writes to Auto Scaling groups: the configured groups, by name, and nothing else.
        const groupWrites = actions.filter(
          (action) => action.startsWith('autoscaling:') && !STAR_RESOURCE_ACTIONS.has(action),
        );
        if (groupWrites.length > 0) {
          expect({ sid, arns }).toEqual({ sid, arns: groupArns });
        }
        // Tags are the alarm reactor's memory: its own tag keys only.
        if (
          actions.some((action) =>
            /^(autoscaling:(CreateOrUpdate|Delete)Tags|ecs:(Untag|Tag)Resource)$/.test(action),
          )
        ) {
          if (functionName.startsWith('alarmReactor')) {
            expect(statement.Condition?.['ForAllValues:StringLike']?.['aws:TagKeys']).toEqual(
              REACTOR_TAG_KEYS,
            );
          }
        }
        // Target writes: the stage's target groups (stageConfig.js keeps the hooks' groups inside them).
        if (actions.some((action) => /^elasticloadbalancing:(Register|Deregister)Targets$/.test(action))) {
          expect({ sid, arns }).toEqual({ sid, arns: targetGroupArns });
        }
        if (actions.includes('states:StartExecution')) {
          expect({ sid, machines: resources.map(refOf) }).toEqual({ sid, machines: ['InstanceLifecycle'] });
        }
        if (actions.includes('sns:Publish')) {
          expect({ sid, topics: resources.map(refOf) }).toEqual({
            sid,
            topics: ['TaskRecyclerNotificationTopic'],
          });
        }
        if (actions.includes('cloudwatch:ListTagsForResource')) {
          expect({ sid, arns }).toEqual({ sid, arns: alarmArns });
        }
        // Scalable targets are named by an opaque id: only ECS service desired counts.
        const scalingWrites = actions.filter(
          (action) => action.startsWith('application-autoscaling:') && !STAR_RESOURCE_ACTIONS.has(action),
        );
        if (scalingWrites.length > 0) {
          expect(arns).toEqual([accountArn('application-autoscaling', 'scalable-target/*')]);
          expect(statement.Condition?.StringEquals).toEqual({
            'application-autoscaling:service-namespace': 'ecs',
            'application-autoscaling:scalable-dimension': 'ecs:service:DesiredCount',
          });
        }

        // Capacity providers belong to no cluster: the account's and region's, read-only, in a statement
        // of their own.
        if (actions.includes('ecs:DescribeCapacityProviders')) {
          expect({ sid, actions, arns }).toEqual({
            sid,
            actions: ['ecs:DescribeCapacityProviders'],
            arns: [accountArn('ecs', 'capacity-provider/*')],
          });
          continue;
        }
        const ecsActions = actions.filter((action) => action.startsWith('ecs:'));
        if (ecsActions.length === 0) continue;

        // Every ECS grant names the configured clusters: in its resource ARNs, or in an ecs:cluster
        // condition where the resource (a task definition, or `*` for ListTasks) cannot.
        const clusterCondition = asList(statement.Condition?.ArnEquals?.['ecs:cluster']).map(subText);
        const inClusters = (arn: string) =>
          configuredClusters.some((cluster) =>
            new RegExp(
              `:((task|container-instance|service|service-revision)/${cluster}/\\*|cluster/${cluster})$`,
            ).test(arn),
          );
        const byArn = arns.every(inClusters);
        const byCondition =
          clusterCondition.length === configuredClusters.length &&
          configuredClusters.every((cluster) =>
            clusterCondition.some((arn) => arn.endsWith(`:cluster/${cluster}`)),
          );
        expect({ sid, scoped: byArn || byCondition }).toEqual({ sid, scoped: true });
      }
    }
    // The alarm reactor's dead letters go to its own queue, not the recycler's.
    const reactorQueues = roleStatements(roleOf(reactor.functionName))
      .filter((s) => asList(s.Action).includes('sqs:SendMessage'))
      .flatMap((s) => asList(s.Resource).map(getAttArn));
    expect(reactorQueues).toEqual([invokeConfigOf(reactor.functionName).onFailure]);
    // The lifecycle intake's to its own; the step parks nothing.
    const queuesOf = (functionName: string) =>
      roleStatements(roleOf(functionName))
        .filter((s) => asList(s.Action).includes('sqs:SendMessage'))
        .flatMap((s) => asList(s.Resource).map(getAttArn));
    expect(queuesOf(lifecycle.intakeFunctionName)).toEqual([
      invokeConfigOf(lifecycle.intakeFunctionName).onFailure,
    ]);
    expect(queuesOf(lifecycle.stepFunctionName)).toEqual([]);
  });
});

describe('serverless package: the instance lifecycle reflex', () => {
  const aslFile = () => readFileSync(path.join(ROOT, lifecycle.definitionFile), 'utf8');

  it('deploys the ASL file the twin runs as a standard state machine, the step function filled in by CloudFormation', () => {
    const machine = resource(STATE_MACHINE_ID, 'AWS::StepFunctions::StateMachine').Properties;
    const definition = machine.DefinitionString;
    const substitutions = machine.DefinitionSubstitutions as Record<string, unknown>;
    // What CloudFormation does with DefinitionSubstitutions, with a stand-in for the function's ARN.
    const standIn = 'arn:aws:lambda:eu-west-1:111122223333:function:ecs-reflex-dev-instanceLifecycleStep';
    const substituted = (text: string) => text.replaceAll(STEP_ARN_PLACEHOLDER, standIn);

    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.StateMachineName).toMatch(new RegExp(`-${STAGE}-${lifecycle.stateMachine}$`));
    // A plain string: no Fn::Sub of the plugin's, so `${…}` is left to DefinitionSubstitutions alone.
    expect(typeof definition).toBe('string');
    expect(substitutions).toEqual({
      InstanceLifecycleStepFunctionArn: {
        'Fn::GetAtt': [functionLogicalId(lifecycle.stepFunctionName), 'Arn'],
      },
    });
    // Every placeholder in the packaged definition is one CloudFormation fills in.
    const placeholders = [...(definition as string).matchAll(/\$\{([^}]+)\}/g)].map(([, name]) => name);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(substitutions)));
    expect(JSON.parse(substituted(definition as string))).toEqual(JSON.parse(substituted(aslFile())));
    // Neither logging nor tracing: the role needs no statement for them.
    expect(machine.LoggingConfiguration).toBeUndefined();
    expect(machine.TracingConfiguration).toBeUndefined();
  });

  it('lets the workflow invoke the step function, its versions and aliases, and nothing else', () => {
    const roleId = stateMachineRoleId();
    const role = resource(roleId, 'AWS::IAM::Role').Properties;
    const stepId = functionLogicalId(lifecycle.stepFunctionName);

    expect(statementsIn(role.AssumeRolePolicyDocument)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(roleStatements(roleId).map(({ Sid, ...statement }) => statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [{ 'Fn::GetAtt': [stepId, 'Arn'] }, { 'Fn::Sub': `\${${stepId}.Arn}:*` }],
      },
    ]);
    // No other role may invoke the step, and nothing else invokes it: no permission, rule or queue.
    const otherInvokes = resourcesOf('AWS::IAM::Role')
      .filter(([id]) => id !== roleId)
      .flatMap(([id]) => roleStatements(id))
      .filter((statement) => asList(statement.Action).includes('lambda:InvokeFunction'));
    expect(otherInvokes).toEqual([]);
    expect(
      resourcesOf('AWS::Lambda::Permission').filter(
        ([, permission]) => getAttArn(permission.Properties.FunctionName) === stepId,
      ),
    ).toEqual([]);
    expect(rulesInvoking(lifecycle.stepFunctionName)).toEqual([]);
    expect(mappingsOf(lifecycle.stepFunctionName)).toEqual([]);
    expect(resource(stepId, 'AWS::Lambda::Function').Properties.Timeout).toBe(30);
  });

  it('sends lifecycle actions from EventBridge to the intake, with the very pattern file the twin routes with', () => {
    const ruleId = `${lifecycle.rule.name}Rule`;
    const rule = resource(ruleId, 'AWS::Events::Rule').Properties;
    const pattern = JSON.parse(readFileSync(path.join(ROOT, lifecycle.rule.patternFile), 'utf8'));
    const targets = rule.Targets as {
      Arn: unknown;
      RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      DeadLetterConfig?: { Arn: unknown };
    }[];
    const intakeId = functionLogicalId(lifecycle.intakeFunctionName);

    expect(rule.EventPattern).toEqual(pattern);
    expect(rule.State).toBe('ENABLED');
    expect(targets.map((target) => getAttArn(target.Arn))).toEqual([intakeId]);
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
    const ruleDlq = getAttArn(targets[0]!.DeadLetterConfig?.Arn);
    expect(resource(ruleDlq, 'AWS::SQS::Queue').Properties.SqsManagedSseEnabled).toBe(true);
    expect(eventBridgeSendersTo(ruleDlq)).toEqual([ruleId]);
    expect(rulesInvoking(lifecycle.intakeFunctionName).map(([id]) => id)).toEqual([ruleId]);
    // EventBridge may invoke the intake from this rule only.
    expect(
      resourcesOf('AWS::Lambda::Permission')
        .filter(([, permission]) => getAttArn(permission.Properties.FunctionName) === intakeId)
        .map(([, permission]) => permission.Properties),
    ).toEqual([
      {
        FunctionName: { 'Fn::GetAtt': [intakeId, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });

  it('reads the notification form from its queue in batches of 10, reporting partial failures', () => {
    const mappings = mappingsOf(lifecycle.intakeFunctionName);
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    const queueId = getAttArn(mapping.Properties.EventSourceArn);
    const queue = resource(queueId, 'AWS::SQS::Queue').Properties;
    const redrive = queue.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    const intake = resource(functionLogicalId(lifecycle.intakeFunctionName)).Properties;

    expect(queueId).toBe('LifecycleNotificationQueue');
    expect(queue.QueueName).toMatch(new RegExp(`-${lifecycle.notificationQueue}$`));
    expect(mapping.Properties.BatchSize).toBe(lifecycle.batchSize);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(queue.VisibilityTimeout).toBe(6 * (intake.Timeout as number));
    expect(queue.VisibilityTimeout).toBe(lifecycle.visibilityTimeoutSeconds);
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(redrive.maxReceiveCount).toBe(lifecycle.maxReceiveCount);
    const dlq = resource(getAttArn(redrive.deadLetterTargetArn), 'AWS::SQS::Queue').Properties;
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    // The poller's actions on this queue, in the intake's role.
    const poller = roleStatements(roleOf(lifecycle.intakeFunctionName)).filter((s) =>
      asList(s.Action).includes('sqs:ReceiveMessage'),
    );
    expect(poller.flatMap((s) => asList(s.Resource).map(getAttArn))).toEqual([queueId]);
  });

  it('retries the intake as often as the twin does, then keeps the event', () => {
    const { retries, onFailure } = invokeConfigOf(lifecycle.intakeFunctionName);
    const dlq = resource(onFailure, 'AWS::SQS::Queue').Properties;

    expect(retries).toBe(lifecycle.retryAttempts);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });
});
