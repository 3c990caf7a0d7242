/**
 * The shared state item and how a raw item (from DynamoDB or memory) becomes a `CircuitRecord`.
 *
 * Item attributes (all top level, so every counter and permit can be changed by its own atomic update):
 *   id              S  the circuit name (hash key)
 *   state           S  CLOSED | OPEN | HALF_OPEN | FORCED_OPEN | DISABLED
 *   version         N  bumped by every transition; every transition is conditional on the version it leaves
 *   openUntil       N  epoch ms the open period ends (OPEN only)
 *   backoffStep     N  reopens straight from half-open since the last close (sizes the next open period)
 *   trialSuccesses  N  successful trials in the current half-open period
 *   p_<slot>        M  a half-open trial permit lease { exp: N epoch ms, tok: S holder token }, slot 0..halfOpenMaxCalls-1
 *   f_<bucketStart> N  failures in one bucket of the rolling window (see FailureCountPolicy, FailureRatePolicy)
 *   s_<bucketStart> N  successes in one bucket (FailureRatePolicy only: flushed by each instance, see CountRecorder)
 *   closedAt        N  epoch ms of the last close (HALF_OPEN -> CLOSED or reset); the fleet's ramp-up runs from it
 *   openedAt        N  epoch ms the circuit last opened (OPEN, HALF_OPEN, FORCED_OPEN after an opening; for operators)
 *   openReason      S  why it opened: failureThreshold | failureRate | trialFailed
 *   openFailures    N  failures in the window that opened it
 *   openCalls       N  calls in that window (rate policy only)
 *   updatedAt       N  epoch ms of the last write (informational)
 *   expiresAt       N  epoch SECONDS after which the table's TTL may delete the item (see itemTtlMs); absent on
 *                     FORCED_OPEN and DISABLED items, which last until an operator resets them
 *
 * A missing item is a closed circuit that has seen nothing. An item that is partial or malformed is treated as
 * closed too (never a crash); `problems` says what was wrong and the breaker's next write repairs it.
 */
import type { CircuitStateName } from './events';
import { COUNTER_NAME } from './OpeningPolicy';

const STATE_NAMES: readonly CircuitStateName[] = ['CLOSED', 'OPEN', 'HALF_OPEN', 'FORCED_OPEN', 'DISABLED'];

export const ATTR = {
  id: 'id',
  state: 'state',
  version: 'version',
  openUntil: 'openUntil',
  backoffStep: 'backoffStep',
  trialSuccesses: 'trialSuccesses',
  updatedAt: 'updatedAt',
  expiresAt: 'expiresAt',
  openedAt: 'openedAt',
  openReason: 'openReason',
  openFailures: 'openFailures',
  openCalls: 'openCalls',
  closedAt: 'closedAt',
  permitExpiry: 'exp',
  permitToken: 'tok',
} as const;

export const PERMIT_NAME = /^p_(\d+)$/;
export const permitAttribute = (slot: number): string => `p_${slot}`;

/** A value a store could not decode (e.g. a number too large to be exact); always a problem. */
export const UNREADABLE = Symbol('unreadable attribute');

export interface PermitLease {
  slot: number;
  token: string;
  /** Epoch ms after which another trial may take the slot. */
  expiresAt: number;
}

export interface CircuitRecord {
  circuit: string;
  state: CircuitStateName;
  /** null when the item has no valid version (missing item, or malformed): guards then match exactly that. */
  version: number | null;
  /**
   * A numeric version that is not a valid one (1.5, -3, 1e300): what a repair's guard must match exactly, since
   * "no valid version" cannot be said in a DynamoDB condition about a number.
   */
  invalidNumericVersion?: number;
  openUntil?: number;
  /** The TTL attribute, epoch seconds, when present and a number (DynamoDB's TTL ignores anything else). */
  expiresAt?: number;
  backoffStep: number;
  trialSuccesses: number;
  permits: PermitLease[];
  counters: Record<string, number>;
  /** Every p_* / f_* / s_* attribute present, valid or not: what a clearing write removes. */
  slotAndCounterNames: string[];
  /** When the circuit last closed (epoch ms; informational and for ramp-up: a bad value is left out, never a problem). */
  closedAt?: number;
  /** What the last opening recorded (informational: a bad value is left out, never a problem). */
  opening?: { openedAt?: number; openReason?: string; openFailures?: number; openCalls?: number };
  /** Why the item was treated as closed; empty for a well-formed item. */
  problems: string[];
}

