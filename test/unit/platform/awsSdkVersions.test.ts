/**
 * One AWS SDK across the tree: every @aws-sdk/* package is installed once, and the project's own @aws-sdk
 * dependencies are exactly those copies. (Since 2026 the SDK's packages carry their own version lines: clients are at
 * 3.11xx while @aws-sdk/util-dynamodb's newest is 3.996.x, which lib-dynamodb 3.1169.0 itself requires. Equal numbers
 * are not the rule; one copy of each package is.)
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

describe('AWS SDK versions', () => {
  const lock = read('package-lock.json') as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
  const manifest = read('package.json') as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const installed = new Map<string, Set<string>>();
  for (const [where, entry] of Object.entries(lock.packages)) {
    const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!where.includes('node_modules/') || !name.startsWith('@aws-sdk/') || entry.version === undefined) continue;
    installed.set(name, (installed.get(name) ?? new Set()).add(entry.version));
  }

  it('installs each @aws-sdk package once', () => {
    const duplicated = [...installed].filter(([, versions]) => versions.size > 1).map(([name, versions]) => `${name}: ${[...versions].join(', ')}`);
    expect(duplicated).toEqual([]);
  });

  it("pins the project's own @aws-sdk dependencies to exactly the copies the SDK's packages use", () => {
    const direct = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies }).filter(([name]) => name.startsWith('@aws-sdk/'));
    expect(direct.length).toBeGreaterThan(0);
    for (const [name, pinned] of direct) expect([name, [...(installed.get(name) ?? [])]]).toEqual([name, [pinned]]);
  });
});
