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

export function validatorsOf(schema: StoredSchema): RemoteApiValidators {
  const rpcs: RemoteApiValidators['rpcs'] = {};
  for (const [name, json] of Object.entries(schema.rpcs ?? {})) {
    rpcs[name] = { params: fromJsonSchema(member(json, 'parameters')), result: fromJsonSchema(member(json, 'response')) };
  }
  const events: RemoteApiValidators['events'] = {};
  for (const [name, json] of Object.entries(schema.events ?? {})) events[name] = { params: fromJsonSchema(member(json, 'parameters')) };
  return { rpcs, events };
}
