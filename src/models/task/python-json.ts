// Python's `json.loads(bytes)` (CPython 3.11, its C scanner), so a body that is not JSON
// gets the error FastAPI reports: the same message ("Expecting value", "Expecting ','
// delimiter", ...) at the same position, counted in characters (code points) as Python
// counts them. The messages name what was expected, never the text found, so nothing of
// the body is repeated.
//
// Valid JSON is parsed by JSON.parse (fast); this scanner runs only when JSON.parse fails,
// to find Python's error, or to accept what Python accepts beyond JSON (NaN, Infinity,
// -Infinity). Nesting is bounded: Python fails with RecursionError near 1,000 levels;
// here deeper than `maxDepth` is refused before anything recurses.

export type PythonJsonResult =
  | { readonly ok: true; readonly value: unknown }
  /** json.JSONDecodeError: its `msg` and `pos` (a code-point index). */
  | { readonly ok: false; readonly reason: 'syntax'; readonly msg: string; readonly pos: number }
  /** The bytes are not text in the encoding Python detects (UnicodeDecodeError). */
  | { readonly ok: false; readonly reason: 'encoding' }
  /** Nested deeper than maxDepth; `pos` is where the level past the limit opens. */
  | { readonly ok: false; readonly reason: 'depth'; readonly pos: number };

/** json.detect_encoding: BOMs, then the pattern of zero bytes in the first four. */
export function detectEncoding(b: Uint8Array): 'utf-32' | 'utf-16' | 'utf-8-sig' | 'utf-16-be' | 'utf-32-be' | 'utf-16-le' | 'utf-32-le' | 'utf-8' {
  const starts = (...bytes: number[]) => bytes.every((v, i) => b[i] === v) && b.length >= bytes.length;
  if (starts(0x00, 0x00, 0xfe, 0xff) || starts(0xff, 0xfe, 0x00, 0x00)) return 'utf-32';
  if (starts(0xfe, 0xff) || starts(0xff, 0xfe)) return 'utf-16';
  if (starts(0xef, 0xbb, 0xbf)) return 'utf-8-sig';
  if (b.length >= 4) {
    if (!b[0]) return b[1] ? 'utf-16-be' : 'utf-32-be';
    if (!b[1]) return b[2] || b[3] ? 'utf-16-le' : 'utf-32-le';
  } else if (b.length === 2) {
    if (!b[0]) return 'utf-16-be';
    if (!b[1]) return 'utf-16-le';
  }
  return 'utf-8';
}

function decodeUtf32(b: Uint8Array, littleEndian: boolean): string | undefined {
  if (b.length % 4 !== 0) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let out = '';
  for (let i = 0; i < b.length; i += 4) {
    const cp = view.getUint32(i, littleEndian);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
  }
  return out;
}

