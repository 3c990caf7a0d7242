/**
 * `withCircuitBreaker(fn, { breaker, fallback })`: the one-line way in. It returns a function with `fn`'s own
 * parameters that runs `fn` through the breaker and, when the breaker does not permit the call, answers with the
 * fallback instead of throwing.
 */
import { CircuitOpenError } from './errors';

declare const callContextBrand: unique symbol;

/**
 * What the breaker hands the protected call. Declare it as `fn`'s last parameter to receive it; the wrapped function
 * then does not take it (its caller passes only the parameters before it).
 */
export interface CallContext {
  /**
   * Aborted when the call runs past the breaker's `timeoutMs` (the call then rejects with `CallTimeoutError`). Pass it
   * to `fetch`, the AWS SDK (`{ abortSignal }`) or anything else that can stop early.
   */
  readonly signal: AbortSignal;
  /** Only the breaker makes these: an options object of your own with a `signal` is never mistaken for one. */
  readonly [callContextBrand]: true;
}

/** Why the call was not made, from the breaker's `CircuitOpenError`. */
export interface CircuitDetails {
  /** The circuit's name (the breaker's `name`). */
  readonly circuit: string;
  /**
   * What refused the call: `OPEN`, `HALF_OPEN` (every trial permit taken), `FORCED_OPEN`, `RAMPING_UP` (closed,
   * ramping up after a close, and this call was not drawn), `STORE_UNAVAILABLE` (the state store did not answer and
   * `onStoreError` denies calls then) or `STORE_THROTTLED` (this instance's failure count was throttled and waits for
   * its retry).
   */
  readonly state: CircuitOpenError['state'];
  /** Milliseconds until the circuit may admit calls again; `null` when no end is promised (forced open). */
  readonly retryAfterMs: CircuitOpenError['retryAfterMs'];
}

