// The two kinds of RPC writes on Redis, each collected per tick into one script call
// (burst.ts, scripts.ts), on a connection of its own without auto-pipelining.

import type { Redis } from 'ioredis';
import { Burst } from './burst.js';
import { withBusScripts, type BusScripts } from './scripts.js';

/** Most writes in one script call; see burst.ts for why bursts are cut. */
const CHUNK = 16;

export interface CallWrite {
  readonly queue: string;
  readonly expiryKey: string;
  readonly ttlS: number;
  readonly blob: string;
}

export interface ResultWrite {
  readonly key: string;
  readonly blob: string;
  readonly ttlS: number;
  /** The key names a caller of ours, who also listens on the channel of that name. */
  readonly publish: boolean;
  /** The call's expiry key, when it is still there to delete (see scripts.ts). */
  readonly expiryKey?: string;
}

/** Calls: one script per queue (and expiry) in a chunk. */
export function callWriter(connection: Redis): Burst<CallWrite> {
  const redis: Redis & BusScripts = withBusScripts(connection);
  return new Burst<CallWrite>((calls) => {
    const first = calls[0]!;
    if (calls.every((c) => c.queue === first.queue && c.ttlS === first.ttlS)) return sendCalls(redis, calls);
    const groups = new Map<string, CallWrite[]>();
    for (const c of calls) {
      const group = `${c.ttlS} ${c.queue}`;
      groups.get(group)?.push(c) ?? groups.set(group, [c]);
    }
    return Promise.all([...groups.values()].map((g) => sendCalls(redis, g)));
  }, CHUNK);
}

function sendCalls(redis: BusScripts, calls: CallWrite[]): Promise<number> {
  const keys: string[] = [calls[0]!.queue];
  const args: (string | number)[] = [calls[0]!.ttlS];
  for (const c of calls) {
    keys.push(c.expiryKey);
    args.push(c.blob);
  }
  return redis.busCalls(keys.length, ...keys, ...args);
}

/** Results: one script per chunk, the results for one key joined into one entry. */
export function resultWriter(connection: Redis): Burst<ResultWrite> {
  const redis: Redis & BusScripts = withBusScripts(connection);
  return new Burst<ResultWrite>((results) => {
    const byKey = new Map<string, { joined: string; ttlS: number; publish: boolean }>();
    const expiryKeys: string[] = [];
    for (const r of results) {
      const entry = byKey.get(r.key);
      if (entry) entry.joined += `\n${r.blob}`;
      else byKey.set(r.key, { joined: r.blob, ttlS: r.ttlS, publish: r.publish });
      if (r.expiryKey) expiryKeys.push(r.expiryKey);
    }
    const keys: string[] = [];
    const args: (string | number)[] = [byKey.size];
    for (const [key, { joined, ttlS, publish }] of byKey) {
      keys.push(key);
      args.push(joined, ttlS, publish ? '1' : '0');
    }
    keys.push(...expiryKeys);
    return redis.busResults(keys.length, ...keys, ...args);
  }, CHUNK);
}
