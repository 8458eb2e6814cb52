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
import ts from 'typescript';
import { ROLLOUT_OWNER_TAG, ROLLOUT_REQUEST_TAG } from '#adapters/aws/albRouter';
import { type Access, opsRoutes } from '#events/opsApi';
import {
  lifecycleWiring as lifecycle,
  alarmReactorWiring as reactor,
  taskRecyclerWiring as recycler,
  rolloutWiring as rollout,
} from '#local/twin/wiring';
import {
  loadAlarmReactorConfig,
  loadLifecycleConfig,
  loadOpsConfig,
  loadRecyclerConfig,
  loadRolloutConfig,
} from '#runtime/config';

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

/** The ops API's two functions, by what they serve, and the one handler file they share. */
const OPS_FUNCTIONS: Record<Access, string> = { read: 'opsRead', write: 'opsWrite' };
const OPS_HANDLER_FILE = 'opsApi';
const opsAccessOf = (functionName: string) =>
  (Object.entries(OPS_FUNCTIONS) as [Access, string][]).find(([, name]) => name === functionName)?.[0];

/** A function's handler file in functions/, without `.ts`: its own name, but for the ops API's two. */
const handlerFileOf = (functionName: string) => (opsAccessOf(functionName) ? OPS_HANDLER_FILE : functionName);

/** The `#adapters/aws/…` files a source file imports for their values (type-only imports build nothing). */
function adapterImports(source: string): string[] {
  return [...source.matchAll(/import\s+(?!type\s)[^;]*?from\s*'#adapters\/aws\/([\w-]+)'/g)].map(
    ([, name]) => `${name}.ts`,
  );
}

/**
 * The adapter files a function builds: the ports file its handler imports (recyclerPorts.ts,
 * alarmReactorPorts.ts), and every adapter that file imports, transitively; `except` leaves out a file and
 * what only it imports.
 */
function adaptersOf(functionName: string, except: string[] = []): string[] {
  const found = new Set<string>();
  const queue = adapterImports(
    readFileSync(path.join(ROOT, 'functions', `${handlerFileOf(functionName)}.ts`), 'utf8'),
  );
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (found.has(file) || except.includes(file)) continue;
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
  'client-cloudwatch-logs': 'logs',
  'client-dynamodb': 'dynamodb',
  'client-ecs': 'ecs',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-sfn': 'states',
  'client-sns': 'sns',
  'client-sqs': 'sqs',
};

/**
 * The IAM action of an SDK v3 command an adapter file sends, by the name it has there, e.g. ListTasksCommand
 * -> ecs:ListTasks. Renamed imports count by their SDK name (`PutScalingPolicyCommand as
 * PutServicePolicyCommand` from client-application-auto-scaling -> application-autoscaling:PutScalingPolicy).
 */
function commandAction(file: string, local: string): string {
  const source = readFileSync(path.join(ADAPTERS_DIR, file), 'utf8');
  for (const [, names, client] of source.matchAll(
    /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/([\w-]+)'/g,
  )) {
    for (const entry of names!.split(',')) {
      const [name, alias] = entry
        .replace(/^\s*type\s+/, '')
        .trim()
        .split(/\s+as\s+/);
      const prefix = SDK_PREFIXES[client!];
      if (name && (alias ?? name) === local && prefix) return `${prefix}:${name.replace(/Command$/, '')}`;
    }
  }
  throw new Error(`${file}: cannot tell which service ${local} belongs to`);
}

/** IAM actions for every SDK v3 command the given adapter files send (`new ListTasksCommand(`). */
function adapterActions(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(path.join(ADAPTERS_DIR, file), 'utf8');
    for (const [, local] of source.matchAll(/new (\w+Command)\(/g)) actions.add(commandAction(file, local!));
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

// --- the rollout functions: which methods of the rollout ports their code calls, and with what ---------
//
// The rollout step, the safety net and the alarm reactor build the same ports (rolloutPorts.ts) and each
// calls a part of them, some only with particular arguments (alarms.describe never asks for tags; the safety
// net only ever releases a route, setOwner(route, null)). So, finer than a whole adapter file: each call
// `ports.<port>.<method>(…)` the function's code reaches (its handler and the use cases of
// layers/app/rollout.ts it calls, transitively), followed into the adapter method behind that port, with
// what every call site says about an argument (a literal null, false, or `{ withTags: false }`) used to
// leave out the branches of the method that cannot run. Read with the TypeScript parser.

const ROLLOUT_APP_FILE = path.join(ROOT, 'layers/app/rollout.ts');

const parsedFiles = new Map<string, ts.SourceFile>();

function parsed(file: string): ts.SourceFile {
  if (!parsedFiles.has(file))
    parsedFiles.set(
      file,
      ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true),
    );
  return parsedFiles.get(file)!;
}

type FunctionNode = ts.FunctionLikeDeclaration;

/** Every named function of a file, nested ones too: declarations, methods, `const f = () =>`, `x: () =>`. */
function namedFunctions(source: ts.SourceFile): Map<string, FunctionNode[]> {
  const found = new Map<string, FunctionNode[]>();
  const add = (name: string, node: FunctionNode) => found.set(name, [...(found.get(name) ?? []), node]);
  const isFunction = (node: ts.Node | undefined): node is ts.ArrowFunction | ts.FunctionExpression =>
    node !== undefined && (ts.isArrowFunction(node) || ts.isFunctionExpression(node));
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) &&
      node.name &&
      ts.isIdentifier(node.name)
    )
      add(node.name.text, node);
    if (
      (ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node)) &&
      ts.isIdentifier(node.name) &&
      isFunction(node.initializer)
    )
      add(node.name.text, node.initializer);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The names a file imports from other adapter files, and which file each comes from. */
