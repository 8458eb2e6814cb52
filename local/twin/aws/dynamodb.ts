// Amazon DynamoDB as the twin answers it: GetItem, PutItem, UpdateItem and DeleteItem on the twin's tables
// (a string hash key only), with condition and update expressions parsed for the part of their grammar the
// adapters use: comparisons (= <> < <= > >=), attribute_exists and attribute_not_exists, AND, OR and
// parentheses; SET path = value. Anything else in an expression is refused with a ValidationException that
// says the twin does not support it (DynamoDB would take it), rather than being half understood.
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
  hashKey: string;
  items: Map<string, Item>;
}

const validation = (message: string) => new AwsServiceError('ValidationException', message);
/** An item's most bytes, its attribute names included (DynamoDB's service quota; not adjustable). */
const MAX_ITEM_BYTES = 400 * 1024;
/** What each write may ask back: UpdateItem any of these, PutItem and DeleteItem the first two only. */
const RETURN_VALUES = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];
const unsupported = (what: string, expression: string) =>
  validation(`Invalid expression: the twin does not support ${what} (in "${expression}")`);

/** DynamoDB's answer to a condition that does not hold; with the item as it is when asked for. */
export class ConditionalCheckFailed extends AwsServiceError {
  constructor(readonly Item?: Item) {
    super('ConditionalCheckFailedException', 'The conditional request failed');
  }
}

/** The twin's tables: each table's name and the name of its hash key (of type S). */
export function dynamoDbModel(hashKeys: Record<string, string>): ServiceModel {
  const tables = new Map<string, Table>(
    Object.entries(hashKeys).map(([name, hashKey]) => [name, { hashKey, items: new Map() }]),
  );
  const tableNamed = (name: string | undefined): Table => {
    const found = name === undefined ? undefined : tables.get(name);
    if (!found) throw new AwsServiceError('ResourceNotFoundException', 'Requested resource not found');
    return found;
  };
  const target = <I extends { TableName?: string; Key?: Item; Item?: Item }>(input: I) => {
    const key = input.Key ?? input.Item ?? {};
    const first = Object.values(key)[0];
    return `${input.TableName ?? ''} ${first ? displayValue(first) : ''}`.trim();
  };
  return {
    GetItem: read(target, (input: GetItemInput): GetItemOutput => {
      const table = tableNamed(input.TableName);
      const item = table.items.get(keyOf(table, input.Key));
      return item ? { Item: structuredClone(item) } : {};
    }),
    PutItem: write(target, (input: PutItemInput): PutItemOutput => {
      const table = tableNamed(input.TableName);
      const item = input.Item ?? {};
      for (const value of Object.values(item)) checkValue(value);
      const hash = item[table.hashKey];
      if (!hash)
        throw validation(
          `One or more parameter values were invalid: Missing the key ${table.hashKey} in the item`,
        );
      if (itemBytes(item) > MAX_ITEM_BYTES)
        throw validation('Item size has exceeded the maximum allowed size');
      return writeItem(table, keyOf(table, { [table.hashKey]: hash }), input, () => structuredClone(item));
    }),
    UpdateItem: write(target, (input: UpdateItemInput): UpdateItemOutput => {
      const table = tableNamed(input.TableName);
      const key = keyOf(table, input.Key);
      if (!input.UpdateExpression) throw unsupported('an UpdateItem without an UpdateExpression', '');
      return writeItem(table, key, input, (old, update) => {
        const item: Item = structuredClone(old ?? { ...input.Key });
        for (const { path, value } of update) item[path] = structuredClone(value);
        if (itemBytes(item) > MAX_ITEM_BYTES)
          throw validation('Item size to update has exceeded the maximum allowed size');
        return item;
      });
    }),
    DeleteItem: write(target, (input: DeleteItemInput): DeleteItemOutput => {
      const table = tableNamed(input.TableName);
      return writeItem(table, keyOf(table, input.Key), input, () => undefined);
    }),
  };
}

/**
 * One write of one item: its expressions parsed (every name and value given must be used), its condition
 * checked against the item as it is, then the item replaced by what `next` makes of it, or deleted.
 */
