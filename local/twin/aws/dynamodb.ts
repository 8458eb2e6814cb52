// Amazon DynamoDB as the twin answers it: GetItem, PutItem, UpdateItem and DeleteItem on the twin's tables
// (a hash key only), with condition and update expressions parsed for the part of their grammar the
// adapters use: comparisons (= <> < <= > >=), attribute_exists and attribute_not_exists, AND, OR, NOT and
// parentheses; SET path = value and REMOVE path. Anything else in an expression is refused with a
// ValidationException that says the twin does not support it (DynamoDB would take it), rather than being
// half understood.
import type {
  AttributeValue,
  DeleteItemInput,
  DeleteItemOutput,
  GetItemInput,
  GetItemOutput,
  PutItemInput,
  PutItemOutput,
  UpdateItemInput,
  UpdateItemOutput,
} from '@aws-sdk/client-dynamodb';
import { AwsServiceError, read, type ServiceModel, write } from '#local/twin/aws/client';

type Item = Record<string, AttributeValue>;

interface Table {
  name: string;
  hashKey: string;
  hashKeyType: 'S' | 'N' | 'B';
  items: Map<string, Item>;
}

/** The twin's tables, by name. */
export class TwinDynamoDb {
  private readonly tables = new Map<string, Table>();

  createTable(name: string, hashKey: { name: string; type: 'S' | 'N' | 'B' }): void {
    this.tables.set(name, { name, hashKey: hashKey.name, hashKeyType: hashKey.type, items: new Map() });
  }

  /** @internal the model's lookup */
  table(name: string | undefined): Table {
    const table = name === undefined ? undefined : this.tables.get(name);
    if (!table) throw new AwsServiceError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }
}

const validation = (message: string) => new AwsServiceError('ValidationException', message);
const unsupported = (what: string, expression: string) =>
  validation(`Invalid expression: the twin does not support ${what} (in "${expression}")`);

/** DynamoDB's answer to a condition that does not hold; with the item as it is when asked for. */
export class ConditionalCheckFailed extends AwsServiceError {
  constructor(readonly Item?: Item) {
    super('ConditionalCheckFailedException', 'The conditional request failed');
  }
}

export function dynamoDbModel(dynamo: TwinDynamoDb): ServiceModel {
  const target = (input: { TableName?: string; Key?: Item; Item?: Item }) => {
    const key = input.Key ?? input.Item ?? {};
    const first = Object.values(key)[0];
    return `${input.TableName ?? ''} ${first ? displayValue(first) : ''}`.trim();
  };
  return {
    GetItem: read<GetItemInput, GetItemOutput>(target, (input: GetItemInput): GetItemOutput => {
      const table = dynamo.table(input.TableName);
      const item = table.items.get(keyOf(table, input.Key));
      return item ? { Item: structuredClone(item) } : {};
    }),
    PutItem: write<PutItemInput, PutItemOutput>(target, (input: PutItemInput): PutItemOutput => {
      const table = dynamo.table(input.TableName);
      const item = input.Item ?? {};
      for (const value of Object.values(item)) checkValue(value);
      const key = keyOf(table, { [table.hashKey]: item[table.hashKey] as AttributeValue }, 'item');
      const old = table.items.get(key);
      check(input, old);
      table.items.set(key, structuredClone(item));
      return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
    }),
    UpdateItem: write<UpdateItemInput, UpdateItemOutput>(
      target,
      (input: UpdateItemInput): UpdateItemOutput => {
        const table = dynamo.table(input.TableName);
        const key = keyOf(table, input.Key);
        const old = table.items.get(key);
        if (!input.UpdateExpression) throw unsupported('an UpdateItem without an UpdateExpression', '');
        const names = input.ExpressionAttributeNames ?? {};
        const values = input.ExpressionAttributeValues ?? {};
        const used = { names: new Set<string>(), values: new Set<string>() };
        const update = parseUpdate(input.UpdateExpression, names, values, used);
        const condition = input.ConditionExpression
          ? parseCondition(input.ConditionExpression, names, values, used)
          : undefined;
        unusedCheck(names, values, used);
        if (update.some((action) => action.path === table.hashKey))
          throw validation(
            `One or more parameter values were invalid: Cannot update attribute ${table.hashKey}. This attribute is part of the key`,
          );
        if (condition && !condition(old ?? {}))
          throw new ConditionalCheckFailed(
            input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? structuredClone(old) : undefined,
          );
        const item: Item = structuredClone(old ?? { ...input.Key });
        for (const action of update) {
          if (action.kind === 'set') item[action.path] = structuredClone(action.value);
          else delete item[action.path];
        }
        table.items.set(key, item);
        if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(item) };
        if (input.ReturnValues === 'ALL_OLD' && old) return { Attributes: old };
        return {};
      },
    ),
    DeleteItem: write<DeleteItemInput, DeleteItemOutput>(
      target,
      (input: DeleteItemInput): DeleteItemOutput => {
        const table = dynamo.table(input.TableName);
        const key = keyOf(table, input.Key);
        const old = table.items.get(key);
        check(input, old);
        table.items.delete(key);
        return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
      },
    ),
  };
}

