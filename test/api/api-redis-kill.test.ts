// Kill a listener mid-stream: another instance with the same listener name handles the
// rest, including the events the dead one held (reclaimed after the idle time). Every
// event handled at least once; duplicates counted, loss never.

import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { createBus, defineApi } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { RedisBusTransport } from '../../src/transports/redis/bus/mod.js';
import { startRedis } from '../support/redis-server.js';
import { waitUntil } from './bus-conformance.js';

const redis = await startRedis();
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis.destroy();
});

function listener(name: string, handled: number[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/listener.ts', import.meta.url).pathname, redis.url, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`listener ${name} exited (${code}) before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') resolve(child);
      const m = /^handled (\d+)$/.exec(line);
      if (m) handled.push(Number(m[1]));
    });
  });
}

it('a listener killed mid-stream: the other instance of the listener name handles the rest', { timeout: 60_000 }, async () => {
  const a: number[] = [];
  const b: number[] = [];
  const first = await listener('a', a);
  await listener('b', b);
  const logger = createLogger({ level: 'silent' });
  const jobs = defineApi({ name: 'kill_test.jobs', events: { job: { params: z.object({ n: z.number() }) } } });
  const bus = createBus({ apis: { jobs }, transport: new RedisBusTransport({ url: redis.url, logger }), logger });
  await bus.start();
  const N = 600;
  for (let i = 0; i < N; i++) {
    await bus.jobs.job.fire({ n: i });
    if (i === N / 3) {
      await waitUntil('listener a handled some', () => a.length > 20);
      first.kill('SIGKILL');
    }
  }
  await waitUntil('every event handled', () => new Set([...a, ...b]).size >= N, 30_000);
  const all = [...a, ...b];
  assert.equal(new Set(all).size, N, 'no event lost');
  console.log(`# killed listener handled ${a.length}, survivor ${b.length}, duplicates ${all.length - N}`);
  assert.ok(b.length > 0);
  await bus.stop();
});
