// Tracing on the embedded default, through the registry as `run` and `dev` use it: with the
// `tracing` setting on, a message sent inside a span arrives with `traceparent` and is
// handled inside a child span; off, the registry's transport is the transport itself and
// no header is added, even with an SDK registered and a span current.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { types } from 'node:util';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { createLogger } from '../../src/observability/logger.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import type { Delivery, Transport } from '../../src/transports/transport.js';
import { resolveSystemSettings } from '../../src/cli/system.js';
import { hostedMemoryOf } from '../../src/transports/memory/shared/shared-transport.js';
import { registerTestSdk, type TestSdk } from '../support/tracing-sdk.js';

const T = { timeout: 20_000 };

function collectingLogger(lines: string[]) {
  return createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
}

/** Sends one message inside a span "origin" and resolves with its delivery (acked). */
async function roundTrip(queues: Transport, queue: string): Promise<{ delivery: Delivery; inside: string | undefined }> {
  let got!: (v: { delivery: Delivery; inside: string | undefined }) => void;
  const arrived = new Promise<{ delivery: Delivery; inside: string | undefined }>((r) => (got = r));
  const sub = await queues.consume(queue, async (d) => {
    // The span current while the handler runs (what the handler sends would be its child).
    const inside = trace.getSpan(context.active())?.spanContext().traceId;
    await d.ack();
    got({ delivery: d, inside });
  }, { prefetch: 1 });
  const tracer = trace.getTracer('test');
  await tracer.startActiveSpan('origin', async (span) => {
    await queues.send(queue, { body: Buffer.from('7'), headers: { 'x-mine': 'kept' } });
    span.end();
  });
  const out = await arrived;
  await sub.stop();
  return out;
}

// Before any SDK is registered in this process (tests of a file run in order).
it('on without an SDK: says once that spans go nowhere and how to register one; messages still flow', T, async () => {
  const lines: string[] = [];
  const registry = new TransportRegistry({ logger: collectingLogger(lines), tracing: true });
  try {
    await registry.open('memory', 'worker', ['queue']);
    await registry.open('memory?max_length=10', 'worker', ['queue']);
    const warned = lines.filter((l) => /no OpenTelemetry SDK is registered/.test(l));
    assert.equal(warned.length, 1, lines.join(''));
    assert.match(warned[0]!, /--import/);
    const { delivery } = await roundTrip((await registry.open('memory', 'worker', ['queue'])).queues!, 'nosdk-q');
    assert.equal(delivery.headers.traceparent, undefined, 'no valid span, nothing to carry');
  } finally {
    await registry.close();
  }
});

it('the process setting: off by default, on with --tracing or SWITCHYARD_TRACING', T, async () => {
  const cwd = process.cwd();
  assert.equal((await resolveSystemSettings(new Map(), {}, {}, cwd)).process.tracing, false);
  assert.equal((await resolveSystemSettings(new Map(), { tracing: true }, {}, cwd)).process.tracing, true);
  assert.equal((await resolveSystemSettings(new Map(), {}, { SWITCHYARD_TRACING: 'true' }, cwd)).process.tracing, true);
  await assert.rejects(resolveSystemSettings(new Map(), {}, { SWITCHYARD_TRACING: 'maybe' }, cwd), /must be true or false/);
});

it('on: ZeroMQ sockets and acomm (service_framework and mistify frames) are left as they are, nothing added to their frames', T, async () => {
  const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }), tracing: true });
  try {
    const zeromq = await registry.open('zeromq', 'service', ['sockets']);
    assert.equal(types.isProxy(zeromq.sockets), false);
    const unix = await registry.open('unix', 'provider', ['acomm']);
    assert.equal(unix.acomm, await import('../../src/transports/unix/mod.js'), 'the acomm functions themselves');
  } finally {
    await registry.close();
  }
});

