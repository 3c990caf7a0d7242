import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- Layers: which code may import which (test/unit/platform/layers.test.ts keeps these rules from disappearing) ----
// Production code never reaches into tooling: local runs, operator scripts, benchmarks, demos and tests build on
// src/, never the other way round. Regexes match the import specifier as written (relative paths, any depth).
const NO_TOOLING = { regex: '^(\\.\\./)+(local|ops|bench|demo|test)(/|$)', message: 'src/ must not import local/, ops/, bench/, demo/ or test/.' };
// The breaker is a library: it imports itself, the AWS SDK and Node's builtins (node: prefix), nothing else.
const BREAKER_PACKAGES = { regex: '^(?!\\.|@aws-sdk/|node:)', message: 'src/breaker may import only itself, @aws-sdk/* and node: builtins.' };
const breakerOutside = (depth) => ({
  regex: `^(\\.\\./){${depth + 1},}`,
  message: 'src/breaker may import only itself, @aws-sdk/* and node: builtins (the service imports the breaker, not the reverse).',
});
// The service uses the breaker as a package's user would: through its entry point (src/breaker/index.ts) only.
const BREAKER_ENTRY = { regex: '^(\\./|(\\.\\./)+)breaker/.', message: "import the breaker through its entry point ('../breaker'), not its files." };
// Dependency direction: breaker <- observability <- users <- handlers.
const OBSERVABILITY_UP = { regex: '^\\.\\./(users|handlers)(/|$)', message: 'src/observability must not import src/users or src/handlers (define the small type it needs here).' };
const USERS_UP = { regex: '^\\.\\./(handlers)(/|$)', message: 'src/users must not import src/handlers.' };
const layers = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['node_modules/', '.serverless/', '.esbuild/', '.local-data/', 'coverage/', 'bench/results/', 'demo/out/', '.pack/', 'packages/breaker/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', Buffer: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Later blocks replace earlier ones for the same file, so each repeats the rules that still apply.
  layers(['src/**/*.ts'], [NO_TOOLING, BREAKER_ENTRY]),
  layers(['src/observability/**/*.ts'], [NO_TOOLING, BREAKER_ENTRY, OBSERVABILITY_UP]),
  layers(['src/users/**/*.ts'], [NO_TOOLING, BREAKER_ENTRY, USERS_UP]),
  layers(['src/breaker/*.ts'], [NO_TOOLING, BREAKER_PACKAGES, breakerOutside(0)]),
  layers(['src/breaker/*/*.ts'], [NO_TOOLING, BREAKER_PACKAGES, breakerOutside(1)]),
  layers(['src/breaker/*/*/**/*.ts'], [NO_TOOLING, BREAKER_PACKAGES, breakerOutside(2)]),
);
