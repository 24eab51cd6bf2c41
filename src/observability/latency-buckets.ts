// Durations as log-scale histogram buckets: 2^(1/5) ≈ 14.9% apart, 0.01 ms to ~100 s, so a
// quantile read from bucket counts is within ~7%. The bucket is found from the duration's
// binary exponent and leading mantissa bits through a table (~5 ns; Math.log cost ~20 ns),
// cheap enough for every message at hundreds of thousands a second. Shared by what counts
// durations where the work is done (port-counts.ts) and what reads them (the dashboard's
// latency windows).

const MIN_MS = 0.01;
/** Buckets per doubling: five, so a bucket is 2^(1/5) wide and found from the binary exponent. */
const PER_OCTAVE = 5;
const GROWTH = 2 ** (1 / PER_OCTAVE);
export const LATENCY_BUCKETS = Math.ceil(Math.log2(100_000 / MIN_MS) * PER_OCTAVE) + 1;

/** The leading mantissa bits read, and per value of them the bucket within the octave (floor(5·log2(1.m))). */
const MANTISSA_BITS = 10;
const WITHIN_OCTAVE = Uint8Array.from({ length: 1 << MANTISSA_BITS }, (_, i) => Math.floor(Math.log2(1 + i / (1 << MANTISSA_BITS)) * PER_OCTAVE));
const float = new Float64Array(1);
/** The high 32 bits of `float` (sign, exponent, leading mantissa bits), whichever the byte order. */
const highWord = new Uint32Array(float.buffer, new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 4 : 0, 1);

/** The histogram bucket of a duration: count into a Uint32Array(LATENCY_BUCKETS) and hand it to addCounts(). */
export function latencyBucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  float[0] = ms / MIN_MS;
  const high = highWord[0]!;
  const octave = (high >>> 20) - 1023;
  return Math.min(LATENCY_BUCKETS - 1, octave * PER_OCTAVE + WITHIN_OCTAVE[(high >>> (20 - MANTISSA_BITS)) & ((1 << MANTISSA_BITS) - 1)]! + 1);
}

/** The middle of a bucket, as the value a quantile falling in it reports. */
export function latencyOfBucket(bucket: number): number {
  if (bucket === 0) return MIN_MS;
  return MIN_MS * GROWTH ** (bucket - 0.5);
}
