// An API's schema as Lightbus stores it on the bus (SPECS.md §5.4): draft-07 JSON Schema
// for every RPC's parameters and response and every event's parameters, with Lightbus's
// titles. Parameter schemas list as required what has no default, and allow no other keys.

import { z } from 'zod';
import { fromJsonSchema, toJsonSchema, type JsonSchema } from '../../schema/mod.js';
import type { JsonValue, StoredSchema } from '../../transports/bus/bus-transport.js';
import type { AnyApi } from './define.js';

function parametersSchema(schema: z.ZodType, title: string): JsonSchema {
  return { ...toJsonSchema(schema, { title, io: 'input' }), additionalProperties: false };
}

export function schemaOfApi(api: AnyApi): StoredSchema {
  const rpcs: Record<string, JsonValue> = {};
  for (const [name, rpc] of Object.entries(api.rpcs)) {
    rpcs[name] = {
      parameters: parametersSchema(rpc.params, `RPC ${api.name}.${name}() parameters`),
      response: toJsonSchema(rpc.result, { title: `RPC ${api.name}.${name}() response` }),
    } as JsonValue;
  }
  const events: Record<string, JsonValue> = {};
  for (const [name, event] of Object.entries(api.events)) {
    events[name] = { parameters: parametersSchema(event.params, `Event ${api.name}.${name} parameters`) } as JsonValue;
  }
  return { rpcs, events };
}

/** Validators made from a schema received from the bus: the remote API's code is not needed. */
export interface RemoteApiValidators {
  readonly rpcs: Record<string, { params: z.ZodType; result: z.ZodType }>;
  readonly events: Record<string, { params: z.ZodType }>;
}

function member(json: unknown, key: string): JsonSchema {
  const v = (json as Record<string, unknown> | null)?.[key];
  return v !== null && typeof v === 'object' ? (v as JsonSchema) : {};
}

/**
 * Validators of a schema from the bus, which asserts no `format` (as Lightbus: jsonschema's
 * validate() without a format checker). Lightbus sends `datetime.now().isoformat()` (no
 * offset) and times as `03:04:05` where its schemas say `date-time` and `time`; a checker
 * of RFC 3339 formats would refuse what every Lightbus service sends and accepts.
 */
export function validatorsOf(schema: StoredSchema): RemoteApiValidators {
  const from = (json: JsonSchema) => fromJsonSchema(withoutFormats(json) as JsonSchema);
  const rpcs: RemoteApiValidators['rpcs'] = {};
  for (const [name, json] of Object.entries(schema.rpcs ?? {})) {
    rpcs[name] = { params: from(member(json, 'parameters')), result: from(member(json, 'response')) };
  }
  const events: RemoteApiValidators['events'] = {};
  for (const [name, json] of Object.entries(schema.events ?? {})) events[name] = { params: from(member(json, 'parameters')) };
  return { rpcs, events };
}

// JSON Schema keywords whose value is a schema, a list of schemas, or a map of names to
// schemas: the places a nested schema (and its `format`) can be. Anything else is data (a
// property named "format" under `properties` is a property, not the keyword).
const SCHEMA_KEYWORDS = new Set(['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties']);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);

/** A copy of a JSON Schema without its `format` keywords, at every depth. */
export function withoutFormats(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  // Own keys only, "__proto__" included (a key of parsed JSON, data, never the prototype).
  const put = (key: string, value: unknown) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === 'format') continue;
    if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) put(key, value.map(withoutFormats));
    else if (SCHEMA_KEYWORDS.has(key)) put(key, withoutFormats(value));
    else if (SCHEMA_MAP_KEYWORDS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      put(key, Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, sub]) => [name, withoutFormats(sub)])));
    } else put(key, value);
  }
  return out;
}
