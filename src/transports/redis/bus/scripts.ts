// Two-step writes as one Lua script each, so a call or a result costs one command (one
// socket write) instead of two, and a burst of them one command in all: on these machines
// writes and per-command client work are most of an RPC's cost. The effects are exactly
// the Lightbus commands, in the same order.

import type { Redis } from 'ioredis';

/** SET rpc_expiry_key:{id} 1 EX ttl, then RPUSH the call on its queue. */
const CALL = `redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]); return redis.call('RPUSH', KEYS[2], ARGV[2])`;
/**
 * LPUSH the result on the return path's key, then EXPIRE it; with ARGV[3] = '1' (a caller
 * of ours, see REPLY_KEY_PREFIX) PUBLISH it on the channel of that name first and push only
 * when no one received it (the caller is reconnecting, or gone).
 */
const RESULT = `if ARGV[3] == '1' and redis.call('PUBLISH', KEYS[1], ARGV[1]) > 0 then return 0 end; redis.call('LPUSH', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[2]); return 1`;

/** A burst of calls: KEYS = expiry key, queue, expiry key, queue, …; ARGV = ttl, blob, ttl, blob, … */
const CALLS = `for i = 1, #KEYS, 2 do redis.call('SET', KEYS[i], '1', 'EX', ARGV[i]); redis.call('RPUSH', KEYS[i + 1], ARGV[i + 1]) end; return #KEYS / 2`;
/** A burst of results: KEYS = return path keys; ARGV = blob, ttl, publish, blob, ttl, publish, … (see RESULT). */
const RESULTS = `for i = 1, #KEYS do local b = ARGV[3 * i - 2]; if not (ARGV[3 * i] == '1' and redis.call('PUBLISH', KEYS[i], b) > 0) then redis.call('LPUSH', KEYS[i], b); redis.call('EXPIRE', KEYS[i], ARGV[3 * i - 1]) end end; return #KEYS`;

export interface BusScripts {
  /** numKeys, then the keys, then the arguments (see CALLS). */
  busCalls(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  busResults(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  busCall(expiryKey: string, queue: string, ttlS: number, blob: string | Buffer): Promise<number>;
  busResult(key: string, blob: string | Buffer, ttlS: number, publish: '0' | '1'): Promise<number>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, EVAL once if Redis lacks them). */
export function withBusScripts(redis: Redis): Redis & BusScripts {
  if (!(redis as Partial<BusScripts>).busCall) {
    redis.defineCommand('busCall', { numberOfKeys: 2, lua: CALL });
    redis.defineCommand('busResult', { numberOfKeys: 1, lua: RESULT });
    // No numberOfKeys: the first argument says how many keys follow.
    redis.defineCommand('busCalls', { lua: CALLS });
    redis.defineCommand('busResults', { lua: RESULTS });
  }
  return redis as Redis & BusScripts;
}