function adapterImportsOf(source: ts.SourceFile): Map<string, string> {
  const imports = new Map<string, string>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = /^#adapters\/aws\/([\w-]+)$/.exec(statement.moduleSpecifier.text)?.[1];
    const bindings = statement.importClause?.namedBindings;
    if (!from || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) imports.set(element.name.text, `${from}.ts`);
  }
  return imports;
}

/** What every call site says about an argument: `owner` is null, `options.withTags` is false. */
type Facts = Map<string, boolean | null>;

const LITERALS = new Map<ts.SyntaxKind, boolean | null>([
  [ts.SyntaxKind.NullKeyword, null],
  [ts.SyntaxKind.TrueKeyword, true],
  [ts.SyntaxKind.FalseKeyword, false],
]);

/** The value of an expression when the facts (or the expression itself) fix it; undefined otherwise. */
function fixedValue(expression: ts.Expression, facts: Facts): { value: boolean | null } | undefined {
  if (ts.isParenthesizedExpression(expression)) return fixedValue(expression.expression, facts);
  const text = expression.getText();
  if (facts.has(text)) return { value: facts.get(text)! };
  if (LITERALS.has(expression.kind)) return { value: LITERALS.get(expression.kind)! };
  if (!ts.isBinaryExpression(expression)) return undefined;
  const operator = expression.operatorToken.kind;
  const left = fixedValue(expression.left, facts);
  if (operator === ts.SyntaxKind.AmpersandAmpersandToken && left && !left.value) return { value: false };
  const right = fixedValue(expression.right, facts);
  if (!left || !right) return undefined;
  if (operator === ts.SyntaxKind.EqualsEqualsEqualsToken) return { value: left.value === right.value };
  if (operator === ts.SyntaxKind.ExclamationEqualsEqualsToken) return { value: left.value !== right.value };
  return undefined;
}

interface Reached {
  /** [adapter file, command class name as written there] */
  commands: [string, string][];
  /** Functions to follow: [file, name] */
  next: [string, string][];
}

/** The commands a function's body sends, and the functions it calls, skipping branches the facts rule out. */
function scanBody(file: string, node: ts.Node, facts: Facts, reached: Reached, known: Set<string>): void {
  const truth = (condition: ts.Expression) => {
    const value = fixedValue(condition, facts);
    return value === undefined ? undefined : Boolean(value.value);
  };
  const visit = (child: ts.Node): void => {
    if (ts.isConditionalExpression(child) || ts.isIfStatement(child)) {
      const condition = ts.isIfStatement(child) ? child.expression : child.condition;
      const taken = truth(condition);
      if (taken !== undefined) {
        visit(condition);
        const branch = ts.isIfStatement(child)
          ? taken
            ? child.thenStatement
            : child.elseStatement
          : taken
            ? child.whenTrue
            : child.whenFalse;
        if (branch) visit(branch);
        return;
      }
    }
    if (
      ts.isBinaryExpression(child) &&
      child.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken &&
      truth(child.left) === false
    ) {
      visit(child.left);
      return;
    }
    if (
      ts.isNewExpression(child) &&
      ts.isIdentifier(child.expression) &&
      /Command$/.test(child.expression.text)
    )
      reached.commands.push([file, child.expression.text]);
    if (ts.isCallExpression(child)) {
      const callee = child.expression;
      const names = [
        ...(ts.isIdentifier(callee) ? [callee.text] : []),
        ...(ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword
          ? [callee.name.text]
          : []),
        // A function handed on as a callback runs too.
        ...child.arguments.filter(ts.isIdentifier).map((argument) => argument.text),
      ];
      for (const name of names) if (known.has(name)) reached.next.push([file, name]);
    }
    ts.forEachChild(child, visit);
  };
  visit(node);
}

/**
 * IAM actions of the commands an adapter method sends, given what its callers always pass (facts about its
 * parameters), following the functions it calls in its own file and in the adapter files it imports.
 */
function methodActions(file: string, method: string, factsOf: (node: FunctionNode) => Facts): Set<string> {
  const actions = new Set<string>();
  const seen = new Set<string>();
  const queue: [string, string, boolean][] = [[file, method, true]];
  while (queue.length > 0) {
    const [at, name, entry] = queue.shift()!;
    if (seen.has(`${at}#${name}`)) continue;
    seen.add(`${at}#${name}`);
    const source = parsed(path.join(ADAPTERS_DIR, at));
    const functions = namedFunctions(source);
    const imports = adapterImportsOf(source);
    const nodes = functions.get(name);
    if (!nodes) {
      const from = imports.get(name);
      if (from) queue.push([from, name, false]);
      else if (entry) throw new Error(`${at} has no method ${name}`);
      continue;
    }
    const known = new Set([...functions.keys(), ...imports.keys()]);
    for (const node of nodes) {
      const reached: Reached = { commands: [], next: [] };
      scanBody(at, node, entry ? factsOf(node) : new Map(), reached, known);
      for (const [commandFile, command] of reached.commands) actions.add(commandAction(commandFile, command));
      for (const [nextFile, nextName] of reached.next) queue.push([nextFile, nextName, false]);
    }
  }
  return actions;
}

