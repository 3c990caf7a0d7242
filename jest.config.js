/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // *.redis.test.ts need a redis-server binary: they run in `npm run test:redis` (jest.redis.config.js) only.
  testPathIgnorePatterns: ['/node_modules/', '\\.redis\\.test\\.ts$'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  // Integration suites start their own servers; two cores do not gain from many workers.
  maxWorkers: 2,
};
