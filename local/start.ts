/**
 * `npm start`: the whole service on this machine (see localService.ts), a banner saying where everything listens
 * and how to trip the breaker, and a clean stop on Ctrl-C.
 *
 *   PORT=3000 USER_DIRECTORY_PORT=4010 LAMBDA_PORT=<free> DATA_DIR=<in memory>   npm start [-- --data-dir DIR]
 *   BREAKER_STORE=redis npm start   or   npm start -- --store redis   (the breaker's state in a local redis-server)
 */
import { startLocalService, type RunningLocalService } from './localService';
import { RedisServerMissingError } from './redisServer';

const USAGE = `Usage: npm start [-- --data-dir DIR] [--store dynamodb|redis]

Environment:
  PORT                 API port (default 3000)
  USER_DIRECTORY_PORT  user-directory stub port (default 4010)
  LAMBDA_PORT          serverless-offline's Lambda invoke port (default: a free port)
  DATA_DIR             keep DynamoDB data in this directory (default: in memory)
  BREAKER_STORE        where the breaker's state lives: dynamodb (default) or redis (starts redis-server, which
                       must be installed: apt-get install redis-server); --store overrides it`;

type StoreName = 'dynamodb' | 'redis';

class UsageError extends Error {}

/** Ctrl-C or SIGTERM during startup: startLocalService has stopped what it started. */
class StartupAborted extends Error {
  constructor(readonly exitCode: number) {
    super('startup aborted');
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${name} must be a port number from 0 to 65535, got "${raw}"`);
  return port;
}

function storeName(value: string, where: string): StoreName {
  if (value !== 'dynamodb' && value !== 'redis') throw new UsageError(`${where} must be dynamodb or redis, got "${value}"`);
  return value;
}

function optionsFromArgs(args: string[]): { dataDir: string | undefined; store: StoreName } {
  let dataDir = process.env.DATA_DIR || undefined;
  let store = storeName(process.env.BREAKER_STORE || 'dynamodb', 'BREAKER_STORE');
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--store') {
      store = storeName(args[i + 1] ?? '', '--store');
      i += 1;
    } else if (arg.startsWith('--store=')) {
      store = storeName(arg.slice('--store='.length), '--store');
    } else if (arg === '--data-dir') {
      dataDir = args[i + 1];
      i += 1;
      if (!dataDir) throw new UsageError('--data-dir needs a directory');
    } else if (arg.startsWith('--data-dir=')) {
      dataDir = arg.slice('--data-dir='.length);
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  return { dataDir, store };
}

function banner(service: RunningLocalService, dataDir: string | undefined): string {
  const api = service.apiUrl.replace('127.0.0.1', 'localhost');
  const directory = service.directoryUrl.replace('127.0.0.1', 'localhost');
  const row = (command: string, comment = ''): string => `  ${comment ? `${command.padEnd(70)}  # ${comment}` : command}`;
  return [
    '',
    'simple-web-service is running locally (stage dev, no AWS account)',
    '',
    `  API             ${api}/user/{id}   (GetUser through serverless-offline)`,
    `  user directory  ${directory}/users/{id}   (stub: demo-1, demo-2, demo-3)`,
    `  DynamoDB        ${service.dynamoEndpoint}   (dynalite, ${dataDir ? `data in ${dataDir}` : 'in memory'})`,
    `                  tables ${Object.values(service.tables).join(', ')}${service.redisUrl ? ' (the breaker table is not used)' : ''}`,
    ...(service.redisUrl ? [`  Redis           ${service.redisUrl}   (redis-server, in memory: the breaker's state)`] : []),
    '',
    'Try it:',
    row(`curl -i ${api}/user/demo-1`, '200, x-user-source: directory'),
    row(`curl -i ${api}/user/nobody`, '404'),
    '',
    'Trip the breaker: make the directory fail, then call a few times (5 failures open the circuit in dev):',
    row(`curl -X POST ${directory}/_control -d '{"kind":"down"}'`),
    row(`curl -i ${api}/user/demo-1`, 'cached copy (x-user-source: cache)'),
    row(`curl -i ${api}/user/demo-3`, 'no copy: 503 with retry-after'),
    row(`curl -X POST ${directory}/_control -d '{"kind":"slow","delayMs":3000}'`, 'timeouts count as failures too'),
    'Heal it; after the open period (5 s in dev, doubling with each failed trial) calls close the circuit:',
    row(`curl -X POST ${directory}/_control -d '{"kind":"up"}'`),
    row(`curl ${directory}/_control`, 'mode and request counters'),
    'See and steer the circuit (force-open, disable, reset also work):',
    row(service.redisUrl ? `npm run breaker -- status --store redis --endpoint ${service.redisUrl}` : `npm run breaker -- status --endpoint ${service.dynamoEndpoint}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { dataDir, store } = optionsFromArgs(process.argv.slice(2));
  // Signals are handled from the first moment: serverless-offline runs in its own process group, so dying on a
  // default SIGINT halfway through startup would leave it running.
  const startup = new AbortController();
  const running: { service?: RunningLocalService } = {};
  let stopping = false;
  const shutdown = (reason: string, exitCode: number): void => {
    if (stopping) {
      console.log('\nStill stopping; press Ctrl-C again to quit at once.');
      process.once('SIGINT', () => process.exit(130));
      return;
    }
    stopping = true;
    console.log(`\n${reason}: stopping the API, the user-directory stub, DynamoDB and any Redis...`);
    if (!running.service) return startup.abort(new StartupAborted(exitCode));
    running.service.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        console.error('Stopping failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('Ctrl-C', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));

  const service = await startLocalService({
    port: portFromEnv('PORT', 3000),
    directoryPort: portFromEnv('USER_DIRECTORY_PORT', 4010),
    lambdaPort: portFromEnv('LAMBDA_PORT', 0),
    dataDir,
    store,
    onOutput: (text) => process.stdout.write(text),
    signal: startup.signal,
  });
  running.service = service;
  console.log(banner(service, dataDir));
  void service.offlineExited.then(({ code, signal }) => {
    if (!stopping) shutdown(`serverless-offline exited on its own (code ${code}, signal ${signal})`, 1);
  });
}

main().catch((error: unknown) => {
  if (error instanceof StartupAborted) process.exit(error.exitCode);
  if (error instanceof RedisServerMissingError) console.error(`npm start --store redis: ${error.message}`);
  else console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error);
  process.exit(1);
});
