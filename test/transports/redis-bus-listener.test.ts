// The Lightbus listener on THE stream consumer of the Redis transports (one reclaim rule):
// an event whose handler runs longer than the reclaim idle time is not taken over by
// another member of the group while its member is alive (it refreshes what it holds), and
// one left unacked is (attempt 2). Transport level, two members in one process.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import type { EventDelivery, ListenSpec } from '../../src/transports/bus/bus-transport.js';
import { createLogger } from '../../src/observability/logger.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server');

const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let redis: RedisServer;
const buses: RedisBusTransport[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.allSettled(buses.map((b) => b.close()));
  await redis?.destroy();
});

async function bus(): Promise<RedisBusTransport> {
  const b = new RedisBusTransport({ url: redis.url, logger, blockMs: 200 });
  await b.start();
  buses.push(b);
  return b;
}

const spec = (consumer: string, api: string): ListenSpec => ({ events: [{ api, event: 'happened' }], group: `${api}-g`, consumer, prefetch: 1, reclaimIdleMs: 300 });
const fire = (b: RedisBusTransport, api: string) => b.fire({ id: `e-${Math.random()}`, api, event: 'happened', version: 1, kwargs: { n: 1 } });

it('a handler running longer than the reclaim idle time keeps its event: no other member gets it', { timeout: 30_000 }, async () => {
  const [one, two] = [await bus(), await bus()];
  const seen: Array<{ member: string; attempt: number }> = [];
  const handler = (member: string, ms: number) => async (d: EventDelivery) => {
    seen.push({ member, attempt: d.attempt });
    await sleep(ms);
    await d.ack();
  };
  // Only member one runs while the event arrives, so it is the one that takes it.
  const a = await one.listen(spec('one', 'slow'), handler('one', 2_000));
  await fire(one, 'slow');
  for (let i = 0; i < 250 && seen.length === 0; i++) await sleep(20);
  assert.deepEqual(seen, [{ member: 'one', attempt: 1 }]);
  const b = await two.listen(spec('two', 'slow'), handler('two', 0));
  await sleep(2_500); // several reclaim intervals past the idle time, and the handler's end
  await Promise.all([a.stop(), b.stop()]);
  assert.deepEqual(seen, [{ member: 'one', attempt: 1 }], 'the event was reclaimed from a live member whose handler still ran');
});

it('an event a member left unacked when it stopped is reclaimed by another after the idle time, as attempt 2', { timeout: 30_000 }, async () => {
  const [one, two] = [await bus(), await bus()];
  let held: (() => void) | undefined;
  await one.listen(spec('one', 'left'), () => new Promise<void>((r) => (held = r)));
  await fire(one, 'left');
  for (let i = 0; i < 250 && !held; i++) await sleep(20);
  assert.ok(held, 'member one got the event');
  // Its handler returns without settling while the bus stops: the event stays pending.
  const closing = one.close();
  held();
  await closing;
  const got: number[] = [];
  const b = await two.listen(spec('two', 'left'), async (d) => {
    got.push(d.attempt);
    await d.ack();
  });
  for (let i = 0; i < 250 && got.length === 0; i++) await sleep(20);
  await b.stop();
  assert.deepEqual(got, [2]);
});

it('an entry whose field is not UTF-8 is set aside with its bytes as stored, though listeners read fields as text', { timeout: 30_000 }, async () => {
  const b = await bus();
  const stream = 'bytes.*:stream';
  const malformed: string[] = [];
  const sub = await b.listen({ ...spec('one', 'bytes'), onMalformed: (m) => malformed.push(m.reason) }, async (d) => d.ack());
  const raw = new Redis(redis.url);
  try {
    const value = Buffer.from([0x7b, 0xff, 0xfe]); // neither JSON nor UTF-8
    await raw.xadd(stream, '*', 'id', 'e-1', 'api_name', 'bytes', 'event_name', 'happened', 'version', '1', ':n', value);
    let dead: Array<[Buffer, Buffer[]]> = [];
    for (let i = 0; i < 250 && dead.length === 0; i++) {
      await sleep(20);
      dead = (await raw.xrangeBuffer(`${stream}:dead_letter`, '-', '+')) as Array<[Buffer, Buffer[]]>;
    }
    assert.equal(dead.length, 1, 'the entry was set aside');
    const fields = dead[0]![1];
    const at = fields.findIndex((f) => f.toString() === ':n');
    assert.ok(at >= 0 && fields[at + 1]!.equals(value), `the dead letter holds the stored bytes, got ${fields[at + 1]?.toString('hex')}`);
    assert.equal(malformed.length, 1);
  } finally {
    raw.disconnect();
    await sub.stop();
  }
});


it('fires of one tick go out together, yet each resolves with its own outcome: one to a key of another type fails alone', { timeout: 30_000 }, async () => {
  const b = await bus();
  const raw = new Redis(redis.url);
  try {
    await raw.set('wrong.*:stream', 'not a stream');
    const event = (api: string, n: number) => ({ id: `e-${n}`, api, event: 'happened', version: 1, kwargs: { n } });
    const outcomes = await Promise.allSettled([b.fire(event('fine', 1)), b.fire(event('wrong', 2)), b.fire(event('fine', 3))]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(((outcomes[1] as PromiseRejectedResult).reason as Error).message, /WRONGTYPE/);
    const entries = await raw.xrange('fine.*:stream', '-', '+');
    assert.deepEqual(entries.map(([, fields]) => fields), [1, 3].map((n) => ['id', `e-${n}`, 'api_name', 'fine', 'event_name', 'happened', 'version', '1', ':n', String(n)]));
  } finally {
    raw.disconnect();
  }
});

it('a fire on a transport not started fails by its promise, not by a throw', async () => {
  const b = new RedisBusTransport({ url: redis.url, logger });
  let fired: Promise<void> | undefined;
  assert.doesNotThrow(() => (fired = b.fire({ id: 'e-1', api: 'early', event: 'happened', version: 1, kwargs: {} })));
  await assert.rejects(fired!, /before start/);
});
