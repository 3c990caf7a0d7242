/**
 * What a store error means for the breaker: one pure classification, shared by the store client (whether to retry at
 * once), the executor (what the call does meanwhile) and its events.
 *
 * - `throttled`: the store answered that the item is over its throughput (DynamoDB's
 *   ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded). The store is up and the fleet is
 *   busy writing the same item, which during an outage means the downstream is failing. Nothing was written. Not an
 *   outage: the breaker keeps deciding on the state it knows and retries the write later, with backoff.
 * - `notApplied`: the store answered with a refusal that proves nothing was written (a bad request, a missing table,
 *   no permission): safe to repeat, but the store cannot serve the breaker.
 * - `unreachable`: no answer (a timeout, a refused or reset connection, a name that does not resolve, a 5xx): the
 *   request may or may not have been applied.
 * - `unknown`: anything else; treated as unreachable, and never assumed not applied.
 */
import { StateStoreError, StoreTimeoutError } from './errors';

export type StoreErrorKind = 'throttled' | 'notApplied' | 'unreachable' | 'unknown';

/** DynamoDB's (and the AWS SDK's) names for "over the item's or table's throughput". */
export const THROTTLING_ERRORS: ReadonlySet<string> = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/** Answers that prove the request was refused before anything was written (besides throttling). */
const NOT_APPLIED_ERRORS: ReadonlySet<string> = new Set([
  'LimitExceededException',
  'ValidationException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'SerializationException',
  'ItemCollectionSizeLimitExceededException',
]);

/** Node's network error codes, and the SDK's names for a request that got no answer. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const UNREACHABLE_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure']);

/** The kind of a store error; looks through StateStoreError (and other `cause` chains, at most 5 deep). */
export function classifyStoreError(error: unknown): StoreErrorKind {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof StateStoreError) {
      current = current.cause;
      continue;
    }
    if (current instanceof StoreTimeoutError) return 'unreachable';
    if (typeof current !== 'object' || current === null) return 'unknown';
    const { name, code, $metadata, cause } = current as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown }; cause?: unknown };
    if (typeof name === 'string' && THROTTLING_ERRORS.has(name)) return 'throttled';
    if (typeof name === 'string' && NOT_APPLIED_ERRORS.has(name)) return 'notApplied';
    if (typeof name === 'string' && UNREACHABLE_NAMES.has(name)) return 'unreachable';
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return 'unreachable';
    const status = $metadata?.httpStatusCode;
    if (typeof status === 'number' && status >= 500) return 'unreachable';
    // The SDK's retry layer wraps what is not an Error object (Node's "socket hang up" among them) in a plain Error
    // whose message alone names it: "AWS SDK error wrapper for TimeoutError: socket hang up".
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string') {
      const wrapped = /^AWS SDK error wrapper for (\w+)/.exec(message)?.[1];
      if (wrapped !== undefined && THROTTLING_ERRORS.has(wrapped)) return 'throttled';
      if ((wrapped !== undefined && UNREACHABLE_NAMES.has(wrapped)) || /socket hang up|ECONNRESET|ECONNREFUSED/.test(message)) return 'unreachable';
    }
    if (cause === undefined) return 'unknown';
    current = cause;
  }
  return 'unknown';
}

/** Whether an error of this kind proves the write was not applied (so even a non-idempotent ADD may be sent again). */
export function provesNotApplied(kind: StoreErrorKind): boolean {
  return kind === 'throttled' || kind === 'notApplied';
}
