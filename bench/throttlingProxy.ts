/**
 * A DynamoDB endpoint on 127.0.0.1 that forwards to a real one (dynalite, DynamoDB Local) and enforces what they do
 * not: DynamoDB's per-item (per-partition) throughput. Each item (table + key) has a read and a write token bucket,
 * refilling at the set units per second with one second of burst. A request it cannot pay for is answered the way
 * DynamoDB answers it: HTTP 400 with a `ProvisionedThroughputExceededException` JSON body, so an SDK client throws
 * that exception by name. It can also be made unreachable (every connection is destroyed), and it counts requests,
 * throttles and dropped requests per operation, as the server sees them: SDK retries appear here as extra requests.
 *
 * Units, as DynamoDB charges a small item (< 4 KB read, < 1 KB written; the breaker's item is smaller):
 * - GetItem: 1 read unit strongly consistent, 0.5 eventually consistent (`ConsistentRead` absent or false).
 * - PutItem, UpdateItem, DeleteItem: 1 write unit, also when the condition fails (charged before forwarding).
 * Other operations (CreateTable, Query, batches, transactions) are forwarded and counted but not metered: the
 * breaker does not use them.
 *
 * @example
 * const proxy = await startThrottlingProxy({ target: dynalite.endpoint, readUnitsPerSecond: 19, writeUnitsPerSecond: 6.4 });
 * const client = new DynamoDBClient({ endpoint: proxy.endpoint, maxAttempts: 1, ... });
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TokenBucket } from './tokenBucket';

export const THROTTLE_ERROR_TYPE = 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException';
export const THROTTLE_MESSAGE =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
const TARGET_PREFIX = 'DynamoDB_20120810.';
const MAX_BODY_BYTES = 1024 * 1024;

export interface ThroughputLimits {
  /** Read units per second per item; undefined = not limited. */
  readUnitsPerSecond?: number;
  /** Write units per second per item; undefined = not limited. */
  writeUnitsPerSecond?: number;
  /** Seconds of unused capacity an item may burst (DynamoDB keeps about 1 s per partition here). Default 1. */
  burstSeconds?: number;
}

export interface ThrottlingProxyOptions extends ThroughputLimits {
  /** The DynamoDB endpoint to forward to, e.g. dynalite's http://127.0.0.1:PORT. */
  target: string;
  /** Clock in ms for the token buckets. Default performance.now. */
  now?: () => number;
}

export interface OperationCounts {
  /** Requests that arrived (forwarded + throttled + dropped). */
  requests: number;
  forwarded: number;
  /** Answered ProvisionedThroughputExceededException. */
  throttled: number;
  /** Arrived while unreachable: the connection was destroyed. */
  dropped: number;
}

export type ProxyCounts = Record<string, OperationCounts>;

/** What one request costs: units from one item's read or write bucket. */
export interface Charge {
  bucket: string;
  kind: 'read' | 'write';
  units: number;
}

export interface RunningThrottlingProxy {
  /** e.g. http://127.0.0.1:41235: give it to a DynamoDB client as `endpoint`. */
  endpoint: string;
  /** false: every open connection is destroyed, and every new request's connection once the request is read, until set true again. */
  setReachable(reachable: boolean): void;
  /** New limits; every item's buckets start full again. */
  setLimits(limits: ThroughputLimits): void;
  /** A copy of the counts since start (or the last resetCounts), by operation (GetItem, UpdateItem, ...). */
  counts(): ProxyCounts;
  resetCounts(): void;
  stop(): Promise<void>;
}

