/**
 * The Users table: the last good copy of each user the directory returned.
 * Only GetItem, PutItem and DeleteItem (the function's IAM policy allows exactly these). Each call has its own time
 * budget, so a slow table cannot eat the function's timeout.
 */
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { errorSummary, type Log } from '../observability/logger';
import { parseCachedUser, type CachedUser } from './user';

/**
 * What a read of the cached copy found. `unreadable` is not `absent`: the table failed or did not answer in time, or
 * the item is malformed, so the service does not know whether a usable copy exists and must not say there is none.
 */
export type CachedCopy =
  | { kind: 'found'; user: CachedUser }
  | { kind: 'absent' }
  | { kind: 'unreadable'; reason: 'readFailed' | 'malformed' };

export interface UsersRepository {
  /** The cached copy, `absent` when the table holds none, `unreadable` when it could not be read or is malformed. */
  find(id: string): Promise<CachedCopy>;
  /** Stores the copy; a failure is logged and swallowed (a good answer never turns into an error over it). */
  save(user: CachedUser): Promise<void>;
  /**
   * Deletes the stored copy of a user the directory no longer knows. Only a copy fetched before `requestStartedAt`
   * (epoch ms: when the request that got the directory's 404 was sent) is deleted. A failure is logged and swallowed
   * (the 404 is still the answer).
   */
  remove(id: string, requestStartedAt: number): Promise<void>;
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
        logger.warn('users table read failed; the cached copy is unreadable', { userId: id, timeoutMs, error: errorSummary(error) });
        return { kind: 'unreadable', reason: 'readFailed' };
      }
      if (item === undefined) return { kind: 'absent' };
      const cached = parseCachedUser(item);
      if (!cached.ok || cached.value.id !== id) {
        logger.warn('malformed item in users table; the cached copy is unreadable', {
          userId: id,
          problem: cached.ok ? 'item id does not match its key' : cached.problem,
        });
        return { kind: 'unreadable', reason: 'malformed' };
      }
      return { kind: 'found', user: cached.value };
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

    async remove(id, requestStartedAt) {
      try {
        await documents.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { id },
            // The 404 and a 200 for the same user can finish in either order. A copy fetched at or after the moment
            // this 404's request was sent may come from an answer the directory gave later (the user re-created), so
            // only an older copy is deleted: an older 404 never deletes a newer copy. An item without fetchedAt
            // (malformed, never served) goes too.
            ConditionExpression: 'attribute_not_exists(fetchedAt) OR fetchedAt < :requestStartedAt',
            ExpressionAttributeValues: { ':requestStartedAt': requestStartedAt },
          }),
          { abortSignal: AbortSignal.timeout(timeoutMs) },
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          logger.debug('users table holds a copy newer than the 404; kept', { userId: id });
          return;
        }
        logger.warn('users table delete failed; the stale copy stays until the next 404', { userId: id, timeoutMs, error: errorSummary(error) });
      }
    },
  };
}
