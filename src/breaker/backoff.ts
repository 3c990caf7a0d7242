/**
 * How long the circuit stays open: `openMs` on the first opening, multiplied by `backoffMultiplier` on each reopen
 * straight from half-open, capped at `maxOpenMs`, then shortened by a random fraction (at most `jitterRatio`) so a
 * fleet of circuits opened together does not probe in lockstep. Jitter only shortens, so the cap always holds.
 */
export interface BackoffSettings {
  openMs: number;
  maxOpenMs: number;
  backoffMultiplier: number;
  jitterRatio: number;
}

/** The open period before jitter, for backoff step `step` (0 = opened from closed). */
function baseOpenDuration(step: number, settings: BackoffSettings): number {
  const grown = settings.openMs * Math.pow(settings.backoffMultiplier, step);
  return Math.min(settings.maxOpenMs, grown);
}

/**
 * `random()` as a number in [0, 1]: the function is injected, so its value is untrusted. Out of range is clamped;
 * NaN, a non-number or a throw counts as 0 (no jitter), so a bad `random` can never make the open period invalid.
 */
export function unitInterval(random: () => number): number {
  let r: unknown;
  try {
    r = random();
  } catch {
    return 0;
  }
  return typeof r === 'number' && !Number.isNaN(r) ? Math.min(Math.max(r, 0), 1) : 0;
}

/** The open period with jitter applied; `random` returns a number in [0, 1). Always in (base * (1 - jitterRatio), base]. */
export function openDuration(step: number, settings: BackoffSettings, random: () => number): number {
  const base = baseOpenDuration(step, settings);
  const r = unitInterval(random);
  return Math.max(1, Math.round(base * (1 - settings.jitterRatio * r)));
}
