// Amazon CloudWatch Logs as the twin answers it: FilterLogEvents over the log groups the twin's Lambda
// functions write to (/aws/lambda/<function>), with the time range, the direction (startFromHead), the
// page size and token, and the JSON filter patterns (`{ $.a = "x" && ($.b = "y" || $.b = "z*") }`) the
// action history reads its lines with. Other pattern forms (terms, regular expressions, IS NULL) are
// refused with an InvalidParameterException that says the twin does not support them.
import type {
  FilteredLogEvent,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
} from '@aws-sdk/client-cloudwatch-logs';
import { AwsServiceError, read, type ServiceModel } from '#local/twin/aws/client';

interface LogEvent {
  /** Its place in the twin's whole log: events of one instant are in the order they were written. */
  sequence: number;
  logStreamName: string;
  timestamp: number;
  ingestionTime: number;
  message: string;
}

/** FilterLogEvents refuses `startFromHead: false` for a startTime before this instant. */
const NEWEST_FIRST_SINCE = Date.UTC(2024, 0, 1);
const MAX_LIMIT = 10_000;
const MAX_PATTERN = 1024;

const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message);

export class TwinLogs {
  private readonly groups = new Map<string, LogEvent[]>();
  private sequence = 0;

  constructor(private readonly clock: { now(): Date }) {}

  createLogGroup(name: string): void {
    if (!this.groups.has(name)) this.groups.set(name, []);
  }

  /** A line a function logs now (what its runtime sends to its log group). */
  put(group: string, logStreamName: string, message: string): void {
    this.createLogGroup(group);
    const now = this.clock.now().getTime();
    this.groups.get(group)!.push({
      sequence: this.sequence++,
      logStreamName,
      timestamp: now,
      ingestionTime: now,
      message,
    });
  }

  /** @internal the model's lookup */
  events(group: string): LogEvent[] {
    const events = this.groups.get(group);
    if (!events)
      throw new AwsServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
    return events;
  }
}

interface PageToken {
  group: string;
  pattern: string;
  newestFirst: boolean;
  /** The last event returned: the next page starts past it. */
  after: [number, number];
}

export function cloudWatchLogsModel(logs: TwinLogs): ServiceModel {
  return {
    FilterLogEvents: read(
      (input: FilterLogEventsRequest) => input.logGroupName ?? input.logGroupIdentifier ?? '',
      (input: FilterLogEventsRequest): FilterLogEventsResponse => {
        if ((input.logGroupName === undefined) === (input.logGroupIdentifier === undefined))
          throw invalid('LogGroupName or LogGroupIdentifier parameter is required, but not both.');
        if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined)
          throw invalid('Cannot specify both logStreamNames and logStreamNamePrefix');
        const limit = input.limit ?? MAX_LIMIT;
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
          throw invalid(
            `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint`,
          );
        const pattern = input.filterPattern ?? '';
        if (pattern.length > MAX_PATTERN)
          throw invalid(
            `1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PATTERN}`,
          );
        const group = (input.logGroupName ?? input.logGroupIdentifier)!
          .replace(/^arn:[^:]*:logs:[^:]*:\d*:log-group:/, '')
          .replace(/:\*$/, '');
        const token = input.nextToken === undefined ? undefined : readToken(input.nextToken, group, pattern);
        const newestFirst = token ? token.newestFirst : input.startFromHead === false;
        if (!token && newestFirst && (input.startTime ?? 0) < NEWEST_FIRST_SINCE)
          throw invalid(
            'startFromHead=false is only supported for startTime on or after 2024-01-01T00:00:00Z',
          );
        const matches = parsePattern(pattern);
        const start = input.startTime ?? Number.NEGATIVE_INFINITY;
        const end = input.endTime ?? Number.POSITIVE_INFINITY;
        const order = (e: LogEvent): [number, number] => [e.timestamp, e.sequence];
        const past = (e: LogEvent) => {
          if (!token) return true;
          const [t, s] = order(e);
          const [at, as] = token.after;
          return newestFirst ? t < at || (t === at && s < as) : t > at || (t === at && s > as);
        };
        const found = logs
          .events(group)
          .filter(
            (e) =>
              e.timestamp >= start &&
              e.timestamp <= end &&
              (input.logStreamNames === undefined || input.logStreamNames.includes(e.logStreamName)) &&
              (input.logStreamNamePrefix === undefined ||
                e.logStreamName.startsWith(input.logStreamNamePrefix)) &&
              past(e) &&
              matches(e.message),
          )
          .sort((a, b) => a.timestamp - b.timestamp || a.sequence - b.sequence);
        if (newestFirst) found.reverse();
        const page = found.slice(0, limit);
        const last = page.at(-1);
        const events: FilteredLogEvent[] = page.map((e) => ({
          logStreamName: e.logStreamName,
          timestamp: e.timestamp,
          message: e.message,
          ingestionTime: e.ingestionTime,
          eventId: String(e.sequence).padStart(56, '0'),
        }));
        return {
          events,
          searchedLogStreams: [],
          ...(found.length > limit && last
            ? { nextToken: writeToken({ group, pattern, newestFirst, after: order(last) }) }
            : {}),
        };
      },
    ),
  };
}

