// The instance lifecycle workflow's ASL file, checked against the Amazon States Language schema with
// asl-validator (the validator serverless-step-functions runs at package time, `stepFunctions.validate`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { lifecycleWiring } from '#local/twin/wiring';

type AslValidator = (
  definition: unknown,
  options?: Record<string, unknown>,
) => { isValid: boolean; errors: unknown[]; errorsText(separator?: string): string };
const aslValidator = require('asl-validator') as AslValidator;

const definition = () =>
  JSON.parse(readFileSync(path.resolve(__dirname, '../..', lifecycleWiring.definitionFile), 'utf8')) as {
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };

describe('instance lifecycle ASL definition', () => {
  it('is valid Amazon States Language', () => {
    const result = aslValidator(definition());
    expect({ valid: result.isValid, errors: result.errorsText('\n') }).toEqual({
      valid: true,
      errors: expect.any(String),
    });
  });

  it('is valid with the step function placeholder filled in, as CloudFormation deploys it', () => {
    const text = readFileSync(path.resolve(__dirname, '../..', lifecycleWiring.definitionFile), 'utf8');
    const filled = text.replaceAll(
      ['$', '{InstanceLifecycleStepFunctionArn}'].join(''),
      'arn:aws:lambda:eu-west-1:111122223333:function:ecs-reflex-dev-instanceLifecycleStep',
    );
    expect(aslValidator(JSON.parse(filled)).isValid).toBe(true);
  });

  it('is checked for real: a transition to a state that does not exist is refused', () => {
    const broken = definition();
    broken.States.Pause!.Next = 'Nowhere';
    const result = aslValidator(broken);
    expect(result.isValid).toBe(false);
    expect(result.errorsText()).toMatch(/Nowhere/);
  });
});
