// Lightbus's schema store on Redis (SPECS.md §5.4): each API's schema as sorted JSON under
// "schema:{api}" (expiring: a service re-stores it while it runs), and the set "schemas"
// naming every API stored. Pure encode/decode; the reads and writes are the transport's.

import { errors } from '../../errors.js';
import type { JsonValue, StoredSchema } from '../../transports/bus/bus-transport.js';
import { sortedJson } from '../../transports/bus/sorted-json.js';

export { SCHEMAS_SET, schemaKey } from './names.js';

export function encodeSchema(schema: StoredSchema): string {
  return sortedJson(schema as unknown as JsonValue);
}

/** The stored schema; SY_ERR_BUS_FRAME when it is not a JSON object. */
export function decodeSchema(raw: string): StoredSchema {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new errors.SY_ERR_BUS_FRAME('schema', 'not JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new errors.SY_ERR_BUS_FRAME('schema', 'not a JSON object');
  return doc as StoredSchema;
}
