// A provider in process, driven over real unix sockets by the coordinator client and by raw
// acomm frames: results, errors, streams, timeouts, priorities, bad frames, de-registration.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { coordinatorClient, provider, stream, type CoordinatorClient, type Provider } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { decodeRequest, encodeFrame, encodeRequest, encodeResponse, listenExchanges, replyTo, sendTo, type AcommRequest } from '../../src/transports/unix/mod.js';
import { frameJson, hook, rawExchange, shortTempDir } from './kit.js';

const T = { timeout: 20_000 };
const quiet = createLogger({ level: 'silent' });

describe('provider', T, () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let server: Provider;
  let client: CoordinatorClient;
  const slowStarted: string[] = [];
  let aborted = 0;

  before(async () => {
    tmp = await shortTempDir();
    server = provider({ service_name: 'svc', socket_dir: tmp.dir, default_timeout: 5, max_frame_bytes: 1024, tasks: { Slow: { timeout: 0.2 } } }, { logger: quiet });
    server.registerTask('Echo', (req) => ({ args: req.args, task: req.task }));
    server.registerTask('Fail', (req, { log }) => {
      log.info({ id: req.id }, 'about to fail');
      throw new Error('the disk is full');
    });
    server.registerTask('Slow', async (req, { signal }) => {
      slowStarted.push(req.id);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 3_000);
        signal.addEventListener('abort', () => {
          aborted++;
          clearTimeout(t);
          resolve(undefined);
        });
      });
      return 'too late';
    });
    server.registerTask('Bytes', (req) => stream(Readable.from([Buffer.from('abc'), 'def', String(req.args)]), { parts: 3 }));
    server.registerTask('BigInt', () => ({ n: 1n, big: 9007199254740993n }));
    server.registerTask('Cycle', () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    });
    server.registerTask('Nested', async (req, { request }) => ({ inner: (await request('Echo', req.args)).result }));
    await server.start();
    client = await coordinatorClient({ socketDir: tmp.dir, timeoutMs: 5_000, logger: quiet });
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    await tmp?.remove();
  });

  it('creates one socket per task at {socket_dir}/{task}/{priority}-{service}.sock with mode 0660', () => {
    assert.deepEqual(server.registeredTasks(), ['Echo', 'Fail', 'Slow', 'Bytes', 'BigInt', 'Cycle', 'Nested']);
    const path = server.taskSocketPath('Echo');
    assert.equal(path, join(tmp.dir, 'Echo', '50-svc.sock'));
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
  });

  it('answers with the handler\'s result through the response hook', async () => {
    const r = await client.request('Echo', { guest_id: 'abc' });
    assert.deepEqual(r.result, { args: { guest_id: 'abc' }, task: 'Echo' });
    assert.equal(r.streamUrl, null);
    assert.equal(r.provider.service, 'svc');
  });

  it('sends a thrown error as the response\'s error string', async () => {
    await assert.rejects(client.request('Fail'), (err: Error & { code?: string }) => err.code === 'SY_ERR_TASK_FAILED' && /the disk is full/.test(err.message));
  });

  it('stops a handler at its task timeout, aborts its signal and answers with a timeout error', async () => {
    const before = aborted;
    await assert.rejects(client.request('Slow'), (err: Error) => /SY_ERR_TASK_FAILED/.test(err.message) && /SY_ERR_TASK_TIMEOUT: task "Slow" did not finish within 200 ms/.test(err.message));
    assert.equal(aborted, before + 1);
  });

  it('times out on the client side when no response comes', async () => {
    await assert.rejects(client.request('Slow', null, { timeoutMs: 50 }), (err: Error & { code?: string }) => err.code === 'SY_ERR_TASK_TIMEOUT');
  });

  it('streams bytes over a single-use socket named in stream_url, with a result beside it', async () => {
    const r = await client.request('Bytes', 'ghi');
    assert.deepEqual(r.result, { parts: 3 });
    assert.match(r.streamUrl!, new RegExp(`^unix://${tmp.dir}/streams/Bytes/svc/[0-9a-f-]+\\.sock$`));
    const path = r.streamUrl!.slice('unix://'.length);
    assert.equal((await client.readStream(r.streamUrl!)).toString(), 'abcdefghi');
    // Accept limit 1: the socket is gone once read.
    assert.equal(existsSync(path), false);
    await assert.rejects(client.readStream(r.streamUrl!), /ENOENT|cannot connect/);
  });

  it('answers with an error when the result is not JSON (a cycle)', async () => {
    await assert.rejects(client.request('Cycle'), /cannot be sent as JSON/);
  });

  it('sends bigint results as exact integers', async () => {
    assert.deepEqual((await client.request('BigInt')).result, { n: 1, big: 9007199254740993n });
  });

  it('lets a handler call another task through the coordinator and its tracker', async () => {
    const r = await client.request('Nested', [1, 2]);
    assert.deepEqual(r.result, { inner: { args: [1, 2], task: 'Echo' } });
  });

  it('acks on the same connection, then sends the response to the request\'s hook', async () => {
    const h = await hook(join(tmp.dir, 'h.sock'));
    try {
      const json = encodeRequest({ id: 'req-1', task: 'Echo', responseHook: h.listener.url, args: 7 });
      const { data, closed } = await rawExchange(server.taskSocketPath('Echo'), encodeFrame(json));
      assert.ok(closed, 'one exchange per connection');
      assert.equal(data.subarray(4).toString(), '{"id":"req-1","result":null,"stream_url":null,"error":""}');
      const response = await h.next();
      assert.deepEqual(response, { id: 'req-1', result: { args: 7, task: 'Echo' }, streamUrl: null, error: '' });
    } finally {
      await h.listener.close();
    }
  });

  it('answers invalid requests in the ack with the original\'s texts and runs nothing', async () => {
    const ask = async (obj: unknown) => frameJson((await rawExchange(server.taskSocketPath('Echo'), encodeFrame(JSON.stringify(obj)))).data) as { error: string; id: string };
    assert.equal((await ask({ task: 'Echo', responsehook: 'unix:///x.sock' })).error, 'missing id');
    assert.equal((await ask({ id: 'a', responsehook: 'unix:///x.sock' })).error, 'missing task');
    assert.equal((await ask({ id: 'a', task: 'Echo' })).error, 'missing response hook');
    assert.match((await ask([1, 2])).error, /invalid request: a request must be a JSON object/);
  });

  it('runs the socket\'s handler for a request naming another task, as the Go provider does', async () => {
    const h = await hook(join(tmp.dir, 'hm.sock'));
    try {
      const { data } = await rawExchange(server.taskSocketPath('Echo'), encodeFrame(encodeRequest({ id: 'b', task: 'Fail', responseHook: h.listener.url, args: 3 })));
      assert.deepEqual(frameJson(data), { id: 'b', result: null, stream_url: null, error: '' });
      assert.deepEqual(await h.next(), { id: 'b', result: { args: 3, task: 'Fail' }, streamUrl: null, error: '' });
    } finally {
      await h.listener.close();
    }
  });

  for (const [name, bytes, pattern] of [
    ['a zero length', Buffer.from([0, 0, 0, 0]), /length header is 0/],
    ['an oversize length', Buffer.concat([Buffer.from([0, 0, 0x10, 0]), Buffer.alloc(64, 0x20)]), /4096 bytes, more than the limit of 1024/],
    ['a body that is not JSON', encodeFrame('{"id": oops'), /body is not JSON/],
  ] as const) {
    it(`answers a frame with ${name} with an error, closes the connection and keeps serving`, async () => {
      const { data, closed } = await rawExchange(server.taskSocketPath('Echo'), bytes);
      assert.ok(closed, 'the provider closed the connection');
      const reply = frameJson(data) as { id: string; error: string; result: unknown };
      assert.equal(reply.id, '');
      assert.equal(reply.result, null);
      assert.match(reply.error, /^SY_ERR_FRAME: bad acomm frame: /);
      assert.match(reply.error, pattern);
      assert.deepEqual((await client.request('Echo', 1)).result, { args: 1, task: 'Echo' });
    });
  }

  it('closes a connection whose frame is cut short and keeps serving', async () => {
    const { closed } = await rawExchange(server.taskSocketPath('Echo'), encodeFrame('{"id":"abc"}').subarray(0, 7), 5_000, true);
    assert.ok(closed);
    assert.deepEqual((await client.request('Echo', 2)).result, { args: 2, task: 'Echo' });
  });

  it('serves many requests at once', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.request('Echo', i)));
    assert.deepEqual(results.map((r) => (r.result as { args: number }).args), Array.from({ length: 50 }, (_, i) => i));
  });

  it('refuses a request for a task nobody provides', async () => {
    await assert.rejects(client.request('Nobody'), (err: Error & { code?: string }) => err.code === 'SY_ERR_NO_PROVIDER' && /0 socket\(s\) tried/.test(err.message));
  });
});

