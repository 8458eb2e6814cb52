// What each function's code can ask AWS to do, derived from the code: the "used" side of the
// least-privilege check in package.test.ts (the "granted" side is the packaged template).
//
// From a function's handler (functions/<file>.ts, the export the template's Handler names), every call is
// followed with the TypeScript checker through functions/ and layers/app (use cases, their helpers, the
// callbacks they hand on), down to the port methods it lands on: `ports.tasks.stopTask(…)`,
// `ports.rollouts.routers[x].read(…)` and `router.setWeights(…)` resolve to the port interface and method
// they are typed with (layers/ports), whatever local name holds the port. The adapter behind each interface
// is the one among the adapters the handler builds (the adapters its `#wiring/*` file imports, with the
// wiring files that one imports, transitively) that implements it; inside the adapter, the method is read with the TypeScript
// parser and followed through the functions it calls, collecting `new XxxCommand(…)` -> service:Xxx (by
// the SDK package the command is imported from; renamed imports count by their SDK name). What every call
// site of a port method passes (a literal null, false, `{ withTags: false }`) rules out the branches of the
// adapter method that cannot run.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.resolve(__dirname, '../..');
export const ADAPTERS_DIR = path.join(ROOT, 'layers/adapters/aws');
const FUNCTIONS_DIR = path.join(ROOT, 'functions');
const WIRING_DIR = path.join(ROOT, 'layers/wiring');
const APP_DIR = path.join(ROOT, 'layers/app');
const PORTS_FILE = path.join(ROOT, 'layers/ports/index.ts');

/** Port interfaces whose implementations make no AWS call (the clock; the journal logs through Powertools). */
export const PORTS_WITHOUT_CALLS = ['ActionJournal', 'Clock'];

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
  'client-lambda': 'lambda',
  'client-sfn': 'states',
  'client-sns': 'sns',
  'client-sqs': 'sqs',
  'client-vpc-lattice': 'vpc-lattice',
};

/** Commands whose IAM action has another name than the command. */
/** Commands whose IAM action has another name: SQS's batch actions are authorised by their single actions. */
const IAM_ACTION_OF_COMMAND: Record<string, string> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
};

const parsedFiles = new Map<string, ts.SourceFile>();

export function parsed(file: string): ts.SourceFile {
  if (!parsedFiles.has(file))
    parsedFiles.set(
      file,
      ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true),
    );
  return parsedFiles.get(file)!;
}

/**
 * The IAM action of an SDK v3 command an adapter file sends, by the name it has there, e.g. ListTasksCommand
 * -> ecs:ListTasks. Renamed imports count by their SDK name (`PutScalingPolicyCommand as
 * PutServicePolicyCommand` from client-application-auto-scaling -> application-autoscaling:PutScalingPolicy).
 */
export function commandAction(file: string, local: string): string {
  for (const statement of parsed(path.join(ADAPTERS_DIR, file)).statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const client = /^@aws-sdk\/([\w-]+)$/.exec(statement.moduleSpecifier.text)?.[1];
    const bindings = statement.importClause?.namedBindings;
    if (!client || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      if (element.name.text !== local) continue;
      const prefix = SDK_PREFIXES[client];
      if (!prefix) throw new Error(`${file}: no IAM prefix known for @aws-sdk/${client}`);
      const action = `${prefix}:${(element.propertyName ?? element.name).getText().replace(/Command$/, '')}`;
      return IAM_ACTION_OF_COMMAND[action] ?? action;
    }
  }
  throw new Error(`${file}: cannot tell which service ${local} belongs to`);
}

/** Every `new XxxCommand(` of an adapter file, wherever it is: what the whole file could send. */
export function fileActions(file: string): Set<string> {
  const actions = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && /Command$/.test(node.expression.text))
      actions.add(commandAction(file, node.expression.text));
    ts.forEachChild(node, visit);
  };
  visit(parsed(path.join(ADAPTERS_DIR, file)));
  return actions;
}

/**
 * The `#adapters/aws/…` and `#wiring/…` files a source file imports for their values (type-only imports
 * build nothing), as paths.
 */
