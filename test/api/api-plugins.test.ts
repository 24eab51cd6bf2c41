// Lightbus's state and metrics plugins, switched on from the bus configuration: their
// events arrive on `internal.state` and `internal.metrics` with Lightbus's fields.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { defineApi, internalMetricsApi, internalStateApi } from '../../src/models/api/mod.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { busFromConfig } from './bus-from-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { waitUntil } from './bus-conformance.js';
import { busConfigLayer } from '../../src/models/api/lightbus-config-file.js';

const logger = createLogger({ level: 'silent' });
const shop = defineApi({
  name: 'shop.orders',
  rpcs: { place: { params: z.object({ sku: z.string() }), result: z.object({ order: z.string() }) } },
  events: { placed: { params: z.object({ order: z.string() }) } },
});

it('state and metrics plugins report a process and its traffic', { timeout: 20_000 }, async () => {
  // Both buses on one registry: one in-process transport, as two services of one process share it.
  const registry = new TransportRegistry({ logger });
  const { bus } = await busFromConfig(
    { service_name: 'shop', process_name: 'shop-1', plugins: { internal_state: { enabled: true, ping_interval: 0.05 }, internal_metrics: { enabled: true } } },
    { apis: { shop }, logger, registry },
  );
  bus.serve(shop, { place: async ({ sku }) => ({ order: `o-${sku}` }) });
  await bus.shop.placed.listen(() => undefined, { listenerName: 'audit' });
  // An observer process on the same (in-process) bus, listening to both internal APIs.
  const { bus: watcher } = await busFromConfig({ service_name: 'watch' }, { apis: { internalState: internalStateApi, internalMetrics: internalMetricsApi }, logger, registry });
  const state: { name: string; params: Record<string, unknown> }[] = [];
  const metrics: { name: string; params: Record<string, unknown> }[] = [];
  await watcher.listen([watcher.internalState.worker_started, watcher.internalState.worker_ping, watcher.internalState.worker_stopped], (p, ctx) => void state.push({ name: ctx.event, params: p }), { listenerName: 'state' });
  const m = watcher.internalMetrics;
  await watcher.listen([m.rpc_call_sent, m.rpc_call_received, m.rpc_response_sent, m.rpc_response_received, m.event_fired, m.event_received, m.event_processed], (p, ctx) => void metrics.push({ name: ctx.event, params: p }), { listenerName: 'metrics' });
  await watcher.start();
  await bus.start();

  await bus.shop.place({ sku: 'a' });
  await bus.shop.placed.fire({ order: 'o-a' });
  await waitUntil('metrics of one call and one event', () => new Set(metrics.map((x) => x.name)).size >= 7);
  await waitUntil('a ping', () => state.some((s) => s.name === 'worker_ping'));
  await bus.stop();
  await waitUntil('worker_stopped', () => state.some((s) => s.name === 'worker_stopped'));
  await watcher.stop();
  await registry.close();

  const started = state.find((s) => s.name === 'worker_started')!.params;
  assert.equal(started.process_name, 'shop-1');
  assert.equal(started.service_name, 'shop');
  assert.deepEqual(started.api_names, ['shop.orders']);
  assert.deepEqual(started.listening_for, ['shop.orders.placed']);
  assert.equal(started.metrics_enabled, true);
  assert.equal(started.pid, process.pid);
  assert.deepEqual(state.find((s) => s.name === 'worker_stopped')!.params, { process_name: 'shop-1', service_name: 'shop' });
  const sent = metrics.find((x) => x.name === 'rpc_call_sent')!.params;
  assert.equal(sent.api_name, 'shop.orders');
  assert.equal(sent.procedure_name, 'place');
  assert.deepEqual(sent.kwargs, { sku: 'a' });
  assert.equal(typeof sent.timestamp, 'number');
  assert.deepEqual(metrics.find((x) => x.name === 'rpc_response_sent')!.params.result, { order: 'o-a' });
  const processed = metrics.find((x) => x.name === 'event_processed')!.params;
  assert.equal(processed.event_name, 'placed');
  assert.ok(!metrics.some((x) => x.params.api_name === 'internal.metrics'), 'no metrics about metrics');
});

it('names an unknown plugin or setting', () => {
  assert.throws(() => busConfigLayer({ plugins: { internal_state: { ping_every: 5 } } }, 'x'), /plugins.internal_state.ping_every \(from bus config x\): expected no such key/);
  assert.throws(() => busConfigLayer({ plugins: { tracing: {} } }, 'x'), /plugins.tracing \(from bus config x\): expected no such key/);
});
