/**
 * A discarded round of calls with no breaker: the first measured round would otherwise pay for the workers' cold
 * start (module loading, JIT, first connections).
 */
import type { WorkerPool } from './workerPool';

const IPC_TIMEOUT_MS = 30_000;

export async function warmUp(pool: WorkerPool, setup: { dynamoEndpoint: string; tableName: string; downstreamUrl: string; callers: number }, ms: number): Promise<void> {
  const ready = pool.collect('ready', IPC_TIMEOUT_MS);
  for (let index = 0; index < pool.size; index += 1) {
    pool.send(index, { type: 'configure', workerIndex: index, spec: { kind: 'none' }, setup: { ...setup, thinkMs: 5, maxRunMs: ms + 10_000 } });
  }
  await ready;
  pool.broadcast({ type: 'start' });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const reports = pool.collect('report', IPC_TIMEOUT_MS);
  pool.broadcast({ type: 'stop' });
  await reports;
}
