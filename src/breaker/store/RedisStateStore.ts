/**
 * The shared state in Redis or Valkey (e.g. Amazon ElastiCache Serverless): one hash per circuit, for functions that
 * already run in a VPC. Same semantics as DynamoDBStateStore, request for request:
 * - Every operation is one Lua script (redisScripts.ts) run with EVALSHA: the server runs it atomically, so its guard
 *   (the same version/state/token conditions as DynamoDB's) and its writes are one step. Each script is loaded once
 *   per server (SCRIPT LOAD on the first NOSCRIPT answer, e.g. after a failover or restart) and then run by hash.
 * - Counters change only by HINCRBY; no operation rewrites the whole hash.
 * - Every script answers with the hash as it now is (or as it was when its condition failed), decoded by the same
 *   `parseItem` as DynamoDB's items, so a malformed hash is treated exactly as a malformed item.
 * - Expiry: the hash expires with PEXPIREAT at the request's `expiresAt` (epoch seconds, from itemTtlMs, on the
 *   breaker's clock); overrides (FORCED_OPEN, DISABLED) carry none and are made persistent (PERSIST).
 *
 * Bring your own client: a connected `@redis/client` (or `redis`) v5+ client. It is the documented default because it
 * is Redis's own Node.js client, the one Powertools for AWS Lambda's cache persistence layer shows beside Valkey GLIDE
 * (pure JavaScript, so the Lambda bundle needs no native binary), and its commands take an AbortSignal. Anything
 * with the same `sendCommand(args, { abortSignal })` works. Use a standalone (non-cluster) connection to the cache's
 * one endpoint (every operation touches one key); a cluster redirect (MOVED/ASK) is not followed but reported as a
 * store error, so a misrouted store fails loudly rather than silently.
 *
 * Errors: a connection error, a server error (including MOVED/ASK, READONLY, OOM) or an abort rejects the request;
 * the breaker reports it as a StateStoreError and applies `onStoreError`.
 *
 * @example
 * import { createClient } from '@redis/client';
 * const client = createClient({ url: `rediss://${process.env.CACHE_ENDPOINT}:6379` });
 * client.on('error', (error) => logger.warn('redis', { error }));
 * await client.connect();
 * const breaker = new CircuitBreaker({ name: 'user-directory', store: new RedisStateStore({ client }) });
 */
import { BreakerConfigError } from '../errors';
import { ATTR, parseItem, permitAttribute, type CircuitRecord } from '../state';
import { decodeHash, encodeLease } from './redisItem';
import { SCRIPTS, type RedisScript } from './redisScripts';
import type {
  AcquirePermitRequest,
  PermitRef,
  ReadOptions,
  RecordCountRequest,
  StateStore,
  StoreRequestOptions,
  TransitionRequest,
  WriteOutcome,
} from './StateStore';

/** What the store needs from a Redis client: `@redis/client`'s `sendCommand`. */
export interface RedisCommandClient {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface RedisStateStoreOptions {
  /** A connected client (see the class comment); the store never connects, disconnects or configures it. */
  client: RedisCommandClient;
  /**
   * Put before the circuit name to make the hash's key: 1-200 characters of letters, digits and `:_.-{}`.
   * Include a `{tag}` to keep all circuits in one cluster slot if you ever need to.
   * @default 'circuit-breaker:'
   */
  keyPrefix?: string;
}

const KEY_PREFIX = /^[A-Za-z0-9:_.{}-]{1,200}$/;

export class RedisStateStore implements StateStore {
  readonly client: RedisCommandClient;
  readonly keyPrefix: string;

  constructor(options: RedisStateStoreOptions) {
    if (typeof (options?.client as { sendCommand?: unknown } | undefined)?.sendCommand !== 'function') {
      throw new BreakerConfigError('client', 'must be a connected Redis client with sendCommand(args, options) (e.g. @redis/client createClient())');
    }
    const keyPrefix = options.keyPrefix ?? 'circuit-breaker:';
    if (typeof keyPrefix !== 'string' || !KEY_PREFIX.test(keyPrefix)) {
      throw new BreakerConfigError('keyPrefix', `must be 1-200 characters of A-Z a-z 0-9 : _ . - { }, got ${JSON.stringify(keyPrefix)}`);
    }
    this.client = options.client;
    this.keyPrefix = keyPrefix;
  }

  /** The hash key for a circuit. */
  keyOf(circuit: string): string {
    return `${this.keyPrefix}${circuit}`;
  }

  /** Always consistent (one primary answers); `options.consistent` is ignored. */
  async read(circuit: string, options: ReadOptions): Promise<CircuitRecord> {
    return (await this.run(SCRIPTS.read, circuit, {}, options)).record;
  }

  recordCount(circuit: string, request: RecordCountRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const increments = Object.entries(request.increments).map(([counter, amount]) => [counter, String(amount)]);
    return this.run(
      SCRIPTS.recordCount,
      circuit,
      {
        increments,
        stale: request.staleCounters.filter((counter) => !(counter in request.increments)),
        ...(request.admittedVersion === undefined ? {} : { admittedVersion: request.admittedVersion === null ? 'none' : String(request.admittedVersion) }),
        now: String(request.now),
        ...expiry(request.expiresAt),
      },
      options,
    );
  }

