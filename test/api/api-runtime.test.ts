// The API model on the one runtime: its runner (the ModelRunner contract), the events it
// reports on the observer stream for a success, a failure, a set-aside event and refused
// bus input, and a run through Runtime with /metrics scraped for its series.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { resolveSettings } from '../../src/config/settings/settings.js';
import { apiService, apiSettingsSection, createBus, defineApi, runner, type ApiModelSettings, type ApiServiceDefinition } from '../../src/models/api/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import type { ObserverEvent } from '../../src/observability/observer.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { DEFINITION, modelOf, type RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { waitUntil } from './bus-conformance.js';

const logger = createLogger({ level: 'silent' });

const shop = defineApi({
  name: 'rt.shop',
  rpcs: {
    place: { params: z.object({ sku: z.string() }), result: z.object({ order: z.string() }) },
    broken: { params: z.object({}), result: z.null() },
  },
  events: { placed: { params: z.object({ order: z.string() }) } },
});

const seen: string[] = [];
const shopService = apiService({ shop }, (bus) => {
  bus.serve(shop, {
    place: async ({ sku }) => {
      await bus.shop.placed.fire({ order: `o-${sku}` });
      return { order: `o-${sku}` };
    },
    broken: () => {
      throw new RangeError('out of stock');
    },
  });
  void bus.shop.placed.listen(({ order }) => {
    if (order === 'o-poison') throw new Error('cannot ship');
    seen.push(order);
  }, { listenerName: 'ship', maxAttempts: 1 });
});
/** As the CLI hands definitions to the runner: found by modelOf, of any APIs. */
const shopDefinition = shopService as unknown as ApiServiceDefinition;

function settingsOf(api: Record<string, unknown> = {}): ApiModelSettings {
  return resolveSettings([apiSettingsSection], [{ source: 'test', values: { api: { serviceName: 'shop-svc', processName: 'p1', ...api } } }]).api;
}

/** A runtime running the runner's components, as `switchyard run` does; `events` records the stream. */
async function runThroughRuntime(definitions: readonly ApiServiceDefinition[], api: Record<string, unknown> = {}, beforeStart: (runtime: Runtime) => void = () => undefined) {
  const runtime = new Runtime({ logger });
  beforeStart(runtime);
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const events: ObserverEvent[] = [];
  runtime.observer.listen((e) => void events.push(e));
  const ctx: RunContext<ApiModelSettings> = {
    logger, observer: runtime.observer, transports, settings: settingsOf(api), transport: runner.defaultTransport, stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('the api model asks for no configuration source')),
    objectStore: () => Promise.reject(new Error('the api model asks for no object store')),
  };
  for (const c of await runner.components(definitions, ctx)) await runtime.add(c);
  await runtime.start();
  // A caller in the same process, on the same (in-process) transport.
  const opened = await transports.open('memory', 'api', ['bus']);
  const client = createBus({ apis: { shop }, transport: opened.bus!, closeTransports: false, logger, serviceName: 'caller', observer: runtime.observer });
  await client.start();
  return { runtime, events, client, opened, stop: async () => { await client.stop(); await runtime.stop(); } };
}

const bodies = (events: readonly ObserverEvent[], filter: (e: ObserverEvent) => boolean) =>
  events.filter(filter).map((e) => {
    const { at: _at, model: _m, transport: _t, ...rest } = e as ObserverEvent & Record<string, unknown>;
    for (const k of ['durationMs', 'id', 'error']) delete (rest as Record<string, unknown>)[k];
    return rest;
  });

