// ZeroMQ message size limit (issue 17 #7): every receiving socket refuses frames over
// maxMessageSize (16 MiB by default, settable; the original has none, so one 300 MB frame
// cost +290 MiB). ZeroMQ drops the sender's connection at the frame's header, unread: a
// replyer's handler never sees the frame and the drop is logged naming the limit; a
// requester of ours whose reply is refused (or whose replyer goes away mid-request) fails
// with SY_ERR_SOCKET_DISCONNECTED instead of waiting forever. The 300 MB frame comes from
// a Python process, so that only the receiving side's memory is measured here.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as zmq from 'zeromq';
import { createLogger } from '../../src/observability/logger.js';
import { decodeReply, encodeEnvelope, encodeReply, replyer, service, startService, subscriber, t } from '../../src/models/service/mod.js';
import { DEFAULT_MAX_MESSAGE_SIZE, ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import { freePorts, PYTHON, requirePython } from '../support/service-framework-peer.js';
import { waitFor } from './service-kit.js';

const MiB = 1024 * 1024;
const T = { timeout: 60_000 };

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } }) };
}

describe('zeromq maxMessageSize', () => {
  const closers: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('a replyer refuses a frame over the limit unread and logs the drop; the next request is served', T, async () => {
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const { lines, logger } = capture();
    const sockets = new ZeroMqSockets({ maxMessageSize: MiB, logger });
    closers.push(() => sockets.close());
    let handled = 0;
    const svc = await startService(service({ connections: { in: { q: replyer({ optionalArguments: { blob: t.bytes, n: t.int }, requiredReturnArguments: { n: t.int } }, (a) => (handled++, { n: Number(a.n ?? 0) })) } } }),
      { sockets, addresses: { connections: { in: { q: { replyer: address } } } } });
    closers.push(() => svc.stop());
    const big = new zmq.Request({ linger: 0, receiveTimeout: 1500 });
    closers.push(() => big.close());
    big.connect(`tcp://${address}`);
    await big.send(encodeEnvelope({ blob: new Uint8Array(4 * MiB), n: 1 }, null));
    await assert.rejects(big.receive(), (err: { code?: string }) => err.code === 'EAGAIN');
    assert.equal(handled, 0, 'the handler never saw the refused frame');
    await waitFor(() => lines.some((l) => /maxMessageSize/.test(String(l.msg))), 'the logged drop');
    assert.match(String(lines.find((l) => /maxMessageSize/.test(String(l.msg)))!.msg), /over the 1 MiB limit/);
    const small = new zmq.Request({ linger: 0, receiveTimeout: 5000 });
    closers.push(() => small.close());
    small.connect(`tcp://${address}`);
    await small.send(encodeEnvelope({ n: 7 }, null));
    const [reply] = await small.receive();
    assert.deepEqual(decodeReply(reply!).returnArgs, { n: 7 });
  });

  it('our requester: a reply over the limit, or a replyer gone mid-request, fails with SY_ERR_SOCKET_DISCONNECTED; the next request works', T, async () => {
    const [port] = await freePorts(1);
    const endpoint = `tcp://127.0.0.1:${port}`;
    const sockets = new ZeroMqSockets({ maxMessageSize: MiB });
    closers.push(() => sockets.close());
    const requesterSocket = await sockets.requester(`127.0.0.1:${port}`);
    // A replyer that answers 4 MiB to the first request and a small frame after.
    let rep = new zmq.Reply({ linger: 0 });
    await rep.bind(endpoint);
    let served = 0;
    const serve = async (socket: zmq.Reply, behave: (n: number) => 'big' | 'small' | 'vanish') => {
      for await (const [frame] of socket) {
        void frame;
        const how = behave(served++);
        if (how === 'vanish') {
          socket.close(); // as a crashed replyer: the request was read, no reply comes
          return;
        }
        await socket.send(how === 'big' ? new Uint8Array(4 * MiB) : encodeReply({ ok: true }, null));
      }
    };
    void serve(rep, (n) => (n === 0 ? 'big' : n === 1 ? 'small' : 'vanish')).catch(() => undefined);
    await assert.rejects(requesterSocket.request(encodeEnvelope({}, null)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SOCKET_DISCONNECTED');
      assert.match(err.message, /over the 1 MiB message size limit/);
      return true;
    });
    assert.deepEqual(decodeReply(await requesterSocket.request(encodeEnvelope({}, null))).returnArgs, { ok: true });
    // The third request is read and the replyer goes away without answering.
    await assert.rejects(requesterSocket.request(encodeEnvelope({}, null)), (err: { code?: string }) => err.code === 'SY_ERR_SOCKET_DISCONNECTED');
    rep = new zmq.Reply({ linger: 0 });
    closers.push(() => rep.close());
    await rep.bind(endpoint);
    void serve(rep, () => 'small').catch(() => undefined);
    assert.deepEqual(decodeReply(await requesterSocket.request(encodeEnvelope({}, null))).returnArgs, { ok: true });
  });

  it('a subscriber refuses a publication over the limit and keeps hearing the publisher (it reconnects; ZeroMQ would not)', T, async () => {
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const sockets = new ZeroMqSockets({ maxMessageSize: MiB });
    closers.push(() => sockets.close());
    const got: number[] = [];
    const svc = await startService(service({ connections: { in: { s: subscriber({ requiredArguments: { n: t.int }, optionalArguments: { blob: t.bytes } }, (a) => void got.push(Number(a.n))) } } }),
      { sockets, addresses: { connections: { in: { s: { subscriber: address } } } } });
    closers.push(() => svc.stop());
    const pub = new zmq.Publisher({ linger: 0 });
    closers.push(() => pub.close());
    await pub.bind(`tcp://${address}`);
    // Until the subscription is up, then one frame over the limit, then small ones until one arrives.
    for (let i = 0; i < 200 && got.length === 0; i++) {
      await pub.send(encodeEnvelope({ n: -1 }, null));
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(got.length > 0, 'the subscription came up');
    await pub.send(encodeEnvelope({ n: 0, blob: new Uint8Array(4 * MiB) }, null));
    for (let i = 1; i < 300 && !got.includes(1); i++) {
      await pub.send(encodeEnvelope({ n: 1 }, null));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(got.includes(1), 'a publication after the refused one arrived');
    assert.ok(!got.includes(0), 'the frame over the limit was never delivered');
  });

  it(`the default limit (${DEFAULT_MAX_MESSAGE_SIZE / MiB} MiB) keeps a 300 MB frame out of memory`, T, async () => {
    requirePython();
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const { lines, logger } = capture();
    const sockets = new ZeroMqSockets({ logger });
    closers.push(() => sockets.close());
    assert.equal(sockets.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
    let handled = 0;
    const svc = await startService(service({ connections: { in: { q: replyer({}, () => (handled++, {})) } } }), { sockets, addresses: { connections: { in: { q: { replyer: address } } } } });
    closers.push(() => svc.stop());
    global.gc?.();
    const before = process.memoryUsage().rss;
    // 300 MB from another process; it waits 3 s for a reply that cannot come.
    const sender = spawn(PYTHON, ['-c', `
import zmq
s = zmq.Context().socket(zmq.REQ)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.RCVTIMEO, 3000)
s.connect('tcp://${address}')
s.send(b'x' * (300 * 1000 * 1000))
try:
    s.recv()
    print('answered')
except zmq.Again:
    print('no reply')
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    closers.push(() => void (sender.exitCode === null && sender.kill('SIGKILL')));
    let out = '';
    sender.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((ok) => sender.once('close', ok));
    const grew = process.memoryUsage().rss - before;
    console.log(`zeromq: a 300 MB frame to a replyer with the default limit: rss ${grew >= 0 ? '+' : ''}${(grew / MiB).toFixed(1)} MiB`);
    assert.equal(code, 0);
    assert.equal(out.trim(), 'no reply');
    assert.equal(handled, 0);
    assert.ok(lines.some((l) => /over the 16 MiB limit/.test(String(l.msg))), JSON.stringify(lines));
    assert.ok(grew < 64 * MiB, `rss grew by ${(grew / MiB).toFixed(1)} MiB receiving a refused frame`);
  });
});
