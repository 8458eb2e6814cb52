// The lines powertoolsJournal (layers/runtime/journal.ts) writes for an entry, as a function's log group
// receives them in Lambda: the JSON log line (on stderr for a warning, stdout otherwise) and the EMF line of
// its metric. Reading the journal back must find the first and skip the second.
import type { JournalEntry } from '#ports';
import { powertoolsJournal } from '#runtime/journal';
import { logger } from '#runtime/powertools';

export function journalLines(entry: JournalEntry): string[] {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line.length > 0),
    );
    return true;
  };
  // Tests run with the logger silent and metrics off (test/setup.ts); a deployed function has neither.
  const level = logger.getLevelName();
  const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  logger.setLogLevel('INFO');
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  try {
    powertoolsJournal().record(entry);
  } finally {
    logger.setLogLevel(level);
    process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    out.mockRestore();
    err.mockRestore();
  }
  return lines;
}
