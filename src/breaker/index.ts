/**
 * The circuit breaker's public entry point: the service and the installable package both import only this file.
 */
export { CircuitBreaker } from './CircuitBreaker';
export { withCircuitBreaker } from './withCircuitBreaker';
export type { CallContext, CircuitDetails, ProtectingBreaker, WithCircuitBreakerOptions } from './withCircuitBreaker';
export type { ExecuteOptions } from './CircuitBreaker';
export { DynamoDBStateStore } from './store/DynamoDBStateStore';
export type { DynamoDBStateStoreOptions } from './store/DynamoDBStateStore';
export { MemoryStateStore } from './store/MemoryStateStore';
export { RedisStateStore } from './store/RedisStateStore';
export type { RedisStateStoreOptions, RedisCommandClient } from './store/RedisStateStore';
export {
  BreakerError,
  CircuitOpenError,
  CallTimeoutError,
  CallCancelledError,
  BreakerConfigError,
  StateStoreError,
  StoreTimeoutError,
  OverrideContentionError,
  StoreItemTooLargeError,
} from './errors';
export { FailureCountPolicy } from './FailureCountPolicy';
export { FailureRatePolicy } from './FailureRatePolicy';
export type { FailureRatePolicyOptions } from './FailureRatePolicy';
export { OutcomeAccumulator } from './OutcomeAccumulator';
export type { OutcomeAccumulatorOptions, PendingFlush, FlushResult, AccumulatorStats } from './OutcomeAccumulator';
export { rampUpAdmission, rampUpFraction } from './rampUp';
export type { RampUpSettings, RampUpDecision } from './rampUp';
export { verdictOf, isWindowedOpeningPolicy } from './WindowedOpeningPolicy';
export type { WindowedOpeningPolicy, WindowTotals, OpeningVerdict } from './WindowedOpeningPolicy';
export { DEFAULTS as BREAKER_DEFAULTS } from './options';
export type { CircuitBreakerOptions } from './options';
export type { CallOutcome, CallDetails } from './outcome';
export type { CircuitSnapshot } from './snapshot';
export type { BreakerEvent, BreakerEventListener, BreakerMode, CircuitStateName, RejectionState } from './events';
export type { StoreErrorKind } from './storeErrors';
export { MAX_REMOVALS_PER_WRITE } from './store/StateStore';
export type {
  StateStore,
  StoreRequestOptions,
  ReadOptions,
  WriteOutcome,
  RecordCountRequest,
  TransitionRequest,
  AcquirePermitRequest,
  PermitRef,
  VersionGuard,
  OpeningDetails,
  OpenReason,
} from './store/StateStore';
// A store keeps the item as flat attributes and turns what it holds into a CircuitRecord with parseItem.
export { ATTR as ITEM_ATTRIBUTES, parseItem, permitAttribute, UNREADABLE } from './state';
export type { OpeningPolicy, CountedOutcome } from './OpeningPolicy';
export type { CircuitRecord, PermitLease } from './state';
