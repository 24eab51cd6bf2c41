// p50/p99 of durations over a sliding window in fixed memory: a log-scale histogram
// (../latency-buckets.ts) per slice of time, a ring of slices covering the window.
//
// The live slices' sum is kept as they change (a slice leaving the window is subtracted
// once), so reading the window — every port, every snapshot — is one pass over the
// buckets rather than one per slice.

import { LATENCY_BUCKETS, latencyBucketOf, latencyOfBucket } from '../latency-buckets.js';

export class LatencyWindow {
  readonly #slices: Uint32Array[];
  readonly #epochs: Float64Array;
  /** The sum of the live slices, bucket by bucket, and its total. */
  readonly #sum = new Float64Array(LATENCY_BUCKETS);
  #total = 0;
  /** The newest epoch seen: slices older than the window are dropped when it moves. */
  #current = -1;

  /** `windowMs` split into `slices` slices; the oldest slice is dropped as time moves on. */
  constructor(
    readonly windowMs = 60_000,
    readonly slices = 6,
  ) {
    this.#slices = Array.from({ length: slices }, () => new Uint32Array(LATENCY_BUCKETS));
    this.#epochs = new Float64Array(slices).fill(-1);
  }

  get sliceMs(): number {
    return this.windowMs / this.slices;
  }

  record(now: number, ms: number): void {
    const slice = this.#sliceAt(now);
    if (!slice) return;
    const b = latencyBucketOf(ms);
    slice[b]!++;
    this.#sum[b]!++;
    this.#total++;
  }

  /**
   * Adds durations counted elsewhere (by latencyBucketOf, `total` of them) as if recorded at
   * `now`: a watcher of many events counts into a plain array per event and hands the counts
   * over once a second, keeping the window's time arithmetic off the per-event path.
   */
  addCounts(now: number, counts: Uint32Array, total: number): void {
    const slice = this.#sliceAt(now);
    if (!slice) return;
    for (let b = 0; b < LATENCY_BUCKETS; b++) {
      const n = counts[b]!;
      if (n !== 0) {
        slice[b]! += n;
        this.#sum[b]! += n;
      }
    }
    this.#total += total;
  }

  /** The slice that holds time `now` (emptied if it held an older one); undefined when `now` is older than the window. */
  #sliceAt(now: number): Uint32Array | undefined {
    const epoch = Math.floor(now / this.sliceMs);
    if (epoch !== this.#current) {
      if (this.#current - epoch >= this.slices) return undefined; // older than the window (a clock moved back)
      this.#expire(epoch);
    }
    const i = epoch % this.slices;
    if (this.#epochs[i] !== epoch) {
      this.#drop(i);
      this.#epochs[i] = epoch;
    }
    return this.#slices[i]!;
  }

  /** Adds the live slices' counts into `into` (length LATENCY_BUCKETS): merge several windows before asking quantiles. Returns how many it added. */
  addInto(now: number, into: Float64Array): number {
    const current = Math.floor(now / this.sliceMs);
    if (current > this.#current) this.#expire(current);
    if (current < this.#current) return this.#addSlicesInto(current, into); // asked about the past (a clock moved back)
    if (this.#total === 0) return 0;
    const sum = this.#sum;
    for (let b = 0; b < LATENCY_BUCKETS; b++) into[b]! += sum[b]!;
    return this.#total;
  }

  /** Slices that fell out of the window by `epoch` leave the sum. */
  #expire(epoch: number): void {
    if (epoch > this.#current) this.#current = epoch;
    for (let i = 0; i < this.slices; i++) {
      const e = this.#epochs[i]!;
      if (e >= 0 && this.#current - e >= this.slices) this.#drop(i);
    }
  }

  #drop(i: number): void {
    if (this.#epochs[i]! < 0) return;
    const slice = this.#slices[i]!;
    for (let b = 0; b < LATENCY_BUCKETS; b++) {
      const n = slice[b]!;
      if (n !== 0) {
        this.#sum[b]! -= n;
        this.#total -= n;
        slice[b] = 0;
      }
    }
    this.#epochs[i] = -1;
  }

  #addSlicesInto(current: number, into: Float64Array): number {
    let added = 0;
    for (let i = 0; i < this.slices; i++) {
      const epoch = this.#epochs[i]!;
      if (epoch < 0 || epoch > current || current - epoch >= this.slices) continue;
      const slice = this.#slices[i]!;
      for (let b = 0; b < LATENCY_BUCKETS; b++) {
        into[b]! += slice[b]!;
        added += slice[b]!;
      }
    }
    return added;
  }

  quantiles(now: number, qs: readonly number[]): Array<number | undefined> {
    const merged = new Float64Array(LATENCY_BUCKETS);
    this.addInto(now, merged);
    return quantilesOf(merged, qs);
  }
}

/** Quantiles (0..1) of merged bucket counts; undefined when nothing was recorded. */
export function quantilesOf(counts: Float64Array, qs: readonly number[]): Array<number | undefined> {
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b]!;
  if (total === 0) return qs.map(() => undefined);
  return qs.map((q) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let b = 0; b < counts.length; b++) {
      seen += counts[b]!;
      if (seen >= rank) return latencyOfBucket(b);
    }
    return latencyOfBucket(counts.length - 1);
  });
}
