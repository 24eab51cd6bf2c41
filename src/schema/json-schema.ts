// Schemas as JSON Schema (draft-07), for publishing an API's schema on the bus, OpenAPI
// documents, and validating against a schema received from elsewhere (no code of the
// remote service needed). zod does both directions; this file fixes the options once.

import { z } from 'zod';
import { BYTES_SCHEMAS } from './wire-types.js';

export type JsonSchema = Record<string, unknown>;

export interface ToJsonSchemaOptions {
  /** Sets "title" on the root. */
  readonly title?: string;
  /** "input" describes what a caller may send (before defaults); default "output". */
  readonly io?: 'input' | 'output';
}

/**
 * Draft-07 JSON Schema of a zod schema. Types JSON cannot express (bytes, dates, bigint)
 * become `{}` with a "description" of the type rather than failing, because a bus still
 * carries them through its codec.
 */
export function toJsonSchema(schema: z.ZodType, options: ToJsonSchemaOptions = {}): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-7',
    unrepresentable: 'any',
    io: options.io ?? 'output',
    override: (ctx) => {
      const def = (ctx.zodSchema as { _zod?: { def?: { type?: string } } })._zod?.def;
      const type = def?.type;
      if (BYTES_SCHEMAS.has(ctx.zodSchema as unknown as z.ZodType)) Object.assign(ctx.jsonSchema, { type: 'string', contentEncoding: 'base64' });
      else if (type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
      else if (type === 'bigint') Object.assign(ctx.jsonSchema, { type: 'integer' });
      else if (type === 'custom' && Object.keys(ctx.jsonSchema).length === 0) Object.assign(ctx.jsonSchema, { description: 'a value of a custom type' });
    },
  }) as JsonSchema;
  return options.title === undefined ? json : { ...json, title: options.title };
}

/** A zod schema that checks values against a JSON Schema received as data. */
export function fromJsonSchema(json: JsonSchema): z.ZodType {
  return z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
}
