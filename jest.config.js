/** @type {import('jest').Config} */
module.exports = {
  // jest's node environment with an ordinary global object: globals are looked up as fast as outside jest.
  testEnvironment: '<rootDir>/test/environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // @middy/core 5+ ships ESM only; let swc turn it into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setupAfterEnv.ts'],
  // No verdict hangs on the machine's speed: a test that waits does so for an event, and this bound only
  // stops a test that would hang. On a 2-core machine under load a scenario sweep takes minutes.
  testTimeout: 600_000,
  // One worker per core. Jest's default leaves a core to its main process, which only hands out files
  // and prints: on a 2-core machine that ran the suite in one worker, twice as long.
  maxWorkers: '100%',
  // The scenario sweeps first, on a fresh clone too (test/sequencer.cjs).
  testSequencer: '<rootDir>/test/sequencer.cjs',
};
