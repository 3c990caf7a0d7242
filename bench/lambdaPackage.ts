/**
 * The GetUser Lambda package: bundled with esbuild's JS API using serverless.yml's `custom.esbuild` settings
 * (what serverless-esbuild ships), and once more minified, into a temp dir. Reports sizes and the time a fresh
 * Node process takes to require() the bundle (a cold start's module-load share).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { parseCloudFormationYaml } from '../tools/serverless-config/cloudFormationYaml';

const PROJECT_ROOT = path.join(__dirname, '..');
const HANDLER_ENTRY = path.join(PROJECT_ROOT, 'src/handlers/getUser.ts');

export interface PackageResult {
  build: 'serverless.yml settings' | 'minified';
  esbuildOptions: Record<string, unknown>;
  bundleBytes: number;
  bundleGzipBytes: number;
  sourceMapBytes: number;
  loadMs: { median: number; runs: number[] };
}

/** The esbuild options serverless.yml gives serverless-esbuild, limited to those that change the bundle. */
export async function serverlessEsbuildOptions(): Promise<BuildOptions> {
  const yml = parseCloudFormationYaml(await readFile(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8'), 'serverless.yml') as {
    custom?: { esbuild?: Record<string, unknown> };
  };
  const configured = yml.custom?.esbuild;
  if (!configured) throw new Error('serverless.yml has no custom.esbuild section');
  const options: BuildOptions = { bundle: true, platform: 'node', target: 'node22', format: 'cjs', treeShaking: true };
  for (const key of ['bundle', 'minify', 'sourcemap', 'keepNames', 'target', 'platform', 'mainFields'] as const) {
    if (configured[key] !== undefined) (options as Record<string, unknown>)[key] = configured[key];
  }
  return options;
}

export async function measureLambdaPackage(loadRuns: number): Promise<PackageResult[]> {
  const base = await serverlessEsbuildOptions();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-getuser-'));
  try {
    const results: PackageResult[] = [];
    for (const [name, options] of [
      ['serverless.yml settings', base],
      ['minified', { ...base, minify: true, sourcemap: true }],
    ] as const) {
      const outfile = path.join(dir, name === 'minified' ? 'min' : 'sls', 'getUser.js');
      await build({ ...options, entryPoints: [HANDLER_ENTRY], outfile, logLevel: 'silent' });
      const runs: number[] = [];
      for (let i = 0; i < loadRuns; i += 1) runs.push(await timeRequire(outfile));
      const sorted = [...runs].sort((a, b) => a - b);
      results.push({
        build: name,
        esbuildOptions: options as Record<string, unknown>,
        bundleBytes: (await stat(outfile)).size,
        bundleGzipBytes: gzipSync(await readFile(outfile)).length,
        sourceMapBytes: await stat(`${outfile}.map`).then((s) => s.size, () => 0),
        loadMs: { median: sorted[Math.floor((sorted.length - 1) / 2)], runs },
      });
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ms for require(bundle) in a fresh Node process, measured inside it (process start-up excluded). */
async function timeRequire(bundle: string): Promise<number> {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      // What the function has in AWS, in case the module reads its configuration at load time.
      TABLE_NAME: 'bench-users',
      BREAKER_TABLE_NAME: 'bench-circuit-breakers',
      USER_DIRECTORY_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      NODE_NO_WARNINGS: '1',
    },
    timeout: 30_000,
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`could not time loading ${bundle}: output was "${stdout}"`);
  return ms;
}
