/**
 * Counts DynamoDB requests by operation at the SDK client, with a middleware on the client's stack.
 * A DynamoDBDocumentClient made with `.from(client)` shares that stack, so its commands are counted too,
 * under the low-level operation they send (GetCommand counts as GetItem).
 *
 * The middleware sits at the `initialize` step, so it counts each command once; SDK retries of the same
 * command are not counted again.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type RequestCounts = Record<string, number>;

export interface RequestCounter {
  /** A copy of the counts so far, keyed by operation (GetItem, UpdateItem, ...). */
  counts(): RequestCounts;
  total(): number;
  reset(): void;
  /** Removes the middleware; the client stops being counted. */
  detach(): void;
}

let nextCounterId = 0;

/** Strips the SDK's "Command" suffix: "GetItemCommand" -> "GetItem". */
export function operationName(commandName: string | undefined): string {
  if (!commandName) return 'unknown';
  return commandName.endsWith('Command') ? commandName.slice(0, -'Command'.length) : commandName;
}

export function countRequests(client: DynamoDBClient): RequestCounter {
  let counts: RequestCounts = {};
  // A unique name per counter, so two counters on one client do not replace each other.
  const name = `benchRequestCounter${nextCounterId++}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = operationName(context.commandName);
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    reset: () => {
      counts = {};
    },
    detach: () => {
      client.middlewareStack.remove(name);
    },
  };
}

/** `after - before`, per operation, leaving out operations with no requests in between. */
export function diffCounts(after: RequestCounts, before: RequestCounts): RequestCounts {
  const diff: RequestCounts = {};
  for (const [operation, count] of Object.entries(after)) {
    const delta = count - (before[operation] ?? 0);
    if (delta !== 0) diff[operation] = delta;
  }
  return diff;
}

export function addCounts(...all: RequestCounts[]): RequestCounts {
  const sum: RequestCounts = {};
  for (const counts of all) {
    for (const [operation, count] of Object.entries(counts)) sum[operation] = (sum[operation] ?? 0) + count;
  }
  return sum;
}

export function totalOf(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
