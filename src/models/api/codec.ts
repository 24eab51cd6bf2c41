// Values to what JSON carries, the way Lightbus deforms Python values for the bus: bytes
// as base64 text, dates as ISO 8601, bigint and other scalars as text, sets as lists, maps
// as objects. The receiving side turns them back while validating (schema/wire-types.ts).

import type { JsonValue } from '../../transports/bus/bus-transport.js';

export function toBus(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toBus);
  if (value instanceof Set) return [...value].map(toBus);
  if (value instanceof Map) return toBus(Object.fromEntries([...value].map(([k, v]) => [String(k), v === undefined ? null : v])));
  const record = value as Record<string, unknown>;
  const keys = sortKeys(Object.keys(record));
  const out: Record<string, JsonValue> = {};
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    // A key "__proto__" (JSON.parse and Object.fromEntries make such own keys) is data.
    if (k === '__proto__') Object.defineProperty(out, k, { value: toBus(v), enumerable: true, writable: true, configurable: true });
    else out[k] = toBus(v);
  }
  return out;
}

/**
 * Sorts in place as Array.prototype.sort() would (UTF-16 order); few keys by insertion,
 * which allocates nothing where sort() allocates a work array per call (most of what a
 * small RPC's parameters cost to convert).
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

export function kwargsToBus(params: Record<string, unknown>): Record<string, JsonValue> {
  return toBus(params) as Record<string, JsonValue>;
}
