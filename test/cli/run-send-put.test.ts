// The real flow across processes: `switchyard run` in one process, `put` and `send` from
// others, as the README's "Writing a worker" shows; and `config-server` on its own.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UPPER_MAP, jsonLines, killAll, requireBuild, runCli, start, tempDir, upperWorkerSource, waitFor } from './cli-helpers.js';

const T = { timeout: 30_000 };

const MAP = UPPER_MAP;

// A plain .ts file in a folder with no package.json: CommonJS scope to Node, as in a fresh
// project; `run` must load it all the same.
const WORKER = upperWorkerSource();

describe('switchyard run + put + send across processes', () => {
  before(requireBuild);
  after(killAll);

  it('put stores the input, send reaches the running worker, the output appears, SIGTERM exits 0', T, async () => {
    const tmp = await tempDir();
    const state = join(tmp.dir, 'state');
    const storage = join(tmp.dir, 'storage');
    const staging = join(tmp.dir, 'staging');
    await writeFile(join(tmp.dir, 'worker.ts'), WORKER);
    await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
    await writeFile(join(tmp.dir, 'file.txt'), 'hello, switchyard\n');
    const running = start(
      ['run', 'worker.ts', '--map', 'sysmap.yaml', '--state-dir', state, '--storage-dir', storage, '--staging-dir', staging, '--log-level', 'info', '--metrics-port', '0'],
      { cwd: tmp.dir },
    );
    const info = () => `run exited: ${running.hasExited()}\nstdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`;
    try {
      // The process hosts the folder's embedded broker: `send` reaches it through this socket.
      const broker = join(state, 'broker.sock');
      await waitFor(() => `${broker}\n${info()}`, () => existsSync(broker) || running.hasExited(), 15_000);
      assert.ok(!running.hasExited(), info());
      assert.equal((await stat(broker)).mode & 0o777, 0o600, 'only its owner may reach the broker');

      // A misspelled queue is refused, naming the closest one the running system has.
      const typo = await runCli(['send', 'uper-in', '5', '--state-dir', state], { cwd: tmp.dir });
      assert.equal(typo.code, 2, typo.stderr);
      assert.match(typo.stderr, /SY_ERR_UNKNOWN_QUEUE: no queue "uper-in" in the running system; did you mean "upper-in"\?/);

      const put = await runCli(['put', 'src', '5', 'file.txt', '--service', 'upper', '--map', 'sysmap.yaml', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(put.code, 0, put.stderr);
      assert.match(put.stdout, /^stored file\.txt as upper-src\/5 /);
      assert.equal(await readFile(join(storage, 'upper-src', '5'), 'utf8'), 'hello, switchyard\n');

      const send = await runCli(['send', 'upper-in', '5', '--state-dir', state], { cwd: tmp.dir });
      assert.equal(send.code, 0, send.stderr);
      assert.equal(send.stdout, 'sent 1 message(s) to upper-in\n');

      const output = join(storage, 'upper-dst', '5');
      await waitFor(() => `${output}\n${info()}`, () => existsSync(output), 10_000);
      assert.equal(await readFile(output, 'utf8'), 'HELLO, SWITCHYARD\n');

      // The log is JSON lines on stdout; the message's line carries the service and the id.
      const done = await waitFor(() => `"message done"\n${info()}`, () => jsonLines(running.stdout()).find((l) => l.msg === 'message done'), 5_000);
      assert.equal(done.service, 'upper');
      // Derived from the observer stream: the inbound queue is the "input", results are "produced", uploads "wrote".
      assert.equal(done.model, 'worker');
      assert.equal(done.input, 'upper-in');
      assert.equal(done.id, '5');
      assert.deepEqual(done.produced, [{ output: 'upper-out', id: '5', label: 'true' }]);
      assert.deepEqual(done.wrote, ['upper-dst/5']);

      // The metrics server (port 0 → the real URL is logged) counts the message.
      const served = jsonLines(running.stdout()).find((l) => l.msg === 'metrics served');
      assert.ok(served, info());
      const url = String(served.url);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const metrics = await (await fetch(url)).text();
      assert.match(metrics, /^switchyard_handled_total\{model="worker",service="upper",transport="memory",input="upper-in"\} 1$/m, metrics);

      running.kill('SIGTERM');
      const exit = await Promise.race([running.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 5_000))]);
      assert.notEqual(exit, 'late', `still running 5 s after SIGTERM\n${info()}`);
      assert.deepEqual(exit, { code: 0, signal: null }, info());
      assert.equal(existsSync(broker), false, 'the broker socket must be removed on a clean stop');
      const msgs = jsonLines(running.stdout()).map((l) => l.msg);
      assert.ok(msgs.includes('worker stopped'), info());
      assert.equal(running.stderr(), '');
      assert.deepEqual(existsSync(staging) ? await readdir(staging) : [], []);
      assert.deepEqual(existsSync(join(storage, '.staging')) ? await readdir(join(storage, '.staging')) : [], []);

      // With the process gone, send says so.
      const late = await runCli(['send', 'upper-in', '6', '--state-dir', state], { cwd: tmp.dir });
      assert.equal(late.code, 2);
      assert.match(late.stderr, /SY_ERR_NO_LOCAL_BROKER/);
    } finally {
      running.kill();
      await running.exited.catch(() => undefined);
      await tmp.remove();
    }
  });

  it('put resolves the alias through the map; --bucket names the bucket; a bad id or unknown alias exits 2', T, async () => {
    const tmp = await tempDir();
    const storage = join(tmp.dir, 'storage');
    try {
      await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
      await writeFile(join(tmp.dir, 'file.txt'), 'x');
      const direct = await runCli(['put', 'some-bucket', '18446744073709551615', 'file.txt', '--bucket', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(await readFile(join(storage, 'some-bucket', '18446744073709551615'), 'utf8'), 'x');

      const badId = await runCli(['put', 'src', 'abc', 'file.txt', '--service', 'upper', '--map', 'sysmap.yaml', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(badId.code, 2);
      assert.match(badId.stderr, /cannot put object "abc"/);

      const noService = await runCli(['put', 'src', '1', 'file.txt', '--map', 'sysmap.yaml', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(noService.code, 2);
      assert.match(noService.stderr, /--service/);

      const unknown = await runCli(['put', 'nope', '1', 'file.txt', '--service', 'upper', '--map', 'sysmap.yaml', '--storage-dir', storage], { cwd: tmp.dir });
      assert.equal(unknown.code, 2, unknown.stderr);
      assert.match(unknown.stderr, /nope/);
    } finally {
      await tmp.remove();
    }
  });

  it('config-server --port 0 prints its URL, serves the map, and exits 0 on SIGTERM', T, async () => {
    const tmp = await tempDir();
    await writeFile(join(tmp.dir, 'sysmap.yaml'), MAP);
    const server = start(['config-server', '--map', 'sysmap.yaml', '--port', '0'], { cwd: tmp.dir });
    const info = () => `stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`;
    try {
      const first = await waitFor(() => `the first line\n${info()}`, () => server.stdout().includes('\n') || server.hasExited(), 15_000);
      assert.ok(first && !server.hasExited(), info());
      const line = server.stdout().split('\n')[0]!;
      const url = /^configuration service for sysmap\.yaml \(1 service\) at (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
      assert.ok(url, `first line: ${line}`);
      assert.notEqual(url[2], '0');

      const res = await fetch(`${url[1]}/upper`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{"in":"upper-in","out":[{"case":true,"queues":["upper-out"]}]}');
      const alias = await fetch(`${url[1]}/upper/src`);
      assert.equal(alias.status, 200);
      assert.equal(await alias.text(), 'upper-src');
      assert.equal((await fetch(`${url[1]}/nope`)).status, 404);

      server.kill('SIGTERM');
      const exit = await Promise.race([server.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 5_000))]);
      assert.deepEqual(exit, { code: 0, signal: null }, info());
    } finally {
      server.kill();
      await server.exited.catch(() => undefined);
      await tmp.remove();
    }
  });
});
