/**
 * A real Redis-compatible server for one test file (see local/redisServer.ts), with connected `@redis/client`
 * clients that stop() disconnects before stopping the server by its PID.
 */
import { createClient } from '@redis/client';
import { startRedisServer, type RunningRedisServer } from '../../local/redisServer';

// No reconnect: a test that stops the server wants errors, not a client retrying forever.
const makeClient = (url: string) => createClient({ url, socket: { reconnectStrategy: false } });
export type TestRedisClient = ReturnType<typeof makeClient>;

export interface TestRedis {
  server: RunningRedisServer;
  url: string;
  /** A new connected client (each container would have its own); all closed by stop(). */
  newClient(): Promise<TestRedisClient>;
  stop(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const server = await startRedisServer();
  const clients: TestRedisClient[] = [];
  return {
    server,
    url: server.url,
    newClient: async () => {
      const client = makeClient(server.url);
      client.on('error', () => undefined); // reported through the rejected commands
      clients.push(client);
      await client.connect();
      return client;
    },
    stop: async () => {
      for (const client of clients) if (client.isOpen) client.destroy();
      await server.stop();
    },
  };
}