/** The adapter files behind each rollout port, as layers/adapters/aws/rolloutPorts.ts builds them. */
function rolloutPortAdapters(): Map<string, string[]> {
  const source = parsed(path.join(ADAPTERS_DIR, 'rolloutPorts.ts'));
  const imports = adapterImportsOf(source);
  const adapters = new Map<string, string[]>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAssignment(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'ports' &&
      ts.isObjectLiteralExpression(node.initializer)
    ) {
      for (const property of node.initializer.properties) {
        if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue;
        const files = new Set<string>();
        const collect = (inner: ts.Node): void => {
          if (ts.isIdentifier(inner) && imports.has(inner.text)) files.add(imports.get(inner.text)!);
          ts.forEachChild(inner, collect);
        };
        collect(property.initializer);
        adapters.set(property.name.text, [...files].sort());
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return adapters;
}

/** Rollout ports that make no AWS call of their own (the clock; the journal logs through Powertools). */
const ROLLOUT_PORTS_WITHOUT_CALLS = ['clock', 'journal'];

interface PortCall {
  port: string;
  method: string;
  args: readonly ts.Expression[];
}

/**
 * The rollout port methods a function calls: `ports.<port>.<method>(…)` (and `router.<method>(…)` on a
 * router from `routerOf(ports, …)`) in the use cases of layers/app/rollout.ts its handler calls, with the
 * helpers those call, transitively; and in the handler itself when its ports are the rollout ports (the
 * alarm reactor's handler holds its own ports under that name).
 */
function rolloutPortCalls(functionName: string): PortCall[] {
  const handler = parsed(path.join(ROOT, 'functions', `${handlerFileOf(functionName)}.ts`));
  const handlerPorts = adapterImportsOf(handler);
  const app = namedFunctions(parsed(ROLLOUT_APP_FILE));
  const routerOf = app.get('routerOf')?.[0];
  // routerOf is the one way the use cases reach a router: it must stay a look-up in ports.routers.
  expect(routerOf?.getText()).toMatch(/=>\s*ports\.routers\[/);
  const callees = (node: ts.Node): string[] => {
    const names: string[] = [];
    const visit = (child: ts.Node): void => {
      if (ts.isCallExpression(child) && ts.isIdentifier(child.expression) && app.has(child.expression.text))
        names.push(child.expression.text);
      ts.forEachChild(child, visit);
    };
    visit(node);
    return names;
  };
  const reached = new Set<string>();
  const queue = callees(handler);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const node of app.get(name)!) queue.push(...callees(node));
  }
  const calls: PortCall[] = [];
  const collect = (node: ts.Node, routers: Set<string>): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      ts.isCallExpression(node.initializer) &&
      node.initializer.expression.getText() === 'routerOf'
    )
      routers.add(node.name.text);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const target = node.expression.expression;
      const method = node.expression.name.text;
      if (ts.isPropertyAccessExpression(target) && target.expression.getText() === 'ports')
        calls.push({ port: target.name.text, method, args: node.arguments });
      const viaRouterOf = ts.isCallExpression(target) && target.expression.getText() === 'routerOf';
      if (viaRouterOf || (ts.isIdentifier(target) && routers.has(target.text)))
        calls.push({ port: 'routers', method, args: node.arguments });
    }
    ts.forEachChild(node, (child) => collect(child, routers));
  };
  const ownPortsFiles = [...handlerPorts.values()].filter((file) => file !== 'rolloutPorts.ts');
  if (ownPortsFiles.length === 0) collect(handler, new Set());
  for (const name of reached) for (const node of app.get(name)!) collect(node, new Set());
  return calls;
}

/** What every call passes for a parameter, when all agree: a literal, or a literal property of an object. */
function factsFromCalls(calls: PortCall[], node: FunctionNode): Facts {
  const facts: Facts = new Map();
  node.parameters.forEach((parameter, index) => {
    if (!ts.isIdentifier(parameter.name)) return;
    const name = parameter.name.text;
    const args = calls.map((call) => call.args[index]);
    const literal = (arg: ts.Expression | undefined) =>
      arg && LITERALS.has(arg.kind) ? { value: LITERALS.get(arg.kind)! } : undefined;
    const values = args.map(literal);
    if (values.every((value) => value !== undefined) && new Set(values.map((v) => v!.value)).size === 1)
      facts.set(name, values[0]!.value);
    const objects = args.map((arg) => (arg && ts.isObjectLiteralExpression(arg) ? arg : undefined));
    if (objects.length === 0 || !objects.every((object) => object !== undefined)) return;
    const propertiesOf = (object: ts.ObjectLiteralExpression) =>
      new Map(
        object.properties.flatMap((property) =>
          ts.isPropertyAssignment(property) && ts.isIdentifier(property.name)
            ? [[property.name.text, literal(property.initializer)] as const]
            : [],
        ),
      );
    const [first, ...others] = objects.map((object) => propertiesOf(object!));
    for (const [key, value] of first!) {
      if (value && others.every((other) => other.get(key)?.value === value.value))
        facts.set(`${name}.${key}`, value.value);
    }
  });
  return facts;
}

