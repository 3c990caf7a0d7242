/**
 * `npm start` bundles the handler into its own work folder. `sls package` (serverless-esbuild) removes its whole work
 * folder when it finishes, so the local run's folder must not lie inside it, or packaging deletes the running
 * service's bundle and every request fails.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { offlineWorkFolder } from '../../../local/serverlessOffline';
import { readServerlessConfig } from '../../../tools/serverless-config/serverlessConfig';

const PROJECT_ROOT = path.join(__dirname, '..', '..', '..');

function isInside(folder: string, parent: string): boolean {
  const relative = path.relative(path.resolve(PROJECT_ROOT, parent), path.resolve(PROJECT_ROOT, folder));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The work folder a plain `sls package` uses: serverless.yml's outputWorkFolder fallback. */
function packageWorkFolder(): string {
  const { raw } = readServerlessConfig();
  const setting = (raw.custom as { esbuild: { outputWorkFolder: string } }).esbuild.outputWorkFolder;
  const fallback = /^\$\{env:ESBUILD_WORK_FOLDER, '([^']+)'\}$/.exec(setting);
  if (!fallback) throw new Error(`unexpected custom.esbuild.outputWorkFolder: ${setting}`);
  return fallback[1];
}

describe('the local run’s esbuild work folder', () => {
  it('lies outside the folder a concurrent `sls package` removes when it finishes', () => {
    const packaging = packageWorkFolder();
    expect(packaging).toBe('.esbuild');
    const folder = offlineWorkFolder(1234, 3000);
    expect(isInside(folder, packaging)).toBe(false);
    // serverless-esbuild's own default, should serverless.yml ever drop the setting.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WORK_FOLDER } = require('serverless-esbuild/dist/constants') as { WORK_FOLDER: string };
    expect(isInside(folder, WORK_FOLDER)).toBe(false);
  });

  it('is relative to the project (serverless-esbuild joins it to the service folder) and git-ignored', () => {
    const folder = offlineWorkFolder(1234, 3000);
    expect(path.isAbsolute(folder)).toBe(false);
    const ignored = readFileSync(path.join(PROJECT_ROOT, '.gitignore'), 'utf8').split('\n').map((line) => line.trim());
    expect(ignored).toContain(`${folder.split(path.sep)[0]}/`);
  });

  it('differs per process and port, so two runs never share one', () => {
    expect(offlineWorkFolder(1234, 3000)).not.toBe(offlineWorkFolder(1235, 3000));
    expect(offlineWorkFolder(1234, 3000)).not.toBe(offlineWorkFolder(1234, 3001));
  });
});
