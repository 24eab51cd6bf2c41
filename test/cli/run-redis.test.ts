// A worker runs on Redis by setting: `switchyard run --transport redis://…` consumes what
// `switchyard send --transport redis://…` sends, and its result waits on Redis for whoever
// consumes the next queue.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/logger.js';
import { RedisTransport } from '../../src/transports/redis/mod.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';
import { DIST_INDEX, killAll, requireBuild, runCli, start, tempDir, waitFor } from './cli-helpers.js';

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server (or run npm test, which installs it)');

const MAP = 'services:\n  upper:\n    in: upper-in\n    out:\n      - { case: true, queues: [upper-out] }\n';
const WORKER = `import { worker } from ${JSON.stringify(DIST_INDEX)};\nexport default worker('upper', (id) => [[id * 10n, true]]);\n`;

describe('switchyard run --transport redis://', () => {
  let redis: RedisServer;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    requireBuild();
    redis = await startRedis();
    tmp = await tempDir();
    await writeFile(join(tmp.dir, 'upper.mts'), WORKER);
    await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
  });
  after(async () => {
    killAll();
    await redis?.destroy();
    await tmp?.remove();
  });

  it('a worker started with --transport redis:// serves what send puts there; its result waits on Redis', { timeout: 60_000 }, async () => {
    const run = start(['run', 'upper.mts', '--map', 'sysmap.yaml', '--transport', redis.url, '--log-level', 'info'], { cwd: tmp.dir });
    const info = () => `exited: ${run.hasExited()}\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`;
    await waitFor(() => `the worker to start\n${info()}`, () => run.stdout().includes('"worker started"') || run.hasExited(), 30_000);
    assert.ok(!run.hasExited(), info());
    assert.match(run.stdout(), /"transport":"redis"/, info());
    const sent = await runCli(['send', 'upper-in', '4', '--transport', redis.url], { cwd: tmp.dir });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /confirmed by the broker/);

    const reader = new RedisTransport({ url: redis.url, logger: createLogger({ level: 'silent' }) });
    await reader.start();
    try {
      const got: string[] = [];
      const sub = await reader.consume('upper-out', async (d) => { got.push(Buffer.from(d.body).toString()); await d.ack(); }, { prefetch: 1 });
      await waitFor(() => `the result on upper-out\n${info()}`, () => got.length > 0, 20_000);
      await sub.stop();
      assert.deepEqual(got, ['40']);
    } finally {
      await reader.close();
    }
    run.kill('SIGTERM');
    assert.deepEqual(await run.exited, { code: 0, signal: null }, info());
  });
});