/** The rollout port methods a function calls, `port.method`, each once. */
function rolloutPortMethods(functionName: string): string[] {
  return [...new Set(rolloutPortCalls(functionName).map((call) => `${call.port}.${call.method}`))].sort();
}

/** IAM actions of every rollout port method a function calls, with what its calls always pass. */
function rolloutActions(functionName: string): Set<string> {
  const adapters = rolloutPortAdapters();
  const calls = rolloutPortCalls(functionName);
  const actions = new Set<string>();
  for (const key of new Set(calls.map((call) => `${call.port}.${call.method}`))) {
    const [port, method] = key.split('.') as [string, string];
    const files = adapters.get(port) ?? [];
    if (files.length === 0) {
      if (ROLLOUT_PORTS_WITHOUT_CALLS.includes(port)) continue;
      throw new Error(`${functionName} uses port ${port}, which rolloutPorts.ts builds no adapter for`);
    }
    const sameMethod = calls.filter((call) => call.port === port && call.method === method);
    for (const file of files)
      for (const action of methodActions(file, method, (node) => factsFromCalls(sameMethod, node)))
        actions.add(action);
  }
  return actions;
}

// --- the ops API: which port methods its two functions reach, and with what -----------------------------
//
// Both ops functions build the same ports (opsPorts.ts, the rollout ports among them) and run the same use
// case file, layers/app/opsApi.ts; what differs is the routes they serve. handleOpsRequest answers a read
// route with `read(…)` and any other with `idempotent(…, () => write(…))`, and each function matches only
// the routes it serves: the read function enters `read`, the write function `write` and `idempotent` (the
// one hand-written list here, OPS_ENTRIES, held to the code by a test below). From there every call is
// followed with the TypeScript checker, through the helpers of opsApi.ts and the rollout use cases they
// call (layers/app/rollout.ts), to the port methods it lands on: `ports.rollouts.routers[x].read(…)`,
// `router.setWeights(…)` and `store.claim(…)` (store being ports.idempotency) resolve to the port interface
// and method they are typed with, whatever local name holds the port. The adapter behind each interface is
// the one opsPorts.ts builds (a class that implements it, a function that returns it), and its calls are
// counted with methodActions, given what the calls pass, as for the rollout functions.

const OPS_APP_FILE = path.join(ROOT, 'layers/app/opsApi.ts');
const PORTS_FILE = path.join(ROOT, 'layers/ports/index.ts');
const APP_DIR = path.join(ROOT, 'layers/app');
/** The use cases each ops function enters, by what it serves. */
const OPS_ENTRIES: Record<Access, string[]> = { read: ['read'], write: ['write', 'idempotent'] };
/** Port interfaces whose implementations make no AWS call (the journal logs through Powertools). */
const OPS_PORTS_WITHOUT_CALLS = ['ActionJournal', 'Clock'];

let opsProgram: ts.Program | undefined;

/** A program over layers/app/opsApi.ts and what it imports (no AWS SDK: the use cases see ports only). */
function opsProgramAndChecker(): { program: ts.Program; checker: ts.TypeChecker } {
  if (!opsProgram) {
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    opsProgram = ts.createProgram([OPS_APP_FILE], { ...options, types: [] });
  }
  return { program: opsProgram, checker: opsProgram.getTypeChecker() };
}

/** The port methods one ops function calls (`port` is the port interface), with each call's arguments. */
function opsPortCalls(access: Access): PortCall[] {
  const { program, checker } = opsProgramAndChecker();
  const source = program.getSourceFile(OPS_APP_FILE);
  if (!source) throw new Error(`${OPS_APP_FILE} is not in the program`);
  const declarationOf = (node: ts.Node): ts.Declaration | undefined => {
    let symbol = checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol?.declarations?.[0];
  };
  /** The use case (or helper) a name stands for, when it is a function of layers/app. */
  const useCase = (declaration: ts.Declaration | undefined): FunctionNode | undefined => {
    if (!declaration?.getSourceFile().fileName.startsWith(`${APP_DIR}/`)) return undefined;
    if (ts.isFunctionDeclaration(declaration)) return declaration;
    if (
      ts.isVariableDeclaration(declaration) &&
      declaration.initializer &&
      (ts.isArrowFunction(declaration.initializer) || ts.isFunctionExpression(declaration.initializer))
    )
      return declaration.initializer;
    return undefined;
  };
  const queue: FunctionNode[] = OPS_ENTRIES[access].map((name) => {
    const entry = source.statements.find(
      (statement): statement is ts.FunctionDeclaration =>
        ts.isFunctionDeclaration(statement) && statement.name?.text === name,
    );
    if (!entry) throw new Error(`layers/app/opsApi.ts has no function ${name}`);
    return entry;
  });
  const calls: PortCall[] = [];
  const seen = new Set<ts.Node>();
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (seen.has(node)) continue;
    seen.add(node);
    const visit = (child: ts.Node): void => {
      if (ts.isCallExpression(child)) {
        const callee = ts.isPropertyAccessExpression(child.expression)
          ? child.expression.name
          : child.expression;
        const declaration = declarationOf(callee);
        const owner = declaration?.parent;
        if (
          declaration?.getSourceFile().fileName === PORTS_FILE &&
          (ts.isMethodSignature(declaration) || ts.isPropertySignature(declaration)) &&
          owner &&
          ts.isInterfaceDeclaration(owner) &&
          ts.isIdentifier(declaration.name)
        )
          calls.push({ port: owner.name.text, method: declaration.name.text, args: child.arguments });
        const next = useCase(declaration);
        if (next) queue.push(next);
        // A function handed on as a callback runs too.
        for (const argument of child.arguments.filter(ts.isIdentifier)) {
          const callback = useCase(declarationOf(argument));
          if (callback) queue.push(callback);
        }
      }
      ts.forEachChild(child, visit);
    };
    visit(node);
  }
  return calls;
}

