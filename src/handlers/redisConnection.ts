/**
 * The container's connection to the breaker's Redis/Valkey server (BREAKER_STORE=redis): an `@redis/client` client
 * created with the container but connected on its first command, so a cold start that never reaches the breaker
 * opens no socket, and a failed connection is retried by the next request rather than wedging the container.
 * TLS comes from the `rediss://` URL (ElastiCache Serverless only accepts TLS).
 *
 * The client library is loaded on the first command (a dynamic import, which esbuild keeps lazy in the bundle), so a
 * stage whose breaker store is DynamoDB never pays for loading it at cold start.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedisCommandClient } from '../breaker';

/** How long one connection attempt may take (ms); the breaker's storeTimeoutMs bounds each request anyway. */
const CONNECT_TIMEOUT_MS = 1_000;

export interface RedisConnection extends RedisCommandClient {
  destroy(): void;
}

export function createRedisConnection(url: string, logger: Pick<Logger, 'warn'>): RedisConnection {
  let client: RedisClient | undefined;
  // One client per container, also when the first commands arrive together.
  let creating: Promise<RedisClient> | undefined;
  let connecting: Promise<unknown> | undefined;
  const connected = async (): Promise<RedisClient> => {
    creating ??= createConnectionClient(url, logger);
    client = await creating;
    if (client.isReady) return client;
    if (!client.isOpen) connecting = undefined; // never connected, or the connection closed since: connect again
    connecting ??= client.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    await connecting;
    return client;
  };
  return {
    sendCommand: async (args, options) => (await connected()).sendCommand(args, options),
    destroy: () => {
      if (client?.isOpen) client.destroy();
    },
  };
}

type RedisClient = Awaited<ReturnType<typeof createConnectionClient>>;

async function createConnectionClient(url: string, logger: Pick<Logger, 'warn'>) {
  const { createClient } = await import('@redis/client');
  const client = createClient({
    url,
    // No reconnect loop in the background of a frozen container: the next command connects again.
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false },
    // A command sent while disconnected fails at once (a store error) instead of waiting in a queue.
    disableOfflineQueue: true,
  });
  // Without a listener an 'error' event would crash the process; the failed command is what the breaker reports.
  client.on('error', (error: unknown) => logger.warn('breaker store connection error', { error }));
  return client;
}
