// What the provider's per-request cost work changed, held in place: the CLI does not load
// node:domain (node:repl did, and it slows every event emitter of the process); a listener
// that closes with a write and a destroy still delivers a reply too big for one write and
// says so, and closes an ack's connection before the handler runs; the handler context made per request (lazy signal and logger, the provider's one
// request function) behaves as before; the exchange client's single timer still keeps both
// limits (connect, then read).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeFrame, encodeRequest, exchange, FrameError, listenExchanges } from '../../src/transports/unix/mod.js';
import { coordinatorClient, provider } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { requireBuild, ROOT } from '../cli/cli-helpers.js';
import { frameJson, hook, rawExchange, shortTempDir } from './kit.js';

const quiet = createLogger({ level: 'silent' });

describe('provider hot path', { timeout: 30_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const temp = async () => {
    const t = await shortTempDir();
    cleanups.push(t.remove);
    return t.dir;
  };

  it('the CLI (every `switchyard` process) loads no node:domain', () => {
    requireBuild();
    const main = pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href;
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(main)}); console.log(process.moduleLoadList.filter((m) => /domain|repl/.test(m)).join(',') || 'none')`], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(probe.stdout.trim(), 'none', 'node:domain (brought by node:repl) is loaded only by `switchyard shell`');
  });

  it('a reply too big for one write reaches the peer whole, and `written` says true only then', async () => {
    const dir = await temp();
    const big = JSON.stringify({ data: 'x'.repeat(3 * 1024 * 1024) });
    let told: boolean | undefined;
    const l = await listenExchanges({ path: join(dir, 'big.sock'), handle: () => ({ json: big, written: (ok) => (told = ok) }) });
    cleanups.push(() => l.close());
    // A slow reader: the kernel's buffer fills, so the reply is written in several goes.
    const got = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(l.path);
      const chunks: Buffer[] = [];
      socket.on('connect', () => socket.write(encodeFrame('{}')));
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      });
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    assert.equal(got.readUInt32BE(0), Buffer.byteLength(big));
    assert.equal(got.subarray(4).toString(), big);
    for (let i = 0; i < 100 && told === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(told, true);
  });

  it('the ack\'s connection is closed before the handler runs, even a handler that holds the thread', async () => {
    requireBuild();
    const dir = await temp();
    // A process of its own: a handler holding the thread must not hold this test's too.
    const script = `
import { provider } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'models', 'provider', 'mod.js')).href)};
const p = provider({ service_name: 'hold', socket_dir: ${JSON.stringify(dir)}, log_level: 'silent' });
p.registerTask('Hold', () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); console.log('handler done'); return 'held'; });
await p.start();
console.log('ready ' + p.taskSocketPath('Hold'));
`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const order: string[] = [];
    const socket = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (d.includes('handler done')) order.push('handler done');
        const m = /ready (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the provider exited (${code})`)));
    });
    const h = await hook(join(dir, 'h.sock'));
    cleanups.push(() => h.listener.close());
    const response = h.next().then((r) => order.push(`response ${String(r.result)}`));
    const ack = await rawExchange(socket, encodeFrame(encodeRequest({ id: 'h1', task: 'Hold', responseHook: h.listener.url, args: null })));
    order.push(`ack ${ack.closed ? 'closed' : 'open'}`);
    await response;
    assert.deepEqual(order, ['ack closed', 'handler done', 'response held'], 'the ack connection ended while the handler still held the thread');
    assert.equal((frameJson(ack.data) as { error: string }).error, '');
  });

  it('the exchange client keeps its read limit with one timer, shorter or longer than the connect limit', async () => {
    const dir = await temp();
    const path = join(dir, 'mute.sock');
    // Accepts, reads and never answers (reading, it sees each client go, so close() is not held up).
    const mute = createServer((s) => s.resume().on('error', () => undefined));
    await new Promise<void>((r) => mute.listen(path, r));
    cleanups.push(() => new Promise((r) => mute.close(() => r())));
    const timedOut = (err: unknown) => err instanceof FrameError && err.problem === 'timeout';
    const t0 = performance.now();
    await assert.rejects(exchange(path, '{}', { timeoutMs: 150, connectTimeoutMs: 5_000 }), timedOut);
    const short = performance.now() - t0;
    assert.ok(short < 4_000, `a read limit shorter than the connect limit applies (${Math.round(short)} ms)`);
    const t1 = performance.now();
    await assert.rejects(exchange(path, '{}', { timeoutMs: 400, connectTimeoutMs: 100 }), timedOut);
    const long = performance.now() - t1;
    assert.ok(long >= 350, `a read limit longer than the connect limit is waited out in full (${Math.round(long)} ms)`);
  });

  it('the handler context: log and request work destructured; a signal first read after the time limit is already aborted', async () => {
    const dir = await temp();
    const server = provider({ service_name: 'hot', socket_dir: dir, default_timeout: 0.2, log_level: 'silent' }, { logger: quiet });
    let late: AbortSignal | undefined;
    server.registerTask('Who', () => 'me');
    server.registerTask('Ask', async (_req, { request, log }) => {
      log.info('asking');
      return (await request('Who')).result;
    });
    server.registerTask('Late', async (_req, context) => {
      await new Promise((r) => setTimeout(r, 400));
      late = context.signal;
      return 'too late';
    });
    server.registerTask('Sync', (req) => {
      if (req.args === 'throw') throw new Error('sync failure');
      return { sync: req.args };
    });
    await server.start();
    cleanups.push(() => server.stop());
    const client = await coordinatorClient({ socketDir: dir, timeoutMs: 5_000, logger: quiet });
    cleanups.push(() => client.stop());
    assert.equal((await client.request('Ask')).result, 'me');
    assert.deepEqual((await client.request('Sync', 7)).result, { sync: 7 });
    await assert.rejects(client.request('Sync', 'throw'), /sync failure/);
    await assert.rejects(client.request('Late'), /SY_ERR_TASK_FAILED.*SY_ERR_TASK_TIMEOUT/);
    for (let i = 0; i < 100 && late === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(late?.aborted, true);
    assert.match(String((late?.reason as Error)?.message), /SY_ERR_TASK_TIMEOUT/);
  });
});
