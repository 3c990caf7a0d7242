/**
 * An embedded DynamoDB-compatible server (dynalite) on 127.0.0.1, for the local run, tests and benchmarks.
 * In memory unless `path` names a data directory.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

export interface RunningDynalite {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startDynalite(options: { port?: number; path?: string } = {}): Promise<RunningDynalite> {
  // Table creation and deletion take no simulated time: tests and the local run need the table at once.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from SDK clients would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
