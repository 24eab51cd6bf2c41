// Dead letters of the embedded broker from another process: the host answers with its own
// MemoryDeadLetters, bounded (a peek limit and a byte budget the host caps), and a host of
// an older version, which does not know these ops, is named as such.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { BrokerDeadLetters } from '../../src/transports/memory/shared/broker-dead-letters.js';
import { hostBroker } from '../../src/transports/memory/shared/host.js';
import { connectLocalBroker } from '../../src/transports/memory/shared/local-broker.js';
import { encodeFrame, MAX_PEEK, onFrames, BROKER_SOCKET } from '../../src/transports/memory/shared/protocol.js';
import { DEAD_LETTER_HEADERS, deadLetterQueueOf } from '../../src/transports/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-broker-dl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function hosted(name: string) {
  const memory = new MemoryTransport({ maxLength: 1_000_000, maxBytes: 1024 * 1024 * 1024 });
  await memory.start();
  await memory.declareQueue('q');
  const state = join(dir, name);
  const host = await hostBroker(memory, join(state, BROKER_SOCKET));
  const d = new BrokerDeadLetters(await connectLocalBroker(state));
  return { memory, d, close: async () => { await d.close(); await host.close(); await memory.close(); } };
}

const deadHeaders = { [DEAD_LETTER_HEADERS.reason]: 'boom', [DEAD_LETTER_HEADERS.sourceQueue]: 'q' };

describe('dead letters through the broker socket', () => {
  it('the host caps how many letters one peek returns', { timeout: 20_000 }, async () => {
    const { memory, d, close } = await hosted('cap');
    try {
      for (let i = 0; i < MAX_PEEK + 50; i++) memory.putBack(deadLetterQueueOf('q'), { body: Buffer.from(String(i)), headers: deadHeaders });
      const letters = await d.peek('q', { limit: 10_000 });
      assert.equal(letters.length, MAX_PEEK);
      assert.equal(letters[0]!.reason, 'boom');
      assert.equal(Buffer.from(letters[0]!.body).toString(), '0');
      assert.deepEqual(await d.queues(), [{ queue: 'q', deadLetterQueue: 'q.dead-letter', count: MAX_PEEK + 50 }]);
      assert.equal(await d.retryAll('q.dead-letter'), MAX_PEEK + 50);
      assert.deepEqual(await d.listQueues(), [{ queue: 'q', depth: MAX_PEEK + 50, consumers: 0, deadLetters: 0 }]);
    } finally {
      await close();
    }
  });

  it('the host stops adding letters past its byte budget (the first always goes)', { timeout: 20_000 }, async () => {
    const { memory, d, close } = await hosted('bytes');
    try {
      const big = Buffer.alloc(10 * 1024 * 1024, 1);
      for (let i = 0; i < 3; i++) memory.putBack(deadLetterQueueOf('q'), { body: big, headers: deadHeaders });
      assert.equal((await d.peek('q', { limit: 3 })).length, 1);
    } finally {
      await close();
    }
  });

  it('a host that does not know the dead-letter ops (an older version) is named as such', { timeout: 10_000 }, async () => {
    const state = join(dir, 'old');
    const socketPath = join(state, BROKER_SOCKET);
    await import('node:fs/promises').then((fs) => fs.mkdir(state, { recursive: true }));
    // What host.ts answered before these ops existed: "unknown operation", no code.
    const server = createServer((socket) => onFrames(socket, (m) => {
      const { op, id } = m as { op: string; id: number };
      socket.write(encodeFrame(op === 'queues' ? { op: 'ok', id, queues: [{ name: 'q', depth: 1 }] } : { op: 'error', id, message: `unknown operation ${JSON.stringify(op)}` }));
    }));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const d = new BrokerDeadLetters(await connectLocalBroker(state));
    try {
      for (const call of [() => d.queues(), () => d.peek('q'), () => d.retryAll('q'), () => d.discard('q', 'x')]) {
        await assert.rejects(call(), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'SY_ERR_LOCAL_BROKER_TOO_OLD');
          assert.match(err.message, /older than this command .* restart it with this version/);
          return true;
        });
      }
      // The queue look still works (without consumers, which it did not send).
      assert.deepEqual(await d.listQueues(), [{ queue: 'q', depth: 1, deadLetters: 0 }]);
    } finally {
      await d.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
