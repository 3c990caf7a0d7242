/**
 * Entry point of `npm run breaker`; see breakerCommand.ts. Exit codes: 0 done, 1 the store failed, 2 bad usage (also
 * force-open/disable on a circuit with no stored state, without --create).
 */
import '../tools/quietAwsSdk';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createClient } from '@redis/client';
import { RedisStateStore, type StateStore } from '../src/breaker';
import {
  cachedOpenNote,
  clientConfigFor,
  describeSnapshot,
  executeBreakerCommand,
  jsonForOutput,
  NoStoredStateError,
  parseBreakerCommand,
  USAGE,
  UsageError,
} from './breakerCommand';
import { readStageBreakerSettings } from './stageBreakerSettings';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let command;
  try {
    command = parseBreakerCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`breaker: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const settings = readStageBreakerSettings(command.stage);
  let target: DynamoDBClient | StateStore;
  let close: () => void;
  const clientConfig = clientConfigFor(command, settings.region);
  const where = command.store === 'redis' ? `Redis ${command.endpoint}` : `table ${settings.tableName}`;
  const place = command.store === 'redis' ? where : `${where} (${command.endpoint ?? `region ${String(clientConfig.region)}`})`;
  if (command.store === 'redis') {
    const redis = createClient({ url: command.endpoint, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
    redis.on('error', () => undefined); // the failed command says what went wrong
    try {
      await redis.connect();
    } catch (error) {
      console.error(`breaker: cannot connect to ${place}: ${(error as Error).message}`);
      return 1;
    }
    target = new RedisStateStore({ client: redis });
    close = () => redis.destroy();
  } else {
    const client = new DynamoDBClient(clientConfig);
    target = client;
    close = () => client.destroy();
  }
  try {
    const result = await executeBreakerCommand(command, settings, target);
    const note = cachedOpenNote(result);
    if (command.json) {
      console.log(JSON.stringify({ ...jsonForOutput(result.snapshot, settings), ...(note ? { note: note.trim() } : {}) }, null, 2));
    } else {
      console.log(describeSnapshot(result.snapshot, settings, Date.now(), where) + (note ? `\n${note}` : ''));
    }
    return 0;
  } catch (error) {
    if (error instanceof NoStoredStateError) {
      console.error(`breaker: ${command.action} refused: ${error.message}`);
      return 2;
    }
    const cause = (error as { cause?: Error }).cause;
    console.error(`breaker: ${command.action} failed on ${place}: ${(error as Error).message}${cause ? ` (${cause.name}: ${cause.message})` : ''}`);
    return 1;
  } finally {
    close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`breaker: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  },
);
