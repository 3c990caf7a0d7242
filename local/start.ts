/**
 * `npm start`: the whole service on this machine (see localService.ts), a banner saying where everything listens
 * and how to trip the breaker, and a clean stop on Ctrl-C.
 *
 *   PORT=3000 USER_DIRECTORY_PORT=4010 LAMBDA_PORT=<free> DATA_DIR=<in memory> USER_DIRECTORY_URL=<the stub>
 *     npm start [-- --data-dir DIR] [-- --user-directory-url URL]
 *   BREAKER_STORE=redis npm start   or   npm start -- --store redis   (the breaker's state in a local redis-server)
 */
import '../tools/quietAwsSdk';
import { startLocalService, type RunningLocalService } from './localService';
import { RedisServerMissingError } from './redisServer';
import { checkPortsFree, PortInUseError } from './portCheck';

const USAGE = `Usage: npm start [-- --data-dir DIR] [--user-directory-url URL] [--store dynamodb|redis]

Environment:
  PORT                 API port (default 3000)
  USER_DIRECTORY_PORT  user-directory stub port (default 4010)
  USER_DIRECTORY_URL   call this user directory (GET {URL}/users/{id}) instead of starting the stub
                       (same as --user-directory-url; the README says what it must answer)
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

interface StartArgs {
  dataDir?: string;
  userDirectoryUrl?: string;
  store: StoreName;
}

function argsFrom(args: string[]): StartArgs {
  let dataDir = process.env.DATA_DIR || undefined;
  let userDirectoryUrl = process.env.USER_DIRECTORY_URL || undefined;
  let store = storeName(process.env.BREAKER_STORE || 'dynamodb', 'BREAKER_STORE');
  const valueOf = (flag: string, i: number): string => {
    const value = args[i + 1];
    if (!value || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return value;
  };
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
      dataDir = valueOf(arg, i);
      i += 1;
    } else if (arg.startsWith('--data-dir=')) {
      dataDir = arg.slice('--data-dir='.length);
    } else if (arg === '--user-directory-url') {
      userDirectoryUrl = valueOf(arg, i);
      i += 1;
    } else if (arg.startsWith('--user-directory-url=')) {
      userDirectoryUrl = arg.slice('--user-directory-url='.length);
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  if (userDirectoryUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(userDirectoryUrl)) {
    throw new UsageError(`USER_DIRECTORY_URL / --user-directory-url must be an http(s) URL, got "${userDirectoryUrl}"`);
  }
  return { ...(dataDir ? { dataDir } : {}), ...(userDirectoryUrl ? { userDirectoryUrl } : {}), store };
}

/**
 * serverless-offline lists its Lambda invoke route under the HTTP port with the short function name, where it answers
 * 404; the banner prints the working one (Lambda port, full name). Its output passes through here line by line.
 */
function withoutMisleadingRoutes(write: (text: string) => void): (text: string) => void {
  let partial = '';
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    const kept = lines.filter((line) => !/\/2015-03-31\/functions\/[^/\s]+\/invocations/.test(line));
    if (kept.length > 0) write(`${kept.join('\n')}\n`);
  };
}

function banner(service: RunningLocalService, dataDir: string | undefined): string {
  const api = service.apiUrl.replace('127.0.0.1', 'localhost');
  const directory = service.directoryUrl.replace('127.0.0.1', 'localhost');
  const row = (command: string, comment = ''): string => `  ${comment ? `${command.padEnd(70)}  # ${comment}` : command}`;
  const invokeEvent = `'{"rawPath":"/user/demo-1","pathParameters":{"id":"demo-1"}}'`;
  const lines = [
    '',
    'simple-web-service is running locally (stage dev, no AWS account)',
    '',
    `  API             ${api}/user/{id}   (GetUser through serverless-offline)`,
    '                  UNAUTHENTICATED: no authorizer runs locally, anyone on this machine can call it',
    '                  (deployed stages use their `authorizer` param: iam or jwt; only dev is public)',
    `  Lambda invoke   ${service.lambdaInvokeUrl}   (POST an API Gateway v2 event)`,
    service.directory
      ? `  user directory  ${directory}/users/{id}   (stub: demo-1, demo-2, demo-3)`
      : `  user directory  ${service.directoryUrl}/users/{id}   (yours, from USER_DIRECTORY_URL; no stub started)`,
    `  DynamoDB        ${service.dynamoEndpoint}   (dynalite, ${dataDir ? `data in ${dataDir}` : 'in memory'})`,
    `                  tables ${Object.values(service.tables).join(', ')}${service.redisUrl ? ' (the breaker table is not used)' : ''}`,
    ...(service.redisUrl ? [`  Redis           ${service.redisUrl}   (redis-server, in memory: the breaker's state)`] : []),
    '',
    'Try it:',
    row(`curl -i ${api}/user/demo-1`, service.directory ? '200, x-user-source: directory' : 'whatever your directory says about demo-1'),
    row(`curl -i ${api}/user/nobody`, '404'),
    row(`curl -X POST ${service.lambdaInvokeUrl} -d ${invokeEvent}`, 'the function itself'),
    '',
  ];
  if (service.directory) {
    lines.push(
      'Trip the breaker: make the directory fail, then call a few times (5 failures open the circuit in dev):',
      row(`curl -X POST ${directory}/_control -d '{"kind":"down"}'`),
      row(`curl -i ${api}/user/demo-1`, 'cached copy (x-user-source: cache)'),
      row(`curl -i ${api}/user/demo-3`, 'no copy: 503 with retry-after'),
      row(`curl -X POST ${directory}/_control -d '{"kind":"slow","delayMs":3000}'`, 'timeouts count as failures too'),
      'Heal it; after the open period (5 s in dev, doubling with each failed trial) calls close the circuit:',
      row(`curl -X POST ${directory}/_control -d '{"kind":"up"}'`),
      row(`curl ${directory}/_control`, 'mode and request counters'),
    );
  }
  lines.push(
    'See and steer the circuit (force-open, disable, reset also work):',
    row(service.redisUrl ? `npm run breaker -- status --store redis --endpoint ${service.redisUrl}` : `npm run breaker -- status --endpoint ${service.dynamoEndpoint}`),
    '',
    'Ctrl-C stops everything.',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { dataDir, userDirectoryUrl, store } = argsFrom(process.argv.slice(2));
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

  const ports = {
    port: portFromEnv('PORT', 3000),
    directoryPort: portFromEnv('USER_DIRECTORY_PORT', 4010),
    lambdaPort: portFromEnv('LAMBDA_PORT', 0),
  };
  await checkPortsFree([
    { variable: 'PORT', port: ports.port },
    // The stub is not started when USER_DIRECTORY_URL names another directory.
    ...(userDirectoryUrl ? [] : [{ variable: 'USER_DIRECTORY_PORT', port: ports.directoryPort }]),
    { variable: 'LAMBDA_PORT', port: ports.lambdaPort },
  ]);
  const service = await startLocalService({
    ...ports,
    dataDir,
    ...(userDirectoryUrl ? { userDirectoryUrl } : {}),
    store,
    onOutput: withoutMisleadingRoutes((text) => process.stdout.write(text)),
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
  if (error instanceof PortInUseError) {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  }
  if (error instanceof RedisServerMissingError) console.error(`npm start --store redis: ${error.message}`);
  else console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error);
  process.exit(1);
});
