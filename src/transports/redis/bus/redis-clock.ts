// Redis's clock, read from this process: the offset from Date.now() to Redis's TIME,
// measured at the middle of one round trip. Callers and servers on different hosts then
// agree on call deadlines (native-wire.ts) and server lifetimes (native-servers.ts) to
// within a round trip, whatever their own clocks say, as Lightbus's Redis-side expiry
// keys do. Re-measured now and then, so that a host clock stepped by NTP is followed.

import type { Redis } from 'ioredis';

const REFRESH_MS = 30_000;

export class RedisClock {
  /** Redis ms minus local ms. */
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly redis: Redis) {}

  /** Measures once (resolves when done) and then every REFRESH_MS until stop(). */
  static async of(redis: Redis): Promise<RedisClock> {
    const clock = new RedisClock(redis);
    await clock.measure();
    clock.timer = setInterval(() => void clock.measure().catch(() => undefined), REFRESH_MS).unref();
    return clock;
  }

  /** Redis's time now, in ms. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** A local Date.now() instant on Redis's clock. */
  toRedis(localMs: number): number {
    return localMs + this.offsetMs;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async measure(): Promise<void> {
    const sent = Date.now();
    const [seconds, micros] = await this.redis.time();
    const received = Date.now();
    this.offsetMs = Number(seconds) * 1000 + Number(micros) / 1000 - (sent + received) / 2;
  }
}
