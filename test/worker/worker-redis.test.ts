// The worker model, unchanged, on a real Redis through RedisTransport: routing by case,
// retries with delays (delayed requeue), dead letters after the last attempt.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { RedisTransport } from '../../src/transports/redis/mod.js';
import { DEAD_LETTER_HEADERS, deadLetterQueueOf, type Delivery } from '../../src/transports/transport.js';
import { startWorker, worker } from '../../src/models/worker/mod.js';
import { Observer } from '../../src/observability/observer.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server (or run npm test, which installs it)');

const T = { timeout: 30_000 };

/** An observer that collects the attempt of every delivery of `id` the worker received. */
function attemptsOf(into: number[], id: string): Observer {
  const observer = new Observer();
  observer.listen((e) => { if (e.type === 'received' && e.id === id) into.push(e.attempt); });
  return observer;
}
const silent = () => createLogger({ level: 'silent' });

/** Collects what arrives on a queue until `count` messages came, or fails after 10 s. */
async function collect(t: RedisTransport, queue: string, count: number): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const sub = await t.consume(queue, async (d) => { got.push(d); await d.ack(); }, { prefetch: 16 });
  const started = Date.now();
  while (got.length < count && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 5));
  await sub.stop();
  return got;
}

describe('worker on Redis', () => {
  let redis: RedisServer;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), 'sy-worker-redis-'));
  });
  after(async () => {
    await redis?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('routes results by case to their queues and acks every inbound message', T, async () => {
    const map = parseSysMap('services:\n  parity:\n    in: r-in\n    out:\n      - { case: true, queues: [r-even] }\n      - { case: false, queues: [r-odd] }\n', 'r.yaml');
    const t = new RedisTransport({ url: redis.url, logger: silent() });
    await t.start();
    const w = await startWorker(worker('parity', (id) => [[id * 10n, id % 2n === 0n]], { concurrency: 8 }), {
      transport: t, store: new FsObjectStore({ root: join(dir, 'r') }), config: new MapConfigSource(map), logger: silent(),
    });
    try {
      for (let i = 1; i <= 40; i++) await t.send('r-in', { body: Buffer.from(String(i)) });
      const even = await collect(t, 'r-even', 20);
      const odd = await collect(t, 'r-odd', 20);
      const ids = (ds: Delivery[]) => ds.map((d) => Number(Buffer.from(d.body).toString())).sort((a, b) => a - b);
      assert.deepEqual(ids(even), Array.from({ length: 20 }, (_, i) => (i + 1) * 20));
      assert.deepEqual(ids(odd), Array.from({ length: 20 }, (_, i) => (2 * i + 1) * 10));
      // The last acks may still be on their way: give them a moment.
      const raw = new Redis(redis.url);
      let length = -1;
      let pending: unknown[] = [];
      for (let i = 0; i < 100; i++) {
        [length, pending] = [await raw.xlen('sy:q:r-in'), await raw.xpending('sy:q:r-in', 'switchyard')];
        if (length === 0 && Number(pending[0]) === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      raw.disconnect();
      assert.equal(length, 0, 'acked inbound entries are deleted');
      assert.equal(Number(pending[0]), 0, 'nothing inbound left pending');
    } finally {
      await w.stop();
      await t.close();
    }
  });

  it('retries a failing message with delays, then dead-letters it with its attempts', T, async () => {
    const map = parseSysMap('services:\n  flaky:\n    in: f-in\n    out:\n      - { case: true, queues: [f-out] }\n', 'f.yaml');
    const t = new RedisTransport({ url: redis.url, logger: silent(), delayPollMs: 10 });
    await t.start();
    const attempts: number[] = [];
    const w = await startWorker(worker('flaky', (id) => {
      if (id === 13n) throw new Error('unlucky');
      return [[id, true]];
    }, { retry: { maxAttempts: 3, initialDelayMs: 30, maxDelayMs: 60 } }), {
      transport: t, store: new FsObjectStore({ root: join(dir, 'f') }), config: new MapConfigSource(map), logger: silent(),
      observer: attemptsOf(attempts, '13'),
    });
    try {
      await t.send('f-in', { body: Buffer.from('13') });
      await t.send('f-in', { body: Buffer.from('14') });
      const out = await collect(t, 'f-out', 1);
      const dead = await collect(t, deadLetterQueueOf('f-in'), 1);
      assert.deepEqual(out.map((d) => Buffer.from(d.body).toString()), ['14']);
      assert.equal(dead.length, 1);
      assert.equal(Buffer.from(dead[0]!.body).toString(), '13');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.sourceQueue], 'f-in');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.attempts], '3');
      assert.deepEqual(attempts, [1, 2, 3], 'id 13 was received three times (tried twice again), then dead-lettered');
    } finally {
      await w.stop();
      await t.close();
    }
  });
});
