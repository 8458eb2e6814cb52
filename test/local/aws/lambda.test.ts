// The twin's Lambda, as the real client meets it: Invoke of a function of the twin's Lambda host answers
// what it returns, a
// function that throws answers as Lambda does (200, FunctionError, the error as payload), and Lambda's
// refusals come by name.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { scripted } from '#local/scenario/runner';
import { TwinSendLayer } from '#local/twin/aws/client';
import { Faults } from '#local/twin/aws/faults';
import { lambdaModel } from '#local/twin/aws/lambda';
import { TwinLambdas } from '#local/twin/lambdas';
import { VirtualScheduler } from '#local/twin/scheduler';

function aLambda() {
  const clock = new VirtualScheduler(new Date('2026-11-02T09:00:00Z'));
  const functions = new TwinLambdas(clock, () => undefined);
  functions.function('web-smoke', () => scripted({ answers: [{ passed: true }] }));
  functions.function('web-broken', () => scripted({ throws: 'boom' }));
  const layer = new TwinSendLayer({ clock, calls: [], faults: new Faults(1) });
  return layer.client(LambdaClient, lambdaModel(functions, { region: 'eu-west-1', account: '111122223333' }));
}

const invoke = (FunctionName: string, Payload = '{}') =>
  aLambda().send(new InvokeCommand({ FunctionName, Payload: Buffer.from(Payload) }));
const text = (payload: Uint8Array | undefined) => Buffer.from(payload ?? []).toString('utf8');

describe('the twin’s Lambda', () => {
  it('answers a registered function by name, name:alias or ARN of its region and account', async () => {
    for (const name of [
      'web-smoke',
      'web-smoke:live',
      'arn:aws:lambda:eu-west-1:111122223333:function:web-smoke',
    ]) {
      const out = await invoke(name);
      expect([out.StatusCode, out.FunctionError, text(out.Payload)]).toEqual([
        200,
        undefined,
        '{"passed":true}',
      ]);
    }
  });

  it('answers a function that throws with FunctionError Unhandled and the error as payload', async () => {
    const out = await invoke('web-broken');

    expect(out).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
    expect(JSON.parse(text(out.Payload))).toMatchObject({ errorType: 'Error', errorMessage: 'boom' });
  });

  it.each([
    ['web-missing', '{}', 'ResourceNotFoundException'],
    ['arn:aws:lambda:us-east-1:111122223333:function:web-smoke', '{}', 'ResourceNotFoundException'],
    ['arn:aws:lambda:eu-west-1:444455556666:function:web-smoke', '{}', 'ResourceNotFoundException'],
    ['not a name', '{}', 'ValidationException'],
    ['web-smoke', 'not json', 'InvalidRequestContentException'],
  ])('refuses %j (payload %j) with %s', async (name, payload, error) => {
    await expect(invoke(name, payload)).rejects.toMatchObject({ name: error });
  });
});
