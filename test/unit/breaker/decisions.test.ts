/** The state machine's decisions, one table row per transition: (record, event, now, settings) -> decision. */
import {
  admissionFor,
  afterCount,
  afterTrialSuccess,
  boundedRecord,
  outcomeAction,
  outcomeOf,
  overrideRequest,
  staleCountersToRemove,
  trialFailedTransition,
  type Settled,
} from '../../../src/breaker/decisions';
import { MemoryStateStore } from '../../../src/breaker';
import { resolveOptions } from '../../../src/breaker/options';
import type { CallOutcome } from '../../../src/breaker/outcome';
import { parseItem } from '../../../src/breaker/state';

const NOW = 1_000_000;
const settings = resolveOptions({
  name: 'c',
  store: new MemoryStateStore(),
  failureThreshold: 3,
  windowMs: 10_000,
  windowBuckets: 10,
  timeoutMs: 500,
  slowCallMs: 200,
  openMs: 1_000,
  maxOpenMs: 8_000,
  halfOpenMaxCalls: 2,
  halfOpenSuccessThreshold: 2,
  permitLeaseMarginMs: 100,
  random: () => 0,
  now: () => NOW,
});
const record = (item: Record<string, unknown> | undefined) => parseItem('c', item === undefined ? undefined : { id: 'c', ...item });
const lease = (exp: number, tok = 't') => ({ exp, tok });

describe('admissionFor', () => {
  test.each<[string, Record<string, unknown> | undefined, unknown]>([
    ['no item: closed', undefined, { kind: 'pass', state: 'CLOSED' }],
    ['CLOSED', { state: 'CLOSED', version: 1 }, { kind: 'pass', state: 'CLOSED' }],
    ['DISABLED', { state: 'DISABLED', version: 1 }, { kind: 'pass', state: 'DISABLED' }],
    ['FORCED_OPEN: no end promised', { state: 'FORCED_OPEN', version: 1 }, { kind: 'reject', state: 'FORCED_OPEN', retryAfterMs: null }],
    ['OPEN within its period', { state: 'OPEN', version: 1, openUntil: NOW + 300 }, { kind: 'reject', state: 'OPEN', retryAfterMs: 300 }],
    ['OPEN, period over: probe', { state: 'OPEN', version: 1, openUntil: NOW }, { kind: 'probe' }],
    ['HALF_OPEN, all slots free', { state: 'HALF_OPEN', version: 1 }, { kind: 'acquire', slot: 0 }],
    ['HALF_OPEN, slot 0 held', { state: 'HALF_OPEN', version: 1, p_0: lease(NOW + 10) }, { kind: 'acquire', slot: 1 }],
    ['HALF_OPEN, every slot held', { state: 'HALF_OPEN', version: 1, p_0: lease(NOW + 10), p_1: lease(NOW + 10) }, { kind: 'reject', state: 'HALF_OPEN', retryAfterMs: 0 }],
    ['HALF_OPEN, a lease expired', { state: 'HALF_OPEN', version: 1, p_0: lease(NOW - 1), p_1: lease(NOW + 10) }, { kind: 'acquire', slot: 0 }],
    ['malformed item: closed', { state: 'OPEN', version: 1.5, openUntil: NOW + 300 }, { kind: 'pass', state: 'CLOSED' }],
  ])('%s', (_label, item, expected) => {
    expect(admissionFor(record(item), NOW, settings)).toEqual(expected);
  });
});

