// `switchyard provider run --instances 2`: one supervisor, two copies serving the SAME task
// socket (node:cluster shares the listening unix socket; each copy accepts on it), each copy
// with a response socket of its own so that a task calling a task gets its answer back in
// the copy that asked. A copy SIGKILLed is restarted while the other keeps serving; SIGTERM
// drains both (the request in flight is answered), removes every socket, and exits 0. A live
// socket of another process at the path is refused before any copy starts.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { encodeFrame, encodeRequest } from '../../src/transports/unix/mod.js';
import { coordinatorClient, type CoordinatorClient } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { killAll, requireBuild, ROOT, start, waitFor, type Cli } from '../cli/cli-helpers.js';
import { frameJson, hook, rawExchange, shortTempDir } from './kit.js';

const DIST_PROVIDER = join(ROOT, 'dist', 'models', 'provider', 'mod.js');

// Block holds its copy's event loop (a synchronous wait after the ack): while it does, only
// the other copy can accept, which makes "both copies serve the one socket" deterministic.
const MODULE = `
import { defineProvider, stream } from ${JSON.stringify(DIST_PROVIDER)};
export default defineProvider('multi', (p) => {
  p.registerTask('Lines', () => stream('a\\nb\\n', { pid: process.pid }));
  p.registerTask('Who', () => ({ pid: process.pid }));
  p.registerTask('Block', (req) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(req.args));
    return { pid: process.pid };
  });
  p.registerTask('Hold', async (req) => {
    console.log('holding ' + req.id + ' in ' + process.pid);
    await new Promise((r) => setTimeout(r, Number(req.args)));
    return { held: Number(req.args), pid: process.pid };
  });
  p.registerTask('Via', async (req, ctx) => ({ via: process.pid, who: (await ctx.request('Who')).result }));
});
`;

