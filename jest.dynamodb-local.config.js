/**
 * npm run test:dynamodb-local: the DynamoDB integration suites (breaker store, GetUser, operator command) against
 * Amazon's DynamoDB Local instead of dynalite. Needs Java 17+. Each suite starts its own server on a free port.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file, as jest.config.js
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/integration/{breaker,getUser,ops}/**/*.test.ts', '<rootDir>/test/contract/dynamodb.test.ts'],
  globalSetup: '<rootDir>/test/support/dynamodbLocalRun/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/dynamodbLocalRun/globalTeardown.ts',
};
