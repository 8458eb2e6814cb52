// Pagination as AWS list and describe commands answer it: a page of at most `max` items and an opaque
// token for the rest. The token names where the next page starts; one this twin did not hand out is
// refused with the service's own error name (InvalidNextToken, InvalidNextTokenException, ...).
import { AwsServiceError, constraintError } from '#local/twin/aws/client';

const PREFIX = 'twin-page:';

export interface PageRequest {
  /** What the caller asked for (MaxRecords, MaxResults, maxResults); undefined: the default. */
  max: number | undefined;
  token: string | undefined;
}

export interface PageRules {
  /** The page size when none is asked for, and the most one may ask for. */
  defaultMax: number;
  limit: number;
  /** The error AWS answers an unknown token with, and the one for a size out of range. */
  badToken: string;
  badSize: string;
  /** The parameter's name in messages (MaxRecords, MaxResults). */
  sizeName: string;
}

export function page<T>(items: T[], request: PageRequest, rules: PageRules): { items: T[]; next?: string } {
  const size = request.max ?? rules.defaultMax;
  if (!Number.isInteger(size) || size < 1 || size > rules.limit)
    throw constraintError(rules.badSize, rules.sizeName, {
      value: request.max,
      constraint: `Member must have value between 1 and ${rules.limit}`,
    });
  const start = request.token === undefined ? 0 : offsetOf(request.token, rules.badToken);
  const end = start + size;
  return { items: items.slice(start, end), ...(end < items.length ? { next: tokenAt(end) } : {}) };
}

/** How the Query APIs (EC2 Auto Scaling, CloudWatch) page: MaxRecords up to `limit`, 50 if not given. */
export const queryPages = (limit: number): PageRules => ({
  defaultMax: 50,
  limit,
  badToken: 'InvalidNextToken',
  badSize: 'ValidationError',
  sizeName: 'maxRecords',
});

/** The answer's NextToken, only when there is a next page. */
export const withNextToken = (token: string | undefined) => (token ? { NextToken: token } : {});

/** The order the twin lists names in: by UTF-16 code unit, the same on every machine (localeCompare is not). */
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const tokenAt = (offset: number): string =>
  Buffer.from(`${PREFIX}${offset}`, 'utf8').toString('base64');

/** Where a token says the next page starts; a token this twin did not make is the caller's error. */
export function offsetOf(token: string, badToken: string): number {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const offset = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : Number.NaN;
  if (!Number.isInteger(offset) || offset < 0)
    throw new AwsServiceError(badToken, 'The specified token is not valid.');
  return offset;
}