/** The port methods an ops function calls, `Interface.method`, each once. */
function opsPortMethods(access: Access): string[] {
  return [...new Set(opsPortCalls(access).map((call) => `${call.port}.${call.method}`))].sort();
}

/** The adapter files implementing each port interface, among those the ops ports are built from. */
function opsPortAdapters(): Map<string, string[]> {
  const implementing = new Map<string, string[]>();
  const add = (port: string, file: string) =>
    implementing.set(port, [...(implementing.get(port) ?? []), file]);
  for (const file of adaptersOf(OPS_FUNCTIONS.read)) {
    for (const statement of parsed(path.join(ADAPTERS_DIR, file)).statements) {
      if (ts.isClassDeclaration(statement))
        for (const clause of statement.heritageClauses ?? [])
          if (clause.token === ts.SyntaxKind.ImplementsKeyword)
            for (const type of clause.types) add(type.expression.getText(), file);
      if (ts.isFunctionDeclaration(statement) && statement.type && ts.isTypeReferenceNode(statement.type))
        add(statement.type.typeName.getText(), file);
    }
  }
  return implementing;
}

/** IAM actions of every port method an ops function calls, given what its calls pass. */
function opsActions(access: Access): Set<string> {
  const adapters = opsPortAdapters();
  const calls = opsPortCalls(access);
  const actions = new Set<string>();
  for (const key of new Set(calls.map((call) => `${call.port}.${call.method}`))) {
    const [port, method] = key.split('.') as [string, string];
    const files = adapters.get(port) ?? [];
    if (files.length === 0) {
      if (OPS_PORTS_WITHOUT_CALLS.includes(port)) continue;
      throw new Error(`${OPS_FUNCTIONS[access]} calls ${key}, which no adapter of opsPorts.ts implements`);
    }
    const sameMethod = calls.filter((call) => call.port === port && call.method === method);
    for (const file of files)
      for (const action of methodActions(file, method, (node) => factsFromCalls(sameMethod, node)))
        actions.add(action);
  }
  return actions;
}

/** The adapters whose calls each function's role grants. */
function adapterFilesOf(functionName: string): string[] {
  // The ops functions: only the port methods their code calls (opsActions).
  if (opsAccessOf(functionName)) return [];
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
  // The alarm reactor builds its own ports and, through them, the rollout ports: its own adapters count
  // whole; of the rollout ports, the methods its code calls (rolloutActions).
  if (functionName === reactor.functionName) return adaptersOf(functionName, ['rolloutPorts.ts']);
  // The rollout functions: only the methods their code calls (rolloutActions).
  if (functionName === rollout.stepFunctionName || functionName === rollout.safetyNetFunctionName) return [];
  return adaptersOf(functionName);
}

/** The calls each function makes: whole adapters, plus the rollout port methods it calls. */
function callsOf(functionName: string): Set<string> {
  const access = opsAccessOf(functionName);
  if (access) return opsActions(access);
  const calls = adapterActions(adapterFilesOf(functionName));
  const buildsRolloutPorts = adaptersOf(functionName).includes('rolloutPorts.ts');
  if (buildsRolloutPorts) for (const action of rolloutActions(functionName)) calls.add(action);
  return calls;
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
  // Invoked by the state machine only: no poller, no destination.
  [rollout.stepFunctionName]: LAMBDA_ACTIONS,
  // The safety net parks nothing itself; Lambda sends its failed invocations with its role.
  [rollout.safetyNetFunctionName]: [...LAMBDA_ACTIONS, 'sqs:SendMessage'],
  // Invoked by API Gateway (a resource-based permission, not the role): no poller, no destination.
  [OPS_FUNCTIONS.read]: LAMBDA_ACTIONS,
  [OPS_FUNCTIONS.write]: LAMBDA_ACTIONS,
};

/** The alarm reactor's sweep is its own schedule, not a function: nine functions in all. */
const ALL_FUNCTIONS = [
  recycler.functionName,
  recycler.sweepFunctionName,
  reactor.functionName,
  lifecycle.intakeFunctionName,
  lifecycle.stepFunctionName,
  rollout.stepFunctionName,
  rollout.safetyNetFunctionName,
  OPS_FUNCTIONS.read,
  OPS_FUNCTIONS.write,
];

