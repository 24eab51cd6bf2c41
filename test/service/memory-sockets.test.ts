// The in-process sockets' own rules (the ZeroMQ ones are exercised in connections/states).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySockets } from '../../src/transports/memory/mod.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('memory sockets', () => {
  it('a request waits for its replyer to bind; one request at a time; a second bind is refused', async () => {
    const sockets = new MemorySockets();
    const req = await sockets.requester('a');
    const early = req.request(bytes('1'));
    let active = 0;
    let most = 0;
    await sockets.replyer('a', async (f) => {
      most = Math.max(most, ++active);
      await new Promise((r) => setImmediate(r));
      active--;
      return bytes(`re:${text(f)}`);
    });
    const [a, b, c] = await Promise.all([early, req.request(bytes('2')), req.request(bytes('3'))]);
    assert.deepEqual([a, b, c].map(text), ['re:1', 're:2', 're:3']);
    assert.equal(most, 1);
    await assert.rejects(sockets.replyer('a', () => bytes('')), /SY_ERR_SOCKET_ADDRESS.*in use/);
    await sockets.close();
  });

  it('a timed-out request is dropped: the replyer bound later never sees it', async () => {
    const sockets = new MemorySockets();
    const req = await sockets.requester('b');
    await assert.rejects(req.request(bytes('lost'), { timeoutMs: 20 }), /SY_ERR_REQUEST_TIMEOUT/);
    const seen: string[] = [];
    await sockets.replyer('b', (f) => (seen.push(text(f)), f));
    assert.equal(text(await req.request(bytes('next'))), 'next');
    assert.deepEqual(seen, ['next']);
    await sockets.close();
  });

  it('publishers drop frames nobody subscribed to; subscribers filter by prefix, in order; proxies forward', async () => {
    const sockets = new MemorySockets();
    const pub = await sockets.publisher('p');
    await pub.publish(bytes('t:before'));
    const got: string[] = [];
    const other: string[] = [];
    await sockets.subscriber('p', bytes('t:'), (f) => void got.push(text(f)));
    await sockets.subscriber('p', bytes('u:'), (f) => void other.push(text(f)));
    for (let i = 0; i < 5; i++) await pub.publish(bytes(`t:${i}`));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['t:0', 't:1', 't:2', 't:3', 't:4']);
    assert.deepEqual(other, []);

    await sockets.proxy('front', 'back');
    const viaProxy: string[] = [];
    await sockets.subscriber('back', new Uint8Array(0), (f) => void viaProxy.push(text(f)));
    const xpub = await sockets.publisher('front', { connect: true });
    await xpub.publish(bytes('x'));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(viaProxy, ['x']);
    await sockets.close();
    await assert.rejects(sockets.requester('z'), /SY_ERR_TRANSPORT_CLOSED/);
  });
});