/** Live child processes of `pid` (the copies under the supervisor). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('provider run --instances', { timeout: 90_000 }, () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let sockets: string;
  let client: CoordinatorClient;
  let supervisor: Cli | undefined;
  const copies = new Set<number>();

  before(async () => {
    requireBuild();
    tmp = await shortTempDir();
    sockets = join(tmp.dir, 's');
    await writeFile(join(tmp.dir, 'multi.mjs'), MODULE);
    client = await coordinatorClient({ socketDir: sockets, timeoutMs: 15_000, logger: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    // Copies first, by PID: a SIGKILLed supervisor cannot pass anything on.
    for (const pid of copies) if (alive(pid)) process.kill(pid, 'SIGKILL');
    killAll();
    await client?.stop();
    await tmp?.remove();
  });

  /** The copies' "serving" lines so far. */
  const serving = () => supervisor!.stdout().split('\n').filter((l) => l.startsWith('provider multi serving')).length;

  it('two copies serve one task socket; a task calling a task answers in each; a killed copy is restarted', async () => {
    supervisor = start(['provider', 'run', join(tmp.dir, 'multi.mjs'), '-s', sockets, '-l', 'info', '--instances', '2'], { cwd: tmp.dir });
    await waitFor(() => `two copies to serve (stderr: ${supervisor!.stderr()})`, () => serving() === 2 || supervisor!.hasExited(), 40_000);
    assert.equal(supervisor.hasExited(), false, supervisor.stderr());
    const pids = childrenOf(supervisor.pid);
    assert.equal(pids.length, 2, 'two copies run under the supervisor');
    for (const pid of pids) copies.add(pid);
    const socket = join(sockets, 'Block', '50-multi.sock');
    assert.ok(statSync(socket).isSocket());
    assert.deepEqual((await client.discover('Block')).map((p) => p.path), [socket], 'one socket per task, whatever the copies');

    // The first request's copy blocks after its ack, so the second request can only be
    // accepted by the other copy: two different processes answer through the one socket.
    const h = await hook(join(tmp.dir, 'hook.sock'));
    const send = async (id: string) => {
      const ack = frameJson((await rawExchange(socket, encodeFrame(encodeRequest({ id, task: 'Block', responseHook: h.listener.url, args: 1500 })))).data) as { error: string };
      assert.equal(ack.error, '', `request ${id} acked`);
    };
    await send('b1');
    await send('b2');
    const answered = [await h.next(), await h.next()];
    await h.listener.close();
    const servedBy = new Set(answered.map((r) => (r.result as { pid: number }).pid));
    assert.equal(servedBy.size, 2, `both copies served the one socket: ${JSON.stringify(answered.map((r) => r.result))}`);
    for (const pid of servedBy) assert.ok(pids.includes(pid), `${pid} is one of the copies`);

    // Each copy has its own response socket: the Who answer to a Via request reaches the copy that asked.
    for (const n of [1, 2]) assert.ok(statSync(join(sockets, 'response', `multi.${n}.sock`)).isSocket(), `copy ${n}'s response socket`);
    for (let i = 0; i < 6; i++) {
      const r = (await client.request('Via')).result as { via: number; who: { pid: number } };
      assert.ok(pids.includes(r.via) && pids.includes(r.who.pid), JSON.stringify(r));
    }

    // A stream socket is its copy's own (not bound through the supervisor), and serves once.
    const lines = await client.request('Lines');
    assert.ok(pids.includes((lines.result as { pid: number }).pid));
    assert.equal((await client.readStream(lines.streamUrl!)).toString(), 'a\nb\n');

    // A copy killed is restarted; meanwhile the other serves the same socket.
    process.kill(pids[0]!, 'SIGKILL');
    for (let i = 0; i < 3; i++) assert.equal(((await client.request('Who')).result as { pid: number }).pid, pids[1], 'the surviving copy serves');
    await waitFor(() => `the killed copy to be restarted (stderr: ${supervisor!.stderr()})`, () => serving() === 3, 30_000);
    const now = childrenOf(supervisor.pid);
    for (const pid of now) copies.add(pid);
    assert.equal(now.length, 2, 'two copies again');
    assert.ok(!now.includes(pids[0]!) && now.includes(pids[1]!), 'the killed copy was replaced');
    assert.match(supervisor.stderr(), /instance died; restarting it/);
    assert.ok(statSync(socket).isSocket(), 'the task socket stayed registered throughout');
  });

  it('SIGTERM answers the request in flight, removes every socket, and every copy exits', async () => {
    const pids = childrenOf(supervisor!.pid);
    const answer = client.request('Hold', 600);
    await waitFor('the Hold handler to start', () => supervisor!.stdout().includes('holding '));
    supervisor!.kill('SIGTERM');
    await waitFor('the task sockets to go', () => !existsSync(join(sockets, 'Who', '50-multi.sock')), 5_000);
    const r = await answer;
    assert.equal((r.result as { held: number }).held, 600, 'the request in flight is answered');
    const exit = await supervisor!.exited;
    assert.equal(exit.code, 0, supervisor!.stderr());
    for (const pid of pids) assert.equal(alive(pid), false, `copy ${pid} exited`);
    assert.equal(supervisor!.stderr().match(/provider stopped; its task sockets are removed/g)?.length, 2, 'each copy stopped cleanly');
    for (const path of ['Who/50-multi.sock', 'Block/50-multi.sock', 'Lines/50-multi.sock', 'Hold/50-multi.sock', 'Via/50-multi.sock', 'response/multi.1.sock', 'response/multi.2.sock']) {
      assert.equal(existsSync(join(sockets, path)), false, `${path} removed`);
    }
  });

  it('refuses, before starting any copy, a task socket another live process serves', async () => {
    const taken = join(sockets, 'Who', '50-multi.sock');
    await mkdir(join(sockets, 'Who'), { recursive: true });
    const stranger: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => stranger.listen(taken, r));
    try {
      const cli = start(['provider', 'run', join(tmp.dir, 'multi.mjs'), '-s', sockets, '--instances', '2'], { cwd: tmp.dir });
      const exit = await cli.exited;
      assert.notEqual(exit.code, 0);
      assert.match(cli.stderr(), /SY_ERR_SOCKET_IN_USE/);
      assert.doesNotMatch(cli.stderr(), /starting 2 instance/);
      assert.ok(statSync(taken).isSocket(), 'the other process keeps its socket');
    } finally {
      await new Promise((r) => stranger.close(r));
    }
  });
});
