/**
 * npm run test:redis: the Redis suites on a real redis-server (valkey-server where installed): the store contract
 * on Redis, Redis-only store tests (*.redis.test.ts), and the 50-instance and 4-process concurrency suites with
 * STATE_STORE_BACKEND=redis. Each suite starts its own server on a free port. Exits non-zero with a one-line message
 * when no server binary is installed (`apt-get install -y redis-server`).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file, as jest.config.js
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/**/*.redis.test.ts', '<rootDir>/test/integration/breaker/{sharedState,multiProcess}.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/support/redisRun/globalSetup.ts',
};
