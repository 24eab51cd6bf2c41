// acomm's connections on Node's bare pipe handle (src/transports/unix/pipe-handle.ts): an
// exchange and an accepted connection make no net.Socket where the handle is offered, and
// both carriers — bare handles and node:net, the fallback — keep the same limits, errors
// and replies: the same cases run on each.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, createServer, type Socket } from 'node:net';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeFrame, exchange, FrameError, listenExchanges, UnixConnectError } from '../../src/transports/unix/mod.js';
import { barePipes, useBarePipes } from '../../src/transports/unix/pipe-handle.js';
import { frameJson, rawExchange, shortTempDir } from '../provider/kit.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  useBarePipes(true);
  for (const c of cleanups.reverse()) await c();
});
const temp = async () => {
  const t = await shortTempDir();
  cleanups.push(t.remove);
  return t.dir;
};

/** A server that answers each connection with `reply` bytes (then, if `end`, its end), whatever it is sent. */
async function rawServer(path: string, reply: Buffer, end = true): Promise<void> {
  const server = createServer((s: Socket) => {
    s.on('error', () => undefined);
    s.once('data', () => (end ? s.end(reply) : s.write(reply)));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
}

describe('acomm connections on bare pipe handles', { timeout: 20_000 }, () => {
  it('this Node (20) offers the bare handle', () => {
    assert.ok(barePipes, 'process.binding pipe_wrap/stream_wrap as pipe-handle.ts expects them');
  });

  it('an exchange and the connection it makes to a listener create no net.Socket', async () => {
    const dir = await temp();
    const l = await listenExchanges({ path: join(dir, 'n.sock'), handle: (m) => JSON.stringify({ echo: m }) });
    cleanups.push(() => l.close());
    const made: string[] = [];
    const client = () => made.push('client');
    const server = () => made.push('server');
    subscribe('net.client.socket', client);
    subscribe('net.server.socket', server);
    try {
      assert.deepEqual(await exchange(l.path, '{"x":1}'), { echo: { x: 1 } });
    } finally {
      unsubscribe('net.client.socket', client);
      unsubscribe('net.server.socket', server);
    }
    assert.deepEqual(made, []);
  });
});

for (const bare of [true, false]) {
  describe(`acomm exchanges and listeners on ${bare ? 'bare pipe handles' : 'node:net (the fallback)'}`, { timeout: 20_000 }, () => {
    const on = () => useBarePipes(bare);

    it('answers an exchange; tells a missing socket (ENOENT) from a stale one (ECONNREFUSED)', async () => {
      on();
      const dir = await temp();
      const l = await listenExchanges({ path: join(dir, 'a.sock'), handle: (m) => JSON.stringify({ echo: m }) });
      assert.deepEqual(await exchange(l.path, '{"n":1}'), { echo: { n: 1 } });
      await l.close();
      await assert.rejects(exchange(l.path, '{}'), (err: unknown) => err instanceof UnixConnectError && err.reason === 'ENOENT');
      // A socket file nobody listens on: kept aside while its listener closes, then put back.
      const l2 = await listenExchanges({ path: join(dir, 'stale.sock'), handle: () => '{}' });
      await rename(l2.path, `${l2.path}.keep`);
      await l2.close();
      await rename(`${l2.path}.keep`, l2.path);
      await assert.rejects(exchange(l2.path, '{}'), (err: unknown) => err instanceof UnixConnectError && err.reason === 'ECONNREFUSED' && /stale socket/.test(err.message));
    });

    it('refuses a reply over the size limit, a truncated one, one that is not JSON, and one that never comes', async () => {
      on();
      const dir = await temp();
      await rawServer(join(dir, 'big.sock'), encodeFrame(JSON.stringify({ x: 'y'.repeat(2000) })));
      const problem = async (path: string, options = {}) => {
        const err = await exchange(path, '{}', options).then(() => assert.fail('accepted'), (e: unknown) => e);
        assert.ok(err instanceof FrameError, String(err));
        return err.problem;
      };
      assert.equal(await problem(join(dir, 'big.sock'), { maxFrameBytes: 100 }), 'oversize');
      await rawServer(join(dir, 'cut.sock'), encodeFrame('{"id":"abc"}').subarray(0, 8));
      assert.equal(await problem(join(dir, 'cut.sock')), 'truncated');
      await rawServer(join(dir, 'text.sock'), encodeFrame('not json'));
      assert.equal(await problem(join(dir, 'text.sock')), 'not-json');
      await rawServer(join(dir, 'none.sock'), Buffer.alloc(0));
      assert.equal(await problem(join(dir, 'none.sock')), 'closed');
      await rawServer(join(dir, 'slow.sock'), encodeFrame('{}').subarray(0, 5), false);
      assert.equal(await problem(join(dir, 'slow.sock'), { timeoutMs: 100 }), 'timeout');
    });

    it('a listener answers a bad frame with its error reply and closes; a frame over its limit is refused unread', async () => {
      on();
      const dir = await temp();
      const l = await listenExchanges({ path: join(dir, 'l.sock'), maxFrameBytes: 64, handle: () => '{"ok":true}', onFrameError: (err) => JSON.stringify({ error: err.problem }) });
      cleanups.push(() => l.close());
      const notJson = await rawExchange(l.path, encodeFrame('nope'), 5_000);
      assert.deepEqual(frameJson(notJson.data), { error: 'not-json' });
      assert.equal(notJson.closed, true);
      const oversize = await rawExchange(l.path, Buffer.from([0, 0, 1, 0]), 5_000);
      assert.deepEqual(frameJson(oversize.data), { error: 'oversize' });
      const ok = await rawExchange(l.path, encodeFrame('{}'), 5_000);
      assert.deepEqual(frameJson(ok.data), { ok: true });
      assert.equal(ok.closed, true);
    });

    it('a listener times out a frame that does not complete, and close() cuts a connection still waiting', async () => {
      on();
      const dir = await temp();
      const timed = await listenExchanges({ path: join(dir, 't.sock'), timeoutMs: 100, handle: () => '{}', onFrameError: (err) => JSON.stringify({ error: err.problem }) });
      cleanups.push(() => timed.close());
      const slow = await rawExchange(timed.path, encodeFrame('{}').subarray(0, 3), 5_000);
      assert.deepEqual(frameJson(slow.data), { error: 'timeout' });
      const l = await listenExchanges({ path: join(dir, 'i.sock'), timeoutMs: 0, handle: () => '{}' });
      const idle = connect(l.path);
      idle.on('error', () => undefined);
      await new Promise((r) => idle.once('connect', r));
      await new Promise((r) => setTimeout(r, 20));
      const closedAt = performance.now();
      await l.close();
      assert.ok(performance.now() - closedAt < 5_000);
      await new Promise((r) => (idle.destroyed ? r(undefined) : idle.once('close', r)));
    });

    it('a reply too big for one write arrives whole and `written` says true; a handler that throws closes unanswered', async () => {
      on();
      const dir = await temp();
      const big = JSON.stringify({ data: 'x'.repeat(2 * 1024 * 1024) });
      let told: boolean | undefined;
      const errors: Error[] = [];
      const l = await listenExchanges({
        path: join(dir, 'w.sock'),
        handle: (m) => {
          if ((m as { fail?: boolean }).fail) throw new Error('handler failed');
          return { json: big, written: (ok) => (told = ok) };
        },
        onError: (err) => errors.push(err),
      });
      cleanups.push(() => l.close());
      const reply = (await exchange(l.path, '{}')) as { data: string };
      assert.equal(reply.data.length, 2 * 1024 * 1024);
      for (let i = 0; i < 100 && told === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(told, true);
      const err = await exchange(l.path, '{"fail":true}').then(() => assert.fail('answered'), (e: unknown) => e);
      assert.ok(err instanceof FrameError && err.problem === 'closed', String(err));
      assert.deepEqual(errors.map((e) => e.message), ['handler failed']);
    });

    it('a reply to a peer that left reports written false', async () => {
      on();
      const dir = await temp();
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      let told: boolean | undefined;
      const l = await listenExchanges({ path: join(dir, 'g.sock'), handle: async () => (entered(), await held, { json: '{}', written: (ok) => (told = ok) }) });
      cleanups.push(() => l.close());
      const peer = connect(l.path);
      peer.on('error', () => undefined);
      await new Promise((r) => peer.once('connect', r));
      peer.write(encodeFrame('{}'));
      await inHandler;
      peer.destroy();
      await new Promise((r) => setTimeout(r, 50));
      release();
      for (let i = 0; i < 100 && told === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(told, false);
    });
  });
}
