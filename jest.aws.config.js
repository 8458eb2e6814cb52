// `npm run test:aws`: the port contracts against a real AWS account (test/contracts/*.awstest.ts).
// Started by test/contracts/aws/run.ts, which first checks for credentials and a region.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/contracts'],
  testMatch: ['**/*.awstest.ts'],
  // Real control planes: creating and deleting a service or a group takes tens of seconds.
  testTimeout: 300_000,
  // Each suite has its own prefix; two at a time keeps under the control planes' rate limits.
  maxWorkers: 2,
};
