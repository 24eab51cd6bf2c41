import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import { SwitchyardError } from '../../src/errors.js';
import { durationBuckets, observerMetrics, startMetricsServer, type MetricsServer } from '../../src/observability/mod.js';
import { Observer } from '../../src/observability/observer.js';

const T = { timeout: 15000 };

const servers: MetricsServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function settingsError(err: unknown): boolean {
  assert.ok(err instanceof SwitchyardError);
  assert.equal(err.code, 'SY_ERR_SETTINGS');
  return true;
}

// The worker's metrics used to be their own (createMetrics, switchyard_messages_*_total
// labelled service/queue); they are now the observer stream's, labelled model/service/
// transport/input like every model's. These are the same checks on the new series.
describe('observerMetrics (what createMetrics was for the worker)', () => {
  test('counters and histogram by model, service, transport and input', T, async () => {
    const observer = new Observer();
    const { registry } = observerMetrics(observer, { processMetrics: false });
    const w = observer.for({ model: 'worker', service: 'ingest', transport: 'memory' });
    const received = (id: string) => w.emit({ type: 'received', input: 'in', id, attempt: 1 });
    received('1');
    received('2');
    received('3');
    received('4');
    w.emit({ type: 'handled', input: 'in', id: '1', durationMs: 2 });
    w.emit({ type: 'failed', input: 'in', id: '2', durationMs: 1, error: { message: 'x' }, retryInMs: 10 });
    w.emit({ type: 'dead-lettered', input: 'in', reason: 'not an id', reasonKind: 'bad_id' });
    w.emit({ type: 'dead-lettered', input: 'in', id: '3', reason: 'gave up', reasonKind: 'max_attempts' });
    w.emit({ type: 'dead-lettered', input: 'in', id: '4', reason: 'gave up', reasonKind: 'max_attempts' });
    observer.for({ model: 'worker', service: 'other', transport: 'memory' }).emit({ type: 'received', input: 'in', id: '1', attempt: 1 });

    const text = await registry.metrics();
    const src = 'model="worker",service="ingest",transport="memory",input="in"';
    assert.match(text, new RegExp(`^switchyard_received_total\\{${src}\\} 4$`, 'm'));
    assert.match(text, /^switchyard_received_total\{model="worker",service="other",transport="memory",input="in"\} 1$/m);
    assert.match(text, new RegExp(`^switchyard_handled_total\\{${src}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_failed_total\\{${src}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_retried_total\\{${src}\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_dead_lettered_total\\{${src},reason_kind="bad_id"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_dead_lettered_total\\{${src},reason_kind="max_attempts"\\} 2$`, 'm'));
    // 4 arrived: 1 handled, 1 failed, 2 set aside after arriving (the bad id never arrived).
    assert.match(text, new RegExp(`^switchyard_in_flight\\{${src}\\} 0$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_handle_duration_seconds_count\\{${src},outcome="ok"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_handle_duration_seconds_bucket\\{le="0.0005",${src},outcome="ok"\\} 0$`, 'm'));
    assert.match(text, new RegExp(`^switchyard_handle_duration_seconds_bucket\\{le="30",${src},outcome="ok"\\} 1$`, 'm'));
    assert.equal(durationBuckets[0], 0.0005);
    assert.equal(durationBuckets.at(-1), 30);
  });

  test('each has its own registry; the global one is untouched', T, async () => {
    const observer = new Observer();
    const a = observerMetrics(observer, { processMetrics: false });
    observer.for({ model: 'worker', service: 's', transport: 'memory' }).emit({ type: 'received', input: 'q', id: '1', attempt: 1 });
    const b = observerMetrics(new Observer(), { processMetrics: false });
    assert.notEqual(a.registry, b.registry);
    assert.match(await a.registry.metrics(), /received_total\{model="worker",service="s",transport="memory",input="q"\} 1/);
    assert.doesNotMatch(await b.registry.metrics(), /received_total\{/);
    assert.equal(globalRegistry.getSingleMetric('switchyard_received_total'), undefined);
  });

  test('process metrics are optional', T, async () => {
    assert.doesNotMatch(await observerMetrics(new Observer(), { processMetrics: false }).registry.metrics(), /process_cpu_user_seconds_total/);
    assert.match(await observerMetrics(new Observer()).registry.metrics(), /process_cpu_user_seconds_total/);
  });
});

describe('startMetricsServer', () => {
  test('serves /metrics over HTTP and 404 elsewhere', T, async () => {
    const observer = new Observer();
    const m = observerMetrics(observer, { processMetrics: false });
    const w = observer.for({ model: 'worker', service: 'svc', transport: 'memory' });
    w.emit({ type: 'received', input: 'jobs', id: '1', attempt: 1 });
    w.emit({ type: 'handled', input: 'jobs', id: '1', durationMs: 1 });
    const server = await startMetricsServer({ registry: m.registry, port: 0 });
    servers.push(server);
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), m.registry.contentType);
    const body = await res.text();
    assert.match(body, /^switchyard_received_total\{model="worker",service="svc",transport="memory",input="jobs"\} 1$/m);
    assert.match(body, /^switchyard_handled_total\{model="worker",service="svc",transport="memory",input="jobs"\} 1$/m);

    w.emit({ type: 'received', input: 'jobs', id: '2', attempt: 1 });
    assert.match(await (await fetch(`${server.url}/metrics?x=1`)).text(), /received_total\{model="worker",service="svc",transport="memory",input="jobs"\} 2/);

    const missing = await fetch(`${server.url}/`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const other = await fetch(`${server.url}/metricsx`);
    assert.equal(other.status, 404);
    await other.arrayBuffer();
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    await post.arrayBuffer();

    await server.close();
    await server.close(); // idempotent
    await assert.rejects(fetch(`${server.url}/metrics`));
  });

  test('bad port and a port in use are settings errors', T, async () => {
    const registry = new Registry();
    await assert.rejects(startMetricsServer({ registry, port: -1 }), settingsError);
    await assert.rejects(startMetricsServer({ registry, port: 70000 }), settingsError);
    await assert.rejects(startMetricsServer({ registry, port: 1.5 }), settingsError);

    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      await assert.rejects(startMetricsServer({ registry, port }), (err: unknown) => {
        settingsError(err);
        assert.match((err as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
