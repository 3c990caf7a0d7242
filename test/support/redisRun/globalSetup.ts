/** `npm run test:redis`: stop at once, in one line, when no server binary is installed; else run the shared suites on Redis. */
import { findRedisServerBinary, RedisServerMissingError } from '../../../local/redisServer';

export default function globalSetup(): void {
  if (findRedisServerBinary() === undefined) {
    process.stderr.write(`test:redis: ${new RedisServerMissingError().message}\n`);
    process.exit(1);
  }
  // Read by test/support/breaker/storeBackend.ts in the workers, which inherit this environment.
  process.env.STATE_STORE_BACKEND = 'redis';
}
