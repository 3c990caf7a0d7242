/**
 * The breaker most articles show, kept here only as a baseline for the bench. Do not use it.
 *
 * On every call: read the state item, decide, call, write the whole item back. No conditions, no half-open
 * limit. Two callers that read the same item and both fail each write `failures + 1`: one count is lost.
 * When the open period ends, every caller that reads the item lets its call through as a "trial".
 */
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CircuitOpenError } from '../src/breaker/errors';

export interface NaiveBreakerOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The state item's id. */
  name: string;
  failureThreshold: number;
  openMs: number;
  now?: () => number;
  /** Called after each admitted call with the state it was admitted in (HALF_OPEN = a trial after the open period). */
  onCallCompleted?: (admittedIn: 'CLOSED' | 'HALF_OPEN', outcome: 'success' | 'failure') => void;
}

export interface NaiveState {
  state: 'CLOSED' | 'OPEN';
  failures: number;
  openedAt: number;
}

export class NaiveBreaker {
  private readonly now: () => number;

  constructor(private readonly options: NaiveBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  async execute<T>(fn: () => Promise<T>): Promise<T> {
    const current = await this.read();
    const now = this.now();
    if (current.state === 'OPEN' && now < current.openedAt + this.options.openMs) {
      throw new CircuitOpenError(this.options.name, current.openedAt + this.options.openMs - now, 'OPEN');
    }
    const admittedIn = current.state === 'OPEN' ? 'HALF_OPEN' : 'CLOSED';
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      const failures = current.failures + 1;
      const open = admittedIn === 'HALF_OPEN' || failures >= this.options.failureThreshold;
      await this.write({ state: open ? 'OPEN' : 'CLOSED', failures, openedAt: open ? this.now() : current.openedAt });
      this.options.onCallCompleted?.(admittedIn, 'failure');
      throw error;
    }
    await this.write({ state: 'CLOSED', failures: 0, openedAt: 0 });
    this.options.onCallCompleted?.(admittedIn, 'success');
    return result;
  }

  /** The stored state (CLOSED with no failures when there is no item yet). */
  async read(): Promise<NaiveState> {
    const { Item } = await this.options.client.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: { id: { S: this.options.name } } }),
    );
    if (!Item) return { state: 'CLOSED', failures: 0, openedAt: 0 };
    const state = Item.state?.S;
    const failures = Number(Item.failures?.N);
    const openedAt = Number(Item.openedAt?.N);
    if ((state !== 'CLOSED' && state !== 'OPEN') || !Number.isInteger(failures) || !Number.isFinite(openedAt)) {
      throw new Error(`naive breaker item '${this.options.name}' is malformed: ${JSON.stringify(Item)}`);
    }
    return { state, failures, openedAt };
  }

  private async write(next: NaiveState): Promise<void> {
    // Deliberately unconditional: this is the lost-update race the real breaker's conditions close.
    await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: {
          id: { S: this.options.name },
          state: { S: next.state },
          failures: { N: String(next.failures) },
          openedAt: { N: String(next.openedAt) },
        },
      }),
    );
  }
}
