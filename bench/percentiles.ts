/** Latency statistics for the bench: nearest-rank percentiles, so every reported value is one that was measured. */

export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile: the smallest sample with at least `p` percent of the samples at or below it.
 * @example percentile([1, 2, 3, 4], 50) === 2; percentile([1, 2, 3, 4], 99) === 4
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples is undefined');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1];
}

export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) throw new Error('cannot summarize no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.ceil((p / 100) * sorted.length) - 1];
  return {
    count: sorted.length,
    min: sorted[0],
    p50: at(50),
    p99: at(99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}