/**
 * Actions whose service defines no resource type for them (or, for ListTasks, none a Fargate task has; for
 * DescribeAlarms, none that still returns composite alarms). ListTasks and ListServices are narrowed to the
 * configured clusters by the ecs:cluster condition (checked below).
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
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeTags',
  'cloudwatch:GetMetricData',
  'ecs:ListServices',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
]);

/** The tag keys the alarm reactor keeps its memory in (layers/adapters/aws/tagReactionMemory.ts). */
const REACTOR_TAG_KEYS = ['ecs-reflex:reaction:*', 'ecs-reflex:last-change'];

const stageConfig = JSON.parse(readFileSync(path.join(ROOT, 'infra/stages', `${STAGE}.json`), 'utf8')) as {
  clusters: string;
  alarmReactions: string;
  lifecycleHooks: string;
  opsRoutes: string;
  deregisterTargetGroupArns?: string[];
  autoScalingGroupNames: string[];
  alarmNamePrefixes: string[];
  rolloutMeshArns?: string[];
  rolloutListenerArns?: string[];
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

/** The ops API's idempotency table, and the log groups of every function (where the journal's lines are). */
const OPS_TABLE_ID = 'OpsIdempotencyTable';
const functionLogGroupIds = () => ALL_FUNCTIONS.map((functionName) => `${logicalIdOf(functionName)}LogGroup`);

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

      expect(statSync(zip).size).toBeGreaterThan(100 * 1024);
      expect(entries.map((entry) => entry.name)).toContain(`${handler}.map`);
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
        expect(env.CLUSTERS).toBe(stageConfig.clusters);
        expect(env.OPS_ROUTES).toBe(stageConfig.opsRoutes);
        expect(refOf(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(ROLLOUT_MACHINE_ID);
        expect(refOf(env.LIFECYCLE_STATE_MACHINE_ARN)).toBe('InstanceLifecycle');
        expect(refOf(env.IDEMPOTENCY_TABLE)).toBe(OPS_TABLE_ID);
        expect(refOf(env.NOTIFY_TOPIC_ARN)).toBe('TaskRecyclerNotificationTopic');
        // Requests carry their own dryRun: no DRY_RUN for the API.
        expect(env.DRY_RUN).toBeUndefined();
        // The reflexes' actions are read from every function's log group, the ops API's own included.
        const [separator, parts] = (env.ACTION_LOG_GROUPS as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
        const logGroupIds = parts.map(refOf);
        expect(separator).toBe(',');
        expect([...logGroupIds].sort()).toEqual(functionLogGroupIds().sort());
        const logGroupNames = logGroupIds.map(
          (logGroupId) => resource(logGroupId, 'AWS::Logs::LogGroup').Properties.LogGroupName as string,
        );
        const config = loadOpsConfig({
          ...(env as Record<string, string>),
          ...standIns,
          ROLLOUT_STATE_MACHINE_ARN: `arn:aws:states:eu-west-1:111122223333:stateMachine:${rolloutMachineName()}`,
          LIFECYCLE_STATE_MACHINE_ARN:
            'arn:aws:states:eu-west-1:111122223333:stateMachine:ecs-reflex-dev-instance-lifecycle',
          IDEMPOTENCY_TABLE: resource(OPS_TABLE_ID).Properties.TableName as string,
          ACTION_LOG_GROUPS: logGroupNames.join(separator),
        });
        expect({ id, clusters: config.clusters }).toEqual({ id, clusters: configuredClusters });
        expect(config.routes).toEqual(JSON.parse(stageConfig.opsRoutes));
        expect(config.actionLogGroups).toEqual(logGroupNames);
        expect(config.actionLogGroups.every((name) => name.startsWith('/aws/lambda/ecs-reflex-'))).toBe(true);
        expect(config.notifyTopicArn).toBe(standIns.NOTIFY_TOPIC_ARN);
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
        // Guard alarms abort rollouts: the reactor builds the rollout ports, over the rollout state machine.
        expect(refOf(env.ROLLOUT_STATE_MACHINE_ARN)).toBe(ROLLOUT_MACHINE_ID);
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
    // The reactor's own adapters; the rollout ports it builds too count method by method (below).
    const reactorAdapters = adapterFilesOf(reactor.functionName);
    expect(adaptersOf(reactor.functionName)).toContain('rolloutPorts.ts');
    expect(reactorAdapters).not.toContain('rolloutPorts.ts');

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

    // The rollout step, the safety net and the alarm reactor build the rollout ports; each is granted the
    // methods its code calls. The step runs every step of the workflow; the safety net only rolls back; the
    // reactor finds the running rollouts, reads the guard alarm, stops the rollout and rolls it back.
    expect(rolloutPortAdapters()).toEqual(
      new Map([
        ['alarms', ['cloudWatchAlarmStates.ts']],
        ['clock', []],
        ['journal', []],
        ['metrics', ['cloudWatchMetrics.ts']],
        ['notifier', ['snsNotifier.ts']],
        ['routers', ['albRouter.ts', 'appMeshRouter.ts']],
        ['runs', ['sfnWorkflowRuns.ts']],
        ['services', ['ecsServiceControl.ts']],
        ['targets', ['elbTargetRegistry.ts']],
      ]),
    );
    for (const functionName of [rollout.stepFunctionName, rollout.safetyNetFunctionName]) {
      expect(adaptersOf(functionName)).toContain('rolloutPorts.ts');
      expect(adapterFilesOf(functionName)).toEqual([]);
    }
    const rollBack = [
      'journal.record',
      'notifier.notify',
      'routers.read',
      'routers.setOwner',
      'routers.setWeights',
      'routers.verifyWeights',
      'services.setDesiredCount',
    ];
    expect(rolloutPortMethods(rollout.stepFunctionName)).toEqual(
      [
        ...rollBack,
        'alarms.describe',
        'clock.now',
        'metrics.query',
        'routers.setRequest',
        'runs.status',
        'targets.targetHealth',
      ].sort(),
    );
    expect(rolloutPortMethods(rollout.safetyNetFunctionName)).toEqual(rollBack);
    expect(rolloutPortMethods(reactor.functionName)).toEqual(
      [...rollBack, 'alarms.describe', 'runs.running', 'runs.stop'].sort(),
    );
  });

  it('follows what the calls pass into the adapter methods, leaving out branches that cannot run', () => {
    // Rolling back only ever releases a route (setOwner(route, null)): no owner tag is written. Claiming
    // one (setOwner(route, runId)) is the step's alone.
    const safetyNet = rolloutActions(rollout.safetyNetFunctionName);
    const step = rolloutActions(rollout.stepFunctionName);
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
    // The rollout code reads alarms with { withTags: false }: the adapter's tag read is not reached.
    expect(step).toContain('cloudwatch:DescribeAlarms');
    expect(step).not.toContain('cloudwatch:ListTagsForResource');
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
    // Methods of an adapter the rollouts do not call are not granted: only UpdateService of the service
    // control, only DescribeTargetHealth of the target registry, no StartExecution or gate answers.
    expect([...step].filter((action) => action.startsWith('ecs:'))).toEqual(['ecs:UpdateService']);
    expect([...step].filter((action) => action.startsWith('states:'))).toEqual(['states:DescribeExecution']);
    expect(step).not.toContain('elasticloadbalancing:DeregisterTargets');
  });

  it('lets each role make exactly the calls its adapters make, plus what Lambda does with the role', () => {
    const calls = Object.fromEntries(ALL_FUNCTIONS.map((name) => [name, callsOf(name)]));
    // Rolling a route back, from the workflow, the safety net or a guard alarm.
    const rollBack = [
      'appmesh:DescribeRoute',
      'appmesh:ListTagsForResource',
      'appmesh:UntagResource',
      'appmesh:UpdateRoute',
      'ecs:UpdateService',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
      'elasticloadbalancing:RemoveTags',
      'sns:Publish',
    ];
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
        // Guard alarms: find the running rollouts, stop those the alarm guards, mark their routes aborted
        // (the owner tag, `aborted:*` values only), roll them back.
        ...rollBack,
        'appmesh:TagResource',
        'elasticloadbalancing:AddTags',
        'states:DescribeExecution',
        'states:ListExecutions',
        'states:StopExecution',
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
    expect([...calls[rollout.safetyNetFunctionName]!].sort()).toEqual(rollBack);
    expect([...calls[rollout.stepFunctionName]!].sort()).toEqual(
      [
        ...rollBack,
        // prepare: claim the route; is its owner still running?
        'appmesh:TagResource',
        'elasticloadbalancing:AddTags',
        'states:DescribeExecution',
        // analyse: metrics, alarms, target health
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'elasticloadbalancing:DescribeTargetHealth',
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
    // Rollouts: the routes of the stage's meshes (UpdateRoute: and their virtual nodes), the stage's
    // listeners and their rules, the rollout state machine and its executions.
    const meshes = stageConfig.rolloutMeshArns ?? [accountArn('appmesh', 'mesh/*')];
    const listeners = stageConfig.rolloutListenerArns ?? [
      accountArn('elasticloadbalancing', 'listener/app/*/*/*'),
    ];
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

        if (resources.includes('*')) {
          expect({ sid, actions }).toEqual({
            sid,
            actions: actions.filter((action) => STAR_RESOURCE_ACTIONS.has(action)),
          });
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
        // Rollout grants: the stage's routes, rules and listeners, the rollout executions.
        for (const action of actions.filter((name) => name in rolloutScopes)) {
          expect({ sid, action, arns }).toEqual({ sid, action, arns: rolloutScopes[action] });
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
    // The rollout safety net's failures go to its own queue; the rollout step parks nothing.
    expect(queuesOf(rollout.safetyNetFunctionName)).toEqual([
      invokeConfigOf(rollout.safetyNetFunctionName).onFailure,
    ]);
    expect(queuesOf(rollout.stepFunctionName)).toEqual([]);
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

  it('lets the workflow invoke the step function by the unqualified ARN its definition names, and nothing else', () => {
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
        Resource: [{ 'Fn::GetAtt': [stepId, 'Arn'] }],
      },
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

  it('lets the workflow invoke the step function by the unqualified ARN its definition names, and nothing else', () => {
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
    expect(roleStatements(roleId).map(({ Sid, ...statement }) => statement)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [{ 'Fn::GetAtt': [stepId(), 'Arn'] }],
      },
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
  /** Write verbs: none may be in the read function's role, but for Lambda's own logs and traces. */
  const WRITE_VERBS =
    /^[a-z0-9-]+:(Put|Update|Modify|Start|Stop|Send|Tag|Untag|Add|Remove|Delete|Register|Deregister|Set|Publish|Create|Complete|Record|Run|Invoke|Pass|Attach|Detach|Enable|Disable|Reset|Redrive|Execute)/;

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
    // Only the write function's role touches it.
    const tableUsers = ALL_FUNCTIONS.filter((functionName) =>
      roleStatements(roleOf(functionName)).some((s) =>
        asList(s.Action).some((a) => a.startsWith('dynamodb:')),
      ),
    );
    expect(tableUsers).toEqual([OPS_FUNCTIONS.write]);
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

  it('follows each function to the port methods it calls', () => {
    // GET: rollouts (list, one with its history), routes, a service, a cluster's services and instances
    // (with the lifecycle runs), target health, the reflexes' actions.
    expect(opsPortMethods('read')).toEqual([
      'ActionHistory.recent',
      'InstanceFleet.list',
      'ServiceControl.describeService',
      'ServiceOperations.listServices',
      'TargetRegistry.targetHealth',
      'TrafficRouter.read',
      'WorkflowRuns.describe',
      'WorkflowRuns.list',
    ]);
    // POST/PUT: start (is the route's owner running?), steer (a request on the route, a gate's answer, stop
    // and roll back), set weights, recycle, drain; every write audited and made idempotent.
    expect(opsPortMethods('write')).toEqual(
      [
        'ActionJournal.record',
        'ContainerInstances.describe',
        'ContainerInstances.drain',
        'IdempotencyStore.claim',
        'IdempotencyStore.complete',
        'IdempotencyStore.release',
        'Notifier.notify',
        'ServiceControl.describeService',
        'ServiceControl.setDesiredCount',
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
    // The adapters behind the ports are those opsPorts.ts builds.
    const adapters = opsPortAdapters();
    expect(adapters.get('TrafficRouter')?.sort()).toEqual(['albRouter.ts', 'appMeshRouter.ts']);
    expect(adapters.get('IdempotencyStore')).toEqual(['dynamoIdempotencyStore.ts']);
    expect(adapters.get('ActionHistory')).toEqual(['cloudWatchLogsActionHistory.ts']);
    expect(adapters.get('ServiceOperations')).toEqual(['ecsServiceOperations.ts']);
  });

  it('gives the read function a role that reads, and nothing else', () => {
    const role = resource(roleOf(OPS_FUNCTIONS.read), 'AWS::IAM::Role').Properties;
    const granted = [
      ...new Set(roleStatements(roleOf(OPS_FUNCTIONS.read)).flatMap((s) => asList(s.Action))),
    ].sort();
    // Lambda writes the function's own logs and traces with its role; nothing else is written.
    const writes = granted.filter((action) => WRITE_VERBS.test(action) && !LAMBDA_ACTIONS.includes(action));

    expect(writes).toEqual([]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(granted).toEqual(
      [
        ...LAMBDA_ACTIONS,
        'appmesh:DescribeRoute',
        'appmesh:ListTagsForResource',
        'ecs:DescribeContainerInstances',
        'ecs:DescribeServices',
        'ecs:ListContainerInstances',
        'ecs:ListServices',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeRules',
        'elasticloadbalancing:DescribeTags',
        'elasticloadbalancing:DescribeTargetHealth',
        'logs:FilterLogEvents',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:ListExecutions',
      ].sort(),
    );
    // The same list the code paths give (the general check holds every role to its calls too).
    expect([...callsOf(OPS_FUNCTIONS.read)].sort()).toEqual(
      granted.filter((action) => !LAMBDA_ACTIONS.includes(action)),
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
      'ecs:UpdateService',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTags',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
      'elasticloadbalancing:RemoveTags',
      'sns:Publish',
      // a person's request on the route (pause, promote), and an abort's mark
      'appmesh:TagResource',
      'elasticloadbalancing:AddTags',
      // start, steer and stop rollouts
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:ListExecutions',
      'states:SendTaskFailure',
      'states:SendTaskSuccess',
      'states:StartExecution',
      'states:StopExecution',
      // recycle a service, drain an instance
      'ecs:DescribeContainerInstances',
      'ecs:DescribeServices',
      'ecs:DescribeTasks',
      'ecs:ListContainerInstances',
      'ecs:ListTasks',
      'ecs:UpdateContainerInstancesState',
      // Idempotency-Keys
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ].sort();

    // Rolling back (RolloutRestorePolicy), and an abort's mark on the route (RolloutAbortPolicy).
    expect(asList(role.ManagedPolicyArns).map(refOf)).toEqual(['RolloutRestorePolicy', 'RolloutAbortPolicy']);
    expect([...callsOf(OPS_FUNCTIONS.write)].sort()).toEqual(needed);
    expect(granted).toEqual([...LAMBDA_ACTIONS, ...needed].sort());
    // What the write function reads beyond its own writes, it needs for them: no FilterLogEvents,
    // ListServices or target health of the read routes.
    expect(granted).not.toContain('logs:FilterLogEvents');
    expect(granted).not.toContain('ecs:ListServices');
    expect(granted).not.toContain('elasticloadbalancing:DescribeTargetHealth');
  });
});
