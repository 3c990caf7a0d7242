import { scaledLimits, type FleetSettings } from '../../../bench/fleet/fleetScenario';
import { describeProxyCounts, renderFleetTable, type FleetResults } from '../../../bench/fleet/fleetResults';
import { admittedOverTime } from '../../../bench/noise/admittedFraction';
import { availabilityOf } from '../../../bench/optionSupport';
import { parseArgs } from '../../../bench/run';
import { FLEET } from '../../../bench/settings';
import { firstAtOrAfter } from '../../../bench/statePoller';
import { storeErrorCause } from '../../../bench/storeErrorCause';
import { StateStoreError } from '../../../src/breaker';

describe('parseArgs --scenario', () => {
  it('runs every scenario by default, and only the named ones (comma-separated or repeated) when told', () => {
    expect(parseArgs([]).scenarios).toEqual(['compare', 'fleet', 'noise']);
    expect(parseArgs(['--scenario', 'fleet']).scenarios).toEqual(['fleet']);
    expect(parseArgs(['--scenario', 'noise,fleet', '--scenario', 'fleet', '--smoke']).scenarios).toEqual(['noise', 'fleet']);
    expect(() => parseArgs(['--scenario', 'fleat'])).toThrow(/unknown scenario "fleat" \(known: compare, fleet, noise\)/);
    expect(() => parseArgs(['--scenario'])).toThrow(/--scenario needs a name/);
  });
});

describe('scaledLimits', () => {
  it('gives 64 instances the share of 3,000 RCU and 1,000 WCU that 10,000 containers would have', () => {
    expect(FLEET.full.processes * FLEET.full.instancesPerProcess).toBe(64);
    const limits = scaledLimits(FLEET.full);
    expect(limits.readUnitsPerSecond).toBeCloseTo(19.2, 10);
    expect(limits.writeUnitsPerSecond).toBeCloseTo(6.4, 10);
    const eight: FleetSettings = { ...FLEET.full, instancesPerProcess: 2 };
    expect(scaledLimits(eight).writeUnitsPerSecond).toBeCloseTo(0.8, 10);
  });
});

describe('availabilityOf', () => {
  it('runs what the breaker accepts and names what it refuses', () => {
    expect(availabilityOf({ failureThreshold: 5, onStoreError: 'allow' })).toEqual({ available: true });
    expect(availabilityOf({ noSuchOption: 1 })).toEqual({ available: false, reason: "invalid circuit breaker option 'noSuchOption': is not a known option" });
    const bad = availabilityOf({ onStoreError: 'sometimes' });
    expect(bad.available).toBe(false);
    expect(!bad.available && bad.reason).toMatch(/'onStoreError'/);
  });
});

describe('admittedOverTime', () => {
  it('bins calls by time since the close, ignoring calls outside the span', () => {
    const bins = admittedOverTime(
      [
        [999, 1], // before the close
        [1_000, 0],
        [1_100, 1],
        [1_250, 1],
        [1_600, 1], // the last, narrower bin
        [1_700, 1], // past the span
      ],
      1_000,
      700,
      250,
    );
    expect(bins).toEqual([
      { fromMs: 0, toMs: 250, calls: 2, admitted: 1, fraction: 0.5 },
      { fromMs: 250, toMs: 500, calls: 1, admitted: 1, fraction: 1 },
      { fromMs: 500, toMs: 700, calls: 1, admitted: 1, fraction: 1 },
    ]);
    expect(admittedOverTime([], 0, 500, 250).map((bin) => bin.fraction)).toEqual([null, null]);
    expect(() => admittedOverTime([], 0, 500, 0)).toThrow(/binMs/);
  });
});

describe('firstAtOrAfter', () => {
  const timeline = [
    { at: 10, state: 'ABSENT' },
    { at: 20, state: 'CLOSED' },
    { at: 50, state: 'OPEN' },
    { at: 80, state: 'HALF_OPEN' },
    { at: 90, state: 'CLOSED' },
  ];
  it('is `since` itself when the state holding then matches, else the first later change that matches', () => {
    expect(firstAtOrAfter(timeline, ['OPEN'], 30)).toBe(50);
    expect(firstAtOrAfter(timeline, ['OPEN'], 60)).toBe(60);
    expect(firstAtOrAfter(timeline, ['CLOSED'], 55)).toBe(90);
    expect(firstAtOrAfter(timeline, ['FORCED_OPEN'], 0)).toBeNull();
    expect(firstAtOrAfter([], ['CLOSED'], 0)).toBeNull();
  });
});

describe('storeErrorCause', () => {
  it('names the store error behind a StateStoreError', () => {
    const throttled = Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
    expect(storeErrorCause(new StateStoreError('c', 'read', throttled))).toBe('ProvisionedThroughputExceededException');
    expect(storeErrorCause(new StateStoreError('c', 'read', new Error('store unavailable moments ago; not asked again yet')))).toBe('cooldown (store not asked)');
    expect(storeErrorCause(new StateStoreError('c', 'read', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })))).toBe('ECONNRESET');
    expect(storeErrorCause(new StateStoreError('c', 'read', 'a string'))).toBe('StateStoreError');
  });
});

describe('fleet table', () => {
  it('describes proxy counts per operation with throttled and dropped requests', () => {
    expect(describeProxyCounts({ UpdateItem: { requests: 5, forwarded: 2, throttled: 2, dropped: 1 }, GetItem: { requests: 3, forwarded: 3, throttled: 0, dropped: 0 } })).toBe('Get 3 · Update 5 (thr 2, drop 1)');
    expect(describeProxyCounts({})).toBe('0');
  });

  it('shows a variant that cannot run yet as "not available" with the reason', () => {
    const results = {
      settings: FLEET.smoke,
      variants: [
        { id: 'local', label: "onStoreError 'local'", options: {}, available: false, unavailableReason: 'invalid circuit breaker option ...', instances: 8, processes: 4, limits: scaledLimits(FLEET.smoke), phases: [], loadAverage: { atStart: 0, atEnd: 0 }, timeToOpenMs: null, stateAtHeal: 'n/a', timeToCloseMs: null, proxyRequests: 0, sdkRequests: 0 },
      ],
    } as unknown as FleetResults;
    const table = renderFleetTable(results);
    expect(table).toContain("| onStoreError 'local' | not available | | | | invalid circuit breaker option ... |");
    expect(table).toContain('8 instances in 4 processes; item limits 2.4 RCU/s and 0.8 WCU/s');
  });
});
