// A bus stops in bounded time while Redis is down: stop() ends listeners, servers and
// callers whose connections are reconnecting (ioredis leaves commands queued on such a
// connection forever once it is disconnected), gives writes still waiting for Redis a
// short grace, and returns. Work not acknowledged stays on Redis for another process
// (events are reclaimed; calls time out at their callers).

import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { createBus, defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { startRedis } from '../support/redis-server.js';

const redis = await startRedis({ appendOnly: true });
after(() => redis.destroy());

const logger = createLogger({ level: 'silent' });
const work = defineApi({
  name: 'outage.work',
  rpcs: { double: { params: z.object({ n: z.number() }), result: z.number() } },
  events: { happened: { params: z.object({ n: z.number() }) } },
});

it('stop() returns within seconds while Redis is down (listener, server and caller on one bus)', { timeout: 60_000 }, async () => {
  const bus = createBus({ apis: { work }, transport: new RedisBusTransport({ url: redis.url, logger }), serviceName: 'outage', logger, settings: { rpcTimeoutMs: 2_000 } });
  bus.serve(work, { double: ({ n }) => n * 2 });
  const handled: number[] = [];
  await bus.work.happened.listen(async ({ n }) => void handled.push(n), { listenerName: 'l' });
  await bus.start();
  assert.equal(await bus.work.double({ n: 2 }), 4);
  await bus.work.happened.fire({ n: 1 });
  for (let i = 0; i < 100 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(handled, [1]);
  await redis.stop({ kill: true });
  await new Promise((r) => setTimeout(r, 300)); // the connections notice and start reconnecting
  const started = Date.now();
  const outcome = await Promise.race([bus.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still stopping after 20 s'), 20_000))]);
  console.log(`# stop() took ${Date.now() - started} ms with Redis down`);
  assert.equal(outcome, 'stopped');
  await redis.start();
});