function adapterImports(file: string): string[] {
  const found: string[] = [];
  for (const statement of parsed(file).statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const match = /^#(adapters\/aws|wiring)\/([\w-]+)$/.exec(statement.moduleSpecifier.text);
    const clause = statement.importClause;
    if (!match || !clause || clause.isTypeOnly) continue;
    const bindings = clause.namedBindings;
    const values =
      clause.name !== undefined ||
      (bindings !== undefined &&
        (!ts.isNamedImports(bindings) || bindings.elements.some((element) => !element.isTypeOnly)));
    if (values) found.push(path.join(match[1] === 'wiring' ? WIRING_DIR : ADAPTERS_DIR, `${match[2]}.ts`));
  }
  return found;
}

/**
 * The adapter files a handler file builds: those its wiring file (layers/wiring/recycler.ts, …) imports,
 * and every adapter those import, transitively.
 */
export function adaptersOf(handlerFile: string): string[] {
  const seen = new Set<string>();
  const queue = adapterImports(path.join(FUNCTIONS_DIR, `${handlerFile}.ts`));
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...adapterImports(file));
  }
  return [...seen]
    .filter((file) => path.dirname(file) === ADAPTERS_DIR)
    .map((file) => path.basename(file))
    .sort();
}

/** The port interfaces of layers/ports. */
function portInterfaces(): Set<string> {
  return new Set(
    parsed(PORTS_FILE)
      .statements.filter(ts.isInterfaceDeclaration)
      .map((statement) => statement.name.text),
  );
}

/**
 * The adapter files implementing each port interface, among the given adapter files: a class that
 * implements it, or a function that returns it.
 */
