// The embedded broker shared by local processes: the conformance suite through an attached
// client (every primitive over the host's unix socket), then what only sharing can show.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transportConformance } from '../conformance/transport-conformance.js';
import { attachOrHost, type SharedMemory } from '../../src/transports/memory/shared/attach.js';
import { SharedMemoryClient } from '../../src/transports/memory/shared/client.js';
import { SharedMemoryTransport } from '../../src/transports/memory/shared/shared-transport.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-shared-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let host: SharedMemory | undefined;
transportConformance('memory shared across processes (attached client)', {
  async create() {
    host = await attachOrHost(join(dir, 'conf'));
    const attached = await attachOrHost(join(dir, 'conf'));
    assert.ok(attached.transport instanceof SharedMemoryClient, 'the second opener attaches');
    return attached.transport;
  },
  async teardown() {
    await host?.close();
  },
});

describe('memory shared across processes', () => {
  it('the first opener hosts (socket 0600), later ones attach; a stale socket file is replaced', { timeout: 10_000 }, async () => {
    const state = join(dir, 'a');
    const first = await attachOrHost(state);
    assert.ok(first.transport instanceof MemoryTransport);
    assert.equal(statSync(first.socketPath).mode & 0o777, 0o600);
    const second = await attachOrHost(state);
    assert.ok(second.transport instanceof SharedMemoryClient);
    await second.close();
    await first.close();
  });

  it('a process that dies hands back its unsettled deliveries, redelivered to another process', { timeout: 30_000 }, async () => {
    const state = join(dir, 'b');
    const h = await attachOrHost(state);
    try {
      await h.transport.declareQueue('work');
      for (let i = 0; i < 3; i++) await h.transport.send('work', { body: Buffer.from(`m${i}`) });
      // A child takes all three without settling them, then is killed as a crash would.
      const code = `
        import { attachOrHost } from './src/transports/memory/shared/attach.ts';
        const m = await attachOrHost(${JSON.stringify(state)});
        let taken = 0;
        await m.transport.consume('work', () => { if (++taken === 3) console.log('taken'); }, { prefetch: 5 });
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('taken') && resolve()));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const got: { body: string; redelivered: boolean }[] = [];
      await h.transport.consume('work', async (d) => { got.push({ body: Buffer.from(d.body).toString(), redelivered: d.redelivered }); await d.ack(); }, { prefetch: 5 });
      const deadline = Date.now() + 5000;
      while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(got, ['m0', 'm1', 'm2'].map((body) => ({ body, redelivered: true })));
    } finally {
      await h.close();
    }
  });

  it('a server and a client in separate processes: an RPC-style request and a queue message', { timeout: 30_000 }, async () => {
    const state = join(dir, 'c');
    const h = await attachOrHost(state);
    try {
      const code = `
        import { attachOrHost } from './src/transports/memory/shared/attach.ts';
        const m = await attachOrHost(${JSON.stringify(state)});
        const reply = await m.transport.request('echo', { body: Buffer.from('ping') }, { timeoutMs: 5000 });
        await m.transport.send('from-child', { body: Buffer.from(Buffer.from(reply.body).toString() + '!') });
        await m.close();
      `;
      await h.transport.serve('echo', (req) => ({ body: Buffer.from(`${Buffer.from(req.body).toString()}-pong`), headers: {} }));
      await h.transport.declareQueue('from-child');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'] });
      const exit = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(exit, 0);
      assert.equal((h.transport as MemoryTransport).depth('from-child'), 1);
      assert.equal(Buffer.from((h.transport as MemoryTransport).peek('from-child')[0]!.body).toString(), 'ping-pong!');
    } finally {
      await h.close();
    }
  });

  it('the host stops first: an attached process takes over hosting and keeps its consumers; later senders reach it', { timeout: 30_000 }, async () => {
    const state = join(dir, 'd');
    const changes: boolean[] = [];
    const first = await SharedMemoryTransport.open(state);
    const second = await SharedMemoryTransport.open(state, { onHostChange: (hosting) => changes.push(hosting) });
    try {
      assert.ok(first.hosted, 'the first opener hosts');
      assert.equal(second.hosted, undefined, 'the second attaches');
      const got: string[] = [];
      await second.consume('jobs', async (d) => { got.push(Buffer.from(d.body).toString()); await d.ack(); }, { prefetch: 1 });
      await first.send('jobs', { body: Buffer.from('before') });
      await waitUntil(() => got.length === 1);
      await first.close(); // the host stops first (before: the attached process was stranded)
      await waitUntil(() => changes.length === 1);
      assert.deepEqual(changes, [true]);
      assert.ok(second.hosted, 'the attached process hosts now');
      const third = await attachOrHost(state); // e.g. `switchyard send`, later
      try {
        assert.ok(third.transport instanceof SharedMemoryClient, 'a later opener attaches to the new host');
        await third.transport.send('jobs', { body: Buffer.from('after') });
      } finally {
        await third.close();
      }
      await waitUntil(() => got.length === 2);
      assert.deepEqual(got, ['before', 'after']);
    } finally {
      await second.close();
      await first.close();
    }
  });
});

async function waitUntil(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('not within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
