/** The bench's result document (written as JSON), its invariants, and the one table printed from it. */
import type { HealthyPathResult } from './healthyPath';
import type { PackageResult } from './lambdaPackage';
import type { MachineInfo, VersionInfo } from './machine';
import type { OutageResult } from './outage/outageScenario';
import type { LatencySummary } from './percentiles';
import type { BenchSettings } from './settings';
import type { StoreRunResult } from './storeCompare';
import { STORE_OPERATIONS } from './timedStore';

/** 2: `stores` (this breaker on DynamoDB and on Redis, side by side). */
export const RESULTS_SCHEMA_VERSION = 2;

export interface BenchResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  mode: 'full' | 'smoke';
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  versions: VersionInfo;
  settings: BenchSettings;
  healthy: HealthyPathResult[];
  outage: OutageResult[];
  /** This breaker on each store (Redis with available: false when no server is installed). */
  stores: StoreRunResult[];
  lambdaPackage: PackageResult[];
  invariants: Invariants;
}

export interface Invariants {
  /** This breaker's state item held every failure its callers observed (see the lost-count check). */
  noLostCount: boolean;
  /** This breaker never had more trial calls at the downstream at once than halfOpenMaxCalls. */
  halfOpenLimitHeld: boolean;
  violations: string[];
}

/**
 * The checks that make `npm run bench` exit non-zero. Only this project's breaker is held to them: the (c) outage,
 * and the outage of every store that ran in the store comparison.
 */
export function checkInvariants(outage: readonly OutageResult[], stores: readonly StoreRunResult[] = []): Invariants {
  const violations: string[] = [];
  let noLostCount = true;
  let halfOpenLimitHeld = true;
  const runs: Array<[string, OutageResult | undefined]> = [
    ['', outage.find((result) => result.variant === 'breaker')],
    ...stores.filter((store) => store.available).map((store): [string, OutageResult | undefined] => [`${store.server}: `, store.outage ?? undefined]),
  ];
  for (const [prefix, ours] of runs) {
    if (!ours) {
      violations.push(`${prefix}no outage result for this breaker`);
      noLostCount = false;
      halfOpenLimitHeld = false;
      continue;
    }
    if (!ours.lostCount) {
      violations.push(`${prefix}the lost-count check did not run`);
      noLostCount = false;
    } else if (ours.lostCount.lost !== 0) {
      violations.push(`${prefix}lost ${ours.lostCount.lost} failure count(s): callers observed ${ours.lostCount.observedFailures}, the state item holds ${ours.lostCount.storedFailures}`);
      noLostCount = false;
    }

    const { maxTrialsInFlight, halfOpenMaxCalls, unattributedTrials } = ours.recovery;
    const broken =
      halfOpenMaxCalls === null
        ? 'halfOpenMaxCalls is not set, so the half-open limit cannot be checked'
        : unattributedTrials > 0
          ? `${unattributedTrials} trial call(s) could not be matched to a downstream request; the half-open limit is unverified`
          : maxTrialsInFlight > halfOpenMaxCalls
            ? `${maxTrialsInFlight} trial calls were in flight at once; halfOpenMaxCalls is ${halfOpenMaxCalls}`
            : undefined;
    if (broken !== undefined) {
      violations.push(`${prefix}${broken}`);
      halfOpenLimitHeld = false;
    }
  }
  return { noLostCount, halfOpenLimitHeld, violations };
}

/** What `npm run bench` says about the invariants, and its exit code: 1 if any was broken, else 0. */
export function verdict(invariants: Invariants): { exitCode: 0 | 1; lines: string[] } {
  if (invariants.violations.length > 0) return { exitCode: 1, lines: invariants.violations.map((violation) => `INVARIANT BROKEN: ${violation}`) };
  return { exitCode: 0, lines: ['invariants held: no lost failure count, half-open limit never exceeded'] };
}

type Cell = number | null | undefined;

interface Row {
  metric: string;
  none: Cell;
  naive: Cell;
  breaker: Cell;
  /** How to print the three values. */
  format: (value: number) => string;
  /** Text instead of a missing value, e.g. "never". */
  missing?: string;
  /** Ratios make no sense for this row (e.g. package size). */
  noRatios?: boolean;
  /** (a) is only measurement noise here (the time "no breaker" adds), so a ratio against it means nothing. */
  noRatioVsNone?: boolean;
}

