// One reconnect backoff for every Redis connection Switchyard opens (the generic transport
// and the Lightbus bus): doubling from 50 ms, capped at 2 s, forever.

export function redisReconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2_000);
}