describe('tracing through the registry (memory transport)', () => {
  let sdk: TestSdk;
  before(() => {
    sdk = registerTestSdk();
  });
  after(async () => {
    await sdk.shutdown();
  });

  it('off (the default): the transport is not wrapped, no header is added, no span is made', T, async () => {
    sdk.exporter.reset();
    const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }) });
    try {
      const opened = await registry.open('memory', 'worker', ['queue']);
      assert.equal(types.isProxy(opened.queues), false, 'the registry hands out the transport itself');
      const { delivery } = await roundTrip(opened.queues!, 'off-q');
      assert.deepEqual(Object.keys(delivery.headers).filter((h) => h.startsWith('trace')), [], 'no trace header added');
      assert.equal(delivery.headers['x-mine'], 'kept');
      assert.deepEqual(sdk.spans().map((s) => s.name), ['origin'], 'only the test\'s own span');
    } finally {
      await registry.close();
    }
  });

  it('on: send injects traceparent from the current span, consume runs the handler inside a CONSUMER span child of it', T, async () => {
    sdk.exporter.reset();
    const lines: string[] = [];
    const registry = new TransportRegistry({ logger: collectingLogger(lines), tracing: true });
    try {
      const opened = await registry.open('memory', 'worker', ['queue']);
      const queues = opened.queues!;
      assert.equal(types.isProxy(queues), true);
      assert.ok(hostedMemoryOf(queues), 'what the memory transport offers beyond the interface stays reachable');
      const { delivery, inside } = await roundTrip(queues, 'on-q');
      assert.match(delivery.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.equal(delivery.headers['x-mine'], 'kept', 'the message\'s own headers are kept');
      const spans = sdk.spans();
      const origin = spans.find((s) => s.name === 'origin')!;
      const send = spans.find((s) => s.name === 'send on-q')!;
      const process = spans.find((s) => s.name === 'process on-q')!;
      assert.ok(origin && send && process, `spans: ${spans.map((s) => s.name).join(', ')}`);
      assert.equal(send.kind, SpanKind.PRODUCER);
      assert.equal(process.kind, SpanKind.CONSUMER);
      assert.equal(send.parentSpanId, origin.spanId);
      assert.equal(process.parentSpanId, send.spanId);
      assert.equal(process.traceId, origin.traceId);
      assert.equal(inside, origin.traceId, 'the handler ran inside the trace');
      assert.equal(delivery.headers.traceparent, `00-${send.traceId}-${send.spanId}-01`);
      assert.equal(lines.filter((l) => /no OpenTelemetry SDK/.test(l)).length, 0, 'an SDK is registered: nothing to say');
    } finally {
      await registry.close();
    }
  });

  it('on, HTTP: the outbound call sends traceparent (CLIENT span) and the route runs inside a SERVER span child of it', T, async () => {
    sdk.exporter.reset();
    const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }), tracing: true });
    const seen: (string | string[] | undefined)[] = [];
    let insideTrace: string | undefined;
    const http = (await registry.open('http', 'task', ['http'])).http!;
    const server = await http.serve({
      host: '127.0.0.1', port: 0, bodyLimitBytes: 1024, openapi: { title: 't', version: '1' },
      routes: [{ method: 'GET', path: '/status', handler: (req) => {
        seen.push(req.headers.traceparent);
        insideTrace = trace.getSpan(context.active())?.spanContext().traceId;
        return { status: 200, body: { ok: true } };
      } }],
    });
    try {
      await trace.getTracer('test').startActiveSpan('origin', async (span) => {
        const res = await http.call(`${server.url}/status`, { method: 'GET' });
        assert.equal(res.status, 200);
        span.end();
      });
      const spans = sdk.spans();
      const origin = spans.find((s) => s.name === 'origin')!;
      const client = spans.find((s) => s.name === 'GET' && s.kind === SpanKind.CLIENT);
      const served = spans.find((s) => s.name === 'GET /status' && s.kind === SpanKind.SERVER);
      assert.ok(client && served, `spans: ${spans.map((s) => `${s.name}/${s.kind}`).join(', ')}`);
      assert.equal(client.parentSpanId, origin.spanId);
      assert.equal(served.parentSpanId, client.spanId);
      assert.equal(served.traceId, origin.traceId);
      assert.equal(seen[0], `00-${client.traceId}-${client.spanId}-01`);
      assert.equal(insideTrace, origin.traceId, 'the route ran inside the trace');
    } finally {
      await server.close();
      await registry.close();
    }
  });

  it('off, HTTP: no traceparent header is sent', T, async () => {
    const registry = new TransportRegistry({ logger: createLogger({ level: 'silent' }) });
    const seen: (string | string[] | undefined)[] = [];
    const http = (await registry.open('http', 'task', ['http'])).http!;
    const server = await http.serve({
      host: '127.0.0.1', port: 0, bodyLimitBytes: 1024, openapi: { title: 't', version: '1' },
      routes: [{ method: 'GET', path: '/status', handler: (req) => (seen.push(req.headers.traceparent), { status: 200 }) }],
    });
    try {
      await trace.getTracer('test').startActiveSpan('origin', async (span) => {
        await http.call(`${server.url}/status`, { method: 'GET' });
        span.end();
      });
      assert.deepEqual(seen, [undefined]);
    } finally {
      await server.close();
      await registry.close();
    }
  });
});
