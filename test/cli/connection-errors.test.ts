// Connection failures answered with a catalogue code naming the URL without credentials and
// what to check (issue 15): `switchyard run` against a Redis or a RabbitMQ that is not there
// exits with 1 and one line on stderr; an S3 endpoint that is not there and a ZeroMQ address
// that cannot be bound say the same in their errors.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { S3ObjectStore } from '../../src/storage/s3/mod.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import { requireBuild, ROOT, runCli } from './cli-helpers.js';

/** A loopback port nothing listens on (taken from the OS, then released). */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-conn-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const dist = (p: string) => JSON.stringify(join(ROOT, 'dist', p));

describe('switchyard run when the broker is not there', () => {
  it('Redis on a wrong port: exit 1, one line, SY_ERR_BROKER naming the URL without its password', async () => {
    requireBuild();
    const port = await deadPort();
    const dir = folder({
      'package.json': '{"type":"module"}',
      'notes.mjs': `import { apiService, defineApi, z } from ${dist('models/api/mod.js')};
const notes = defineApi({ name: 'conn.notes', rpcs: { ping: { params: z.object({}), result: z.string() } }, events: {} });
export default apiService({ notes }, (bus) => bus.serve(notes, { ping: () => 'pong' }));
`,
    });
    const r = await runCli(['run', 'notes.mjs', '--log-level', 'silent'], { cwd: dir, env: { SWITCHYARD_API_TRANSPORT: `redis://:hunter2@127.0.0.1:${port}/0` }, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^switchyard: SY_ERR_BROKER: .*redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}/0.*check that Redis runs there`));
    assert.ok(!r.stderr.includes('hunter2') && !r.stdout.includes('hunter2'), 'no password anywhere');
  });

  it('RabbitMQ not running: exit 1, one line, SY_ERR_BROKER naming the URL without its password', async () => {
    requireBuild();
    const port = await deadPort();
    const dir = folder({
      'package.json': '{"type":"module"}',
      'sysmap.yaml': 'services:\n  upper:\n    in: upper-in\n    out:\n      - { case: true, queues: [upper-out] }\n',
      'upper.mjs': `import { worker } from ${dist('index.js')};
export default worker('upper', async (id) => [[id, true]]);
`,
    });
    const r = await runCli(['run', 'upper.mjs', '--map', 'sysmap.yaml', '--transport', 'amqp', '--amqp-url', `amqp://guest@127.0.0.1:${port}/`, '--amqp-password', 'env:SY_TEST_AMQP_PW', '--log-level', 'silent'],
      { cwd: dir, env: { SY_TEST_AMQP_PW: 'hunter2' }, timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^switchyard: SY_ERR_BROKER: .*amqp://\\*\\*\\*@127\\.0\\.0\\.1:${port}/.*ECONNREFUSED.*check the URL, the credentials and that RabbitMQ is running`));
    assert.ok(!r.stderr.includes('hunter2') && !r.stdout.includes('hunter2'), 'no password anywhere');
  });
});

describe('an S3 endpoint that is not there', () => {
  it('fails with SY_ERR_STORAGE_IO naming the endpoint and what to check, no key in the message', async () => {
    const port = await deadPort();
    const store = new S3ObjectStore({ endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'hunter3', maxAttempts: 1, connectionTimeoutMs: 2000, requestTimeoutMs: 5000 });
    try {
      await assert.rejects(store.exists('bucket', 'key'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SY_ERR_STORAGE_IO');
        assert.match(e.message, new RegExp(`request to http://127\\.0\\.0\\.1:${port}/? failed: ECONNREFUSED.*; check that an S3-compatible server runs at http://127\\.0\\.0\\.1:${port}/? and is reachable from here, and that the endpoint is right`));
        assert.ok(!e.message.includes('hunter'), e.message);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

describe('a ZeroMQ address that cannot be bound', () => {
  it('fails with SY_ERR_SOCKET_ADDRESS naming the address and the cause', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as { port: number };
    const sockets = new ZeroMqSockets();
    try {
      await assert.rejects(sockets.replyer(`127.0.0.1:${port}`, async (f) => f), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'SY_ERR_SOCKET_ADDRESS');
        assert.match(e.message, new RegExp(`socket address "127\\.0\\.0\\.1:${port}" cannot be used: binding tcp://127\\.0\\.0\\.1:${port} failed \\(.*in use.*\\)`, 'i'));
        return true;
      });
    } finally {
      await sockets.close();
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
