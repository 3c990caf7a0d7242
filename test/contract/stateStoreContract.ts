/**
 * The contract every StateStore passes: each guard of the six operations, each race they close (real concurrency,
 * several store instances on their own connections), what a failed condition returns, malformed items, expiry.
 * Run against memory (test/contract/memory.test.ts), DynamoDB (dynamodb.test.ts: dynalite, or DynamoDB Local with
 * DYNAMODB_BACKEND=dynamodb-local) and Redis (redis.redis.test.ts, in `npm run test:redis`).
 */
import type { CircuitRecord, StateStore, WriteOutcome } from '../../src/breaker';
import type { TransitionRequest } from '../../src/breaker/store/StateStore';
import type { StoreBackend } from '../support/breaker/storeBackend';

/*
 * The clock is the real one: Redis deletes a hash whose expiry (PEXPIREAT from expiresAt) has passed, at once, and
 * DynamoDB Local acts on TTL too, so items written by these tests must expire in the future.
 */
const NOW = Date.now();
const LATER = Math.ceil(NOW / 1000) + 3_600; // an expiresAt (epoch seconds) an hour ahead
const F = `f_${NOW - (NOW % 1000)}`;
const S = `s_${NOW - (NOW % 1000)}`;

const budget = () => ({ abortSignal: AbortSignal.timeout(10_000) });

