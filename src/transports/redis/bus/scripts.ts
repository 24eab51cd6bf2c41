// Two-step writes as one Lua script each, so a call or a result costs one command (one
// socket write) instead of two: on these machines a write is the largest part of an RPC's
// cost. The effects are exactly the two Lightbus commands, in the same order.

import type { Redis } from 'ioredis';

/** SET rpc_expiry_key:{id} 1 EX ttl, then RPUSH the call on its queue. */
const CALL = `redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]); return redis.call('RPUSH', KEYS[2], ARGV[2])`;
/** LPUSH the result on the return path's key, then EXPIRE it. */
const RESULT = `local n = redis.call('LPUSH', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[2]); return n`;

export interface BusScripts {
  busCall(expiryKey: string, queue: string, ttlS: number, blob: string | Buffer): Promise<number>;
  busResult(key: string, blob: string | Buffer, ttlS: number): Promise<number>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, EVAL once if Redis lacks them). */
export function withBusScripts(redis: Redis): Redis & BusScripts {
  if (!(redis as Partial<BusScripts>).busCall) {
    redis.defineCommand('busCall', { numberOfKeys: 2, lua: CALL });
    redis.defineCommand('busResult', { numberOfKeys: 1, lua: RESULT });
  }
  return redis as Redis & BusScripts;
}
