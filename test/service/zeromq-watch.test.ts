// ZeroMQ sockets watched for dropped connections (with a logger, as the registry's are) close
// cleanly for the sockets made after them. Before: the watch (a zmq.Observer) was closed
// before its socket, with its read pending; the next socket in the process could get the
// same file descriptor and never sent (found when a watched replyer of one service was
// followed by another service's requester in the same process: it timed out).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { createLogger } from '../../src/observability/logger.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import { freePorts } from '../support/service-framework-peer.js';

describe('zeromq: watched sockets', () => {
  const closers: Array<() => unknown> = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('a requester made after a watched replyer (and its peer) closed gets its reply, five times over', { timeout: 30_000 }, async () => {
    const ports = await freePorts(10);
    const lines: string[] = [];
    for (let round = 0; round < 5; round++) {
      const [watchedPort, nextPort] = [ports[2 * round]!, ports[2 * round + 1]!];
      const watched = new ZeroMqSockets({ logger: createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } }) });
      closers.push(() => watched.close());
      await watched.replyer(`127.0.0.1:${watchedPort}`, (frame) => frame);
      const peer = new zmq.Request({ linger: 0 });
      closers.push(() => peer.close());
      peer.connect(`tcp://127.0.0.1:${watchedPort}`);
      await peer.send('ping');
      assert.equal(String((await peer.receive())[0]), 'ping');
      peer.close();
      await new Promise((r) => setTimeout(r, 100));
      await watched.close();

      const rep = new zmq.Reply({ linger: 0 });
      closers.push(() => rep.close());
      await rep.bind(`tcp://127.0.0.1:${nextPort}`);
      void (async () => {
        for await (const [frame] of rep) await rep.send(frame!);
      })().catch(() => undefined);
      const next = new ZeroMqSockets();
      closers.push(() => next.close());
      const requester = await next.requester(`127.0.0.1:${nextPort}`);
      assert.deepEqual([...(await requester.request(Uint8Array.from([round]), { timeoutMs: 3000 }))], [round], `round ${round}`);
      await next.close();
      rep.close();
    }
    // The peers' leaving was seen (and logged) by the replyers' watches.
    assert.ok(lines.some((l) => /dropped/.test(l)), `no dropped connection logged: ${lines.join('')}`);
  });
});
