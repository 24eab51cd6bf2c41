// Time-based UUIDs (RFC 4122 version 1), the ids Lightbus gives its messages
// (`uuid.uuid1()`). Their time lets a server tell a fresh call from one that waited in a
// queue without another round trip to Redis (see redis/bus/rpc-server.ts). The node id is
// random with the multicast bit set, as RFC 4122 §4.5 asks when no MAC address is used.

import { randomBytes } from 'node:crypto';

const GREGORIAN_OFFSET_MS = 12_219_292_800_000n; // 1582-10-15 → 1970-01-01
const node = randomBytes(6);
node[0]! |= 0x01;
const nodeHex = node.toString('hex');
let clockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff;
let lastMs = 0;
let ticks = 0;

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
  const t = (BigInt(ms) + GREGORIAN_OFFSET_MS) * 10_000n + BigInt(ticks);
  const low = (t & 0xffffffffn).toString(16).padStart(8, '0');
  const mid = ((t >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const high = (((t >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  const seq = (clockSeq | 0x8000).toString(16).padStart(4, '0');
  return `${low}-${mid}-${high}-${seq}-${nodeHex}`;
}

const UUID1 = /^([0-9a-f]{8})-([0-9a-f]{4})-1([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Milliseconds since the id was made, by this host's clock; undefined if not a v1 UUID. */
export function ageOfUuid1(id: string, now = Date.now()): number | undefined {
  const m = UUID1.exec(id);
  if (!m) return undefined;
  const t = (BigInt(`0x${m[3]}`) << 48n) | (BigInt(`0x${m[2]}`) << 32n) | BigInt(`0x${m[1]}`);
  return now - Number(t / 10_000n - GREGORIAN_OFFSET_MS);
}
