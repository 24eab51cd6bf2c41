// The headers a retried message carries through RabbitMQ, read and written defensively.
//
// A classic queue keeps no delivery count, so the transport carries one itself in
// `x-switchyard-attempt` when it republishes a retry. Anyone who can publish to the queue
// can set that header too, so it is read as untrusted input: only a whole number from 1 to
// MAX_ATTEMPT is believed; anything else ("-Infinity", -1000000000, 1.5, "1e400", "abc",
// 10^20, a table) is ignored and the attempt is counted from the broker's own knowledge instead
// (x-delivery-count on quorum queues, else the redelivered flag). The same holds for
// x-delivery-count, which a publisher can also set on a classic queue.
//
// A retry republishes the peer's other headers too, and amqplib cannot encode everything
// it decodes (a table with a "!" key; ±Infinity and NaN, which RabbitMQ itself refuses to
// carry). Such values are made encodable or dropped here, so one odd header cannot make
// every retry fail.

/** Highest attempt believed from a header; more than any retry policy needs. */
export const MAX_ATTEMPT = 1_000_000;

const DIGITS = /^[0-9]{1,16}$/;

/** A whole number from min to MAX_ATTEMPT in a header value (number, text or bytes); else undefined. */
export function headerCount(value: unknown, min: number): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const text = (Buffer.isBuffer(value) ? value.toString('latin1') : value).trim();
    if (!DIGITS.test(text)) return undefined;
    n = Number(text);
  } else return undefined;
  if (!Number.isInteger(n) || n < min || n > MAX_ATTEMPT) return undefined;
  return n;
}

export interface DeliveryAttempt {
  /** 1 on the first delivery; at most MAX_ATTEMPT. */
  readonly attempt: number;
  /** False when the carried header was present but not believable (worth a warning). */
  readonly headerTrusted: boolean;
}

/**
 * The attempt of a delivery: the carried count (when believable) plus what the broker
 * knows of redeliveries since that publish. Quorum queues count them (x-delivery-count);
 * classic queues only say "redelivered" (at least one).
 */
export function deliveryAttempt(headers: Readonly<Record<string, unknown>>, redelivered: boolean, attemptHeader: string): DeliveryAttempt {
  const raw = headers[attemptHeader];
  const carried = raw === undefined || raw === null ? 1 : headerCount(raw, 1);
  const brokerCount = headerCount(headers['x-delivery-count'], 0) ?? (redelivered ? 1 : 0);
  return { attempt: Math.min((carried ?? 1) + brokerCount, MAX_ATTEMPT), headerTrusted: carried !== undefined };
}

const MAX_DEPTH = 8;
const KNOWN_TYPED = new Set(['decimal', 'timestamp']);

/** A copy of the headers amqplib can encode again: odd values turned to text or dropped. */
export function republishable(headers: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!headers) return out;
  for (const key of Object.keys(headers)) {
    const value = encodable(headers[key], 0);
    if (value !== DROP) out[key] = value;
  }
  return out;
}

const DROP = Symbol('drop');

function encodable(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // amqplib encodes ±Infinity and NaN as a 64-bit integer, which throws.
      return Number.isFinite(value) ? value : String(value);
    case 'object': {
      if (value === null || Buffer.isBuffer(value)) return value;
      if (depth >= MAX_DEPTH) return DROP;
      if (Array.isArray(value)) return value.map((v) => encodable(v, depth + 1)).filter((v) => v !== DROP);
      const record = value as Record<string, unknown>;
      // amqplib reads a "!" key as "encode value as this type": keep only the types it
      // decodes itself (decimal, timestamp) in the shape it decodes them; drop the rest.
      if (Object.hasOwn(record, '!')) return KNOWN_TYPED.has(record['!'] as string) && isTypedShape(record) ? record : DROP;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(record)) {
        const v = encodable(record[key], depth + 1);
        if (v !== DROP) out[key] = v;
      }
      return out;
    }
    default:
      return DROP;
  }
}

function isTypedShape(record: Record<string, unknown>): boolean {
  const v = record.value as { places?: unknown; digits?: unknown } | number | undefined;
  if (record['!'] === 'timestamp') return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'object' && v !== null && Number.isInteger(v.places) && (v.places as number) >= 0 && (v.places as number) < 256
    && Number.isInteger(v.digits) && (v.digits as number) >= 0 && (v.digits as number) <= 0xffffffff;
}
