// A worker runs on Redis by setting: `switchyard run worker.mjs --transport redis
// --redis-url …` (or SWITCHYARD_TRANSPORT=redis, SWITCHYARD_REDIS_URL) takes its inbound
// queue from Redis and routes its results there, through the built CLI.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/logger.js';
import { RedisTransport } from '../../src/transports/redis/mod.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';
import { DIST_INDEX, killAll, requireBuild, start, tempDir, waitFor } from '../cli/cli-helpers.js';

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server');

let redis: RedisServer;
let tmp: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  redis = await startRedis();
  tmp = await tempDir('sy-worker-redis-cli-');
});
after(async () => {
  killAll();
  await redis?.destroy();
  await tmp?.remove();
});

it('`switchyard run --transport redis --redis-url` runs a worker on Redis', { timeout: 60_000 }, async () => {
  requireBuild();
  await writeFile(join(tmp.dir, 'sysmap.yaml'), 'services:\n  plus:\n    in: rc-in\n    out:\n      - { case: true, queues: [rc-out] }\n');
  const module = join(tmp.dir, 'plus.mjs');
  await writeFile(module, `import { worker } from ${JSON.stringify(DIST_INDEX)};\nexport default worker('plus', (id) => [[id + 1n, true]]);\n`);
  const cli = start(['run', module, '--map', join(tmp.dir, 'sysmap.yaml'), '--transport', 'redis', '--redis-url', redis.url,
    '--storage-dir', join(tmp.dir, 'store'), '--state-dir', join(tmp.dir, 'state')]);
  const t = new RedisTransport({ url: redis.url, logger: createLogger({ level: 'silent' }) });
  await t.start();
  try {
    await waitFor(() => `the worker to start\n${cli.stdout()}\n${cli.stderr()}`,
      () => cli.hasExited() ? Promise.reject(new Error(`exited early:\n${cli.stdout()}\n${cli.stderr()}`)) : /worker started/.test(cli.stdout()), 30_000);
    await t.send('rc-in', { body: Buffer.from('41') });
    const got: string[] = [];
    const sub = await t.consume('rc-out', async (d) => {
      got.push(Buffer.from(d.body).toString());
      await d.ack();
    }, { prefetch: 1 });
    await waitFor(() => `a result on rc-out\n${cli.stdout()}\n${cli.stderr()}`, () => got.length > 0, 20_000);
    await sub.stop();
    assert.deepEqual(got, ['42']);
  } finally {
    cli.kill('SIGTERM');
    await cli.exited;
    await t.close();
  }
});
