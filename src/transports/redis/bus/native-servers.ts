// Which APIs a server of ours serves right now, so that our callers can use the native
// format (native-wire.ts) for them and Lightbus's format otherwise. Each server keeps its
// id in the sorted set "switchyard:rpc_servers:{api}", scored with the Redis-clock ms at
// which it counts as gone unless renewed; it renews every RENEW_MS and leaves on stop.
// A caller asks once per API and again at most every RECHECK_MS, in the background.
//
// The price: for up to LIFETIME_MS after the last server of ours crashes (RECHECK_MS after
// it stops cleanly), our callers still queue native calls, which time out, even if a
// Lightbus server serves the API too. Calls of a Lightbus caller reach ours either way.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../observability/logger.js';
import { nativeServersKey } from '../../../protocols/lightbus/names.js';
import type { RedisClock } from './redis-clock.js';

const RENEW_MS = 5_000;
const LIFETIME_MS = 15_000;
const RECHECK_MS = 2_000;

/** Announces this server for `apis` until the returned stop() (which removes it). */
export async function announceServer(redis: Redis, clock: RedisClock, apis: readonly string[], logger: Logger): Promise<{ stop(): Promise<void> }> {
  const id = randomUUID();
  const renew = async () => {
    const now = clock.now();
    const pipe = redis.pipeline();
    for (const api of apis) pipe.zremrangebyscore(nativeServersKey(api), '-inf', now).zadd(nativeServersKey(api), now + LIFETIME_MS, id);
    await pipe.exec();
  };
  await renew();
  const timer = setInterval(() => void renew().catch((err: Error) => logger.warn({ err: err.message }, 'renewing this RPC server on Redis failed; retrying')), RENEW_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      const pipe = redis.pipeline();
      for (const api of apis) pipe.zrem(nativeServersKey(api), id);
      await pipe.exec().catch(() => undefined); // it lapses after LIFETIME_MS anyway
    },
  };
}

interface Known {
  native: boolean;
  checkedAt: number;
  checking?: Promise<boolean>;
}

/** The caller's view: is a server of ours serving this API? */
export class NativeServers {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly redis: Redis,
    private readonly clock: RedisClock,
  ) {}

  /** The answer if one is at hand (re-checked in the background when old), else undefined. */
  peek(api: string): boolean | undefined {
    const k = this.known.get(api);
    if (!k || k.checkedAt === 0) return undefined; // never asked, or the first answer is on its way
    if (!k.checking && Date.now() - k.checkedAt > RECHECK_MS) void this.check(api, k);
    return k.native;
  }

  /** The answer, asking Redis first if this API was never asked about. */
  lookup(api: string): Promise<boolean> {
    const k = this.known.get(api);
    if (k) return k.checking ?? Promise.resolve(k.native);
    const first: Known = { native: false, checkedAt: 0 };
    this.known.set(api, first);
    return this.check(api, first);
  }

  private check(api: string, k: Known): Promise<boolean> {
    k.checking = this.redis.zcount(nativeServersKey(api), `(${this.clock.now()}`, '+inf').then(
      (n) => n > 0,
      () => k.native, // Redis unreachable: keep what we knew
    );
    return k.checking.then((native) => {
      k.native = native;
      k.checkedAt = Date.now();
      k.checking = undefined;
      return native;
    });
  }
}
