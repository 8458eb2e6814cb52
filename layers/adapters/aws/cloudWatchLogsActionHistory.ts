// What the reflexes did, read back from their logs: every journal entry is one Powertools JSON log line in
// the function's log group (layers/runtime/journal.ts), so FilterLogEvents with a JSON filter pattern finds
// them again. One query per log group (the API takes one group a call), newest first, merged. A read of one
// reflex's actions reads only the groups of the functions that journal it, and no read touches the group of
// a function that journals nothing: FilterLogEvents allows 5 transactions per second per account and
// Region, for every caller together, and cannot be raised.
import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { ActionHistory, Clock, JournalEntry } from '#ports';

type Filter = Parameters<ActionHistory['recent']>[0];
type Action = JournalEntry & { at: Date };

const DAY_MS = 24 * 60 * 60 * 1000;
/** FilterLogEvents refuses `startFromHead: false` (newest first) for a startTime before this instant. */
export const NEWEST_FIRST_SINCE = Date.UTC(2024, 0, 1);
/** Longer values stay out of the filter pattern (its limit is 1,024 characters); the entries are still filtered here. */
const MAX_PATTERN_VALUE = 200;
const OUTCOMES: readonly JournalEntry['outcome'][] = ['done', 'dry-run', 'held', 'failed'];
/** The most events FilterLogEvents returns in one page. */
const MAX_PAGE = 10_000;

/** A function's log group (/aws/lambda/<function>), and the reflexes its function journals. */
export interface JournalLogGroup {
  logGroupName: string;
  /** Unknown (absent): the group is read for every reflex. None (empty): it is never read. */
  reflexes?: readonly string[];
}

export class CloudWatchLogsActionHistory implements ActionHistory {
  constructor(
    private readonly logs: Pick<CloudWatchLogsClient, 'send'>,
    private readonly logGroups: readonly JournalLogGroup[],
    private readonly clock: Clock = { now: () => new Date() },
  ) {}

  async recent(filter: Filter): Promise<Action[]> {
    const { reflex } = filter;
    const journals = ({ reflexes }: JournalLogGroup) =>
      reflexes === undefined || (reflex === undefined ? reflexes.length > 0 : reflexes.includes(reflex));
    const logGroupNames = this.logGroups.filter(journals).map((group) => group.logGroupName);
    if (filter.limit <= 0 || logGroupNames.length === 0) return [];
    const since = filter.since?.getTime() ?? this.clock.now().getTime() - DAY_MS;
    const startTime = Math.max(since, NEWEST_FIRST_SINCE);
    const filterPattern = journalFilterPattern(filter);
    const perGroup = await Promise.all(
      logGroupNames.map((logGroupName) => this.fromGroup(logGroupName, filterPattern, startTime, filter)),
    );
    return perGroup
      .flat()
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .slice(0, filter.limit);
  }

  /** Pages newest first until `limit` entries or the pages run out; a group that does not exist holds none. */
  private async fromGroup(
    logGroupName: string,
    filterPattern: string,
    startTime: number,
    filter: Filter,
  ): Promise<Action[]> {
    const found: Action[] = [];
    const seen = new Set<string>();
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.logs.send(
          new FilterLogEventsCommand({
            logGroupName,
            filterPattern,
            startTime,
            // Newest first, so that stopping at `limit` keeps the most recent entries (on a later page the
            // token carries the direction).
            ...(nextToken ? { nextToken } : { startFromHead: false }),
            limit: Math.min(MAX_PAGE, filter.limit - found.length),
          }),
        );
        for (const event of page.events ?? []) {
          if (event.eventId !== undefined) {
            if (seen.has(event.eventId)) continue;
            seen.add(event.eventId);
          }
          const action = actionOf(event);
          if (action && matches(action, filter)) found.push(action);
        }
        nextToken = page.nextToken;
      } while (nextToken && found.length < filter.limit);
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return found;
      throw error;
    }
    return found;
  }
}

/**
 * Selects the journal's lines and nothing else the functions log: a reflex and an action, and one of the
 * four outcomes; the reflex and the target, when asked for, exactly. (`$.message` is "<reflex> <action>
 * <outcome>", so it is no fixed string to match on.) A `*` in a value would be a wildcard to CloudWatch:
 * the entries are matched exactly once more after parsing.
 */
export function journalFilterPattern(
  filter: Pick<Filter, 'reflex' | 'target' | 'targetPrefix' | 'actions'>,
): string {
  const actions = filter.actions?.map(usable);
  const clauses = [
    `$.reflex = ${quote(usable(filter.reflex) ?? '*')}`,
    actions?.length && actions.every((a) => a !== undefined)
      ? `(${actions.map((a) => `$.action = ${quote(a)}`).join(' || ')})`
      : '$.action = "*"',
    `(${OUTCOMES.map((o) => `$.outcome = ${quote(o)}`).join(' || ')})`,
  ];
  const target = usable(filter.target);
  if (target !== undefined) clauses.push(`$.target = ${quote(target)}`);
  const prefix = usable(filter.targetPrefix);
  // A trailing `*` is CloudWatch's wildcard: any target that starts with the prefix.
  if (prefix !== undefined && target === undefined) clauses.push(`$.target = ${quote(`${prefix}*`)}`);
  return `{ ${clauses.join(' && ')} }`;
}

const usable = (value: string | undefined) =>
  value !== undefined && value.length > 0 && value.length <= MAX_PATTERN_VALUE ? value : undefined;

const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** One log event back into the entry the journal wrote; undefined for a line that is not one. */
export function actionOf(event: FilteredLogEvent): Action | undefined {
  if (event.message === undefined || event.timestamp === undefined) return undefined;
  let line: unknown;
  try {
    line = JSON.parse(event.message);
  } catch {
    return undefined;
  }
  if (typeof line !== 'object' || line === null) return undefined;
  const { reflex, action, target, reason, dryRun, outcome, detail } = line as Record<string, unknown>;
  if (
    typeof reflex !== 'string' ||
    typeof action !== 'string' ||
    typeof target !== 'string' ||
    typeof reason !== 'string' ||
    typeof dryRun !== 'boolean' ||
    !OUTCOMES.includes(outcome as JournalEntry['outcome'])
  )
    return undefined;
  const isRecord = typeof detail === 'object' && detail !== null && !Array.isArray(detail);
  return {
    reflex,
    action,
    target,
    reason,
    dryRun,
    outcome: outcome as JournalEntry['outcome'],
    ...(isRecord ? { detail: detail as Record<string, unknown> } : {}),
    at: new Date(event.timestamp),
  };
}

function matches(action: Action, filter: Filter): boolean {
  return (
    (filter.reflex === undefined || action.reflex === filter.reflex) &&
    (filter.target === undefined || action.target === filter.target) &&
    (filter.targetPrefix === undefined || action.target.startsWith(filter.targetPrefix)) &&
    (filter.actions === undefined || filter.actions.includes(action.action))
  );
}
