// Ids are u64: bigint in TypeScript, decimal UTF-8 text on the wire (SPECS.md §1.5).
// Surrounding whitespace is accepted as slingshot's `raw.trim().parse::<u64>()` does;
// everything else is refused with the reason, before `process` ever sees it.

import { errors } from '../../errors.js';

export const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^\+?[0-9]+$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The id a message body carries; throws SY_ERR_BAD_ID naming the problem. */
export function parseId(body: Uint8Array): bigint {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new errors.SY_ERR_BAD_ID(`the body is not valid UTF-8 (${body.length} bytes)`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new errors.SY_ERR_BAD_ID('the body is empty');
  if (!DECIMAL.test(trimmed)) throw new errors.SY_ERR_BAD_ID(`${JSON.stringify(preview(trimmed))} is not a non-negative decimal integer`);
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
  else if (typeof value === 'string' && DECIMAL.test(value.trim())) id = BigInt(value.trim());
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

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(preview(value));
  return String(value);
}
