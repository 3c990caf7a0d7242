import { percentile, summarize } from '../../../bench/percentiles';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

  it('returns the smallest sample with at least p percent at or below it', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 1)).toBe(1);
  });

  it('rounds the rank up on small inputs, so the value is always a measured one', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([10, 0.5, 3], 50)).toBe(3);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('rejects no samples and percentiles outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow('no samples');
    expect(() => percentile([1], 0)).toThrow('(0, 100]');
    expect(() => percentile([1], 101)).toThrow('(0, 100]');
    expect(() => percentile([1], Number.NaN)).toThrow('(0, 100]');
  });
});

describe('summarize', () => {
  it('reports count, min, p50, p99, max and mean', () => {
    const samples = [...Array.from({ length: 99 }, () => 1), 1000];
    expect(summarize(samples)).toEqual({ count: 100, min: 1, p50: 1, p99: 1, max: 1000, mean: (99 + 1000) / 100 });
  });

  it('puts an outlier in p99 once it is more than one percent of the samples', () => {
    const samples = [...Array.from({ length: 98 }, () => 1), 500, 1000];
    expect(summarize(samples).p99).toBe(500);
  });

  it('rejects no samples', () => {
    expect(() => summarize([])).toThrow('no samples');
  });
});
