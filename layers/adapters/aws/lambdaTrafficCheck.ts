// A lambda test before traffic: one synchronous Invoke of a function that tests the new version and answers
// `{ "passed": true }` (or false, with a `reason`). The function's answer, its FunctionError, or why Invoke
// failed go back as they came; the domain judges them.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaCheck, TrafficCheckObservation } from '#domain/trafficChecks';
import type { TrafficCheckRunner } from '#ports';

const text = (payload: Uint8Array | undefined) => (payload ? Buffer.from(payload).toString('utf8') : '');

export class LambdaTrafficCheck implements TrafficCheckRunner<LambdaCheck> {
  constructor(private readonly lambda: Pick<LambdaClient, 'send'>) {}

  async run(check: LambdaCheck, context: Record<string, string>): Promise<TrafficCheckObservation> {
    const event = { ...check.payload, check: check.name, ...context };
    try {
      const out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: check.function,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
        // The function may run up to 15 minutes; the check waits no longer than it says.
        { abortSignal: AbortSignal.timeout(check.timeoutSeconds * 1000) },
      );
      if (out.FunctionError)
        return { kind: 'lambda', answer: { threw: out.FunctionError, payload: text(out.Payload) } };
      return { kind: 'lambda', answer: { returned: text(out.Payload) } };
    } catch (error) {
      const e = error as Error;
      const why =
        e.name === 'AbortError' || e.name === 'TimeoutError'
          ? `no answer within ${check.timeoutSeconds} s`
          : `${e.name}: ${e.message}`;
      return { kind: 'lambda', answer: { unavailable: why } };
    }
  }
}
