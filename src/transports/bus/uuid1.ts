// Time-based UUIDs (RFC 4122 version 1), the ids Lightbus gives its messages
// (`uuid.uuid1()`). Their time lets a server tell a fresh call from one that waited in a
// queue without another round trip to Redis (see redis/bus/rpc-server.ts). The node id is
// random with the multicast bit set, as RFC 4122 §4.5 asks when no MAC address is used.

import { randomBytes } from 'node:crypto';

const GREGORIAN_OFFSET_MS = 12_219_292_800_000; // 1582-10-15 → 1970-01-01
const TWO_32 = 2 ** 32;
const node = randomBytes(6);
node[0]! |= 0x01;
const nodeHex = node.toString('hex');
let clockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff;
let lastMs = 0;
let ticks = 0;

let suffix = '';
let suffixHigh = -1;
let suffixSeq = -1;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export function uuid1(): string {
  let ms = Date.now();
  if (ms === lastMs) {
    // Up to 10,000 ids per millisecond in 100 ns steps; past that, borrow the next ms.
    if (++ticks >= 10_000) {
      ticks = 0;
      ms = ++lastMs;
    }
  } else {
    if (ms < lastMs) clockSeq = (clockSeq + 1) & 0x3fff; // clock went back
    ticks = 0;
    lastMs = ms;
  }
  // The 60-bit count of 100 ns since 1582, t = sinceMs * 10,000 + ticks, is past a double's
  // 53 exact bits; its two 32-bit halves are computed exactly from sinceMs's halves.
  const sinceMs = ms + GREGORIAN_OFFSET_MS;
  const lowPart = (sinceMs % TWO_32) * 10_000 + ticks; // < 2^46: exact
  const low = lowPart % TWO_32;
  const high = Math.floor(sinceMs / TWO_32) * 10_000 + Math.floor(lowPart / TWO_32); // t >> 32
  // Everything after the low 32 bits changes every ~7 minutes (or when the clock goes back):
  // made once, so that an id costs one number-to-hex and one concatenation.
  if (high !== suffixHigh || clockSeq !== suffixSeq) {
    suffix = `-${hex(high & 0xffff, 4)}-${hex(((high >>> 16) & 0x0fff) | 0x1000, 4)}-${hex(clockSeq | 0x8000, 4)}-${nodeHex}`;
    suffixHigh = high;
    suffixSeq = clockSeq;
  }
  return hex(low, 8) + suffix;
}

/** The value of `length` hex digits at `at`, or -1 if any is not a hex digit. */
function hexAt(id: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const c = id.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

/** Milliseconds since the id was made, by this host's clock; undefined if not a v1 UUID. */
export function ageOfUuid1(id: string, now = Date.now()): number | undefined {
  // xxxxxxxx-xxxx-1xxx-Vxxx-xxxxxxxxxxxx, V one of 8 9 a b (RFC 4122's variant)
  if (id.length !== 36 || id[8] !== '-' || id[13] !== '-' || id[14] !== '1' || id[18] !== '-' || id[23] !== '-') return undefined;
  const variant = hexAt(id, 19, 1);
  if (variant < 8 || variant > 11 || hexAt(id, 20, 3) < 0 || hexAt(id, 24, 12) < 0) return undefined;
  const low = hexAt(id, 0, 8);
  const mid = hexAt(id, 9, 4);
  const high = hexAt(id, 15, 3);
  if (low < 0 || mid < 0 || high < 0) return undefined;
  // In ms the precision a double loses past 2^53 (a few µs) does not matter.
  return now - ((high * 65_536 + mid) * TWO_32 + low) / 10_000 + GREGORIAN_OFFSET_MS;
}
