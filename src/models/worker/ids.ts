// Ids are u64: bigint in TypeScript, decimal UTF-8 text on the wire (SPECS.md §1.5).
// Surrounding whitespace is accepted as slingshot's `raw.trim().parse::<u64>()` does;
// everything else is refused with the reason, before `process` ever sees it.
//
// "Whitespace" is Rust's, not JavaScript's: `str::trim` strips the Unicode White_Space
// property, which includes U+0085 (NEXT LINE) and excludes U+FEFF (the byte-order mark),
// while String.prototype.trim does the reverse. A body starting with a BOM is refused by
// slingshot, so it is refused here too.

import { errors } from '../../errors.js';

export const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^\+?[0-9]+$/;
/** Unicode White_Space, the set Rust's char::is_whitespace and str::trim use (no U+FEFF). */
const RUST_WHITESPACE = '\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000';
const RUST_TRIM = new RegExp(`^[${RUST_WHITESPACE}]+|[${RUST_WHITESPACE}]+$`, 'g');

/** Rust's `str::trim`: strips leading and trailing Unicode White_Space, nothing else. */
export function rustTrim(text: string): string {
  return text.replace(RUST_TRIM, '');
}
// ignoreBOM keeps a leading U+FEFF in the text (by default TextDecoder swallows it, while
// Rust's str::from_utf8 keeps it and the parse then fails).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The id a message body carries; throws SY_ERR_BAD_ID naming the problem. */
export function parseId(body: Uint8Array): bigint {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new errors.SY_ERR_BAD_ID(`the body is not valid UTF-8 (${body.length} bytes)`);
  }
  const trimmed = rustTrim(text);
  if (trimmed === '') throw new errors.SY_ERR_BAD_ID('the body is empty');
  if (trimmed.startsWith('\uFEFF')) throw new errors.SY_ERR_BAD_ID('it starts with a byte-order mark (U+FEFF), which slingshot does not strip either; send the digits without it');
  if (!DECIMAL.test(trimmed)) throw new errors.SY_ERR_BAD_ID(`${visible(preview(trimmed))} is not a non-negative decimal integer`);
  const id = BigInt(trimmed);
  if (id > U64_MAX) throw new errors.SY_ERR_BAD_ID(`${preview(trimmed)} is above 2^64-1`);
  return id;
}

/**
 * An id as a caller may give it (bigint, safe integer, decimal text) → a checked u64.
 * `source` says whose mistake it is: a result process returned, or an argument it passed.
 */
export function toId(value: unknown, what = 'id', source: 'result' | 'argument' = 'result'): bigint {
  let id: bigint | undefined;
  if (typeof value === 'bigint') id = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) id = BigInt(value);
  else if (typeof value === 'string' && DECIMAL.test(rustTrim(value))) id = BigInt(rustTrim(value));
  if (id === undefined || id < 0n || id > U64_MAX) {
    const why = `${what} ${describe(value)} is not a u64 (0 to 2^64-1; use a bigint such as 42n)`;
    throw source === 'result' ? new errors.SY_ERR_BAD_RESULT(why) : new errors.SY_ERR_USAGE(why);
  }
  return id;
}

export function encodeId(id: bigint): Uint8Array {
  return Buffer.from(id.toString(), 'utf8');
}

function preview(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** JSON-quoted, with invisible and odd characters as \uXXXX so a message shows what was sent. */
function visible(text: string): string {
  return JSON.stringify(text).replace(/[\u007F-\u00A0\u00AD\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\uFEFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(preview(value));
  return String(value);
}
