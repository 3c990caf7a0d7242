/**
 * Entry point of `npm run breaker`; see breakerCommand.ts. Exit codes: 0 done, 1 the store failed, 2 bad usage (also
 * force-open/disable on a circuit with no stored state, without --create).
 */
import '../tools/quietAwsSdk';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
  const clientConfig = clientConfigFor(command, settings.region);
  const client = new DynamoDBClient(clientConfig);
  try {
    const result = await executeBreakerCommand(command, settings, client);
    const note = cachedOpenNote(result);
    if (command.json) {
      console.log(JSON.stringify({ ...jsonForOutput(result.snapshot, settings), ...(note ? { note: note.trim() } : {}) }, null, 2));
    } else {
      console.log(describeSnapshot(result.snapshot, settings) + (note ? `\n${note}` : ''));
    }
    return 0;
  } catch (error) {
    if (error instanceof NoStoredStateError) {
      console.error(`breaker: ${command.action} refused: ${error.message}`);
      return 2;
    }
    const cause = (error as { cause?: Error }).cause;
    const where = command.endpoint ?? `region ${String(clientConfig.region)}`;
    console.error(
      `breaker: ${command.action} failed on table ${settings.tableName} (${where}): ${(error as Error).message}${cause ? ` (${cause.name}: ${cause.message})` : ''}`,
    );
    return 1;
  } finally {
    client.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`breaker: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  },
);
