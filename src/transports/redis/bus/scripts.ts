// The Lightbus protocol's two-step writes as Lua scripts, so that a burst of calls (or of
// results) costs one command: on these machines socket writes and per-command client work
// are most of an RPC's cost. The effects on keys are exactly Lightbus's commands.

import type { Redis } from 'ioredis';

/**
 * A burst of calls to one queue: SET rpc_expiry_key:{id} 1 EX ttl for each (so no server
 * sees a call without its key), then one RPUSH of every blob.
 * KEYS = queue, expiry key, expiry key, …; ARGV = ttl, blob, blob, … (same order).
 */
const CALLS = `local ttl = ARGV[1]
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ttl) end
return redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))`;

/**
 * A burst of results, one entry per return path key: its results joined by newlines (JSON
 * text never holds a raw newline), the key's TTL, and '1' when the key names a caller of
 * ours (REPLY_KEY_PREFIX), who subscribes to the channel of that name: the results are
 * published there as one message. Otherwise, or when no one received them (the caller is
 * reconnecting, or gone), each result is LPUSHed to the key, which then EXPIREs.
 * Then the expiry keys of the calls answered, if any, are deleted: Lightbus's server
 * deletes each when it takes the call, ours skips that round trip for fresh calls
 * (rpc-server.ts) and deletes them here, so they do not pile up until they expire (at
 * thousands of calls a second, Redis then spends its time growing and expiring them).
 * KEYS = return path keys, then expiry keys; ARGV = number of return path keys, then
 * joined, ttl, publish for each.
 */
const RESULTS = `local n = tonumber(ARGV[1])
for i = 1, n do
  local joined = ARGV[3 * i - 1]
  if not (ARGV[3 * i + 1] == '1' and redis.call('PUBLISH', KEYS[i], joined) > 0) then
    for one in string.gmatch(joined, '[^\\n]+') do redis.call('LPUSH', KEYS[i], one) end
    redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
  end
end
if #KEYS > n then redis.call('DEL', unpack(KEYS, n + 1)) end
return n`;

export interface BusScripts {
  /** numKeys, then the keys, then the arguments (see CALLS). */
  busCalls(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  /** numKeys, then the keys, then the arguments (see RESULTS). */
  busResults(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, EVAL once if Redis lacks them). */
export function withBusScripts(redis: Redis): Redis & BusScripts {
  if (!(redis as Partial<BusScripts>).busCalls) {
    // No numberOfKeys: the first argument says how many keys follow.
    redis.defineCommand('busCalls', { lua: CALLS });
    redis.defineCommand('busResults', { lua: RESULTS });
  }
  return redis as Redis & BusScripts;
}
