// Lua scripts, so that every settlement is one atomic step on the server: a message is
// never both back in a queue and still pending, nor acked and not yet re-added. Times
// come from the server's clock (TIME), so delays do not depend on the clients' clocks.

import type { Redis } from 'ioredis';

/** True when `id` is pending in `group` and held by `consumer` (not reclaimed by another). */
const OWNED = `
local function owned(stream, group, id, consumer)
  local p = redis.call('XPENDING', stream, group, id, id, 1)
  return p[1] ~= nil and p[1][2] == consumer
end
local function settle(stream, group, id, delete)
  redis.call('XACK', stream, group, id)
  if delete == '1' then redis.call('XDEL', stream, id) end
end
`;

const SCRIPTS = {
  /** KEYS: stream. ARGV: group, delete ('1' on queue streams), ids... */
  syAck: {
    numberOfKeys: 1,
    lua: `
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3))
if ARGV[2] == '1' then redis.call('XDEL', KEYS[1], unpack(ARGV, 3)) end
return n`,
  },
  /**
   * Requeue or dead-letter: the entry is added to the target stream (trimmed to about
   * maxLength entries unless that is 0) and settled on its source, at once, but only while
   * this consumer still holds it (0 otherwise).
   * KEYS: source stream, target stream. ARGV: group, delete, id, consumer, maxLength, field, value, ...
   */
  syMove: {
    numberOfKeys: 2,
    lua: `${OWNED}
if not owned(KEYS[1], ARGV[1], ARGV[3], ARGV[4]) then return 0 end
if ARGV[5] == '0' then redis.call('XADD', KEYS[2], '*', unpack(ARGV, 6))
else redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(ARGV, 6)) end
settle(KEYS[1], ARGV[1], ARGV[3], ARGV[2])
return 1`,
  },
  /**
   * Delayed requeue: the entry waits in a sorted set (due time) plus a hash (its fields,
   * msgpack) and is settled on its source, at once. KEYS: source stream, delayed set,
   * delayed data. ARGV: group, delete, id, consumer, delayMs, uid, field, value, ...
   */
  syDelay: {
    numberOfKeys: 3,
    lua: `${OWNED}
if not owned(KEYS[1], ARGV[1], ARGV[3], ARGV[4]) then return 0 end
local t = redis.call('TIME')
local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[5])
redis.call('HSET', KEYS[3], ARGV[6], cmsgpack.pack({unpack(ARGV, 7)}))
redis.call('ZADD', KEYS[2], due, ARGV[6])
settle(KEYS[1], ARGV[1], ARGV[3], ARGV[2])
return 1`,
  },
  /**
   * Moves due delayed entries to their queue; answers how many still wait.
   * KEYS: delayed set, delayed data, target stream. ARGV: limit.
   */
  syDue: {
    numberOfKeys: 3,
    lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, uid in ipairs(due) do
  local packed = redis.call('HGET', KEYS[2], uid)
  if packed then
    redis.call('XADD', KEYS[3], '*', unpack(cmsgpack.unpack(packed)))
    redis.call('HDEL', KEYS[2], uid)
  end
  redis.call('ZREM', KEYS[1], uid)
end
return redis.call('ZCARD', KEYS[1])`,
  },
  /**
   * Resets the idle time of entries this consumer still holds (its handlers are running),
   * so a live consumer's work is not reclaimed. KEYS: stream. ARGV: group, consumer, ids...
   */
  syTouch: {
    numberOfKeys: 1,
    lua: `${OWNED}
local n = 0
for i = 3, #ARGV do
  if owned(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n`,
  },
  /**
   * Deletes the group's consumers that hold nothing and were not seen for minIdle ms (the
   * names of killed processes; a live consumer reads every blockMs, and would come back by
   * itself with its next read anyway). One script, so none can take an entry in between.
   * KEYS: stream. ARGV: group, minIdle.
   */
  syPrune: {
    numberOfKeys: 1,
    lua: `
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if tonumber(info['pending']) == 0 and tonumber(info['idle']) >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    n = n + 1
  end
end
return n`,
  },
  /**
   * Request/reply: RPUSH, and make the list expire no sooner than ttlMs from now (never
   * shortening a longer expiry of an earlier element). One command instead of three.
   * KEYS: list. ARGV: element, ttlMs.
   */
  syPush: {
    numberOfKeys: 1,
    lua: `
redis.call('RPUSH', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
  },
} as const;

type Arg = string | Buffer | number;

/** The scripts as commands of a connection (ioredis sends EVALSHA, EVAL on a cache miss). */
export interface ScriptedRedis {
  syAck(stream: string, group: string, del: '0' | '1', ...ids: string[]): Promise<number>;
  syMove(source: string, target: string, group: string, del: '0' | '1', id: string, consumer: string, maxLength: number, ...fields: Arg[]): Promise<number>;
  syDelay(source: string, delayedSet: string, delayedData: string, group: string, del: '0' | '1', id: string, consumer: string, delayMs: number, uid: string, ...fields: Arg[]): Promise<number>;
  syDue(delayedSet: string, delayedData: string, target: string, limit: number): Promise<number>;
  syTouch(stream: string, group: string, consumer: string, ...ids: string[]): Promise<number>;
  syPrune(stream: string, group: string, minIdleMs: number): Promise<number>;
  syPush(list: string, element: Buffer, ttlMs: number): Promise<number>;
}

/** The scripts as commands of a pipeline (results come with exec()). */
export interface ScriptedPipeline {
  syPush(list: string, element: Buffer, ttlMs: number): ScriptedPipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

export function withScripts(redis: Redis): Redis & ScriptedRedis {
  for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys, lua });
  return redis as Redis & ScriptedRedis;
}