const fixed = (digits: number) => (value: number) => value.toFixed(digits);
const integer = (value: number): string => String(Math.round(value));

/** "0.05x"; "–" when either side is missing or the baseline is 0. */
export function ratio(value: Cell, baseline: Cell): string {
  if (value === null || value === undefined || baseline === null || baseline === undefined || baseline === 0) return '–';
  const r = value / baseline;
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(1)}x`;
}

function rows(results: BenchResults): Row[] {
  const out: Row[] = [];
  const healthyOf = (variant: string, cache?: number) =>
    results.healthy.find((result) => result.variant === variant && (cache === undefined || result.stateCacheMs === cache));
  const none = healthyOf('none');
  const naive = healthyOf('naive');
  for (const cache of results.settings.healthy.stateCacheMs) {
    const ours = healthyOf('breaker', cache);
    out.push(
      { metric: `healthy: DynamoDB requests per call (stateCacheMs ${cache})`, none: none?.dynamoRequestsPerCall, naive: naive?.dynamoRequestsPerCall, breaker: ours?.dynamoRequestsPerCall, format: fixed(3) },
      { metric: `healthy: added ms per call p50 (stateCacheMs ${cache})`, none: none?.addedMs.p50, naive: naive?.addedMs.p50, breaker: ours?.addedMs.p50, format: fixed(3), noRatioVsNone: true },
      { metric: `healthy: added ms per call p99 (stateCacheMs ${cache})`, none: none?.addedMs.p99, naive: naive?.addedMs.p99, breaker: ours?.addedMs.p99, format: fixed(3), noRatioVsNone: true },
    );
  }
  const outageOf = (variant: string) => results.outage.find((result) => result.variant === variant);
  const [a, b, c] = [outageOf('none'), outageOf('naive'), outageOf('breaker')];
  const { processes, callersPerProcess } = results.settings.outage;
  out.push(
    { metric: `outage (${processes} processes x ${callersPerProcess} callers): calls reaching the dead downstream`, none: a?.downstreamCallsAfterDeath, naive: b?.downstreamCallsAfterDeath, breaker: c?.downstreamCallsAfterDeath, format: integer },
    { metric: 'outage: length, ms (at least the set length, and until every process rejected)', none: a?.outageMs, naive: b?.outageMs, breaker: c?.outageMs, format: integer, noRatios: true },
    { metric: 'outage: ms until every process rejects', none: a?.timeUntilAllRejectMs, naive: b?.timeUntilAllRejectMs, breaker: c?.timeUntilAllRejectMs, format: integer, missing: 'never' },
    { metric: 'outage: DynamoDB requests during the outage', none: a?.dynamoRequestsDuringOutage, naive: b?.dynamoRequestsDuringOutage, breaker: c?.dynamoRequestsDuringOutage, format: integer },
    { metric: 'outage: failure counts lost (concurrent failures, threshold out of reach)', none: null, naive: b?.lostCount?.lost, breaker: c?.lostCount?.lost, format: (value) => String(value), missing: '–' },
    { metric: 'outage: failures observed in that check', none: null, naive: b?.lostCount?.observedFailures, breaker: c?.lostCount?.observedFailures, format: integer, missing: '–', noRatios: true },
    { metric: `recovery: most trial calls in flight (limit ${c?.recovery.halfOpenMaxCalls ?? '–'})`, none: null, naive: b?.recovery.maxTrialsInFlight, breaker: c?.recovery.maxTrialsInFlight, format: integer, missing: '–' },
    { metric: 'recovery: ms from heal until the state item reads CLOSED', none: null, naive: b?.recovery.timeUntilClosedMs, breaker: c?.recovery.timeUntilClosedMs, format: integer, missing: '–' },
  );
  for (const pkg of results.lambdaPackage) {
    out.push(
      { metric: `lambda package (${pkg.build}): GetUser bundle KiB (gzip)`, none: null, naive: null, breaker: pkg.bundleBytes / 1024, format: (value) => `${value.toFixed(0)} (${(pkg.bundleGzipBytes / 1024).toFixed(0)})`, missing: '', noRatios: true },
      { metric: `lambda package (${pkg.build}): ms to require() in a fresh process, median`, none: null, naive: null, breaker: pkg.loadMs.median, format: fixed(1), missing: '', noRatios: true },
    );
  }
  return out;
}

/** The compare table, then the store table: the three variants side by side, with (c)'s ratios against (a) and (b). */
export function renderTable(results: BenchResults): string {
  const header = ['metric', '(a) no breaker', '(b) naive', '(c) this breaker', '(c)/(a)', '(c)/(b)'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
  for (const row of rows(results)) {
    const show = (value: Cell): string => (value === null || value === undefined ? (row.missing ?? '–') : row.format(value));
    const cells = [row.metric, show(row.none), show(row.naive), show(row.breaker), row.noRatios ? '' : row.noRatioVsNone ? '–' : ratio(row.breaker, row.none), row.noRatios ? '' : ratio(row.breaker, row.naive)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n\n${renderStoresTable(results)}`;
}

