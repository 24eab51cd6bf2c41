// Secret fields one or two levels down a log line's object (`db.password`,
// `s3.client.secretKey`), censored by a bounded walk rather than by pino's wildcard redact
// paths: fast-redact runs every wildcard path on every line, which cost ~140 µs a line with
// the 52 wildcard paths this logger had (6 µs without), so a worker logging "message done"
// at the default level handled ~7,000 messages a second. The walk visits the line's own
// keys and the keys of objects at most two levels down, and copies only what it censors
// (the caller's objects are never changed). Top-level fields stay with pino's exact paths.

/**
 * `obj` itself when no key named in `secret` holds a value one or two levels down; else a
 * copy with those values replaced by `censor` (objects on the way copied with their
 * prototype and every own property, so an Error stays an Error).
 */
export function censorNested(obj: Record<string, unknown>, secret: ReadonlySet<string>, censor: string): Record<string, unknown> {
  let out = obj;
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === null || typeof value !== 'object') continue;
    const censored = censorLevel(value, 2, secret, censor);
    if (censored !== value) {
      if (out === obj) out = { ...obj };
      out[key] = censored;
    }
  }
  return out;
}

function censorLevel(value: object, depth: number, secret: ReadonlySet<string>, censor: string): object {
  const source = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(source)) {
    const inner = source[key];
    let replaced: unknown = inner;
    if (secret.has(key)) {
      if (inner === undefined) continue;
      replaced = censor;
    } else if (depth > 1 && inner !== null && typeof inner === 'object') {
      replaced = censorLevel(inner, depth - 1, secret, censor);
    }
    if (replaced !== inner) {
      out ??= copyOf(source);
      out[key] = replaced;
    }
  }
  return out ?? value;
}

function copyOf(value: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>;
  return Object.defineProperties(Object.create(Object.getPrototypeOf(value) as object | null), Object.getOwnPropertyDescriptors(value)) as Record<string, unknown>;
}
