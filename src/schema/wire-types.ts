// Types JSON has no word for, declared so that they survive a trip through JSON: bytes
// travel as base64 text and dates as ISO 8601 text (as Lightbus sends them), and the
// receiving side turns them back into Uint8Array and Date while it validates.

import { z } from 'zod';

/** The inner schemas of bytes(), so JSON Schema output can describe them. */
export const BYTES_SCHEMAS = new WeakSet<z.ZodType>();

/** Binary data: Uint8Array in code, base64 text on the wire. */
export function bytes() {
  const inner = z.instanceof(Uint8Array);
  BYTES_SCHEMAS.add(inner);
  return z.preprocess((v) => (typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : v), inner);
}

/** A point in time: Date in code, ISO 8601 text on the wire. */
export function datetime() {
  return z.preprocess((v) => (typeof v === 'string' ? new Date(v) : v), z.date());
}