export function emptyRecord(circuit: string): CircuitRecord {
  return { circuit, state: 'CLOSED', version: null, backoffStep: 0, trialSuccesses: 0, permits: [], counters: {}, slotAndCounterNames: [], problems: [] };
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isEpoch = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Turn a raw item (attribute name -> native value, or UNREADABLE) into a record. Never throws. */
export function parseItem(circuit: string, raw: Readonly<Record<string, unknown>> | undefined): CircuitRecord {
  const record = emptyRecord(circuit);
  if (raw === undefined) return record;
  const problems: string[] = [];

  const version = raw[ATTR.version];
  if (isCount(version)) record.version = version;
  else {
    problems.push(version === undefined ? 'version is missing' : 'version is not a non-negative integer');
    if (typeof version === 'number' && Number.isFinite(version)) record.invalidNumericVersion = version;
  }

  const state = raw[ATTR.state];
  let parsedState: CircuitStateName = 'CLOSED';
  if (typeof state === 'string' && (STATE_NAMES as readonly string[]).includes(state)) parsedState = state as CircuitStateName;
  else problems.push(state === undefined ? 'state is missing' : `state ${describe(state)} is not a circuit state`);

  const openUntil = raw[ATTR.openUntil];
  if (openUntil !== undefined) {
    if (isEpoch(openUntil)) record.openUntil = openUntil;
    else problems.push('openUntil is not a number');
  }
  if (parsedState === 'OPEN' && record.openUntil === undefined) problems.push('state OPEN without openUntil');

  const expiresAt = raw[ATTR.expiresAt];
  if (isEpoch(expiresAt)) record.expiresAt = expiresAt;

  if (isEpoch(raw[ATTR.closedAt])) record.closedAt = raw[ATTR.closedAt] as number;

  const opening: NonNullable<CircuitRecord['opening']> = {};
  if (isEpoch(raw[ATTR.openedAt])) opening.openedAt = raw[ATTR.openedAt] as number;
  if (typeof raw[ATTR.openReason] === 'string') opening.openReason = (raw[ATTR.openReason] as string).slice(0, 64);
  if (isCount(raw[ATTR.openFailures])) opening.openFailures = raw[ATTR.openFailures] as number;
  if (isCount(raw[ATTR.openCalls])) opening.openCalls = raw[ATTR.openCalls] as number;
  if (Object.keys(opening).length > 0) record.opening = opening;

  for (const name of [ATTR.backoffStep, ATTR.trialSuccesses] as const) {
    const value = raw[name];
    if (value === undefined) continue;
    if (isCount(value)) record[name] = value;
    else problems.push(`${name} is not a non-negative integer`);
  }

  for (const [name, value] of Object.entries(raw)) {
    const permitMatch = PERMIT_NAME.exec(name);
    if (permitMatch) {
      record.slotAndCounterNames.push(name);
      const lease = parsePermit(Number(permitMatch[1]), value);
      if (lease) record.permits.push(lease);
      else problems.push(`${name} is not a permit lease`);
    } else if (COUNTER_NAME.test(name)) {
      record.slotAndCounterNames.push(name);
      if (isCount(value)) record.counters[name] = value;
      else problems.push(`${name} is not a count`);
    }
  }
  record.permits.sort((a, b) => a.slot - b.slot);

  record.state = parsedState;
  return problems.length > 0 ? treatedAsClosed(record, problems) : record;
}

/**
 * The record with `problems` added and treated as closed: nothing half-open or open survives, so no stale permit or
 * open period can wedge the circuit. The breaker's next write repairs the item.
 */
export function treatedAsClosed(record: CircuitRecord, problems: string[]): CircuitRecord {
  return {
    ...record,
    state: 'CLOSED',
    openUntil: undefined,
    permits: [],
    trialSuccesses: 0,
    backoffStep: 0,
    problems: [...record.problems, ...problems],
  };
}

function parsePermit(slot: number, value: unknown): PermitLease | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const lease = value as Record<string, unknown>;
  const expiresAt = lease[ATTR.permitExpiry];
  const token = lease[ATTR.permitToken];
  if (!isEpoch(expiresAt) || typeof token !== 'string') return undefined;
  return { slot, token, expiresAt };
}

function describe(value: unknown): string {
  if (value === UNREADABLE) return '(unreadable)';
  return JSON.stringify(value)?.slice(0, 40) ?? String(value);
}

/** Permits whose lease has not expired at `now`. */
export function livePermits(record: CircuitRecord, now: number): PermitLease[] {
  return record.permits.filter((permit) => permit.expiresAt >= now);
}
