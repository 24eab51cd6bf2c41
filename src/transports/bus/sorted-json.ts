// JSON with keys sorted at every level: Lightbus encodes with `sort_keys=True`, and equal
// messages should be equal bytes whoever wrote them.

import type { JsonValue } from './bus-transport.js';

function sortValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortValue(value[key]!);
    return out;
  }
  return value;
}

export function sortedJson(value: JsonValue): string {
  return JSON.stringify(sortValue(value));
}
