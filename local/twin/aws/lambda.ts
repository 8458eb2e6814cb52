// AWS Lambda as the twin answers it: Invoke of the functions a scenario registers (tests before traffic),
// with Lambda's checks on the function name, the invocation type and the payload, its errors by name, and
// a function that throws answered as Lambda answers it: status 200, FunctionError `Unhandled`, the error
// as the payload. The functions themselves are plain answers, or a thrown error, declared by the scenario.
import type { InvocationRequest, InvocationResponse } from '@aws-sdk/client-lambda';
import { AwsServiceError, type ServiceModel, write } from '#local/twin/aws/client';

/** What a registered function does when invoked: answer this JSON, or throw this message. */
export type TwinFunction = { answers: unknown } | { throws: string };

/** RequestResponse payloads, in and out: 6 MB. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Name, name:qualifier, partial or full ARN (Invoke's FunctionName pattern, in short). */
const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

const validation = (message: string) => new AwsServiceError('ValidationException', message);

export function lambdaModel(
  functions: Map<string, TwinFunction>,
  where: { region: string; account: string },
): ServiceModel {
  return {
    Invoke: write(
      (input: InvocationRequest) => input.FunctionName ?? '',
      (input: InvocationRequest): InvocationResponse => {
        const name = input.FunctionName ?? '';
        const match = FUNCTION_NAME.exec(name);
        if (!match || name.length > 170)
          throw validation(
            `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
          );
        const type = input.InvocationType ?? 'RequestResponse';
        if (!['RequestResponse', 'Event', 'DryRun'].includes(type))
          throw validation(
            `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
          );
        const payload = input.Payload ? Buffer.from(input.Payload) : Buffer.alloc(0);
        if (payload.length > MAX_PAYLOAD_BYTES)
          throw new AwsServiceError(
            'RequestTooLargeException',
            `${payload.length} byte payload is too large for the ${type} invocation type (limit ${MAX_PAYLOAD_BYTES} bytes)`,
            413,
          );
        if (payload.length > 0) {
          try {
            JSON.parse(payload.toString('utf8'));
          } catch {
            throw new AwsServiceError(
              'InvalidRequestContentException',
              'Could not parse request body into json: Could not parse payload into json',
            );
          }
        }
        const functionName = match[7]!;
        const arn = `arn:aws:lambda:${where.region}:${where.account}:function:${functionName}`;
        const fn = functions.get(functionName);
        if (!fn) throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
        if (type === 'DryRun') return { StatusCode: 204 };
        if (type === 'Event') return { StatusCode: 202 };
        const encode = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value)));
        if ('throws' in fn)
          return {
            StatusCode: 200,
            FunctionError: 'Unhandled',
            ExecutedVersion: '$LATEST',
            Payload: encode({ errorType: 'Error', errorMessage: fn.throws, trace: [`Error: ${fn.throws}`] }),
          };
        return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(fn.answers) };
      },
    ),
  };
}
