/**
 * The circuit breaker's public entry point: the service and the installable package both import only this file.
 */
export { CircuitBreaker } from './CircuitBreaker';
export { withCircuitBreaker } from './withCircuitBreaker';
export type { CallContext, CircuitDetails, ProtectingBreaker, WithCircuitBreakerOptions } from './withCircuitBreaker';
export { DynamoDBStateStore } from './store/DynamoDBStateStore';
export type { DynamoDBStateStoreOptions } from './store/DynamoDBStateStore';
export { MemoryStateStore } from './store/MemoryStateStore';
export { CircuitOpenError, CallTimeoutError, BreakerConfigError, StateStoreError, StoreTimeoutError } from './errors';
export { FailureCountPolicy } from './FailureCountPolicy';
export { DEFAULTS as BREAKER_DEFAULTS } from './options';
export type { CircuitBreakerOptions } from './options';
export type { CircuitSnapshot } from './transitions';
export type { BreakerEvent, BreakerEventListener, CircuitStateName } from './events';
export type { StateStore, StoreRequestOptions, WriteOutcome } from './store/StateStore';
// What a third-party StateStore implements against (see docs/writing-a-store.md).
export type { AcquirePermitRequest, PermitRef, RecordCountRequest, TransitionRequest, VersionGuard } from './store/StateStore';
export type { PermitLease } from './state';
// A store keeps the item as flat attributes and turns what it holds into a CircuitRecord with parseItem.
export { ATTR as ITEM_ATTRIBUTES, parseItem, permitAttribute, UNREADABLE } from './state';
export type { OpeningPolicy, CountedOutcome } from './OpeningPolicy';
export type { CircuitRecord } from './state';
