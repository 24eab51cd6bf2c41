// Routing case values (SPECS.md §1.2). slingshot accepts a JSON bool, an integer that fits
// i64 or u64 (held as i128), or a string; anything else is fatal. Keys are typed: true, 1
// and "1" are three different cases. This module is shared by the system-map validator and
// the HTTP client so both judge a case the same way, and by the server so it prints one
// exactly as it was written.

import type { CaseValue } from './config-source.js';

export const CASE_RULE = 'a case must be a bool, an integer or a string';

// slingshot parses with serde_json into i64/u64; an integer outside both is read as f64
// and then rejected as not-an-integer. Checking the range here gives the same verdict
// with a message that says why.
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 64n - 1n;

export type CaseCheck = { ok: true; value: CaseValue } | { ok: false; problem: string };

/**
 * Judges a case read by a parser that returns integers as bigint (yaml `intAsBigInt`).
 * Under that contract a JS `number` can only come from a float literal, so `2.0` is
 * caught even though its value is integral. `source` is the literal as written, used
 * only to word the message ("2.0 is a float" rather than "2 is a float").
 *
 * Integers come back as `number` when they are safe (|n| <= 2^53-1) and as `bigint`
 * otherwise, so everyday cases stay plain numbers; compare cases with `caseKey`.
 */
export function checkParsedCase(raw: unknown, source?: string): CaseCheck {
  if (typeof raw === 'boolean' || typeof raw === 'string') return { ok: true, value: raw };
  if (typeof raw === 'bigint') {
    if (raw < INT_MIN || raw > INT_MAX) {
      return { ok: false, problem: `${raw} is outside the 64-bit integer range (${INT_MIN}..${INT_MAX}); ${CASE_RULE} that fits i64 or u64` };
    }
    return { ok: true, value: normalizeInt(raw) };
  }
  if (typeof raw === 'number') return { ok: false, problem: `${source ?? String(raw)} is a float; ${CASE_RULE}` };
  if (raw === undefined) return { ok: false, problem: `the case is missing; ${CASE_RULE}` };
  if (raw === null) return { ok: false, problem: `null is not a case; ${CASE_RULE}` };
  if (Array.isArray(raw)) return { ok: false, problem: `a list is not a case; ${CASE_RULE}` };
  return { ok: false, problem: `a mapping is not a case; ${CASE_RULE}` };
}

/** A bigint integer as a number when that is exact, else kept as bigint. */
export function normalizeInt(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/**
 * A string that identifies a case by type and value: `3` and `3n` share a key, while true,
 * 1 and "1" do not. Use it as a Map key when routing. Returns undefined for a value that
 * is not a valid case (a non-integral number, or anything else).
 */
export function caseKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'boolean': return `b:${value}`;
    case 'string': return `s:${value}`;
    case 'bigint': return `i:${value}`;
    case 'number': return Number.isSafeInteger(value) ? `i:${value}` : undefined;
    default: return undefined;
  }
}

/** The case as compact JSON, integers printed exactly (JSON.stringify cannot print a bigint). */
export function caseToJson(value: CaseValue): string {
  return typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}