/** A conditional write's condition, parsed and checked against the item as it is (empty when none). */
function check(
  input: {
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
    ReturnValuesOnConditionCheckFailure?: string;
  },
  old: Item | undefined,
): void {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const used = { names: new Set<string>(), values: new Set<string>() };
  const condition = input.ConditionExpression
    ? parseCondition(input.ConditionExpression, names, values, used)
    : undefined;
  unusedCheck(names, values, used);
  if (condition && !condition(old ?? {}))
    throw new ConditionalCheckFailed(
      input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? structuredClone(old) : undefined,
    );
}

function unusedCheck(
  names: Record<string, string>,
  values: Item,
  used: { names: Set<string>; values: Set<string> },
): void {
  const unusedValues = Object.keys(values).filter((v) => !used.values.has(v));
  if (unusedValues.length > 0)
    throw validation(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
    );
  const unusedNames = Object.keys(names).filter((n) => !used.names.has(n));
  if (unusedNames.length > 0)
    throw validation(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
    );
}

function keyOf(table: Table, key: Item | undefined, where: 'key' | 'item' = 'key'): string {
  const attributes = Object.keys(key ?? {});
  const value = key?.[table.hashKey];
  if (!value)
    throw validation(
      where === 'item'
        ? `One or more parameter values were invalid: Missing the key ${table.hashKey} in the item`
        : 'The provided key element does not match the schema',
    );
  if (where === 'key' && attributes.length !== 1)
    throw validation('The provided key element does not match the schema');
  const type = Object.keys(value)[0];
  if (type !== table.hashKeyType)
    throw validation(
      `One or more parameter values were invalid: Type mismatch for key ${table.hashKey} expected: ${table.hashKeyType} actual: ${type}`,
    );
  const text = displayValue(value);
  if (text.length === 0)
    throw validation(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${table.hashKey}`,
    );
  return text;
}

function checkValue(value: AttributeValue): void {
  const types = Object.keys(value).filter(
    (k) => (value as unknown as Record<string, unknown>)[k] !== undefined,
  );
  if (types.length !== 1)
    throw validation(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  if (value.N !== undefined && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.N.trim()))
    throw validation('A value provided cannot be converted into a number');
}

function displayValue(value: AttributeValue): string {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  return JSON.stringify(value);
}

// --- expressions -------------------------------------------------------------------------------------------

type Condition = (item: Item) => boolean;
type Operand = { kind: 'path'; name: string } | { kind: 'value'; value: AttributeValue };
type UpdateAction = { kind: 'set'; path: string; value: AttributeValue } | { kind: 'remove'; path: string };

const RESERVED = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'SET', 'REMOVE', 'ADD', 'DELETE']);

/** Tokens: names (`pk`, `#status`), values (`:now`), operators and parentheses. */
function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*(<>|<=|>=|[=<>(),+\-[\].]|[#:]?[A-Za-z0-9_]+|\S)/y;
  while (!/^\s*$/.test(expression.slice(pattern.lastIndex))) {
    const match = pattern.exec(expression);
    if (!match) break;
    tokens.push(match[1]!);
  }
  return tokens;
}

class Parser {
  private position = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: string[],
    private readonly names: Record<string, string>,
    private readonly values: Item,
    private readonly used: { names: Set<string>; values: Set<string> },
  ) {}

  peek(): string | undefined {
    return this.tokens[this.position];
  }

  next(): string {
    const token = this.tokens[this.position++];
    if (token === undefined)
      throw validation(`Invalid expression: unexpected end of expression "${this.expression}"`);
    return token;
  }

  expect(token: string): void {
    const found = this.next();
    if (found.toUpperCase() !== token)
      throw validation(`Invalid expression: expected "${token}", found "${found}" in "${this.expression}"`);
  }

  done(): boolean {
    return this.position >= this.tokens.length;
  }

  keyword(word: string): boolean {
    if (this.peek()?.toUpperCase() !== word) return false;
    this.position += 1;
    return true;
  }

  /** An attribute name at the top level of the item (a nested path is not supported here). */
  path(): string {
    const token = this.next();
    let name: string;
    if (token.startsWith('#')) {
      const named = this.names[token];
      if (named === undefined)
        throw validation(
          `Invalid expression: An expression attribute name used in the document path is not defined; attribute name: ${token}`,
        );
      this.used.names.add(token);
      name = named;
    } else if (/^[A-Za-z][A-Za-z0-9_]*$/.test(token)) {
      if (RESERVED.has(token.toUpperCase()) || DYNAMODB_RESERVED.has(token.toUpperCase()))
        throw validation(
          `Invalid expression: Attribute name is a reserved keyword; reserved keyword: ${token}`,
        );
      name = token;
    } else {
      throw validation(`Invalid expression: Syntax error; token: "${token}" in "${this.expression}"`);
    }
    if (this.peek() === '.' || this.peek() === '[')
      throw unsupported('nested document paths', this.expression);
    return name;
  }

  operand(): Operand {
    const token = this.peek();
    if (token?.startsWith(':')) {
      this.next();
      const value = this.values[token];
      if (value === undefined)
        throw validation(
          `Invalid expression: An expression attribute value used in expression is not defined; attribute value: ${token}`,
        );
      this.used.values.add(token);
      return { kind: 'value', value };
    }
    if (token !== undefined && /^[A-Za-z_]+$/.test(token) && this.tokens[this.position + 1] === '(')
      throw unsupported(`the function ${token} as an operand`, this.expression);
    return { kind: 'path', name: this.path() };
  }

  // condition := or;  or := and (OR and)*;  and := not (AND not)*;  not := NOT not | primary
  condition(): Condition {
    let left = this.and();
    while (this.keyword('OR')) {
      const [a, b] = [left, this.and()];
      left = (item) => a(item) || b(item);
    }
    return left;
  }

  private and(): Condition {
    let left = this.not();
    while (this.keyword('AND')) {
      const [a, b] = [left, this.not()];
      left = (item) => a(item) && b(item);
    }
    return left;
  }

  private not(): Condition {
    if (this.keyword('NOT')) {
      const inner = this.not();
      return (item) => !inner(item);
    }
    return this.primary();
  }

  private primary(): Condition {
    const token = this.peek();
    if (token === '(') {
      this.next();
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    const lower = token?.toLowerCase();
    if (
      (lower === 'attribute_exists' || lower === 'attribute_not_exists') &&
      this.tokens[this.position + 1] === '('
    ) {
      this.next();
      this.expect('(');
      const name = this.path();
      this.expect(')');
      return lower === 'attribute_exists' ? (item) => name in item : (item) => !(name in item);
    }
    if (token !== undefined && /^[A-Za-z_]+$/.test(token) && this.tokens[this.position + 1] === '(')
      throw unsupported(`the function ${token}`, this.expression);
    const left = this.operand();
    const operator = this.next();
    if (operator.toUpperCase() === 'BETWEEN' || operator.toUpperCase() === 'IN')
      throw unsupported(operator.toUpperCase(), this.expression);
    if (!['=', '<>', '<', '<=', '>', '>='].includes(operator))
      throw validation(`Invalid expression: Syntax error; token: "${operator}" in "${this.expression}"`);
    const right = this.operand();
    return (item) => compare(resolve(left, item), operator, resolve(right, item));
  }

  /** update := (SET action (, action)* | REMOVE path (, path)*)+ */
  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    while (!this.done()) {
      const clause = this.next().toUpperCase();
      if (clause === 'ADD' || clause === 'DELETE') throw unsupported(`${clause} clauses`, this.expression);
      if (clause !== 'SET' && clause !== 'REMOVE')
        throw validation(
          `Invalid UpdateExpression: Syntax error; token: "${clause}" in "${this.expression}"`,
        );
      if (seen.has(clause))
        throw validation(
          `Invalid UpdateExpression: The "${clause}" section can only be used once in an update expression`,
        );
      seen.add(clause);
      do {
        const path = this.path();
        if (clause === 'REMOVE') {
          actions.push({ kind: 'remove', path });
          continue;
        }
        this.expect('=');
        const value = this.operand();
        if (value.kind !== 'value' || this.peek() === '+' || this.peek() === '-')
          throw unsupported('SET from anything but a value (:name)', this.expression);
        actions.push({ kind: 'set', path, value: value.value });
      } while (this.keyword(','));
    }
    const paths = actions.map((a) => a.path);
    const twice = paths.find((p, i) => paths.indexOf(p) !== i);
    if (twice !== undefined)
      throw validation(
        `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${twice}], path two: [${twice}]`,
      );
    return actions;
  }
}

function parseCondition(
  expression: string,
  names: Record<string, string>,
  values: Item,
  used: { names: Set<string>; values: Set<string> },
): Condition {
  const parser = new Parser(expression, tokenize(expression), names, values, used);
  const condition = parser.condition();
  if (!parser.done())
    throw validation(
      `Invalid ConditionExpression: Syntax error; token: "${parser.peek()}" in "${expression}"`,
    );
  return condition;
}

function parseUpdate(
  expression: string,
  names: Record<string, string>,
  values: Item,
  used: { names: Set<string>; values: Set<string> },
): UpdateAction[] {
  return new Parser(expression, tokenize(expression), names, values, used).update();
}

function resolve(operand: Operand, item: Item): AttributeValue | undefined {
  return operand.kind === 'value' ? operand.value : item[operand.name];
}

/** DynamoDB compares values of one type (N as numbers, S and B by bytes); across types, only <> holds. */
function compare(a: AttributeValue | undefined, operator: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  let order: number | undefined;
  if (a.N !== undefined && b.N !== undefined) order = Math.sign(Number(a.N) - Number(b.N));
  else if (a.S !== undefined && b.S !== undefined) order = Buffer.compare(Buffer.from(a.S), Buffer.from(b.S));
  else if (a.B !== undefined && b.B !== undefined) order = Buffer.compare(Buffer.from(a.B), Buffer.from(b.B));
  if (order === undefined) {
    const equal = JSON.stringify(a) === JSON.stringify(b);
    if (operator === '=') return equal;
    if (operator === '<>') return !equal;
    return false;
  }
  switch (operator) {
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    default:
      return order >= 0;
  }
}

/**
 * A few of DynamoDB's reserved words (its list has several hundred), the ones an attribute here could
 * plausibly be named: an unquoted name outside this subset passes the twin and may still be refused by AWS.
 */
const DYNAMODB_RESERVED = new Set([
  'STATUS',
  'NAME',
  'DATA',
  'KEY',
  'VALUE',
  'TIME',
  'TIMESTAMP',
  'TTL',
  'TYPE',
  'DATE',
  'STATE',
  'COUNT',
  'SIZE',
  'USER',
  'OWNER',
  'RESULT',
  'SOURCE',
  'TABLE',
  'HASH',
  'RANGE',
]);
