// The Lightbus protocol's two-step call write as a Lua script, so that a burst of calls
// costs one command: on these machines socket writes and per-command client work are most
// of an RPC's cost. The effects on keys are exactly Lightbus's commands. (Results need no
// script: see rpc-writes.ts.)

import type { Redis } from 'ioredis';

/**
 * A burst of calls to one queue: SET rpc_expiry_key:{id} 1 EX ttl for each (so no server
 * sees a call without its key), then one RPUSH of every blob.
 * KEYS = queue, expiry key, expiry key, …; ARGV = ttl, blob, blob, … (same order).
 */
const CALLS = `local ttl = ARGV[1]
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ttl) end
return redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))`;

export interface BusScripts {
  /** numKeys, then the keys, then the arguments (see CALLS). */
  busCalls(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, EVAL once if Redis lacks them). */
export function withBusScripts(redis: Redis): Redis & BusScripts {
  if (!(redis as Partial<BusScripts>).busCalls) {
    // No numberOfKeys: the first argument says how many keys follow.
    redis.defineCommand('busCalls', { lua: CALLS });
  }
  return redis as Redis & BusScripts;
}