describe('admissionFor while ramping up after a close (rampUpMs 10 s from 10 %)', () => {
  const ramping = (random: number) => resolveOptions({ name: 'c', store: new MemoryStateStore(), rampUpMs: 10_000, rampUpStartFraction: 0.1, random: () => random, now: () => NOW });
  test.each<[string, Record<string, unknown> | undefined, number, unknown]>([
    ['just closed, drawn under 10 %: admitted', { state: 'CLOSED', version: 3, closedAt: NOW }, 0.09, { kind: 'pass', state: 'CLOSED' }],
    ['just closed, drawn at 10 %: rejected until the ramp ends', { state: 'CLOSED', version: 3, closedAt: NOW }, 0.1, { kind: 'reject', state: 'RAMPING_UP', retryAfterMs: 10_000 }],
    ['half way (55 %), drawn 0.5: admitted', { state: 'CLOSED', version: 3, closedAt: NOW - 5_000 }, 0.5, { kind: 'pass', state: 'CLOSED' }],
    ['half way (55 %), drawn 0.6: rejected for the 5 s left', { state: 'CLOSED', version: 3, closedAt: NOW - 5_000 }, 0.6, { kind: 'reject', state: 'RAMPING_UP', retryAfterMs: 5_000 }],
    ['ramp over: every call', { state: 'CLOSED', version: 3, closedAt: NOW - 10_000 }, 0.99, { kind: 'pass', state: 'CLOSED' }],
    ['no closedAt (never closed from open): every call', { state: 'CLOSED', version: 3 }, 0.99, { kind: 'pass', state: 'CLOSED' }],
    ['closedAt far in the future (bad clock or item): not trusted, every call', { state: 'CLOSED', version: 3, closedAt: NOW + 60_000 }, 0.99, { kind: 'pass', state: 'CLOSED' }],
    ['DISABLED: no ramp', { state: 'DISABLED', version: 3, closedAt: NOW }, 0.99, { kind: 'pass', state: 'DISABLED' }],
  ])('%s', (_label, item, random, expected) => {
    expect(admissionFor(record(item), NOW, ramping(random))).toEqual(expected);
  });

  test('no ramp-up configured: a fresh close admits every call', () => {
    expect(admissionFor(record({ state: 'CLOSED', version: 3, closedAt: NOW }), NOW, settings)).toEqual({ kind: 'pass', state: 'CLOSED' });
  });
});

describe('afterCount under the rate policy (50 % over at least 10 calls)', () => {
  const rate = resolveOptions({ name: 'c', store: new MemoryStateStore(), failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 10_000, countFlushMs: 0, stateCacheMs: 0, now: () => NOW });
  const bucket = NOW - (NOW % 1_000);
  test.each<[string, Record<string, number>, unknown]>([
    ['5 of 10: opens, recording the rate it saw', { [`f_${bucket}`]: 5, [`s_${bucket}`]: 5 }, { kind: 'open', opening: { openReason: 'failureRate', openFailures: 5, openCalls: 10 } }],
    ['4 of 10: below the rate', { [`f_${bucket}`]: 4, [`s_${bucket}`]: 6 }, { kind: 'none' }],
    ['9 of 9: under minimumCalls', { [`f_${bucket}`]: 9 }, { kind: 'none' }],
  ])('%s', (_label, counters, expected) => {
    const decision = afterCount({ applied: true, record: record({ state: 'CLOSED', version: 2, ...counters }) }, NOW, rate);
    expect(decision.kind).toBe((expected as { kind: string }).kind);
    if (decision.kind === 'open') expect(decision.request).toMatchObject({ to: 'OPEN', from: { version: 2, state: 'CLOSED' }, opening: (expected as { opening: unknown }).opening });
  });
});

describe('closing records closedAt (the fleet ramps from it)', () => {
  test('HALF_OPEN -> CLOSED and reset() set closedAt = now', () => {
    const half = record({ state: 'HALF_OPEN', version: 5, trialSuccesses: 2 });
    const close = afterTrialSuccess({ applied: true, record: half }, NOW, settings);
    expect(close).toMatchObject({ kind: 'close', request: { to: 'CLOSED', closedAt: NOW } });
    expect(overrideRequest('reset', record({ state: 'OPEN', version: 5, openUntil: NOW + 10 }), NOW, settings)).toMatchObject({ to: 'CLOSED', closedAt: NOW });
    expect(overrideRequest('forceOpen', record({ state: 'CLOSED', version: 5 }), NOW, settings)).not.toHaveProperty('closedAt');
  });
});

