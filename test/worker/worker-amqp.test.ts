// The worker on a real RabbitMQ, speaking slingshot's wire: a raw amqplib client publishes
// the way a slingshot service does (default exchange, routing key = queue, body = decimal
// id text, queues declared with default flags) and reads our outputs the same way.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ChannelModel } from 'amqplib';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { AmqpTransport } from '../../src/transports/amqp/mod.js';
import { startWorker, worker } from '../../src/models/worker/mod.js';
import { Observer } from '../../src/observability/observer.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';

requireRabbitMq();

const T = { timeout: 30_000 };

/** An observer that collects the error message of every failed attempt. */
function failuresOf(into: string[]): Observer {
  const observer = new Observer();
  observer.listen((e) => { if (e.type === 'failed') into.push(e.error.message); });
  return observer;
}

describe('worker on RabbitMQ', () => {
  let broker: RabbitMq;
  let raw: ChannelModel;
  let dir: string;
  before(async () => {
    broker = await startRabbitMq();
    raw = await connect(broker.url);
    dir = await mkdtemp(join(tmpdir(), 'sy-worker-amqp-'));
  });
  after(async () => {
    await raw?.close().catch(() => undefined);
    await broker?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function transport(): Promise<AmqpTransport> {
    const t = new AmqpTransport({ url: broker.url, logger: createLogger({ level: 'silent' }) });
    await t.start();
    return t;
  }

  it('shares non-durable queues with slingshot services: raw decimal bodies in, raw decimal bodies out', T, async () => {
    // A slingshot service declared these queues first, with lapin's default flags.
    const ch = await raw.createChannel();
    for (const q of ['sl-in', 'sl-yes', 'sl-no']) await ch.assertQueue(q, { durable: false });
    const map = parseSysMap(`
services:
  parity:
    in: sl-in
    out:
      - { case: true, queues: [sl-yes] }
      - { case: false, queues: [sl-no] }
queueDefaults: { durable: false }
`, 'slingshot-shared.yaml');
    const t = await transport();
    const w = await startWorker(worker('parity', (id) => [[id * 2n, id % 2n === 0n]], { concurrency: 4 }), {
      transport: t, store: new FsObjectStore({ root: join(dir, 's1') }), config: new MapConfigSource(map), logger: createLogger({ level: 'silent' }),
    });
    try {
      // As slingshot publishes: default exchange, routing key = queue, no properties.
      for (const body of ['1', '2', ' 3\n', '9223372036854775807']) ch.publish('', 'sl-in', Buffer.from(body));
      const got: Record<string, string[]> = { 'sl-yes': [], 'sl-no': [] };
      for (const q of ['sl-yes', 'sl-no']) await ch.consume(q, (m) => { if (m) { got[q]!.push(m.content.toString()); ch.ack(m); } });
      const deadline = Date.now() + 10_000;
      while (got['sl-yes']!.length + got['sl-no']!.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got['sl-yes'], ['4']);
      assert.deepEqual(got['sl-no']!.sort(), ['18446744073709551614', '2', '6']);
      const inbound = await ch.checkQueue('sl-in');
      assert.equal(inbound.messageCount, 0, 'every inbound message acked');
    } finally {
      await w.stop();
      await t.close();
      await ch.close().catch(() => undefined);
    }
  });

  it('fails at start, naming the queue, the flag and the setting, when a queue exists with other flags', T, async () => {
    const ch = await raw.createChannel();
    await ch.assertQueue('fl-in', { durable: false });
    await ch.close();
    // A map that declares its queues durable: declared strictly, so the existing queue conflicts.
    const map = parseSysMap('services:\n  flags:\n    in: fl-in\nqueueDefaults: { durable: true }\n', 'new-system.yaml');
    const t = await transport();
    try {
      await assert.rejects(
        startWorker(worker('flags', () => []), { transport: t, store: new FsObjectStore({ root: join(dir, 's2') }), config: new MapConfigSource(map), logger: createLogger({ level: 'silent' }) }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'SY_ERR_QUEUE_FLAGS');
          assert.match(err.message, /queue "fl-in"/);
          assert.match(err.message, /durable = false/);
          assert.match(err.message, /queues\.fl-in\.durable: false/);
          return true;
        },
      );
    } finally {
      await t.close();
    }
  });

  it('publishes only what the broker confirmed: results are persistent messages on the default exchange', T, async () => {
    const map = parseSysMap('services:\n  echo:\n    in: p-in\n    out:\n      - { case: 1, queues: [p-out] }\n', 'p.yaml');
    const t = await transport();
    const w = await startWorker(worker('echo', (id) => [[id, 1]]), { transport: t, store: new FsObjectStore({ root: join(dir, 's3') }), config: new MapConfigSource(map), logger: createLogger({ level: 'silent' }) });
    const ch = await raw.createChannel();
    try {
      ch.publish('', 'p-in', Buffer.from('77'));
      const m = await new Promise<import('amqplib').ConsumeMessage>((resolve) => {
        void ch.consume('p-out', (msg) => { if (msg) { ch.ack(msg); resolve(msg); } });
      });
      assert.equal(m.content.toString(), '77');
      assert.equal(m.properties.deliveryMode, 2, 'persistent');
      assert.equal(m.fields.exchange, '');
      assert.equal((await ch.checkQueue('p-out')).consumerCount, 1);
    } finally {
      await w.stop();
      await t.close();
      await ch.close().catch(() => undefined);
    }
  });

  it('a result to a queue deleted mid-run is not confirmed as stored: the message is retried, then flows once the queue is back', T, async () => {
    const map = parseSysMap('services:\n  gone:\n    in: g-in\n    out:\n      - { case: true, queues: [g-out] }\n', 'g.yaml');
    const t = await transport();
    const failures: string[] = [];
    const w = await startWorker(worker('gone', (id) => [[id, true]], { retry: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 200 } }), {
      transport: t, store: new FsObjectStore({ root: join(dir, 'g') }), config: new MapConfigSource(map), logger: createLogger({ level: 'silent' }),
      observer: failuresOf(failures),
    });
    const ch = await raw.createChannel();
    try {
      await ch.deleteQueue('g-out');
      ch.publish('', 'g-in', Buffer.from('5'));
      const started = Date.now();
      while (failures.length === 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 20));
      assert.match(failures[0] ?? '', /SY_ERR_UNROUTABLE: .*queue "g-out"/);
      await ch.assertQueue('g-out', { durable: true });
      const m = await new Promise<import('amqplib').ConsumeMessage>((resolve) => {
        void ch.consume('g-out', (msg) => { if (msg) { ch.ack(msg); resolve(msg); } });
      });
      assert.equal(m.content.toString(), '5');
    } finally {
      await w.stop();
      await t.close();
      await ch.close().catch(() => undefined);
    }
  });
});
