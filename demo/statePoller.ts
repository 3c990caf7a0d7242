/**
 * Reads the breaker's shared state a few times a second, with a CircuitBreaker instance pointed at the same
 * DynamoDB item the GetUser function uses (getState() is a fresh read; it never changes the state).
 */
import { CircuitBreaker, DynamoDBStateStore } from '../src/breaker';
import { localClient } from '../bench/dynamo';

export interface StatePollerOptions {
  dynamoEndpoint: string;
  tableName: string;
  circuit: string;
  intervalMs: number;
  onState: (state: string) => void;
}

export interface RunningStatePoller {
  stop(): Promise<void>;
}

export function startStatePoller(options: StatePollerOptions): RunningStatePoller {
  const client = localClient(options.dynamoEndpoint);
  const reader = new CircuitBreaker({ name: options.circuit, store: new DynamoDBStateStore({ tableName: options.tableName, client }) });
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      try {
        options.onState((await reader.getState()).state);
      } catch {
        options.onState('UNKNOWN');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    stop: async () => {
      running = false;
      wake?.();
      await loop;
      client.destroy();
    },
  };
}