/** The breaker's side of the wrapper: anything with the breaker's `name` and `execute`. */
export interface ProtectingBreaker {
  readonly name: string;
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

export interface WithCircuitBreakerOptions<Args extends unknown[], Result> {
  /** The breaker the calls go through (a `CircuitBreaker`). Required. */
  breaker: ProtectingBreaker;
  /**
   * Answers a call the circuit did not permit (open, half-open with every trial permit taken, forced open, or the
   * store unavailable under `onStoreError: 'deny'`). It receives the caller's arguments, then the circuit's details;
   * what it returns (or resolves to) is the wrapped function's result. If it throws, the wrapped function rejects
   * with that error. It is not called when `fn` itself failed: those errors propagate (and count as the breaker's
   * options say). Optional: without it a refused call rejects with `CircuitOpenError`. Its return type never widens
   * the result: `Result` is inferred from `fn` alone (`NoInfer`, TypeScript 5.4 or later).
   */
  fallback?: (...args: [...Args, CircuitDetails]) => NoInfer<Result> | PromiseLike<NoInfer<Result>>;
  /**
   * `true`: `fn` receives a {@link CallContext} (`{ signal }`) after the caller's arguments and must declare it as its
   * last parameter; the wrapped function does not take it. Explicit, so that a function with optional or rest
   * parameters never gets the context in place of an argument.
   * @default false
   */
  passContext?: boolean;
  /**
   * The caller's cancellation for one call, from its arguments: passed to `breaker.execute(fn, { signal })`, so its
   * abort aborts `fn`'s signal and rejects the call (for example a Lambda handler's remaining time:
   * `(event, context) => AbortSignal.timeout(context.getRemainingTimeInMillis() - 500)`). Return `undefined` for none.
   * @default no caller signal
   */
  signal?: (...args: Args) => AbortSignal | undefined;
}

/**
 * Wraps `fn` so every call goes through `breaker`, with `fallback` answering the calls the circuit refuses.
 *
 * - The wrapped function takes `fn`'s parameters and returns a promise of `fn`'s result or the fallback's. `this` is
 *   passed through.
 * - To get the call's AbortSignal (aborted at the breaker's `timeoutMs`), set `passContext: true` and declare `fn`'s
 *   last parameter as {@link CallContext}: `fn` then receives `{ signal }` after the caller's arguments, and the
 *   wrapped function takes only the parameters before it.
 * - Only a refusal by this breaker goes to the fallback (a `CircuitOpenError` before `fn` started). Errors from `fn`,
 *   `CallTimeoutError`, and a `CircuitOpenError` thrown by some other breaker inside `fn` propagate unchanged.
 * - Types: the fallback must take the wrapped function's parameters, then {@link CircuitDetails}, and return what
 *   `fn` resolves to (or a promise of it); anything else does not compile (a fallback returning `undefined` for a
 *   `fn` of `Promise<number>` too: the result is never widened to `number | undefined`).
 *
 * @param fn - The protected call; must return a promise.
 * @param options - `breaker` (required); `fallback`, `passContext` and `signal` (optional).
 * @returns A function with `fn`'s parameters, resolving to `fn`'s result or the fallback's.
 * @throws {TypeError} At wrap time, when `fn` or `fallback` is not a function or `breaker` has no `execute`.
 *
 * @example
 * const getPrice = withCircuitBreaker(
 *   async (sku: string, { signal }: CallContext) => (await fetch(`${base}/price/${sku}`, { signal })).json() as Promise<number>,
 *   { breaker, passContext: true, fallback: (sku, { retryAfterMs }) => lastKnownPrice(sku) },
 * );
 * const price = await getPrice('A-100'); // a number, from the service or the fallback
 */
export function withCircuitBreaker<Args extends unknown[], Result>(
  fn: (...args: [...Args, CallContext]) => Promise<Result>,
  options: WithCircuitBreakerOptions<Args, Result> & { passContext: true },
): (...args: Args) => Promise<Result>;
export function withCircuitBreaker<Args extends unknown[], Result>(
  fn: (...args: Args) => Promise<Result>,
  options: WithCircuitBreakerOptions<Args, Result> & { passContext?: false },
): (...args: Args) => Promise<Result>;
export function withCircuitBreaker<Args extends unknown[], Result>(
  fn: ((...args: [...Args, CallContext]) => Promise<Result>) | ((...args: Args) => Promise<Result>),
  options: WithCircuitBreakerOptions<Args, Result>,
): (...args: Args) => Promise<Result> {
  if (typeof fn !== 'function') throw new TypeError('withCircuitBreaker(fn, options): fn must be a function');
  const { breaker, fallback, passContext = false, signal: callerSignal } = options ?? ({} as Partial<typeof options>);
  if (typeof breaker?.execute !== 'function') throw new TypeError('withCircuitBreaker(fn, options): options.breaker must be a CircuitBreaker');
  if (fallback !== undefined && typeof fallback !== 'function') throw new TypeError('withCircuitBreaker(fn, options): options.fallback must be a function');
  if (typeof passContext !== 'boolean') throw new TypeError('withCircuitBreaker(fn, options): options.passContext must be a boolean');
  if (callerSignal !== undefined && typeof callerSignal !== 'function') throw new TypeError('withCircuitBreaker(fn, options): options.signal must be a function of the arguments');

  const call = fn as (this: unknown, ...args: unknown[]) => Promise<Result>;

  return async function (this: unknown, ...args: Args): Promise<Result> {
    let started = false;
    const run = (signal: AbortSignal): Promise<Result> => {
      started = true;
      return passContext ? call.apply(this, [...args, { signal } as CallContext]) : call.apply(this, args);
    };
    try {
      const signal = callerSignal?.(...args);
      return await (signal === undefined ? breaker.execute(run) : breaker.execute(run, { signal }));
    } catch (error) {
      // Only this breaker's refusal: a CircuitOpenError from inside fn (another breaker) is fn's own failure.
      if (started || fallback === undefined || !(error instanceof CircuitOpenError)) throw error;
      const details: CircuitDetails = { circuit: error.circuit, state: error.state, retryAfterMs: error.retryAfterMs };
      return await fallback(...args, details);
    }
  };
}
