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

/**
 * How long stop() waits for writes to Redis (acks, results, leaving the server set) while
 * Redis does not answer. A stop must end: ioredis keeps commands queued on a reconnecting
 * connection, and one that is then disconnected never settles them.
 */
export const STOP_GRACE_MS = 2_000;

/** Resolves as `work` does, or with undefined once `stop` resolves (whichever is first). */
export function unlessStopped<T>(work: Promise<T>, stop: Promise<void>): Promise<T | undefined> {
  return Promise.race([work, stop.then(() => undefined)]);
}

/** A promise settled from outside: `stopped.resolve()` once stopping begins. */
export function signal(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve: () => resolve() };
}

/** A wait that does not keep the process alive by itself. */
const unrefSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Resolves STOP_GRACE_MS after `from` resolved. */
export function graceAfter(from: Promise<void>): Promise<void> {
  return from.then(() => unrefSleep(STOP_GRACE_MS));
}

/** QUIT, or (Redis not answering within the grace) a plain disconnect. */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await unlessStopped(redis.quit().catch(() => undefined), unrefSleep(STOP_GRACE_MS));
  redis.disconnect();
}
