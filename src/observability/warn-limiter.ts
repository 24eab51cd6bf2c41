// Repeated warnings about what peers send (bad frames, invalid messages, refused requests)
// are rate-limited per kind, so a peer that floods us with bad input cannot flood the logs.
// Each key gets `burst` lines per window; past that, lines are counted, not written, and the
// count is written once the window ends ("suppressed": how many, for which key).

import type { Logger } from './logger.js';

export interface WarnLimiterOptions {
  /** Lines written per key per window. Default 5. */
  readonly burst?: number;
  /** Window length. Default 10 s. */
  readonly windowMs?: number;
  /** Keys tracked at once; past this, new keys share one bucket ("(other)"). Default 256. */
  readonly maxKeys?: number;
  /** Stubbable clock for tests. */
  readonly now?: () => number;
}

/** Writes `msg` at warn level unless this key already wrote `burst` lines in this window. */
export type LimitedWarn = (key: string, fields: Record<string, unknown>, msg: string) => void;

interface Bucket {
  windowStart: number;
  written: number;
  suppressed: number;
}

export interface WarnLimiter {
  readonly warn: LimitedWarn;
  /** Writes the pending suppressed counts now (call on stop). */
  flush(): void;
}

export function warnLimiter(log: Logger, options: WarnLimiterOptions = {}): WarnLimiter {
  const burst = options.burst ?? 5;
  const windowMs = options.windowMs ?? 10_000;
  const maxKeys = options.maxKeys ?? 256;
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let timer: NodeJS.Timeout | undefined;

  const report = (key: string, bucket: Bucket) => {
    if (bucket.suppressed > 0) {
      log.warn({ suppressed: bucket.suppressed, key, windowMs }, `${bucket.suppressed} more warning(s) like the above suppressed`);
    }
  };

  // Reports the counts of ended windows and forgets idle keys; unref'd so it never keeps
  // the process alive.
  const sweep = () => {
    timer = undefined;
    const t = now();
    for (const [key, bucket] of buckets) {
      if (t - bucket.windowStart >= windowMs) {
        report(key, bucket);
        buckets.delete(key);
      }
    }
    if (buckets.size > 0) arm();
  };
  const arm = () => {
    if (timer === undefined) {
      timer = setTimeout(sweep, windowMs);
      timer.unref();
    }
  };

  const warn: LimitedWarn = (rawKey, fields, msg) => {
    const key = buckets.has(rawKey) || buckets.size < maxKeys ? rawKey : '(other)';
    const t = now();
    let bucket = buckets.get(key);
    if (bucket && t - bucket.windowStart >= windowMs) {
      report(key, bucket);
      bucket = undefined;
    }
    if (!bucket) {
      bucket = { windowStart: t, written: 0, suppressed: 0 };
      buckets.set(key, bucket);
      arm();
    }
    if (bucket.written < burst) {
      bucket.written++;
      log.warn(fields, msg);
    } else {
      bucket.suppressed++;
    }
  };

  return {
    warn,
    flush() {
      for (const [key, bucket] of buckets) report(key, bucket);
      buckets.clear();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
