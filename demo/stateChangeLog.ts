/**
 * The breaker's state changes, read from the service's own log: every GetUser container logs one JSON line,
 * `"message":"circuit state changed"` with `from`, `state`, `reason` and `at` (epoch ms), for each transition it
 * makes (src/observability/breakerEventLog.ts). Reading the log rather than polling the state item catches every
 * transition, also a probe that fails within milliseconds.
 */

export interface StateChange {
  circuit: string;
  from: string;
  to: string;
  reason: string;
  /** Epoch ms, from the container's clock. */
  at: number;
}

const MESSAGE = 'circuit state changed';

/** One log line as a state change, or undefined for any other line (request logs, other messages, non-JSON). */
export function parseStateChange(line: string): StateChange | undefined {
  if (!line.includes(MESSAGE)) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(line.trim());
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { message, circuit, from, state, reason, at } = entry as Record<string, unknown>;
  if (message !== MESSAGE || typeof from !== 'string' || typeof state !== 'string' || typeof at !== 'number') return undefined;
  return { circuit: typeof circuit === 'string' ? circuit : '', from, to: state, reason: typeof reason === 'string' ? reason : '', at };
}

/**
 * Feeds output as it arrives (chunks may end mid-line) and calls `onChange` for each state change of `circuit`.
 */
export function createStateChangeReader(circuit: string, onChange: (change: StateChange) => void): { write(text: string): void } {
  let partial = '';
  return {
    write: (text) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const change = parseStateChange(line);
        if (change && change.circuit === circuit) onChange(change);
      }
    },
  };
}
