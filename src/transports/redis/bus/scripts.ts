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

/**
 * A burst of events: one XADD each, exactly the command a fire sends alone (trimmed with
 * MAXLEN ~ unless ARGV[1] is ''). Each XADD runs in pcall, so one that fails (a stream key
 * of another type) fails alone: its place in the reply holds {its error message}, the
 * others' their id.
 * KEYS = the stream of each event; ARGV = maxLength or '', then per event: its field count, its fields.
 */
const FIRES = `local out = {}
local at = 2
for i = 1, #KEYS do
  local n = tonumber(ARGV[at])
  local ok, id
  if ARGV[1] == '' then ok, id = pcall(redis.call, 'XADD', KEYS[i], '*', unpack(ARGV, at + 1, at + n))
  else ok, id = pcall(redis.call, 'XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, at + 1, at + n)) end
  if ok then out[i] = id else out[i] = { type(id) == 'table' and id.err or tostring(id) } end
  at = at + n + 1
end
return out`;

export interface BusScripts {
  /** numKeys, then the keys, then the arguments (see CALLS). */
  busCalls(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number>;
  /** numKeys, then the keys, then the arguments (see FIRES): an id, or [error message], per event. */
  busFires(args: (string | number)[]): Promise<Array<string | [string]>>;
}

/** Defines the scripts on a connection (ioredis sends EVALSHA, EVAL once if Redis lacks them). */
export function withBusScripts(redis: Redis): Redis & BusScripts {
  if (!(redis as Partial<BusScripts>).busCalls) {
    // No numberOfKeys: the first argument says how many keys follow.
    redis.defineCommand('busCalls', { lua: CALLS });
    redis.defineCommand('busFires', { lua: FIRES });
  }
  return redis as Redis & BusScripts;
}
