/**
 * `npm run demo -- --smoke` as a user runs it: a compressed incident against the real local service. Checks the
 * HTML page it writes: an SVG with a band for each state the breaker went through and a marker per transition.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '../../..');

/** Command lines of the living processes (Linux /proc). */
async function commandLines(): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const lines = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')));
  return lines.map((line) => line.split('\0').join(' '));
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('demo --smoke', () => {
  let outDir: string;
  let stdout: string;
  let html: string;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'demo-smoke-'));
    ({ stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'demo/run.ts', '--smoke', '--out', outDir], {
      cwd: ROOT,
      timeout: 120_000,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    }));
    html = await readFile(path.join(outDir, 'incident-smoke.html'), 'utf8');
  }, 150_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('prints live progress and the page’s path', () => {
    expect(stdout).toMatch(/\[\s*\d+\.\d s\] \S.* breaker (CLOSED|OPEN|HALF_OPEN)/);
    expect(stdout).toContain(`Timeline written to ${path.join(outDir, 'incident-smoke.html')}`);
  });

  it('stops everything it started: serverless-offline (its own process group) is gone and its port free', async () => {
    const apiPort = Number(/API http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    expect(apiPort).toBeGreaterThan(0);
    expect((await commandLines()).filter((line) => line.includes(`--httpPort ${apiPort} `))).toEqual([]);
    expect(await portIsFree(apiPort)).toBe(true);
  });

  it('writes a self-contained page with one SVG and the four phases', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBe(1);
    expect(html).not.toMatch(/<(script|link|img)\b/);
    for (const phase of ['healthy', 'directory down', 'directory slow', 'directory healed']) expect(html).toContain(`>${phase}</text>`);
  });

  it('shows the breaker open, probe and close: bands for each state and a marker per transition', () => {
    const bands = [...html.matchAll(/<rect class="band" data-state="(\w+)"/g)].map((m) => m[1]);
    const transitions = [...html.matchAll(/<g class="transition" data-from="(\w+)" data-to="(\w+)"/g)].map((m) => [m[1], m[2]]);
    expect(new Set(bands)).toEqual(new Set(['CLOSED', 'OPEN', 'HALF_OPEN']));
    expect(transitions.length).toBe(bands.length - 1);
    transitions.forEach(([from, to], i) => {
      expect(from).toBe(bands[i]);
      expect(to).toBe(bands[i + 1]);
    });
    expect(transitions).toContainEqual(['CLOSED', 'OPEN']);
    expect(transitions).toContainEqual(['HALF_OPEN', 'CLOSED']);
    expect(bands[bands.length - 1]).toBe('CLOSED');
  });

  it('recorded answers of every kind the incident produces', () => {
    for (const kind of ['fresh', 'cached', 'rejected']) expect(html).toMatch(new RegExp(`class="bar bar-${kind}"`));
  });
});
