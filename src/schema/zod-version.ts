// zod is a peer dependency (^4). A project still on zod 3 hands us schemas that look like
// zod (they have safeParse) but are not zod 4's: `instanceof` checks fail with messages about
// the wrong thing, and JSON Schema comes out empty. Define-functions call these to refuse a
// zod 3 schema at once, naming where it was declared. Detection: every zod 4 schema (classic
// or mini) carries `_zod`; a zod 3 schema carries `_def` without `_zod`.

import { errors } from '../errors.js';

/** True for a zod 3 schema (including zod 4's `zod/v3` compatibility export). */
export function isZod3Schema(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '_def' in value && !('_zod' in value);
}

/** Throws SY_ERR_ZOD_VERSION naming `place` when `value` is a zod 3 schema. */
export function rejectZod3(value: unknown, place: string): void {
  if (isZod3Schema(value)) throw new errors.SY_ERR_ZOD_VERSION(place);
}

/**
 * Walks a plain declaration (objects and arrays, not into zod 4 schemas or functions) and
 * throws SY_ERR_ZOD_VERSION for the first zod 3 schema, naming its path under `place`.
 */
export function rejectZod3Within(value: unknown, place: string, depth = 6): void {
  if (typeof value !== 'object' || value === null) return;
  rejectZod3(value, place);
  if (depth === 0 || '_zod' in value) return;
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === 'object' && inner !== null) rejectZod3Within(inner, `${place}.${key}`, depth - 1);
  }
}
