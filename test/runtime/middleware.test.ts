import type { Context } from 'aws-lambda';
import { lambdaContext } from '#local/twin/delivery';
import { InvalidInputError } from '#runtime/errors';
import { httpStack, stepStack } from '#runtime/middleware';

const context: Context = lambdaContext('test');

describe('stepStack', () => {
  it('keeps a named error as it is, so an ASL Catch can match its name', async () => {
    // Prepare
    const handler = stepStack(async () => {
      throw new InvalidInputError('weights must sum to 100');
    });

    // Act
    const attempt = handler({}, context);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('gives anything thrown that is not an Error a name', async () => {
    // Prepare
    const handler = stepStack(
      async () => {
        throw 'a string';
      },
      { fallbackName: 'ShiftTrafficFailed' },
    );

    // Act
    const attempt = handler({}, context);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ShiftTrafficFailed', message: 'a string' });
  });
});

describe('httpStack', () => {
  it('answers invalid input with a 400 problem document naming the field', async () => {
    // Prepare
    const handler = httpStack(async () => {
      throw new InvalidInputError('invalid request', [{ path: 'weights.canary', message: 'at most 100' }]);
    });

    // Act
    const response = (await handler({}, context)) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({
      status: 400,
      detail: 'invalid request',
      errors: [{ path: 'weights.canary', message: 'at most 100' }],
    });
  });

  it('hides the detail of unexpected errors behind a 500', async () => {
    // Prepare
    const handler = httpStack(async () => {
      throw new Error('secret stack detail');
    });

    // Act
    const response = (await handler({}, context)) as { statusCode: number; body: string };

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');
  });

  it('maps named errors to the statuses it is given', async () => {
    // Prepare
    const conflict = Object.assign(new Error('rollout already running'), { name: 'RolloutConflict' });
    const handler = httpStack(
      async () => {
        throw conflict;
      },
      { statusByName: { RolloutConflict: 409 } },
    );

    // Act
    const response = (await handler({}, context)) as { statusCode: number; body: string };

    // Assess
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body).detail).toBe('rollout already running');
  });
});
