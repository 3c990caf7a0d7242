/**
 * Whether the breaker in this checkout accepts a variant's options, found out at run time by constructing one.
 * Lets the bench carry variants for options that do not exist yet (they show as "not available: ..." rows) and
 * run them unchanged once they do.
 */
import { BreakerConfigError, CircuitBreaker, MemoryStateStore } from '../src/breaker';

/** A breaker configuration a scenario runs side by side with others: plain options, checked at run time. */
export interface BreakerVariant {
  id: string;
  label: string;
  options: Readonly<Record<string, unknown>>;
}

export type Availability = { available: true } | { available: false; reason: string };

/** Builds a breaker with these options on a memory store; a BreakerConfigError means "not available", with its message. */
export function availabilityOf(options: Readonly<Record<string, unknown>>): Availability {
  try {
    new CircuitBreaker({ ...(options as object), name: 'bench-option-probe', store: new MemoryStateStore() } as ConstructorParameters<typeof CircuitBreaker>[0]);
    return { available: true };
  } catch (error) {
    if (error instanceof BreakerConfigError) return { available: false, reason: error.message };
    throw error;
  }
}
