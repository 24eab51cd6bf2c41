// JSON with keys sorted at every level: Lightbus encodes with `sort_keys=True`, and equal
// messages should be equal bytes whoever wrote them. Values that are sorted already (the
// model layer's codec sorts as it converts) are written by JSON.stringify as they are: a
// walk that allocates nothing, instead of a sorted copy of every message.

import type { JsonValue } from './bus-transport.js';

function isSorted(value: JsonValue): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!isSorted(item)) return false;
    return true;
  }
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && previous > key) return false;
    if (!isSorted(value[key]!)) return false;
    previous = key;
  }
  return true;
}

function sortValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(value).sort()) {
      // A key "__proto__" is data here, not the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: sortValue(value[key]!), enumerable: true, writable: true, configurable: true });
      else out[key] = sortValue(value[key]!);
    }
    return out;
  }
  return value;
}

/** The value with keys sorted at every level: itself when it is already. */
export function sorted<T extends JsonValue>(value: T): T {
  return isSorted(value) ? value : (sortValue(value) as T);
}

export function sortedJson(value: JsonValue): string {
  return JSON.stringify(sorted(value));
}
