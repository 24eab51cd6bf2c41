// Counts over time in a fixed ring of buckets: the sparklines (the last minutes) and the
// rates (the last seconds) of one figure, in bounded memory whatever the traffic. A bucket
// is reused once it falls out of the window, so an idle series costs nothing to keep.

export class BucketSeries {
  readonly #counts: Float64Array;
  /** The bucket number (time / bucketMs) each slot holds, so stale slots read as zero. */
  readonly #epochs: Float64Array;

  constructor(
    readonly bucketMs: number,
    readonly length: number,
  ) {
    this.#counts = new Float64Array(length);
    this.#epochs = new Float64Array(length).fill(-1);
  }

  add(now: number, n = 1): void {
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.length;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]! += n;
  }

  /** The last `length` buckets, oldest first, the current (partial) one last. */
  values(now: number): number[] {
    const current = Math.floor(now / this.bucketMs);
    const out = new Array<number>(this.length);
    for (let i = 0; i < this.length; i++) {
      const epoch = current - (this.length - 1 - i);
      const slot = ((epoch % this.length) + this.length) % this.length;
      out[i] = this.#epochs[slot] === epoch ? this.#counts[slot]! : 0;
    }
    return out;
  }

  /** Adds these values bucket by bucket into `into` (same length): a node's series is the sum of its ports'. */
  addInto(now: number, into: number[]): void {
    // As values(), without making the array: a snapshot adds hundreds of these.
    const current = Math.floor(now / this.bucketMs);
    for (let i = 0; i < this.length; i++) {
      const epoch = current - (this.length - 1 - i);
      const slot = ((epoch % this.length) + this.length) % this.length;
      if (this.#epochs[slot] === epoch) into[i] = (into[i] ?? 0) + this.#counts[slot]!;
      else if (into[i] === undefined) into[i] = 0;
    }
  }

  /**
   * Events per second over about the last `windowMs`: the current partial bucket and the
   * whole ones before it, divided by the time they cover, so the rate moves every second
   * rather than once per bucket.
   */
  rate(now: number, windowMs: number): number {
    const whole = Math.max(0, Math.ceil(windowMs / this.bucketMs) - 1);
    const current = Math.floor(now / this.bucketMs);
    let sum = 0;
    for (let k = 0; k <= Math.min(whole, this.length - 1); k++) {
      const epoch = current - k;
      const slot = ((epoch % this.length) + this.length) % this.length;
      if (this.#epochs[slot] === epoch) sum += this.#counts[slot]!;
    }
    const covered = whole * this.bucketMs + (now - current * this.bucketMs);
    return covered > 0 ? (sum * 1000) / covered : 0;
  }
}
