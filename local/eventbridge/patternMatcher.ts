// EventBridge event-pattern matching for the local twin. The twin's router runs the real rule patterns
// in events/patterns/*.json, so a pattern that would not route an event on AWS must not route it here
// either, and a pattern AWS would refuse at deploy time should fail here first.
//
// Semantics follow the Amazon EventBridge User Guide: "Creating event patterns", "Matching events on
// null values and empty strings", "Arrays in event patterns" and "Comparison operators for use in event
// patterns". Where the guide is silent the choice is marked in a comment.

export type PatternCheck = { ok: true } | { ok: false; reason: string };

/** A pattern EventBridge would reject; `path` points into the pattern (`$.detail.state[0]`). */
export class PatternError extends Error {
  override readonly name = 'PatternError';

  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/**
 * Whether `event` matches `pattern`. Throws PatternError when the pattern itself is invalid: a broken
 * rule pattern is a bug in the repository, not a property of the event. The one exception is an empty
 * value array, which EventBridge refuses to store but which, read literally, matches nothing.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return objectMatches(compiledForMatching(pattern), event);
}

/** A rule's pattern is compiled once, at its first event: every later event reuses it. */
const compiledPatterns = new WeakMap<object, ObjectNode>();

function compiledForMatching(pattern: unknown): ObjectNode {
  if (typeof pattern !== 'object' || pattern === null) return compile(pattern, 'lenient');
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    compiled = compile(pattern, 'lenient');
    compiledPatterns.set(pattern, compiled);
  }
  return compiled;
}

