import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import { SwitchyardError } from '../../src/errors.js';
import { createMetrics, processDurationBuckets, startMetricsServer, type MetricsServer } from '../../src/observability/mod.js';

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

describe('createMetrics', () => {
  test('counters and histogram by service and queue', T, async () => {
    const m = createMetrics();
    const q = m.forQueue('ingest', 'in');
    q.consumed();
    q.consumed();
    q.succeeded();
    q.failed();
    q.retried();
    q.deadLettered('bad_id');
    q.deadLettered('max_attempts');
    q.deadLettered('max_attempts');
    q.deadLettered('nonsense' as never);
    q.observeDuration(0.002);
    const end = q.startTimer();
    assert.ok(end() >= 0);
    m.forQueue('other', 'in').consumed();

    const text = await m.text();
    assert.match(text, /^switchyard_messages_consumed_total\{service="ingest",queue="in"\} 2$/m);
    assert.match(text, /^switchyard_messages_consumed_total\{service="other",queue="in"\} 1$/m);
    assert.match(text, /^switchyard_messages_succeeded_total\{service="ingest",queue="in"\} 1$/m);
    assert.match(text, /^switchyard_messages_failed_total\{service="ingest",queue="in"\} 1$/m);
    assert.match(text, /^switchyard_messages_retried_total\{service="ingest",queue="in"\} 1$/m);
    assert.match(text, /^switchyard_messages_dead_lettered_total\{service="ingest",queue="in",reason_kind="bad_id"\} 1$/m);
    assert.match(text, /^switchyard_messages_dead_lettered_total\{service="ingest",queue="in",reason_kind="max_attempts"\} 2$/m);
    assert.match(text, /^switchyard_messages_dead_lettered_total\{service="ingest",queue="in",reason_kind="error"\} 1$/m);
    assert.match(text, /^switchyard_process_duration_seconds_count\{service="ingest",queue="in"\} 2$/m);
    assert.match(text, /^switchyard_process_duration_seconds_bucket\{le="0.0005",service="ingest",queue="in"\} /m);
    assert.match(text, /^switchyard_process_duration_seconds_bucket\{le="30",service="ingest",queue="in"\} 2$/m);
    assert.equal(processDurationBuckets[0], 0.0005);
    assert.equal(processDurationBuckets.at(-1), 30);
  });

  test('each createMetrics has its own registry; the global one is untouched', T, async () => {
    const a = createMetrics();
    const b = createMetrics();
    assert.notEqual(a.registry, b.registry);
    a.consumed.inc({ service: 's', queue: 'q' });
    assert.match(await a.text(), /consumed_total\{service="s",queue="q"\} 1/);
    assert.doesNotMatch(await b.text(), /consumed_total\{/);
    assert.equal(globalRegistry.getSingleMetric('switchyard_messages_consumed_total'), undefined);
  });

  test('a shared registry reuses the metrics', T, async () => {
    const registry = new Registry();
    const a = createMetrics({ registry });
    const b = createMetrics({ registry });
    assert.equal(a.consumed, b.consumed);
    a.forQueue('s1', 'q').consumed();
    b.forQueue('s2', 'q').consumed();
    const text = await registry.metrics();
    assert.match(text, /service="s1"/);
    assert.match(text, /service="s2"/);
  });

  test('default process metrics are optional', T, async () => {
    assert.doesNotMatch(await createMetrics().text(), /process_cpu_user_seconds_total/);
    const registry = new Registry();
    const m = createMetrics({ registry, defaultMetrics: true });
    createMetrics({ registry, defaultMetrics: true }); // twice on one registry is fine
    assert.match(await m.text(), /process_cpu_user_seconds_total/);
  });
});

describe('startMetricsServer', () => {
  test('serves /metrics over HTTP and 404 elsewhere', T, async () => {
    const m = createMetrics();
    m.forQueue('svc', 'jobs').consumed();
    m.forQueue('svc', 'jobs').succeeded();
    const server = await startMetricsServer({ registry: m.registry, port: 0 });
    servers.push(server);
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), m.registry.contentType);
    const body = await res.text();
    assert.match(body, /^switchyard_messages_consumed_total\{service="svc",queue="jobs"\} 1$/m);
    assert.match(body, /^switchyard_messages_succeeded_total\{service="svc",queue="jobs"\} 1$/m);

    m.forQueue('svc', 'jobs').consumed();
    assert.match(await (await fetch(`${server.url}/metrics?x=1`)).text(), /consumed_total\{service="svc",queue="jobs"\} 2/);

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
