/**
 * A stand-in for the user directory (the downstream HTTP API), on 127.0.0.1.
 *
 *   GET  /users/{id}  -> 200 {id, name, email} | 404 {"error":"not found"}   (as the real directory answers)
 *   GET  /_control    -> the current mode and counters
 *   POST /_control    -> set the mode, body e.g. {"kind":"down"} or {"kind":"slow","delayMs":2000}
 *
 * Modes let a person or a test make the directory fail, slow down, answer garbage (a 200 HTML error page from a
 * proxy: the directory's fault, counted by the breaker), answer an invalid record (well-formed JSON whose user fails
 * validation, a name of 300 characters: that record's fault, not counted) or recover while the service runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DirectoryUser {
  id: string;
  name: string;
  email: string;
}

export type DirectoryMode =
  | { kind: 'up' }
  | { kind: 'down'; status?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'garbage' }
  | { kind: 'invalidRecord' };

export interface DirectoryStats {
  /** Requests to /users/{id} since start. */
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface RunningUserDirectoryStub {
  url: string;
  port: number;
  setMode(mode: DirectoryMode): void;
  mode(): DirectoryMode;
  stats(): DirectoryStats;
  stop(): Promise<void>;
}

export const demoUsers: readonly DirectoryUser[] = [
  { id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' },
  { id: 'demo-2', name: 'Grace Hopper', email: 'grace@example.com' },
  { id: 'demo-3', name: 'Alan Turing', email: 'alan@example.com' },
];

const MAX_CONTROL_BODY_BYTES = 4096;
const MAX_DELAY_MS = 120_000;

/** Validates a control body; throws an Error whose message names what is wrong. */
export function parseDirectoryMode(input: unknown): DirectoryMode {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('body must be a JSON object such as {"kind":"down"}');
  }
  const body = input as Record<string, unknown>;
  switch (body.kind) {
    case 'up':
    case 'garbage':
    case 'invalidRecord':
      return { kind: body.kind };
    case 'down': {
      if (body.status === undefined) return { kind: 'down' };
      if (!Number.isInteger(body.status) || (body.status as number) < 500 || (body.status as number) > 599) {
        throw new Error('"status" must be an integer from 500 to 599');
      }
      return { kind: 'down', status: body.status as number };
    }
    case 'slow': {
      const delayMs = body.delayMs;
      if (!Number.isInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > MAX_DELAY_MS) {
        throw new Error(`"delayMs" must be an integer from 0 to ${MAX_DELAY_MS}`);
      }
      return { kind: 'slow', delayMs: delayMs as number };
    }
    default:
      throw new Error('"kind" must be one of "up", "down", "slow", "garbage", "invalidRecord"');
  }
}

export async function startUserDirectoryStub(
  options: { port?: number; users?: readonly DirectoryUser[]; host?: string } = {},
): Promise<RunningUserDirectoryStub> {
  const users = new Map((options.users ?? demoUsers).map((user) => [user.id, user]));
  let mode: DirectoryMode = { kind: 'up' };
  const stats: DirectoryStats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  // Timers of slow answers, so stop() does not wait for them.
  const pendingDelays = new Set<NodeJS.Timeout>();

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const sendHtml = (res: ServerResponse, status: number, html: string): void => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  };

  const delay = (ms: number, res: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingDelays.delete(timer);
        resolve();
      }, ms);
      pendingDelays.add(timer);
      // A caller that gives up (an aborted fetch) frees the slot at once.
      res.once('close', () => {
        clearTimeout(timer);
        pendingDelays.delete(timer);
        resolve();
      });
    });

  const answerUser = async (res: ServerResponse, rawId: string): Promise<void> => {
    stats.requests += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      const current = mode;
      if (current.kind === 'slow') await delay(current.delayMs, res);
      if (current.kind === 'down') return sendJson(res, current.status ?? 503, { error: 'directory unavailable' });
      if (current.kind === 'garbage') return sendHtml(res, 200, '<html><body><h1>502 Bad Gateway</h1></body></html>');
      let id: string;
      try {
        id = decodeURIComponent(rawId);
      } catch {
        return sendJson(res, 400, { error: 'malformed id' });
      }
      if (current.kind === 'invalidRecord') return sendJson(res, 200, { id, name: 'x'.repeat(300), email: 'invalid-record@example.com' });
      const user = users.get(id);
      if (!user) return sendJson(res, 404, { error: 'not found' });
      sendJson(res, 200, user);
    } finally {
      stats.inFlight -= 1;
    }
  };

  const control = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET') return sendJson(res, 200, { mode, ...stats });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use GET or POST on /_control' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_CONTROL_BODY_BYTES) {
        sendJson(res, 413, { error: `control body larger than ${MAX_CONTROL_BODY_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'body is not valid JSON; send e.g. {"kind":"down"}' });
      }
      try {
        mode = parseDirectoryMode(parsed);
      } catch (error) {
        return sendJson(res, 400, { error: (error as Error).message });
      }
      sendJson(res, 200, { mode, ...stats });
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/_control') return control(req, res);
    const match = /^\/users\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && match) {
      answerUser(res, match[1]).catch(() => sendJson(res, 500, { error: 'stub failure' }));
      return;
    }
    sendJson(res, 404, { error: `no route ${req.method} ${path}` });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setMode: (next) => {
      mode = parseDirectoryMode(next);
    },
    mode: () => mode,
    stats: () => ({ ...stats }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of pendingDelays) clearTimeout(timer);
        pendingDelays.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
