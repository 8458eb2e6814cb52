// The lambda check's adapter: one synchronous Invoke with the check's context in the event; the answer, a
// FunctionError or Invoke's own failure kept as what it is.
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LambdaTrafficCheck } from '#adapters/aws/lambdaTrafficCheck';
import { LambdaCheckSchema } from '#domain/trafficChecks';

const lambda = mockClient(LambdaClient);
const adapter = new LambdaTrafficCheck(lambda as unknown as LambdaClient);
const check = LambdaCheckSchema.parse({
  name: 'suite',
  kind: 'lambda',
  function: 'web-smoke-tests:live',
  payload: { baseUrl: 'https://web-test.internal' },
});
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

beforeEach(() => lambda.reset());

describe('LambdaTrafficCheck', () => {
  it('invokes the function synchronously with its payload and the context, and keeps what it answered', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes('{"passed":true}') as never });

    const seen = await adapter.run(check, { stage: 'before-traffic', rollout: 'web-1' });

    expect(seen).toEqual({ kind: 'lambda', answer: { returned: '{"passed":true}' } });
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'web-smoke-tests:live', InvocationType: 'RequestResponse' });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString())).toEqual({
      baseUrl: 'https://web-test.internal',
      check: 'suite',
      stage: 'before-traffic',
      rollout: 'web-1',
    });
  });

  it('keeps a FunctionError apart from an answer', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: bytes('{"errorType":"Error","errorMessage":"boom"}') as never,
    });

    expect(await adapter.run(check, {})).toEqual({
      kind: 'lambda',
      answer: { threw: 'Unhandled', payload: '{"errorType":"Error","errorMessage":"boom"}' },
    });
  });

  it('keeps a failed Invoke (no such function) as unavailable instead of throwing', async () => {
    lambda.on(InvokeCommand).rejects(
      new ResourceNotFoundException({
        message: 'Function not found: arn:aws:lambda:eu-west-1:111122223333:function:web-smoke-tests',
        $metadata: {},
      }),
    );

    expect(await adapter.run(check, {})).toEqual({
      kind: 'lambda',
      answer: {
        unavailable:
          'ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:111122223333:function:web-smoke-tests',
      },
    });
  });
});
