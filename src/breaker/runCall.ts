/**
 * Runs the protected function with its own AbortSignal, which fires at timeoutMs or when the caller's signal
 * aborts; either way the call settles at once, even if `fn` ignores its signal. Never rejects: says how it ended.
 */
import { CallCancelledError, CallTimeoutError } from './errors';

export type RunResult<T> =
  | { kind: 'resolved'; value: T }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timedOut'; error: CallTimeoutError }
  | { kind: 'cancelled'; error: unknown };

/** What the caller's abort rejects with: the signal's reason when it is an Error, else a CallCancelledError. */
export function cancellationError(circuit: string, signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CallCancelledError(circuit, reason);
}

export function runCall<T>(fn: (signal: AbortSignal) => Promise<T>, circuit: string, timeoutMs: number, callerSignal?: AbortSignal): Promise<RunResult<T>> {
  const controller = new AbortController();
  return new Promise<RunResult<T>>((resolve) => {
    let settled = false;
    const finish = (result: RunResult<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      resolve(result);
    };
    const timer = setTimeout(() => {
      const error = new CallTimeoutError(circuit, timeoutMs);
      controller.abort(error);
      finish({ kind: 'timedOut', error });
    }, timeoutMs);
    const onCallerAbort = () => {
      const error = cancellationError(circuit, callerSignal as AbortSignal);
      controller.abort(error);
      finish({ kind: 'cancelled', error });
    };
    if (callerSignal?.aborted) {
      onCallerAbort();
      return;
    }
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    let running: Promise<T>;
    try {
      running = Promise.resolve(fn(controller.signal));
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => finish({ kind: 'resolved', value }),
      (error: unknown) => finish({ kind: 'threw', error }),
    );
  });
}
