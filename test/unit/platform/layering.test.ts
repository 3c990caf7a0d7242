/**
 * Who may import whom among the tools outside the deployed function. The operator command (ops/) and the local run
 * (local/) both read serverless.yml through tools/serverless-config/; neither reaches into the other, and src/
 * (the deployed function) imports none of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(folder, file));
}

/** The project folders a file imports from (relative imports only), e.g. ['src', 'tools']. */
function importedFolders(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\s*['"](\.[^'"]+)['"]/g)].map((match) => match[1] ?? match[2]);
  return specifiers.map((specifier) => path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)).split(path.sep)[0]);
}

describe('layering', () => {
  it.each([
    ['ops', ['local']],
    ['tools', ['local', 'ops', 'test']],
    ['src', ['local', 'ops', 'tools', 'test', 'bench', 'demo']],
  ])('%s/ imports nothing from %j', (folder, forbidden) => {
    const offending = sourceFiles(folder).flatMap((file) => importedFolders(file).filter((target) => forbidden.includes(target)).map((target) => `${file} -> ${target}/`));
    expect(offending).toEqual([]);
  });

  it('the serverless.yml readers live in tools/serverless-config, used by both ops/ and local/', () => {
    expect(sourceFiles('ops').some((file) => importedFolders(file).includes('tools'))).toBe(true);
    expect(sourceFiles('local').some((file) => importedFolders(file).includes('tools'))).toBe(true);
  });
});
