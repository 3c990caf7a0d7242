/**
 * Counts the commands a Redis store sends, by command name (EVALSHA, SCRIPT, ...), as `RequestCounter` counts
 * DynamoDB requests by operation, so the bench reports "store requests" the same way for both stores.
 */
import { createClient } from '@redis/client';
import type { RedisCommandClient } from '../src/breaker';
import type { RequestCounter, RequestCounts } from './requestCounter';

export interface CountedRedis {
  /** Hand this to the store: every command it sends is counted. */
  client: RedisCommandClient;
  counter: RequestCounter;
}

export function countRedisCommands(client: RedisCommandClient): CountedRedis {
  let counts: RequestCounts = {};
  let detached = false;
  return {
    client: {
      sendCommand: (args, options) => {
        if (!detached) {
          const command = (args[0] ?? 'unknown').toUpperCase();
          counts[command] = (counts[command] ?? 0) + 1;
        }
        return client.sendCommand(args, options);
      },
    },
    counter: {
      counts: () => ({ ...counts }),
      total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
      reset: () => {
        counts = {};
      },
      detach: () => {
        detached = true;
      },
    },
  };
}

// No reconnect: a lost server is an error the bench should see, not a client retrying forever.
const makeClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });
export type BenchRedisClient = ReturnType<typeof makeClient>;

/** A connected `@redis/client` client that does not reconnect. */
export async function connectRedis(url: string): Promise<BenchRedisClient> {
  const client = makeClient(url);
  client.on('error', () => undefined); // reported through the rejected commands
  await client.connect();
  return client;
}