export function describeStateStoreContract(name: string, makeBackend: () => Promise<StoreBackend>): void {
  describe(`StateStore contract: ${name}`, () => {
    let backend: StoreBackend;
    let store: StateStore;
    let seq = 0;
    const circuit = () => `contract-${++seq}`;

    beforeAll(async () => {
      backend = await makeBackend();
      store = await backend.newStore();
    });
    afterAll(async () => {
      await backend?.stop();
    });

    const read = (c: string) => store.read(c, budget());
    const count = (c: string, increments: Record<string, number> = { [F]: 1 }, extra: { staleCounters?: string[]; expiresAt?: number; admittedVersion?: number | null } = {}) =>
      store.recordCount(
        c,
        {
          increments,
          staleCounters: extra.staleCounters ?? [],
          now: NOW,
          ...(extra.expiresAt !== undefined ? { expiresAt: extra.expiresAt } : {}),
          ...(extra.admittedVersion !== undefined ? { admittedVersion: extra.admittedVersion } : {}),
        },
        budget(),
      );
    const move = (c: string, request: Partial<TransitionRequest> & Pick<TransitionRequest, 'from' | 'to' | 'version'>) =>
      store.transition(c, { backoffStep: 0, remove: [], now: NOW, ...request }, budget());
    /** A circuit HALF_OPEN at version 2 whose slot 0 is held by `holder` until `until`. */
    const halfOpen = async (holder = 'holder', until = NOW + 5_000) => {
      const c = circuit();
      await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW, expiresAt: LATER });
      expect((await move(c, { from: { version: 1, state: 'OPEN' }, to: 'HALF_OPEN', version: 2, permit: { slot: 0, token: holder, expiresAt: until }, expiresAt: LATER })).applied).toBe(true);
      return c;
    };
    /** How a missing item reads: closed, no valid version, and (unlike an item without a version) no problems. */
    const missing = (c: string): CircuitRecord => ({ circuit: c, state: 'CLOSED', version: null, backoffStep: 0, trialSuccesses: 0, permits: [], counters: {}, slotAndCounterNames: [], problems: [] });
    /** A failed condition answers with the item as it is (what a read now returns), and changes nothing. */
    const expectRefused = async (outcome: WriteOutcome, c: string, before?: CircuitRecord) => {
      expect(outcome.applied).toBe(false);
      const now = await read(c);
      expect(outcome.record).toEqual(now);
      if (before) expect(now).toEqual(before);
    };

    describe('read', () => {
      test('a missing item is a closed circuit that has seen nothing', async () => {
        expect(await read(circuit())).toEqual({
          circuit: expect.any(String), state: 'CLOSED', version: null, backoffStep: 0, trialSuccesses: 0, permits: [], counters: {}, slotAndCounterNames: [], problems: [],
        });
      });

      test('a well-formed item reads back with every field', async () => {
        const c = circuit();
        await backend.putRaw(c, { state: 'HALF_OPEN', version: 7, backoffStep: 2, trialSuccesses: 1, p_1: { exp: NOW + 10, tok: 'a' }, [F]: 3, expiresAt: LATER, updatedAt: NOW });
        expect(await read(c)).toEqual({
          circuit: c, state: 'HALF_OPEN', version: 7, backoffStep: 2, trialSuccesses: 1, expiresAt: LATER, permits: [{ slot: 1, token: 'a', expiresAt: NOW + 10 }],
          counters: { [F]: 3 }, slotAndCounterNames: expect.arrayContaining(['p_1', F]), problems: [],
        });
      });

      test('consistent: false reads the same item (where the store has no weaker read)', async () => {
        const c = circuit();
        await count(c);
        const eventually = await store.read(c, { ...budget(), consistent: false });
        expect(eventually.state).toBe('CLOSED');
      });
    });

    describe('recordCount', () => {
      test('the first count creates the item closed at version 0, with the count, updatedAt and expiresAt', async () => {
        const c = circuit();
        const outcome = await count(c, { [F]: 1 }, { expiresAt: LATER });
        expect(outcome).toEqual({ applied: true, record: expect.objectContaining({ state: 'CLOSED', version: 0, counters: { [F]: 1 }, expiresAt: LATER, problems: [] }) });
        expect(await read(c)).toEqual(outcome.record);
      });

      test('every increment is added in the same write, by its amount', async () => {
        const c = circuit();
        await count(c, { [F]: 2, [S]: 5 });
        expect((await count(c, { [F]: 3, [S]: 1 })).record.counters).toEqual({ [F]: 5, [S]: 6 });
      });

      test('stale counters are removed in the same write, but never a counter being incremented', async () => {
        const c = circuit();
        await count(c, { f_1000: 1, f_2000: 1, f_3000: 1 });
        const outcome = await count(c, { f_3000: 1 }, { staleCounters: ['f_1000', 'f_2000', 'f_3000'] });
        expect(outcome.record.counters).toEqual({ f_3000: 2 });
      });

      test('without expiresAt the expiry already there is left as it is', async () => {
        const c = circuit();
        await count(c, { [F]: 1 }, { expiresAt: LATER });
        expect((await count(c)).record.expiresAt).toBe(LATER);
      });

      test.each(['OPEN', 'HALF_OPEN', 'FORCED_OPEN'] as const)('refused while %s: a late failure never counts toward the next closed period', async (state) => {
        const c = circuit();
        await backend.putRaw(c, { state, version: 4, ...(state === 'OPEN' ? { openUntil: NOW + 60_000 } : {}) });
        const before = await read(c);
        await expectRefused(await count(c), c, before);
      });

      test.each([
        ['DISABLED', { state: 'DISABLED', version: 4 }],
        ['a state that is not ours', { state: 'WEIRD', version: 4 }],
        ['an item without a state', { version: 4 }],
      ])('allowed on %s', async (_label, raw) => {
        const c = circuit();
        await backend.putRaw(c, raw);
        const outcome = await count(c);
        expect(outcome.applied).toBe(true);
        expect(outcome.record.counters).toEqual({ [F]: 1 });
      });

      test('a counter that holds no number: the write is rejected and nothing is written', async () => {
        const c = circuit();
        await backend.putRaw(c, { state: 'CLOSED', version: 1, [F]: 'many' });
        const before = await read(c);
        await expect(count(c, { [F]: 1, [S]: 1 })).rejects.toThrow();
        expect(await read(c)).toEqual(before);
      });

      describe('admittedVersion: a count applies only while the item is still in the period its calls were admitted in', () => {
        test('applies at the admitted version', async () => {
          const c = circuit();
          await backend.putRaw(c, { state: 'CLOSED', version: 3 });
          const outcome = await count(c, { [F]: 2 }, { admittedVersion: 3 });
          expect(outcome).toMatchObject({ applied: true, record: { version: 3, counters: { [F]: 2 } } });
        });

        test.each([
          ['a later version (it opened and closed again since)', { state: 'CLOSED', version: 5, [F]: 1 }, 3],
          ['an earlier version', { state: 'CLOSED', version: 2 }, 3],
          ['a DISABLED item at another version', { state: 'DISABLED', version: 4 }, 3],
          ['a missing version, for a numeric admitted version', { state: 'CLOSED' }, 3],
          ['a valid version other than 0, for null', { state: 'CLOSED', version: 2 }, null],
        ])('refused on %s, answering with the item as it is', async (_label, raw, admittedVersion) => {
          const c = circuit();
          await backend.putRaw(c, raw);
          const before = await read(c);
          await expectRefused(await count(c, { [F]: 1 }, { admittedVersion }), c, before);
        });

        test('refused on a missing item for a numeric admitted version, and nothing is created', async () => {
          const c = circuit();
          const outcome = await count(c, { [F]: 1 }, { admittedVersion: 1 });
          expect(outcome).toEqual({ applied: false, record: missing(c) });
          expect(await read(c)).toEqual(missing(c));
        });

        test.each([
          ['a missing item (created closed at version 0)', undefined],
          ['version 0 (as first created by a count)', { state: 'CLOSED', version: 0, [F]: 1 }],
          ['a version that is not a number', { state: 'CLOSED', version: 'x' }],
        ])('null applies on %s', async (_label, raw) => {
          const c = circuit();
          if (raw) await backend.putRaw(c, raw);
          const outcome = await count(c, { [F]: 1 }, { admittedVersion: null });
          expect(outcome.applied).toBe(true);
          expect(outcome.record.counters[F]).toBe(raw && F in raw ? 2 : 1);
          if (raw === undefined) expect(outcome.record).toMatchObject({ state: 'CLOSED', version: 0 });
        });

        test('still refused while OPEN at the admitted version', async () => {
          const c = circuit();
          await backend.putRaw(c, { state: 'OPEN', version: 3, openUntil: NOW + 60_000 });
          const before = await read(c);
          await expectRefused(await count(c, { [F]: 1 }, { admittedVersion: 3 }), c, before);
        });
      });

      test('race: 10 instances x 20 concurrent counts are all counted', async () => {
        const c = circuit();
        const fleet = await Promise.all(Array.from({ length: 10 }, () => backend.newStore()));
        await Promise.all(fleet.flatMap((s) => Array.from({ length: 20 }, () => s.recordCount(c, { increments: { [F]: 1 }, staleCounters: [], now: NOW }, budget()))));
        expect((await read(c)).counters).toEqual({ [F]: 200 });
      });
    });

    describe('transition', () => {
      test('OPEN: sets state, version, openUntil, backoffStep, expiresAt; resets trialSuccesses; removes what it is told', async () => {
        const c = circuit();
        await backend.putRaw(c, { state: 'CLOSED', version: 3, [F]: 4, trialSuccesses: 2, p_1: { exp: 1, tok: 'x' } });
        const outcome = await move(c, { from: { version: 3, state: 'CLOSED' }, to: 'OPEN', version: 4, openUntil: NOW + 1_000, backoffStep: 1, remove: [F, 'p_1'], expiresAt: LATER });
        expect(outcome.applied).toBe(true);
        expect(outcome.record).toEqual({
          circuit: c, state: 'OPEN', version: 4, openUntil: NOW + 1_000, backoffStep: 1, trialSuccesses: 0, expiresAt: LATER, permits: [], counters: {}, slotAndCounterNames: [], problems: [],
        });
        expect(await read(c)).toEqual(outcome.record);
      });

      describe('opening details (openedAt, openReason, openFailures, openCalls), for operators', () => {
        const opening = { openedAt: NOW, openReason: 'failureRate', openFailures: 7, openCalls: 12 };

        test('an OPEN transition with them sets all four; the record and a read return them', async () => {
          const c = circuit();
          await count(c);
          const outcome = await move(c, { from: { version: 0, state: 'CLOSED' }, to: 'OPEN', version: 1, openUntil: NOW + 1_000, remove: [F], opening });
          expect(outcome).toMatchObject({ applied: true, record: { state: 'OPEN', opening } });
          expect((await read(c)).opening).toEqual(opening);
        });

        test('without openCalls an opening removes the openCalls of an earlier one', async () => {
          const c = circuit();
          await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW, opening });
          await move(c, { from: { version: 1 }, to: 'HALF_OPEN', version: 2 });
          const reopened = { openedAt: NOW + 5, openReason: 'trialFailed', openFailures: 0 };
          const outcome = await move(c, { from: { version: 2 }, to: 'OPEN', version: 3, openUntil: NOW + 10, backoffStep: 1, opening: reopened });
          expect(outcome.record.opening).toEqual(reopened);
          expect((await read(c)).opening).toEqual(reopened);
        });

        test.each(['HALF_OPEN', 'FORCED_OPEN', 'DISABLED'] as const)('a transition to %s without them leaves them as they are', async (to) => {
          const c = circuit();
          await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW, opening });
          const outcome = await move(c, { from: { version: 1 }, to, version: 2 });
          expect(outcome.record).toMatchObject({ state: to, opening });
        });

        test('a transition to CLOSED removes them', async () => {
          const c = circuit();
          await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW, opening });
          const outcome = await move(c, { from: { version: 1 }, to: 'CLOSED', version: 2 });
          expect(outcome.record.opening).toBeUndefined();
          expect((await read(c)).opening).toBeUndefined();
        });

        test('a refused transition writes none of them', async () => {
          const c = circuit();
          await backend.putRaw(c, { state: 'CLOSED', version: 3 });
          const before = await read(c);
          await expectRefused(await move(c, { from: { version: 2, state: 'CLOSED' }, to: 'OPEN', version: 4, openUntil: NOW, opening }), c, before);
        });
      });

      test('a close with closedAt records it (the fleet ramps up from it); a transition without it leaves it', async () => {
        const c = circuit();
        await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW });
        const closed = await move(c, { from: { version: 1 }, to: 'CLOSED', version: 2, closedAt: NOW + 5 });
        expect(closed.record.closedAt).toBe(NOW + 5);
        const opened = await move(c, { from: { version: 2 }, to: 'OPEN', version: 3, openUntil: NOW + 10 });
        expect(opened.record.closedAt).toBe(NOW + 5);
        expect((await read(c)).closedAt).toBe(NOW + 5);
      });

      test('leaving OPEN removes openUntil; no expiresAt removes the expiry (overrides last until reset)', async () => {
        const c = circuit();
        await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW + 1_000, expiresAt: LATER });
        const outcome = await move(c, { from: { version: 1, state: 'OPEN' }, to: 'FORCED_OPEN', version: 2 });
        expect(outcome.record).toMatchObject({ state: 'FORCED_OPEN', version: 2 });
        expect(outcome.record.openUntil).toBeUndefined();
        expect(outcome.record.expiresAt).toBeUndefined();
        if (backend.serverExpiry) expect(await backend.serverExpiry(c)).toBeNull();
      });

      test('the probe takes slot 0 in the same write, even when told to remove it', async () => {
        const c = circuit();
        await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW });
        const outcome = await move(c, { from: { version: 1, state: 'OPEN' }, to: 'HALF_OPEN', version: 2, remove: ['p_0'], permit: { slot: 0, token: 't', expiresAt: NOW + 5 } });
        expect(outcome.record).toMatchObject({ state: 'HALF_OPEN', version: 2, permits: [{ slot: 0, token: 't', expiresAt: NOW + 5 }] });
      });

      test.each([
        ['a stale version', { version: 2, state: 'CLOSED' as const }],
        ['the right version in another state', { version: 3, state: 'OPEN' as const }],
        ['a "no valid version" guard on a valid item', { version: null }],
      ])('refused on %s, answering with the item as it is', async (_label, from) => {
        const c = circuit();
        await backend.putRaw(c, { state: 'CLOSED', version: 3, [F]: 2 });
        const before = await read(c);
        await expectRefused(await move(c, { from, to: 'OPEN', version: 9, openUntil: NOW }), c, before);
      });

      test('a "no valid version" guard matches a missing item and a malformed version (a repair), once', async () => {
        const missing = circuit();
        expect((await move(missing, { from: { version: null }, to: 'CLOSED', version: 1 })).applied).toBe(true);
        expect((await move(missing, { from: { version: null }, to: 'CLOSED', version: 1 })).applied).toBe(false);
        const malformed = circuit();
        await backend.putRaw(malformed, { state: 'OPEN', version: 'x', openUntil: NOW });
        const repaired = await move(malformed, { from: { version: null }, to: 'CLOSED', version: 1 });
        expect(repaired).toMatchObject({ applied: true, record: { state: 'CLOSED', version: 1, problems: [] } });
      });

      test('a failed trial reopens only while it still holds its permit', async () => {
        const c = await halfOpen('trial');
        const reopenBy = (token: string) => move(c, { from: { version: 2, state: 'HALF_OPEN' }, to: 'OPEN', version: 3, openUntil: NOW + 1, backoffStep: 1, remove: ['p_0'], heldPermit: { slot: 0, token } });
        const before = await read(c);
        await expectRefused(await reopenBy('someone-else'), c, before);
        expect((await reopenBy('trial')).record).toMatchObject({ state: 'OPEN', version: 3, permits: [] });
      });

      test('race: 20 instances make the same transition at once; exactly one applies and every loser learns its result', async () => {
        const c = circuit();
        await count(c);
        const fleet = await Promise.all(Array.from({ length: 20 }, () => backend.newStore()));
        const outcomes = await Promise.all(
          fleet.map((s, i) => s.transition(c, { from: { version: 0, state: 'CLOSED' }, to: 'OPEN', version: 1, openUntil: NOW + i, backoffStep: 0, remove: [F], now: NOW }, budget())),
        );
        expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
        const final = await read(c);
        for (const outcome of outcomes) expect(outcome.record).toEqual(final);
      });
    });

    describe('acquirePermit', () => {
      const acquire = (c: string, version: number, token: string, slot = 0, now = NOW) => store.acquirePermit(c, { version, permit: { slot, token, expiresAt: now + 5_000 }, now }, budget());

      test('takes a free slot in the half-open period it saw', async () => {
        const c = await halfOpen();
        expect((await acquire(c, 2, 'second', 1)).record.permits.map((p) => p.token)).toEqual(['holder', 'second']);
      });

      test('takes a slot whose lease expired (exp < now), not one whose lease ends now', async () => {
        const c = await halfOpen('frozen', NOW);
        await expectRefused(await acquire(c, 2, 'early', 0, NOW), c);
        expect((await acquire(c, 2, 'late', 0, NOW + 1)).record.permits).toEqual([{ slot: 0, token: 'late', expiresAt: NOW + 1 + 5_000 }]);
      });

      test.each([
        ['a live lease', async (c: string) => c, 2],
        ['another version (a later half-open period)', async (c: string) => c, 1],
        ['a state other than HALF_OPEN', async (c: string) => (await move(c, { from: { version: 2 }, to: 'OPEN', version: 3, openUntil: NOW }), c), 3],
      ])('refused on %s', async (_label, arrange, version) => {
        const c = await arrange(await halfOpen());
        const before = await read(c);
        await expectRefused(await acquire(c, version, 'late'), c, before);
      });

      test('refused on a slot that holds no lease (malformed)', async () => {
        const c = circuit();
        await backend.putRaw(c, { state: 'HALF_OPEN', version: 2, p_0: 'junk' });
        await expectRefused(await acquire(c, 2, 'late'), c);
      });

      test('race: 10 instances reach for one slot at once; exactly one takes it', async () => {
        const c = await halfOpen('gone', NOW - 10);
        const fleet = await Promise.all(Array.from({ length: 10 }, () => backend.newStore()));
        const outcomes = await Promise.all(fleet.map((s, i) => s.acquirePermit(c, { version: 2, permit: { slot: 0, token: `t${i}`, expiresAt: NOW + 5_000 }, now: NOW }, budget())));
        expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
        const final = await read(c);
        for (const outcome of outcomes) expect(outcome.record).toEqual(final);
      });
    });

    describe('releasePermit', () => {
      test('frees the slot only for its token holder', async () => {
        const c = await halfOpen('mine');
        await expectRefused(await store.releasePermit(c, { version: 2, slot: 0, token: 'not-mine' }, budget()), c);
        expect((await store.releasePermit(c, { version: 2, slot: 0, token: 'mine' }, budget())).record.permits).toEqual([]);
      });

      test('on a missing item: refused, and nothing is created', async () => {
        const outcome = await store.releasePermit(circuit(), { version: 1, slot: 0, token: 'gone' }, budget());
        expect(outcome).toMatchObject({ applied: false, record: { version: null, problems: [], slotAndCounterNames: [] } });
      });
    });

    describe('recordTrialSuccess', () => {
      test('counts one success and frees the slot', async () => {
        const c = await halfOpen('trial');
        expect((await store.recordTrialSuccess(c, { version: 2, slot: 0, token: 'trial' }, budget())).record).toMatchObject({ state: 'HALF_OPEN', trialSuccesses: 1, permits: [] });
      });

      test.each([
        ['another version', { version: 1, slot: 0, token: 'trial' }],
        ['another token (the lease was re-let)', { version: 2, slot: 0, token: 'other' }],
        ['an empty slot', { version: 2, slot: 1, token: 'trial' }],
      ])('refused for %s', async (_label, permit) => {
        const c = await halfOpen('trial');
        const before = await read(c);
        await expectRefused(await store.recordTrialSuccess(c, permit, budget()), c, before);
      });

      test('refused once the circuit reopened, even for the right token', async () => {
        const c = await halfOpen('trial');
        await backend.putRaw(c, { state: 'OPEN', version: 2, openUntil: NOW + 1, p_0: { exp: NOW + 5_000, tok: 'trial' } });
        await expectRefused(await store.recordTrialSuccess(c, { version: 2, slot: 0, token: 'trial' }, budget()), c);
      });

      test('race: concurrent successes of different trials all count', async () => {
        const c = await halfOpen('t0');
        const fleet = await Promise.all(Array.from({ length: 4 }, () => backend.newStore()));
        for (let slot = 1; slot < 4; slot++) expect((await fleet[slot].acquirePermit(c, { version: 2, permit: { slot, token: `t${slot}`, expiresAt: NOW + 5_000 }, now: NOW }, budget())).applied).toBe(true);
        await Promise.all(fleet.map((s, slot) => s.recordTrialSuccess(c, { version: 2, slot, token: `t${slot}` }, budget())));
        expect(await read(c)).toMatchObject({ trialSuccesses: 4, permits: [] });
      });
    });

    describe('malformed items are treated as closed, with the same problems on every store', () => {
      test.each([
        ['an unknown state', { state: 'WEIRD', version: 1 }, ['state "WEIRD" is not a circuit state']],
        ['no state', { version: 1 }, ['state is missing']],
        ['a version that is not a number', { state: 'OPEN', version: 'x', openUntil: NOW }, ['version is not a non-negative integer']],
        ['a negative version', { state: 'CLOSED', version: -1 }, ['version is not a non-negative integer']],
        ['a fractional version', { state: 'CLOSED', version: 1.5 }, ['version is not a non-negative integer']],
        ['OPEN without openUntil', { state: 'OPEN', version: 2 }, ['state OPEN without openUntil']],
        ['openUntil that is not a number', { state: 'OPEN', version: 2, openUntil: 'soon' }, ['openUntil is not a number', 'state OPEN without openUntil']],
        ['a backoffStep that is not a count', { state: 'OPEN', version: 2, openUntil: NOW, backoffStep: 'x' }, ['backoffStep is not a non-negative integer']],
        ['a permit that is not a lease', { state: 'HALF_OPEN', version: 2, p_0: 'junk' }, ['p_0 is not a permit lease']],
        ['a lease without a token', { state: 'HALF_OPEN', version: 2, p_0: { exp: NOW } }, ['p_0 is not a permit lease']],
        ['a counter that is not a count', { state: 'CLOSED', version: 2, [F]: 'x' }, [`${F} is not a count`]],
        ['a number too large to be exact', { state: 'CLOSED', version: 2, [F]: 2n ** 60n }, [`${F} is not a count`]],
      ])('%s', async (_label, raw, problems) => {
        const c = circuit();
        await backend.putRaw(c, raw);
        const record = await read(c);
        expect(record).toMatchObject({ state: 'CLOSED', problems, permits: [], backoffStep: 0, trialSuccesses: 0 });
        expect(record.openUntil).toBeUndefined();
      });
    });

    describe('expiry', () => {
      test('a count sets the expiry it is given; the backend deletes the item then (where it enforces expiry)', async () => {
        const c = circuit();
        await count(c, { [F]: 1 }, { expiresAt: LATER });
        expect((await read(c)).expiresAt).toBe(LATER);
        if (backend.serverExpiry) expect(await backend.serverExpiry(c)).toBe(LATER * 1000);
      });

      test('a transition moves the expiry; a later count without one keeps it', async () => {
        const c = circuit();
        await move(c, { from: { version: null }, to: 'OPEN', version: 1, openUntil: NOW, expiresAt: LATER + 60 });
        await move(c, { from: { version: 1 }, to: 'DISABLED', version: 2, expiresAt: LATER + 120 });
        await count(c);
        expect((await read(c)).expiresAt).toBe(LATER + 120);
        if (backend.serverExpiry) expect(await backend.serverExpiry(c)).toBe((LATER + 120) * 1000);
      });
    });
  });
}
