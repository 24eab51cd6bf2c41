import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCall } from '../../src/transports/http/http-client.js';

describe('httpCall reply bound', () => {
  it('reads at most maxResponseBytes of a huge reply and stops reading the rest', async () => {
    let written = 0;
    let closed = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (closed = true));
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const reply = await httpCall(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}', maxResponseBytes: 1000 });
      assert.equal(reply.truncated, true);
      assert.equal(reply.text.length, 1000);
      assert.equal(reply.json(), undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(closed, 'the connection was closed, not drained');
      assert.ok(written < 50 * 1024 * 1024, `the server wrote ${written} bytes before the reader stopped`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a reply within the bound is whole and parsed', async () => {
    const server = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const reply = await httpCall(`http://127.0.0.1:${port}/`, { method: 'GET' });
      assert.equal(reply.truncated, false);
      assert.deepEqual(reply.json(), { ok: true });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
