/**
 * `npm run bench -- --smoke --scenario fleet,noise` as a user runs it (a child process): each scenario writes its JSON
 * and Markdown, every variant either ran (with every phase and figure) or says why it is not available, and the
 * invariants that hold for any breaker hold: the proxy's counts add up, the SDK clients did not retry behind the
 * breaker's back, never more trials at once than halfOpenMaxCalls, an unreachable table answers nothing. Speed is not
 * asserted here; that is what the bench is for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FLEET_PHASES, scaledLimits } from '../../../bench/fleet/fleetScenario';
import type { FleetResults } from '../../../bench/fleet/fleetResults';
import { FLEET_VARIANTS } from '../../../bench/fleet/fleetVariants';
import type { NoiseResults } from '../../../bench/noise/noiseResults';
import { NOISE_VARIANTS, RAMP_VARIANTS } from '../../../bench/noise/noiseVariants';
import { totalProxyCounts } from '../../../bench/throttlingProxy';

const ROOT = path.join(__dirname, '../../..');

describe('bench --smoke --scenario fleet,noise', () => {
  let outDir: string;
  let fleet: FleetResults;
  let noise: NoiseResults;
  let stdout: string;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'bench-fleet-smoke-'));
    ({ stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--scenario', 'fleet,noise', '--out', outDir], {
      cwd: ROOT,
      timeout: 100_000,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    }));
    fleet = JSON.parse(await readFile(path.join(outDir, 'fleet-latest-smoke.json'), 'utf8')) as FleetResults;
    noise = JSON.parse(await readFile(path.join(outDir, 'noise-latest-smoke.json'), 'utf8')) as NoiseResults;
  }, 120_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes each scenario as JSON, a timestamped copy and Markdown, and runs only the scenarios named', async () => {
    const files = await readdir(outDir);
    expect(files).toEqual(expect.arrayContaining(['fleet-latest-smoke.json', 'fleet-latest-smoke.md', 'noise-latest-smoke.json', 'noise-latest-smoke.md']));
    expect(files.some((file) => /^fleet-smoke-.*\.json$/.test(file))).toBe(true);
    expect(files.some((file) => /^noise-smoke-.*\.json$/.test(file))).toBe(true);
    expect(files).not.toContain('latest-smoke.json');
    expect(await readFile(path.join(outDir, 'fleet-latest-smoke.md'), 'utf8')).toContain('| variant | phase | ms | calls |');
    expect(stdout).toContain('| opening rule | calls | rejected |');
    expect(stdout).toContain('| ms since close |');
  });

  describe('fleet', () => {
    it('records its settings, and every variant either ran every phase or says why it is not available', () => {
      expect(fleet).toMatchObject({ schemaVersion: 1, scenario: 'fleet', mode: 'smoke' });
      expect(fleet.variants.map((v) => v.id)).toEqual(FLEET_VARIANTS.map((v) => v.id));
      const instances = fleet.settings.processes * fleet.settings.instancesPerProcess;
      for (const v of fleet.variants) {
        expect(v.instances).toBe(instances);
        expect(v.limits).toEqual(scaledLimits(fleet.settings));
        if (v.available) expect(v.phases.map((p) => p.phase)).toEqual([...FLEET_PHASES]);
        else {
          expect(v.unavailableReason).toMatch(/^invalid circuit breaker option '\w+'/);
          expect(v.phases).toEqual([]);
        }
      }
      // Today's breaker always runs.
      expect(fleet.variants.find((v) => v.id === 'allow')?.available).toBe(true);
    });

    it('the proxy counts add up, and nothing reached the proxy that the SDK clients did not send (no hidden retries)', () => {
      for (const v of fleet.variants.filter((x) => x.available)) {
        expect(v.proxyRequests).toBeGreaterThan(0);
        expect(v.proxyRequests).toBeLessThanOrEqual(v.sdkRequests);
        for (const p of v.phases) {
          for (const c of Object.values(p.dynamo)) expect(c.forwarded + c.throttled + c.dropped).toBe(c.requests);
          expect(p.maxDownstreamCallsPerInstance).toBeLessThanOrEqual(p.downstreamCalls);
          expect(p.rejections).toBeLessThanOrEqual(p.calls);
        }
        const phase = (name: string) => v.phases.find((p) => p.phase === name) as (typeof v.phases)[number];
        const [healthy, unreachable] = [phase('healthy'), phase('tableUnreachable')];
        expect(totalProxyCounts(healthy.dynamo).dropped).toBe(0);
        // The instances read their state through the proxy and called the directory (phase lengths depend on the machine).
        expect(v.phases.reduce((n, p) => n + (p.dynamo.GetItem?.requests ?? 0), 0)).toBeGreaterThan(0);
        expect(v.phases.reduce((n, p) => n + p.downstreamCalls, 0)).toBeGreaterThan(0);
        // An unreachable table answers nothing: every request that arrived was dropped.
        const cut = totalProxyCounts(unreachable.dynamo);
        expect(cut.forwarded + cut.throttled).toBe(0);
      }
    });

    it('never had more trial calls at the directory at once than halfOpenMaxCalls', () => {
      for (const v of fleet.variants.filter((x) => x.available)) {
        for (const p of v.phases) expect(p.maxTrialsInFlight).toBeLessThanOrEqual(v.options.halfOpenMaxCalls as number);
      }
    });
  });

  describe('noise', () => {
    it('runs each opening rule or says why not, with consistent counts', () => {
      expect(noise).toMatchObject({ schemaVersion: 1, scenario: 'noise', mode: 'smoke' });
      expect(noise.variants.map((v) => v.id)).toEqual(NOISE_VARIANTS.map((v) => v.id));
      expect(noise.variants[0].available).toBe(true);
      for (const v of noise.variants) {
        if (!v.available) {
          expect(v.unavailableReason).toMatch(/^invalid circuit breaker option '\w+'/);
          continue;
        }
        expect(v.instances).toBe(noise.settings.processes * noise.settings.instancesPerProcess);
        expect(v.calls).toBeGreaterThan(0);
        expect(v.rejected).toBeLessThanOrEqual(v.calls);
        expect(v.injectedFailures).toBeLessThanOrEqual(v.downstreamCalls);
        // Every injected 503 reached a caller as a failure.
        expect(v.failures).toBeGreaterThanOrEqual(v.injectedFailures);
        expect(v.storeRequestsPerCall).toBeGreaterThan(0);
      }
    });

    it('bins the admitted fraction after a close, for each ramp variant that can run', () => {
      expect(noise.ramp.map((r) => r.id)).toEqual(RAMP_VARIANTS.map((r) => r.id));
      expect(noise.ramp[0].available).toBe(true);
      const { observeMs, binMs } = noise.settings.ramp;
      for (const r of noise.ramp.filter((x) => x.available)) {
        // Closing takes successful trials; on a very busy machine a slow trial reopens it, and then there is nothing to bin.
        if (r.closedAfterHealMs === null) {
          expect(r.bins).toEqual([]);
          continue;
        }
        expect(r.bins).toHaveLength(Math.ceil(observeMs / binMs));
        for (const bin of r.bins) {
          expect(bin.admitted).toBeLessThanOrEqual(bin.calls);
          if (bin.fraction !== null) expect(bin.fraction).toBeCloseTo(bin.admitted / bin.calls, 10);
        }
      }
    });
  });
});
