import { BreakerConfigError } from '../../../src/breaker/errors';
import { rampUpAdmission, rampUpFraction, validateRampUp, type RampUpSettings } from '../../../src/breaker/rampUp';

const settings: RampUpSettings = { rampUpMs: 10_000, rampUpStartFraction: 0.1 };
const CLOSED_AT = 5_000_000;

describe('rampUpFraction: linear from the start fraction to 1 over rampUpMs', () => {
  test.each([
    // [ms since the close (negative: closedAt ahead of this clock), fraction]
    [-10_001, 1], // ahead by more than rampUpMs: not trusted, no ramp
    [-10_000, 0.1], // ahead by at most rampUpMs: counts as just closed
    [-1, 0.1],
    [0, 0.1],
    [1_000, 0.19],
    [5_000, 0.55],
    [9_000, 0.91],
    [9_999, 0.1 + 0.9 * 0.9999],
    [10_000, 1],
    [60_000, 1],
  ])('%d ms after the close: %p', (elapsed, fraction) => {
    expect(rampUpFraction(CLOSED_AT, CLOSED_AT + elapsed, settings)).toBeCloseTo(fraction, 12);
  });

  test.each([
    [undefined, settings, 'no close time recorded'],
    [Number.NaN, settings, 'a close time that is not a number'],
    [Number.POSITIVE_INFINITY, settings, 'an infinite close time'],
    [CLOSED_AT, { rampUpMs: 0, rampUpStartFraction: 0.1 }, 'rampUpMs 0 (no ramp-up)'],
    [CLOSED_AT, { rampUpMs: 10_000, rampUpStartFraction: 1 }, 'a start fraction of 1'],
  ] as Array<[number | undefined, RampUpSettings, string]>)('no ramp (fraction 1) with closedAt %p, %p: %s', (closedAt, s) => {
    expect(rampUpFraction(closedAt, CLOSED_AT, s)).toBe(1);
    expect(rampUpAdmission(closedAt, CLOSED_AT, s, () => 0.999_999)).toEqual({ admitted: true, fraction: 1 });
  });
});

describe('rampUpAdmission', () => {
  test.each([
    // [ms since the close, random, admitted, retryAfterMs]
    [0, 0, true, undefined],
    [0, 0.099_999, true, undefined],
    [0, 0.1, false, 10_000], // random() < fraction admits: exactly the fraction is rejected
    [0, 0.999_999, false, 10_000],
    [5_000, 0.549_999, true, undefined],
    [5_000, 0.55, false, 5_000],
    [9_999.5, 0.9999, true, undefined],
    [9_999.5, 0.999_999_9, false, 1], // retryAfterMs is rounded up, never 0
    [10_000, 0.999_999_9, true, undefined], // the ramp is over
    [-5_000, 0.1, false, 10_000], // closedAt 5 s ahead (skew): just closed; retry when the ramp would end from now
  ] as Array<[number, number, boolean, number | undefined]>)('%d ms after the close, random %p: admitted %p, retryAfterMs %p', (elapsed, r, admitted, retryAfterMs) => {
    const decision = rampUpAdmission(CLOSED_AT, CLOSED_AT + elapsed, settings, () => r);
    expect(decision.admitted).toBe(admitted);
    expect(decision.fraction).toBeCloseTo(rampUpFraction(CLOSED_AT, CLOSED_AT + elapsed, settings), 12);
    if (!decision.admitted) expect(decision.retryAfterMs).toBe(retryAfterMs);
  });

  test('over 1000 evenly spread random numbers, the admitted share follows the ramp', () => {
    const admittedAt = (elapsed: number) => {
      let admitted = 0;
      for (let i = 0; i < 1_000; i++) if (rampUpAdmission(CLOSED_AT, CLOSED_AT + elapsed, settings, () => i / 1_000).admitted) admitted++;
      return admitted;
    };
    expect([0, 2_500, 5_000, 7_500, 10_000].map(admittedAt)).toEqual([100, 325, 550, 775, 1_000]);
  });

  test('a random() out of [0, 1) is clamped: above 1 rejects while ramping, NaN and negatives admit', () => {
    expect(rampUpAdmission(CLOSED_AT, CLOSED_AT + 9_000, settings, () => 7).admitted).toBe(false);
    expect(rampUpAdmission(CLOSED_AT, CLOSED_AT, settings, () => Number.NaN).admitted).toBe(true);
    expect(rampUpAdmission(CLOSED_AT, CLOSED_AT, settings, () => -3).admitted).toBe(true);
  });

  test('random() is not called when no ramp applies (the healthy path draws nothing)', () => {
    const random = jest.fn(() => 0.5);
    rampUpAdmission(undefined, CLOSED_AT, settings, random);
    rampUpAdmission(CLOSED_AT, CLOSED_AT + 10_000, settings, random);
    expect(random).not.toHaveBeenCalled();
  });
});

describe('validateRampUp', () => {
  test.each([
    [{ rampUpMs: -1, rampUpStartFraction: 0.1 }, 'rampUpMs'],
    [{ rampUpMs: 1.5, rampUpStartFraction: 0.1 }, 'rampUpMs'],
    [{ rampUpMs: 86_400_001, rampUpStartFraction: 0.1 }, 'rampUpMs'],
    [{ rampUpMs: '1000', rampUpStartFraction: 0.1 }, 'rampUpMs'],
    [{ rampUpMs: 1_000, rampUpStartFraction: 0 }, 'rampUpStartFraction'],
    [{ rampUpMs: 1_000, rampUpStartFraction: 1.5 }, 'rampUpStartFraction'],
    [{ rampUpMs: 1_000, rampUpStartFraction: 10 }, 'rampUpStartFraction'], // a percentage by mistake
    [{ rampUpMs: 1_000, rampUpStartFraction: Number.NaN }, 'rampUpStartFraction'],
  ])('%p is refused, naming %s', (s, option) => {
    expect(() => validateRampUp(s as RampUpSettings)).toThrow(BreakerConfigError);
    expect(() => validateRampUp(s as RampUpSettings)).toThrow(`invalid circuit breaker option '${option}'`);
  });

  test.each([
    { rampUpMs: 0, rampUpStartFraction: 1 },
    { rampUpMs: 30_000, rampUpStartFraction: 0.1 },
    { rampUpMs: 86_400_000, rampUpStartFraction: 0.000_1 },
  ])('%p is accepted', (s) => {
    expect(validateRampUp(s)).toEqual(s);
  });
});
