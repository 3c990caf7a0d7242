/** Entry point of `npm run breaker`; see breakerCommand.ts. Exit codes: 0 done, 1 the store failed, 2 bad usage. */
import '../tools/quietAwsSdk';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientConfigFor, describeSnapshot, parseBreakerCommand, runBreakerCommand, snapshotForOutput, USAGE, UsageError } from './breakerCommand';
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
    const snapshot = await runBreakerCommand(command, settings, client);
    console.log(command.json ? JSON.stringify(snapshotForOutput(snapshot), null, 2) : describeSnapshot(snapshot, settings));
    return 0;
  } catch (error) {
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
