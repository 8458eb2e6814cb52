// AWS Lambda as the twin answers it: Invoke of the functions of the twin's Lambda host (a scenario's
// scripted ones, the reflexes' own), with Lambda's checks on the function name, the invocation type and the
// payload, its errors by name, and a function that throws answered as Lambda answers it: status 200,
// FunctionError `Unhandled`, the error as the payload.
import type { InvocationRequest, InvocationResponse } from '@aws-sdk/client-lambda';
import { AwsServiceError, constraintError, type ServiceModel, write } from '#local/twin/aws/client';
import type { TwinLambdas } from '#local/twin/lambdas';

/** RequestResponse payloads, in and out: 6 MB. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Name, name:qualifier, partial or full ARN (Invoke's FunctionName pattern, in short). */
const FUNCTION_NAME =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export function lambdaModel(
  functions: Pick<TwinLambdas, 'named'>,
  where: { region: string; account: string },
): ServiceModel {
  return {
    Invoke: write(
      (input: InvocationRequest) => input.FunctionName ?? '',
      async (input: InvocationRequest): Promise<InvocationResponse> => {
        const name = input.FunctionName ?? '';
        const match = FUNCTION_NAME.exec(name);
        if (!match || name.length > 170)
          throw constraintError('ValidationException', 'functionName', {
            value: name,
            constraint: `Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
          });
        const type = input.InvocationType ?? 'RequestResponse';
        if (!['RequestResponse', 'Event', 'DryRun'].includes(type))
          throw constraintError('ValidationException', 'invocationType', {
            value: type,
            constraint: 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
          });
        const payload = input.Payload ? Buffer.from(input.Payload) : Buffer.alloc(0);
        if (payload.length > MAX_PAYLOAD_BYTES)
          throw new AwsServiceError(
            'RequestTooLargeException',
            `${payload.length} byte payload is too large for the ${type} invocation type (limit ${MAX_PAYLOAD_BYTES} bytes)`,
            413,
          );
        let event: unknown = {};
        if (payload.length > 0) {
          try {
            event = JSON.parse(payload.toString('utf8'));
          } catch {
            throw new AwsServiceError(
              'InvalidRequestContentException',
              'Could not parse request body into json: Could not parse payload into json',
            );
          }
        }
        const functionName = match[7]!;
        const [region = where.region, account = where.account] = [match[3], match[5]].map((part) =>
          part?.slice(0, -1),
        );
        const arn = `arn:aws:lambda:${region}:${account}:function:${functionName}`;
        // The twin's functions live in its one region and account: a function of another is one it does
        // not have. Any qualifier answers: the twin does not publish versions, every alias is $LATEST.
        const here = region === where.region && account === where.account;
        const fn = here ? functions.named.get(functionName) : undefined;
        if (!fn) throw new AwsServiceError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
        if (type === 'DryRun') return { StatusCode: 204 };
        if (type === 'Event') return { StatusCode: 202 };
        const encode = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value ?? null)));
        try {
          return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: encode(await fn(event)) };
        } catch (error) {
          const { name, message } = error as Error;
          return {
            StatusCode: 200,
            FunctionError: 'Unhandled',
            ExecutedVersion: '$LATEST',
            Payload: encode({ errorType: name, errorMessage: message, trace: [`${name}: ${message}`] }),
          };
        }
      },
    ),
  };
}
