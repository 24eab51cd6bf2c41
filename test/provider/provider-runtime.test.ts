// The provider model on the one runtime: the runner's contract (section, needs, default
// transport, refusals), the observer events a provider emits (a success, a failure, a
// refusal, an outbound call, its edges on "ready"), and a provider run through Runtime with
// its series scraped from /metrics.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import type { ObserverEvent } from '../../src/observability/observer.js';
import { modelOf, type RunContext } from '../../src/runtime/model.js';
import { TransportRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import {
  coordinatorClient, defineProvider, isProviderDefinition, providerSettings, runner,
  type CoordinatorClient, type ProviderDefinition, type ProviderSettings, type ProviderSettingsInput,
} from '../../src/models/provider/mod.js';
import { encodeFrame } from '../../src/transports/unix/mod.js';
import { rawExchange, shortTempDir } from './kit.js';

const quiet = createLogger({ level: 'silent' });

/** A Runtime with a transport registry and the provider runner's context. */
function runThroughRuntime(settings: ProviderSettingsInput, transport = 'unix') {
  const runtime = new Runtime({ logger: quiet });
  const transports = new TransportRegistry({ logger: quiet });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const ctx: RunContext<ProviderSettings> = {
    logger: quiet, observer: runtime.observer, transports, settings: providerSettings(settings), transport, stateDir: '.switchyard',
    configSource: () => Promise.reject(new Error('unused')), objectStore: () => Promise.reject(new Error('unused')),
  };
  const run = async (definitions: ProviderDefinition[]) => {
    for (const component of await runner.components(definitions, ctx)) await runtime.add(component);
    await runtime.start();
  };
  return { runtime, ctx, run };
}

const echo = defineProvider('obs', (p) => {
  p.registerTask('Echo', (req) => req.args);
  p.registerTask('Fail', () => {
    throw new Error('no such guest');
  });
  p.registerTask('Ask', async (_req, ctx) => (await ctx.request('Echo', { asked: true })).result);
});

describe('provider runner', () => {
  it('declares the provider section, the acomm capability and the unix transport; definitions are marked', async () => {
    assert.equal(runner.model, 'provider');
    assert.equal(runner.settings.name, 'provider');
    assert.deepEqual(runner.needs, ['acomm']);
    assert.equal(runner.defaultTransport, 'unix');
    assert.equal(modelOf(echo), 'provider');
    assert.equal(isProviderDefinition(echo), true);
    assert.equal(echo.kind, 'provider', 'the kind field stays');
    assert.equal(isProviderDefinition({ kind: 'provider', registerTasks: () => undefined }), false, 'only defineProvider makes one');
  });

  it('refuses a transport without acomm, providers without names, and a missing service_name', async () => {
    const tmp = await shortTempDir();
    try {
      await assert.rejects(runThroughRuntime({ socket_dir: tmp.dir }, 'memory').run([echo]), /SY_ERR_CAPABILITY_MISSING: the provider model needs the transport capabilities \[acomm\]/);
      const unnamed = defineProvider((p) => void p.registerTask('T', () => 1));
      await assert.rejects(runThroughRuntime({ socket_dir: tmp.dir }).run([unnamed]), /SY_ERR_SETTINGS: .*provider.service_name is missing/);
      await assert.rejects(runThroughRuntime({ socket_dir: tmp.dir }).run([echo, unnamed]), /SY_ERR_PROVIDER_DEFINITIONS: .*name every one with defineProvider\(name/);
      await assert.rejects(runThroughRuntime({ socket_dir: tmp.dir }).run([echo, defineProvider('obs', () => undefined)]), /SY_ERR_PROVIDER_DEFINITIONS: .*must differ/);
      await assert.rejects(runThroughRuntime({ socket_dir: tmp.dir, service_name: 'x' }).run([echo, defineProvider('other', () => undefined)]), /SY_ERR_PROVIDER_DEFINITIONS: .*provider.service_name \(x\) names one provider/);
    } finally {
      await tmp.remove();
    }
  });

  it('gives the edges without serving: the task sockets in, the coordinator and response hooks out', async () => {
    const { ctx } = runThroughRuntime({ socket_dir: '/nowhere', coordinator_url: 'unix:///run/coordinator.sock' });
    const [edges] = await runner.edges!([echo], ctx);
    assert.deepEqual(edges, {
      service: 'obs',
      inputs: [{ kind: 'socket', name: 'Echo' }, { kind: 'socket', name: 'Fail' }, { kind: 'socket', name: 'Ask' }],
      outputs: [{ kind: 'unix', name: 'coordinator', label: 'unix:///run/coordinator.sock' }, { kind: 'unix', name: 'response-hook' }],
    });
  });
});

describe('provider on the observer stream', () => {
  let tmp: Awaited<ReturnType<typeof shortTempDir>>;
  let runtime: Runtime;
  let client: CoordinatorClient;
  const events: ObserverEvent[] = [];

  before(async () => {
    tmp = await shortTempDir();
    const r = runThroughRuntime({ socket_dir: tmp.dir, default_priority: 60 });
    runtime = r.runtime;
    runtime.observer.listen((e) => events.push(e));
    await r.run([echo]);
    client = await coordinatorClient({ socketDir: tmp.dir, timeoutMs: 10_000 });
  });
  after(async () => {
    await client?.stop();
    await runtime?.stop();
    await tmp?.remove();
  });

  /** Events of one request id, without the source and time fields. */
  const of = (id: string) => events.filter((e) => 'id' in e && e.id === id).map(({ model: _m, service: _s, transport: _t, at: _a, ...rest }) => rest);
  /** Waits until `n` events carry `id` (the provider reports after sending the response). */
  const settled = async (id: string, n: number) => {
    for (let i = 0; i < 200 && of(id).length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return of(id);
  };

  it('reports "ready" with its edges, on the source model=provider, transport=unix', () => {
    const ready = events.find((e) => e.type === 'state' && e.state === 'ready');
    assert.ok(ready && ready.type === 'state');
    assert.deepEqual([ready.model, ready.service, ready.transport], ['provider', 'obs', 'unix']);
    assert.deepEqual(ready.inputs?.map((e) => e.name), ['Echo', 'Fail', 'Ask']);
    assert.deepEqual(ready.outputs?.map((e) => e.name), ['coordinator', 'response-hook']);
  });

  it('a success: received, the hook\'s delivery called, sent to the response hook, handled', async () => {
    await client.request('Echo', { n: 1 }, { id: 'ok-1' });
    const seen = await settled('ok-1', 4);
    assert.deepEqual(seen.map((e) => e.type), ['received', 'called', 'sent', 'handled']);
    assert.deepEqual(seen[0], { type: 'received', input: 'Echo', id: 'ok-1', attempt: 1 });
    assert.ok(seen[1]!.type === 'called' && seen[1]!.target === 'response-hook' && seen[1]!.error === undefined);
    assert.deepEqual(seen[2], { type: 'sent', output: 'response-hook', id: 'ok-1' });
    assert.equal(seen[3]!.type === 'handled' && seen[3]!.input, 'Echo');
    assert.ok(seen[3]!.type === 'handled' && seen[3]!.durationMs >= 0);
  });

  it('a failure: received, the error response delivered, failed with the error and no retry', async () => {
    await assert.rejects(client.request('Fail', null, { id: 'bad-1' }), /no such guest/);
    const seen = await settled('bad-1', 4);
    assert.deepEqual(seen.map((e) => e.type), ['received', 'called', 'sent', 'failed']);
    const failed = seen[3]!;
    assert.ok(failed.type === 'failed');
    assert.equal(failed.input, 'Fail');
    assert.deepEqual(failed.error, { message: 'no such guest' });
    assert.equal(failed.retryInMs, undefined, 'acomm has no redelivery');
  });

  it('a response that cannot reach its hook: received, called with the error (target "response-hook", not the URL), failed', async () => {
    const gone = join(tmp.dir, 'gone.sock');
    const request = JSON.stringify({ id: 'lost-1', task: 'Echo', responsehook: { Scheme: 'unix', Path: gone }, args: 1 });
    await rawExchange(join(tmp.dir, 'Echo', '60-obs.sock'), encodeFrame(request));
    const seen = await settled('lost-1', 3);
    assert.deepEqual(seen.map((e) => e.type), ['received', 'called', 'failed']);
    assert.ok(seen[1]!.type === 'called' && seen[1]!.target === 'response-hook' && /could not be delivered/.test(seen[1]!.error?.message ?? ''));
    assert.ok(seen[2]!.type === 'failed' && /could not be delivered to its hook/.test(seen[2]!.error.message));
    assert.equal(JSON.stringify(seen).includes('"target":"unix:'), false);
  });

  it('refusals: a malformed frame and an invalid request are "rejected" on the task\'s input, never received', async () => {
    const before = events.length;
    const socket = join(tmp.dir, 'Echo', '60-obs.sock');
    await rawExchange(socket, encodeFrame('{not json'));
    await rawExchange(socket, encodeFrame(JSON.stringify({ id: 'x', task: 'Echo' })));
    const rejected = events.slice(before).filter((e) => e.type === 'rejected');
    assert.deepEqual(rejected.map((e) => e.type === 'rejected' && [e.input, e.reason]), [['Echo', 'bad frame: not-json'], ['Echo', 'invalid request']]);
    assert.equal(events.slice(before).some((e) => e.type === 'received'), false);
  });

  it('a request to another task is "called" with the task as its target', async () => {
    const r = await client.request('Ask', null, { id: 'ask-1' });
    assert.deepEqual(r.result, { asked: true });
    await settled('ask-1', 4);
    const called = events.filter((e) => e.type === 'called' && e.target !== 'response-hook');
    assert.equal(called.length, 1);
    assert.ok(called[0]!.type === 'called');
    assert.equal(called[0]!.target, 'Echo');
    assert.equal(called[0]!.error, undefined);
  });

  it('every "received" has exactly one ending', () => {
    for (const r of events.filter((e) => e.type === 'received')) {
      const endings = events.filter((e) => (e.type === 'handled' || e.type === 'failed' || e.type === 'dead-lettered') && e.id === (r.type === 'received' ? r.id : ''));
      assert.equal(endings.length, 1);
    }
  });
});

describe('provider through the Runtime, with /metrics', () => {
  it('serves requests and their series appear on /metrics (model="provider", transport="unix"), with /ready answering 200', { timeout: 30_000 }, async () => {
    const tmp = await shortTempDir();
    const { runtime, run } = runThroughRuntime({ socket_dir: tmp.dir, response_hook_allow: [`unix:${tmp.dir}`] });
    const metrics = observerMetrics(runtime.observer, { processMetrics: false });
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, health: () => runtime.health() });
    runtime.addResource({ name: 'metrics server', stop: () => server.close() });
    const client = await coordinatorClient({ socketDir: tmp.dir, timeoutMs: 10_000 });
    try {
      await run([echo]);
      for (let i = 0; i < 3; i++) assert.deepEqual((await client.request('Echo', { i })).result, { i });
      await assert.rejects(client.request('Fail', null), /no such guest/);
      // A hook outside response_hook_allow: refused in the ack.
      const outside = JSON.stringify({ id: 'far', task: 'Echo', responsehook: { Scheme: 'unix', Path: '/elsewhere/hook.sock' }, args: null });
      await rawExchange(join(tmp.dir, 'Echo', '50-obs.sock'), encodeFrame(outside));
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200);
      const source = 'model="provider",service="obs",transport="unix"';
      const wanted = [
        `switchyard_component_ready{${source}} 1`,
        `switchyard_received_total{${source},input="Echo"} 3`,
        `switchyard_handled_total{${source},input="Echo"} 3`,
        `switchyard_received_total{${source},input="Fail"} 1`,
        `switchyard_failed_total{${source},input="Fail"} 1`,
        `switchyard_in_flight{${source},input="Echo"} 0`,
        `switchyard_sent_total{${source},output="response-hook"} 4`,
        `switchyard_rejected_total{${source},input="Echo"} 1`,
        `switchyard_calls_total{${source},target="response-hook",outcome="ok"} 4`,
      ];
      let text = '';
      // The last response's events follow its delivery by a moment.
      for (let i = 0; i < 100; i++) {
        text = await (await fetch(`${server.url}/metrics`)).text();
        if (wanted.every((s) => text.includes(s))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const series of wanted) assert.ok(text.includes(series), `${series} missing from /metrics:\n${text.split('\n').filter((l) => l.includes('model="provider"')).join('\n')}`);
    } finally {
      await client.stop();
      await runtime.stop();
      await tmp.remove();
    }
  });
});
