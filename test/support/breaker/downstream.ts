/**
 * A downstream HTTP API on 127.0.0.1 for breaker integration tests, counting requests on the server side.
 * Modes: 'fail' answers 503 at once, 'ok' answers 200, 'hold' keeps each request open until release().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type DownstreamMode = 'fail' | 'ok' | 'hold';

export interface DownstreamStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface Downstream {
  url: string;
  setMode(mode: DownstreamMode): void;
  /** Answer every held request with 200. */
  release(): void;
  stats(): DownstreamStats;
  /** Zero the counters (maxInFlight restarts from what is in flight now). */
  resetStats(): void;
  /** Called on every request that arrives (after it is counted). */
  onRequest(listener: () => void): () => void;
  stop(): Promise<void>;
}

export async function startDownstream(initial: DownstreamMode = 'fail'): Promise<Downstream> {
  let mode = initial;
  const stats: DownstreamStats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  const held = new Set<ServerResponse>();
  const listeners = new Set<() => void>();
  const sockets = new Set<Socket>();

  const answer = (response: ServerResponse, status: number) => {
    held.delete(response);
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(status === 200 ? { ok: true } : { error: 'down' }));
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      stats.inFlight--;
      held.delete(response);
    };
    response.once('finish', finish);
    response.once('close', finish);
    request.resume();
    if (mode === 'hold') held.add(response);
    else answer(response, mode === 'ok' ? 200 : 503);
    for (const listener of listeners) listener();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setMode: (next) => {
      mode = next;
    },
    release: () => {
      for (const response of [...held]) answer(response, 200);
    },
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats.requests = 0;
      stats.maxInFlight = stats.inFlight;
    },
    onRequest: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const response of [...held]) answer(response, 503);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TCP server posing as a DynamoDB endpoint that accepts connections and never answers. */
export async function startHungEndpoint(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = createServer(() => undefined);
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
