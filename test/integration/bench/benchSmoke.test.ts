/**
 * `npm run bench -- --smoke --scenario compare` as a user runs it (a child process): the JSON file has the promised shape and the
 * invariants held, on both stores (the Redis column's figures only where redis-server is installed). Speed is not
 * asserted here; that is what the bench is for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findRedisServerBinary } from '../../../local/redisServer';
import type { BenchResults } from '../../../bench/results';

const ROOT = path.join(__dirname, '../../..');

describe('bench --smoke', () => {
  let outDir: string;
  let results: BenchResults;
  let stdout: string;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), 'bench-smoke-'));
    ({ stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--scenario', 'compare', '--out', outDir], {
      cwd: ROOT,
      timeout: 90_000,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    }));
    results = JSON.parse(await readFile(path.join(outDir, 'latest-smoke.json'), 'utf8')) as BenchResults;
  }, 120_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('writes the figures as JSON, a timestamped copy and the table as Markdown', async () => {
    const files = await readdir(outDir);
    expect(files).toEqual(expect.arrayContaining(['latest-smoke.json', 'latest-smoke.md']));
    expect(files.some((file) => /^bench-smoke-.*\.json$/.test(file))).toBe(true);
    expect(await readFile(path.join(outDir, 'latest-smoke.md'), 'utf8')).toContain('| metric | (a) no breaker | (b) naive | (c) this breaker |');
    expect(stdout).toContain('(c)/(b)');
    expect(await readFile(path.join(outDir, 'latest-smoke.md'), 'utf8')).toContain('| this breaker on | DynamoDB store | Redis store |');
  });

  it('records the machine and versions', () => {
    expect(results.schemaVersion).toBe(2);
    expect(results.mode).toBe('smoke');
    expect(results.machine.cpuCount).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.versions.packages['@aws-sdk/client-dynamodb']).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('measures the healthy path for every variant and stateCacheMs 0, 100 and 1000', () => {
    expect(results.healthy.map((r) => `${r.variant}${r.stateCacheMs ?? ''}`)).toEqual(['none', 'naive', 'breaker0', 'breaker100', 'breaker1000']);
    const none = results.healthy[0];
    const naive = results.healthy[1];
    expect(none.dynamoRequestsPerCall).toBe(0);
    // The naive breaker reads and writes the whole item on every call.
    expect(naive.dynamoRequestsByOperation).toEqual({ GetItem: naive.calls, PutItem: naive.calls });
    for (const r of results.healthy) {
      expect(r.addedMs.p99).toBeGreaterThanOrEqual(r.addedMs.p50);
      expect(r.callMs.count).toBe(r.calls);
    }
  });

  it('runs the outage with at least 4 processes and reports every figure', () => {
    expect(results.outage.map((r) => r.variant)).toEqual(['none', 'naive', 'breaker']);
    for (const r of results.outage) {
      expect(r.processes).toBeGreaterThanOrEqual(4);
      expect(r.callersPerProcess).toBeGreaterThanOrEqual(2);
      expect(r.downstreamCallsAfterDeath).toBeGreaterThan(0);
    }
    const [none, naive, ours] = results.outage;
    expect(none.timeUntilAllRejectMs).toBeNull();
    expect(none.dynamoRequestsDuringOutage).toBe(0);
    for (const r of [naive, ours]) {
      expect(r.processesThatRejected).toBe(r.processes);
      expect(r.timeUntilAllRejectMs).toEqual(expect.any(Number));
      expect(r.recovery.timeUntilClosedMs).toEqual(expect.any(Number));
      expect(r.lostCount?.observedFailures).toBe(r.processes * r.callersPerProcess * results.settings.outage.countCallsPerCaller);
    }
  });

  it('held the invariants: no lost failure count, half-open limit never exceeded', () => {
    const ours = results.outage[2];
    expect(ours.lostCount?.lost).toBe(0);
    expect(ours.recovery.unattributedTrials).toBe(0);
    expect(ours.recovery.maxTrialsInFlight).toBeLessThanOrEqual(ours.recovery.halfOpenMaxCalls ?? 0);
    expect(results.invariants).toEqual({ noLostCount: true, halfOpenLimitHeld: true, violations: [] });
  });

  it('runs this breaker on both stores side by side: healthy requests per call, store latency per operation, outage, recovery', () => {
    expect(results.stores.map((s) => s.store)).toEqual(['dynamodb', 'redis']);
    const [dynamo, redis] = results.stores;
    expect(dynamo.available).toBe(true);
    expect(dynamo.server).toMatch(/^dynalite \d+\.\d+\.\d+$/);
    const redisInstalled = findRedisServerBinary() !== undefined;
    expect(redis.available).toBe(redisInstalled);
    if (!redisInstalled) {
      // A fresh machine: the column says why, and nothing else is held against it.
      expect(redis).toEqual({ store: 'redis', server: 'redis-server not installed', available: false, unavailableReason: 'redis-server not installed', healthy: [], outage: null });
      expect(stdout).toContain('redis-server not installed');
    } else {
      expect(redis.server).toMatch(/^(redis|valkey)-server \d+\.\d+/);
    }
    for (const store of results.stores.filter((s) => s.available)) {
      expect(store.healthy.map((h) => h.stateCacheMs)).toEqual([0, 100, 1000]);
      const [uncached] = store.healthy;
      // With no cache every call reads the state once, on either store; the read is timed on every one of them.
      expect(uncached.dynamoRequestsPerCall).toBe(1);
      expect(uncached.storeLatencyMs.read?.count).toBe(uncached.calls);
      const outage = store.outage;
      if (!outage) throw new Error(`${store.store}: no outage result`);
      expect(outage.store).toBe(store.store);
      expect(outage.processesThatRejected).toBe(outage.processes);
      expect(outage.downstreamCallsAfterDeath).toBeGreaterThan(0);
      expect(outage.dynamoRequestsDuringOutage).toBeGreaterThan(0);
      expect(outage.recovery.timeUntilClosedMs).toEqual(expect.any(Number));
      // Counting, opening, probing and closing all went through the store, and each was timed.
      for (const operation of ['read', 'recordCount', 'transition', 'acquirePermit', 'recordTrialSuccess'] as const) {
        const latency = outage.storeLatencyMs?.[operation];
        expect(latency?.count).toBeGreaterThan(0);
        expect(latency?.p99).toBeGreaterThanOrEqual(latency?.p50 ?? Infinity);
      }
      expect(outage.lostCount?.lost).toBe(0);
      expect(outage.lostCount?.observedFailures).toBe(outage.processes * outage.callersPerProcess * results.settings.outage.countCallsPerCaller);
      expect(outage.recovery.maxTrialsInFlight).toBeLessThanOrEqual(outage.recovery.halfOpenMaxCalls ?? 0);
    }
  });

  it('measured the GetUser package', () => {
    expect(results.lambdaPackage.map((p) => p.build)).toEqual(['serverless.yml settings', 'minified']);
    for (const p of results.lambdaPackage) {
      expect(p.bundleBytes).toBeGreaterThan(p.bundleGzipBytes);
      expect(p.loadMs.median).toBeGreaterThan(0);
    }
  });
});
