// The service's life as the current Core engine sees it: the heartbeat (POST
// {engine}/services/{slug}/ping with the service JSON, on an interval well inside the
// engine's check interval + 20 s), announcing again when a ping answers 404 (an engine
// restarted with a fresh database), no pings to an engine without the route, the
// `sleeping` status sent on shutdown before the server stops, and format_hint.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registrationBody, taskService, taskServiceOptions } from '../../src/models/task/mod.js';
import { retryPolicy } from '../../src/runtime/retry.js';
import { resolveTaskSettings } from '../../src/models/task/resolve-settings.js';
import { startEngine, type Recorded } from './engine-stand-in.js';
import { DEFAULT_OPTIONS, get, startService, upperService } from './harness.js';

const pingsOf = (requests: Recorded[], slug = 'upper') => requests.filter((r) => r.method === 'POST' && r.path === `/services/${slug}/ping`);
const announcesOf = (requests: Recorded[]) => requests.filter((r) => r.method === 'POST' && r.path === '/services');

describe('heartbeat', () => {
  it('the default interval (20 s, as the reference) is well inside the engine\'s 30 s + 20 s; HEARTBEAT_INTERVAL sets it', async () => {
    assert.equal(DEFAULT_OPTIONS.heartbeatMs, 20_000);
    assert.ok(DEFAULT_OPTIONS.heartbeatMs <= (30_000 + 20_000) / 2);
    assert.equal((await taskServiceOptions(resolveTaskSettings({}, {}, '/nonexistent'))).heartbeatMs, 20_000);
    assert.equal((await taskServiceOptions(resolveTaskSettings({}, { HEARTBEAT_INTERVAL: '2.5' }, '/nonexistent'))).heartbeatMs, 2_500);
    assert.equal((await taskServiceOptions(resolveTaskSettings({ heartbeatInterval: '0' }, {}, '/nonexistent'))).heartbeatMs, 0);
  });

  it('pings POST /services/{slug}/ping with the service JSON; the engine keeps the service available, while one that never pings is marked sleeping', async () => {
    // An engine checking every 100 ms, with 2.5 s of grace: silence longer than 2.6 s means sleeping
    // (generous against a busy machine: the pings come every 100 ms).
    const eng = await startEngine({ checkIntervalMs: 100, graceMs: 2_500 });
    const pinging = await startService(upperService, { engineUrls: [eng.url], heartbeatMs: 100 }, { record: true });
    const silent = await startService(taskService({ ...upperDeclaration(), slug: 'silent' }, async () => ({ result: { type: 'application/json', data: '{}' } })), { engineUrls: [eng.url], heartbeatMs: 0 });
    try {
      await Promise.all([pinging.running.registration, silent.running.registration]);
      await eng.until('the silent service marked sleeping', () => (eng.services.get('silent')?.status === 'sleeping' ? true : undefined), 15_000);
      const pings = pingsOf(eng.requests);
      assert.ok(pings.length >= 5, `${pings.length} pings`);
      for (const ping of pings) assert.deepEqual(ping.body, registrationBody(upperService, `http://localhost:${pinging.running.port}`));
      assert.equal(eng.services.get('upper')!.status, 'available', 'the pinging service is never marked sleeping');
      assert.equal(pingsOf(eng.requests, 'silent').length, 0);
      const answered = pinging.events.filter((e) => e.type === 'called' && e.target === 'engine-ping' && e.error === undefined);
      assert.ok(answered.length >= 5, `${answered.length} pings answered 200, as the observer saw them`);
    } finally {
      await Promise.all([pinging.stop(), silent.stop()]);
      await eng.close();
    }
  });

  it('an engine restarted with a fresh database answers the ping 404: the service announces itself again, at once', async () => {
    const eng = await startEngine();
    const svc = await startService(upperService, { engineUrls: [eng.url], heartbeatMs: 100 });
    try {
      await svc.running.registration;
      const firstId = eng.services.get('upper')!.id;
      await eng.stop();
      await eng.restart({ forget: true });
      await eng.until('the service announced again', () => eng.services.get('upper'), 10_000);
      assert.notEqual(eng.services.get('upper')!.id, firstId);
      assert.equal(announcesOf(eng.requests).length, 2);
      assert.match(svc.logText(), /the engine does not know this service \(it restarted or lost it\): announcing again/);
      for (let i = 0; i < 200 && !svc.logText().includes('announced to the engine again'); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(svc.logText(), /announced to the engine again/);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });

  it('an engine down past the announce retries is picked up by the heartbeat once it is back', async () => {
    const down = await startEngine({ started: false });
    const svc = await startService(upperService, { engineUrls: [down.url], heartbeatMs: 100, announceRetry: retryPolicy({ maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, factor: 1, jitter: 0 }) });
    try {
      const [outcome] = await svc.running.registration;
      assert.equal(outcome!.registered, false);
      await down.restart();
      await down.registered('upper');
      assert.equal(down.services.get('upper')!.status, 'available');
    } finally {
      await svc.stop();
      await down.close();
    }
  });

  it('an engine from before heartbeats (no ping route: 404 "Not Found") gets one ping, then none, and no announce loop', async () => {
    const eng = await startEngine({ heartbeats: false });
    const svc = await startService(upperService, { engineUrls: [eng.url], heartbeatMs: 50 });
    try {
      await svc.running.registration;
      await eng.until('a first ping', () => (pingsOf(eng.requests).length > 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(pingsOf(eng.requests).length, 1);
      assert.equal(announcesOf(eng.requests).length, 1);
      assert.match(svc.logText(), /the engine has no heartbeat route/);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });
});

describe('shutdown', () => {
  it('stop() sends PATCH /services/{id} {"status": "sleeping"} (id from GET /services/slug/{slug}) while the service still serves, then stops', async () => {
    const eng = await startEngine();
    const svc = await startService(upperService, { engineUrls: [eng.url], heartbeatMs: 0 });
    await svc.running.registration;
    const id = eng.services.get('upper')!.id;
    let servingAtPatch: number | undefined;
    eng.onRequest = async (r) => {
      if (r.method === 'PATCH' && r.path === `/services/${id}`) servingAtPatch = (await get(`${svc.url}/status`)).status;
    };
    const before = eng.requests.length;
    await svc.stop();
    const after = eng.requests.slice(before).map((r) => [r.method, r.path, r.rawBody]);
    assert.deepEqual(after, [['GET', '/services/slug/upper', ''], ['PATCH', `/services/${id}`, '{"status":"sleeping"}']]);
    assert.equal(eng.services.get('upper')!.status, 'sleeping');
    assert.equal(servingAtPatch, 200, 'the engine was told before the server stopped');
    assert.match(svc.logText(), /told the engine this service is sleeping/);
    await eng.close();
  });

  it('an engine that does not know the service, or is down, costs a log line and no hang', async () => {
    const eng = await startEngine();
    const down = await startEngine({ started: false });
    const svc = await startService(upperService, { engineUrls: [eng.url, down.url], heartbeatMs: 0, announceRetry: retryPolicy({ maxAttempts: 1 }) });
    await svc.running.registration;
    eng.services.clear();
    await svc.stop();
    assert.match(svc.logText(), /the engine does not know this service: no sleeping status to send/);
    assert.match(svc.logText(), /could not tell the engine this service is sleeping/);
    await eng.close();
    await down.close();
  });
});

function upperDeclaration() {
  return {
    name: 'Upper', slug: 'upper', summary: 'Upper-cases text.',
    dataIn: [{ name: 'text', types: ['text/plain'] }],
    dataOut: [{ name: 'result', types: ['application/json'] }],
  } as const;
}

describe('format_hint', () => {
  it('is declared per field (any JSON value) and sent to the engine, which accepts it; fields without one send none', async () => {
    const hinted = taskService(
      {
        ...upperDeclaration(), slug: 'hinted',
        dataIn: [{ name: 'table', types: ['text/csv'], formatHint: { columns: ['date', 'value'], separator: ',' } }],
        dataOut: [{ name: 'result', types: ['application/json'] }, { name: 'note', types: ['text/plain'], formatHint: 'one line' }],
      },
      async () => ({ result: { type: 'application/json', data: '{}' }, note: { type: 'text/plain', data: '' } }),
    );
    const body = registrationBody(hinted, 'http://localhost:9090');
    assert.deepEqual(body.data_in_fields, [{ name: 'table', type: ['text/csv'], format_hint: { columns: ['date', 'value'], separator: ',' } }]);
    assert.deepEqual(body.data_out_fields, [{ name: 'result', type: ['application/json'] }, { name: 'note', type: ['text/plain'], format_hint: 'one line' }]);
    const eng = await startEngine();
    const svc = await startService(hinted, { engineUrls: [eng.url], heartbeatMs: 0 });
    try {
      const stored = await eng.registered('hinted');
      assert.deepEqual(stored.data_in_fields, body.data_in_fields);
      assert.deepEqual(stored.data_out_fields, body.data_out_fields);
    } finally {
      await svc.stop();
      await eng.close();
    }
  });

  it('a format hint that is not JSON is refused at declaration, naming the field', () => {
    for (const formatHint of [() => 1, NaN, new Date(), { a: undefined }, 10n]) {
      assert.throws(() => taskService({ ...upperDeclaration(), dataIn: [{ name: 'text', types: ['text/plain'], formatHint }] }, (async () => ({})) as never), /dataIn\[0\] \("text"\)\.formatHint must be a JSON value/);
    }
  });
});
