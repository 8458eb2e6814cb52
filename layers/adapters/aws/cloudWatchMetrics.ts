// Metric values for the rollout analysis from CloudWatch GetMetricData: one value per query, over a window
// that is a single period, so each series has at most a datapoint or two and the newest one is the answer.
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricsSource } from '#ports';
import { InvalidInputError, MetricsUnavailableError } from '#runtime/errors';

/** GetMetricData's limits on one request. */
export const MAX_QUERIES_PER_CALL = 500;
const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;
const QUERY_ID_MAX_LENGTH = 255;

type Window = { start: Date; end: Date };

export function cloudWatchMetrics(client: Pick<CloudWatchClient, 'send'>): MetricsSource {
  async function queryBatch(
    batch: MetricQuery[],
    window: Window,
    period: number,
  ): Promise<Record<string, number | undefined>> {
    const values: Record<string, number | undefined> = {};
    const partial = new Set<string>();
    const MetricDataQueries = batch.map((query) => toDataQuery(query, period));
    let NextToken: string | undefined;
    do {
      const output = await client.send(
        new GetMetricDataCommand({
          MetricDataQueries,
          StartTime: window.start,
          EndTime: window.end,
          ScanBy: 'TimestampDescending',
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      for (const result of output.MetricDataResults ?? []) {
        const id = result.Id;
        if (!id) continue;
        if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden')
          throw new MetricsUnavailableError(`GetMetricData ${id}: ${result.StatusCode}${messagesOf(result)}`);
        // Newest first: the first value any page gives for a query is the one kept.
        const first = result.Values?.[0];
        if (values[id] === undefined && first !== undefined) values[id] = first;
        if (result.StatusCode === 'PartialData') partial.add(id);
        else partial.delete(id);
      }
      NextToken = output.NextToken;
    } while (NextToken);
    // Still partial on the last page and no value yet: "no data" would be a guess, not an answer.
    const unanswered = [...partial].filter((id) => values[id] === undefined);
    if (unanswered.length > 0)
      throw new MetricsUnavailableError(`GetMetricData left ${unanswered.join(', ')} with partial data`);
    return values;
  }

  return {
    async query(queries, window) {
      checkQueries(queries);
      checkWindow(window);
      const period = periodOf(window);
      const values: Record<string, number | undefined> = Object.fromEntries(
        queries.map((query) => [query.id, undefined]),
      );
      for (let at = 0; at < queries.length; at += MAX_QUERIES_PER_CALL) {
        const batch = queries.slice(at, at + MAX_QUERIES_PER_CALL);
        Object.assign(values, await queryBatch(batch, window, period));
      }
      return values;
    },
  };
}

/** The whole window as one period, in whole minutes (CloudWatch's periods of a minute and more). */
export function periodOf(window: Window): number {
  const seconds = (window.end.getTime() - window.start.getTime()) / 1000;
  return Math.max(60, Math.ceil(seconds / 60) * 60);
}

function toDataQuery(query: MetricQuery, period: number): MetricDataQuery {
  return {
    Id: query.id,
    MetricStat: {
      Metric: {
        Namespace: query.namespace,
        MetricName: query.metricName,
        Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: period,
      Stat: query.stat,
    },
    ReturnData: true,
  };
}

/** GetMetricData refuses the whole request for one bad or repeated id; say which, before calling. */
function checkQueries(queries: MetricQuery[]): void {
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  queries.forEach((query, index) => {
    if (!QUERY_ID.test(query.id) || query.id.length > QUERY_ID_MAX_LENGTH)
      issues.push({
        path: `queries.${index}.id`,
        message: `"${query.id}" must start with a lowercase letter, then letters, digits or underscores (at most ${QUERY_ID_MAX_LENGTH})`,
      });
    else if (seen.has(query.id))
      issues.push({ path: `queries.${index}.id`, message: `"${query.id}" is used twice` });
    seen.add(query.id);
  });
  if (issues.length > 0)
    throw new InvalidInputError(`metric queries GetMetricData would refuse: ${issues.length}`, issues);
}

function checkWindow(window: Window): void {
  if (!(window.end.getTime() > window.start.getTime()))
    throw new InvalidInputError(
      `metric window must end after it starts (${window.start.toJSON()} .. ${window.end.toJSON()})`,
      [{ path: 'window', message: 'end must be after start' }],
    );
}

function messagesOf(result: MetricDataResult): string {
  const messages = (result.Messages ?? []).map((message) => `${message.Code}: ${message.Value}`);
  return messages.length > 0 ? ` (${messages.join('; ')})` : '';
}
