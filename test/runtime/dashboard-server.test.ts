import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { startDashboard, type Dashboard } from '../../src/runtime/dashboard/start-dashboard.js';
import { LiveStream } from '../../src/runtime/dashboard/live-stream.js';
import type { Snapshot } from '../../src/observability/dashboard/snapshot.js';
import { MemoryTransport } from '../../src/transports/memory/memory-transport.js';
import { MemoryDeadLetters } from '../../src/transports/memory/memory-dead-letters.js';
import { memoryProbe } from '../../src/transports/memory/memory-probe.js';
import { Observer } from '../../src/observability/observer.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { mixedSystem, quietLogger, type MixedSystem } from '../support/dashboard-system.js';

/** A raw HTTP request, so tests can send any Host and Origin. */
function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.end(options.body);
  });
}

/** Reads `count` events of the live stream, then closes it. */
function readStream(url: string, count: number): Promise<Snapshot[]> {
  return new Promise((resolve, reject) => {
    const snapshots: Snapshot[] = [];
    const req = request(`${url}/api/stream`, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buffer += d;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (/^event: snapshot$/m.test(frame) && data) snapshots.push(JSON.parse(data) as Snapshot);
          if (snapshots.length >= count) {
            req.destroy();
            resolve(snapshots);
          }
        }
      });
    });
    req.on('error', (err) => (snapshots.length >= count ? undefined : reject(err)));
    req.setTimeout(15_000, () => req.destroy(new Error('the live stream sent too few snapshots')));
    req.end();
  });
}

