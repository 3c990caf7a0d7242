/**
 * The shared state in process memory, for unit tests and single-process use. Each operation checks its condition and
 * applies its update in one synchronous step (no await in between), so it is exact under any number of concurrent
 * async callers, with the same conditions as DynamoDBStateStore (see there for the race each one closes).
 */
import { ATTR, parseItem, permitAttribute, type CircuitRecord } from '../state';
import type {
  AcquirePermitRequest,
  PermitRef,
  ReadOptions,
  RecordCountRequest,
  StateStore,
  StoreRequestOptions,
  TransitionRequest,
  VersionGuard,
  WriteOutcome,
} from './StateStore';

type RawItem = Record<string, unknown>;

const NOT_COUNTING = ['OPEN', 'HALF_OPEN', 'FORCED_OPEN'];

export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, RawItem>();

  /** Replace an item wholesale (tests use it to plant missing, partial or malformed items). */
  putRawItem(circuit: string, item: RawItem | undefined): void {
    if (item === undefined) this.items.delete(circuit);
    else this.items.set(circuit, structuredClone({ ...item, [ATTR.id]: circuit }));
  }

  /** A copy of the raw item, for assertions. */
  rawItem(circuit: string): RawItem | undefined {
    const item = this.items.get(circuit);
    return item === undefined ? undefined : structuredClone(item);
  }

  async read(circuit: string, _options?: ReadOptions): Promise<CircuitRecord> {
    await Promise.resolve();
    return this.snapshot(circuit);
  }

  async recordCount(circuit: string, request: RecordCountRequest, _options?: StoreRequestOptions): Promise<WriteOutcome> {
    await Promise.resolve();
    return this.update(
      circuit,
      (item) => (item === undefined || !NOT_COUNTING.includes(item[ATTR.state] as string)) && inAdmittedPeriod(item, request.admittedVersion),
      (item) => {
        item[ATTR.state] ??= 'CLOSED';
        item[ATTR.version] ??= 0;
        item[ATTR.updatedAt] = request.now;
        if (request.expiresAt !== undefined) item[ATTR.expiresAt] = request.expiresAt;
        for (const [counter, amount] of Object.entries(request.increments)) item[counter] = addNumber(item[counter], amount, counter);
        for (const name of request.staleCounters) if (!(name in request.increments)) delete item[name];
      },
    );
  }

  async transition(circuit: string, request: TransitionRequest, _options?: StoreRequestOptions): Promise<WriteOutcome> {
    await Promise.resolve();
    return this.update(
      circuit,
      (item) =>
        matchesGuard(item, request.from) &&
        (request.heldPermit === undefined || holdsToken(item, permitAttribute(request.heldPermit.slot), request.heldPermit.token)),
      (item) => {
        item[ATTR.state] = request.to;
        item[ATTR.version] = request.version;
        item[ATTR.backoffStep] = request.backoffStep;
        item[ATTR.trialSuccesses] = 0;
        item[ATTR.updatedAt] = request.now;
        if (request.openUntil !== undefined) item[ATTR.openUntil] = request.openUntil;
        else delete item[ATTR.openUntil];
        if (request.expiresAt !== undefined) item[ATTR.expiresAt] = request.expiresAt;
        else delete item[ATTR.expiresAt];
        for (const name of request.remove) delete item[name];
        if (request.opening) {
          item[ATTR.openedAt] = request.opening.openedAt;
          item[ATTR.openReason] = request.opening.openReason;
          item[ATTR.openFailures] = request.opening.openFailures;
          if (request.opening.openCalls !== undefined) item[ATTR.openCalls] = request.opening.openCalls;
          else delete item[ATTR.openCalls];
        } else if (request.to === 'CLOSED') {
          for (const name of [ATTR.openedAt, ATTR.openReason, ATTR.openFailures, ATTR.openCalls]) delete item[name];
        }
        if (request.closedAt !== undefined) item[ATTR.closedAt] = request.closedAt;
        if (request.permit) item[permitAttribute(request.permit.slot)] = leaseValue(request.permit.expiresAt, request.permit.token);
      },
    );
  }

  async acquirePermit(circuit: string, request: AcquirePermitRequest, _options?: StoreRequestOptions): Promise<WriteOutcome> {
    await Promise.resolve();
    const slot = permitAttribute(request.permit.slot);
    return this.update(
      circuit,
      (item) => {
        if (item?.[ATTR.state] !== 'HALF_OPEN' || item[ATTR.version] !== request.version) return false;
        const held = item[slot] as Record<string, unknown> | undefined;
        return held === undefined || (typeof held[ATTR.permitExpiry] === 'number' && (held[ATTR.permitExpiry] as number) < request.now);
      },
      (item) => {
        item[slot] = leaseValue(request.permit.expiresAt, request.permit.token);
      },
    );
  }

  async releasePermit(circuit: string, permit: PermitRef, _options?: StoreRequestOptions): Promise<WriteOutcome> {
    await Promise.resolve();
    const slot = permitAttribute(permit.slot);
    return this.update(
      circuit,
      (item) => holdsToken(item, slot, permit.token),
      (item) => {
        delete item[slot];
      },
    );
  }

  async recordTrialSuccess(circuit: string, permit: PermitRef, _options?: StoreRequestOptions): Promise<WriteOutcome> {
    await Promise.resolve();
    const slot = permitAttribute(permit.slot);
    return this.update(
      circuit,
      (item) => item?.[ATTR.state] === 'HALF_OPEN' && item[ATTR.version] === permit.version && holdsToken(item, slot, permit.token),
      (item) => {
        item[ATTR.trialSuccesses] = addNumber(item[ATTR.trialSuccesses], 1, ATTR.trialSuccesses);
        delete item[slot];
      },
    );
  }

  private update(circuit: string, condition: (item: RawItem | undefined) => boolean, apply: (item: RawItem) => void): WriteOutcome {
    const current = this.items.get(circuit);
    if (!condition(current)) return { applied: false, record: this.snapshot(circuit) };
    const next = structuredClone(current ?? { [ATTR.id]: circuit });
    apply(next); // throws (like DynamoDB's ValidationException) before anything is stored
    this.items.set(circuit, next);
    return { applied: true, record: this.snapshot(circuit) };
  }

  private snapshot(circuit: string): CircuitRecord {
    const item = this.items.get(circuit);
    return parseItem(circuit, item === undefined ? undefined : structuredClone(item));
  }
}

