// The one msgpack codec of the service model, byte-compatible with Python service_framework
// (SPECS.md §2.1): `packb(obj, default=custom_encode, use_bin_type=True)` and
// `unpackb(b, object_hook=custom_decode, raw=False)`.
//
// Values Python has and msgpack lacks travel as marker maps, not msgpack ext types:
//   Decimal   {"__decimal__": true, "as_str": "123.45"}
//   set       {"__set__": true, "value": [...]}
//   UUID      {"__uuid__": true, "as_str": "…"}
//   datetime  {"__datetime__": true, "as_str": "2024-01-02T03:04:05.678Z"}   ← Switchyard's addition
// The original has no datetime codec (packing one fails there); ours is a marker map like the
// others, so a Python peer sees a plain dict it can convert with datetime.fromisoformat.
//
// Floats: a whole number goes out as an int unless wrapped in Float64 (values.ts), which the
// service model does for fields declared t.float.
//
// Integers: Python packs ints in the smallest msgpack int; so do we. Integers beyond 2^53
// arrive as bigint (never rounded); bigints within the safe range are sent as plain ints so
// the bytes equal Python's.

import { Decoder, Encoder } from '@msgpack/msgpack';
import { errors } from '../../../errors.js';
import { Decimal, Float64, Uuid } from './values.js';

// A key whose value is undefined is left out (JavaScript's "absent"), never sent as nil.
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });

// Float64: 0xcb and the 8 bytes, where the encoder would write a whole number as an int.
// @msgpack/msgpack has no hook for choosing a number's format (its extension codec writes
// ext types), so this encoder's object step is wrapped; the check below fails at load,
// naming the cause, should a new version of the package change what is wrapped.
{
  type Internals = { encodeObject(object: unknown, depth: number): void; writeU8(byte: number): void; writeF64(value: number): void };
  const internals = encoder as unknown as Internals;
  const encodeObject = internals.encodeObject.bind(encoder);
  internals.encodeObject = (object, depth) => {
    if (object instanceof Float64) {
      internals.writeU8(0xcb);
      internals.writeF64(object.value);
    } else encodeObject(object, depth);
  };
  const probe = encoder.encode([new Float64(2)]);
  if (Buffer.from(probe).toString('hex') !== '91cb4000000000000000') {
    throw new errors.SY_ERR_SERVICE_CODEC(Buffer.from(probe).toString('hex'));
  }
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const INT32_MIN = -0x80000000n;
const UINT32_MAX = 0xffffffffn;

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Turns our value classes into the marker maps, recursively (Python's `default=` hook). */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' && value >= INT32_MIN && value <= UINT32_MAX) return Number(value);
    // With 64-bit ints as bigint, the encoder would write a whole number past 32 bits as a
    // float64; Python writes uint64/int64. Hand such integers over as bigint.
    if (typeof value === 'number' && (value > 0xffffffff || value < -0x80000000) && Number.isSafeInteger(value)) return BigInt(value);
    return value;
  }
  if (value instanceof Uint8Array || value instanceof Float64) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const w = toWire(v);
      if (w !== v && out === undefined) out = value.slice(0, i);
      if (out !== undefined) out.push(w);
    }
    return out ?? value;
  }
  if (value instanceof Decimal) return { __decimal__: true, as_str: value.asStr };
  if (value instanceof Uuid) return { __uuid__: true, as_str: value.asStr };
  if (value instanceof Set) return { __set__: true, value: [...value].map(toWire) };
  if (value instanceof Date) return { __datetime__: true, as_str: value.toISOString() };
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = toWire(v);
    return out;
  }
  // Plain objects: copy only when something inside changes (the common case costs no allocation).
  let out: Record<string, unknown> | undefined;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    const w = toWire(v);
    if (w !== v && out === undefined) out = { ...(value as Record<string, unknown>) };
    if (out !== undefined) out[key] = w;
  }
  return out ?? value;
}

/** Turns marker maps back into values, innermost first (Python's `object_hook=`). */
export function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' && value >= SAFE_MIN && value <= SAFE_MAX) return Number(value);
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if ((v !== null && typeof v === 'object') || typeof v === 'bigint') value[i] = fromWire(v);
    }
    return value;
  }
  const map = value as Record<string, unknown>;
  // for…in allocates nothing; decoded maps are plain objects with no inherited keys.
  for (const key in map) {
    const v = map[key];
    if (v !== null && typeof v === 'object') map[key] = fromWire(v);
    else if (typeof v === 'bigint') map[key] = fromWire(v);
  }
  // Python tests the markers in this order and only their presence, not their value.
  if ('__decimal__' in map) return new Decimal(String(map.as_str));
  if ('__uuid__' in map) return new Uuid(String(map.as_str));
  if ('__set__' in map) return new Set(Array.isArray(map.value) ? map.value : []);
  if ('__datetime__' in map) {
    const d = new Date(String(map.as_str));
    if (Number.isNaN(d.getTime())) throw new errors.SY_ERR_SERVICE_VALUE(`bad __datetime__ value ${JSON.stringify(map.as_str)}`, 'send an ISO 8601 date-time in as_str, e.g. "2024-05-06T07:08:09.123Z"');
    return d;
  }
  return map;
}

/** msgpack bytes of a value, as Python's msg_pack gives them. */
export function pack(value: unknown): Uint8Array {
  if (value !== null && typeof value === 'object' && !isPlainObject(value) && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Decimal) && !(value instanceof Uuid) && !(value instanceof Set) && !(value instanceof Date) && !(value instanceof Map) && !(value instanceof Float64)) {
    throw new errors.SY_ERR_SERVICE_VALUE(`cannot pack a ${value.constructor?.name ?? 'object'}`, 'use plain objects, arrays, strings, numbers, booleans, null, Uint8Array, Decimal, Uuid, Set, Date, Float64');
  }
  return encoder.encode(toWire(value));
}

/** The value of msgpack bytes, as Python's msg_unpack gives it. Throws on bytes that are not msgpack. */
export function unpack(bytes: Uint8Array): unknown {
  return fromWire(decoder.decode(bytes));
}
