import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { observerMetrics } from '../../src/observability/observer-metrics.js';
import { Runtime, type Component } from '../../src/runtime/runtime.js';

const quiet = () => createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function component(name: string, log: string[], options: { failStart?: boolean } = {}): Component {
  return {
    source: { model: 'worker', service: name, transport: 'memory' },
    async start() {
      log.push(`start ${name}`);
      if (options.failStart) throw new Error(`${name} cannot start`);
    },
    async stop() {
      log.push(`stop ${name}`);
    },
    edges: () => ({ inputs: [{ kind: 'queue', name: `${name}-in` }], outputs: [] }),
  };
}

describe('runtime: the one lifecycle', () => {
  it('starts in order, stops components in reverse and then resources in reverse, once', async () => {
    const log: string[] = [];
    const rt = new Runtime({ logger: quiet() });
    rt.addResource({ name: 'transport', stop: async () => void log.push('close transport') });
    rt.addResource({ name: 'store', stop: async () => void log.push('close store') });
    await rt.add(component('a', log));
    await rt.add(component('b', log));
    await rt.start();
    assert.equal(rt.health().status, 'ok');
    await Promise.all([rt.stop(), rt.stop()]);
    assert.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a', 'close store', 'close transport']);
    assert.equal(rt.health().status, 'stopping');
  });

  it('a component that fails to start stops the ones started, and the error reaches the caller', async () => {
    const log: string[] = [];
    const rt = new Runtime({ logger: quiet() });
    await rt.add(component('a', log));
    await rt.add(component('b', log, { failStart: true }));
    await rt.add(component('c', log));
    await assert.rejects(rt.start(), /b cannot start/);
    assert.deepEqual(log, ['start a', 'start b', 'stop a']);
    assert.equal(rt.health().status, 'failed');
    assert.equal(rt.health().components.find((c) => c.service === 'b')?.error, 'b cannot start');
  });

  it('reports every state change with the source, and the edges when ready', async () => {
    const events: ObserverEvent[] = [];
    const rt = new Runtime({ logger: quiet() });
    rt.observer.listen((e) => events.push(e));
    await rt.add(component('a', []));
    await rt.start();
    await rt.stop();
    assert.deepEqual(events.map((e) => e.type === 'state' && e.state), ['starting', 'ready', 'draining', 'stopped']);
    const ready = events[1]!;
    assert.equal(ready.model, 'worker');
    assert.equal(ready.service, 'a');
    assert.deepEqual(ready.type === 'state' && ready.inputs, [{ kind: 'queue', name: 'a-in' }]);
  });

  it('keeps the process alive while running, though no component holds a handle', async () => {
    // A child whose only component holds nothing: it must stay up until SIGTERM, then exit 0.
    const code = `
      import { Runtime } from './src/runtime/runtime.ts';
      import { createLogger } from './src/observability/logger.ts';
      const rt = new Runtime({ logger: createLogger({ level: 'silent' }) });
      await rt.add({ source: { model: 'api', service: 's', transport: 'memory' }, start: async () => {}, stop: async () => { console.log('stopped'); } });
      await rt.start();
      console.log('ready');
      await rt.untilSignal();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no "ready" from the child: ${out}`)), 20_000);
      child.stdout.on('data', () => out.includes('ready') && (clearTimeout(t), resolve()));
    });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(child.exitCode, null, 'the child is still running 1.5 s after ready');
    child.kill('SIGTERM');
    const exit = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(exit, 0);
    assert.match(out, /stopped/);
  });
});

describe('metrics derived from the observer stream', () => {
  it('counts per model, service, transport and input; in-flight rises and falls; calls by outcome', async () => {
    const observer = new Observer();
    const { registry, detach } = observerMetrics(observer, { processMetrics: false });
    const w = observer.for({ model: 'worker', service: 'ingest', transport: 'amqp' });
    const p = observer.for({ model: 'provider', service: 'simple', transport: 'unix' });
    w.emit({ type: 'received', input: 'ingest-in', id: '1', attempt: 1 });
    w.emit({ type: 'received', input: 'ingest-in', id: '2', attempt: 1 });
    w.emit({ type: 'handled', input: 'ingest-in', id: '1', durationMs: 3, produced: [{ output: 'classify-in', id: '1', label: 'true' }] });
    p.emit({ type: 'received', input: 'sleep', id: 'r1', attempt: 1 });
    p.emit({ type: 'failed', input: 'sleep', id: 'r1', durationMs: 1, error: { message: 'x' } });
    p.emit({ type: 'called', target: 'response-hook', id: 'r1', durationMs: 2, error: { message: 'refused' } });
    w.emit({ type: 'dead-lettered', input: 'ingest-in', reason: 'bad id', reasonKind: 'bad_id' });
    const text = await registry.metrics();
    assert.match(text, /switchyard_received_total\{model="worker",service="ingest",transport="amqp",input="ingest-in"\} 2/);
    assert.match(text, /switchyard_in_flight\{model="worker",service="ingest",transport="amqp",input="ingest-in"\} 1/);
    assert.match(text, /switchyard_sent_total\{model="worker",service="ingest",transport="amqp",output="classify-in"\} 1/);
    assert.match(text, /switchyard_failed_total\{model="provider",service="simple",transport="unix",input="sleep"\} 1/);
    assert.match(text, /switchyard_calls_total\{model="provider",service="simple",transport="unix",target="response-hook",outcome="error"\} 1/);
    assert.match(text, /switchyard_dead_lettered_total\{model="worker",service="ingest",transport="amqp",input="ingest-in",reason_kind="bad_id"\} 1/);
    detach();
    assert.equal(observer.active, false, 'no listener left: emitters build no events');
  });

  it('serves /metrics, /health and /ready (503 until every component is ready)', async () => {
    const rt = new Runtime({ logger: quiet() });
    const { registry } = observerMetrics(rt.observer, { processMetrics: false });
    const server = await startMetricsServer({ registry, port: 0, health: () => rt.health() });
    try {
      await rt.add(component('a', []));
      assert.equal((await fetch(`${server.url}/ready`)).status, 503);
      await rt.start();
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { components: { state: string }[] }).components.map((c) => c.state), ['ready']);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /switchyard_component_ready\{model="worker",service="a",transport="memory"\} 1/);
    } finally {
      await rt.stop();
      await server.close();
    }
  });
});
