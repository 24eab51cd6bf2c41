// One trace across a worker pipeline of three stages over a real RabbitMQ: workers started
// on the registry's transport with the `tracing` setting on (as `run` does), a message sent
// inside a span; the in-memory exporter sees every send and every stage's processing in the
// one trace, each hop the child of the one before, the context riding in AMQP headers.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, trace } from '@opentelemetry/api';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { startWorker, worker, type WorkerComponent } from '../../src/models/worker/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';
import { registerTestSdk, type SpanRecord, type TestSdk } from '../support/tracing-sdk.js';

requireRabbitMq();

const T = { timeout: 60_000 };

const MAP = `
services:
  parse:  { in: tr-1, out: [ { case: true, queues: [tr-2] } ] }
  enrich: { in: tr-2, out: [ { case: true, queues: [tr-3] } ] }
  store:  { in: tr-3, out: [ { case: true, queues: [tr-out] } ] }
`;

describe('tracing a three-stage worker pipeline over RabbitMQ', () => {
  let broker: RabbitMq;
  let raw: ChannelModel;
  let dir: string;
  let sdk: TestSdk;
  before(async () => {
    sdk = registerTestSdk();
    broker = await startRabbitMq();
    raw = await connect(broker.url);
    dir = await mkdtemp(join(tmpdir(), 'sy-tracing-amqp-'));
  });
  after(async () => {
    await raw?.close().catch(() => undefined);
    await broker?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    await sdk?.shutdown();
  });

  it('one trace: send → parse → send → enrich → send → store → send, each the child of the one before', T, async () => {
    const logger = createLogger({ level: 'silent' });
    const registry = new TransportRegistry({ logger, tracing: true });
    const workers: WorkerComponent[] = [];
    const ch = await raw.createChannel();
    try {
      const queues = (await registry.open(broker.url, 'worker', ['queue'])).queues!;
      await queues.start();
      const config = new MapConfigSource(parseSysMap(MAP, 'tracing.yaml'));
      const store = new FsObjectStore({ root: join(dir, 'store') });
      for (const name of ['parse', 'enrich', 'store']) {
        workers.push(await startWorker(worker(name, (id) => [[id + 1n, true]]), { transport: queues, store, config, logger }));
      }
      const out = new Promise<ConsumeMessage>((resolve) => void ch.consume('tr-out', (m) => m && (ch.ack(m), resolve(m))));

      await trace.getTracer('test').startActiveSpan('request', async (span) => {
        await queues.send('tr-1', { body: Buffer.from('40') });
        span.end();
      });
      const result = await Promise.race([out, new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('nothing reached tr-out within 30 s')), 30_000).unref())]);
      assert.equal(result.content.toString(), '43', 'every stage ran');
      const headers = result.properties.headers ?? {};
      assert.match(String(headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'the context rides in AMQP message headers');

      // The last stage's span ends after its ack; wait for it (bounded).
      const deadline = Date.now() + 10_000;
      while (!sdk.spans().some((s) => s.name === 'process tr-3') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const spans = sdk.spans();
      const root = spans.find((s) => s.name === 'request')!;
      const chain = ['send tr-1', 'process tr-1', 'send tr-2', 'process tr-2', 'send tr-3', 'process tr-3', 'send tr-out'];
      let parent: SpanRecord = root;
      for (const name of chain) {
        const span = spans.find((s) => s.name === name);
        assert.ok(span, `span "${name}" missing; got ${spans.map((s) => s.name).join(', ')}`);
        assert.equal(span.traceId, root.traceId, `${name} is in the one trace`);
        assert.equal(span.parentSpanId, parent.spanId, `${name} is the child of ${parent.name}`);
        assert.equal(span.kind, name.startsWith('send') ? SpanKind.PRODUCER : SpanKind.CONSUMER);
        parent = span;
      }
      assert.equal(String(headers.traceparent).split('-')[2], spans.find((s) => s.name === 'send tr-out')!.spanId);
      assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'nothing outside the one trace');
    } finally {
      for (const w of workers) await w.stop().catch(() => undefined);
      await ch.close().catch(() => undefined);
      await registry.close();
    }
  });
});
