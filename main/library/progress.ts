/** Throughput and time-left estimates for the scan progress display. */

/** Photos per second over a sliding window, so the figure follows the current pace. */
export class RateMeter {
  private readonly stamps: number[] = [];

  constructor(
    private readonly windowMs = 15_000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  tick(): void {
    this.stamps.push(this.clock());
    this.trim();
  }

  /** Events per second; 0 until two have happened. */
  get rate(): number {
    this.trim();
    if (this.stamps.length < 2) return 0;
    const span = this.clock() - (this.stamps[0] as number);
    return span > 0 ? (this.stamps.length / span) * 1000 : 0;
  }

  /** Seconds to do `remaining` more at the current rate; null while no rate is known. */
  eta(remaining: number): number | null {
    if (remaining <= 0) return 0;
    const r = this.rate;
    return r > 0 ? Math.ceil(remaining / r) : null;
  }

  reset(): void {
    this.stamps.length = 0;
  }

  private trim(): void {
    const horizon = this.clock() - this.windowMs;
    let drop = 0;
    while (drop < this.stamps.length && (this.stamps[drop] as number) < horizon) drop++;
    if (drop > 0) this.stamps.splice(0, drop);
  }
}
