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
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG } from '#adapters/aws/routeMarks';
import { type Access, opsRoutes } from '#events/opsApi';
import {
  functionTimeoutSeconds,
  lifecycleWiring as lifecycle,
  alarmReactorWiring as reactor,
  taskRecyclerWiring as recycler,
  rolloutWiring as rollout,
} from '#local/twin/wiring';
import {
  loadAlarmReactorConfig,
  loadDeploymentHookConfig,
  loadLifecycleConfig,
  loadOpsConfig,
  loadRecyclerConfig,
  loadRolloutConfig,
  loadRouterConfig,
} from '#runtime/config';
import { hookServicesInvoking } from '#wiring/deploymentHook';
import { JOURNALED_REFLEXES } from '#wiring/ops';
import {
  ADAPTERS_DIR,
  adaptersOf,
  aslActions,
  codeActions,
  type Entry,
  fileActions,
  handlerOf,
  journaledReflexes,
  methodActions,
  portAdapters,
  portMethodsOf,
  unreachedJournalRecords,
} from './codeActions';
import {
  ACCESS_LEVELS,
  allStatements,
  anyResourceFindings,
  isWrite,
  type Need,
  READS_ON_ANY_RESOURCE,
  type Resource,
  rolePermissionFindings,
  type Statement,
  type Template,
  WRITES_ON_ANY_RESOURCE,
  wildcardActionFindings,
} from './leastPrivilege';

