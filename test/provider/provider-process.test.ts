// Providers as separate processes (`switchyard provider run`), the way they are deployed:
// several providers of one task with different priorities, the top one SIGKILLed (its
// socket file stays behind, stale) → the next one serves; restarted, it replaces its stale
// socket; SIGTERM removes every socket after the request in flight is answered.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coordinatorClient, type CoordinatorClient } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { killAll, requireBuild, ROOT, runCli, start, waitFor, type Cli } from '../cli/cli-helpers.js';
import { shortTempDir } from './kit.js';

// Every test starts `switchyard provider run` processes (tsx compiles each module): slow on a loaded machine.
const T = { timeout: 60_000 };
const DIST_PROVIDER = join(ROOT, 'dist', 'models', 'provider', 'mod.js');

const MODULE = `
import { defineProvider } from ${JSON.stringify(DIST_PROVIDER)};
export default defineProvider((p) => {
  p.registerTask('Who', () => ({ service: p.serviceName, pid: process.pid }));
  p.registerTask('Hold', async (req) => {
    console.log('holding ' + req.id);
    await new Promise((r) => setTimeout(r, Number(req.args)));
    return { held: Number(req.args), service: p.serviceName };
  });
});
`;

describe('provider processes', T, () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let sockets: string;
  let client: CoordinatorClient;
  const running = new Map<string, Cli>();

  const startProvider = async (name: string, priority: number): Promise<Cli> => {
    const cli = start(['provider', 'run', join(tmp.dir, 'who.mts'), '-n', name, '-s', sockets, '-p', String(priority), '-l', 'info'], { cwd: tmp.dir });
    running.set(name, cli);
    await waitFor(() => `${name} to register (stderr: ${cli.stderr()})`, () => cli.stdout().includes('serving') || cli.hasExited());
    assert.equal(cli.hasExited(), false, cli.stderr());
    return cli;
  };

  before(async () => {
    requireBuild();
    tmp = await shortTempDir();
    sockets = join(tmp.dir, 's');
    await writeFile(join(tmp.dir, 'who.mts'), MODULE);
    client = await coordinatorClient({ socketDir: sockets, timeoutMs: 10_000, logger: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    killAll();
    await client?.stop();
    await tmp?.remove();
  });

  it('serves from the highest priority; after a SIGKILL the next one serves, past the stale socket', async () => {
    await startProvider('p10', 10);
    await startProvider('p50', 50);
    const top = await startProvider('p90', 90);
    assert.deepEqual((await client.discover('Who')).map((p) => p.service), ['p90', 'p50', 'p10']);
    assert.equal(((await client.request('Who')).result as { service: string }).service, 'p90');

    top.kill('SIGKILL');
    assert.equal((await top.exited).signal, 'SIGKILL');
    const stale = join(sockets, 'Who', '90-p90.sock');
    assert.ok(statSync(stale).isSocket(), 'SIGKILL leaves the socket file behind');
    for (let i = 0; i < 5; i++) assert.equal(((await client.request('Who')).result as { service: string }).service, 'p50');
    const listed = await runCli(['provider', 'list', 'Who', '-s', sockets]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 4).join(' ')), ['Who 90 p90 stale', 'Who 50 p50 live', 'Who 10 p10 live']);

    // Restarted, p90 finds its stale socket, replaces it and serves again.
    const again = await startProvider('p90', 90);
    assert.match(again.stderr(), /replaced a stale socket left by a process that is gone/);
    const r = (await client.request('Who')).result as { service: string; pid: number };
    assert.deepEqual([r.service, r.pid], ['p90', again.pid]);
  });

  it('a SIGTERM answers the request in flight, removes every socket and exits 0', async () => {
    const p = running.get('p90')!;
    const answer = client.request('Hold', 400);
    await waitFor('the Hold handler to start', () => p.stdout().includes('holding '));
    p.kill('SIGTERM');
    await waitFor('p90 to de-register', () => !existsSync(join(sockets, 'Who', '90-p90.sock')), 5_000);
    const r = await answer;
    assert.deepEqual(r.result, { held: 400, service: 'p90' });
    const exit = await p.exited;
    assert.equal(exit.code, 0, p.stderr());
    for (const path of ['Who/90-p90.sock', 'Hold/90-p90.sock', 'response/p90.sock']) assert.equal(existsSync(join(sockets, path)), false, `${path} removed`);
    assert.equal(((await client.request('Who')).result as { service: string }).service, 'p50');
  });

  it('stopOnSignal() in a program of its own removes the sockets on SIGTERM and returns the signal', async () => {
    const script = join(tmp.dir, 'standalone.mjs');
    await writeFile(script, `
import { provider } from ${JSON.stringify(DIST_PROVIDER)};
const p = provider({ service_name: 'alone', socket_dir: ${JSON.stringify(sockets)}, log_level: 'silent' });
p.registerTask('Who', () => 'alone');
await p.start();
// Listening for the signals before saying so: a signal sent right after 'started' must find the handler.
const stopped = p.stopOnSignal('SIGTERM', 'SIGUSR2');
console.log('started');
const signal = await stopped;
console.log('stopped by ' + signal);
`);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    try {
      await waitFor(() => `the standalone provider to start (${out})`, () => out.includes('started'));
      assert.ok(statSync(join(sockets, 'Who', '50-alone.sock')).isSocket());
      child.kill('SIGUSR2');
      assert.equal(await exited, 0);
      assert.match(out, /stopped by SIGUSR2/);
      assert.equal(existsSync(join(sockets, 'Who', '50-alone.sock')), false);
      assert.equal(existsSync(join(sockets, 'response', 'alone.sock')), false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('runs the example provider with its config file: a result, a stream, a task calling a task, an error', async () => {
    const example = join(ROOT, 'examples', 'provider-simple');
    const cli = start(['provider', 'run', join(example, 'provider.ts'), '--config', join(example, 'config.json'), '-s', sockets]);
    try {
      await waitFor(() => `the example to register (stderr: ${cli.stderr()})`, () => cli.stdout().includes('serving') || cli.hasExited());
      assert.equal(cli.hasExited(), false, cli.stderr());
      const info = await client.request('CPUInfo', { guest_id: 'abc' });
      assert.equal(info.provider.path, join(sockets, 'CPUInfo', '60-provider-simple.sock'), 'tasks.CPUInfo.priority from config.json');
      assert.equal((info.result as { guest_id: string }).guest_id, 'abc');
      const lines = await client.request('Lines', { count: 3 });
      assert.equal((await client.readStream(lines.streamUrl!)).toString(), 'line 1\nline 2\nline 3\n');
      const count = await client.request('CPUCount', { guest_id: 'x' });
      assert.equal((count.result as { count: number }).count, (info.result as { cpus: unknown[] }).cpus.length);
      await assert.rejects(client.request('CPUInfo', {}), /SY_ERR_TASK_FAILED: task "CPUInfo" failed: args.guest_id is required/);
      cli.kill('SIGTERM');
      assert.equal((await cli.exited).code, 0);
      assert.equal(existsSync(join(sockets, 'CPUInfo', '60-provider-simple.sock')), false);
    } finally {
      cli.kill();
    }
  });

  it('exits 2 naming the key when the configuration is wrong', async () => {
    const cli = start(['provider', 'run', join(tmp.dir, 'who.mts'), '-s', sockets], { cwd: tmp.dir });
    const exit = await cli.exited;
    assert.equal(exit.code, 2);
    assert.match(cli.stderr(), /SY_ERR_SETTINGS: .*provider.service_name is missing/);
  });

  it('exits 2 when a flag and its Go spelling disagree', async () => {
    const cli = start(['provider', 'run', join(tmp.dir, 'who.mts'), '-n', 'x', '--socket-dir', sockets, '--socket_dir', join(sockets, 'other')], { cwd: tmp.dir });
    const exit = await cli.exited;
    assert.equal(exit.code, 2);
    assert.match(cli.stderr(), /--socket-dir ".*" and --socket_dir ".*other" disagree; give one of them/);
  });
});
