/** Counts the commands a DynamoDB client sends, by operation (GetItem, UpdateItem, ...), with a client middleware. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CommandCounter {
  /** The counts since the last reset, e.g. { UpdateItem: 1, GetItem: 1 }; operations never sent are absent. */
  counts(): Record<string, number>;
  reset(): void;
}

export function countCommands(client: DynamoDBClient): CommandCounter {
  let counts: Record<string, number> = {};
  // The initialize step runs once per command, however many times the SDK retries it.
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'commandCounter' },
  );
  return {
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {};
    },
  };
}
