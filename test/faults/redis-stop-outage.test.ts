// The generic Redis transport stops in bounded time while Redis is down: a consumer's and a
// responder's blocking reads sit queued on reconnecting connections (ioredis never settles
// such a command once the connection is disconnected), and stop()/close() must not wait
// for them. What was not settled stays on Redis (reclaimed later, at least once).

import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { RedisTransport } from '../../src/transports/redis/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { startRedis } from '../support/redis-server.js';

const redis = await startRedis({ appendOnly: true });
after(() => redis.destroy());

const logger = createLogger({ level: 'silent' });
const within = <T>(work: Promise<T>, ms: number, what: string) =>
  Promise.race([work.then(() => 'done'), new Promise<string>((r) => setTimeout(() => r(`${what} still running after ${ms} ms`), ms).unref())]);

it('consumer, responder and close() end within seconds while Redis is down', { timeout: 90_000 }, async () => {
  const t = new RedisTransport({ url: redis.url, logger, blockMs: 200, reclaimIdleMs: 1_000 });
  await t.start();
  const got: string[] = [];
  const consumer = await t.consume('outage-q', async (d) => {
    got.push(Buffer.from(d.body).toString());
    await d.ack();
  }, { prefetch: 4 });
  const responder = await t.serve('outage-s', async (m) => ({ body: m.body }));
  await t.send('outage-q', { body: Buffer.from('one') });
  assert.equal(Buffer.from((await t.request('outage-s', { body: Buffer.from('ping') }, { timeoutMs: 5_000 })).body).toString(), 'ping');
  for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, ['one']);

  await redis.stop({ kill: true });
  await new Promise((r) => setTimeout(r, 1_000)); // the blocked reads are re-queued on reconnecting connections
  const started = Date.now();
  assert.equal(await within(consumer.stop(), 15_000, 'consumer.stop()'), 'done');
  assert.equal(await within(responder.stop(), 15_000, 'responder.stop()'), 'done');
  assert.equal(await within(t.close(), 15_000, 'close()'), 'done');
  console.log(`# stopping took ${Date.now() - started} ms with Redis down`);
});

it('a handler whose ack was sent as Redis went down does not hold stop() (what it held stays pending)', { timeout: 90_000 }, async () => {
  const down = await startRedis({ appendOnly: true });
  try {
    const t = new RedisTransport({ url: down.url, logger, blockMs: 200, reclaimIdleMs: 1_000 });
    await t.start();
    let acking!: () => void;
    const ackSent = new Promise<void>((r) => (acking = r));
    const consumer = await t.consume('outage-ack', async (d) => {
      await down.stop({ kill: true });
      const ack = d.ack(); // queued on a reconnecting connection: it never settles
      acking();
      await ack;
    }, { prefetch: 4 });
    await t.send('outage-ack', { body: Buffer.from('one') });
    await ackSent;
    const started = Date.now();
    assert.equal(await within(consumer.stop(), 15_000, 'consumer.stop()'), 'done');
    assert.equal(await within(t.close(), 15_000, 'close()'), 'done');
    console.log(`# stopping with an ack in flight took ${Date.now() - started} ms`);
  } finally {
    await down.destroy();
  }
});