function writeItem(
  table: Table,
  key: string,
  input: Partial<UpdateItemInput>,
  next: (old: Item | undefined, update: UpdateAction[]) => Item | undefined,
): { Attributes?: Item } {
  const returnValues = input.ReturnValues ?? 'NONE';
  const allowed = input.UpdateExpression ? RETURN_VALUES : RETURN_VALUES.slice(0, 2);
  if (!allowed.includes(returnValues)) throw validation('Return values set to invalid value');
  for (const [which, given] of Object.entries({
    Values: input.ExpressionAttributeValues,
    Names: input.ExpressionAttributeNames,
  }))
    if (given && Object.keys(given).length === 0)
      throw validation(`ExpressionAttribute${which} must not be empty`);
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const used = new Set<string>();
  const update = input.UpdateExpression ? parser(input.UpdateExpression, names, values, used).update() : [];
  const condition = input.ConditionExpression
    ? parser(input.ConditionExpression, names, values, used).condition()
    : undefined;
  for (const [which, given] of Object.entries({ Values: values, Names: names })) {
    const unused = Object.keys(given).filter((k) => !used.has(k));
    if (unused.length > 0)
      throw validation(
        `Value provided in ExpressionAttribute${which} unused in expressions: keys: {${unused.join(', ')}}`,
      );
  }
  if (update.some((action) => action.path === table.hashKey))
    throw validation(
      `One or more parameter values were invalid: Cannot update attribute ${table.hashKey}. This attribute is part of the key`,
    );
  const old = table.items.get(key);
  if (condition && !condition(old ?? {}))
    throw new ConditionalCheckFailed(
      input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? structuredClone(old) : undefined,
    );
  const item = next(old, update);
  if (item) table.items.set(key, item);
  else table.items.delete(key);
  // The UPDATED_ ones: the attributes the update set, as they were before or are now.
  const updated = (from: Item | undefined): Item =>
    Object.fromEntries(update.flatMap(({ path }) => (from?.[path] ? [[path, from[path]]] : [])));
  const answers: Record<string, () => Item | undefined> = {
    NONE: () => undefined,
    ALL_OLD: () => old,
    UPDATED_OLD: () => updated(old),
    ALL_NEW: () => item,
    UPDATED_NEW: () => updated(item),
  };
  const answer = answers[returnValues]!();
  return answer && Object.keys(answer).length > 0 ? { Attributes: structuredClone(answer) } : {};
}

/**
 * An item's size as DynamoDB counts it toward its 400 KB: each attribute's name in UTF-8 and its value. A
 * string or binary counts its bytes; a number one byte per two significant digits (leading and trailing
 * zeros left out) plus one; a boolean or null one byte; a list or map three bytes and one per element
 * besides the elements.
 */
function itemBytes(item: Item): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value),
    0,
  );
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.L !== undefined) return value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 3);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemBytes(value.M);
  return 0;
}

const numberBytes = (n: string) =>
  Math.ceil(n.replace(/^-|\.|[eE].*$/g, '').replace(/^0+|0+$/g, '').length / 2) + 1;

