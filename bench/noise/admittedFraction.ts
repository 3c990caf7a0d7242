/** The admitted fraction over time after a close: calls binned by time since the close. */
import type { LoggedCall } from '../outage/protocol';

export interface AdmittedBin {
  /** ms since the close, [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  calls: number;
  admitted: number;
  /** admitted / calls; null for a bin with no calls. */
  fraction: number | null;
}

/** Bins the calls that settled in [closedAt, closedAt + spanMs) into `binMs`-wide bins (the last may be narrower). */
export function admittedOverTime(calls: readonly LoggedCall[], closedAt: number, spanMs: number, binMs: number): AdmittedBin[] {
  if (!(binMs > 0)) throw new RangeError(`binMs must be positive, got ${binMs}`);
  const bins: AdmittedBin[] = [];
  for (let from = 0; from < spanMs; from += binMs) bins.push({ fromMs: from, toMs: Math.min(from + binMs, spanMs), calls: 0, admitted: 0, fraction: null });
  for (const [at, admitted] of calls) {
    const since = at - closedAt;
    if (since < 0 || since >= spanMs) continue;
    const bin = bins[Math.floor(since / binMs)];
    bin.calls += 1;
    bin.admitted += admitted;
  }
  for (const bin of bins) bin.fraction = bin.calls === 0 ? null : bin.admitted / bin.calls;
  return bins;
}