  transition(circuit: string, request: TransitionRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    const taken = request.permit ? permitAttribute(request.permit.slot) : undefined;
    return this.run(
      SCRIPTS.transition,
      circuit,
      {
        ...(request.from.version !== null ? { fromVersion: String(request.from.version) } : {}),
        ...(request.from.state !== undefined ? { fromState: request.from.state } : {}),
        ...(request.heldPermit ? { heldSlot: permitAttribute(request.heldPermit.slot), heldToken: request.heldPermit.token } : {}),
        to: request.to,
        version: String(request.version),
        backoffStep: String(request.backoffStep),
        now: String(request.now),
        ...(request.openUntil !== undefined ? { openUntil: String(request.openUntil) } : {}),
        ...(request.opening
          ? {
              opening: [
                [ATTR.openedAt, String(request.opening.openedAt)],
                [ATTR.openReason, request.opening.openReason],
                [ATTR.openFailures, String(request.opening.openFailures)],
                ...(request.opening.openCalls === undefined ? [] : [[ATTR.openCalls, String(request.opening.openCalls)]]),
              ],
            }
          : {}),
        ...(request.closedAt !== undefined ? { closedAt: String(request.closedAt) } : {}),
        remove: request.remove.filter((name) => name !== taken),
        ...(request.permit ? { permitSlot: taken, permitLease: encodeLease(request.permit.expiresAt, request.permit.token) } : {}),
        ...expiry(request.expiresAt),
      },
      options,
    );
  }

  acquirePermit(circuit: string, request: AcquirePermitRequest, options: StoreRequestOptions): Promise<WriteOutcome> {
    return this.run(
      SCRIPTS.acquirePermit,
      circuit,
      {
        version: String(request.version),
        slot: permitAttribute(request.permit.slot),
        lease: encodeLease(request.permit.expiresAt, request.permit.token),
        now: String(request.now),
      },
      options,
    );
  }

  releasePermit(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome> {
    return this.run(SCRIPTS.releasePermit, circuit, { slot: permitAttribute(permit.slot), token: permit.token }, options);
  }

  recordTrialSuccess(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome> {
    return this.run(SCRIPTS.recordTrialSuccess, circuit, { version: String(permit.version), slot: permitAttribute(permit.slot), token: permit.token }, options);
  }

  /** EVALSHA the script; on NOSCRIPT (never loaded, or the server restarted or failed over) load it and run it again. */
  private async run(script: RedisScript, circuit: string, request: Record<string, unknown>, options: StoreRequestOptions): Promise<WriteOutcome> {
    const key = this.keyOf(circuit);
    const args = [script.sha1, '1', key, JSON.stringify(request)];
    let reply: unknown;
    try {
      reply = await this.send(['EVALSHA', ...args], options.abortSignal);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw storeError(script, key, error);
      try {
        await this.send(['SCRIPT', 'LOAD', script.source], options.abortSignal);
        reply = await this.send(['EVALSHA', ...args], options.abortSignal);
      } catch (retryError) {
        throw storeError(script, key, retryError);
      }
    }
    return decodeReply(script, circuit, reply);
  }

  /** One command; stops waiting when the signal fires (the client drops it if not yet written), never leaving a rejection unhandled. */
  private send(args: string[], signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const sent = this.client.sendCommand(args, { abortSignal: signal });
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      sent.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }
}

function expiry(expiresAt: number | undefined): Record<string, string> {
  return expiresAt === undefined ? {} : { expiresAt: String(expiresAt), expiresAtMs: String(expiresAt * 1000) };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the store request was aborted');
}

/** A connection error, a server error (MOVED/ASK, READONLY, ...) or an abort, naming the script and key. */
function storeError(script: RedisScript, key: string, error: unknown): Error {
  if (signalLike(error)) return error as Error;
  const message = String((error as Error)?.message ?? error);
  const hint = /^(MOVED|ASK) /.test(message) ? ' (a cluster redirect: connect RedisStateStore with a standalone client to the endpoint that owns the key)' : '';
  return new Error(`Redis ${script.name} on ${key} failed: ${message}${hint}`, { cause: error });
}

/** The abort reason itself (e.g. the breaker's StoreTimeoutError) passes through unchanged. */
function signalLike(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'StoreTimeoutError' || name === 'AbortError' || name === 'TimeoutError';
}

function decodeReply(script: RedisScript, circuit: string, reply: unknown): WriteOutcome {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1]) || (reply[0] !== 0 && reply[0] !== 1)) {
    throw new Error(`Redis ${script.name} on ${circuit}: unexpected reply ${JSON.stringify(reply)?.slice(0, 100)}`);
  }
  return { applied: reply[0] === 1, record: parseItem(circuit, decodeHash(reply[1] as unknown[])) };
}
