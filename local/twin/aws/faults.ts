// Faults the twin's AWS answers with, drawn per call attempt from seeded dice. Each kind is one that a
// real client sees and the SDK's retry strategy classifies on its own: throttling, a 5xx, a connection
// reset, a timeout; and the one a mock never shows, the command that took effect before the answer was
// lost (`applied`), so the retry sends it again to a world that already changed.
import { seededRandom } from '#local/twin/scheduler';

export type FaultKind = 'ThrottlingException' | 'ServerException' | 'ConnectionReset' | 'TimeoutError';

export interface FaultRule {
  /** A command name (`UpdateService`) or `*`. */
  api: string;
  from: Date;
  until: Date;
  rate: number;
  error: FaultKind;
  /**
   * The command took effect, then the client saw the error (its answer was lost) and its retry sends the
   * same command again. Writes only: a read that times out has nothing to apply.
   */
  applied?: boolean;
  /** Its own dice, from this seed: rules of different kinds then hit different calls. */
  seed?: number;
}

/**
 * The error as the SDK raises it: the fields its retry strategy reads (`name`, `code`, `$metadata`,
 * `$fault`) are the ones a real answer (or a real socket) gives.
 */
export class InjectedFault extends Error {
  readonly code?: string;
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode?: number };

  constructor(api: string, rule: FaultRule) {
    const { error, applied } = rule;
    super(
      `${api}: ${error === 'ThrottlingException' ? 'Rate exceeded' : applied ? 'took effect, then timed out' : 'injected fault'}`,
    );
    const { name, code, status } = FAULT_SHAPES[error];
    this.name = name;
    this.code = code;
    this.$fault = status === 500 ? 'server' : 'client';
    this.$metadata = status ? { httpStatusCode: status } : {};
  }
}

const FAULT_SHAPES: Record<FaultKind, { name: string; code?: string; status?: number }> = {
  ThrottlingException: { name: 'ThrottlingException', status: 400 },
  ServerException: { name: 'ServerException', status: 500 },
  // What node's socket raises; the SDK sees no HTTP status at all.
  ConnectionReset: { name: 'Error', code: 'ECONNRESET' },
  // @smithy/node-http-handler's requestTimeout with throwOnRequestTimeout.
  TimeoutError: { name: 'TimeoutError', code: 'ETIMEDOUT' },
};

export class Faults {
  private readonly rules: { rule: FaultRule; random: () => number }[] = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed ^ 0x5eed);
  }

  add(rule: FaultRule): void {
    this.rules.push({ rule, random: rule.seed === undefined ? this.random : seededRandom(rule.seed) });
  }

  /** The rule that hits this attempt at this instant, when one covers it and its dice say so. */
  draw(api: string, now: Date, write: boolean): FaultRule | undefined {
    for (const { rule, random } of this.rules) {
      if (
        (rule.api === api || rule.api === '*') &&
        (write || !rule.applied) &&
        now >= rule.from &&
        now < rule.until &&
        random() < rule.rate
      )
        return rule;
    }
    return undefined;
  }
}