const writeToken = (token: PageToken) => Buffer.from(JSON.stringify(token)).toString('base64url');

function readToken(text: string, group: string, pattern: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString()) as PageToken;
    if (token.group === group && token.pattern === pattern && Array.isArray(token.after)) return token;
  } catch {
    // refused below
  }
  throw invalid('The specified nextToken is invalid.');
}

// --- JSON filter patterns ------------------------------------------------------------------------------------

type Matcher = (line: unknown) => boolean;

const unsupported = (pattern: string, what: string) =>
  invalid(`Invalid filter pattern: the twin does not support ${what} (in "${pattern}")`);

/** The pattern as a test of one message: empty matches everything, a JSON pattern the parsed line. */
function parsePattern(pattern: string): (message: string) => boolean {
  if (pattern.trim().length === 0) return () => true;
  const text = pattern.trim();
  if (!text.startsWith('{') || !text.endsWith('}'))
    throw unsupported(pattern, 'patterns other than JSON ones ({ $.field = value ... })');
  const tokens = tokenize(text.slice(1, -1), pattern);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw invalid(`Invalid filter pattern: unexpected end of "${pattern}"`);
    return token;
  };
  const or = (): Matcher => {
    let left = and();
    while (peek()?.value === '||') {
      next();
      const [a, b] = [left, and()];
      left = (line) => a(line) || b(line);
    }
    return left;
  };
  const and = (): Matcher => {
    let left = term();
    while (peek()?.value === '&&') {
      next();
      const [a, b] = [left, term()];
      left = (line) => a(line) && b(line);
    }
    return left;
  };
  const term = (): Matcher => {
    const token = next();
    if (token.value === '(') {
      const inner = or();
      if (next().value !== ')') throw invalid(`Invalid filter pattern: expected ")" in "${pattern}"`);
      return inner;
    }
    if (token.kind !== 'selector')
      throw invalid(`Invalid filter pattern: unexpected "${token.value}" in "${pattern}"`);
    const operator = next();
    if (operator.value !== '=' && operator.value !== '!=')
      throw unsupported(pattern, `the operator ${operator.value}`);
    const value = next();
    if (value.kind === 'word' && /^(IS|NOT|EXISTS|NULL|TRUE|FALSE)$/i.test(value.value))
      throw unsupported(pattern, value.value);
    if (value.kind !== 'string' && value.kind !== 'word')
      throw invalid(`Invalid filter pattern: unexpected "${value.value}" in "${pattern}"`);
    if (value.kind === 'word' && value.value.startsWith('%'))
      throw unsupported(pattern, 'regular expressions');
    const path = token.value;
    const wanted = wildcard(value.value);
    const equal = (line: unknown) => {
      const found = select(line, path);
      if (typeof found === 'string') return wanted.test(found);
      if (typeof found === 'number') return wanted.test(String(found));
      return false;
    };
    return operator.value === '=' ? equal : (line) => select(line, path) !== undefined && !equal(line);
  };
  const matcher = or();
  if (position < tokens.length)
    throw invalid(`Invalid filter pattern: unexpected "${tokens[position]!.value}" in "${pattern}"`);
  return (message) => {
    let line: unknown;
    try {
      line = JSON.parse(message);
    } catch {
      return false;
    }
    return typeof line === 'object' && line !== null && matcher(line);
  };
}

interface Token {
  kind: 'selector' | 'string' | 'word' | 'symbol';
  value: string;
}

function tokenize(text: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"') {
      let value = '';
      i += 1;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i += 1;
        value += text[i];
        i += 1;
      }
      if (i >= text.length) throw invalid(`Invalid filter pattern: unterminated string in "${pattern}"`);
      i += 1;
      tokens.push({ kind: 'string', value });
    } else if (text.startsWith('&&', i) || text.startsWith('||', i) || text.startsWith('!=', i)) {
      tokens.push({ kind: 'symbol', value: text.slice(i, i + 2) });
      i += 2;
    } else if ('()='.includes(c)) {
      tokens.push({ kind: 'symbol', value: c });
      i += 1;
    } else if ('<>'.includes(c)) {
      throw unsupported(pattern, 'numeric comparisons');
    } else {
      const word = /^[^\s()=!&|"]+/.exec(text.slice(i))![0];
      tokens.push({ kind: word.startsWith('$') ? 'selector' : 'word', value: word });
      i += word.length;
    }
  }
  return tokens;
}

/** `$.a.b[0]` in the parsed line; undefined where the path leads nowhere. */
function select(line: unknown, path: string): unknown {
  const steps = path.slice(1).match(/\.[^.[\]]+|\[\d+\]/g) ?? [];
  if (steps.join('') !== path.slice(1)) return undefined;
  let value: unknown = line;
  for (const step of steps) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step.startsWith('[') ? step.slice(1, -1) : step.slice(1)];
  }
  return value;
}

/** A value of a pattern, `*` matching any run of characters. */
function wildcard(value: string): RegExp {
  const source = value
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}
