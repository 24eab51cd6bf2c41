// `switchyard run` with a task service, as a user runs it: the example module, settings
// from the reference's environment variables, registration with an engine, a task end to
// end through S3 and the callback, then SIGTERM and exit 0. Needs `npm run build`.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { DIST_INDEX, jsonLines, killAll, requireBuild, runCli, start, tempDir } from '../cli/cli-helpers.js';
import type { S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from './engine-stand-in.js';
import { getObject, post, putObject, serviceTask, startS3 } from './harness.js';

// From this engineer's port range; the URL the engine calls back must be known up front.
const PORT = 17531;

let s3: S3Server;
let client: S3Client;
let engine: EngineStandIn;

before(async () => {
  requireBuild();
  ({ s3, client } = await startS3());
  engine = await startEngine();
});
after(async () => {
  killAll();
  client.destroy();
  await engine.close();
  await s3.close();
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('switchyard run <task service module>', () => {
  it('serves the example, registers with ENGINE_URLS, runs a task, serves its metrics and health, stops on SIGTERM with exit 0', async () => {
    const metricsPort = await freePort();
    const cli = start(['run', 'examples/text-stats-task/text-stats.ts', '--metrics-port', String(metricsPort)], {
      env: { SERVICE_PORT: String(PORT), SERVICE_URL: `http://127.0.0.1:${PORT}`, ENGINE_URLS: JSON.stringify([engine.url]), ENGINE_ANNOUNCE_RETRY_DELAY: '0.1', MAX_TASKS: '5' },
    });
    try {
      const registered = await engine.registered('text-statistics', 15_000);
      assert.equal(registered.url, `http://127.0.0.1:${PORT}`);
      assert.deepEqual(registered.data_in_fields, [{ name: 'text', type: ['text/plain'] }]);
      assert.deepEqual(registered.tags, [{ name: 'Natural Language Processing', acronym: 'NLP' }]);
      await putObject(client, 'story.txt', 'the cat and the hat\nthe end\n');
      const { id, body } = serviceTask({ s3, engine, dataIn: ['story.txt'] });
      const res = await post(`http://127.0.0.1:${PORT}/compute`, body);
      assert.deepEqual(res.json, { status: 'Task added to the queue' });
      const update = await engine.callback(id);
      assert.equal(update.status, 'finished');
      const stats = JSON.parse(await getObject(client, (update.data_out as string[])[0]!)) as Record<string, unknown>;
      assert.equal(stats.words, 7);
      assert.equal(stats.lines, 2);
      assert.deepEqual((stats.top_words as unknown[])[0], { word: 'the', count: 3 });
      // The runtime's metrics, derived from the observer stream, and its readiness.
      const source = 'model="task",service="text-statistics",transport="http"';
      let metrics = '';
      for (let i = 0; i < 200 && !metrics.includes(`switchyard_handled_total{${source},input="compute"} 1`); i++) {
        metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.match(metrics, new RegExp(`switchyard_handled_total\\{${source},input="compute"\\} 1`));
      assert.match(metrics, new RegExp(`switchyard_calls_total\\{${source},target="engine-register",outcome="ok"\\} 1`));
      assert.match(metrics, new RegExp(`switchyard_component_ready\\{${source}\\} 1`));
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/ready`)).status, 200);
      cli.kill('SIGTERM');
      const exit = await cli.exited;
      assert.equal(exit.code, 0, cli.stderr());
      const lines = jsonLines(cli.stdout());
      assert.ok(lines.some((l) => l.msg === 'task service listening'));
      assert.ok(lines.some((l) => l.msg === 'task service stopped'));
      assert.doesNotMatch(cli.stdout(), /sEcReT/);
    } finally {
      cli.kill();
    }
  });

  it('a bad setting exits 2 naming the variable; two task services in one process exit 2', async () => {
    const bad = await runCli(['run', 'examples/text-stats-task/text-stats.ts'], { env: { MAX_TASKS: '0', ENGINE_URLS: '[]' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SY_ERR_SETTINGS: invalid settings: task\.maxTasks \(from environment variable MAX_TASKS\)/);
    const { dir, remove } = await tempDir();
    try {
      const file = join(dir, 'two.mjs');
      const decl = (slug: string) => `taskService({ name: '${slug}', slug: '${slug}', summary: 's', dataIn: [{ name: 'a', types: ['text/plain'] }], dataOut: [{ name: 'b', types: ['text/plain'] }] }, async () => ({}))`;
      await writeFile(file, `import { taskService } from ${JSON.stringify(DIST_INDEX)};\nexport const a = ${decl('one')};\nexport const b = ${decl('two')};\n`);
      const two = await runCli(['run', file], { env: { ENGINE_URLS: '[]' } });
      assert.equal(two.code, 2);
      assert.match(two.stderr, /one task service per process.*got one \(task service\), two \(task service\)/);
    } finally {
      await remove();
    }
  });
});