describe('provider sockets across start and stop', T, () => {
  it('picks the highest priority first and fails over past a stale socket', async () => {
    const tmp = await shortTempDir();
    const low = provider({ service_name: 'low', socket_dir: tmp.dir, default_priority: 10 }, { logger: quiet }).registerTask('Who', () => 'low');
    const high = provider({ service_name: 'high', socket_dir: tmp.dir, tasks: { Who: { priority: 90 } } }, { logger: quiet }).registerTask('Who', () => 'high');
    await low.start();
    await high.start();
    // Listing on every request, so each request below sees the folder as it is now.
    const client = await coordinatorClient({ socketDir: tmp.dir, timeoutMs: 5_000, logger: quiet, discoveryCacheMs: 0 });
    try {
      assert.deepEqual((await client.discover('Who')).map((p) => [p.priority, p.service]), [[90, 'high'], [10, 'low']]);
      assert.equal((await client.request('Who')).result, 'high');
      // A socket file with nobody listening (what SIGKILL leaves), preferred over both.
      await staleSocket(join(tmp.dir, 'Who', '99-dead.sock'));
      assert.deepEqual((await client.discover('Who')).map((p) => p.service), ['dead', 'high', 'low']);
      const r = await client.request('Who');
      assert.equal(r.result, 'high');
      await high.stop();
      assert.equal(existsSync(high.taskSocketPath('Who')), false, 'stop removed the socket');
      assert.equal((await client.request('Who')).result, 'low');
    } finally {
      await client.stop();
      await low.stop();
      await high.stop();
      await tmp.remove();
    }
  });

  it('reuses a listing within discoveryCacheMs, and lists afresh when its sockets fail', async () => {
    const tmp = await shortTempDir();
    const a = provider({ service_name: 'a', socket_dir: tmp.dir, default_priority: 10 }, { logger: quiet }).registerTask('T', () => 'a');
    const b = provider({ service_name: 'b', socket_dir: tmp.dir, default_priority: 20 }, { logger: quiet }).registerTask('T', () => 'b');
    await a.start();
    const client = await coordinatorClient({ socketDir: tmp.dir, logger: quiet, discoveryCacheMs: 60_000 });
    try {
      assert.equal((await client.request('T')).result, 'a');
      await b.start();
      // b is preferred but not yet seen: the cached listing holds only a.
      assert.equal((await client.request('T')).result, 'a');
      await a.stop();
      // a's socket is gone: the cached listing fails, the folder is listed afresh, b serves.
      assert.equal((await client.request('T')).result, 'b');
      await b.stop();
      await assert.rejects(client.request('T'), (err: Error & { code?: string }) => err.code === 'SY_ERR_NO_PROVIDER' && /1 socket\(s\) tried/.test(err.message));
    } finally {
      await client.stop();
      await a.stop();
      await b.stop();
      await tmp.remove();
    }
  });

  it('replaces a stale socket at start and refuses one a live provider serves', async () => {
    const tmp = await shortTempDir();
    const config = { service_name: 'svc', socket_dir: tmp.dir };
    await staleSocket(join(tmp.dir, 'T', '50-svc.sock'));
    const first = provider(config, { logger: quiet }).registerTask('T', () => 1);
    await first.start();
    const second = provider(config, { logger: quiet }).registerTask('T', () => 2);
    await assert.rejects(second.start(), (err: Error & { code?: string }) => err.code === 'SY_ERR_SOCKET_IN_USE');
    // The failed start removed nothing of the live one's.
    assert.ok(statSync(first.taskSocketPath('T')).isSocket());
    const client = await coordinatorClient({ socketDir: tmp.dir, logger: quiet });
    assert.equal((await client.request('T')).result, 1);
    await client.stop();
    await first.stop();
    assert.equal(existsSync(first.taskSocketPath('T')), false);
    assert.equal(existsSync(join(tmp.dir, 'response', 'svc.sock')), false, 'the tracker socket is removed too');
    await tmp.remove();
  });

  it('refuses a file in the way that is not a socket, and a socket path that is too long', async () => {
    const tmp = await shortTempDir();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(tmp.dir, 'T'));
    await writeFile(join(tmp.dir, 'T', '50-svc.sock'), 'not a socket');
    const p = provider({ service_name: 'svc', socket_dir: tmp.dir }, { logger: quiet }).registerTask('T', () => 1);
    await assert.rejects(p.start(), /SY_ERR_SOCKET_PATH: .*a file that is not a socket is in the way/);
    const long = provider({ service_name: 's'.repeat(100), socket_dir: tmp.dir }, { logger: quiet }).registerTask('T', () => 1);
    await assert.rejects(long.start(), /SY_ERR_SOCKET_PATH: .*unix sockets allow at most 107/);
    await tmp.remove();
  });

  it('checks task names and refuses registration after start', async () => {
    const tmp = await shortTempDir();
    const p = provider({ service_name: 'svc', socket_dir: tmp.dir }, { logger: quiet });
    assert.throws(() => p.registerTask('a/b', () => 1), /SY_ERR_TASK_REGISTRATION: task "a\/b"/);
    assert.throws(() => p.registerTask('response', () => 1), /folder the provider uses itself/);
    p.registerTask('T', () => 1);
    assert.throws(() => p.registerTask('T', () => 1), /already registered/);
    // Priority and timeout in code are defaults; the configuration's tasks entry wins.
    const q = provider({ service_name: 'svc', socket_dir: tmp.dir, tasks: { B: { priority: 5 } } }, { logger: quiet })
      .registerTask('A', () => 1, { priority: 70, timeout: 2 })
      .registerTask('B', () => 1, { priority: 70 });
    assert.equal(q.taskSocketPath('A'), join(tmp.dir, 'A', '70-svc.sock'));
    assert.equal(q.layout.taskTimeoutMs('A'), 2_000);
    assert.equal(q.taskSocketPath('B'), join(tmp.dir, 'B', '5-svc.sock'));
    assert.throws(() => q.registerTask('C', () => 1, { priority: -3 }), /SY_ERR_TASK_REGISTRATION: task "C" cannot be registered: its options are not valid: priority must be a whole number ≥ 0/);
    await assert.rejects(provider({ service_name: 'x', socket_dir: tmp.dir }, { logger: quiet }).start(), /has no tasks/);
    await p.start();
    assert.throws(() => p.registerTask('U', () => 1), /already started/);
    await p.stop();
    await tmp.remove();
  });

  it('finishes a request in flight on stop, after its socket is gone', async () => {
    const tmp = await shortTempDir();
    let release!: () => void;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const p = provider({ service_name: 'svc', socket_dir: tmp.dir }, { logger: quiet });
    p.registerTask('Wait', async () => {
      markStarted();
      await new Promise<void>((r) => (release = r));
      return 'finished';
    });
    await p.start();
    const client = await coordinatorClient({ socketDir: tmp.dir, logger: quiet });
    const answer = client.request('Wait');
    await started;
    const stopping = p.stop();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(p.taskSocketPath('Wait')), false, 'de-registered at once');
    release();
    assert.equal((await answer).result, 'finished');
    await stopping;
    await client.stop();
    await tmp.remove();
  });
});

