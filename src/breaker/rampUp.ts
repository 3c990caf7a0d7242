/**
 * Gradual recovery after a close: for `rampUpMs` after the circuit closed, a call is admitted with a probability
 * that grows linearly from `rampUpStartFraction` to 1, so a downstream that has just recovered is not hit by the
 * whole fleet's traffic at once. The close time is in the shared item (`closedAt`), so every instance ramps
 * together with no extra request; each decides per call with its own random number.
 *
 *   fraction(t) = rampUpStartFraction + (1 - rampUpStartFraction) * t / rampUpMs   for 0 <= t < rampUpMs
 *   fraction(t) = 1                                                                 for t >= rampUpMs
 *
 * where t = now - closedAt. A call is admitted when random() < fraction. Clock skew: a closedAt ahead of this
 * instance's clock by at most rampUpMs counts as t = 0 (so the ramp lasts at most 2 x rampUpMs on this clock); one
 * further ahead, or not a finite number, is not trusted and admits every call: a bad clock or item must not throttle
 * the fleet.
 */
import { BreakerConfigError } from './errors';

export interface RampUpSettings {
  /** How long the ramp lasts after a close, ms (integer >= 0; 0 = no ramp-up). */
  rampUpMs: number;
  /** The fraction of calls admitted right after the close: a number in (0, 1]. */
  rampUpStartFraction: number;
}

export type RampUpDecision =
  | { admitted: true; fraction: number }
  | {
      admitted: false;
      fraction: number;
      /** Until the ramp ends and every call is admitted, ms (>= 1). A retry before then may already be admitted. */
      retryAfterMs: number;
    };

const MAX_MS = 24 * 60 * 60 * 1000;

/** The fraction of calls admitted at `now` (1 when not ramping: no closedAt, rampUpMs 0, ramp over, or untrusted). */
export function rampUpFraction(closedAt: number | undefined, now: number, settings: RampUpSettings): number {
  const elapsed = elapsedInRamp(closedAt, now, settings);
  if (elapsed === undefined) return 1;
  return settings.rampUpStartFraction + ((1 - settings.rampUpStartFraction) * elapsed) / settings.rampUpMs;
}

/**
 * Whether a call of a closed circuit is admitted at `now`, the circuit having closed at `closedAt` (epoch ms, from
 * the shared item; undefined when the item records none). `random` returns a number in [0, 1); anything else is
 * clamped into it.
 *
 * @example
 * const decision = rampUpAdmission(record.closedAt, now, settings, Math.random);
 * if (!decision.admitted) throw new CircuitOpenError(name, decision.retryAfterMs, 'RAMPING_UP');
 */
export function rampUpAdmission(closedAt: number | undefined, now: number, settings: RampUpSettings, random: () => number): RampUpDecision {
  const elapsed = elapsedInRamp(closedAt, now, settings);
  if (elapsed === undefined) return { admitted: true, fraction: 1 };
  const fraction = settings.rampUpStartFraction + ((1 - settings.rampUpStartFraction) * elapsed) / settings.rampUpMs;
  const drawn = random();
  const r = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
  if (r < fraction) return { admitted: true, fraction };
  return { admitted: false, fraction, retryAfterMs: Math.max(1, Math.ceil(settings.rampUpMs - elapsed)) };
}

/**
 * Checks the ramp-up options.
 * @throws BreakerConfigError naming `rampUpMs` (not an integer from 0 to 24 h) or `rampUpStartFraction` (not in (0, 1]).
 */
export function validateRampUp(settings: RampUpSettings): RampUpSettings {
  const { rampUpMs, rampUpStartFraction } = settings;
  if (typeof rampUpMs !== 'number' || !Number.isInteger(rampUpMs) || rampUpMs < 0 || rampUpMs > MAX_MS) {
    throw new BreakerConfigError('rampUpMs', `must be an integer from 0 (no ramp-up) to ${MAX_MS}, got ${JSON.stringify(rampUpMs)}`);
  }
  if (typeof rampUpStartFraction !== 'number' || !Number.isFinite(rampUpStartFraction) || rampUpStartFraction <= 0 || rampUpStartFraction > 1) {
    throw new BreakerConfigError('rampUpStartFraction', `must be a fraction greater than 0 and at most 1 (0.1 = 10 % of calls), got ${JSON.stringify(rampUpStartFraction)}`);
  }
  return { rampUpMs, rampUpStartFraction };
}

/** Time since the close within the ramp, or undefined when no ramp applies at `now`. */
function elapsedInRamp(closedAt: number | undefined, now: number, settings: RampUpSettings): number | undefined {
  if (settings.rampUpMs <= 0 || settings.rampUpStartFraction >= 1) return undefined;
  if (typeof closedAt !== 'number' || !Number.isFinite(closedAt)) return undefined;
  const elapsed = now - closedAt;
  if (elapsed >= settings.rampUpMs) return undefined;
  if (elapsed < -settings.rampUpMs) return undefined; // closedAt implausibly far ahead: not trusted
  return Math.max(0, elapsed);
}
