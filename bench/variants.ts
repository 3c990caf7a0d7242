/**
 * The three ways the bench calls the downstream: (a) directly, (b) through the naive breaker, (c) through this
 * project's breaker, whose state lives in DynamoDB (the default) or in Redis (`store: 'redis'`). Each becomes a
 * `Guard`, so every scenario runs the same loop over all of them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CircuitBreaker,
  DynamoDBStateStore,
  RedisStateStore,
  type BreakerEvent,
  type CircuitBreakerOptions,
  type RedisCommandClient,
  type StateStore,
} from '../src/breaker';
import { NaiveBreaker } from './naiveBreaker';

export type VariantKind = 'none' | 'naive' | 'breaker';

/** The breaker options a variant may set: plain data, so a spec can travel to a worker process over IPC. */
export type BreakerSettings = Omit<CircuitBreakerOptions, 'name' | 'store' | 'isFailure' | 'now'>;

/** Where this project's breaker keeps its state. */
export type StoreKind = 'dynamodb' | 'redis';

export type VariantSpec =
  | { kind: 'none' }
  | { kind: 'naive'; circuit: string; failureThreshold: number; openMs: number }
  /** `store` defaults to 'dynamodb'; 'redis' needs `GuardHooks.redis`. */
  | { kind: 'breaker'; circuit: string; settings: BreakerSettings; store?: StoreKind };

export const VARIANT_LABELS: Record<VariantKind, string> = {
  none: '(a) no breaker',
  naive: '(b) naive breaker',
  breaker: '(c) this breaker',
};

export interface GuardHooks {
  /** After each admitted call, with the state it was admitted in (HALF_OPEN = a trial). */
  onCallCompleted?: (admittedIn: string) => void;
  /** Every event of this project's breaker (state changes, store errors, rejections); not called for (a) and (b). */
  onEvent?: (event: BreakerEvent) => void;
  now?: () => number;
  /** A connected Redis client, for a breaker spec with `store: 'redis'`. */
  redis?: RedisCommandClient;
  /** Wraps the breaker's store (e.g. to time its operations); not called for (a) and (b). */
  wrapStore?: (store: StateStore) => StateStore;
}

export interface Guard {
  call<T>(fn: (signal?: AbortSignal) => Promise<T>): Promise<T>;
  /** The stored state and failure count, read fresh (undefined for no breaker). */
  readState(): Promise<{ state: string; failures: number } | undefined>;
  /** Forget this guard's listeners. */
  dispose(): void;
}

export function createGuard(spec: VariantSpec, client: DynamoDBClient, tableName: string, hooks: GuardHooks = {}): Guard {
  switch (spec.kind) {
    case 'none':
      return { call: (fn) => fn(), readState: async () => undefined, dispose: () => undefined };
    case 'naive': {
      const naive = new NaiveBreaker({
        client,
        tableName,
        name: spec.circuit,
        failureThreshold: spec.failureThreshold,
        openMs: spec.openMs,
        ...(hooks.now ? { now: hooks.now } : {}),
        ...(hooks.onCallCompleted ? { onCallCompleted: hooks.onCallCompleted } : {}),
      });
      return {
        call: (fn) => naive.execute(() => fn()),
        readState: async () => naive.read(),
        dispose: () => undefined,
      };
    }
    case 'breaker': {
      const store = storeFor(spec.store ?? 'dynamodb', client, tableName, hooks.redis);
      const breaker = new CircuitBreaker({
        ...spec.settings,
        name: spec.circuit,
        store: hooks.wrapStore ? hooks.wrapStore(store) : store,
        ...(hooks.now ? { now: hooks.now } : {}),
      });
      const unsubscribe =
        hooks.onCallCompleted || hooks.onEvent
          ? breaker.onEvent((event) => {
              if (event.type === 'callCompleted') hooks.onCallCompleted?.(event.state);
              hooks.onEvent?.(event);
            })
          : () => undefined;
      return {
        call: (fn) => breaker.execute((signal) => fn(signal)),
        readState: async () => {
          const snapshot = await breaker.getState();
          return { state: snapshot.state, failures: snapshot.failures };
        },
        dispose: unsubscribe,
      };
    }
  }
}

function storeFor(kind: StoreKind, client: DynamoDBClient, tableName: string, redis: RedisCommandClient | undefined): StateStore {
  if (kind === 'dynamodb') return new DynamoDBStateStore({ tableName, client });
  if (!redis) throw new Error("a breaker spec with store 'redis' needs a connected Redis client (GuardHooks.redis)");
  return new RedisStateStore({ client: redis, keyPrefix: 'bench:' });
}
