/**
 * `npm run pack:breaker`: builds the installable package of the breaker alone (packages/breaker) from
 * src/breaker/index.ts and packs it. The LAST line of stdout is the tarball's absolute path (external checks read it).
 *
 *   dist/esm/index.js   ES module bundle (+ .map), dist/esm/package.json says "type": "module"
 *   dist/cjs/index.js   CommonJS bundle (+ .map)
 *   dist/{esm,cjs}/**.d.ts   declarations from tsc (tsconfig.breaker.json); the ESM copy's relative imports carry
 *                      the .js extensions that ESM resolution (TypeScript's node16/nodenext) requires
 *
 * The bundles take only files under src/breaker (checked from esbuild's metafile) and leave every package import
 * external: the AWS SDK is a peer dependency.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Format } from 'esbuild';

const root = path.resolve(__dirname, '..');
const packageDir = path.join(root, 'packages/breaker');
const dist = path.join(packageDir, 'dist');
const entry = path.join(root, 'src/breaker/index.ts');
/** Where tarballs go (git-ignored). */
const packDir = path.join(root, '.pack');

async function bundle(format: Format, dir: string): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    outfile: path.join(dist, dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    sourcemap: true,
    sourcesContent: true,
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  const outside = Object.keys(result.metafile.inputs).filter((input) => !path.resolve(root, input).startsWith(path.join(root, 'src/breaker') + path.sep));
  if (outside.length > 0) throw new Error(`the breaker bundle must contain only src/breaker, but took ${outside.join(', ')}`);
  writeFileSync(path.join(dist, dir, 'package.json'), `${JSON.stringify({ type: format === 'esm' ? 'module' : 'commonjs' })}\n`);
}

function declarations(): void {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.breaker.json')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  copyForEsm(path.join(dist, 'cjs'), path.join(dist, 'esm'));
}

/** Copy the declarations, giving each relative import the explicit file ESM resolution needs (`./x` -> `./x.js`). */
function copyForEsm(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    if (statSync(source).isDirectory()) {
      mkdirSync(target, { recursive: true });
      copyForEsm(source, target);
    } else if (name.endsWith('.d.ts')) {
      const text = readFileSync(source, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\2/g, (_all, lead: string, quote: string, specifier: string) => {
        const base = path.resolve(path.dirname(source), specifier);
        const resolved = existsSync(`${base}.d.ts`) ? `${specifier}.js` : existsSync(path.join(base, 'index.d.ts')) ? `${specifier}/index.js` : undefined;
        if (resolved === undefined) throw new Error(`${source}: cannot resolve ${specifier}`);
        return `${lead}${quote}${resolved}${quote}`;
      });
      writeFileSync(target, text);
    }
  }
}

function pack(): string {
  mkdirSync(packDir, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [{ filename }] = JSON.parse(output) as { filename: string }[];
  return path.join(packDir, filename);
}

async function main(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  await bundle('esm', 'esm');
  await bundle('cjs', 'cjs');
  declarations();
  const tarball = pack();
  console.log(`built ${path.relative(root, dist)} (esm, cjs, .d.ts, source maps)`);
  console.log(tarball);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