describe('provider requests through coordinator_url', T, () => {
  it('sends the request to the coordinator, which acks; the response comes back on the provider\'s tracker', async () => {
    const tmp = await shortTempDir();
    // A minimal coordinator: acks each request, serves it with the coordinator client, and
    // sends the response to the request's hook, as acomm's coordinator would.
    const client = await coordinatorClient({ socketDir: tmp.dir, logger: quiet });
    const seen: AcommRequest[] = [];
    const coordinator = await listenExchanges({
      path: join(tmp.dir, 'coordinator', 'coordinator.sock'),
      handle: (message) => {
        const req = decodeRequest(message);
        seen.push(req);
        void client.request(req.task, req.args).then(
          (r) => sendTo(req.responseHook!, encodeResponse({ id: req.id, result: r.result, streamUrl: r.streamUrl, error: '' })),
          (err: Error) => sendTo(req.responseHook!, encodeResponse(replyTo(req.id, err.message))),
        );
        return encodeResponse(replyTo(req.id));
      },
    });
    const echo = provider({ service_name: 'echo', socket_dir: tmp.dir }, { logger: quiet }).registerTask('Echo', (req) => req.args);
    const caller = provider({ service_name: 'caller', socket_dir: tmp.dir, coordinator_url: coordinator.url, request_timeout: 5 }, { logger: quiet })
      .registerTask('Call', async (req, { request }) => (await request('Echo', req.args)).result);
    await echo.start();
    await caller.start();
    try {
      assert.deepEqual((await client.request('Call', { x: 1 })).result, { x: 1 });
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.task, 'Echo');
      assert.equal(seen[0]!.responseHook, caller.tracker.url);
      await assert.rejects(caller.request('Nobody'), /SY_ERR_TASK_FAILED: task "Nobody" failed: SY_ERR_NO_PROVIDER/);
    } finally {
      await caller.stop();
      await echo.stop();
      await coordinator.close();
      await client.stop();
      await tmp.remove();
    }
  });
});

/** Leaves a socket file nobody listens on, as a killed process does. */
async function staleSocket(path: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await mkdir(dirname(path), { recursive: true });
  const s = createServer();
  await new Promise<void>((r) => s.listen(path, r));
  // Closing the handle without unlinking: duplicate the file first, since libuv unlinks on close.
  const { link, unlink } = await import('node:fs/promises');
  await link(path, `${path}.keep`);
  await new Promise<void>((r) => s.close(() => r()));
  await link(`${path}.keep`, path);
  await unlink(`${path}.keep`);
  assert.ok(statSync(path).isSocket());
}
