/**
 * The three ways the bench calls the downstream: (a) directly, (b) through the naive breaker, (c) through this
 * project's breaker. Each becomes a `Guard`, so every scenario runs the same loop over all three.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CircuitBreaker, DynamoDBStateStore, type BreakerEvent, type CircuitBreakerOptions } from '../src/breaker';
import { NaiveBreaker } from './naiveBreaker';

export type VariantKind = 'none' | 'naive' | 'breaker';

/** The breaker options a variant may set: plain data, so a spec can travel to a worker process over IPC. */
export type BreakerSettings = Omit<CircuitBreakerOptions, 'name' | 'store' | 'isFailure' | 'now'>;

export type VariantSpec =
  | { kind: 'none' }
  | { kind: 'naive'; circuit: string; failureThreshold: number; openMs: number }
  | { kind: 'breaker'; circuit: string; settings: BreakerSettings };

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
      const breaker = new CircuitBreaker({
        ...spec.settings,
        name: spec.circuit,
        store: new DynamoDBStateStore({ tableName, client }),
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