/** The body as Python decodes it for json.loads, or undefined where Python fails. */
export function decodeLikePython(b: Uint8Array): string | undefined {
  const encoding = detectEncoding(b);
  try {
    switch (encoding) {
      case 'utf-8':
      case 'utf-8-sig':
        // TextDecoder drops one leading BOM, which is what utf-8-sig does (and utf-8 has none here).
        return new TextDecoder('utf-8', { fatal: true }).decode(b);
      case 'utf-16-le':
      case 'utf-16-be':
        return new TextDecoder(encoding === 'utf-16-le' ? 'utf-16le' : 'utf-16be', { fatal: true, ignoreBOM: true }).decode(b);
      case 'utf-16':
        return new TextDecoder(b[0] === 0xff ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(b);
      case 'utf-32':
        return decodeUtf32(b.subarray(4), b[0] === 0xff);
      case 'utf-32-le':
      case 'utf-32-be':
        return decodeUtf32(b, encoding === 'utf-32-le');
    }
  } catch {
    return undefined;
  }
}

/** How deep `text` nests, scanning brackets outside strings; the index where `max` is passed, or -1. */
export function depthExceededAt(text: string, max: number): number {
  // Fewer opening brackets than the limit in all (the usual case) cannot nest past it: counted natively.
  let opening = 0;
  for (const bracket of ['[', '{']) {
    for (let i = text.indexOf(bracket); i !== -1 && opening <= max; i = text.indexOf(bracket, i + 1)) opening++;
  }
  if (opening <= max) return -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

class DecodeError {
  constructor(readonly msg: string, readonly pos: number) {}
}
/** Nesting past maxDepth (where Python would raise RecursionError). */
class DepthExceeded {
  constructor(readonly pos: number) {}
}
/** StopIteration(idx) in CPython's scanner: "Expecting value" at idx, once it reaches the top. */
class StopScan {
  constructor(readonly pos: number) {}
}

const isWs = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** CPython's scan_once_unicode and friends over code points, with a depth bound. */
class Scanner {
  readonly s: Uint32Array;
  readonly len: number;
  readonly endIdx: number;

  constructor(text: string, readonly maxDepth: number) {
    const cps: number[] = [];
    for (const ch of text) cps.push(ch.codePointAt(0)!);
    this.s = Uint32Array.from(cps);
    this.len = this.s.length;
    this.endIdx = this.len - 1;
  }

  at(i: number): number | undefined {
    return i >= 0 && i < this.len ? this.s[i] : undefined;
  }

  matches(idx: number, word: string): boolean {
    if (idx + word.length - 1 >= this.len) return false;
    for (let k = 0; k < word.length; k++) if (this.s[idx + k] !== word.charCodeAt(k)) return false;
    return true;
  }

  skipWs(idx: number): number {
    while (idx <= this.endIdx && isWs(this.s[idx])) idx++;
    return idx;
  }

  scanOnce(idx: number, depth: number): [unknown, number] {
    if (idx >= this.len) throw new StopScan(idx);
    switch (this.s[idx]) {
      case 0x22: // "
        return this.scanString(idx + 1);
      case 0x7b: // {
        if (depth + 1 > this.maxDepth) throw new DepthExceeded(idx);
        return this.parseObject(idx + 1, depth + 1);
      case 0x5b: // [
        if (depth + 1 > this.maxDepth) throw new DepthExceeded(idx);
        return this.parseArray(idx + 1, depth + 1);
      case 0x6e: // n
        if (this.matches(idx, 'null')) return [null, idx + 4];
        break;
      case 0x74: // t
        if (this.matches(idx, 'true')) return [true, idx + 4];
        break;
      case 0x66: // f
        if (this.matches(idx, 'false')) return [false, idx + 5];
        break;
      case 0x4e: // N
        if (this.matches(idx, 'NaN')) return [NaN, idx + 3];
        break;
      case 0x49: // I
        if (this.matches(idx, 'Infinity')) return [Infinity, idx + 8];
        break;
      case 0x2d: // -
        if (this.matches(idx, '-Infinity')) return [-Infinity, idx + 9];
        break;
    }
    return this.matchNumber(idx);
  }

  matchNumber(start: number): [unknown, number] {
    const s = this.s;
    const endIdx = this.endIdx;
    let idx = start;
    if (s[idx] === 0x2d) {
      idx++;
      if (idx > endIdx) throw new StopScan(start);
    }
    const first = s[idx]!;
    if (first >= 0x31 && first <= 0x39) {
      idx++;
      while (idx <= endIdx && isDigit(s[idx])) idx++;
    } else if (first === 0x30) {
      idx++;
    } else {
      throw new StopScan(start);
    }
    if (idx < endIdx && s[idx] === 0x2e && isDigit(s[idx + 1])) {
      idx += 2;
      while (idx <= endIdx && isDigit(s[idx])) idx++;
    }
    if (idx < endIdx && (s[idx] === 0x65 || s[idx] === 0x45)) {
      const eStart = idx;
      idx++;
      if (idx < endIdx && (s[idx] === 0x2d || s[idx] === 0x2b)) idx++;
      while (idx <= endIdx && isDigit(s[idx])) idx++;
      if (!isDigit(s[idx - 1])) idx = eStart;
    }
    return [Number(String.fromCodePoint(...s.subarray(start, idx))), idx];
  }

  scanString(end: number): [string, number] {
    const s = this.s;
    const len = this.len;
    const begin = end - 1;
    let out = '';
    for (;;) {
      let next = end;
      let c = 0;
      for (; next < len; next++) {
        c = s[next]!;
        if (c === 0x22 || c === 0x5c) break;
        if (c <= 0x1f) throw new DecodeError('Invalid control character at', next);
      }
      if (next >= len || (c !== 0x22 && c !== 0x5c)) throw new DecodeError('Unterminated string starting at', begin);
      if (next !== end) out += String.fromCodePoint(...s.subarray(end, next));
      next++;
      if (c === 0x22) return [out, next];
      if (next === len) throw new DecodeError('Unterminated string starting at', begin);
      c = s[next]!;
      if (c !== 0x75) {
        end = next + 1;
        const simple: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
        const ch = simple[c];
        if (ch === undefined) throw new DecodeError('Invalid \\escape', end - 2);
        out += ch;
        continue;
      }
      next++;
      end = next + 4;
      if (end >= len) throw new DecodeError('Invalid \\uXXXX escape', next - 1);
      let code = 0;
      for (; next < end; next++) {
        const h = hexValue(s[next]);
        if (h < 0) throw new DecodeError('Invalid \\uXXXX escape', end - 5);
        code = (code << 4) | h;
      }
      if (code >= 0xd800 && code <= 0xdbff && end + 6 < len && s[next] === 0x5c && s[next + 1] === 0x75) {
        next += 2;
        end += 6;
        let low = 0;
        for (; next < end; next++) {
          const h = hexValue(s[next]);
          if (h < 0) throw new DecodeError('Invalid \\uXXXX escape', end - 5);
          low = (low << 4) | h;
        }
        if (low >= 0xdc00 && low <= 0xdfff) code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        else end -= 6;
      }
      out += code >= 0xd800 && code <= 0xdfff ? String.fromCharCode(code) : String.fromCodePoint(code);
    }
  }

  parseObject(idx: number, depth: number): [unknown, number] {
    const s = this.s;
    const endIdx = this.endIdx;
    const obj: Record<string, unknown> = {};
    idx = this.skipWs(idx);
    if (idx > endIdx || s[idx] !== 0x7d) {
      for (;;) {
        if (idx > endIdx || s[idx] !== 0x22) throw new DecodeError('Expecting property name enclosed in double quotes', idx);
        const [key, afterKey] = this.scanString(idx + 1);
        idx = this.skipWs(afterKey);
        if (idx > endIdx || s[idx] !== 0x3a) throw new DecodeError("Expecting ':' delimiter", idx);
        idx = this.skipWs(idx + 1);
        const [value, afterValue] = this.scanOnce(idx, depth);
        // As JSON.parse does: "__proto__" becomes an own property, never the prototype.
        Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
        idx = this.skipWs(afterValue);
        if (idx <= endIdx && s[idx] === 0x7d) break;
        if (idx > endIdx || s[idx] !== 0x2c) throw new DecodeError("Expecting ',' delimiter", idx);
        idx = this.skipWs(idx + 1);
      }
    }
    return [obj, idx + 1];
  }

  parseArray(idx: number, depth: number): [unknown, number] {
    const s = this.s;
    const endIdx = this.endIdx;
    const list: unknown[] = [];
    idx = this.skipWs(idx);
    if (idx > endIdx || s[idx] !== 0x5d) {
      for (;;) {
        const [value, afterValue] = this.scanOnce(idx, depth);
        list.push(value);
        idx = this.skipWs(afterValue);
        if (idx <= endIdx && s[idx] === 0x5d) break;
        if (idx > endIdx || s[idx] !== 0x2c) throw new DecodeError("Expecting ',' delimiter", idx);
        idx = this.skipWs(idx + 1);
      }
    }
    if (idx > endIdx || s[idx] !== 0x5d) throw new DecodeError('Expecting value', endIdx);
    return [list, idx + 1];
  }

  /** JSONDecoder.decode: whitespace, one value, whitespace, then the end. */
  decode(): unknown {
    const start = this.skipWs(0);
    let value: unknown;
    let end: number;
    try {
      [value, end] = this.scanOnce(start, 0);
    } catch (err) {
      if (err instanceof StopScan) throw new DecodeError('Expecting value', err.pos);
      throw err;
    }
    end = this.skipWs(end);
    if (end !== this.len) throw new DecodeError('Extra data', end);
    return value;
  }
}

/** json.loads(text) of a str: Python refuses a leading BOM there (a decoded body keeps none). */
export function loadsText(text: string, maxDepth: number): PythonJsonResult {
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, reason: 'syntax', msg: 'Unexpected UTF-8 BOM (decode using utf-8-sig)', pos: 0 };
  return parse(text, maxDepth);
}

/** json.loads(body) of bytes, as Starlette's request.json() calls it. */
export function loadsBytes(bytes: Uint8Array, maxDepth: number): PythonJsonResult {
  const text = decodeLikePython(bytes);
  if (text === undefined) return { ok: false, reason: 'encoding' };
  return parse(text, maxDepth);
}

function parse(text: string, maxDepth: number): PythonJsonResult {
  const deep = depthExceededAt(text, maxDepth);
  if (deep >= 0) return { ok: false, reason: 'depth', pos: codePointIndex(text, deep) };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // Not JSON to V8: Python's scanner says why (or accepts NaN/Infinity).
  }
  try {
    return { ok: true, value: new Scanner(text, maxDepth).decode() };
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, reason: 'syntax', msg: err.msg, pos: err.pos };
    if (err instanceof DepthExceeded) return { ok: false, reason: 'depth', pos: err.pos };
    throw err;
  }
}

/** The code-point index of a UTF-16 index (Python counts characters, JavaScript code units). */
export function codePointIndex(text: string, unitIndex: number): number {
  let pairs = 0;
  for (let i = 0; i < unitIndex - 1; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return unitIndex - pairs;
}
