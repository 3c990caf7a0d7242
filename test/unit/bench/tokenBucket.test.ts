import { TokenBucket } from '../../../bench/tokenBucket';

describe('TokenBucket (injected clock)', () => {
  let clock: number;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000;
  });

  it('starts full with one second of burst and refuses what it does not hold, taking nothing', () => {
    const bucket = new TokenBucket({ ratePerSecond: 3, now });
    expect(bucket.capacity).toBe(3);
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    expect(bucket.available()).toBe(0);
  });

  it('refills at the rate, never above capacity', () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, now });
    for (let i = 0; i < 10; i += 1) expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    clock += 99;
    expect(bucket.tryTake(1)).toBe(false);
    clock += 1; // 100 ms at 10/s = 1 unit
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    clock += 60_000;
    expect(bucket.available()).toBe(10);
  });

  it('charges half units: two eventually consistent reads cost one unit', () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, now });
    expect(bucket.tryTake(0.5)).toBe(true);
    expect(bucket.tryTake(0.5)).toBe(true);
    expect(bucket.tryTake(0.5)).toBe(false);
    clock += 500;
    expect(bucket.tryTake(0.5)).toBe(true);
    expect(bucket.tryTake(0.5)).toBe(false);
  });

  it('holds at least one unit, so a limit scaled below 1/s still admits a 1-unit request after refilling', () => {
    const bucket = new TokenBucket({ ratePerSecond: 0.8, now });
    expect(bucket.capacity).toBe(1);
    expect(bucket.tryTake(1)).toBe(true);
    clock += 1_000;
    expect(bucket.tryTake(1)).toBe(false);
    clock += 250;
    expect(bucket.tryTake(1)).toBe(true);
  });

  it('honours burstSeconds and rejects bad settings by name', () => {
    expect(new TokenBucket({ ratePerSecond: 4, burstSeconds: 2, now }).capacity).toBe(8);
    expect(() => new TokenBucket({ ratePerSecond: 0, now })).toThrow(/ratePerSecond/);
    expect(() => new TokenBucket({ ratePerSecond: 1, burstSeconds: -1, now })).toThrow(/burstSeconds/);
    expect(() => new TokenBucket({ ratePerSecond: 1, now }).tryTake(0)).toThrow(/units/);
  });
});
