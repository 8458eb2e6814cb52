// A batch from a FIFO queue, handled one record after another. SQS keeps a message group in order only as
// long as its consumer does: a record that fails is delivered again, so a later record of its group that
// succeeded in the same batch would have been acted on before it. Once a record of a group fails, the
// later records of that group in the batch fail too, unprocessed, and come back after it; other groups go
// on. (Powertools' SqsFifoPartialProcessor with skipGroupOnError does the same.)
import type { SQSRecord } from 'aws-lambda';
import { EarlierInGroupFailedError } from '#runtime/errors';

/** The record handler for one batch: call once per invocation, it remembers the batch's failed groups. */
export function inGroupOrder<R>(
  handle: (record: SQSRecord) => Promise<R>,
): (record: SQSRecord) => Promise<R> {
  const failedGroups = new Set<string>();
  return async (record) => {
    const group = record.attributes.MessageGroupId;
    if (group !== undefined && failedGroups.has(group))
      throw new EarlierInGroupFailedError(`an earlier message of group ${group} in this batch failed`);
    try {
      return await handle(record);
    } catch (error) {
      if (group !== undefined) failedGroups.add(group);
      throw error;
    }
  };
}
