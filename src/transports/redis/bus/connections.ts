// ioredis connections of a bus transport: one for commands, and one per blocking reader
// (BLPOP and XREADGROUP BLOCK hold their connection). Every connection reconnects with
// backoff and says so in the log; the URL's password never reaches a log line.

import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from '../../../errors.js';
import type { Logger } from '../../../observability/logger.js';
import { redisReconnectDelay } from '../reconnect.js';

export function openRedis(url: string, role: string, logger: Logger, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Commands wait through an outage instead of failing after 20 tries; callers bound
    // their own waits (RPC timeout, event fire timeout).
    maxRetriesPerRequest: null,
    retryStrategy: redisReconnectDelay,
    connectionName: `switchyard-${role}`,
    // Commands issued in the same tick (fires, acks, result pushes) go out as one write.
    enableAutoPipelining: role === 'commands',
    ...extra,
  });
  let lost = false;
  redis.on('error', (err: Error) => {
    if (!lost) logger.warn({ role, url: redactUrl(url), err: err.message }, 'redis connection error');
  });
  redis.on('close', () => {
    if (!lost && redis.status !== 'end') logger.warn({ role, url: redactUrl(url) }, 'redis connection lost; reconnecting with backoff');
    lost = redis.status !== 'end';
  });
  redis.on('ready', () => {
    if (lost) logger.info({ role, url: redactUrl(url) }, 'redis connection back');
    lost = false;
  });
  return redis;
}

/** True for the error a blocking command gets when its connection is closed on purpose. */
export function isClosedError(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /Connection is closed|Connection manually closed/i.test(message);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
