// Amazon CloudWatch Logs as the twin answers it: FilterLogEvents over the log groups the twin's Lambda
// functions write to (/aws/lambda/<function>), with the time range, the direction (startFromHead), the
// page size and token, and the JSON filter patterns (`{ $.a = "x" && ($.b = "y" || $.b = "z*") }`) the
// action history reads its lines with. Other pattern forms (terms, bare values, !=, numeric comparisons,
// regular expressions, IS NULL) are refused with an InvalidParameterException that says the twin does not
// support them.
import type {
  FilteredLogEvent,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
} from '@aws-sdk/client-cloudwatch-logs';
import { AwsServiceError, constraintError, read, type ServiceModel } from '#local/twin/aws/client';

interface LogEvent {
  /** Its place in the twin's whole log: events of one instant are in the order they were written. */
  sequence: number;
  logStreamName: string;
  /** Also its ingestion time: the twin ingests a line when it is written. */
  timestamp: number;
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
    const timestamp = this.clock.now().getTime();
    this.groups.get(group)!.push({ sequence: this.sequence++, logStreamName, timestamp, message });
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
  after: Pick<LogEvent, 'timestamp' | 'sequence'>;
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
          throw constraintError('InvalidParameterException', 'limit', { value: limit });
        const pattern = input.filterPattern ?? '';
        if (pattern.length > MAX_PATTERN)
          throw constraintError('InvalidParameterException', 'filterPattern', {
            constraint: `Member must have length less than or equal to ${MAX_PATTERN}`,
          });
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
        const order = (a: PageToken['after'], b: PageToken['after']) =>
          a.timestamp - b.timestamp || a.sequence - b.sequence;
        const found = logs
          .events(group)
          .filter(
            (e) =>
              e.timestamp >= start &&
              e.timestamp <= end &&
              (input.logStreamNames?.includes(e.logStreamName) ?? true) &&
              e.logStreamName.startsWith(input.logStreamNamePrefix ?? '') &&
              // past the token's event, in the direction of reading
              (!token || (newestFirst ? order(e, token.after) < 0 : order(e, token.after) > 0)) &&
              matches(e.message),
          )
          .sort(order);
        if (newestFirst) found.reverse();
        const page = found.slice(0, limit);
        const events: FilteredLogEvent[] = page.map((e) => ({
          logStreamName: e.logStreamName,
          timestamp: e.timestamp,
          message: e.message,
          ingestionTime: e.timestamp,
          eventId: String(e.sequence).padStart(56, '0'),
        }));
        return {
          events,
          searchedLogStreams: [],
          ...(found.length > limit
            ? { nextToken: writeToken({ group, pattern, newestFirst, after: page.at(-1)! }) }
            : {}),
        };
      },
    ),
  };
}

/** Of the last event, the token keeps only its place. */
const writeToken = ({ after: { timestamp, sequence }, ...token }: PageToken) =>
  Buffer.from(JSON.stringify({ ...token, after: { timestamp, sequence } })).toString('base64url');

function readToken(text: string, group: string, pattern: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString()) as PageToken;
    if (token.group === group && token.pattern === pattern && typeof token.after?.sequence === 'number')
      return token;
  } catch {
    // refused below
  }
  throw invalid('The specified nextToken is invalid.');
}

// --- JSON filter patterns ------------------------------------------------------------------------------------

type Matcher = (line: unknown) => boolean;

const unsupported = (pattern: string, what: string) =>
  invalid(`Invalid filter pattern: the twin does not support ${what} (in "${pattern}")`);

/**
 * The pattern as a test of one message: empty matches everything, a JSON pattern the parsed line: `$.field =
 * "value"`, `*` a wildcard in the value, joined with && and || and grouped with parentheses.
 */
function parsePattern(pattern: string): (message: string) => boolean {
  const text = pattern.trim();
  if (text.length === 0) return () => true;
  if (!text.startsWith('{') || !text.endsWith('}'))
    throw unsupported(pattern, 'patterns other than JSON ones ({ $.field = value ... })');
  // Quoted strings (with \-escapes), && || != ( ) =, and runs of anything else (selectors, bare values).
  const tokens = text.slice(1, -1).match(/"(?:\\.|[^"\\])*"|&&|\|\||!=|[()=]|[^\s()=!&|"<>]+|\S/gs) ?? [];
  let position = 0;
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw invalid(`Invalid filter pattern: unexpected end of "${pattern}"`);
    return token;
  };
  const unexpected = (token: string) =>
    invalid(`Invalid filter pattern: unexpected "${token}" in "${pattern}"`);
  const joined = (operator: '||' | '&&', part: () => Matcher): Matcher => {
    let left = part();
    while (tokens[position] === operator) {
      position += 1;
      const [a, b] = [left, part()];
      left = operator === '||' ? (line) => a(line) || b(line) : (line) => a(line) && b(line);
    }
    return left;
  };
  const or = (): Matcher => joined('||', () => joined('&&', term));
  const term = (): Matcher => {
    const selector = next();
    if (selector === '(') {
      const inner = or();
      if (next() !== ')') throw invalid(`Invalid filter pattern: expected ")" in "${pattern}"`);
      return inner;
    }
    if (!selector.startsWith('$')) throw unexpected(selector);
    // The journal's fields are top-level: a nested or indexed selector is not needed.
    if (!/^\$\.[^.[\]]+$/.test(selector)) throw unsupported(pattern, `the selector ${selector}`);
    const operator = next();
    if (operator !== '=') throw unsupported(pattern, `the operator ${operator}`);
    const value = next();
    if (value === '"') throw invalid(`Invalid filter pattern: unterminated string in "${pattern}"`);
    if (!value.startsWith('"')) throw unsupported(pattern, `values other than quoted strings (${value})`);
    const wanted = wildcard(value.slice(1, -1).replace(/\\(.)/gs, '$1'));
    return (line) => {
      const found = (line as Record<string, unknown>)[selector.slice(2)];
      return (typeof found === 'string' || typeof found === 'number') && wanted.test(String(found));
    };
  };
  const matcher = or();
  if (position < tokens.length) throw unexpected(tokens[position]!);
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

/** A value of a pattern, `*` matching any run of characters. */
function wildcard(value: string): RegExp {
  const source = value
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}