export function portAdapters(files: string[]): Map<string, string[]> {
  const ports = portInterfaces();
  const implementing = new Map<string, string[]>();
  const add = (port: string, file: string) => {
    if (ports.has(port)) implementing.set(port, [...new Set([...(implementing.get(port) ?? []), file])]);
  };
  for (const file of files) {
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

// --- inside the adapters: the commands a method sends, given what its callers pass ---------------------

export type FunctionNode = ts.FunctionLikeDeclaration;

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
export type Facts = Map<string, boolean | null>;

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
export function methodActions(
  file: string,
  method: string,
  factsOf: (node: FunctionNode) => Facts,
): Set<string> {
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

// --- from the handler to the port methods ---------------------------------------------------------------

export interface PortCall {
  /** The port interface, e.g. TaskFleet */
  port: string;
  method: string;
  /** The call's arguments (none for a method referenced without a call: nothing is known of them). */
  args: readonly ts.Expression[];
}

/** What every call passes for a parameter, when all agree: a literal, or a literal property of an object. */
export function factsFromCalls(calls: PortCall[], node: FunctionNode): Facts {
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

let program: ts.Program | undefined;

/** One program over every handler file and what they import. */
function programAndChecker(): { program: ts.Program; checker: ts.TypeChecker } {
  if (!program) {
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
    const handlers = readdirSync(FUNCTIONS_DIR)
      .filter((name) => name.endsWith('.ts'))
      .map((name) => path.join(FUNCTIONS_DIR, name));
    // The code's own files, TypeScript's lib and zod (the types of parsed input flow from its schemas):
    // the rest of node_modules (the SDK, Powertools, middy) is not needed to follow calls between our
    // functions and ports, and would take seconds to load and check. A call on `ports` the checker cannot
    // type for want of them fails the derivation (below), it is not skipped.
    const host = ts.createCompilerHost(options);
    const outside = (file: string) => {
      const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      return inModules !== null && !['typescript', 'zod'].includes(inModules[1]!);
    };
    const fileExists = host.fileExists.bind(host);
    const directoryExists = host.directoryExists?.bind(host);
    host.fileExists = (file) => !outside(file) && fileExists(file);
    host.directoryExists = (directory) => !outside(directory) && (directoryExists?.(directory) ?? true);
    program = ts.createProgram(handlers, { ...options, types: [] }, host);
  }
  return { program, checker: program.getTypeChecker() };
}

/** The code of a function's own (functions/, layers/app) that a declaration stands for, if any. */
function ownFunction(declaration: ts.Declaration | undefined): FunctionNode | undefined {
  const file = declaration?.getSourceFile().fileName;
  if (!file || !(file.startsWith(`${APP_DIR}/`) || file.startsWith(`${FUNCTIONS_DIR}/`))) return undefined;
  if (ts.isFunctionDeclaration(declaration) || ts.isMethodDeclaration(declaration)) return declaration;
  if (
    (ts.isVariableDeclaration(declaration) || ts.isPropertyAssignment(declaration)) &&
    declaration.initializer &&
    (ts.isArrowFunction(declaration.initializer) || ts.isFunctionExpression(declaration.initializer))
  )
    return declaration.initializer;
  return undefined;
}

export interface Entry {
  /** The template's Handler, e.g. functions/opsApi.readHandler */
  handler: string;
  /**
   * Use cases entered in place of another: the ops API's handleOpsRequest dispatches a read route to `read`
   * and any other to `idempotent(…, () => write(…))`, and each ops function serves one kind.
   */
  enterInstead?: Record<string, string[]>;
}

/** The handler file (functions/<file>.ts, without .ts) and the export a Handler names. */
export function handlerOf(handler: string): { file: string; exportName: string } {
  const match = /^functions\/(\w+)\.(\w+)$/.exec(handler);
  if (!match) throw new Error(`not a handler in functions/: ${handler}`);
  return { file: match[1]!, exportName: match[2]! };
}

/** Every port method a handler's code reaches, with each call's arguments. */
export function portCalls(entry: Entry): PortCall[] {
  const { program, checker } = programAndChecker();
  const { file, exportName } = handlerOf(entry.handler);
  const source = program.getSourceFile(path.join(FUNCTIONS_DIR, `${file}.ts`));
  if (!source) throw new Error(`functions/${file}.ts is not in the program`);
  const start = source.statements
    .filter(ts.isVariableStatement)
    .flatMap((statement) => statement.declarationList.declarations)
    .find((declaration) => ts.isIdentifier(declaration.name) && declaration.name.text === exportName);
  if (!start?.initializer) throw new Error(`functions/${file}.ts exports no ${exportName}`);

  const declarationOf = (node: ts.Node): ts.Declaration | undefined => {
    let symbol = checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol?.declarations?.[0];
  };
  const appFunctions = new Map<string, FunctionNode>();
  for (const appFile of program.getSourceFiles().filter((f) => f.fileName.startsWith(`${APP_DIR}/`)))
    for (const statement of appFile.statements)
      if (ts.isFunctionDeclaration(statement) && statement.name)
        appFunctions.set(statement.name.text, statement);
  const instead = (node: FunctionNode): FunctionNode[] => {
    const name = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
    const replacements = name ? entry.enterInstead?.[name] : undefined;
    if (!replacements) return [node];
    return replacements.map((replacement) => {
      const found = appFunctions.get(replacement);
      if (!found) throw new Error(`layers/app has no function ${replacement}`);
      return found;
    });
  };
  /** A port method: a method of an interface of layers/ports (a property holding a port is not one). */
  const portMethod = (
    declaration: ts.Declaration | undefined,
  ): { port: string; method: string } | undefined => {
    const owner = declaration?.parent;
    if (
      declaration?.getSourceFile().fileName === PORTS_FILE &&
      (ts.isMethodSignature(declaration) ||
        (ts.isPropertySignature(declaration) &&
          declaration.type &&
          ts.isFunctionTypeNode(declaration.type))) &&
      owner &&
      ts.isInterfaceDeclaration(owner) &&
      ts.isIdentifier(declaration.name)
    )
      return { port: owner.name.text, method: declaration.name.text };
    return undefined;
  };

  // The names of every port method, and of every function or method of our own code.
  const portMemberNames = new Set<string>();
  const named = new Set<string>();
  for (const file of program.getSourceFiles()) {
    const ours = [FUNCTIONS_DIR, APP_DIR].some((dir) => file.fileName.startsWith(`${dir}/`));
    if (file.fileName !== PORTS_FILE && !ours) continue;
    const visit = (node: ts.Node): void => {
      if (file.fileName === PORTS_FILE && ts.isInterfaceDeclaration(node))
        for (const member of node.members)
          if (member.name && ts.isIdentifier(member.name) && portMethod(member))
            portMemberNames.add(member.name.text);
      if (
        ours &&
        ownFunction(node as ts.Declaration) &&
        'name' in node &&
        node.name &&
        ts.isIdentifier(node.name as ts.Node)
      )
        named.add((node.name as ts.Identifier).text);
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  for (const name of portMemberNames) named.add(name);

  const calls: PortCall[] = [];
  const seen = new Set<ts.Node>();
  const queue: ts.Node[] = [start.initializer];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (seen.has(node)) continue;
    seen.add(node);
    const visit = (child: ts.Node): void => {
      if (ts.isCallExpression(child) || ts.isNewExpression(child)) {
        const callee = ts.isPropertyAccessExpression(child.expression)
          ? child.expression.name
          : child.expression;
        // Only names that can be a port method or a function of our own are worth the checker's time
        // (typing `Schema.safeParse(…)` would instantiate zod's types for nothing).
        const worth =
          !ts.isIdentifier(callee) ||
          !ts.isPropertyAccessExpression(child.expression) ||
          named.has(callee.text);
        const declaration = worth ? declarationOf(callee) : undefined;
        // A port method called on something the checker cannot type would be missed: refuse to guess.
        if (
          !declaration &&
          ts.isIdentifier(callee) &&
          portMemberNames.has(callee.text) &&
          ts.isPropertyAccessExpression(child.expression)
        )
          throw new Error(
            `${child.getSourceFile().fileName}: cannot tell what ${child.expression.getText()} calls`,
          );
        const own = ownFunction(declaration);
        // A port method taken out of its port first (`const notify = ports.notifier.notify`): the method
        // is the callee's type.
        const heldInVariable =
          !own &&
          ts.isIdentifier(callee) &&
          declaration !== undefined &&
          (ts.isBindingElement(declaration) || ts.isVariableDeclaration(declaration));
        const port = ts.isCallExpression(child)
          ? (portMethod(declaration) ??
            (heldInVariable
              ? portMethod(checker.getTypeAtLocation(callee).getSymbol()?.declarations?.[0])
              : undefined))
          : undefined;
        if (port) calls.push({ ...port, args: child.arguments ?? [] });
        if (own) queue.push(...instead(own));
        // A function handed on as a callback runs too; a port method handed on is called with unknown
        // arguments.
        for (const argument of child.arguments ?? []) {
          const target = ts.isPropertyAccessExpression(argument) ? argument.name : argument;
          if (!ts.isIdentifier(target) || (target !== argument && !portMemberNames.has(target.text)))
            continue;
          const handedOn = declarationOf(target);
          const callback = ownFunction(handedOn);
          if (callback) queue.push(...instead(callback));
          const method = portMethod(handedOn);
          if (method) calls.push({ ...method, args: [] });
        }
      }
      ts.forEachChild(child, visit);
    };
    visit(node);
  }
  return calls;
}

/**
 * The reflexes a handler's code journals: the `reflex` of every `ActionJournal.record` it reaches, each a
 * string the checker knows (a literal, or a constant holding one). A record whose reflex the checker cannot
 * tell fails the derivation, as a port call it cannot type does.
 */
export function journaledReflexes(entry: Entry): string[] {
  const { checker } = programAndChecker();
  const reflexes = portCalls(entry)
    .filter((call) => call.port === 'ActionJournal' && call.method === 'record')
    .map((call) => {
      const [entryArg] = call.args;
      const reflex =
        entryArg && ts.isObjectLiteralExpression(entryArg)
          ? entryArg.properties.find(
              (p): p is ts.PropertyAssignment =>
                ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'reflex',
            )
          : undefined;
      // A spread after it may set the reflex again, unless its type has none.
      const overridden =
        reflex &&
        ts.isObjectLiteralExpression(entryArg!) &&
        entryArg.properties
          .slice(entryArg.properties.indexOf(reflex) + 1)
          .some(
            (p) => ts.isSpreadAssignment(p) && checker.getTypeAtLocation(p.expression).getProperty('reflex'),
          );
      const type = reflex && !overridden ? checker.getTypeAtLocation(reflex.initializer) : undefined;
      if (!type?.isStringLiteral())
        throw new Error(
          `${entryArg?.getSourceFile().fileName ?? entry.handler}: cannot tell which reflex ${entryArg?.getText() ?? 'a record'} journals`,
        );
      return type.value;
    });
  return [...new Set(reflexes)].sort();
}

/**
 * The journal records in layers/app that none of the entries' code reaches (`file:line`): a record the
 * call-graph walk misses (a call through an element access, `record.call(…)`) would journal a reflex no
 * derivation saw.
 */
export function unreachedJournalRecords(entries: Entry[]): string[] {
  const { program, checker } = programAndChecker();
  const reached = new Set(
    entries.flatMap((entry) =>
      portCalls(entry)
        .filter((call) => call.port === 'ActionJournal' && call.method === 'record')
        .map((call) => call.args[0]?.parent),
    ),
  );
  const unreached: string[] = [];
  for (const file of program.getSourceFiles().filter((f) => f.fileName.startsWith(`${APP_DIR}/`))) {
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'record' &&
        checker.getTypeAtLocation(node.expression.expression).getSymbol()?.name === 'ActionJournal' &&
        !reached.has(node)
      )
        unreached.push(
          `${path.relative(ROOT, file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`,
        );
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return unreached;
}

/** The port methods a handler's code reaches, `Interface.method`, each once. */
export function portMethodsOf(entry: Entry): string[] {
  return [...new Set(portCalls(entry).map((call) => `${call.port}.${call.method}`))].sort();
}

/** The IAM actions a handler's code can make: every port method it reaches, in the adapter behind it. */
export function codeActions(entry: Entry): Set<string> {
  const adapters = portAdapters(adaptersOf(handlerOf(entry.handler).file));
  const calls = portCalls(entry);
  const actions = new Set<string>();
  for (const key of new Set(calls.map((call) => `${call.port}.${call.method}`))) {
    const [port, method] = key.split('.') as [string, string];
    const files = adapters.get(port) ?? [];
    if (files.length === 0) {
      if (PORTS_WITHOUT_CALLS.includes(port)) continue;
      throw new Error(`${entry.handler} calls ${key}, which none of the adapters it builds implements`);
    }
    const sameMethod = calls.filter((call) => call.port === port && call.method === method);
    for (const file of files)
      for (const action of methodActions(file, method, (node) => factsFromCalls(sameMethod, node)))
        actions.add(action);
  }
  return actions;
}

// --- the workflows: what a state machine's definition invokes ----------------------------------------------

/** Service integrations a Task state may use, and the IAM action and the parameter naming its resource. */
const INTEGRATIONS: Record<string, { action: string; parameter: string }> = {
  'arn:aws:states:::lambda:invoke': { action: 'lambda:InvokeFunction', parameter: 'FunctionName' },
  'arn:aws:states:::lambda:invoke.waitForTaskToken': {
    action: 'lambda:InvokeFunction',
    parameter: 'FunctionName',
  },
  'arn:aws:states:::sns:publish': { action: 'sns:Publish', parameter: 'TopicArn' },
  'arn:aws:states:::sqs:sendMessage': { action: 'sqs:SendMessage', parameter: 'QueueUrl' },
};

/**
 * What a state machine's definition calls: per IAM action, the resources its Task states name (as
 * written, `${Placeholder}` included), through every nested Parallel branch and Map state.
 */
export function aslActions(definition: string): Map<string, Set<string>> {
  const actions = new Map<string, Set<string>>();
  const walk = (states: Record<string, Record<string, unknown>>): void => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const resource = String(state.Resource);
        const integration = INTEGRATIONS[resource];
        const parameters = (state.Parameters ?? state.Arguments ?? {}) as Record<string, unknown>;
        if (integration) {
          const target = parameters[integration.parameter];
          if (typeof target !== 'string') throw new Error(`${name}: ${integration.parameter} is not fixed`);
          actions.set(integration.action, new Set([...(actions.get(integration.action) ?? []), target]));
        } else if (/^(arn:[^:]+:lambda:|\$\{)/.test(resource)) {
          // A Lambda function named directly as the Task's resource.
          actions.set(
            'lambda:InvokeFunction',
            new Set([...(actions.get('lambda:InvokeFunction') ?? []), resource]),
          );
        } else {
          throw new Error(`${name}: no IAM action known for the integration ${resource}`);
        }
      }
      for (const branch of (state.Branches ?? []) as { States: Record<string, Record<string, unknown>> }[])
        walk(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { States: Record<string, Record<string, unknown>> }
        | undefined;
      if (processor) walk(processor.States);
    }
  };
  walk((JSON.parse(definition) as { States: Record<string, Record<string, unknown>> }).States);
  return actions;
}
