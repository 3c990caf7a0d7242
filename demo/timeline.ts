/**
 * What the demo saw, over time: answers per time bucket by kind, the breaker state as it was polled, and the
 * scripted phases. Times are ms since the demo's traffic started.
 */
export const ANSWER_KINDS = ['fresh', 'cached', 'rejected', 'error'] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

export type AnswerCounts = Record<AnswerKind, number>;

export interface StateBand {
  state: string;
  from: number;
  to: number;
}

export interface Transition {
  at: number;
  from: string;
  to: string;
  /** Why, as the breaker said it (failureThreshold, trialFailed, trialSucceeded, ...); '' when unknown. */
  reason: string;
}

export interface Timeline {
  durationMs: number;
  bucketMs: number;
  /** buckets[i] counts answers received in [i * bucketMs, (i + 1) * bucketMs). */
  buckets: AnswerCounts[];
  /** Consecutive, covering the time from the first state reading to the end. */
  bands: StateBand[];
  transitions: Transition[];
  phases: Array<{ name: string; from: number; to: number }>;
}

export const emptyCounts = (): AnswerCounts => ({ fresh: 0, cached: 0, rejected: 0, error: 0 });

export class TimelineRecorder {
  private readonly buckets: AnswerCounts[] = [];
  private readonly states: Array<{ at: number; state: string; reason: string }> = [];
  private readonly phaseStarts: Array<{ at: number; name: string }> = [];

  constructor(readonly bucketMs: number) {
    if (!(bucketMs > 0)) throw new Error(`bucketMs must be > 0, got ${bucketMs}`);
  }

  answer(kind: AnswerKind, at: number): void {
    const index = Math.max(0, Math.floor(at / this.bucketMs));
    while (this.buckets.length <= index) this.buckets.push(emptyCounts());
    this.buckets[index][kind] += 1;
  }

  /**
   * The state from `at` on (and why it changed, if known). Readings may arrive slightly out of time order (two
   * containers' log lines can interleave): they are kept in time order, and a reading equal to the state before
   * it is not a change.
   */
  state(state: string, at: number, reason = ''): void {
    let index = this.states.length;
    while (index > 0 && this.states[index - 1].at > at) index -= 1;
    this.states.splice(index, 0, { at, state, reason });
  }

  phase(name: string, at: number): void {
    this.phaseStarts.push({ at, name });
  }

  /** The state at the latest time read, if any. */
  currentState(): string | undefined {
    return this.states[this.states.length - 1]?.state;
  }

  /** The readings that changed the state, in time order. */
  private changes(): Array<{ at: number; state: string; reason: string }> {
    return this.states.filter((reading, i) => i === 0 || reading.state !== this.states[i - 1].state);
  }

  /** Answers in the bucket holding `at`. */
  countsAt(at: number): AnswerCounts {
    return { ...(this.buckets[Math.floor(at / this.bucketMs)] ?? emptyCounts()) };
  }

  finish(durationMs: number): Timeline {
    const bucketCount = Math.max(this.buckets.length, Math.ceil(durationMs / this.bucketMs));
    const buckets = Array.from({ length: bucketCount }, (_, i) => ({ ...(this.buckets[i] ?? emptyCounts()) }));
    const changes = this.changes();
    const bands = changes.map((reading, i) => ({
      state: reading.state,
      from: reading.at,
      to: i + 1 < changes.length ? changes[i + 1].at : Math.max(durationMs, reading.at),
    }));
    const transitions = changes.slice(1).map((reading, i) => ({ at: reading.at, from: changes[i].state, to: reading.state, reason: reading.reason }));
    const phases = this.phaseStarts.map((start, i) => ({
      name: start.name,
      from: start.at,
      to: i + 1 < this.phaseStarts.length ? this.phaseStarts[i + 1].at : Math.max(durationMs, start.at),
    }));
    return { durationMs, bucketMs: this.bucketMs, buckets, bands, transitions, phases };
  }
}
