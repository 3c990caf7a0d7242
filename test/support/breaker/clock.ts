/** A clock tests move by hand: `now` is what the breaker reads. */
export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}
