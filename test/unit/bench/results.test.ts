import { checkInvariants, ratio, renderTable, verdict, type BenchResults } from '../../../bench/results';
import type { OutageResult } from '../../../bench/outage/outageScenario';
import { SMOKE } from '../../../bench/settings';
import type { StoreRunResult } from '../../../bench/storeCompare';

function outage(variant: OutageResult['variant'], overrides: Partial<OutageResult> = {}, recovery: Partial<OutageResult['recovery']> = {}): OutageResult {
  return {
    variant,
    label: variant,
    processes: 4,
    callersPerProcess: 2,
    calls: 100,
    outageMs: 500,
    downstreamCallsAfterDeath: 10,
    timeUntilAllRejectMs: 100,
    processesThatRejected: 4,
    dynamoRequestsDuringOutage: 20,
    dynamoRequestsDuringOutageByOperation: { GetItem: 20 },
    lostCount: { observedFailures: 40, storedFailures: 40, lost: 0, dynamoRequests: {} },
    ...overrides,
    recovery: { trialCalls: 2, unattributedTrials: 0, maxTrialsInFlight: 2, halfOpenMaxCalls: 2, timeUntilClosedMs: 300, ...recovery },
  };
}

describe('checkInvariants (what makes npm run bench exit non-zero)', () => {
  it('holds when this breaker lost nothing and stayed within the half-open limit', () => {
    expect(checkInvariants([outage('naive', { lostCount: { observedFailures: 40, storedFailures: 3, lost: 37, dynamoRequests: {} } }, { maxTrialsInFlight: 9 }), outage('breaker')])).toEqual({
      noLostCount: true,
      halfOpenLimitHeld: true,
      violations: [],
    });
  });

  it('fails on a lost count, naming observed and stored', () => {
    const result = checkInvariants([outage('breaker', { lostCount: { observedFailures: 40, storedFailures: 39, lost: 1, dynamoRequests: {} } })]);
    expect(result.noLostCount).toBe(false);
    expect(result.violations).toEqual(['lost 1 failure count(s): callers observed 40, the state item holds 39']);
  });

  it('fails when more trials were in flight than halfOpenMaxCalls', () => {
    const result = checkInvariants([outage('breaker', {}, { maxTrialsInFlight: 3 })]);
    expect(result.halfOpenLimitHeld).toBe(false);
    expect(result.violations).toEqual(['3 trial calls were in flight at once; halfOpenMaxCalls is 2']);
  });

  it('fails when the checks could not run or could not be verified', () => {
    expect(checkInvariants([]).violations).toEqual(['no outage result for this breaker']);
    expect(checkInvariants([outage('breaker', { lostCount: null })]).violations).toEqual(['the lost-count check did not run']);
    expect(checkInvariants([outage('breaker', {}, { unattributedTrials: 1 })]).violations[0]).toContain('unverified');
  });
});

describe('checkInvariants on the store comparison', () => {
  const onStore = (server: string, overrides: Partial<OutageResult> = {}, recovery: Partial<OutageResult['recovery']> = {}): StoreRunResult => ({
    store: 'redis',
    server,
    available: true,
    healthy: [],
    outage: outage('breaker', { store: 'redis', ...overrides }, recovery),
  });

  it('holds this breaker to both invariants on every store that ran, naming the store', () => {
    const lost = checkInvariants([outage('breaker')], [onStore('redis-server 7.0.15', { lostCount: { observedFailures: 40, storedFailures: 38, lost: 2, dynamoRequests: {} } })]);
    expect(lost.noLostCount).toBe(false);
    expect(lost.halfOpenLimitHeld).toBe(true);
    expect(lost.violations).toEqual(['redis-server 7.0.15: lost 2 failure count(s): callers observed 40, the state item holds 38']);
    const over = checkInvariants([outage('breaker')], [onStore('redis-server 7.0.15', {}, { maxTrialsInFlight: 3 })]);
    expect(over.halfOpenLimitHeld).toBe(false);
    expect(over.violations).toEqual(['redis-server 7.0.15: 3 trial calls were in flight at once; halfOpenMaxCalls is 2']);
    expect(checkInvariants([outage('breaker')], [onStore('redis-server 7.0.15', { lostCount: null })]).violations).toEqual(['redis-server 7.0.15: the lost-count check did not run']);
  });

  it('does not hold a store that could not run (no server installed) against the bench', () => {
    const missing: StoreRunResult = { store: 'redis', server: 'redis-server not installed', available: false, unavailableReason: 'redis-server not installed', healthy: [], outage: null };
    expect(checkInvariants([outage('breaker')], [missing])).toEqual({ noLostCount: true, halfOpenLimitHeld: true, violations: [] });
  });
});

describe('verdict (the exit code of npm run bench)', () => {
  it('is 1, naming each broken invariant, when this breaker lost a count or exceeded its half-open limit', () => {
    const broken = checkInvariants([outage('breaker', { lostCount: { observedFailures: 40, storedFailures: 39, lost: 1, dynamoRequests: {} } }, { maxTrialsInFlight: 3 })]);
    expect(verdict(broken)).toEqual({
      exitCode: 1,
      lines: ['INVARIANT BROKEN: lost 1 failure count(s): callers observed 40, the state item holds 39', 'INVARIANT BROKEN: 3 trial calls were in flight at once; halfOpenMaxCalls is 2'],
    });
  });

  it('is 0 when both held', () => {
    expect(verdict(checkInvariants([outage('breaker')])).exitCode).toBe(0);
  });
});