/** The operation named by an `X-Amz-Target` header ("DynamoDB_20120810.GetItem" -> "GetItem"). */
export function operationOf(target: string | string[] | undefined): string {
  const value = Array.isArray(target) ? target[0] : target;
  if (!value) return 'unknown';
  return value.startsWith(TARGET_PREFIX) ? value.slice(TARGET_PREFIX.length) : value;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** What a request costs, or undefined when the proxy does not meter the operation. Throws on a body it cannot read. */
export function chargeFor(operation: string, body: unknown): Charge | undefined {
  if (operation !== 'GetItem' && !WRITES.has(operation)) return undefined;
  if (typeof body !== 'object' || body === null) throw new Error(`${operation}: the request body is not a JSON object`);
  const { TableName, Key, ConsistentRead } = body as { TableName?: unknown; Key?: unknown; ConsistentRead?: unknown };
  const item = operation === 'PutItem' ? keyOfPut(body) : Key;
  if (typeof TableName !== 'string' || typeof item !== 'object' || item === null) throw new Error(`${operation}: the request has no TableName or Key`);
  const bucket = `${TableName}\u0000${canonical(item)}`;
  if (operation === 'GetItem') return { bucket, kind: 'read', units: ConsistentRead === true ? 1 : 0.5 };
  return { bucket, kind: 'write', units: 1 };
}

/** PutItem names no key: the whole item is its key for metering (the breaker never puts; good enough for tests). */
function keyOfPut(body: object): unknown {
  return (body as { Item?: unknown }).Item;
}

/** The same key whatever the order of its attributes. */
function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export async function startThrottlingProxy(options: ThrottlingProxyOptions): Promise<RunningThrottlingProxy> {
  const target = new URL(options.target);
  const now = options.now ?? (() => performance.now());
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  /** Sockets with a request in progress: cut when the proxy becomes unreachable. Idle ones are cut at their next request. */
  const busy = new Set<Socket>();
  let limits: ThroughputLimits = { ...options };
  let buckets = new Map<string, TokenBucket>();
  let counts: ProxyCounts = {};
  let reachable = true;

  const countsOf = (operation: string): OperationCounts => (counts[operation] ??= { requests: 0, forwarded: 0, throttled: 0, dropped: 0 });

  const bucketFor = (charge: Charge): TokenBucket | undefined => {
    const rate = charge.kind === 'read' ? limits.readUnitsPerSecond : limits.writeUnitsPerSecond;
    if (rate === undefined) return undefined;
    const key = `${charge.kind}\u0000${charge.bucket}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket({ ratePerSecond: rate, burstSeconds: limits.burstSeconds ?? 1, now });
      buckets.set(key, bucket);
    }
    return bucket;
  };

  const answer = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': `throttling-proxy-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    });
    res.end(text);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.once('error', (error) => {
      if (!res.headersSent) answer(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `throttling proxy: ${error.message}` });
      else res.destroy();
    });
    upstream.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    busy.add(socket);
    res.once('close', () => busy.delete(socket));
    const operation = operationOf(req.headers['x-amz-target']);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const counted = countsOf(operation);
      counted.requests += 1;
      if (!reachable) {
        counted.dropped += 1;
        req.socket.destroy();
        return;
      }
      if (size > MAX_BODY_BYTES) return answer(res, 413, { __type: 'com.amazon.coral.service#SerializationException', message: `request body over ${MAX_BODY_BYTES} bytes` });
      const body = Buffer.concat(chunks);
      let charge: Charge | undefined;
      try {
        charge = chargeFor(operation, body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
      } catch {
        // Let the real endpoint answer a request the proxy cannot meter: it knows the exact validation error.
        charge = undefined;
      }
      const bucket = charge && bucketFor(charge);
      if (charge && bucket && !bucket.tryTake(charge.units)) {
        counted.throttled += 1;
        return answer(res, 400, { __type: THROTTLE_ERROR_TYPE, message: THROTTLE_MESSAGE });
      }
      counted.forwarded += 1;
      forward(req, res, body);
    });
  };

  const server = createServer(handle);
  // Connections are accepted even while unreachable, so each request is read (and counted by operation) before its
  // connection is destroyed: the client sees a reset, as when DynamoDB's endpoint cannot be reached.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setReachable: (value) => {
      reachable = value;
      if (!value) for (const socket of busy) socket.destroy();
    },
    setLimits: (next) => {
      limits = { ...next };
      buckets = new Map();
    },
    counts: () => Object.fromEntries(Object.entries(counts).map(([operation, c]) => [operation, { ...c }])),
    resetCounts: () => {
      counts = {};
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/** `after - before` per operation and field, leaving out operations with nothing in between. */
export function diffProxyCounts(after: ProxyCounts, before: ProxyCounts): ProxyCounts {
  const out: ProxyCounts = {};
  for (const [operation, a] of Object.entries(after)) {
    const b = before[operation] ?? { requests: 0, forwarded: 0, throttled: 0, dropped: 0 };
    const d = { requests: a.requests - b.requests, forwarded: a.forwarded - b.forwarded, throttled: a.throttled - b.throttled, dropped: a.dropped - b.dropped };
    if (d.requests !== 0) out[operation] = d;
  }
  return out;
}

/** Sums of every operation's counts. */
export function totalProxyCounts(counts: ProxyCounts): OperationCounts {
  const total = { requests: 0, forwarded: 0, throttled: 0, dropped: 0 };
  for (const c of Object.values(counts)) {
    total.requests += c.requests;
    total.forwarded += c.forwarded;
    total.throttled += c.throttled;
    total.dropped += c.dropped;
  }
  return total;
}
