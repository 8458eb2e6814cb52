import { builtAtColdStart } from '#wiring/coldStart';

let saved: string | undefined;
beforeEach(() => {
  saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
});
afterEach(() => {
  if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  else process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
});

describe('builtAtColdStart', () => {
  it('in Lambda, builds the ports during init, so the first invocation finds them built', () => {
    // Prepare
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ecs-reflex-dev-taskRecycler';
    const build = jest.fn(() => ({ ports: 'built' }));

    // Act
    const deps = builtAtColdStart(build);

    // Assess
    expect(build).toHaveBeenCalledTimes(1);
    expect(deps()).toEqual({ ports: 'built' });
    expect(deps()).toBe(deps());
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('outside Lambda, builds nothing at import: a test or the twin imports a handler factory without configuration', () => {
    // Prepare
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    const build = jest.fn(() => ({ ports: 'built' }));

    // Act
    const deps = builtAtColdStart(build);

    // Assess
    expect(build).not.toHaveBeenCalled();
    expect(deps()).toEqual({ ports: 'built' });
  });

  it('leaves a configuration error to the first invocation, where it was always reported', () => {
    // Prepare
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ecs-reflex-dev-taskRecycler';
    const build = jest.fn((): never => {
      throw new Error('CLUSTERS is not set');
    });

    // Act
    const deps = builtAtColdStart(build);

    // Assess
    expect(deps).toThrow('CLUSTERS is not set');
    expect(build).toHaveBeenCalledTimes(2);
  });
});
