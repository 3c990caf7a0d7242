/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // *.redis.test.ts need a redis-server binary: they run in `npm run test:redis` (jest.redis.config.js) only.
  testPathIgnorePatterns: ['/node_modules/', '\\.redis\\.test\\.ts$'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  // The AWS SDK's Node-version notice off for the test processes and every child they start (tools/quietAwsSdk.ts).
  setupFiles: ['<rootDir>/tools/quietAwsSdk.ts'],
  // Integration suites start their own servers; two cores do not gain from many workers.
  maxWorkers: 2,
};