/** "1.23 / 4.56 (n 120)" for a latency summary; "–" when the operation never ran. */
const latencyCell = (summary: LatencySummary | undefined): string =>
  summary ? `${summary.p50.toFixed(2)} / ${summary.p99.toFixed(2)} (n ${summary.count})` : '–';

/** This breaker on each store, one column per store (a store that could not run says why in every cell of its column). */
export function renderStoresTable(results: BenchResults): string {
  const stores = results.stores;
  const header = ['this breaker on', ...stores.map((store) => (store.store === 'dynamodb' ? 'DynamoDB store' : 'Redis store'))];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
  const row = (metric: string, cell: (store: StoreRunResult) => string): void => {
    lines.push(`| ${[metric, ...stores.map((store) => (store.available ? cell(store) : (store.unavailableReason ?? 'not run')))].join(' | ')} |`);
  };
  lines.push(`| server (127.0.0.1) | ${stores.map((store) => store.server).join(' | ')} |`);
  const healthyOf = (store: StoreRunResult, cache: number) => store.healthy.find((result) => result.stateCacheMs === cache);
  for (const cache of results.settings.healthy.stateCacheMs) {
    row(`healthy: store requests per call (stateCacheMs ${cache})`, (store) => healthyOf(store, cache)?.dynamoRequestsPerCall.toFixed(3) ?? '–');
  }
  for (const cache of results.settings.healthy.stateCacheMs) {
    row(`healthy: added ms per call p50 / p99 (stateCacheMs ${cache})`, (store) => {
      const added = healthyOf(store, cache)?.addedMs;
      return added ? `${added.p50.toFixed(3)} / ${added.p99.toFixed(3)}` : '–';
    });
  }
  const first = results.settings.healthy.stateCacheMs[0];
  row(`healthy: store read ms p50 / p99 (stateCacheMs ${first}, one caller)`, (store) => latencyCell(healthyOf(store, first)?.storeLatencyMs.read));
  const { processes, callersPerProcess } = results.settings.outage;
  for (const operation of STORE_OPERATIONS) {
    row(`outage + recovery (${processes} x ${callersPerProcess} callers): ${operation} ms p50 / p99`, (store) => latencyCell(store.outage?.storeLatencyMs?.[operation]));
  }
  const outageRow = (metric: string, value: (outage: OutageResult) => string): void => row(metric, (store) => (store.outage ? value(store.outage) : '–'));
  outageRow('outage: calls reaching the dead downstream', (outage) => integer(outage.downstreamCallsAfterDeath));
  outageRow('outage: ms until every process rejects', (outage) => (outage.timeUntilAllRejectMs === null ? 'never' : integer(outage.timeUntilAllRejectMs)));
  outageRow('outage: store requests during the outage', (outage) => integer(outage.dynamoRequestsDuringOutage));
  outageRow('outage: failure counts lost (of those observed)', (outage) => (outage.lostCount ? `${outage.lostCount.lost} (of ${outage.lostCount.observedFailures})` : '–'));
  outageRow(`recovery: most trial calls in flight (limit ${results.settings.breaker.halfOpenMaxCalls ?? '–'})`, (outage) => integer(outage.recovery.maxTrialsInFlight));
  outageRow('recovery: ms from heal until the state reads CLOSED', (outage) => (outage.recovery.timeUntilClosedMs === null ? 'never' : integer(outage.recovery.timeUntilClosedMs)));
  return lines.join('\n');
}
