/** The bench's result document (written as JSON), its invariants, and the one table printed from it. */
import type { HealthyPathResult } from './healthyPath';
import type { PackageResult } from './lambdaPackage';
import type { MachineInfo, VersionInfo } from './machine';
import type { OutageResult } from './outage/outageScenario';
import type { BenchSettings } from './settings';

export const RESULTS_SCHEMA_VERSION = 1;

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

/** The checks that make `npm run bench` exit non-zero. Only this project's breaker is held to them. */
export function checkInvariants(outage: readonly OutageResult[]): Invariants {
  const violations: string[] = [];
  const ours = outage.find((result) => result.variant === 'breaker');
  let noLostCount = false;
  let halfOpenLimitHeld = false;
  if (!ours) {
    violations.push('no outage result for this breaker');
  } else {
    if (!ours.lostCount) violations.push('the lost-count check did not run');
    else if (ours.lostCount.lost !== 0) {
      violations.push(`lost ${ours.lostCount.lost} failure count(s): callers observed ${ours.lostCount.observedFailures}, the state item holds ${ours.lostCount.storedFailures}`);
    } else noLostCount = true;

    const { maxTrialsInFlight, halfOpenMaxCalls, unattributedTrials } = ours.recovery;
    if (halfOpenMaxCalls === null) violations.push('halfOpenMaxCalls is not set, so the half-open limit cannot be checked');
    else if (unattributedTrials > 0) violations.push(`${unattributedTrials} trial call(s) could not be matched to a downstream request; the half-open limit is unverified`);
    else if (maxTrialsInFlight > halfOpenMaxCalls) violations.push(`${maxTrialsInFlight} trial calls were in flight at once; halfOpenMaxCalls is ${halfOpenMaxCalls}`);
    else halfOpenLimitHeld = true;
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

/** One Markdown table: the three variants side by side, with (c)'s ratios against (a) and (b). */
export function renderTable(results: BenchResults): string {
  const header = ['metric', '(a) no breaker', '(b) naive', '(c) this breaker', '(c)/(a)', '(c)/(b)'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
  for (const row of rows(results)) {
    const show = (value: Cell): string => (value === null || value === undefined ? (row.missing ?? '–') : row.format(value));
    const cells = [row.metric, show(row.none), show(row.naive), show(row.breaker), row.noRatios ? '' : row.noRatioVsNone ? '–' : ratio(row.breaker, row.none), row.noRatios ? '' : ratio(row.breaker, row.naive)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