const ROOT = path.resolve(__dirname, '../..');
const STAGE = 'dev';
const PACKAGE_TIMEOUT_MS = 240_000;
/** The project's own framework, run without npx (a second each time to find it). */
const SERVERLESS = path.join(ROOT, 'node_modules', '.bin', 'serverless');

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
    execFileSync(process.execPath, [SERVERLESS, 'package', '--stage', STAGE, '--package', packageDir], {
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

/** The queue EventBridge and the rechecks feed: the router's event source. */
function bufferQueueId(): string {
  const [[, mapping]] = mappingsOf(recycler.routerFunctionName) as [[string, Resource]];
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

// --- which calls each function makes, and what each role needs -----------------------------------------
//
// The derivation from the code is test/infra/codeActions.ts; the three checks on a template are
// test/infra/leastPrivilege.ts. What is left here: where the derivation enters each function, and what a
// role needs beyond its code's calls, read from the template (what Lambda does with the role) or from the
// Service Authorization Reference (actions another action depends on).

/** The ops API's two functions, by what they serve, and the one handler file they share. */
const OPS_FUNCTIONS: Record<Access, string> = { read: 'opsRead', write: 'opsWrite' };
const OPS_HANDLER_FILE = 'opsApi';
const opsAccessOf = (functionName: string) =>
  (Object.entries(OPS_FUNCTIONS) as [Access, string][]).find(([, name]) => name === functionName)?.[0];

/** A function's handler file in functions/, without `.ts`: its own name, but for the ops API's two. */
const handlerFileOf = (functionName: string) => (opsAccessOf(functionName) ? OPS_HANDLER_FILE : functionName);

/** The top-level functions of a source file, by name, with their text. */
function topLevelFunctions(source: string): Map<string, string> {
  const functions = new Map<string, string>();
  for (const match of source.matchAll(/^(?:export )?(?:async )?function (\w+)\(/gm)) {
    const end = source.indexOf('\n}\n', match.index);
    functions.set(match[1]!, source.slice(match.index, end < 0 ? undefined : end));
  }
  return functions;
}

const OPS_APP_FILE = path.join(ROOT, 'layers/app/opsApi.ts');
/**
 * The use cases each ops function enters, by what it serves: handleOpsRequest answers a read route with
 * `read(…)` and any other with `idempotent(…, () => write(…))`, and each function matches only the routes
 * of its kind. The one hand-written part of the derivation, held to the code by a test below.
 */
const OPS_ENTRIES: Record<Access, string[]> = { read: ['read'], write: ['write', 'idempotent'] };

/** Where the derivation enters the function a Handler names (for the ops API, at its kind's use cases). */
function entryOf(handler: string): Entry {
  const { file, exportName } = handlerOf(handler);
  if (file !== OPS_HANDLER_FILE) return { handler };
  const access = (Object.keys(OPS_FUNCTIONS) as Access[]).find((kind) => `${kind}Handler` === exportName);
  if (!access) throw new Error(`${handler} is neither the read nor the write handler`);
  return { handler, enterInstead: { handleOpsRequest: OPS_ENTRIES[access] } };
}

const actionsByHandler = new Map<string, Set<string>>();

/** The IAM actions the code behind a Handler can make (derived once per handler). */
function actionsOfHandler(handler: string): Set<string> {
  if (!actionsByHandler.has(handler)) actionsByHandler.set(handler, codeActions(entryOf(handler)));
  return actionsByHandler.get(handler)!;
}

/** The Handler the packaged template gives a function, e.g. functions/opsApi.readHandler. */
const handlerOfFunction = (functionName: string) =>
  resource(functionLogicalId(functionName), 'AWS::Lambda::Function').Properties.Handler as string;

/** The calls a function's code can make, and the port methods it reaches (`Interface.method`). */
const callsOf = (functionName: string) => actionsOfHandler(handlerOfFunction(functionName));
const portMethods = (functionName: string) => portMethodsOf(entryOf(handlerOfFunction(functionName)));

/**
 * Actions a role needs because its code calls another: the Service Authorization Reference lists
 * iam:PassRole as a dependent action of ecs:RunTask (the task definition's task and execution roles).
 */
const DEPENDENT_ACTIONS: Record<string, string[]> = { 'ecs:RunTask': ['iam:PassRole'] };

/** What Lambda does with every function's role: it writes the function's logs. */
const LAMBDA_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** With active tracing, it uploads the function's traces. */
const TRACING_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
/** An SQS event source mapping's poller reads the queue with the function's role. */
const SQS_POLLER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ChangeMessageVisibility',
];
/** What sending to a destination (or a dead-letter target) of each type takes. */
const DESTINATION_ACTIONS: Record<string, string> = {
  'AWS::SQS::Queue': 'sqs:SendMessage',
  'AWS::SNS::Topic': 'sns:Publish',
  'AWS::Lambda::Function': 'lambda:InvokeFunction',
  'AWS::Events::EventBus': 'events:PutEvents',
};

/** The logical id a `Fn::GetAtt` or `Ref` names, if it is one. */
const logicalIdIn = (value: unknown): string | undefined =>
  (value as { Ref?: string } | null)?.Ref ??
  (value as { 'Fn::GetAtt'?: [string] } | null)?.['Fn::GetAtt']?.[0];

/** What Lambda does with a function's role, as a template configures the function. */
function platformActions(t: Template, functionId: string): string[] {
  const fn = t.Resources[functionId]!.Properties;
  const actions = [...LAMBDA_ACTIONS];
  if ((fn.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active')
    actions.push(...TRACING_ACTIONS);
  const typeOf = (value: unknown) => t.Resources[logicalIdIn(value) ?? '']?.Type;
  for (const mapping of Object.values(t.Resources)) {
    if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    if (logicalIdIn(mapping.Properties.FunctionName) !== functionId) continue;
    if (typeOf(mapping.Properties.EventSourceArn) === 'AWS::SQS::Queue') actions.push(...SQS_POLLER_ACTIONS);
    else throw new Error(`${functionId}: no poller actions known for ${JSON.stringify(mapping.Properties)}`);
  }
  const destinations = Object.values(t.Resources)
    .filter(
      (config) =>
        config.Type === 'AWS::Lambda::EventInvokeConfig' &&
        logicalIdIn(config.Properties.FunctionName) === functionId,
    )
    .flatMap((config) => {
      const destination = config.Properties.DestinationConfig as
        | Record<string, { Destination: unknown }>
        | undefined;
      return Object.values(destination ?? {}).map((target) => target.Destination);
    });
  const deadLetter = (fn.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn;
  for (const target of deadLetter ? [...destinations, deadLetter] : destinations) {
    const action = DESTINATION_ACTIONS[typeOf(target) ?? ''];
    if (!action)
      throw new Error(`${functionId}: no action known for the destination ${JSON.stringify(target)}`);
    actions.push(action);
  }
  return [...new Set(actions)];
}

/**
 * What every role of a template needs. A function's role: the calls its code can make, the actions those
 * depend on, and what Lambda does with the role. A state machine's role: what its definition invokes, on
 * exactly the resources it names (placeholders as its DefinitionSubstitutions fill them in).
 */
function needsOf(t: Template): Map<string, Need> {
  const needs = new Map<string, Need>();
  const add = (roleId: string, actions: Iterable<string>, resources?: Map<string, unknown[]>) => {
    const need = needs.get(roleId) ?? { actions: new Set<string>() };
    for (const action of actions) need.actions.add(action);
    for (const [action, values] of resources ?? []) {
      need.resources ??= new Map();
      need.resources.set(action, [...(need.resources.get(action) ?? []), ...values]);
    }
    needs.set(roleId, need);
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') {
      const calls = actionsOfHandler(r.Properties.Handler as string);
      const dependent = [...calls].flatMap((action) => DEPENDENT_ACTIONS[action] ?? []);
      add(logicalIdIn(r.Properties.Role)!, [...calls, ...dependent, ...platformActions(t, id)]);
    }
    // The role ECS invokes the deployment hook with: that one function, nothing else.
    const trusted = allStatements(t).filter((s) => s.kind === 'trust' && s.logicalId === id);
    if (trusted.some((s) => JSON.stringify(s.statement.Principal).includes('ecs.amazonaws.com'))) {
      const hook = { 'Fn::GetAtt': [functionLogicalId(DEPLOYMENT_HOOK), 'Arn'] };
      add(id, ['lambda:InvokeFunction'], new Map([['lambda:InvokeFunction', [hook]]]));
    }
    if (r.Type === 'AWS::StepFunctions::StateMachine') {
      const substitutions = (r.Properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
      const resolved = (value: string) => {
        const placeholder = /^\$\{(\w+)\}$/.exec(value)?.[1];
        if (placeholder === undefined) return value;
        if (!(placeholder in substitutions)) throw new Error(`${id}: nothing substitutes ${value}`);
        return substitutions[placeholder];
      };
      const invoked = aslActions(r.Properties.DefinitionString as string);
      add(
        logicalIdIn(r.Properties.RoleArn)!,
        invoked.keys(),
        new Map([...invoked].map(([action, values]) => [action, [...values].map(resolved)])),
      );
    }
  }
  return needs;
}

/** The deployment hook, which ECS invokes (with its own role, DeploymentHookInvokeRole). */
const DEPLOYMENT_HOOK = 'deploymentHook';

/** The alarm reactor's sweep is its own schedule, not a function: eleven functions in all. */
const ALL_FUNCTIONS = [
  recycler.functionName,
  recycler.routerFunctionName,
  recycler.sweepFunctionName,
  reactor.functionName,
  lifecycle.intakeFunctionName,
  lifecycle.stepFunctionName,
  rollout.stepFunctionName,
  rollout.safetyNetFunctionName,
  OPS_FUNCTIONS.read,
  OPS_FUNCTIONS.write,
  DEPLOYMENT_HOOK,
];

/** Actions a role may hold on Resource `*` (each with its reason in test/infra/leastPrivilege.ts). */
const onAnyResource = (action: string) => action in WRITES_ON_ANY_RESOURCE || action in READS_ON_ANY_RESOURCE;

/** The tag keys the alarm reactor keeps its memory in (layers/adapters/aws/tagReactionMemory.ts). */
const REACTOR_TAG_KEYS = ['ecs-reflex:reaction:*', 'ecs-reflex:last-change'];

const stageConfig = JSON.parse(readFileSync(path.join(ROOT, 'infra/stages', `${STAGE}.json`), 'utf8')) as {
  clusters: string[];
  dryRun: boolean;
  recyclerPolicy: unknown;
  alarmReactions: unknown[];
  lifecycleHooks: unknown[];
  opsRoutes: unknown[];
  deploymentHookServices?: unknown[];
  deregisterTargetGroupArns?: string[];
  autoScalingGroupNames: string[];
  alarmNamePrefixes: string[];
  rolloutMeshArns?: string[];
  rolloutListenerArns?: string[];
  rolloutLatticeServiceArns?: string[];
  tracing?: boolean;
  sourceMaps?: boolean;
};
const configuredClusters = stageConfig.clusters;
/** `CLUSTER/SERVICE` of each service the deployment hook serves; with none, a name no service has. */
const hookServicePaths = () => {
  const given = (stageConfig.deploymentHookServices ?? []) as { cluster: string; service: string }[];
  return given.length > 0
    ? given.map((entry) => `${entry.cluster}/${entry.service}`)
    : [`${configuredClusters[0]}/ecs-reflex-no-hook-service`];
};

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
/** The rollout workflow's state machine, and its placeholder for the step function's ARN. */
const ROLLOUT_MACHINE_ID = 'Rollout';
const ROLLOUT_STEP_ARN_PLACEHOLDER = ['$', `{${rollout.stepArnPlaceholder}}`].join('');

function stateMachineRoleId(machineId = STATE_MACHINE_ID): string {
  return getAttArn(resource(machineId, 'AWS::StepFunctions::StateMachine').Properties.RoleArn);
}

/** The rollout state machine's name in the template, and the ARNs of its executions as the roles write them. */
const rolloutMachineName = () => resource(ROLLOUT_MACHINE_ID).Properties.StateMachineName as string;
const rolloutExecutionsArn = () =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${rolloutMachineName()}:*`;

/** Every dead-letter queue of the template: the queues some other queue or rule target sends its failures to. */
const deadLetterQueueIds = () =>
  resourcesOf('AWS::SQS::Queue')
    .map(([id]) => id)
    .filter((id) => /DeadLetterQueue$/.test(id))
    .sort();

const lifecycleExecutionsArn = () =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:${
    resource('InstanceLifecycle').Properties.StateMachineName as string
  }:*`;

/** The ops API's idempotency table, and the log groups of every function (where the journal's lines are). */
const OPS_TABLE_ID = 'OpsIdempotencyTable';
/** The log groups the journal is read from: every function's but the router's, which journals nothing. */
const functionLogGroupIds = () =>
  ALL_FUNCTIONS.filter((functionName) => functionName !== recycler.routerFunctionName).map(
    (functionName) => `${logicalIdOf(functionName)}LogGroup`,
  );

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
      const handler = `functions/${handlerFileOf(functionName)}.js`;
      const handlerFile = entries.find((entry) => entry.name === handler);

      // SDK clients, Powertools, middy and zod are inside the handler: it requires nothing but Node (not
      // even the SDK the Lambda runtime carries), and no node_modules come along.
      expect(handlerFile?.size).toBeGreaterThan(100 * 1024);
      const code = handlerFile!.read().toString('utf8');
      expect(code).toMatch(/^"use strict";/);
      expect(unbundledRequires(code)).toEqual([]);
      expect(entries.filter((entry) => entry.name.startsWith('node_modules/'))).toEqual([]);
    }
  });

  it('leaves the source maps and the tracer out of the zips of a stage that asks for neither', () => {
    expect(stageConfig.tracing ?? false).toBe(false);
    expect(stageConfig.sourceMaps ?? false).toBe(false);
    for (const functionName of ALL_FUNCTIONS) {
      const fn = resource(functionLogicalId(functionName), 'AWS::Lambda::Function').Properties;
      const entries = zipEntries(path.join(outDir, 'package', `${functionName}.zip`));
      const handler = `functions/${handlerFileOf(functionName)}.js`;
      const code = entries
        .find((entry) => entry.name === handler)!
        .read()
        .toString('utf8');

      // Only the bundle: its map is kept beside the zips, as a build artifact.
      expect(entries.map((entry) => entry.name)).toEqual([handler]);
      expect(code).not.toMatch(/sourceMappingURL/);
      expect(
        statSync(path.join(outDir, 'package', 'sourcemaps', `${handlerFileOf(functionName)}.js.map`)).size,
      ).toBeGreaterThan(0);
      // Node would read no map anyway, and the flag costs every cold start.
      expect(
        (fn.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS,
      ).toBeUndefined();
      // Neither the X-Ray SDK nor cls-hooked is bundled: Lambda's own segments are the trace.
      expect(code).not.toMatch(/AWS_XRAY_CONTEXT_MISSING|cls-hooked/);
    }
  });

  it("bundles the SDK clients of the services a function's code calls, and no other", () => {
    // The clients' own service ids; the credential chain's STS, SSO and sign-in clients come with every
    // client and are loaded only where Lambda's environment credentials are missing.
    const CREDENTIAL_CLIENTS = new Set(['STS', 'SSO', 'SSO OIDC', 'Signin']);
    const CLIENT_OF_SERVICE: Record<string, string> = {
      'application-autoscaling': 'Application Auto Scaling',
      appmesh: 'App Mesh',
      autoscaling: 'Auto Scaling',
      cloudwatch: 'CloudWatch',
      dynamodb: 'DynamoDB',
      ecs: 'ECS',
      elasticloadbalancing: 'Elastic Load Balancing v2',
      lambda: 'Lambda',
      logs: 'CloudWatch Logs',
      sns: 'SNS',
      sqs: 'SQS',
      states: 'SFN',
      'vpc-lattice': 'VPC Lattice',
    };
    // Built and never called, for a reason: the safety net and the ops API build the rollout ports whole,
    // as rollBack and the ops use cases (layers/app) take them; narrowing those types would leave out
    // the CloudWatch client (and the safety net's Step Functions one), ~20-35 KB of each bundle.
    const CARRIED_UNCALLED: Record<string, string[]> = {
      rolloutSafetyNet: ['CloudWatch', 'SFN'],
      opsApi: ['CloudWatch'],
    };
    // opsRead and opsWrite are one bundle (functions/opsApi.js), which serves both.
    const bundles = new Map<string, string[]>();
    for (const functionName of ALL_FUNCTIONS) {
      const file = handlerFileOf(functionName);
      bundles.set(file, [...(bundles.get(file) ?? []), functionName]);
    }
    for (const [file, functionNames] of bundles) {
      const code = zipEntries(path.join(outDir, 'package', `${functionNames[0]}.zip`))
        .find((entry) => entry.name === `functions/${file}.js`)!
        .read()
        .toString('utf8');
      const bundled = new Set(
        [...code.matchAll(/serviceId:\w+\?\.serviceId\?\?"([^"]+)"/g)]
          .map(([, serviceId]) => serviceId!)
          .filter((serviceId) => !CREDENTIAL_CLIENTS.has(serviceId)),
      );
      const called = new Set(
        functionNames.flatMap((functionName) =>
          [...callsOf(functionName)].map((action) => CLIENT_OF_SERVICE[action.split(':')[0]!] ?? action),
        ),
      );
      for (const client of CARRIED_UNCALLED[file] ?? []) called.add(client);
      expect({ file, clients: [...bundled].sort() }).toEqual({ file, clients: [...called].sort() });
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
    // The recycler's rules, the alarm reactor's rule, the lifecycle rule, the rollout safety net's rule, and
    // the two schedules (the recycler's sweep function, the alarm reactor's sweep).
    expect(rules.length).toBeGreaterThanOrEqual(recycler.rules.length + 5);

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

  it('feeds the recycler from a FIFO queue by task group, at the twin concurrency, through the router', () => {
    const mappings = mappingsOf(recycler.functionName);
    expect(mappings).toHaveLength(1);
    const [[, mapping]] = mappings as [[string, Resource]];
    const recyclerFn = resource(functionLogicalId(recycler.functionName)).Properties;
    const groups = resource(getAttArn(mapping.Properties.EventSourceArn), 'AWS::SQS::Queue').Properties;
    const redrive = groups.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
    const groupsDlq = resource(getAttArn(redrive.deadLetterTargetArn), 'AWS::SQS::Queue').Properties;

    expect(groups.QueueName).toMatch(new RegExp(`-${recycler.taskGroupQueue.replace('.', '\\.')}$`));
    expect(groups.FifoQueue).toBe(true);
    expect(groups.VisibilityTimeout).toBe(recycler.visibilityTimeoutSeconds);
    expect(redrive.maxReceiveCount).toBe(recycler.maxReceiveCount);
    expect(groups.SqsManagedSseEnabled).toBe(true);
    // A FIFO queue's dead-letter queue must be FIFO too.
    expect(groupsDlq.FifoQueue).toBe(true);
    expect(groupsDlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(mapping.Properties.BatchSize).toBe(recycler.batchSize);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.Properties.ScalingConfig).toEqual({ MaximumConcurrency: recycler.maximumConcurrency });
    // Reserved as much as the event source may use: never throttled, never more of the account.
    expect(recyclerFn.ReservedConcurrentExecutions).toBe(recycler.maximumConcurrency);

    const [[, routing]] = mappingsOf(recycler.routerFunctionName) as [[string, Resource]];
    const router = resource(functionLogicalId(recycler.routerFunctionName)).Properties;
    const buffer = resource(bufferQueueId()).Properties;
    expect(routing.Properties.BatchSize).toBe(recycler.batchSize);
    expect(routing.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(buffer.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (router.Timeout as number));
    const env = (router.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(refOf(env.TASK_GROUP_QUEUE_URL)).toBe(getAttArn(mapping.Properties.EventSourceArn));
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
    expect(reactorFn.ReservedConcurrentExecutions).toBe(reactor.reservedConcurrency);
    // Failed invocations (alarm events and sweeps alike) and rejected input all land in the one
    // dead-letter queue.
    expect(refOf(env.DEAD_LETTER_QUEUE_URL)).toBe(onFailure);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('gives every function the timeout the twin’s Lambda gives its invocations', () => {
    const timeouts = ALL_FUNCTIONS.map((name) => [
      name,
      resource(functionLogicalId(name), 'AWS::Lambda::Function').Properties.Timeout,
    ]);
    expect(timeouts).toEqual(ALL_FUNCTIONS.map((name) => [name, functionTimeoutSeconds(name)]));
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
        ROUTE_CLAIMS_TABLE: 'ecs-reflex-dev-ops-idempotency',
      };

      if (id.startsWith('LifecycleHook') || id.startsWith('InstanceLifecycleStep')) {
        expect(env.LIFECYCLE_HOOKS).toBe(JSON.stringify(stageConfig.lifecycleHooks));
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
          hooks: stageConfig.lifecycleHooks.length,
        });
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
      } else if (id.startsWith('Rollout')) {
        // The safety net reads the state machine by Ref; the step cannot (the state machine names the step),
        // so it gets the same machine's ARN, written out from its name.
        const machineArn = `arn:aws:states:eu-west-1:111122223333:stateMachine:${rolloutMachineName()}`;
        if (id === functionLogicalId(rollout.stepFunctionName))
          expect(subText(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(
            accountArn('states', `stateMachine:${rolloutMachineName()}`),
          );
        else expect(refOf(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(ROLLOUT_MACHINE_ID);
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        // Rollouts are started on purpose and have no observe mode.
        expect(env.DRY_RUN).toBeUndefined();
        // The routes they may run on are the ops API's; they claim them on the ops API's table.
        expect(env.OPS_ROUTES).toBe(JSON.stringify(stageConfig.opsRoutes));
        expect(refOf(env.ROUTE_CLAIMS_TABLE)).toBe(OPS_TABLE_ID);
        const config = loadRolloutConfig({
          ...(env as Record<string, string>),
          ...standIns,
          ROLLOUT_STATE_MACHINE_ARN: machineArn,
        });
        expect({ id, machine: config.stateMachineArn }).toEqual({ id, machine: machineArn });
        expect(config.notifyTopicArn).toBe(standIns.NOTIFY_TOPIC_ARN);
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
      } else if (id.startsWith('Ops')) {
        // Both ops functions read loadOpsConfig (and, through the rollout ports, loadRolloutConfig), with the
        // same values.
        expect(env.CLUSTERS).toBe(stageConfig.clusters.join(','));
        expect(env.OPS_ROUTES).toBe(JSON.stringify(stageConfig.opsRoutes));
        expect(refOf(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(ROLLOUT_MACHINE_ID);
        expect(refOf(env.LIFECYCLE_STATE_MACHINE_ARN)).toBe('InstanceLifecycle');
        expect(refOf(env.IDEMPOTENCY_TABLE)).toBe(OPS_TABLE_ID);
        expect(refOf(env.ROUTE_CLAIMS_TABLE)).toBe(OPS_TABLE_ID);
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        // Requests carry their own dryRun: no DRY_RUN for the API. GET /reflexes shows the stage's switch
        // and the other reflexes' configuration, as they read it, and every dead-letter queue's depth.
        expect(env.DRY_RUN).toBeUndefined();
        expect(env.REFLEXES_DRY_RUN).toBe(String(stageConfig.dryRun));
        expect(env.ALARM_REACTIONS).toBe(JSON.stringify(stageConfig.alarmReactions));
        expect(env.RECYCLER_POLICY).toBe(JSON.stringify(stageConfig.recyclerPolicy));
        // Every dead-letter queue, by its name after the stack's prefix (the prefix of its URL).
        const queuePrefix = (env.DEAD_LETTER_QUEUE_URL_PREFIX as { 'Fn::Sub': string })['Fn::Sub'];
        expect(queuePrefix).toBe(
          `https://sqs.\${AWS::Region}.\${AWS::URLSuffix}/\${AWS::AccountId}/ecs-reflex-${STAGE}-`,
        );
        const queueNames = (env.DEAD_LETTER_QUEUES as string).split(',');
        expect(queueNames.map((name) => `ecs-reflex-${STAGE}-${name}`).sort()).toEqual(
          deadLetterQueueIds()
            .map((queueId) => resource(queueId).Properties.QueueName as string)
            .sort(),
        );
        // The reflexes' actions are read from every function's log group, the ops API's own included, each
        // the prefix and the function's name.
        const logFunctions = (env.ACTION_LOG_GROUPS as string).split(',');
        expect(logFunctions.map((name) => `${logicalIdOf(name)}LogGroup`).sort()).toEqual(
          functionLogGroupIds().sort(),
        );
        for (const name of logFunctions)
          expect(`${env.ACTION_LOG_GROUP_PREFIX}${name}`).toBe(
            resource(`${logicalIdOf(name)}LogGroup`, 'AWS::Logs::LogGroup').Properties.LogGroupName,
          );
        const config = loadOpsConfig({
          ...(env as Record<string, string>),
          ...standIns,
          ROLLOUT_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:111122223333:stateMachine:${rolloutMachineName()}`,
          LIFECYCLE_STATE_MACHINE_ARN:
            'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev-instance-lifecycle',
          IDEMPOTENCY_TABLE: resource(OPS_TABLE_ID).Properties.TableName as string,
          DEAD_LETTER_QUEUE_URL_PREFIX: `https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-${STAGE}-`,
        });
        expect(config.reflexes.deadLetterQueueUrls).toEqual(
          queueNames.map(
            (name) => `https://sqs.eu-west-1.amazonaws.com/111122223333/ecs-reflex-${STAGE}-${name}`,
          ),
        );
        expect({ id, clusters: config.clusters }).toEqual({ id, clusters: configuredClusters });
        expect(config.routes).toEqual(stageConfig.opsRoutes);
        expect(Object.keys(config.actionLogGroups).sort()).toEqual([...logFunctions].sort());
        for (const [functionName, logGroupName] of Object.entries(config.actionLogGroups))
          expect(logGroupName).toBe(`/aws/lambda/ecs-reflex-${STAGE}-${functionName}`);
        expect(config.notifyTopicArn).toBe(standIns.NOTIFY_TOPIC_ARN);
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
      } else if (id === functionLogicalId(DEPLOYMENT_HOOK)) {
        // The services it answers for, as the stage lists them, checked as at cold start.
        expect(env.DEPLOYMENT_HOOK_SERVICES).toBe(JSON.stringify(stageConfig.deploymentHookServices ?? []));
        const config = loadDeploymentHookConfig(env as Record<string, string>);
        expect(hookServicesInvoking(config.services, config.trafficCheckFunctions)).toHaveLength(
          (stageConfig.deploymentHookServices ?? []).length,
        );
        // The functions its lambda checks may invoke: the rollouts' list, the one its role is granted.
        expect(config.trafficCheckFunctions).toEqual(
          (stageConfig as { trafficCheckFunctions?: string[] }).trafficCheckFunctions ?? [],
        );
      } else if (id === functionLogicalId(recycler.routerFunctionName)) {
        // The router reads where to send and nothing of the recycler's configuration.
        expect(env.RECHECK_QUEUE_URL).toBeUndefined();
        expect(env.RECYCLER_POLICY).toBeUndefined();
        const config = loadRouterConfig({
          ...(env as Record<string, string>),
          TASK_GROUP_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/groups.fifo',
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
        expect(env.ALARM_REACTIONS).toBe(JSON.stringify(stageConfig.alarmReactions));
        resource(refOf(env.DEAD_LETTER_QUEUE_URL), 'AWS::SQS::Queue');
        const config = loadAlarmReactorConfig({
          ...(env as Record<string, string>),
          DEAD_LETTER_QUEUE_URL: standIns.DEAD_LETTER_QUEUE_URL,
          NOTIFY_TOPIC_ARN: standIns.NOTIFY_TOPIC_ARN,
        });
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        expect(config.notifyTopicArn).toBe(standIns.NOTIFY_TOPIC_ARN);
        expect({ id, reactions: config.reactions.length }).toEqual({
          id,
          reactions: stageConfig.alarmReactions.length,
        });
        expect(config.maxAttempts).toBe(Number(env.AWS_MAX_ATTEMPTS));
        // Guard alarms stop native deployments: the hook's services, read as the hook reads them, and the
        // hook's function (a deployment is the hook's when one of its lifecycle hooks names it).
        expect(env.DEPLOYMENT_HOOK_SERVICES).toBe(JSON.stringify(stageConfig.deploymentHookServices ?? []));
        expect(refOf(env.DEPLOYMENT_HOOK_FUNCTION_NAME)).toBe(functionLogicalId(DEPLOYMENT_HOOK));
        // Guard alarms abort rollouts: the reactor builds the rollout ports, over the rollout state machine.
        expect(refOf(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(ROLLOUT_MACHINE_ID);
        expect(refOf(env.ROUTE_CLAIMS_TABLE)).toBe(OPS_TABLE_ID);
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        const rolloutConfig = loadRolloutConfig({
          ...(env as Record<string, string>),
          ...standIns,
          ROLLOUT_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:111122223333:stateMachine:${rolloutMachineName()}`,
        });
        expect(rolloutConfig.maxAttempts).toBe(config.maxAttempts);
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
    // And the rollout functions' and workflow's.
    expect(roleStatements(roleOf(rollout.stepFunctionName)).length).toBeGreaterThan(10);
    expect(roleStatements(roleOf(rollout.safetyNetFunctionName)).length).toBeGreaterThan(8);
    expect(roleStatements(stateMachineRoleId(ROLLOUT_MACHINE_ID)).length).toBeGreaterThan(0);

    // Every role, managed policy, trust policy, queue and bucket policy and Lambda permission: no `*` or
    // `?` in an action, no NotAction, no NotResource in an Allow.
    expect(wildcardActionFindings(template)).toEqual([]);
    // The one wildcard left is the framework's deployment bucket policy, which denies every S3 action over
    // plain HTTP: a wildcard that takes rights away.
    const wildcards = statementsIn(template.Resources).filter((s) =>
      asList(s.Action).some((a) => a.includes('*')),
    );
    expect(wildcards).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': false } },
      }),
    ]);
  });

  it('classifies every action it grants, and writes on `*` only where the service defines no resource type', () => {
    // Every Allow of the template: each action has its access level (Service Authorization Reference); a
    // write on `*` is one of WRITES_ON_ANY_RESOURCE, a read on `*` one of READS_ON_ANY_RESOURCE.
    expect(anyResourceFindings(template)).toEqual([]);

    // The lists say what they are: the writes are writes, the reads are reads.
    expect(Object.keys(WRITES_ON_ANY_RESOURCE).filter((action) => !isWrite(action))).toEqual([]);
    expect(
      Object.keys(READS_ON_ANY_RESOURCE).filter((action) => isWrite(action) || !(action in ACCESS_LEVELS)),
    ).toEqual([]);
    // And hold nothing the template does not use on `*`: an entry stays only as long as its grant does.
    const onAny = new Set(
      statementsIn(template.Resources)
        .filter((s) => s.Effect === 'Allow' && asList(s.Resource).includes('*'))
        .flatMap((s) => asList(s.Action)),
    );
    expect(
      [...Object.keys(WRITES_ON_ANY_RESOURCE), ...Object.keys(READS_ON_ANY_RESOURCE)].filter(
        (a) => !onAny.has(a),
      ),
    ).toEqual([]);
    // Of the writes, X-Ray's go to every function's role, the gate answers to the ops API's write role only.
    expect(Object.keys(WRITES_ON_ANY_RESOURCE).sort()).toEqual([
      'states:SendTaskFailure',
      'states:SendTaskSuccess',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    for (const functionName of ALL_FUNCTIONS) {
      const gateAnswers = roleStatements(roleOf(functionName))
        .flatMap((s) => asList(s.Action))
        .filter((action) => action.startsWith('states:SendTask'));
      expect({ functionName, gateAnswers }).toEqual({
        functionName,
        gateAnswers:
          functionName === OPS_FUNCTIONS.write ? ['states:SendTaskSuccess', 'states:SendTaskFailure'] : [],
      });
    }
  });

  it('derives what each function may call from its handler, through the port methods it reaches', () => {
    // The adapters a handler builds: those its wiring file (layers/wiring) imports, transitively. The reactor builds its own
    // ports and the rollout ports (guard alarms); the recycler's sweep builds all of the recycler's.
    expect(adaptersOf(handlerFileOf(recycler.functionName))).toEqual(
      expect.arrayContaining(['ecsTaskFleet.ts', 'ecsServiceControl.ts', 'sqsRechecks.ts']),
    );
    expect(adaptersOf(handlerFileOf(recycler.sweepFunctionName))).toEqual(
      adaptersOf(handlerFileOf(recycler.functionName)),
    );
    expect(adaptersOf(handlerFileOf(reactor.functionName))).toEqual(
      expect.arrayContaining([
        'cloudWatchAlarmStates.ts',
        'scalingControls.ts',
        'tagReactionMemory.ts',
        'sqsDeadLetters.ts',
        'appMeshRouter.ts',
      ]),
    );
    // The adapter behind each port interface is the one among them that implements it.
    const rolloutAdapters = portAdapters(adaptersOf(handlerFileOf(rollout.stepFunctionName)));
    expect(
      Object.fromEntries([...rolloutAdapters].map(([port, files]) => [port, [...files].sort()])),
    ).toEqual({
      AlarmStates: ['cloudWatchAlarmStates.ts'],
      MetricsSource: ['cloudWatchMetrics.ts'],
      Notifier: ['snsNotifier.ts'],
      RouteClaims: ['dynamoRouteClaims.ts'],
      ServiceControl: ['ecsServiceControl.ts'],
      TargetRegistry: ['elbTargetRegistry.ts'],
      TrafficCheckRunner: ['httpTrafficCheck.ts', 'lambdaTrafficCheck.ts'],
      TrafficRouter: ['albRouter.ts', 'appMeshRouter.ts', 'latticeRouter.ts'],
      WorkflowRuns: ['sfnWorkflowRuns.ts'],
      // Imported by sfnWorkflowRuns.ts for executionArn; counted only if a Workflows method is called.
      Workflows: ['sfnWorkflows.ts'],
    });

    // The port methods each handler's code reaches (the journal and the clock make no AWS call).
    expect(portMethods(recycler.functionName)).toEqual([
      'ActionJournal.record',
      'CapacitySignal.reportShortfall',
      'Clock.now',
      'DeadLetters.park',
      'Notifier.notify',
      'Rechecks.recheckAt',
      'ServiceControl.deploymentHistory',
      'ServiceControl.describeService',
      'ServiceControl.setDesiredCount',
      'ServiceControl.setTaskDefinition',
      'ServiceControl.tagService',
      'TargetRegistry.deregister',
      'TargetRegistry.targetHealth',
      'TaskFleet.listTasks',
      'TaskFleet.runTask',
      'TaskFleet.stopTask',
      'TaskFleet.tagTask',
    ]);
    // The sweep only enqueues rechecks: the recycler stays the one function that acts.
    expect(portMethods(recycler.sweepFunctionName)).toEqual(['Clock.now', 'Rechecks.recheckAt']);
    // Both lifecycle functions build all the lifecycle ports: the intake starts workflows and parks input,
    // the step does everything else.
    expect(portMethods(lifecycle.intakeFunctionName)).toEqual([
      'Clock.now',
      'DeadLetters.park',
      'Workflows.start',
    ]);
    expect(portMethods(lifecycle.stepFunctionName)).toEqual([
      'ActionJournal.record',
      'Clock.now',
      'ContainerInstances.describe',
      'ContainerInstances.drain',
      'ContainerInstances.stopTasks',
      'InstanceTargets.deregister',
      'InstanceTargets.register',
      'InstanceTargets.targetsOf',
      'LifecycleActions.complete',
      'LifecycleActions.heartbeat',
      'LifecycleActions.hookSettings',
      'LifecycleActions.lifecycleState',
      'Notifier.notify',
    ]);
    // The rollout step runs every step of the workflow; the safety net only rolls back; the reactor reacts
    // to its alarms and, for a guard alarm, finds the running rollouts, stops them and rolls them back.
    const rollBack = [
      'ActionJournal.record',
      'Notifier.notify',
      'RouteClaims.release',
      'ServiceControl.describeService',
      'ServiceControl.setDesiredCount',
      'TrafficRouter.read',
      'TrafficRouter.setOwner',
      'TrafficRouter.setWeights',
      'TrafficRouter.verifyWeights',
    ];
    expect(portMethods(rollout.stepFunctionName)).toEqual(
      [
        ...rollBack,
        'AlarmStates.describe',
        'Clock.now',
        'MetricsSource.query',
        'RouteClaims.claim',
        'RouteClaims.holder',
        'TargetRegistry.targetHealth',
        'TrafficCheckRunner.run',
        'TrafficRouter.setRequest',
        'WorkflowRuns.status',
      ].sort(),
    );
    expect(portMethods(rollout.safetyNetFunctionName)).toEqual(rollBack);
    expect(portMethods(reactor.functionName)).toEqual(
      [
        ...rollBack,
        'AlarmStates.describe',
        'Clock.now',
        'DeadLetters.park',
        'ReactionMemoryStore.load',
        'ReactionMemoryStore.save',
        'ScalingControls.read',
        'ScalingControls.write',
        'ScalingTargetReader.read',
        'WorkflowRuns.running',
        'WorkflowRuns.stop',
        // guard alarms of native deployments: found, read back, stopped; the sweep reads their alarms together
        'AlarmStates.statesOf',
        'NativeDeploymentStops.stop',
        'NativeDeploymentStops.unfinished',
        'NativeDeployments.deployment',
      ].sort(),
    );

    // Method by method, not file by file: the sweep builds the task fleet (RunTask, StopTask) but reaches
    // none of it, and no function can call more than the adapters it builds send.
    expect([...fileActions('ecsTaskFleet.ts')]).toEqual(
      expect.arrayContaining(['ecs:RunTask', 'ecs:StopTask']),
    );
    expect([...callsOf(recycler.sweepFunctionName)]).toEqual(['sqs:SendMessage']);
    for (const functionName of ALL_FUNCTIONS) {
      const built = new Set(
        adaptersOf(handlerFileOf(functionName)).flatMap((file) => [...fileActions(file)]),
      );
      expect({ functionName, beyond: [...callsOf(functionName)].filter((a) => !built.has(a)) }).toEqual({
        functionName,
        beyond: [],
      });
    }
  });

  it('follows what the calls pass into the adapter methods, leaving out branches that cannot run', () => {
    // Rolling back only ever releases a route (setOwner(route, null)): no owner tag is written. Claiming
    // one (setOwner(route, runId)) is the step's alone.
    const safetyNet = callsOf(rollout.safetyNetFunctionName);
    const step = callsOf(rollout.stepFunctionName);
    expect(safetyNet).toContain('appmesh:UntagResource');
    expect(safetyNet).toContain('elasticloadbalancing:RemoveTags');
    expect(safetyNet).not.toContain('appmesh:TagResource');
    expect(safetyNet).not.toContain('elasticloadbalancing:AddTags');
    expect(step).toContain('appmesh:TagResource');
    expect(step).toContain('elasticloadbalancing:AddTags');
    // The step only ever clears a person's request (setRequest(route, null)); marking one is the ops API's.
    const stepClearsOnly = () => new Map([['request', null]]);
    expect([...methodActions('appMeshRouter.ts', 'setRequest', stepClearsOnly)].sort()).toEqual([
      'appmesh:DescribeRoute',
      'appmesh:UntagResource',
    ]);
    expect([...methodActions('albRouter.ts', 'setRequest', stepClearsOnly)]).toEqual([
      'elasticloadbalancing:RemoveTags',
    ]);
    // The rollout code reads alarms with { withTags: false }: the adapter's tag read is not reached. The
    // reactor's own reactions read them with tags, so its role has the tag read.
    expect(step).toContain('cloudwatch:DescribeAlarms');
    expect(step).not.toContain('cloudwatch:ListTagsForResource');
    expect(callsOf(reactor.functionName)).toContain('cloudwatch:ListTagsForResource');
    // Without what the calls pass, both branches count.
    const noFacts = () => new Map();
    expect([...methodActions('cloudWatchAlarmStates.ts', 'describe', noFacts)].sort()).toEqual([
      'cloudwatch:DescribeAlarms',
      'cloudwatch:ListTagsForResource',
    ]);
    expect([...methodActions('albRouter.ts', 'setOwner', noFacts)].sort()).toEqual([
      'elasticloadbalancing:AddTags',
      'elasticloadbalancing:RemoveTags',
    ]);
    // Methods of an adapter the rollouts do not call are not granted: only UpdateService and DescribeServices
    // (who deploys the route's services) of the service control, only DescribeTargetHealth of the target
    // registry, no StartExecution or gate answers.
    expect([...step].filter((action) => action.startsWith('ecs:')).sort()).toEqual([
      'ecs:DescribeServices',
      'ecs:UpdateService',
    ]);
    expect([...step].filter((action) => action.startsWith('states:'))).toEqual(['states:DescribeExecution']);
    expect(step).not.toContain('elasticloadbalancing:DeregisterTargets');
  });

  it('lets each role make exactly the calls its code makes, plus what Lambda does with the role', () => {
    const calls = Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, callsOf(name)]));
    // Rolling a route back, from the workflow, the safety net or a guard alarm.
    const rollBack = [
      'appmesh:DescribeRoute',
      'appmesh:ListTagsForResource',
      'appmesh:UntagResource',
      'appmesh:UpdateRoute',
      // releasing the route's claim (a conditional delete on the ops API's table)
      'dynamodb:DeleteItem',
      // who deploys a service before scaling it down (another controller's is left alone)
      'ecs:DescribeServices',
      'ecs:UpdateService',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
      'elasticloadbalancing:RemoveTags',
      'sns:Publish',
      'vpc-lattice:GetListener',
      'vpc-lattice:GetRule',
      'vpc-lattice:ListTagsForResource',
      'vpc-lattice:UntagResource',
      'vpc-lattice:UpdateListener',
      'vpc-lattice:UpdateRule',
    ];
    expect([...calls[recycler.functionName]!].sort()).toEqual([
      'ecs:DescribeContainerInstances',
      'ecs:DescribeServiceRevisions',
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListServiceDeployments',
      'ecs:ListTasks',
      'ecs:RunTask',
      'ecs:StopTask',
      'ecs:TagResource',
      'ecs:UntagResource',
      'ecs:UpdateService',
      'elasticloadbalancing:DeregisterTargets',
      'elasticloadbalancing:DescribeTargetHealth',
      'sns:Publish',
      'sqs:SendMessage',
    ]);
    expect([...calls[recycler.sweepFunctionName]!]).toEqual(['sqs:SendMessage']);
    expect([...calls[reactor.functionName]!].sort()).toEqual(
      [
        'application-autoscaling:DescribeScalableTargets',
        'application-autoscaling:DescribeScalingPolicies',
        'application-autoscaling:PutScalingPolicy',
        'application-autoscaling:RegisterScalableTarget',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribePolicies',
        'autoscaling:DescribeTags',
        'autoscaling:PutScalingPolicy',
        'autoscaling:SetDesiredCapacity',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:ListTagsForResource',
        'ecs:DescribeServices',
        'ecs:TagResource',
        'ecs:UpdateService',
        'sqs:SendMessage',
        // Guard alarms: find the running rollouts, stop those the alarm guards, mark their routes aborted
        // (the owner tag, `aborted:*` values only), roll them back.
        ...rollBack,
        'appmesh:TagResource',
        'elasticloadbalancing:AddTags',
        'vpc-lattice:TagResource',
        'states:DescribeExecution',
        'states:ListExecutions',
        'states:StopExecution',
        // Guard alarms of native deployments: the hook's services' unfinished deployments listed, read back,
        // the one in progress stopped with ROLLBACK.
        'ecs:ListServiceDeployments',
        'ecs:DescribeServiceDeployments',
        'ecs:StopServiceDeployment',
      ]
        .filter((action, index, all) => all.indexOf(action) === index)
        .sort(),
    );
    expect([...calls[lifecycle.intakeFunctionName]!].sort()).toEqual([
      'sqs:SendMessage',
      'states:StartExecution',
    ]);
    expect([...calls[lifecycle.stepFunctionName]!].sort()).toEqual(
      [
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeWarmPool',
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
    expect([...calls[rollout.safetyNetFunctionName]!].sort()).toEqual(rollBack);
    expect([...calls[rollout.stepFunctionName]!].sort()).toEqual(
      [
        ...rollBack,
        // prepare: claim the route (a conditional put, the holder read); is its owner still running?
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'appmesh:TagResource',
        'elasticloadbalancing:AddTags',
        'vpc-lattice:TagResource',
        'states:DescribeExecution',
        // analyse: metrics, alarms, target health
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'elasticloadbalancing:DescribeTargetHealth',
        // tests before traffic: lambda checks
        'lambda:InvokeFunction',
      ].sort(),
    );

    // Beyond its code's calls, a role holds what Lambda does with it, as the template configures the
    // function: its logs, its traces (active tracing), the SQS poller of its event source mapping, the
    // sends to its on-failure destination; and iam:PassRole, which RunTask depends on.
    const platform = (functionName: string) => platformActions(template, functionLogicalId(functionName));
    for (const functionName of ALL_FUNCTIONS)
      expect(platform(functionName)).toEqual(expect.arrayContaining([...LAMBDA_ACTIONS, ...TRACING_ACTIONS]));
    expect(platform(recycler.functionName)).toEqual(expect.arrayContaining(SQS_POLLER_ACTIONS));
    expect(platform(lifecycle.intakeFunctionName)).toEqual(
      expect.arrayContaining([...SQS_POLLER_ACTIONS, 'sqs:SendMessage']),
    );
    expect(platform(rollout.safetyNetFunctionName)).toContain('sqs:SendMessage');
    expect(platform(rollout.stepFunctionName)).toHaveLength(4);
    expect(platform(OPS_FUNCTIONS.write)).toHaveLength(4);

    // Every role of the template: exactly what its user needs (a function's role, its code's calls and the
    // above; a workflow's role, what its definition invokes, on exactly the functions it names).
    const needs = needsOf(template);
    expect([...needs.keys()].sort()).toEqual(
      resourcesOf('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    );
    expect(needs.get(roleOf(recycler.functionName))?.actions).toContain('iam:PassRole');
    expect(rolePermissionFindings(template, needs)).toEqual([]);
  });

  it('scopes every grant to its resources, with `*` only where the service allows nothing else', () => {
    const stageCheckFunctionArns = (
      require('../../infra/stageConfig.js') as {
        load(stage: string): { arns: { trafficCheckFunctions: { 'Fn::Sub': string }[] } };
      }
    )
      .load(STAGE)
      .arns.trafficCheckFunctions.map((arn) => arn['Fn::Sub']);
    const invokers = ALL_FUNCTIONS.filter((name) =>
      roleStatements(roleOf(name)).some((st) => asList(st.Action).includes('lambda:InvokeFunction')),
    );
    expect(invokers.sort()).toEqual([DEPLOYMENT_HOOK, rollout.stepFunctionName].sort());
    const groupArns = stageConfig.autoScalingGroupNames.map((name) =>
      accountArn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`),
    );
    const alarmArns = stageConfig.alarmNamePrefixes.map((prefix) =>
      accountArn('cloudwatch', `alarm:${prefix}*`),
    );
    const targetGroupArns = stageConfig.deregisterTargetGroupArns ?? [
      accountArn('elasticloadbalancing', 'targetgroup/*'),
    ];
    // Rollouts: the routes of the stage's meshes (UpdateRoute: and their virtual nodes), the stage's
    // listeners and their rules, the rollout state machine and its executions.
    const meshes = stageConfig.rolloutMeshArns ?? [accountArn('appmesh', 'mesh/*')];
    const listeners = stageConfig.rolloutListenerArns ?? [
      accountArn('elasticloadbalancing', 'listener/app/*/*/*'),
    ];
    const services = stageConfig.rolloutLatticeServiceArns ?? [accountArn('vpc-lattice', 'service/*')];
    const latticeListeners = services.map((service) => `${service}/listener/*`);
    const latticeRules = services.map((service) => `${service}/listener/*/rule/*`);
    const routes = meshes.map((mesh) => `${mesh}/virtualRouter/*/route/*`);
    const rules = listeners.map((listener) => `${listener.replace(':listener/', ':listener-rule/')}/*`);
    const rolloutScopes: Record<string, string[]> = {
      'appmesh:DescribeRoute': routes,
      'appmesh:ListTagsForResource': routes,
      'appmesh:TagResource': routes,
      'appmesh:UntagResource': routes,
      'appmesh:UpdateRoute': [...routes, ...meshes.map((mesh) => `${mesh}/virtualNode/*`)],
      'elasticloadbalancing:ModifyRule': rules,
      'elasticloadbalancing:ModifyListener': listeners,
      'elasticloadbalancing:AddTags': [...rules, ...listeners],
      'elasticloadbalancing:RemoveTags': [...rules, ...listeners],
      'vpc-lattice:GetRule': latticeRules,
      'vpc-lattice:UpdateRule': latticeRules,
      'vpc-lattice:GetListener': latticeListeners,
      'vpc-lattice:UpdateListener': latticeListeners,
      'vpc-lattice:ListTagsForResource': [...latticeRules, ...latticeListeners],
      'vpc-lattice:TagResource': [...latticeRules, ...latticeListeners],
      'vpc-lattice:UntagResource': [...latticeRules, ...latticeListeners],
      'states:DescribeExecution': [rolloutExecutionsArn()],
      'states:GetExecutionHistory': [rolloutExecutionsArn()],
      'states:StopExecution': [rolloutExecutionsArn()],
    };
    expect(routes).toEqual([accountArn('appmesh', 'mesh/*/virtualRouter/*/route/*')]);
    expect(rules).toEqual([accountArn('elasticloadbalancing', 'listener-rule/app/*/*/*/*')]);

    for (const functionName of ALL_FUNCTIONS) {
      const roleId = roleOf(functionName);
      for (const statement of roleStatements(roleId)) {
        const actions = asList(statement.Action);
        const resources = asList(statement.Resource);
        const arns = resources.map(subText);
        const sid = statement.Sid;
        expect(resources.length).toBeGreaterThan(0);

        // `*` only for the actions of WRITES_ON_ANY_RESOURCE and READS_ON_ANY_RESOURCE (anyResourceFindings,
        // above, checks the whole template).
        if (resources.includes('*')) {
          expect({ sid, actions }).toEqual({ sid, actions: actions.filter(onAnyResource) });
        }
        // Lambda checks (tests before traffic): the rollout step and the deployment hook may invoke the
        // stage's trafficCheckFunctions, each with any qualifier, and no function role anything else.
        if (actions.includes('lambda:InvokeFunction')) {
          expect({ sid, functionName, actions }).toEqual({
            sid: 'InvokeTrafficCheckFunctions',
            functionName: expect.stringMatching(`^(${rollout.stepFunctionName}|${DEPLOYMENT_HOOK})$`),
            actions: ['lambda:InvokeFunction'],
          });
          expect(arns).toEqual(stageCheckFunctionArns);
        }
        if (actions.some((action) => /^logs:(CreateLogStream|PutLogEvents)$/.test(action))) {
          expect(resources.map(getAttArn)).toEqual([`${logicalIdOf(functionName)}LogGroup`]);
        }
        // The ops API reads the reflexes' actions from the functions' log groups, and from no other.
        if (actions.includes('logs:FilterLogEvents')) {
          expect({ sid, actions }).toEqual({ sid, actions: ['logs:FilterLogEvents'] });
          expect([...resources.map(getAttArn)].sort()).toEqual(functionLogGroupIds().sort());
        }
        if (actions.some((action) => action.startsWith('dynamodb:'))) {
          expect({ sid, tables: resources.map(getAttArn) }).toEqual({ sid, tables: [OPS_TABLE_ID] });
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
          (action) => action.startsWith('autoscaling:') && !onAnyResource(action),
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
        // The lifecycle intake starts lifecycle workflows; the ops API, rollouts.
        if (actions.includes('states:StartExecution')) {
          expect({ sid, machines: resources.map(refOf) }).toEqual({
            sid,
            machines: [functionName === OPS_FUNCTIONS.write ? ROLLOUT_MACHINE_ID : 'InstanceLifecycle'],
          });
        }
        // Rollouts are listed by the reflexes that steer them; the ops API's read also lists lifecycle runs.
        if (actions.includes('states:ListExecutions')) {
          const lifecycleList = functionName === OPS_FUNCTIONS.read && sid === 'ListLifecycleWorkflows';
          expect({ sid, machines: resources.map(refOf) }).toEqual({
            sid,
            machines: [lifecycleList ? 'InstanceLifecycle' : ROLLOUT_MACHINE_ID],
          });
        }
        // Rollout grants: the stage's routes, rules and listeners, the rollout executions. The ops API's
        // read also describes lifecycle executions (GET /reflexes), and only those with that grant.
        const lifecycleRead = functionName === OPS_FUNCTIONS.read && sid === 'ReadLifecycleWorkflows';
        for (const action of actions.filter((name) => name in rolloutScopes)) {
          const scope = lifecycleRead ? [lifecycleExecutionsArn()] : rolloutScopes[action];
          expect({ sid, action, arns }).toEqual({ sid, action, arns: scope });
        }
        // Queue depths: the dead-letter queues, all of them, and no other queue.
        if (functionName === OPS_FUNCTIONS.read && actions.includes('sqs:GetQueueAttributes')) {
          expect({ sid, actions }).toEqual({ sid, actions: ['sqs:GetQueueAttributes'] });
          expect(resources.map(getAttArn).sort()).toEqual(deadLetterQueueIds());
        }
        // The rollouts' tag keys on a route: the owner is written (claiming) and removed (releasing), and
        // releasing removes a person's request with it, as clearing a request does. No rollout role writes a
        // request: the ops API marks them, and writes no owner. Nothing else may be written or removed.
        if (
          actions.some((action) =>
            /^(appmesh:(Tag|Untag)Resource|elasticloadbalancing:(Add|Remove)Tags)$/.test(action),
          )
        ) {
          const removes = actions.some((action) => /(Untag|Remove)/.test(action));
          const tagKeys = statement.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'];
          // Writes: the owner tag, or (the ops API's alone) a person's request, never both in one grant.
          const allowed = removes
            ? [[ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG]]
            : functionName === OPS_FUNCTIONS.write
              ? [[ROLLOUT_OWNER_TAG], [ROLLOUT_REQUEST_TAG]]
              : [[ROLLOUT_OWNER_TAG]];
          const same = (keys: string[]) => JSON.stringify(keys) === JSON.stringify(tagKeys);
          expect({ sid, tagKeys }).toEqual({ sid, tagKeys: allowed.find(same) ?? allowed[0] });
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
          (action) => action.startsWith('application-autoscaling:') && !onAnyResource(action),
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
              // A cluster's resources, or one service's (its deployments and revisions) inside it.
              `:((task|container-instance|service|service-revision)/${cluster}/\\*|(service|service-revision|service-deployment)/${cluster}/[A-Za-z0-9_-]+(/\\*)?|cluster/${cluster})$`,
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
    // The rollout safety net's failures go to its own queue; the rollout step parks nothing.
    expect(queuesOf(rollout.safetyNetFunctionName)).toEqual([
      invokeConfigOf(rollout.safetyNetFunctionName).onFailure,
    ]);
    expect(queuesOf(rollout.stepFunctionName)).toEqual([]);
  });

  it('lets each role update exactly the services its code may update, checked on the resources', () => {
    // The action alone is not enough: a role can hold ecs:UpdateService and still be denied it on the
    // service its code names. The crash-loop breaker, the alarm reactor's scaling and the ops API's recycle
    // (POST …/recycle, forceNewDeployment) may update any service of the configured clusters; a rollout's
    // scale-downs (the step, the safety net, a guard-alarm or API abort) only the services the declared
    // routes name (opsRoutes' `services`; with none, a placeholder no cluster of the stage holds).
    const clusterServices = configuredClusters.map((cluster) => accountArn('ecs', `service/${cluster}/*`));
    const routes = stageConfig.opsRoutes as {
      services?: Record<string, { cluster: string; service: string }>;
    }[];
    const named = [
      ...new Set(
        routes.flatMap((route) =>
          Object.values(route.services ?? {}).map(({ cluster, service }) => `service/${cluster}/${service}`),
        ),
      ),
    ];
    const declared = (named.length > 0 ? named : ['service/no-declared-route-service/none']).map((name) =>
      accountArn('ecs', name),
    );
    const expected: Record<string, string[]> = {
      [recycler.functionName]: clusterServices,
      [recycler.sweepFunctionName]: [],
      [recycler.routerFunctionName]: [],
      [reactor.functionName]: [...clusterServices, ...declared],
      [lifecycle.intakeFunctionName]: [],
      [lifecycle.stepFunctionName]: [],
      [rollout.stepFunctionName]: declared,
      [rollout.safetyNetFunctionName]: declared,
      [OPS_FUNCTIONS.read]: [],
      [OPS_FUNCTIONS.write]: [...clusterServices, ...declared],
      [DEPLOYMENT_HOOK]: [],
    };
    expect(Object.keys(expected).sort()).toEqual([...ALL_FUNCTIONS].sort());

    for (const functionName of ALL_FUNCTIONS) {
      const updates = roleStatements(roleOf(functionName)).filter((statement) =>
        asList(statement.Action).includes('ecs:UpdateService'),
      );
      const services = [...new Set(updates.flatMap((statement) => asList(statement.Resource).map(subText)))];
      expect({ functionName, services: services.sort() }).toEqual({
        functionName,
        services: [...new Set(expected[functionName])].sort(),
      });
      // Every one of them is held to the configured clusters by ecs:cluster as well.
      for (const statement of updates) {
        const clusters = asList(statement.Condition?.ArnEquals?.['ecs:cluster']).map(subText);
        expect({ functionName, sid: statement.Sid, clusters }).toEqual({
          functionName,
          sid: statement.Sid,
          clusters: configuredClusters.map((cluster) => accountArn('ecs', `cluster/${cluster}`)),
        });
      }
    }
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

  it('lets the workflow invoke the step function its definition names, and nothing else', () => {
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
    // What the definition invokes: the step function, by its unqualified ARN (no version, no alias).
    const invoked = aslActions(resource(STATE_MACHINE_ID).Properties.DefinitionString as string);
    expect([...invoked]).toEqual([['lambda:InvokeFunction', new Set([STEP_ARN_PLACEHOLDER])]]);
    expect(roleStatements(roleId).map(({ Sid, ...statement }) => statement)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [{ 'Fn::GetAtt': [stepId, 'Arn'] }] },
    ]);
    // No other role may invoke the step (the rollout workflow's role invokes the rollout step only, checked
    // with the rollout reflex), and nothing else invokes it: no permission, rule or queue.
    const otherInvokes = resourcesOf('AWS::IAM::Role')
      .filter(([id]) => id !== roleId)
      .flatMap(([id]) => roleStatements(id))
      .filter((statement) => asList(statement.Action).includes('lambda:InvokeFunction'))
      .flatMap((statement) => asList(statement.Resource))
      .filter((arn) => JSON.stringify(arn).includes(stepId));
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

  it("lets SNS send to the notification queue only from the stage's hook topics, and none for a stage without", () => {
    // The stage packaged here (dev) has no hook that notifies a topic.
    const stageTopics = (require('../../infra/stageConfig.js') as { load(stage: string): unknown }).load(
      STAGE,
    ) as { lifecycleNotificationTopicArns: string[] };
    const policies = resourcesOf('AWS::SQS::QueuePolicy').filter(([, policy]) =>
      asList(policy.Properties.Queues).some((q) => refOf(q) === 'LifecycleNotificationQueue'),
    );
    const snsStatements = policies
      .flatMap(([, policy]) => statementsIn(policy.Properties.PolicyDocument))
      .filter((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'sns.amazonaws.com' }));
    const conditions = (template as unknown as { Conditions: Record<string, unknown> }).Conditions;

    // One policy, made only when the stage names topics: here it names none, so the condition is false.
    expect(policies.map(([id, policy]) => [id, policy.Condition])).toEqual([
      ['LifecycleNotificationQueuePolicy', 'HasLifecycleNotificationTopics'],
    ]);
    expect(stageTopics.lifecycleNotificationTopicArns).toEqual([]);
    expect(conditions.HasLifecycleNotificationTopics).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['0', '0'] }],
    });
    // Exactly the topics by ARN, never a pattern over the account's topics.
    expect(snsStatements).toHaveLength(1);
    expect(snsStatements[0]!.Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': stageTopics.lifecycleNotificationTopicArns },
    });
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

describe('serverless package: the rollout reflex', () => {
  const aslFile = () => readFileSync(path.join(ROOT, rollout.definitionFile), 'utf8');
  const stepId = () => functionLogicalId(rollout.stepFunctionName);
  const safetyNetId = () => functionLogicalId(rollout.safetyNetFunctionName);

  it('deploys the ASL file the twin runs as a standard state machine, the step function filled in by CloudFormation', () => {
    const machine = resource(ROLLOUT_MACHINE_ID, 'AWS::StepFunctions::StateMachine').Properties;
    const definition = machine.DefinitionString as string;
    const substitutions = machine.DefinitionSubstitutions as Record<string, unknown>;
    const standIn = 'arn:aws:lambda:eu-west-1:111122223333:function:ecs-reflex-dev-rolloutStep';
    const substituted = (text: string) => text.replaceAll(ROLLOUT_STEP_ARN_PLACEHOLDER, standIn);

    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.StateMachineName).toBe(`ecs-reflex-${STAGE}-${rollout.stateMachine}`);
    expect(typeof definition).toBe('string');
    expect(substitutions).toEqual({ [rollout.stepArnPlaceholder]: { 'Fn::GetAtt': [stepId(), 'Arn'] } });
    const placeholders = [...definition.matchAll(/\$\{([^}]+)\}/g)].map(([, name]) => name);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(substitutions)));
    expect(aslFile()).toContain(ROLLOUT_STEP_ARN_PLACEHOLDER);
    expect(JSON.parse(substituted(definition))).toEqual(JSON.parse(substituted(aslFile())));
    expect(machine.LoggingConfiguration).toBeUndefined();
    expect(machine.TracingConfiguration).toBeUndefined();
  });

  it('names the state machine so that the safety net hears its executions, and only its', () => {
    const pattern = JSON.parse(readFileSync(path.join(ROOT, rollout.safetyNetRule.patternFile), 'utf8')) as {
      detail: { stateMachineArn: { suffix: string }[] };
    };
    const [{ suffix }] = pattern.detail.stateMachineArn as [{ suffix: string }];
    const machines = resourcesOf('AWS::StepFunctions::StateMachine').map(
      ([id, machine]) => [id, machine.Properties.StateMachineName as string] as const,
    );

    expect(machines.filter(([, name]) => name.endsWith(suffix)).map(([id]) => id)).toEqual([
      ROLLOUT_MACHINE_ID,
    ]);
  });

  it('lets the workflow invoke the step function its definition names, and nothing else', () => {
    const roleId = stateMachineRoleId(ROLLOUT_MACHINE_ID);
    const role = resource(roleId, 'AWS::IAM::Role').Properties;

    expect(roleId).not.toBe(stateMachineRoleId());
    expect(statementsIn(role.AssumeRolePolicyDocument)).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    // What the definition invokes: the step function, by its unqualified ARN (no version, no alias).
    const invoked = aslActions(resource(ROLLOUT_MACHINE_ID).Properties.DefinitionString as string);
    expect([...invoked]).toEqual([['lambda:InvokeFunction', new Set([ROLLOUT_STEP_ARN_PLACEHOLDER])]]);
    expect(roleStatements(roleId).map(({ Sid, ...statement }) => statement)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [{ 'Fn::GetAtt': [stepId(), 'Arn'] }] },
    ]);
    // No other role may invoke the step, and nothing else invokes it: no permission, rule, queue, or
    // asynchronous invocation settings (its failures belong to the workflow's Retry and Catch).
    const otherInvokes = resourcesOf('AWS::IAM::Role')
      .filter(([id]) => id !== roleId)
      .flatMap(([id]) => roleStatements(id))
      .filter((statement) => asList(statement.Action).includes('lambda:InvokeFunction'))
      .flatMap((statement) => asList(statement.Resource))
      .filter((arn) => JSON.stringify(arn).includes(stepId()));
    expect(otherInvokes).toEqual([]);
    expect(
      resourcesOf('AWS::Lambda::Permission').filter(
        ([, permission]) => getAttArn(permission.Properties.FunctionName) === stepId(),
      ),
    ).toEqual([]);
    expect(rulesInvoking(rollout.stepFunctionName)).toEqual([]);
    expect(mappingsOf(rollout.stepFunctionName)).toEqual([]);
    expect(
      resourcesOf('AWS::Lambda::EventInvokeConfig').filter(
        ([, config]) => refOf(config.Properties.FunctionName) === stepId(),
      ),
    ).toEqual([]);
  });

  it('gives up on a step before the workflow does: the step times out below every Task timeout', () => {
    const step = resource(stepId(), 'AWS::Lambda::Function').Properties;
    const states = Object.values(
      (JSON.parse(aslFile()) as { States: Record<string, Record<string, unknown>> }).States,
    );
    // The plain invocations; the gate's timeout is how long it waits for a person, not for the function.
    const taskTimeouts = states
      .filter((state) => state.Type === 'Task' && state.Resource === 'arn:aws:states:::lambda:invoke')
      .map((state) => state.TimeoutSeconds as number);
    expect(taskTimeouts.every((timeout) => timeout > 0)).toBe(true);

    expect(taskTimeouts.length).toBeGreaterThan(5);
    expect(step.Timeout).toBeGreaterThanOrEqual(30);
    expect(step.Timeout).toBeLessThan(Math.min(...taskTimeouts));
    expect(step.MemorySize).toBe(256);
  });

  it('sends rollouts that ended badly to the safety net, with the very pattern file the twin routes with', () => {
    const ruleId = `${rollout.safetyNetRule.name}Rule`;
    const rule = resource(ruleId, 'AWS::Events::Rule').Properties;
    const pattern = JSON.parse(readFileSync(path.join(ROOT, rollout.safetyNetRule.patternFile), 'utf8'));
    const targets = rule.Targets as {
      Arn: unknown;
      RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
      DeadLetterConfig?: { Arn: unknown };
    }[];

    expect(rule.EventPattern).toEqual(pattern);
    expect(rule.State).toBe('ENABLED');
    expect(targets.map((target) => getAttArn(target.Arn))).toEqual([safetyNetId()]);
    expect(targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
    const ruleDlq = getAttArn(targets[0]!.DeadLetterConfig?.Arn);
    const queue = resource(ruleDlq, 'AWS::SQS::Queue').Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(eventBridgeSendersTo(ruleDlq)).toEqual([ruleId]);
    expect(rulesInvoking(rollout.safetyNetFunctionName).map(([id]) => id)).toEqual([ruleId]);
    expect(mappingsOf(rollout.safetyNetFunctionName)).toEqual([]);
    // EventBridge may invoke the safety net from this rule only.
    expect(
      resourcesOf('AWS::Lambda::Permission')
        .filter(([, permission]) => getAttArn(permission.Properties.FunctionName) === safetyNetId())
        .map(([, permission]) => permission.Properties),
    ).toEqual([
      {
        FunctionName: { 'Fn::GetAtt': [safetyNetId(), 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
  });

  it('retries the safety net as often as the twin does, then keeps the event', () => {
    const { retries, onFailure } = invokeConfigOf(rollout.safetyNetFunctionName);
    const dlq = resource(onFailure, 'AWS::SQS::Queue').Properties;
    const ruleDlq = getAttArn(
      (
        resource(`${rollout.safetyNetRule.name}Rule`).Properties.Targets as {
          DeadLetterConfig?: { Arn: unknown };
        }[]
      )[0]!.DeadLetterConfig?.Arn,
    );

    expect(retries).toBe(rollout.retryAttempts);
    expect(onFailure).not.toBe(ruleDlq);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it("lets only the alarm reactor stop native deployments, and only the deployment hook's services'", () => {
    for (const functionName of ALL_FUNCTIONS) {
      const stops = roleStatements(roleOf(functionName)).filter((statement) =>
        asList(statement.Action).includes('ecs:StopServiceDeployment'),
      );
      const arns = stops.flatMap((statement) => asList(statement.Resource).map(subText));
      // StopServiceDeployment's resource is the service deployment: `service-deployment/CLUSTER/SERVICE/*`.
      const expected =
        functionName === reactor.functionName
          ? hookServicePaths().map((p) => accountArn('ecs', `service-deployment/${p}/*`))
          : [];
      expect({ functionName, arns }).toEqual({ functionName, arns: expected });
    }
  });

  it('lets only the step claim a route, and only the alarm reactor and the ops API find and stop rollouts', () => {
    const actionsOf = (functionName: string) =>
      new Set(roleStatements(roleOf(functionName)).flatMap((statement) => asList(statement.Action)));
    const claim = ['appmesh:TagResource', 'elasticloadbalancing:AddTags'];
    /** Tag writes that may write the owner tag: a claim (the ops API's tag writes are its request's only). */
    // An abort's mark (the owner tag with an `aborted:*` value only) is not a claim.
    const abortMarkOnly = (statement: Statement) =>
      statement.Condition?.StringLike?.[`aws:RequestTag/${ROLLOUT_OWNER_TAG}`] === 'aborted:*';
    const claimsOf = (functionName: string) =>
      roleStatements(roleOf(functionName))
        .filter((statement) => {
          const keys = statement.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'];
          return keys === undefined || asList(keys as string[]).includes(ROLLOUT_OWNER_TAG);
        })
        .filter((statement) => !abortMarkOnly(statement))
        .flatMap((statement) => asList(statement.Action))
        .filter((action) => claim.includes(action));
    const abort = ['states:ListExecutions', 'states:StopExecution'];
    // Listing the rollouts is a read of the ops API too (GET /rollouts); stopping one is not.
    const aborts: Record<string, string[]> = {
      [reactor.functionName]: abort,
      [OPS_FUNCTIONS.write]: abort,
      [OPS_FUNCTIONS.read]: ['states:ListExecutions'],
    };

    for (const functionName of ALL_FUNCTIONS) {
      const granted = actionsOf(functionName);
      expect({ functionName, claims: claimsOf(functionName) }).toEqual({
        functionName,
        claims: functionName === rollout.stepFunctionName ? claim : [],
      });
      expect({ functionName, aborts: abort.filter((action) => granted.has(action)) }).toEqual({
        functionName,
        aborts: aborts[functionName] ?? [],
      });
    }
  });
});

describe('serverless package: the ops API', () => {
  const readId = () => functionLogicalId(OPS_FUNCTIONS.read);
  const writeId = () => functionLogicalId(OPS_FUNCTIONS.write);
  const routeKeyOf = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
  /** The function that serves a route: GET routes the read function, the others the write function. */
  const servingId = (access: Access) => functionLogicalId(OPS_FUNCTIONS[access]);
  /** What Lambda does with either function's role: the function's own logs and traces. */
  const LAMBDA_OWN = [...LAMBDA_ACTIONS, ...TRACING_ACTIONS];

  it('serves every route of opsRoutes, each with IAM authorization, and nothing else', () => {
    const apis = resourcesOf('AWS::ApiGatewayV2::Api');
    expect(apis.map(([id]) => id)).toEqual(['HttpApi']);
    const api = apis[0]![1].Properties;
    expect(api.ProtocolType).toBe('HTTP');
    // No CORS: the API is for signed CLIs and scripts, not browsers.
    expect(api.CorsConfiguration).toBeUndefined();
    // The framework's ApiGatewayV2 resources, and no REST API or custom authorizer beside them.
    expect(
      [...new Set(Object.values(template.Resources).map((r) => r.Type))]
        .filter((type) => type.startsWith('AWS::ApiGateway'))
        .sort(),
    ).toEqual([
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Integration',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Stage',
    ]);

    const routes = resourcesOf('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    // One route per entry of opsRoutes, no other (no `$default` catch-all, no route the code does not serve).
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(opsRoutes.map(routeKeyOf).sort());
    expect(new Set(routes.map((route) => route.RouteKey)).size).toBe(opsRoutes.length);
    for (const route of routes) {
      expect({ route: route.RouteKey, api: refOf(route.ApiId) }).toEqual({
        route: route.RouteKey,
        api: 'HttpApi',
      });
      expect({ route: route.RouteKey, authorization: route.AuthorizationType }).toEqual({
        route: route.RouteKey,
        authorization: 'AWS_IAM',
      });
      expect(route.AuthorizerId).toBeUndefined();
    }

    // Each route goes to the function that serves its access, through that function's one integration.
    const integrationOf = (route: Record<string, unknown>) => {
      const [, [prefix, target]] = (route.Target as { 'Fn::Join': [string, [string, unknown]] })['Fn::Join'];
      expect(prefix).toBe('integrations');
      return resource(refOf(target), 'AWS::ApiGatewayV2::Integration').Properties;
    };
    for (const opsRoute of opsRoutes) {
      const route = routes.find((candidate) => candidate.RouteKey === routeKeyOf(opsRoute))!;
      const integration = integrationOf(route);
      expect({ route: route.RouteKey, function: getAttArn(integration.IntegrationUri) }).toEqual({
        route: route.RouteKey,
        function: servingId(opsRoute.access),
      });
      expect(opsRoute.access).toBe(opsRoute.method === 'GET' ? 'read' : 'write');
    }
    const integrations = resourcesOf('AWS::ApiGatewayV2::Integration').map(([, i]) => i.Properties);
    expect(integrations.map((i) => getAttArn(i.IntegrationUri)).sort()).toEqual([readId(), writeId()].sort());
    for (const integration of integrations) {
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      // The handlers read the 2.0 event (APIGatewayProxyEventV2WithIAMAuthorizer).
      expect(integration.PayloadFormatVersion).toBe('2.0');
    }
  });

  it('throttles the whole stage and logs every request with its caller', () => {
    const stages = resourcesOf('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1].Properties;
    const logs = stage.AccessLogSettings as { DestinationArn: unknown; Format: string };

    expect(refOf(stage.ApiId)).toBe('HttpApi');
    expect(stage.StageName).toBe('$default');
    expect(stage.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingBurstLimit: 50,
      ThrottlingRateLimit: 20,
    });
    // No route lifts the limits for itself.
    expect(stage.RouteSettings).toBeUndefined();
    // The access log names the signed caller, also of requests refused before a function ran.
    const format = JSON.parse(logs.Format) as Record<string, string>;
    expect(format.caller).toBe('$context.identity.userArn');
    expect(format.status).toBe('$context.status');
    const logGroup = resource(getAttArn(logs.DestinationArn), 'AWS::Logs::LogGroup').Properties;
    expect(logGroup.RetentionInDays).toBe(
      resource(`${logicalIdOf(OPS_FUNCTIONS.write)}LogGroup`).Properties.RetentionInDays,
    );
  });

  it('lets API Gateway, and nothing else, invoke the two functions, synchronously and within its 30 s', () => {
    const integrationTimeouts = resourcesOf('AWS::ApiGatewayV2::Integration').map(
      ([, integration]) => integration.Properties.TimeoutInMillis as number,
    );
    for (const [access, functionName] of Object.entries(OPS_FUNCTIONS) as [Access, string][]) {
      const id = functionLogicalId(functionName);
      const fn = resource(id, 'AWS::Lambda::Function').Properties;
      expect(fn.Handler).toBe(`functions/${OPS_HANDLER_FILE}.${access}Handler`);
      // The function gives up (and answers a problem document) before API Gateway stops waiting.
      expect(fn.Timeout).toBe(29);
      expect((fn.Timeout as number) * 1000).toBeLessThan(Math.min(...integrationTimeouts));
      expect(fn.MemorySize).toBe(256);

      const permissions = resourcesOf('AWS::Lambda::Permission')
        .filter(([, permission]) => getAttArn(permission.Properties.FunctionName) === id)
        .map(([, permission]) => permission.Properties);
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permissions[0]!.SourceArn)).toContain('{"Ref":"HttpApi"}');
      expect(rulesInvoking(functionName)).toEqual([]);
      expect(mappingsOf(functionName)).toEqual([]);

      // Synchronous: an asynchronous invocation, were there one, is not retried, and goes nowhere.
      const configs = resourcesOf('AWS::Lambda::EventInvokeConfig').filter(
        ([, config]) => refOf(config.Properties.FunctionName) === id,
      );
      expect(configs).toHaveLength(1);
      expect(configs[0]![1].Properties.MaximumRetryAttempts).toBe(0);
      expect(
        (configs[0]![1].Properties.DestinationConfig as { OnFailure?: unknown } | undefined)?.OnFailure,
      ).toBeUndefined();
    }
  });

  it('keeps Idempotency-Keys in an on-demand table with TTL on expiresAt and server-side encryption', () => {
    const table = resource(OPS_TABLE_ID, 'AWS::DynamoDB::Table').Properties;
    const adapter = readFileSync(path.join(ADAPTERS_DIR, 'dynamoIdempotencyStore.ts'), 'utf8');

    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    // The names the adapter writes: the key, and the expiry in epoch seconds (a number).
    expect(adapter).toMatch(/pk: \{ S: key \}/);
    expect(adapter).toMatch(/expiresAt: \{ N: /);
    // The write function's role touches every key; the functions that roll out (the alarm reactor aborts)
    // only the route claims' items (layers/adapters/aws/dynamoRouteClaims.ts), never an Idempotency-Key.
    const tableStatements = (functionName: string) =>
      roleStatements(roleOf(functionName)).filter((s) =>
        asList(s.Action).some((a) => a.startsWith('dynamodb:')),
      );
    const tableUsers = ALL_FUNCTIONS.filter((functionName) => tableStatements(functionName).length > 0);
    expect([...tableUsers].sort()).toEqual(
      [
        OPS_FUNCTIONS.write,
        rollout.stepFunctionName,
        rollout.safetyNetFunctionName,
        reactor.functionName,
      ].sort(),
    );
    const claimsAdapter = readFileSync(path.join(ADAPTERS_DIR, 'dynamoRouteClaims.ts'), 'utf8');
    expect(claimsAdapter).toMatch(/ROUTE_CLAIM_PREFIX = 'route-claim#'/);
    for (const functionName of [
      rollout.stepFunctionName,
      rollout.safetyNetFunctionName,
      reactor.functionName,
    ])
      for (const statement of tableStatements(functionName))
        expect(statement.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['route-claim#*'] },
        });
  });

  it('enters the use cases the way handleOpsRequest dispatches them (OPS_ENTRIES)', () => {
    const app = readFileSync(OPS_APP_FILE, 'utf8');
    const handler = readFileSync(path.join(ROOT, 'functions', `${OPS_HANDLER_FILE}.ts`), 'utf8');
    const dispatch = topLevelFunctions(app).get('handleOpsRequest')!;

    // Each function serves one access, and matches only the routes of that access.
    expect(handler).toMatch(/readHandler = createOpsHandler\(\['read'\]/);
    expect(handler).toMatch(/writeHandler = createOpsHandler\(\['write'\]/);
    expect(app).toMatch(/!settings\.serves\.includes\(route\.access\)\) continue;/);
    // A read route is answered by `read`, and returns; any other by `write`, inside `idempotent`.
    expect(dispatch).toMatch(/if \(route\.access === 'read'\) return json\(route\.status, await read\(/);
    expect(dispatch).toMatch(/return await idempotent\([\s\S]*await write\(/);
    expect(OPS_ENTRIES).toEqual({ read: ['read'], write: ['write', 'idempotent'] });
  });

  it('reads a reflex’s actions from the log groups of exactly the functions whose code journals it', () => {
    // The journal record of every write is in handleOpsRequest itself, around `write`: the write function's
    // code is all of handleOpsRequest (its read branch journals nothing).
    const journaled = (functionName: string) =>
      journaledReflexes(
        opsAccessOf(functionName) === 'write'
          ? { handler: handlerOfFunction(functionName) }
          : entryOf(handlerOfFunction(functionName)),
      );

    const derived = Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, journaled(name)]));
    const unreached = unreachedJournalRecords([
      ...ALL_FUNCTIONS.filter((name) => opsAccessOf(name) !== 'write').map((name) =>
        entryOf(handlerOfFunction(name)),
      ),
      { handler: handlerOfFunction(OPS_FUNCTIONS.write) },
    ]);

    expect(derived).toEqual(
      Object.fromEntries(
        ALL_FUNCTIONS.map((name) => [name, [...(JOURNALED_REFLEXES[name] ?? ['(missing)'])].sort()]),
      ),
    );
    expect(Object.keys(JOURNALED_REFLEXES).sort()).toEqual([...ALL_FUNCTIONS].sort());
    // No journal record in layers/app escapes the walk from the handlers.
    expect(unreached).toEqual([]);
    // Every function that journals has its log group among the ops API's ACTION_LOG_GROUPS.
    const ops = resource(functionLogicalId(OPS_FUNCTIONS.read));
    const named = (
      (ops.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .ACTION_LOG_GROUPS as string
    ).split(',');
    for (const [name, reflexes] of Object.entries(derived))
      if (reflexes.length > 0) expect(named).toContain(name);
  });

  it('follows each function to the port methods it calls', () => {
    // GET: rollouts (list, one with its history), routes, a service, a cluster's services and instances
    // (with the lifecycle runs), target health, the reflexes' actions and state.
    expect(portMethods(OPS_FUNCTIONS.read)).toEqual(
      [
        'ActionHistory.recent',
        'InstanceFleet.list',
        'ServiceControl.describeService',
        'ServiceOperations.listServices',
        'TargetRegistry.targetHealth',
        'TrafficRouter.read',
        'WorkflowRuns.describe',
        'WorkflowRuns.list',
        // GET /reflexes: the dead-letter queues, the alarm reactor's memory, the recycler's marked tasks.
        'QueueDepths.depth',
        // GET /deployments: the native deployments of the services the deployment hook serves.
        'NativeDeployments.recent',
        'ReactionMemoryStore.load',
        'TaskFleet.listTasks',
      ].sort(),
    );
    // POST/PUT: start (is the route's owner running?), steer (a request on the route, a gate's answer, stop
    // and roll back), set weights, recycle, drain; every write audited and made idempotent.
    expect(portMethods(OPS_FUNCTIONS.write)).toEqual(
      [
        'ActionJournal.record',
        'ContainerInstances.describe',
        'ContainerInstances.drain',
        // the deployment hook's gate: the first answer recorded (a conditional put) before the tag
        'GateAnswers.record',
        'IdempotencyStore.claim',
        'IdempotencyStore.complete',
        'IdempotencyStore.release',
        // the deployment hook's gate: the deployment read back, the answer as the service's tag
        'NativeDeployments.deployment',
        'Notifier.notify',
        'RouteClaims.release',
        'ServiceControl.describeService',
        'ServiceControl.setDesiredCount',
        'ServiceControl.tagService',
        'ServiceOperations.forceNewDeployment',
        'TrafficRouter.read',
        'TrafficRouter.setOwner',
        'TrafficRouter.setRequest',
        'TrafficRouter.setWeights',
        'TrafficRouter.verifyWeights',
        'WorkflowRuns.answerGate',
        'WorkflowRuns.describe',
        'WorkflowRuns.running',
        'WorkflowRuns.status',
        'WorkflowRuns.stop',
        'Workflows.start',
      ].sort(),
    );
    // The adapters behind the ports are those layers/wiring/ops.ts builds.
    const adapters = portAdapters(adaptersOf(OPS_HANDLER_FILE));
    expect(adapters.get('TrafficRouter')?.sort()).toEqual([
      'albRouter.ts',
      'appMeshRouter.ts',
      'latticeRouter.ts',
    ]);
    expect(adapters.get('IdempotencyStore')).toEqual(['dynamoIdempotencyStore.ts']);
    expect(adapters.get('ActionHistory')).toEqual(['cloudWatchLogsActionHistory.ts']);
    expect(adapters.get('ServiceOperations')).toEqual(['ecsServiceOperations.ts']);
  });

  it('gives the read function a role that reads, and nothing else', () => {
    const role = resource(roleOf(OPS_FUNCTIONS.read), 'AWS::IAM::Role').Properties;
    const granted = [
      ...new Set(roleStatements(roleOf(OPS_FUNCTIONS.read)).flatMap((s) => asList(s.Action))),
    ].sort();
    // Lambda writes the function's own logs and traces with its role; nothing else is written (no action
    // of an access level but List or Read, and none left unclassified).
    const writes = granted.filter(
      (action) => (isWrite(action) || !(action in ACCESS_LEVELS)) && !LAMBDA_OWN.includes(action),
    );

    expect(writes).toEqual([]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(granted).toEqual(
      [
        ...LAMBDA_OWN,
        'appmesh:DescribeRoute',
        'appmesh:ListTagsForResource',
        'autoscaling:DescribeTags',
        'ecs:DescribeContainerInstances',
        'ecs:DescribeServiceDeployments',
        'ecs:DescribeServices',
        'ecs:DescribeTasks',
        'ecs:ListContainerInstances',
        'ecs:ListServiceDeployments',
        'ecs:ListServices',
        'ecs:ListTasks',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTags',
        'elasticloadbalancing:DescribeTargetHealth',
        'logs:FilterLogEvents',
        'sqs:GetQueueAttributes',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:ListExecutions',
        'vpc-lattice:GetListener',
        'vpc-lattice:GetRule',
        'vpc-lattice:ListTagsForResource',
      ].sort(),
    );
    // The same list the code paths give (the general check holds every role to its calls too).
    expect([...callsOf(OPS_FUNCTIONS.read)].sort()).toEqual(
      granted.filter((action) => !LAMBDA_OWN.includes(action)),
    );
  });

  it('gives the write function exactly what its code paths need, rolling back through RolloutRestorePolicy', () => {
    const role = resource(roleOf(OPS_FUNCTIONS.write), 'AWS::IAM::Role').Properties;
    const granted = [
      ...new Set(roleStatements(roleOf(OPS_FUNCTIONS.write)).flatMap((s) => asList(s.Action))),
    ].sort();
    const needed = [
      // rolling a route back (abort) and setting its weights by hand: RolloutRestorePolicy
      'appmesh:DescribeRoute',
      'appmesh:ListTagsForResource',
      'appmesh:UntagResource',
      'appmesh:UpdateRoute',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
      'elasticloadbalancing:RemoveTags',
      'vpc-lattice:GetListener',
      'vpc-lattice:GetRule',
      'vpc-lattice:ListTagsForResource',
      'vpc-lattice:UntagResource',
      'vpc-lattice:UpdateListener',
      'vpc-lattice:UpdateRule',
      'sns:Publish',
      // a person's request on the route (pause, promote), and an abort's mark
      'appmesh:TagResource',
      'elasticloadbalancing:AddTags',
      'vpc-lattice:TagResource',
      // start, steer and stop rollouts
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:ListExecutions',
      'states:SendTaskFailure',
      'states:SendTaskSuccess',
      'states:StartExecution',
      'states:StopExecution',
      // recycle a service (its own UpdateService grant: RolloutRestorePolicy's covers only the declared
      // routes' services, which an abort scales down), drain an instance
      'ecs:UpdateService',
      'ecs:DescribeContainerInstances',
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListContainerInstances',
      'ecs:ListTasks',
      'ecs:UpdateContainerInstancesState',
      // the deployment hook's gate: the deployment read back, the answer as a tag on the service
      'ecs:DescribeServiceDeployments',
      'ecs:TagResource',
      // Idempotency-Keys
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ].sort();

    // Rolling back (RolloutRestorePolicy), and an abort's mark on the route (RolloutAbortPolicy).
    expect(asList(role.ManagedPolicyArns).map(refOf)).toEqual(['RolloutRestorePolicy', 'RolloutAbortPolicy']);
    expect([...callsOf(OPS_FUNCTIONS.write)].sort()).toEqual(needed);
    expect(granted).toEqual([...LAMBDA_OWN, ...needed].sort());
    // What the write function reads beyond its own writes, it needs for them: no FilterLogEvents,
    // ListServices or target health of the read routes.
    expect(granted).not.toContain('logs:FilterLogEvents');
    expect(granted).not.toContain('ecs:ListServices');
    expect(granted).not.toContain('elasticloadbalancing:DescribeTargetHealth');
  });
});

describe('least privilege: each check fails on a template that breaks it', () => {
  /** A copy of the packaged template to break. */
  const copy = () => structuredClone(template);
  /** The statements of a role's first inline policy, or of a managed or resource policy, to add to. */
  const inlinePolicy = (t: Template, roleId: string) =>
    (
      t.Resources[roleId]!.Properties.Policies as {
        PolicyName: string;
        PolicyDocument: { Statement: Statement[] };
      }[]
    )[0]!;
  const policyStatements = (t: Template, policyId: string) =>
    (t.Resources[policyId]!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

  it('finds `*`, a service wildcard and a partial one: in a role, a managed policy, a queue policy, a permission', () => {
    const t = copy();
    const stepRole = roleOf(rollout.stepFunctionName);
    const stepPolicy = `${stepRole}/${inlinePolicy(t, stepRole).PolicyName}`;
    inlinePolicy(t, stepRole).PolicyDocument.Statement.push(
      { Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' },
      { Sid: 'AllOfEcs', Effect: 'Allow', Action: ['ecs:*'], Resource: '*' },
      { Sid: 'EcsDescribes', Effect: 'Allow', Action: ['ecs:Describe*'], Resource: '*' },
    );
    policyStatements(t, 'RolloutStepPolicy').push({
      Sid: 'Sends',
      Effect: 'Allow',
      Action: 'sqs:Send?essage',
      Resource: '*',
    });
    const machineRole = stateMachineRoleId(ROLLOUT_MACHINE_ID);
    inlinePolicy(t, machineRole).PolicyDocument.Statement.push({
      Sid: 'AnyLambda',
      Effect: 'Allow',
      Action: 'lambda:*',
      Resource: '*',
    });
    policyStatements(t, 'TaskRecyclerBufferQueuePolicy').push({
      Sid: 'AnyQueueAction',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:*',
      Resource: '*',
    });
    t.Resources.RolloutSafetyNetInvokePermission!.Properties.Action = 'lambda:*';
    // A Deny with a wildcard anywhere but the framework's TLS guard on its bucket counts too, and so does
    // a NotAction.
    policyStatements(t, 'RolloutAbortPolicy').push({
      Sid: 'NoS3',
      Effect: 'Deny',
      Action: 's3:*',
      Resource: '*',
    });
    const readRole = roleOf(OPS_FUNCTIONS.read);
    inlinePolicy(t, readRole).PolicyDocument.Statement.push({
      Sid: 'AllButUpdates',
      Effect: 'Allow',
      NotAction: ['ecs:UpdateService'],
      Resource: '*',
    } as Statement);

    const found = wildcardActionFindings(t);
    expect(found).toHaveLength(9);
    expect(found).toEqual(
      expect.arrayContaining([
        { check: 'wildcard-action', where: `${stepPolicy}/Everything`, action: '*' },
        { check: 'wildcard-action', where: `${stepPolicy}/AllOfEcs`, action: 'ecs:*' },
        { check: 'wildcard-action', where: `${stepPolicy}/EcsDescribes`, action: 'ecs:Describe*' },
        { check: 'wildcard-action', where: 'RolloutStepPolicy/Sends', action: 'sqs:Send?essage' },
        {
          check: 'wildcard-action',
          where: `${machineRole}/${inlinePolicy(t, machineRole).PolicyName}/AnyLambda`,
          action: 'lambda:*',
        },
        { check: 'wildcard-action', where: 'TaskRecyclerBufferQueuePolicy/AnyQueueAction', action: 'sqs:*' },
        { check: 'wildcard-action', where: 'RolloutSafetyNetInvokePermission', action: 'lambda:*' },
        { check: 'wildcard-action', where: 'RolloutAbortPolicy/NoS3', action: 's3:*' },
        { check: 'not-action', where: `${readRole}/${inlinePolicy(t, readRole).PolicyName}/AllButUpdates` },
      ]),
    );
    // The packaged template is untouched.
    expect(wildcardActionFindings(template)).toEqual([]);
  });

  it('finds a write on `*` that could name its resources, a read on `*` without a reason, an unclassified action', () => {
    const t = copy();
    policyStatements(t, 'TaskRecyclerReconcilePolicy').push(
      // StopTask has the task resource type: `*` is not the only choice.
      { Sid: 'StopAnyTask', Effect: 'Allow', Action: 'ecs:StopTask', Resource: '*' },
      // So has DescribeServices (a read), and nothing says why it should be on `*`.
      { Sid: 'DescribeAnyService', Effect: 'Allow', Action: 'ecs:DescribeServices', Resource: '*' },
    );
    policyStatements(t, 'RolloutStepPolicy').push(
      // No access level known for it (even scoped): classify it before granting it.
      {
        Sid: 'DeleteClusters',
        Effect: 'Allow',
        Action: 'ecs:DeleteCluster',
        Resource: { 'Fn::Sub': accountArn('ecs', 'cluster/dev') },
      },
      // A write whose service has no resource type for it is allowed on `*`.
      { Sid: 'Traces', Effect: 'Allow', Action: 'xray:PutTraceSegments', Resource: '*' },
      // Every ECS resource of the account and region is `*` by another name.
      {
        Sid: 'UpdateAnything',
        Effect: 'Allow',
        Action: 'ecs:UpdateService',
        Resource: { 'Fn::Sub': accountArn('ecs', '*') },
      },
    );
    inlinePolicy(t, stateMachineRoleId()).PolicyDocument.Statement.push({
      Sid: 'InvokeAnything',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: '*',
    });

    const found = anyResourceFindings(t);
    expect(found).toHaveLength(5);
    expect(found).toEqual(
      expect.arrayContaining([
        {
          check: 'write-on-any-resource',
          where: 'TaskRecyclerReconcilePolicy/StopAnyTask',
          action: 'ecs:StopTask',
        },
        {
          check: 'read-on-any-resource',
          where: 'TaskRecyclerReconcilePolicy/DescribeAnyService',
          action: 'ecs:DescribeServices',
        },
        {
          check: 'write-on-any-resource',
          where: `${stateMachineRoleId()}/${inlinePolicy(t, stateMachineRoleId()).PolicyName}/InvokeAnything`,
          action: 'lambda:InvokeFunction',
        },
        {
          check: 'unclassified-action',
          where: 'RolloutStepPolicy/DeleteClusters',
          action: 'ecs:DeleteCluster',
        },
        {
          check: 'write-on-any-resource',
          where: 'RolloutStepPolicy/UpdateAnything',
          action: 'ecs:UpdateService',
        },
      ]),
    );
    expect(anyResourceFindings(template)).toEqual([]);
  });

  it('finds a permission the code never uses, one it lacks, and a workflow that may invoke what it never names', () => {
    const t = copy();
    // The rollout step never sends to a queue (its failures are the workflow's), the safety net never
    // claims a route (it only releases one).
    policyStatements(t, 'RolloutStepPolicy').push({
      Sid: 'Park',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': ['RolloutDeadLetterQueue', 'Arn'] },
    });
    const netRole = roleOf(rollout.safetyNetFunctionName);
    const netPolicy = inlinePolicy(t, netRole);
    netPolicy.PolicyDocument.Statement.push({
      Sid: 'Claim',
      Effect: 'Allow',
      Action: ['appmesh:TagResource'],
      Resource: { 'Fn::Sub': accountArn('appmesh', 'mesh/*') },
    });
    // The lifecycle step may no longer stop the standalone tasks of a draining instance, which it does.
    for (const statement of policyStatements(t, 'InstanceLifecycleStepPolicy'))
      statement.Action = asList(statement.Action).filter((action) => action !== 'ecs:StopTask');
    // The lifecycle workflow may invoke the rollout step too, which its definition never names.
    const machineRole = stateMachineRoleId();
    const machinePolicy = inlinePolicy(t, machineRole);
    (machinePolicy.PolicyDocument.Statement[0]!.Resource as unknown[]).push({
      'Fn::GetAtt': [functionLogicalId(rollout.stepFunctionName), 'Arn'],
    });
    // A role no function or workflow uses.
    t.Resources.SpareRole = structuredClone(t.Resources[netRole]!);

    const found = rolePermissionFindings(t, needsOf(t));
    expect(found).toHaveLength(5);
    expect(found).toEqual(
      expect.arrayContaining([
        { check: 'unused-permission', where: 'RolloutStepPolicy/Park', action: 'sqs:SendMessage' },
        {
          check: 'unused-permission',
          where: `${netRole}/${netPolicy.PolicyName}/Claim`,
          action: 'appmesh:TagResource',
        },
        { check: 'missing-permission', where: roleOf(lifecycle.stepFunctionName), action: 'ecs:StopTask' },
        {
          check: 'unused-resource',
          where: `${machineRole}/${machinePolicy.PolicyName}/${machinePolicy.PolicyDocument.Statement[0]!.Sid}`,
          action: 'lambda:InvokeFunction',
          detail: JSON.stringify({ 'Fn::GetAtt': [functionLogicalId(rollout.stepFunctionName), 'Arn'] }),
        },
        { check: 'unaccounted-role', where: 'SpareRole' },
      ]),
    );
    expect(rolePermissionFindings(template, needsOf(template))).toEqual([]);
  });
});