describe('boundedRecord: no time in the item holds a state longer than the settings allow', () => {
  test.each<[string, Record<string, unknown>, string | undefined]>([
    ['open period up to maxOpenMs (+ skew margin) ahead: trusted', { state: 'OPEN', version: 1, openUntil: NOW + 8_000 + 100 }, undefined],
    ['open period beyond maxOpenMs: treated as closed', { state: 'OPEN', version: 1, openUntil: 8.64e15 }, 'openUntil 8640000000000000 is more than maxOpenMs (8000) ahead'],
    ['lease up to timeoutMs + 2 x margin ahead: trusted', { state: 'HALF_OPEN', version: 1, p_0: lease(NOW + 500 + 200) }, undefined],
    ['lease beyond it: treated as closed', { state: 'HALF_OPEN', version: 1, p_0: lease(NOW + 500 + 201) }, 'p_0 lease ends more than timeoutMs + permitLeaseMarginMs ahead'],
  ])('%s', (_label, item, problem) => {
    const bounded = boundedRecord(record(item), NOW, settings);
    if (problem === undefined) {
      expect(bounded.problems).toEqual([]);
      expect(bounded.state).toBe(item.state);
    } else {
      expect(bounded).toMatchObject({ state: 'CLOSED', problems: [problem], permits: [] });
    }
  });
});

describe('outcomeOf', () => {
  test.each<[Settled, CallOutcome]>([
    [{ kind: 'resolved', durationMs: 200 }, 'success'],
    [{ kind: 'resolved', durationMs: 201 }, 'slow'],
    [{ kind: 'threw', countsAsFailure: true }, 'failure'],
    [{ kind: 'threw', countsAsFailure: false }, 'ignored'],
    [{ kind: 'timedOut' }, 'timeout'],
    [{ kind: 'cancelled' }, 'cancelled'],
  ])('%j -> %s', (settled, outcome) => {
    expect(outcomeOf(settled, settings)).toBe(outcome);
  });
});

describe('outcomeAction: what an outcome does, by how the call was admitted', () => {
  test.each<['counted' | 'trial', CallOutcome, unknown]>([
    ['counted', 'success', { kind: 'count', counted: 'success' }],
    ['counted', 'failure', { kind: 'count', counted: 'failure' }],
    ['counted', 'slow', { kind: 'count', counted: 'failure' }],
    ['counted', 'timeout', { kind: 'count', counted: 'failure' }],
    ['counted', 'ignored', { kind: 'none' }],
    ['counted', 'cancelled', { kind: 'none' }],
    ['trial', 'success', { kind: 'trialSucceeded' }],
    ['trial', 'failure', { kind: 'trialFailed' }],
    ['trial', 'slow', { kind: 'trialFailed' }],
    ['trial', 'timeout', { kind: 'trialFailed' }],
    ['trial', 'ignored', { kind: 'releasePermit' }],
    ['trial', 'cancelled', { kind: 'releasePermit' }],
  ])('%s call, %s', (admittedAs, outcome, expected) => {
    expect(outcomeAction(admittedAs, outcome)).toEqual(expected);
  });
});