describe('ratio', () => {
  it('divides, and says – when there is nothing to divide by', () => {
    expect(ratio(1, 2)).toBe('0.50x');
    expect(ratio(30, 2)).toBe('15x');
    expect(ratio(1, 400)).toBe('0.003x');
    expect(ratio(0, 2)).toBe('0x');
    expect(ratio(1, 0)).toBe('–');
    expect(ratio(null, 2)).toBe('–');
    expect(ratio(1, undefined)).toBe('–');
  });
});

describe('renderTable', () => {
  const summary = { count: 10, min: 0, p50: 1, p99: 2, max: 3, mean: 1 };
  const results = {
    settings: SMOKE,
    healthy: [
      { variant: 'none', label: '', calls: 10, dynamoRequestsPerCall: 0, dynamoRequestsByOperation: {}, callMs: summary, addedMs: { ...summary, p50: 0.01, p99: 0.02 } },
      { variant: 'naive', label: '', calls: 10, dynamoRequestsPerCall: 2, dynamoRequestsByOperation: {}, callMs: summary, addedMs: { ...summary, p50: 4, p99: 8 } },
      ...[0, 100, 1000].map((stateCacheMs) => ({ variant: 'breaker', label: '', stateCacheMs, calls: 10, dynamoRequestsPerCall: stateCacheMs === 0 ? 1 : 0, dynamoRequestsByOperation: {}, callMs: summary, addedMs: { ...summary, p50: 1, p99: 2 } })),
    ],
    outage: [outage('none', { timeUntilAllRejectMs: null, downstreamCallsAfterDeath: 500, lostCount: null }), outage('naive', { downstreamCallsAfterDeath: 50 }), outage('breaker')],
    stores: [
      {
        store: 'dynamodb',
        server: 'dynalite 4.0.0',
        available: true,
        healthy: [0, 100, 1000].map((stateCacheMs) => ({ stateCacheMs, calls: 10, dynamoRequestsPerCall: stateCacheMs === 0 ? 1 : 0, dynamoRequestsByOperation: {}, callMs: summary, addedMs: summary, storeLatencyMs: stateCacheMs === 0 ? { read: { ...summary, p50: 1.5, p99: 9.25, count: 10 } } : {} })),
        outage: outage('breaker', { store: 'dynamodb', downstreamCallsAfterDeath: 12, storeLatencyMs: { recordCount: { ...summary, p50: 2, p99: 30, count: 7 } } }, { timeUntilClosedMs: null }),
      },
      { store: 'redis', server: 'redis-server not installed', available: false, unavailableReason: 'redis-server not installed', healthy: [], outage: null },
    ],
    lambdaPackage: [{ build: 'minified', esbuildOptions: {}, bundleBytes: 2048, bundleGzipBytes: 1024, sourceMapBytes: 0, loadMs: { median: 12.34, runs: [12.34] } }],
  } as unknown as BenchResults;
  const table = renderTable(results);
  const row = (start: string): string[] => {
    const line = table.split('\n').find((l) => l.startsWith(`| ${start}`));
    if (!line) throw new Error(`no row starting "${start}" in\n${table}`);
    return line.split('|').slice(1, -1).map((cell) => cell.trim());
  };

  it('is one Markdown table with the three variants and both ratios', () => {
    expect(table.split('\n')[0]).toBe('| metric | (a) no breaker | (b) naive | (c) this breaker | (c)/(a) | (c)/(b) |');
    expect(row('healthy: DynamoDB requests per call (stateCacheMs 0)')).toEqual(['healthy: DynamoDB requests per call (stateCacheMs 0)', '0.000', '2.000', '1.000', '–', '0.50x']);
    expect(row('outage (4 processes x 2 callers): calls reaching')).toEqual([expect.any(String), '500', '50', '10', '0.02x', '0.20x']);
  });

  it('does not divide by the noise of "no breaker" added time, and says never for a process that never rejected', () => {
    expect(row('healthy: added ms per call p50 (stateCacheMs 100)').slice(1)).toEqual(['0.010', '4.000', '1.000', '–', '0.25x']);
    expect(row('outage: ms until every process rejects').slice(1, 4)).toEqual(['never', '100', '100']);
  });

  it('shows the lambda package under this breaker, without ratios', () => {
    expect(row('lambda package (minified): GetUser bundle').slice(3)).toEqual(['2 (1)', '', '']);
    expect(row('lambda package (minified): ms to require()').slice(3)).toEqual(['12.3', '', '']);
  });

  it('then a second table: this breaker on each store, one column per store, and a missing server says so in its column', () => {
    const stores = table.split('\n\n')[1]?.split('\n') ?? [];
    expect(stores[0]).toBe('| this breaker on | DynamoDB store | Redis store |');
    expect(row('server (127.0.0.1)').slice(1)).toEqual(['dynalite 4.0.0', 'redis-server not installed']);
    expect(row('healthy: store requests per call (stateCacheMs 0)').slice(1)).toEqual(['1.000', 'redis-server not installed']);
    expect(row('healthy: store read ms p50 / p99 (stateCacheMs 0').slice(1)).toEqual(['1.50 / 9.25 (n 10)', 'redis-server not installed']);
    expect(row('outage + recovery (4 x 2 callers): recordCount ms p50 / p99').slice(1)).toEqual(['2.00 / 30.00 (n 7)', 'redis-server not installed']);
    expect(row('outage + recovery (4 x 2 callers): releasePermit').slice(1)).toEqual(['–', 'redis-server not installed']);
    expect(row('outage: calls reaching the dead downstream').slice(1)).toEqual(['12', 'redis-server not installed']);
    expect(row('recovery: ms from heal until the state reads CLOSED').slice(1)).toEqual(['never', 'redis-server not installed']);
  });
});