/** The key's hash value, as the table keeps its items by (a key is the hash key attribute alone). */
function keyOf(table: Table, key: Item | undefined): string {
  const value = key?.[table.hashKey];
  if (!value || Object.keys(key).length !== 1)
    throw validation('The provided key element does not match the schema');
  const type = Object.keys(value)[0];
  if (type !== 'S')
    throw validation(
      `One or more parameter values were invalid: Type mismatch for key ${table.hashKey} expected: S actual: ${type}`,
    );
  const text = displayValue(value);
  if (text.length === 0)
    throw validation(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${table.hashKey}`,
    );
  return text;
}

function checkValue(value: AttributeValue): void {
  if (Object.values(value).filter((type) => type !== undefined).length !== 1)
    throw validation(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  if (value.N !== undefined && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.N.trim()))
    throw validation('A value provided cannot be converted into a number');
}

/** A key's text, or any value's, as the call log names it. */
const displayValue = (value: AttributeValue): string => value.S ?? value.N ?? JSON.stringify(value);

// --- expressions -------------------------------------------------------------------------------------------

type Condition = (item: Item) => boolean;
type Operand = (item: Item) => AttributeValue | undefined;
/** SET path = value. */
type UpdateAction = { path: string; value: AttributeValue };

/**
 * The expression language's own words, and a few of DynamoDB's reserved words (its list has several
 * hundred), the ones an attribute here could plausibly be named: an unquoted name outside this subset
 * passes the twin and may still be refused by AWS.
 */
const RESERVED = new Set([
  ...'AND OR NOT BETWEEN IN SET REMOVE ADD DELETE'.split(' '),
  ...'STATUS NAME DATA KEY VALUE TIME TIMESTAMP TTL TYPE DATE STATE COUNT SIZE USER OWNER'.split(' '),
  ...'RESULT SOURCE TABLE HASH RANGE'.split(' '),
]);
const ORDERS: Record<string, (order: number) => boolean> = {
  '=': (order) => order === 0,
  '<>': (order) => order !== 0,
  '<': (order) => order < 0,
  '<=': (order) => order <= 0,
  '>': (order) => order > 0,
  '>=': (order) => order >= 0,
};

/**
 * A recursive-descent parser over one expression's tokens: names (`pk`, `#status`), values (`:now`),
 * operators and parentheses. Each name and value it reads is added to `used`.
 */
function parser(expression: string, names: Record<string, string>, values: Item, used: Set<string>) {
  const tokens = expression.match(/<>|<=|>=|[=<>(),+\-[\].]|[#:]?\w+|\S/g) ?? [];
  let position = 0;
  const peek = (ahead = 0): string | undefined => tokens[position + ahead];
  const next = (): string => {
    const token = tokens[position++];
    if (token === undefined)
      throw validation(`Invalid expression: unexpected end of expression "${expression}"`);
    return token;
  };
  const keyword = (word: string): boolean => {
    const found = peek()?.toUpperCase() === word;
    if (found) position += 1;
    return found;
  };
  const expect = (token: string): void => {
    const found = next();
    if (found !== token)
      throw validation(`Invalid expression: expected "${token}", found "${found}" in "${expression}"`);
  };
  const syntaxError = (kind: string, token: string | undefined) =>
    validation(`Invalid ${kind}: Syntax error; token: "${token}" in "${expression}"`);
  const isFunction = () => /^[A-Za-z_]+$/.test(peek() ?? '') && peek(1) === '(';

  /** An attribute name at the top level of the item (a nested path is not supported here). */
  const path = (): string => {
    const token = next();
    let name = token;
    if (token.startsWith('#')) {
      const named = names[token];
      if (named === undefined)
        throw validation(
          `Invalid expression: An expression attribute name used in the document path is not defined; attribute name: ${token}`,
        );
      used.add(token);
      name = named;
    } else if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(token)) {
      throw syntaxError('expression', token);
    } else if (RESERVED.has(token.toUpperCase())) {
      throw validation(
        `Invalid expression: Attribute name is a reserved keyword; reserved keyword: ${token}`,
      );
    }
    if (peek() === '.' || peek() === '[') throw unsupported('nested document paths', expression);
    return name;
  };
  const operand = (): Operand => {
    const token = peek();
    if (token?.startsWith(':')) {
      position += 1;
      const value = values[token];
      if (value === undefined)
        throw validation(
          `Invalid expression: An expression attribute value used in expression is not defined; attribute value: ${token}`,
        );
      used.add(token);
      return () => value;
    }
    if (isFunction()) throw unsupported(`the function ${peek()} as an operand`, expression);
    const name = path();
    return (item) => item[name];
  };

  // condition := and (OR and)*;  and := term (AND term)*;  term := ( condition ) | function | comparison
  const joined = (word: 'OR' | 'AND', part: () => Condition): Condition => {
    let left = part();
    while (keyword(word)) {
      const [a, b] = [left, part()];
      left = word === 'OR' ? (item) => a(item) || b(item) : (item) => a(item) && b(item);
    }
    return left;
  };
  const condition = (): Condition => joined('OR', () => joined('AND', term));
  const term = (): Condition => {
    if (keyword('NOT')) throw unsupported('NOT', expression);
    if (keyword('(')) {
      const inner = condition();
      expect(')');
      return inner;
    }
    if (isFunction()) {
      const exists = peek()?.toLowerCase();
      if (exists !== 'attribute_exists' && exists !== 'attribute_not_exists')
        throw unsupported(`the function ${peek()}`, expression);
      position += 2;
      const name = path();
      expect(')');
      const wanted = exists === 'attribute_exists';
      return (item) => (name in item ? wanted : !wanted);
    }
    const left = operand();
    const operator = next();
    if (/^(BETWEEN|IN)$/i.test(operator)) throw unsupported(operator.toUpperCase(), expression);
    if (!Object.hasOwn(ORDERS, operator)) throw syntaxError('expression', operator);
    const right = operand();
    return (item) => compare(left(item), operator, right(item));
  };

  return {
    condition(): Condition {
      const parsed = condition();
      if (position < tokens.length) throw syntaxError('ConditionExpression', peek());
      return parsed;
    },
    /** update := SET path = :value (, path = :value)*, the clause once */
    update(): UpdateAction[] {
      const actions: UpdateAction[] = [];
      let set = false;
      while (position < tokens.length) {
        const clause = next().toUpperCase();
        if (/^(REMOVE|ADD|DELETE)$/.test(clause)) throw unsupported(`${clause} clauses`, expression);
        if (clause !== 'SET') throw syntaxError('UpdateExpression', clause);
        if (set)
          throw validation(
            'Invalid UpdateExpression: The "SET" section can only be used once in an update expression',
          );
        set = true;
        do {
          const target = path();
          expect('=');
          const isValue = peek()?.startsWith(':');
          const from = operand();
          if (!isValue || peek() === '+' || peek() === '-')
            throw unsupported('SET from anything but a value (:name)', expression);
          actions.push({ path: target, value: from({})! });
        } while (keyword(','));
      }
      const paths = actions.map((a) => a.path);
      const twice = paths.find((p, i) => paths.indexOf(p) !== i);
      if (twice !== undefined)
        throw validation(
          `Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${twice}], path two: [${twice}]`,
        );
      return actions;
    },
  };
}

/** DynamoDB compares values of one type (N as numbers, S and B by bytes); across types, only <> holds. */
function compare(a: AttributeValue | undefined, operator: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  let order: number;
  if (a.N !== undefined && b.N !== undefined) order = Math.sign(Number(a.N) - Number(b.N));
  else if (a.S !== undefined && b.S !== undefined) order = Buffer.compare(Buffer.from(a.S), Buffer.from(b.S));
  else if (a.B !== undefined && b.B !== undefined) order = Buffer.compare(Buffer.from(a.B), Buffer.from(b.B));
  else if (operator === '=' || operator === '<>') order = JSON.stringify(a) === JSON.stringify(b) ? 0 : 1;
  else return false;
  return ORDERS[operator]!(order);
}
