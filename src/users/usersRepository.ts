/**
 * The Users table: the last good copy of each user the directory returned.
 * Only GetItem and PutItem (the function's IAM policy allows exactly these). Each call has its own time budget,
 * so a slow table cannot eat the function's timeout.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { errorSummary, type Log } from '../observability/logger';
import { parseCachedUser, type CachedUser } from './user';

export interface UsersRepository {
  /** The cached copy, or undefined when there is none, it is malformed, or the table did not answer in time. */
  find(id: string): Promise<CachedUser | undefined>;
  /** Stores the copy; a failure is logged and swallowed (a good answer never turns into an error over it). */
  save(user: CachedUser): Promise<void>;
}

export interface UsersRepositoryOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Budget for one read or write, retries included. */
  timeoutMs: number;
  logger: Log;
}

export function createUsersRepository(options: UsersRepositoryOptions): UsersRepository {
  const documents = DynamoDBDocumentClient.from(options.client);
  const { tableName, timeoutMs, logger } = options;

  return {
    async find(id) {
      let item: Record<string, unknown> | undefined;
      try {
        const output = await documents.send(new GetCommand({ TableName: tableName, Key: { id } }), {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
        item = output.Item;
      } catch (error) {
        logger.warn('users table read failed; answering as if no copy exists', { userId: id, timeoutMs, error: errorSummary(error) });
        return undefined;
      }
      if (item === undefined) return undefined;
      const cached = parseCachedUser(item);
      if (!cached.ok || cached.value.id !== id) {
        logger.warn('malformed item in users table; answering as if no copy exists', {
          userId: id,
          problem: cached.ok ? 'item id does not match its key' : cached.problem,
        });
        return undefined;
      }
      return cached.value;
    },

    async save(user) {
      const item: CachedUser = { id: user.id, name: user.name, email: user.email, fetchedAt: user.fetchedAt };
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: item,
            // Two containers can fetch the same user at once and finish their writes in either order: only a copy
            // the directory gave later replaces the stored one, so a slow, older answer never overwrites a newer one.
            ConditionExpression: 'attribute_not_exists(id) OR fetchedAt < :fetchedAt',
            ExpressionAttributeValues: { ':fetchedAt': item.fetchedAt },
          }),
          { abortSignal: AbortSignal.timeout(timeoutMs) },
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          logger.debug('users table already holds a newer copy', { userId: user.id });
          return;
        }
        logger.warn('users table write failed; the fresh answer is still served', { userId: user.id, timeoutMs, error: errorSummary(error) });
      }
    },
  };
}
