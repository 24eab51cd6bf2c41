// What a hostile peer can make a task service do is bounded (issue 17): a callback URL
// answering 150 MB is read up to a small cap; ended tasks waiting for their callbacks are
// bounded (300 failing tasks of 900 KB: 503 past the bound, memory flat); a trickled body,
// unfinished headers and idle kept-alive connections are cut; 100k-deep JSON is a 422;
// callback_url and s3_host can be confined to an allow-list; repeated warnings are
// rate-limited. Memory figures are printed (heap after a full GC, and RSS).

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { retryPolicy } from '../../src/runtime/retry.js';
import { resolveTaskSettings } from '../../src/models/task/resolve-settings.js';
import { taskServiceOptions } from '../../src/models/task/mod.js';
import type { S3Server } from '../support/s3-server.js';
import { startEngine, type EngineStandIn } from './engine-stand-in.js';
import { get, post, putObject, serviceTask, startS3, startService, upperService, type Service } from './harness.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
/** Heap in use after a full collection, and RSS, in MiB. */
function memory(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: Math.round(m.heapUsed / MiB), rss: Math.round(m.rss / MiB) };
}

let s3: S3Server;
let client: S3Client;
let engine: EngineStandIn;

before(async () => {
  ({ s3, client } = await startS3());
  engine = await startEngine();
  await putObject(client, 'hello.txt', 'hello');
});
after(async () => {
  client.destroy();
  await engine.close();
  await s3.close();
});

