/**
 * The installable breaker package, as a consumer gets it: `npm run pack:breaker` builds and packs it, the tarball is
 * installed into a scratch project, a consumer file is type-checked against the package's declarations (ESM and
 * CommonJS resolution) and run, through `import` and through `require`, against DynamoDBStateStore on dynalite.
 *
 * No network: the scratch project lives under the repository (.pack/, git-ignored), so the AWS SDK peer
 * dependencies resolve from the repository's node_modules, and the tarball is installed with `--offline
 * --legacy-peer-deps` (npm neither fetches nor auto-installs the peers; the package itself has no dependencies).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite, type RunningDynalite } from '../../../local/dynalite';
import { clientFor } from '../../support/breaker/breakerTable';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');
const scratch = path.join(root, '.pack', `consumer-${process.pid}`);
const PACKAGE = '@simple-web-service/circuit-breaker';

let tarball: string;
let dynalite: RunningDynalite;
let tarEntries: string[];
let diagnostics: string;

beforeAll(async () => {
  const packed = await run('npm', ['run', '-s', 'pack:breaker'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  tarball = packed.stdout.trim().split('\n').at(-1) ?? '';
  tarEntries = (await run('tar', ['-tzf', tarball])).stdout.trim().split('\n');

  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'breaker-consumer', version: '0.0.0', private: true }));
  await run('npm', ['install', '--offline', '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', tarball], {
    cwd: scratch,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const consumer = path.join(__dirname, 'consumer', 'consumer.ts');
  copyFileSync(consumer, path.join(scratch, 'consumer.mts'));
  copyFileSync(consumer, path.join(scratch, 'consumer.cts'));
  // The same file without its @ts-expect-error line: the wrong fallback in it must be reported.
  writeFileSync(path.join(scratch, 'broken.mts'), readFileSync(consumer, 'utf8').replace(/ *\/\/ @ts-expect-error.*\n/, ''));
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, types: ['node'], outDir: 'out', skipLibCheck: true },
      files: ['consumer.mts', 'consumer.cts', 'broken.mts'],
    }),
  );
  // One compiler run for all three files (it emits even with errors): its diagnostics are checked below.
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  diagnostics = await run(process.execPath, [tsc, '-p', scratch], { cwd: scratch }).then(
    () => '',
    (error: { stdout: string }) => error.stdout,
  );

  dynalite = await startDynalite();
  const admin = clientFor(dynalite.endpoint);
  await admin.send(
    new CreateTableCommand({
      TableName: 'CircuitBreakerState',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  admin.destroy();
}, 120_000);

afterAll(async () => {
  await dynalite?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

test('pack:breaker prints the tarball path last; the tarball holds the bundles, maps, declarations and manifest only', () => {
  expect(path.isAbsolute(tarball)).toBe(true);
  expect(tarball).toMatch(/simple-web-service-circuit-breaker-\d+\.\d+\.\d+\.tgz$/);
  for (const file of ['esm/index.js', 'esm/index.js.map', 'esm/index.d.ts', 'esm/package.json', 'cjs/index.js', 'cjs/index.js.map', 'cjs/index.d.ts']) {
    expect(tarEntries).toContain(`package/dist/${file}`);
  }
  expect(tarEntries.filter((entry) => !entry.startsWith('package/dist/'))).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md']));
  expect(tarEntries.filter((entry) => !entry.startsWith('package/dist/')).sort()).toEqual(['package/README.md', 'package/package.json']);
});

test("the installed README links nowhere relative (outside this repository those paths do not exist), and says TypeScript 5.4+", () => {
  const readme = readFileSync(path.join(scratch, 'node_modules', PACKAGE, 'README.md'), 'utf8');
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
  expect(targets.filter((target) => !/^(https?:|#)/.test(target))).toEqual([]);
  expect(readme).toMatch(/TypeScript 5\.4/);
});

test('the package is the breaker alone: only src/breaker in the bundles, the AWS SDK a peer dependency, nothing else required', () => {
  const installed = path.join(scratch, 'node_modules', PACKAGE);
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  // @redis/client only for RedisStateStore, whose caller passes a connected client: optional, never imported.
  expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/util-dynamodb', '@redis/client']);
  expect(manifest.peerDependenciesMeta).toEqual({ '@redis/client': { optional: true } });
  expect(manifest.dependencies).toBeUndefined();
  for (const format of ['esm', 'cjs']) {
    const map = JSON.parse(readFileSync(path.join(installed, 'dist', format, 'index.js.map'), 'utf8')) as { sources: string[]; sourcesContent: string[] };
    expect(map.sources.length).toBeGreaterThan(5);
    for (const source of map.sources) expect(source).toMatch(/\/src\/breaker\//);
    expect(map.sourcesContent).toHaveLength(map.sources.length);
    const code = readFileSync(path.join(installed, 'dist', format, 'index.js'), 'utf8');
    const imported = [...code.matchAll(/(?:from\s+|require\()["']([^"']+)["']/g)].map((match) => match[1]);
    expect(new Set(imported)).toEqual(new Set(['@aws-sdk/client-dynamodb', '@aws-sdk/util-dynamodb', 'node:crypto']));
    expect(code).toContain('RedisStateStore');
  }
});

test('a consumer file type-checks against the package (ESM and CommonJS); without its @ts-expect-error it does not', () => {
  const errors = diagnostics.split('\n').filter((line) => /error TS\d+/.test(line));
  expect(errors.length).toBeGreaterThan(0);
  // Every error is the wrong fallback, in the copy that lost its @ts-expect-error; the consumer files have none.
  for (const error of errors) expect(error).toMatch(/^broken\.mts\(\d+,\d+\): error TS\d+/);
  const line = readFileSync(path.join(scratch, 'consumer.mts'), 'utf8').split('\n').findIndex((text) => text.includes('@ts-expect-error')) + 1;
  expect(errors[0]).toMatch(new RegExp(`^broken\\.mts\\(${line},`));
});

test.each([
  ['import', 'consumer.mjs'],
  ['require', 'consumer.cjs'],
])('through %s: a success, a counted failure that opens the circuit, then the fallback, on dynalite', async (how, file) => {
  const circuit = `prices-${how}`;
  const { stdout } = await run(process.execPath, [path.join(scratch, 'out', file)], {
    cwd: scratch,
    env: { ...process.env, DYNAMODB_ENDPOINT: dynalite.endpoint, CIRCUIT: circuit },
  });
  expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual([500, 'price service down', 500, [{ state: 'OPEN', retryAfterMs: expect.any(Number) }], 'OPEN']);
  const admin = clientFor(dynalite.endpoint);
  const item = await admin.send(new GetItemCommand({ TableName: 'CircuitBreakerState', Key: { id: { S: circuit } }, ConsistentRead: true }));
  admin.destroy();
  expect(item.Item?.state).toEqual({ S: 'OPEN' });
}, 60_000);