describe('the api runner', () => {
  it('declares the model, its section, the bus capability and the embedded default; definitions are marked "api"', async () => {
    assert.equal(runner.model, 'api');
    assert.equal(runner.settings, apiSettingsSection);
    assert.deepEqual(runner.needs, ['bus']);
    assert.equal(runner.defaultTransport, 'memory');
    assert.equal(modelOf(shopService), 'api');
    assert.equal(shopService.kind, 'api-service', 'the kind field stays meanwhile');
    assert.equal(Object.getOwnPropertyDescriptor(shopService, DEFINITION)?.enumerable, false, 'the mark never shows in logs or JSON');
    assert.equal(modelOf(shop), undefined, 'an API declaration is not a runnable definition');
    const transports = new TransportRegistry({ logger });
    const ctx = { logger, observer: undefined as never, transports, settings: settingsOf(), transport: 'memory', stateDir: '.', configSource: undefined as never, objectStore: undefined as never };
    assert.deepEqual(await runner.edges!([shopDefinition], ctx), [{
      service: 'shop-svc',
      inputs: [{ kind: 'rpc', name: 'rt.shop.place' }, { kind: 'rpc', name: 'rt.shop.broken' }, { kind: 'event', name: 'rt.shop.placed', label: 'ship' }],
      outputs: [{ kind: 'event', name: 'rt.shop.placed' }],
    }]);
    assert.deepEqual(await runner.components([], ctx), [], 'no definitions, no component');
    await transports.close();
  });

  it('refuses a transport without the bus capability, naming the model', async () => {
    const transports = new TransportRegistry({ logger });
    const ctx = { logger, observer: undefined as never, transports, settings: settingsOf(), transport: 'zeromq', stateDir: '.', configSource: undefined as never, objectStore: undefined as never };
    await assert.rejects(runner.components([shopDefinition], ctx), /SY_ERR_CAPABILITY_MISSING: the api model needs the transport capabilities \[bus\] but transport "zeromq"/);
    await transports.close();
  });

  it('reports a success, a failure and refusals in the observer stream, and its edges on "ready"', { timeout: 20_000 }, async () => {
    seen.length = 0;
    const run = await runThroughRuntime([shopDefinition]);
    const { events, client, opened } = run;
    try {
      const ready = events.find((e) => e.type === 'state' && e.state === 'ready');
      assert.deepEqual(ready && { service: ready.service, model: ready.model, transport: ready.transport }, { service: 'shop-svc', model: 'api', transport: 'memory' });
      assert.deepEqual(ready && 'inputs' in ready ? ready.inputs?.map((e) => e.name) : [], ['rt.shop.place', 'rt.shop.broken', 'rt.shop.placed']);

      // A success: the call arrives and is handled; the event it fires is sent, arrives at the listener, is handled.
      assert.deepEqual(await client.shop.place({ sku: 'a' }), { order: 'o-a' });
      await waitUntil('the event handled', () => seen.includes('o-a'));
      await waitUntil('the stream to settle', () => events.some((e) => e.type === 'handled' && e.input === 'rt.shop.placed'));
      const server = (e: ObserverEvent) => e.service === 'shop-svc' && e.type !== 'state';
      assert.deepEqual(bodies(events, server), [
        { service: 'shop-svc', type: 'received', input: 'rt.shop.place', attempt: 1 },
        { service: 'shop-svc', type: 'sent', output: 'rt.shop.placed' },
        { service: 'shop-svc', type: 'received', input: 'rt.shop.placed', attempt: 1 },
        { service: 'shop-svc', type: 'handled', input: 'rt.shop.placed' },
        { service: 'shop-svc', type: 'handled', input: 'rt.shop.place' },
      ].sort((a, b) => order(events, a) - order(events, b)));
      const at = (type: string, input: string) => events.findIndex((e) => e.type === type && 'input' in e && e.input === input);
      assert.ok(at('received', 'rt.shop.place') < at('handled', 'rt.shop.place'), 'the call: received, then handled');
      assert.ok(at('received', 'rt.shop.placed') < at('handled', 'rt.shop.placed'), 'the event: received, then handled');
      const call = events.find((e) => e.type === 'received' && e.input === 'rt.shop.place')!;
      const called = events.find((e) => e.type === 'called' && e.service === 'caller');
      assert.ok(called && called.type === 'called' && called.target === 'rt.shop.place' && called.id === (call as { id: string }).id && called.error === undefined, 'the caller reports its call with the call id');
      const handled = events.find((e) => e.type === 'handled' && e.input === 'rt.shop.place');
      assert.ok(handled && handled.type === 'handled' && handled.id === (call as { id: string }).id && handled.durationMs >= 0);

      // A failure: the procedure throws; the call is received then failed (RPC is at most once: no retry).
      events.length = 0;
      await assert.rejects(client.shop.broken({}), /SY_ERR_RPC_REMOTE: RPC rt\.shop\.broken\(\) failed on the serving side with RangeError: out of stock/);
      assert.deepEqual(bodies(events, server), [
        { service: 'shop-svc', type: 'received', input: 'rt.shop.broken', attempt: 1 },
        { service: 'shop-svc', type: 'failed', input: 'rt.shop.broken' },
      ]);
      const failed = events.find((e) => e.type === 'failed');
      assert.ok(failed?.type === 'failed' && failed.retryInMs === undefined && failed.error.message === 'out of stock');
      const failedCall = events.find((e) => e.type === 'called');
      assert.equal(failedCall?.type === 'called' && failedCall.error?.code, 'SY_ERR_RPC_REMOTE');

      // A handler that fails its last attempt: the event is set aside (dead-lettered, max_attempts).
      events.length = 0;
      await client.shop.placed.fire({ order: 'o-poison' });
      await waitUntil('the poison event set aside', () => events.some((e) => e.type === 'dead-lettered'));
      assert.deepEqual(bodies(events, server), [
        { service: 'shop-svc', type: 'received', input: 'rt.shop.placed', attempt: 1 },
        { service: 'shop-svc', type: 'dead-lettered', input: 'rt.shop.placed', reason: 'handler of listener "ship" failed 1 times: cannot ship', reasonKind: 'max_attempts' },
      ]);

      // Refusals: an event that fails its schema is set aside; unreadable input is rejected.
      events.length = 0;
      await opened.queues!.publish('rt.shop.placed:stream', { body: Buffer.from('{"kwargs":{"order":7},"metadata":{"id":"e1","api_name":"rt.shop","event_name":"placed","version":1}}') });
      await opened.queues!.publish('rt.shop.placed:stream', { body: Buffer.from('not json') });
      await assert.rejects(opened.queues!.request('rt.shop:rpc_queue', { body: Buffer.from('not json either') }, { timeoutMs: 2000 }));
      await waitUntil('three refusals', () => events.filter((e) => e.type === 'rejected' || e.type === 'dead-lettered').length >= 3);
      const byText = (a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b));
      assert.deepEqual(bodies(events, server).sort(byText), [
        { service: 'shop-svc', type: 'dead-lettered', input: 'rt.shop.placed', reason: 'Event rt.shop.placed parameters are not valid: field "order": expected string, got integer', reasonKind: 'invalid' },
        { service: 'shop-svc', type: 'received', input: 'rt.shop.placed', attempt: 1 },
        { service: 'shop-svc', type: 'rejected', input: 'rt.shop', reason: 'unreadable call' },
        { service: 'shop-svc', type: 'rejected', input: 'rt.shop.placed', reason: 'unreadable event' },
      ].sort(byText));
    } finally {
      await run.stop();
    }
    const states = run.events.filter((e) => e.type === 'state' && e.service === 'shop-svc').map((e) => (e as { state: string }).state);
    assert.deepEqual(states.slice(-2), ['draining', 'stopped']);
  });

  it('serves its series on /metrics, labelled model, service and transport', { timeout: 20_000 }, async () => {
    let metrics!: ReturnType<typeof observerMetrics>;
    const run = await runThroughRuntime([shopDefinition], { serviceName: 'metered' }, (runtime) => (metrics = observerMetrics(runtime.observer, { processMetrics: false })));
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, health: () => run.runtime.health() });
    try {
      await run.client.shop.place({ sku: 'm' });
      await assert.rejects(run.client.shop.broken({}));
      await waitUntil('the event handled', () => run.events.some((e) => e.type === 'handled' && e.input === 'rt.shop.placed'));
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const source = 'model="api",service="metered",transport="memory"';
      assert.match(text, new RegExp(`switchyard_received_total\\{${source},input="rt.shop.place"\\} 1`));
      assert.match(text, new RegExp(`switchyard_handled_total\\{${source},input="rt.shop.place"\\} 1`));
      assert.match(text, new RegExp(`switchyard_failed_total\\{${source},input="rt.shop.broken"\\} 1`));
      assert.match(text, new RegExp(`switchyard_sent_total\\{${source},output="rt.shop.placed"\\} 1`));
      assert.match(text, new RegExp(`switchyard_handled_total\\{${source},input="rt.shop.placed"\\} 1`));
      assert.match(text, new RegExp(`switchyard_component_ready\\{${source}\\} 1`));
      assert.match(text, /switchyard_calls_total\{model="api",service="caller",transport="memory",target="rt.shop.broken",outcome="error"\} 1/);
      const health = (await (await fetch(`${server.url}/ready`)).json()) as { status: string };
      assert.equal(health.status, 'ok');
    } finally {
      await server.close();
      metrics.detach();
      await run.stop();
    }
  });
});

/** Where an expected body first appears in the stream (for ordering expectations the way they happened). */
function order(events: readonly ObserverEvent[], body: Record<string, unknown>): number {
  return events.findIndex((e) => Object.entries(body).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v));
}