function matchesGuard(item: RawItem | undefined, guard: VersionGuard): boolean {
  const version = item?.[ATTR.version];
  if (guard.version === null) return typeof version !== 'number';
  return version === guard.version && (guard.state === undefined || item?.[ATTR.state] === guard.state);
}

function inAdmittedPeriod(item: RawItem | undefined, admittedVersion: number | null | undefined): boolean {
  if (admittedVersion === undefined) return true;
  const version = item?.[ATTR.version];
  if (admittedVersion === null) return typeof version !== 'number' || version === 0;
  return version === admittedVersion;
}

function holdsToken(item: RawItem | undefined, slot: string, token: string): boolean {
  const held = item?.[slot] as Record<string, unknown> | undefined;
  return typeof held === 'object' && held !== null && held[ATTR.permitToken] === token;
}

function leaseValue(expiresAt: number, token: string): Record<string, unknown> {
  return { [ATTR.permitExpiry]: expiresAt, [ATTR.permitToken]: token };
}

/** ADD semantics: a missing attribute counts as 0; a non-number is a validation error, as in DynamoDB. */
function addNumber(current: unknown, amount: number, name: string): number {
  if (current === undefined) return amount;
  if (typeof current !== 'number') throw new Error(`ADD on ${name}: the attribute is not a number`);
  return current + amount;
}