/** Whether EventBridge would accept `pattern`, with the first problem found and where it is. */
export function validatePattern(pattern: unknown): PatternCheck {
  try {
    compile(pattern, 'strict');
    return { ok: true };
  } catch (error) {
    if (error instanceof PatternError) return { ok: false, reason: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------
// Compiled form: a pattern is checked once, then evaluated as plain predicates.

type Scalar = string | number | boolean | null;
type Predicate = (value: Scalar) => boolean;

type Matcher = { kind: 'exists'; present: boolean } | { kind: 'value'; test: Predicate };

type FieldNode = { kind: 'leaf'; matchers: Matcher[] } | { kind: 'object'; node: ObjectNode };

interface ObjectNode {
  fields: Array<[string, FieldNode]>;
  /** The `$or` alternatives at this level; null when there is no `$or`. */
  anyOf: ObjectNode[] | null;
}

type Mode = 'strict' | 'lenient';

// The documented range of numeric matching; EventBridge refuses bounds outside it.
const NUMERIC_LIMIT = 5e9;

const NUMERIC_OPERATORS = ['=', '>', '>=', '<', '<='] as const;
type NumericOperator = (typeof NUMERIC_OPERATORS)[number];

// ---------------------------------------------------------------------------------------------------
// Evaluation

function objectMatches(node: ObjectNode, value: unknown): boolean {
  // An array of objects matches when one element matches the whole nested pattern, so fields from
  // different elements never combine into a match.
  if (Array.isArray(value)) {
    return value.length === 0
      ? objectMatches(node, undefined)
      : value.some((item) => objectMatches(node, item));
  }
  // A missing or scalar value has no fields: only exists:false leaves can match beneath it.
  const fields: Record<string, unknown> = isPlainObject(value) ? value : {};
  const fieldsMatch = node.fields.every(([key, field]) =>
    fieldMatches(field, Object.hasOwn(fields, key) ? fields[key] : undefined),
  );
  return (
    fieldsMatch &&
    (node.anyOf === null || node.anyOf.some((alternative) => objectMatches(alternative, value)))
  );
}

function fieldMatches(field: FieldNode, value: unknown): boolean {
  if (field.kind === 'object') return objectMatches(field.node, value);
  const leaves = leafValues(value);
  return field.matchers.some((matcher) =>
    matcher.kind === 'exists' ? leaves.length > 0 === matcher.present : leaves.some(matcher.test),
  );
}

// Only scalars are leaves: exists matching "does not work on intermediate nodes", so an object (or an
// array holding only objects) counts as absent for a leaf matcher.
function leafValues(value: unknown): Scalar[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  return isScalar(value) ? [value] : [];
}

// ---------------------------------------------------------------------------------------------------
// Compilation and validation

function compile(pattern: unknown, mode: Mode): ObjectNode {
  if (!isPlainObject(pattern))
    throw new PatternError('$', `a pattern must be a JSON object, not ${describe(pattern)}`);
  return compileObject(pattern, '$', mode);
}

function compileObject(pattern: Record<string, unknown>, path: string, mode: Mode): ObjectNode {
  const fields: Array<[string, FieldNode]> = [];
  let anyOf: ObjectNode[] | null = null;
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${path}.${key}`;
    if (key === '$or') {
      anyOf = compileOr(value, at, mode);
    } else if (Array.isArray(value)) {
      fields.push([key, { kind: 'leaf', matchers: compileLeaf(value, at, mode) }]);
    } else if (isPlainObject(value)) {
      fields.push([key, { kind: 'object', node: compileObject(value, at, mode) }]);
    } else {
      throw new PatternError(
        at,
        `must be an array of values to match or a nested object, not ${describe(value)}`,
      );
    }
  }
  return { fields, anyOf };
}

function compileOr(value: unknown, at: string, mode: Mode): ObjectNode[] {
  // An $or with one branch is just that branch; EventBridge wants at least two (see the tests).
  if (!Array.isArray(value) || value.length < 2) {
    throw new PatternError(at, '$or takes an array of at least two patterns');
  }
  return value.map((alternative, index) => {
    const where = `${at}[${index}]`;
    if (!isPlainObject(alternative) || Object.keys(alternative).length === 0) {
      throw new PatternError(
        where,
        `each $or branch must be a non-empty pattern object, not ${describe(alternative)}`,
      );
    }
    return compileObject(alternative, where, mode);
  });
}

function compileLeaf(values: unknown[], at: string, mode: Mode): Matcher[] {
  if (values.length === 0 && mode === 'strict') {
    throw new PatternError(at, 'an empty array matches nothing; EventBridge rejects it');
  }
  return values.map((value, index) => compileMatcher(value, `${at}[${index}]`));
}

function compileMatcher(value: unknown, at: string): Matcher {
  if (isScalar(value)) return { kind: 'value', test: (actual) => actual === value };
  if (!isPlainObject(value))
    throw new PatternError(at, `must be a value or a matcher object, not ${describe(value)}`);
  const [operator, operand] = singleEntry(value, at, 'a matcher object');
  const where = `${at}.${operator}`;
  switch (operator) {
    case 'prefix':
      return valueMatcher(affixTest(operand, where, (text, affix) => text.startsWith(affix)));
    case 'suffix':
      return valueMatcher(affixTest(operand, where, (text, affix) => text.endsWith(affix)));
    case 'equals-ignore-case': {
      const expected = foldCase(requireString(operand, where));
      return valueMatcher(stringsOnly((text) => foldCase(text) === expected));
    }
    case 'wildcard':
      return valueMatcher(stringsOnly(wildcardTest(requireString(operand, where), where)));
    case 'anything-but':
      return valueMatcher(anythingButTest(operand, where));
    case 'numeric':
      return valueMatcher(numericTest(operand, where));
    case 'cidr':
      return valueMatcher(cidrTest(operand, where));
    case 'exists':
      if (typeof operand !== 'boolean')
        throw new PatternError(where, `takes true or false, not ${describe(operand)}`);
      return { kind: 'exists', present: operand };
    default:
      throw new PatternError(at, `unknown operator "${operator}"`);
  }
}

function valueMatcher(test: Predicate): Matcher {
  return { kind: 'value', test };
}

function stringsOnly(test: (text: string) => boolean): Predicate {
  return (value) => typeof value === 'string' && test(value);
}

// prefix and suffix take a string, or {"equals-ignore-case": string} to ignore case.
function affixTest(operand: unknown, at: string, holds: (text: string, affix: string) => boolean): Predicate {
  if (typeof operand === 'string') return stringsOnly((text) => holds(text, operand));
  if (isPlainObject(operand)) {
    const [option, affix] = singleEntry(operand, at, 'this operator');
    if (option !== 'equals-ignore-case')
      throw new PatternError(`${at}.${option}`, 'only equals-ignore-case may go here');
    const folded = foldCase(requireString(affix, `${at}.${option}`));
    return stringsOnly((text) => holds(foldCase(text), folded));
  }
  throw new PatternError(at, `takes a string or {"equals-ignore-case": string}, not ${describe(operand)}`);
}

// anything-but matches every present value except the excluded ones, including null and values of
// another type: that is how EventBridge behaves, the guide does not say.
function anythingButTest(operand: unknown, at: string): Predicate {
  if (isPlainObject(operand)) {
    const [option, inner] = singleEntry(operand, at, 'anything-but');
    const where = `${at}.${option}`;
    const excluded = excludedStringTest(option, inner, where);
    return (value) => !(typeof value === 'string' && excluded(value));
  }
  const values: unknown[] = Array.isArray(operand) ? operand : [operand];
  const allStrings = values.every((value) => typeof value === 'string');
  const allNumbers = values.every((value) => typeof value === 'number');
  if (values.length === 0 || !(allStrings || allNumbers)) {
    throw new PatternError(
      at,
      'takes a string, a number, or a non-empty list of only strings or only numbers',
    );
  }
  return (value) => !values.some((excluded) => excluded === value);
}

function excludedStringTest(option: string, inner: unknown, at: string): (text: string) => boolean {
  switch (option) {
    case 'prefix': {
      const prefixes = stringList(inner, at, { allowEmpty: false });
      return (text) => prefixes.some((prefix) => text.startsWith(prefix));
    }
    case 'suffix': {
      const suffixes = stringList(inner, at, { allowEmpty: false });
      return (text) => suffixes.some((suffix) => text.endsWith(suffix));
    }
    case 'equals-ignore-case': {
      const folded = new Set(stringList(inner, at, { allowEmpty: true }).map(foldCase));
      return (text) => folded.has(foldCase(text));
    }
    case 'wildcard': {
      const tests = stringList(inner, at, { allowEmpty: true }).map((wildcard, index) =>
        wildcardTest(wildcard, Array.isArray(inner) ? `${at}[${index}]` : at),
      );
      return (text) => tests.some((test) => test(text));
    }
    default:
      throw new PatternError(at, 'anything-but takes prefix, suffix, equals-ignore-case or wildcard here');
  }
}

function stringList(operand: unknown, at: string, { allowEmpty }: { allowEmpty: boolean }): string[] {
  const values = Array.isArray(operand) ? operand : [operand];
  const usable = (value: unknown): value is string =>
    typeof value === 'string' && (allowEmpty || value !== '');
  if (values.length === 0 || !values.every(usable)) {
    const what = allowEmpty ? 'strings' : 'non-empty strings';
    throw new PatternError(at, `takes a string or a non-empty list of ${what}`);
  }
  return values;
}

function numericTest(operand: unknown, at: string): Predicate {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new PatternError(
      at,
      'takes [operator, number] or [lower operator, number, upper operator, number]',
    );
  }
  const checks: Array<{ operator: NumericOperator; bound: number }> = [];
  for (let index = 0; index < operand.length; index += 2) {
    const operator: unknown = operand[index];
    const bound: unknown = operand[index + 1];
    if (!isNumericOperator(operator)) {
      throw new PatternError(`${at}[${index}]`, `unknown numeric operator ${JSON.stringify(operator)}`);
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound) || Math.abs(bound) > NUMERIC_LIMIT) {
      throw new PatternError(
        `${at}[${index + 1}]`,
        `must be a number between -5e9 and 5e9, not ${JSON.stringify(bound)}`,
      );
    }
    checks.push({ operator, bound });
  }
  const [lower, upper] = checks;
  if (lower && upper) {
    if (lower.operator !== '>' && lower.operator !== '>=') {
      throw new PatternError(`${at}[0]`, 'a numeric range starts with > or >=');
    }
    if (upper.operator !== '<' && upper.operator !== '<=') {
      throw new PatternError(`${at}[2]`, 'a numeric range ends with < or <=');
    }
    if (lower.bound >= upper.bound)
      throw new PatternError(at, 'the lower bound must be below the upper bound');
  }
  // Only JSON numbers take part: "5" in an event is a string, and strings never compare numerically.
  return (value) =>
    typeof value === 'number' && checks.every(({ operator, bound }) => compare(value, operator, bound));
}

function compare(value: number, operator: NumericOperator, bound: number): boolean {
  switch (operator) {
    case '=':
      return value === bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
  }
}

function isNumericOperator(value: unknown): value is NumericOperator {
  return NUMERIC_OPERATORS.some((operator) => operator === value);
}

// ---------------------------------------------------------------------------------------------------
// Wildcards: `*` matches any run of characters, `\*` is a literal star and `\\` a literal backslash.

function wildcardTest(wildcard: string, at: string): (text: string) => boolean {
  const segments = wildcardSegments(wildcard, at);
  return (text) => segmentsMatch(segments, text);
}

/** The literal runs between the stars: "a*b*" becomes ["a", "b", ""]. */
function wildcardSegments(wildcard: string, at: string): string[] {
  const segments: string[] = [];
  let current = '';
  let previousWasStar = false;
  for (let index = 0; index < wildcard.length; index += 1) {
    const char = wildcard.charAt(index);
    if (char === '\\') {
      const escaped = wildcard.charAt(index + 1);
      if (escaped !== '*' && escaped !== '\\') {
        throw new PatternError(at, `a backslash may only escape * or \\ (position ${index})`);
      }
      current += escaped;
      index += 1;
      previousWasStar = false;
    } else if (char === '*') {
      if (previousWasStar)
        throw new PatternError(at, `consecutive * wildcards are not allowed (position ${index})`);
      segments.push(current);
      current = '';
      previousWasStar = true;
    } else {
      current += char;
      previousWasStar = false;
    }
  }
  segments.push(current);
  return segments;
}

// With literals and stars only, matching the first segment as a prefix, the last as a suffix and each
// middle one at its leftmost place in between is exact, and linear, with no backtracking.
function segmentsMatch(segments: string[], text: string): boolean {
  const first = segments[0] ?? '';
  if (segments.length === 1) return text === first;
  const last = segments[segments.length - 1] ?? '';
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last))
    return false;
  const end = text.length - last.length;
  let position = first.length;
  for (const segment of segments.slice(1, -1)) {
    const found = text.indexOf(segment, position);
    if (found === -1 || found + segment.length > end) return false;
    position = found + segment.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// CIDR: IPv4 and IPv6 as bigints, so one comparison serves both.

interface Address {
  bits: bigint;
  width: 32 | 128;
}

function cidrTest(operand: unknown, at: string): Predicate {
  if (typeof operand !== 'string')
    throw new PatternError(at, `takes a CIDR string, not ${describe(operand)}`);
  const block = parseCidr(operand);
  if (!block) throw new PatternError(at, `"${operand}" is not an IPv4 or IPv6 address or CIDR block`);
  const shift = BigInt(block.network.width - block.prefixLength);
  const network = block.network.bits >> shift;
  return (value) => {
    if (typeof value !== 'string') return false;
    const address = parseAddress(value);
    return address !== null && address.width === block.network.width && address.bits >> shift === network;
  };
}

// A bare address is taken as a block of one; the guide only shows the /n form.
function parseCidr(text: string): { network: Address; prefixLength: number } | null {
  const [addressText = '', lengthText, ...rest] = text.split('/');
  const network = parseAddress(addressText);
  if (!network || rest.length > 0) return null;
  if (lengthText === undefined) return { network, prefixLength: network.width };
  if (!/^\d{1,3}$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  return prefixLength <= network.width ? { network, prefixLength } : null;
}

function parseAddress(text: string): Address | null {
  if (text.includes(':')) {
    const bits = parseIpv6(text);
    return bits === null ? null : { bits, width: 128 };
  }
  const octets = parseIpv4(text);
  return octets === null ? null : { bits: toBits(octets, 8n), width: 32 };
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = ipv6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? ipv6Groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return toBits([...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail], 16n);
}

// Groups of up to four hex digits; the last may be a dotted IPv4 address (::ffff:10.0.0.1).
function ipv6Groups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes('.')) {
      const octets = parseIpv4(part);
      if (octets === null) return null;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      groups.push(a * 256 + b, c * 256 + d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function toBits(parts: number[], partWidth: bigint): bigint {
  return parts.reduce((bits, part) => (bits << partWidth) | BigInt(part), 0n);
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function singleEntry(value: Record<string, unknown>, at: string, what: string): [string, unknown] {
  const entries = Object.entries(value);
  const [entry] = entries;
  if (!entry || entries.length > 1) {
    throw new PatternError(at, `${what} takes exactly one operator, found ${entries.length}`);
  }
  return entry;
}

function requireString(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new PatternError(at, `takes a string, not ${describe(value)}`);
  return value;
}

function foldCase(text: string): string {
  return text.toLowerCase();
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