describe('afterCount: a count, then maybe open', () => {
  const bucket = `f_${NOW - (NOW % 1_000)}`;
  test.each<[string, boolean, Record<string, unknown>, string]>([
    ['below the threshold: nothing', true, { state: 'CLOSED', version: 2, [bucket]: 2 }, 'none'],
    ['reaches the threshold: open', true, { state: 'CLOSED', version: 2, [bucket]: 3 }, 'open'],
    ['refused (period ended): discarded', false, { state: 'OPEN', version: 3, openUntil: NOW + 500 }, 'discarded'],
    ['malformed and refused: repair, count again', false, { state: 'CLOSED', version: 1.5 }, 'repair'],
    ['disabled meanwhile with an expiry set: restore the override', true, { state: 'DISABLED', version: 4, expiresAt: 5 }, 'restoreOverride'],
    ['disabled, no expiry: nothing (never opens)', true, { state: 'DISABLED', version: 4, [bucket]: 50 }, 'none'],
  ])('%s', (_label, applied, item, kind) => {
    const decision = afterCount({ applied, record: record(item) }, NOW, settings);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'open') expect(decision.request).toMatchObject({ to: 'OPEN', from: { version: 2, state: 'CLOSED' }, opening: { openReason: 'failureThreshold', openFailures: 3 } });
    if (decision.kind === 'repair') expect(decision).toMatchObject({ countAgain: true, request: { from: { version: 1.5 }, to: 'CLOSED', version: 2 } });
  });

  test.each<[string, Record<string, unknown>, number | null, string]>([
    ['another instance repaired the malformed item it was admitted on: count again', { state: 'CLOSED', version: 1 }, null, 'countAgain'],
    ['one repair or reset after its admission at version 4: count again', { state: 'CLOSED', version: 5 }, 4, 'countAgain'],
    ['the circuit opened and closed since (three steps): discarded', { state: 'CLOSED', version: 7 }, 4, 'discarded'],
    ['disabled since: discarded', { state: 'DISABLED', version: 5 }, 4, 'discarded'],
    ['opened since: discarded', { state: 'OPEN', version: 5, openUntil: NOW + 500 }, 4, 'discarded'],
  ])('refused count, %s', (_label, item, admitted, kind) => {
    const decision = afterCount({ applied: false, record: record(item) }, NOW, settings, admitted);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'countAgain') expect(decision.version).toBe(item.version);
  });

  test('stale counters are removed only a whole window late (clock skew), never the one added to, at most 20 per write', () => {
    const counters = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f_${i * 1_000}`, 1]));
    const old = record({ state: 'CLOSED', version: 1, ...counters, f_985000: 1, f_995000: 1 });
    const stale = staleCountersToRemove(old, { f_0: 1 }, NOW, settings);
    expect(stale).toHaveLength(20);
    expect(stale).not.toContain('f_0');
    // f_985000 left the window (start <= NOW - windowMs) but is within one more window: kept for skew.
    expect(staleCountersToRemove(record({ state: 'CLOSED', version: 1, f_985000: 1, f_979000: 1 }), {}, NOW, settings)).toEqual(['f_979000']);
  });
});

describe('trial outcomes', () => {
  const halfOpen = (trialSuccesses: number) => record({ state: 'HALF_OPEN', version: 7, backoffStep: 1, trialSuccesses, p_0: lease(NOW + 10, 'mine') });
  test.each<[string, boolean, number, string]>([
    ['first success of two: stay half-open', true, 1, 'none'],
    ['second success: close', true, 2, 'close'],
    ['success not applied (moved on): nothing', false, 2, 'none'],
  ])('%s', (_label, applied, successes, kind) => {
    const decision = afterTrialSuccess({ applied, record: halfOpen(successes) }, NOW, settings);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'close') expect(decision.request).toMatchObject({ to: 'CLOSED', backoffStep: 0, from: { version: 7, state: 'HALF_OPEN' } });
  });

  test('a failed trial reopens one backoff step up, only while it still holds its permit', () => {
    const request = trialFailedTransition(halfOpen(0), { slot: 0, token: 'mine', expiresAt: NOW + 10 }, NOW, settings);
    expect(request).toMatchObject({ to: 'OPEN', backoffStep: 2, openUntil: NOW + 4_000, heldPermit: { slot: 0, token: 'mine' }, opening: { openReason: 'trialFailed' } });
  });
});

describe('overrideRequest works on any item', () => {
  test.each<[string, 'forceOpen' | 'disable' | 'reset', Record<string, unknown> | undefined, unknown]>([
    ['reset a missing item', 'reset', undefined, { from: { version: null }, to: 'CLOSED', version: 1 }],
    ['reset an item with version 1.5: guarded by exactly that value', 'reset', { state: 'CLOSED', version: 1.5 }, { from: { version: 1.5 }, to: 'CLOSED', version: 2 }],
    ['reset an item with version 1e300: any valid version', 'reset', { state: 'OPEN', version: 1e300 }, { from: { version: 1e300 }, to: 'CLOSED', version: 1 }],
    ['forceOpen an open item', 'forceOpen', { state: 'OPEN', version: 3, openUntil: NOW + 5 }, { from: { version: 3, state: 'OPEN' }, to: 'FORCED_OPEN', version: 4 }],
    ['disable a half-open item: permits dropped', 'disable', { state: 'HALF_OPEN', version: 3, p_0: lease(NOW + 5) }, { to: 'DISABLED', remove: ['p_0', 'p_1'] }],
  ])('%s', (_label, override, item, expected) => {
    expect(overrideRequest(override, record(item), NOW, settings)).toMatchObject(expected as object);
  });

  test('a clearing write removes a bounded number of attributes whatever the item holds', () => {
    const junk = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f_${i}`, 1]));
    const strays = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`p_${i + 10}`, lease(1)]));
    const request = overrideRequest('reset', record({ state: 'CLOSED', version: 2, ...junk, ...strays }), NOW, settings);
    expect(request.remove.length).toBeLessThanOrEqual(220 + 2 + 20);
  });
});
