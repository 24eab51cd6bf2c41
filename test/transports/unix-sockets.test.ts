// The unix transport's sockets without any task model: exchange listeners (mode, stale
// replacement, removal), response hooks (the empty Response{} ack), stream sockets
// (accept limit 1, expiry) and sending to unix and http hooks.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  encodeResponse, exchange, listenExchanges, listenResponses, openStreamSocket, readStream, replyTo, sendTo, UnixConnectError,
  type AcommResponse,
} from '../../src/transports/unix/mod.js';
import { shortTempDir } from '../provider/kit.js';

describe('unix transport sockets', { timeout: 20_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const temp = async () => {
    const t = await shortTempDir();
    cleanups.push(t.remove);
    return t.dir;
  };

  it('listens with the given mode, answers one exchange per connection and removes the file on close', async () => {
    const dir = await temp();
    const l = await listenExchanges({ path: join(dir, 'a', 'b.sock'), mode: 0o600, handle: (m) => JSON.stringify({ echo: m }) });
    assert.equal(statSync(l.path).mode & 0o777, 0o600);
    assert.equal(l.url, `unix://${l.path}`);
    assert.deepEqual(await exchange(l.path, '{"x":1}'), { echo: { x: 1 } });
    await l.close();
    assert.equal(existsSync(l.path), false);
    await assert.rejects(exchange(l.path, '{}'), (err: unknown) => err instanceof UnixConnectError && err.code === 'SY_ERR_UNIX_CONNECT' && err.reason === 'ENOENT');
  });

  it('close() cuts a connection that never sent its frame instead of waiting for it', async () => {
    const dir = await temp();
    // No read timeout at all: only close() can end the idle connection.
    const l = await listenExchanges({ path: join(dir, 'i.sock'), timeoutMs: 0, handle: () => '{}' });
    const { connect } = await import('node:net');
    const idle = connect(l.path);
    await new Promise<void>((r) => idle.once('connect', () => r()));
    const closedByPeer = new Promise<void>((r) => idle.once('close', () => r()));
    idle.on('error', () => undefined);
    await l.close();
    await closedByPeer;
    assert.equal(existsSync(l.path), false);
  });

  it('tells a stale socket (refused) from a missing one when connecting', async () => {
    const dir = await temp();
    const l = await listenExchanges({ path: join(dir, 'x.sock'), handle: () => '{}' });
    // Keep the file while the listener goes away, as SIGKILL would.
    const { link, rename } = await import('node:fs/promises');
    await link(l.path, `${l.path}.keep`);
    await l.close();
    await rename(`${l.path}.keep`, l.path);
    await assert.rejects(exchange(l.path, '{}'), (err: unknown) => err instanceof UnixConnectError && err.code === 'SY_ERR_UNIX_CONNECT' && err.reason === 'ECONNREFUSED' && /stale socket/.test(err.message));
    const again = await listenExchanges({ path: l.path, handle: () => '{"ok":true}' });
    assert.equal(again.replacedStale, true);
    assert.deepEqual(await exchange(l.path, '{}'), { ok: true });
    await again.close();
  });

  it('a response hook acks each response with the empty Response{} and hands it on', async () => {
    const dir = await temp();
    const got: AcommResponse[] = [];
    const l = await listenResponses({ path: join(dir, 'r.sock'), onResponse: (r) => got.push(r) });
    const ack = await exchange(l.path, encodeResponse({ id: 'q', result: [1], streamUrl: null, error: '' }));
    assert.deepEqual(ack, { id: '', result: null, stream_url: null, error: '' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, [{ id: 'q', result: [1], streamUrl: null, error: '' }]);
    assert.equal(await sendTo(l.url, encodeResponse(replyTo('z', 'failed'))), '');
    await l.close();
  });

  it('a stream socket serves its bytes once, raw, then is gone; an unread one expires', async () => {
    const dir = await temp();
    const s = await openStreamSocket(join(dir, 'streams'), Buffer.from('raw bytes, no frame'));
    assert.equal(statSync(s.path).mode & 0o777, 0o660);
    assert.equal((await readStream(s.url)).toString(), 'raw bytes, no frame');
    assert.equal(await s.done, true);
    assert.equal(existsSync(s.path), false);
    const idle = await openStreamSocket(join(dir, 'streams'), 'never read', { idleTimeoutMs: 50 });
    assert.equal(await idle.done, false);
    assert.equal(existsSync(idle.path), false);
  });

  it('sends to an http(s) hook as a POST of the raw JSON, and refuses unknown schemes', async () => {
    const bodies: string[] = [];
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.headers['content-type']} ${body}`);
        res.end(encodeResponse(replyTo('', '')));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const json = encodeResponse({ id: 'h', result: 5, streamUrl: null, error: '' });
    assert.equal(await sendTo(url, json), '');
    assert.deepEqual(bodies, [`POST application/json ${json}`]);
    await assert.rejects(sendTo('ftp://x/y', json), /SY_ERR_HOOK: .*unknown url type/);
  });
});