describe('dashboard server', () => {
  let system: MixedSystem;
  let dashboard: Dashboard;
  let memory: MemoryTransport;

  before(async () => {
    memory = new MemoryTransport();
    await memory.start();
    const observer = new Observer();
    const runtime = new Runtime({ logger: quietLogger(), observer });
    // Made before the runtime starts, as `run --dashboard-port` will: it sees every "ready" with its edges.
    dashboard = await startDashboard({
      observer, health: () => runtime.health(), deadLetters: [new MemoryDeadLetters(memory)], probes: [memoryProbe(memory)],
      maxClients: 2, pushIntervalMs: 100,
    });
    system = await mixedSystem(runtime);
  });
  after(async () => {
    await dashboard?.close();
    await system?.runtime.stop();
    await memory?.close();
  });

  it('serves the page and its assets from the package, with nothing loaded from elsewhere', async () => {
    const page = await call(`${dashboard.url}/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.match(page.text, /<script type="module" src="\/assets\/app\.js">/);
    assert.doesNotMatch(page.text, /https?:\/\//, 'no CDN or remote asset');
    const js = await call(`${dashboard.url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.ok(js.text.length > 10_000, 'the bundle holds the page and the layout library');
    assert.doesNotMatch(js.text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the bundle fetches nothing remote (the SVG namespace aside)');
    assert.equal((await call(`${dashboard.url}/assets/app.css`)).status, 200);
  });

  it('a JSON snapshot of the whole mixed system, with queue depths from the probe', async () => {
    await memory.send('summaries', { body: Buffer.from('1') });
    await memory.send('summaries', { body: Buffer.from('2') });
    const res = await call(`${dashboard.url}/api/snapshot`);
    assert.equal(res.status, 200);
    const snap = JSON.parse(res.text) as Snapshot;
    assert.equal(snap.nodes.filter((n) => n.type === 'service').length, 6);
    assert.ok(snap.edges.some((e) => e.id === 'worker:classify->worker:answer@answer-in'));
    assert.equal(snap.nodes.find((n) => n.id === 'channel:summaries')?.probe?.depth, 2);
    assert.equal(JSON.parse((await call(`${dashboard.url}/api/health`)).text).status, 'ok');
  });

  it('the live stream pushes snapshots whose rates move while work flows; clients are capped', async () => {
    let i = 0;
    const traffic = setInterval(() => system.pipeline(10_000 + i++), 5);
    try {
      const [first, , third] = await readStream(dashboard.url, 3);
      assert.ok(third!.at > first!.at);
      const rate = (s: Snapshot) => s.nodes.find((n) => n.id === 'worker:ingest')!.figures!.received;
      assert.ok(rate(third!) > rate(first!), `received grows: ${rate(first!)} → ${rate(third!)}`);
      assert.ok(third!.nodes.find((n) => n.id === 'worker:ingest')!.figures!.rateIn > 0);
    } finally {
      clearInterval(traffic);
    }
    // Two clients hold the two places; a third is refused until one leaves.
    const holders = [0, 1].map(() => {
      const req = request(`${dashboard.url}/api/stream`);
      req.on('error', () => undefined);
      req.end();
      return req;
    });
    try {
      const deadline = Date.now() + 10_000;
      while (dashboard.stream.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const refused = await call(`${dashboard.url}/api/stream`);
      assert.equal(refused.status, 503);
      assert.match(refused.text, /SY_ERR_LIMIT_EXCEEDED/);
    } finally {
      for (const req of holders) req.destroy();
    }
  });

  it('journeys: recent ids and the hops of one', async () => {
    system.pipeline(77);
    const recent = JSON.parse((await call(`${dashboard.url}/api/journeys`)).text) as { recent: string[] };
    assert.ok(recent.recent.includes('1077'));
    const journey = JSON.parse((await call(`${dashboard.url}/api/journeys/1077`)).text) as { stages: Array<{ id: string }> };
    assert.deepEqual(journey.stages.map((s) => s.id), ['77', '1077']);
    assert.equal((await call(`${dashboard.url}/api/journeys/never-seen`)).status, 404);
  });

  it('dead letters: listed with reason, attempts and source; retry sends one back to its queue; discard removes', async () => {
    await memory.declareQueue('classify-in');
    let mode: 'reject' | 'count' = 'reject';
    const got: string[] = [];
    const sub = await memory.consume('classify-in', async (d) => {
      if (mode === 'reject') return d.nack({ requeue: false, reason: 'no route for case "maybe"' });
      got.push(Buffer.from(d.body).toString());
      await d.ack();
    }, { prefetch: 1 });
    try {
      for (const body of ['a', 'b']) await memory.send('classify-in', { body: Buffer.from(body), headers: { trace: body } });
      const wait = async (cond: () => boolean) => {
        const deadline = Date.now() + 5_000;
        while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.ok(cond());
      };
      await wait(() => memory.depth('classify-in.dead-letter') === 2);
      const list = JSON.parse((await call(`${dashboard.url}/api/dead-letters`)).text);
      assert.deepEqual(list.queues, [{ transport: 'memory', queue: 'classify-in', deadLetterQueue: 'classify-in.dead-letter', count: 2 }]);
      const { letters } = JSON.parse((await call(`${dashboard.url}/api/dead-letters/memory/classify-in`)).text);
      assert.equal(letters.length, 2);
      assert.deepEqual({ ...letters[0], id: undefined }, {
        id: undefined, queue: 'classify-in', source: 'classify-in', reason: 'no route for case "maybe"', attempts: 1,
        headers: { trace: 'a' }, bytes: 1, preview: 'a', previewEncoding: 'text', truncated: false,
      });
      const post = (path: string, body: unknown) => call(`${dashboard.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: dashboard.url }, body: JSON.stringify(body) });
      mode = 'count';
      const retried = await post('/api/dead-letters/memory/classify-in/retry', { id: letters[0].id });
      assert.equal(retried.status, 200, retried.text);
      await wait(() => got.length === 1);
      assert.deepEqual(got, ['a']);
      assert.equal((await post('/api/dead-letters/memory/classify-in/retry', { id: letters[0].id })).status, 404, 'already retried');
      assert.equal((await post('/api/dead-letters/memory/classify-in/discard', { all: true })).text, '{"discarded":1}');
      assert.equal(memory.depth('classify-in.dead-letter'), 0);
      assert.equal((await post('/api/dead-letters/redis/classify-in/retry', { all: true })).status, 400, 'no such transport here');
    } finally {
      await sub.stop();
    }
  });

  it('refuses another Host (DNS rebinding) and actions that are not same-origin JSON', async () => {
    assert.equal((await call(`${dashboard.url}/api/snapshot`, { headers: { host: 'evil.example:80' } })).status, 421);
    const path = `${dashboard.url}/api/dead-letters/memory/classify-in/discard`;
    assert.equal((await call(path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"all":true}' })).status, 403, 'a cross-site form post');
    assert.equal((await call(path, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: '{"all":true}' })).status, 403);
  });
});

describe('dashboard live stream: bounds', () => {
  it('drops a client that does not read (its unsent bytes pass the bound) and keeps the others', () => {
    const stream = new LiveStream({ maxClients: 4, maxBufferedBytes: 1000 });
    const fake = (backlog: () => number) => {
      const written: string[] = [];
      let destroyed = false;
      const res = {
        writeHead: () => res, write: (s: string) => void written.push(s), once: () => res, end: () => undefined,
        destroy: () => void (destroyed = true),
        get writableLength() { return backlog(); },
      };
      return { res: res as unknown as ServerResponse, written, get destroyed() { return destroyed; } };
    };
    let slowBacklog = 0;
    const slow = fake(() => slowBacklog);
    const fast = fake(() => 0);
    stream.add(slow.res);
    stream.add(fast.res);
    stream.send('snapshot', 'x'.repeat(600));
    slowBacklog = 1200;
    stream.send('snapshot', 'y');
    assert.equal(slow.destroyed, true);
    assert.equal(stream.dropped, 1);
    assert.equal(stream.size, 1);
    assert.equal(fast.written.length, 3, 'retry line and both events');
  });
});
