// acomm JSON with exact integers. Go peers send int64/uint64 values (ids, sizes, counters)
// that JSON.parse rounds past 2^53 (9223372036854775807 would arrive as …5808), and
// JSON.stringify cannot write a bigint at all. Here:
//   parseJson      strict JSON, exactly as JSON.parse accepts it, except that an integer
//                  literal beyond ±(2^53 − 1) becomes a bigint; every other number stays a number
//   stringifyJson  JSON.stringify, except that a bigint is written as its digits
// Both cost nothing extra in the common case: parsing takes the JSON.parse path unless the
// text holds a run of 16 or more digits, and writing falls back only when JSON.stringify
// refused a bigint.
//
// Why not src/config/exact-parse.ts (yaml with intAsBigInt): it parses YAML, so it would let
// through what Go's decoder refuses (single quotes, trailing commas), refuse what Go takes
// (repeated keys: the last wins in Go and JSON.parse), and turns every integer into a bigint.
// A wire codec must accept exactly JSON.

import { randomBytes } from 'node:crypto';

/** A run this long is the shortest integer that can exceed 2^53 − 1 (9007199254740991 has 16 digits). */
const LONG_DIGITS = /\d{16}/;

/** A fresh marker per call: a peer cannot guess it, so no string it sends can pass for one. */
function freshMarker(text: string): string {
  for (;;) {
    const marker = `\u0000sy-int:${randomBytes(8).toString('hex')}:`;
    if (!text.includes(marker.slice(1))) return marker;
  }
}

/**
 * JSON.parse with integers beyond 2^53 − 1 kept exact as bigints. Throws JSON.parse's
 * SyntaxError for text that is not JSON.
 */
export function parseJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  // Each big integer literal outside strings is turned into a marker string, which sits
  // where the number sat, so the text is JSON exactly when the original was; the reviver
  // turns the markers back into bigints.
  let marker: string | undefined;
  let out = '';
  let copied = 0;
  const n = text.length;
  for (let i = 0; i < n; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, escapes included; an unterminated one is left to JSON.parse to refuse.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i++;
      while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      const next = i < n ? text.charCodeAt(i) : -1;
      // A fraction or an exponent makes it a float: JSON.parse's number is what Go's float64 gets too.
      if (next === 0x2e /* . */ || next === 0x65 /* e */ || next === 0x45 /* E */) {
        while (i < n && /[0-9.eE+-]/.test(text[i]!)) i++;
        continue;
      }
      const literal = text.slice(start, i);
      // "-", leading zeros and the like are not JSON: left for JSON.parse to refuse.
      if (i - start >= 16 && /^-?[1-9]\d*$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        marker ??= freshMarker(text);
        out += text.slice(copied, start) + JSON.stringify(marker + literal);
        copied = i;
      }
      continue;
    }
    i++;
  }
  if (marker === undefined) return JSON.parse(text);
  return restoreBigInts(JSON.parse(out + text.slice(copied)), marker);
}

/**
 * Turns marker strings back into bigints. A loop over a stack rather than a JSON.parse
 * reviver: revivers recurse, and overflow on nesting that JSON.parse itself takes.
 */
function restoreBigInts(root: unknown, marker: string): unknown {
  const revive = (v: unknown) => (typeof v === 'string' && v.startsWith(marker) ? BigInt(v.slice(marker.length)) : v);
  if (root === null || typeof root !== 'object') return revive(root);
  const stack: Array<Record<string, unknown> | unknown[]> = [root as Record<string, unknown>];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (v !== null && typeof v === 'object') stack.push(v as Record<string, unknown>);
        else node[i] = revive(v);
      }
    } else {
      for (const key of Object.keys(node)) {
        const v = node[key];
        if (v !== null && typeof v === 'object') stack.push(v as Record<string, unknown>);
        else if (typeof v === 'string') node[key] = revive(v);
      }
    }
  }
  return root;
}

/** JSON.stringify(value) (undefined → "null"), with bigints written as bare integers. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
  }
  const marker = `\u0000sy-int:${randomBytes(8).toString('hex')}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? marker + v.toString() : v));
  // JSON.stringify writes the marker's NUL as \u0000; the quoted marker and digits become the bare digits.
  const quoted = JSON.stringify(marker).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${quoted}(-?\\d+)"`, 'g'), '$1');
}