describe('a callback URL answering 150 MB', () => {
  it('is read up to a small cap and cut off: the callback counts as delivered, the 150 MB never arrive, memory stays flat', async () => {
    const total = 150 * MiB;
    let writtenWhenCut = -1;
    let patched = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        patched++;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (writtenWhenCut = req.socket.bytesWritten));
        pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const svc = await startService(upperService);
    try {
      const start = memory();
      const { id, body } = serviceTask({ s3, engine, dataIn: ['hello.txt'] });
      body.callback_url = `${url}/tasks/${id}`;
      assert.equal((await post(`${svc.url}/compute`, body)).status, 200);
      for (let i = 0; i < 3000 && (writtenWhenCut < 0 || svc.running.activity().callbacksPending > 0 || svc.running.activity().inFlight > 0); i++) await new Promise((r) => setTimeout(r, 10));
      const end = memory();
      console.log(`hardening: callback reply of 150 MiB: ${(writtenWhenCut / MiB).toFixed(1)} MiB written before the service hung up; heap ${start.heap} → ${end.heap} MiB, rss ${start.rss} → ${end.rss} MiB`);
      assert.equal(patched, 1, 'one PATCH: the callback counted as delivered (200), not retried');
      assert.ok(writtenWhenCut >= 0, 'the service closed the connection');
      assert.ok(writtenWhenCut < 32 * MiB, `${writtenWhenCut} bytes were sent before the service hung up: it read far more than it needs`);
      assert.ok(end.heap - start.heap < 32, `heap grew ${end.heap - start.heap} MiB`);
      assert.doesNotMatch(svc.logText(), /SY_ERR_TASK_CALLBACK/);
    } finally {
      await svc.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('ended tasks waiting for their callback are bounded', () => {
  it('300 failing tasks of 900 KB, the engine refusing callbacks: past MAX_TASKS + MAX_PENDING_CALLBACKS the service answers 503, holds no more, memory stays flat; warnings are rate-limited', async () => {
    const began = Date.now();
    const eng = await startEngine();
    eng.callbackStatus = 500;
    const svc: Service = await startService(upperService, {
      maxTasks: 5, maxPendingCallbacks: 10,
      callbackRetry: retryPolicy({ maxAttempts: 1000, initialDelayMs: 200, maxDelayMs: 200, factor: 1, jitter: 0 }),
    });
    try {
      // A 900 KB key with the wrong extension: each task fails at once, before any download.
      const bigKey = `${'k'.repeat(900 * 1024)}.png`;
      const template = JSON.stringify(serviceTask({ s3, engine: eng, dataIn: [bigKey], id: '00000000-0000-4000-8000-000000000000' }).body);
      const start = memory();
      const statuses: Record<number, number> = {};
      let most = 0;
      for (let i = 0; i < 300; i++) {
        const id = randomUUID();
        const res = await post(`${svc.url}/compute`, template.replaceAll('00000000-0000-4000-8000-000000000000', id));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const a = svc.running.activity();
        most = Math.max(most, a.inFlight + a.callbacksPending);
      }
      const end = memory();
      console.log(`hardening: 300 failing tasks of 900 KB: answers ${JSON.stringify(statuses)}; at most ${most} tasks held; heap ${start.heap} → ${end.heap} MiB, rss ${start.rss} → ${end.rss} MiB`);
      assert.ok((statuses[200] ?? 0) <= 15, `${statuses[200]} accepted: more than MAX_TASKS (5) + MAX_PENDING_CALLBACKS (10)`);
      assert.equal((statuses[200] ?? 0) + (statuses[503] ?? 0), 300);
      assert.ok(most <= 15, `${most} tasks held at once`);
      assert.ok(end.heap - start.heap < 64, `heap grew ${end.heap - start.heap} MiB`);
      // 5 lines per kind per 10 s window (the warning limiter's default), however many events.
      const allowed = 5 * (1 + Math.floor((Date.now() - began) / 10_000));
      const failedLines = svc.logs.filter((l) => l.includes('"msg":"task failed"')).length;
      assert.ok(failedLines <= allowed, `${failedLines} "task failed" lines for 300 failed tasks: not rate-limited`);
      const retries = eng.requests.filter((r) => r.method === 'PATCH').length;
      const retryLines = svc.logs.filter((l) => l.includes('task callback failed; retrying')).length;
      assert.ok(retries > allowed * 2 && retryLines <= allowed, `${retryLines} "task callback failed; retrying" lines for ${retries} failed callbacks: not rate-limited`);
      assert.ok(svc.logs.every((l) => l.length < 16 * 1024), 'no log line carries the 900 KB key');
    } finally {
      await svc.stop();
      await eng.close();
    }
    assert.match(svc.logText(), /more warning\(s\) like the above suppressed/);
  });
});

/** Opens a raw connection; resolves with what the server sent once it closed it (or '' if still open after waitMs). */
function rawConnection(port: number): { socket: Socket; closed: Promise<{ closed: boolean; text: string; afterMs: number }> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const started = Date.now();
  socket.setEncoding('utf8').on('data', (d: string) => (text += d));
  socket.on('error', () => undefined);
  const closed = new Promise<{ closed: boolean; text: string; afterMs: number }>((resolve) => {
    const timer = setTimeout(() => resolve({ closed: false, text, afterMs: Date.now() - started }), 10_000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, text, afterMs: Date.now() - started });
    });
  });
  return { socket, closed };
}

describe('slow clients are cut off (REQUEST_TIMEOUT, HEADERS_TIMEOUT, KEEP_ALIVE_TIMEOUT)', () => {
  let svc: Service;
  before(async () => {
    svc = await startService(upperService, { requestTimeoutMs: 1_000, headersTimeoutMs: 600, keepAliveTimeoutMs: 600 });
  });
  after(() => svc.stop());

  it('unfinished headers, trickled a line at a time: answered 408 and closed', async () => {
    const { socket, closed } = rawConnection(svc.running.port);
    socket.write('POST /compute HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('X-Slow: y\r\n'), 150);
    const result = await closed;
    clearInterval(trickle);
    socket.destroy();
    assert.equal(result.closed, true, 'the connection is still open after 10 s');
    assert.match(result.text, /^HTTP\/1\.1 408/);
  });

  it('a body trickled a byte at a time: answered 408 and closed', async () => {
    const { socket, closed } = rawConnection(svc.running.port);
    socket.write('POST /compute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const trickle = setInterval(() => socket.writable && socket.write(' '), 150);
    const result = await closed;
    clearInterval(trickle);
    socket.destroy();
    assert.equal(result.closed, true, 'the connection is still open after 10 s');
    assert.match(result.text, /^HTTP\/1\.1 408/);
  });

  it('an idle kept-alive connection is closed', async () => {
    const { socket, closed } = rawConnection(svc.running.port);
    socket.write('GET /status HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const result = await closed;
    socket.destroy();
    assert.equal(result.closed, true, 'the idle connection is still open after 10 s');
    assert.match(result.text, /^HTTP\/1\.1 200/);
  });

  it('the settings: REQUEST_TIMEOUT, HEADERS_TIMEOUT, KEEP_ALIVE_TIMEOUT in seconds, with defaults 30, 10, 5', async () => {
    const d = await taskServiceOptions(resolveTaskSettings({}, {}, '/nonexistent'));
    assert.deepEqual([d.requestTimeoutMs, d.headersTimeoutMs, d.keepAliveTimeoutMs], [30_000, 10_000, 5_000]);
    const s = await taskServiceOptions(resolveTaskSettings({}, { REQUEST_TIMEOUT: '2', HEADERS_TIMEOUT: '0.5', KEEP_ALIVE_TIMEOUT: '1' }, '/nonexistent'));
    assert.deepEqual([s.requestTimeoutMs, s.headersTimeoutMs, s.keepAliveTimeoutMs], [2_000, 500, 1_000]);
  });
});

describe('100k-deep JSON', () => {
  it('POST /compute answers 422 json_invalid at the level past the limit, not 500', async () => {
    const svc = await startService(upperService);
    try {
      for (const body of ['['.repeat(100_000) + ']'.repeat(100_000), `{"task": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, '['.repeat(100_000)]) {
        const res = await post(`${svc.url}/compute`, body);
        assert.equal(res.status, 422, res.text.slice(0, 200));
        const [entry] = (res.json as { detail: { type: string; loc: unknown[]; ctx: { error: string } }[] }).detail;
        assert.equal(entry!.type, 'json_invalid');
        assert.equal(entry!.ctx.error, 'Nesting deeper than 512 levels');
      }
      assert.equal((await get(`${svc.url}/status`)).status, 200);
      assert.doesNotMatch(svc.logText(), /HTTP request failed inside the service/);
    } finally {
      await svc.stop();
    }
  });
});

describe('OUTBOUND_ALLOW_LIST', () => {
  it('off by default; when set, a task whose callback_url or s3_host is elsewhere is refused with 403 and a clear error, and nothing is queued', async () => {
    const svc = await startService(upperService, { outboundAllow: ['127.0.0.1'] });
    try {
      const allowed = serviceTask({ s3, engine, dataIn: ['hello.txt'] });
      assert.equal((await post(`${svc.url}/compute`, allowed.body)).status, 200);
      assert.equal((await engine.callback(allowed.id)).status, 'finished');

      const badCallback = serviceTask({ s3, engine, dataIn: ['hello.txt'] });
      badCallback.body.callback_url = `http://callback.invalid:8080/tasks/${badCallback.id}?token=t0ken`;
      const refused = await post(`${svc.url}/compute`, badCallback.body);
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.json, { detail: 'SY_ERR_OUTBOUND_REFUSED: callback_url http://callback.invalid:8080 is not in the allow-list OUTBOUND_ALLOW_LIST; add its host, network or unix: socket folder to OUTBOUND_ALLOW_LIST, or leave OUTBOUND_ALLOW_LIST unset to allow any' });
      assert.doesNotMatch(refused.text, /t0ken/, 'only the origin is named');

      const badS3 = serviceTask({ s3, engine, dataIn: ['hello.txt'], s3Host: 'http://10.9.9.9:9000' });
      const refusedS3 = await post(`${svc.url}/compute`, badS3.body);
      assert.equal(refusedS3.status, 403);
      assert.match((refusedS3.json as { detail: string }).detail, /^SY_ERR_OUTBOUND_REFUSED: s3_host http:\/\/10\.9\.9\.9:9000 is not in the allow-list OUTBOUND_ALLOW_LIST/);
      assert.equal((await get(`${svc.url}/tasks/${badS3.id}/status`)).status, 404, 'not queued');
      assert.match(svc.logText(), /"level":"warn".*SY_ERR_OUTBOUND_REFUSED: callback_url http:\/\/callback\.invalid:8080/);
    } finally {
      await svc.stop();
    }
  });

  it('is read from OUTBOUND_ALLOW_LIST (a JSON list or commas) or --outbound-allow; a bad entry fails the start naming the setting', async () => {
    assert.deepEqual((await taskServiceOptions(resolveTaskSettings({}, { OUTBOUND_ALLOW_LIST: '["engine.example.com", "10.0.0.0/8"]' }, '/nonexistent'))).outboundAllow, ['engine.example.com', '10.0.0.0/8']);
    assert.deepEqual((await taskServiceOptions(resolveTaskSettings({}, { OUTBOUND_ALLOW_LIST: '*.example.com, 127.0.0.1' }, '/nonexistent'))).outboundAllow, ['*.example.com', '127.0.0.1']);
    assert.deepEqual((await taskServiceOptions(resolveTaskSettings({ outboundAllow: ['minio:9000'] }, {}, '/nonexistent'))).outboundAllow, ['minio:9000']);
    assert.equal((await taskServiceOptions(resolveTaskSettings({}, {}, '/nonexistent'))).outboundAllow, undefined);
    await assert.rejects(startService(upperService, { outboundAllow: ['not a host!'] }), /SY_ERR_SETTINGS: invalid settings: OUTBOUND_ALLOW_LIST: "not a host!" is not a host name/);
  });
});
