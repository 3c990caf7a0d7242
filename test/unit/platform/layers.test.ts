/**
 * The layer rules in eslint.config.mjs, run through ESLint's API on code placed (virtually) in each directory, so
 * the rules cannot silently disappear or stop matching. `npx eslint .` (CI) applies them to the real tree.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

// ESLint loads eslint.config.mjs with a dynamic import, which Jest's module sandbox does not allow: the API runs in a
// child Node process, once for every case below.
const LINT = `
const { ESLint } = require('eslint');
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const [file, specifier] of cases) {
    const [result] = await eslint.lintText("import { thing } from '" + specifier + "';\\nexport const used = thing;\\n", { filePath: require('node:path').resolve(file) });
    out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { console.error(error); process.exit(1); });
`;

function lintImports(cases: [string, string][]): Map<string, string[]> {
  const output = execFileSync(process.execPath, ['-e', LINT], { cwd: root, input: JSON.stringify(cases), encoding: 'utf8', timeout: 60_000 });
  const messages = JSON.parse(output) as string[][];
  return new Map(cases.map(([file, specifier], i) => [`${file} ${specifier}`, messages[i]]));
}

const REPORTED: [string, string, RegExp][] = [
  ['src/breaker/fixture.ts', '../users/user', /src\/breaker may import only itself/],
  ['src/breaker/fixture.ts', '../observability/logger', /src\/breaker may import only itself/],
  ['src/breaker/store/fixture.ts', '../../users/user', /src\/breaker may import only itself/],
  ['src/breaker/store/fixture.ts', '../../config', /src\/breaker may import only itself/],
  ['src/breaker/fixture.ts', 'lodash', /@aws-sdk\/\* and node: builtins/],
  ['src/breaker/fixture.ts', '@aws-lambda-powertools/logger', /@aws-sdk\/\* and node: builtins/],
  ['src/breaker/fixture.ts', '../../local/dynalite', /must not import local\//],
  ['src/handlers/fixture.ts', '../../local/dynalite', /must not import local\//],
  ['src/users/fixture.ts', '../../test/support/breaker/clock', /must not import local\/, ops\/, bench\/, demo\/ or test\//],
  ['src/config.ts', '../ops/breaker', /must not import local\/, ops\/, bench\/, demo\/ or test\//],
  ['src/handlers/fixture.ts', '../../bench/run', /bench\//],
  ['src/handlers/fixture.ts', '../../demo/run', /demo\//],
  ['src/observability/fixture.ts', '../users/getUser', /src\/observability must not import src\/users/],
  ['src/observability/fixture.ts', '../handlers/container', /src\/observability must not import src\/users or src\/handlers/],
  ['src/users/fixture.ts', '../handlers/container', /src\/users must not import src\/handlers/],
  ['src/users/fixture.ts', '../breaker/errors', /through its entry point/],
  ['src/observability/fixture.ts', '../breaker/events', /through its entry point/],
  ['src/handlers/fixture.ts', '../breaker/store/DynamoDBStateStore', /through its entry point/],
  ['src/fixture.ts', './breaker/options', /through its entry point/],
];
const ALLOWED: [string, string][] = [
  ['src/breaker/fixture.ts', './errors'],
  ['src/breaker/store/fixture.ts', '../errors'],
  ['src/breaker/store/fixture.ts', './StateStore'],
  ['src/breaker/fixture.ts', '@aws-sdk/client-dynamodb'],
  ['src/breaker/fixture.ts', 'node:crypto'],
  ['src/observability/fixture.ts', '../breaker'],
  ['src/users/fixture.ts', '../observability/logger'],
  ['src/users/fixture.ts', '../breaker'],
  ['src/fixture.ts', './breaker'],
  ['src/handlers/fixture.ts', '../users/getUser'],
  ['src/handlers/fixture.ts', '@aws-lambda-powertools/logger'],
];

let results: Map<string, string[]>;
beforeAll(() => {
  results = lintImports([...REPORTED.map(([file, specifier]): [string, string] => [file, specifier]), ...ALLOWED]);
});

test.each(REPORTED)('%s importing %s is reported', (file, specifier, message) => {
  const errors = results.get(`${file} ${specifier}`);
  expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
});

test.each(ALLOWED)('%s importing %s is allowed', (file, specifier) => {
  expect(results.get(`${file} ${specifier}`)).toEqual([]);
});
