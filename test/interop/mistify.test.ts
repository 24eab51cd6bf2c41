// Wire compatibility with the real mistifyio Go code (issue 13): the original acomm package
// and provider-simple, the provider's own example, built from ../shared/upstream with
// Debian's golang-go, talking to Switchyard over real unix sockets in both directions:
//   Go acomm client  → Switchyard provider        results, errors, timeouts, streams, bad requests
//   Switchyard coordinator client → Go provider-simple   the same, plus priority fallback
//                                                        across Go and Switchyard providers
// and the gaps the issue found: integers beyond 2^53 exact both ways, Go's flag names on
// `switchyard provider run`, a request whose task differs from its socket's.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coordinatorClient, discoverProviders, provider, stream, type CoordinatorClient, type Provider } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { encodeFrame, exchange, decodeResponse, probeSocket } from '../../src/transports/unix/mod.js';
import { killAll, requireBuild, ROOT, start, waitFor, type Cli } from '../cli/cli-helpers.js';
import { rawExchange, shortTempDir } from '../provider/kit.js';
import { buildMistify, runGoClient, startProviderSimple, stopAllPeers, type MistifyBinaries, type PeerProcess } from '../support/mistify-peer.js';

const T = { timeout: 180_000 };
const quiet = createLogger({ level: 'silent' });
const INT64_MAX = '9223372036854775807';
const BEYOND_2_53 = '9007199254740993';

/** Waits until every task socket of a provider-simple process accepts connections. */
async function goReady(p: PeerProcess, sockets: readonly string[]): Promise<void> {
  await waitFor(() => `provider-simple to listen on ${sockets.join(', ')} (output: ${p.output()})`, async () => {
    for (const s of sockets) if (!existsSync(s) || (await probeSocket(s)) !== 'live') return false;
    return true;
  }, 20_000);
}

describe('mistify interop (real Go acomm + provider-simple)', T, () => {
  let go: MistifyBinaries;
  let tmp: { dir: string; remove(): Promise<void> };
  let ours: Provider;
  let client: CoordinatorClient;
  let hooks = 0;
  const goHook = () => join(tmp.dir, `gh${++hooks}.sock`);
  const seenArgs: unknown[] = [];

  before(async () => {
    tmp = await shortTempDir();
    const building = buildMistify();
    ours = provider({ service_name: 'sy', socket_dir: join(tmp.dir, 'our'), default_timeout: 10, tasks: { Limited: { timeout: 0.3 } } }, { logger: quiet });
    ours.registerTask('Echo', (req) => ({ args: req.args, task: req.task }));
    ours.registerTask('Fail', () => {
      throw new Error('the disk is full');
    });
    ours.registerTask('Limited', (_req, { signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'))));
    ours.registerTask('Sleep', async (req) => {
      await new Promise((r) => setTimeout(r, Number(req.args)));
      return 'slept';
    });
    ours.registerTask('Lines', (req) => stream([`line 1 of ${String((req.args as { name: string }).name)}\n`, 'line 2\n']));
    ours.registerTask('BigEcho', (req) => {
      const big = (req.args as { big: unknown }).big;
      seenArgs.push(big);
      return { big, back: BigInt(BEYOND_2_53) };
    });
    await ours.start();
    client = await coordinatorClient({ socketDir: join(tmp.dir, 'go'), timeoutMs: 5_000, logger: quiet });
    go = await building;
  });
  after(async () => {
    stopAllPeers();
    killAll();
    await client?.stop();
    await ours?.stop();
    await tmp?.remove();
    await go?.remove();
  });

  describe('Go acomm client → Switchyard provider', () => {
    const ask = (task: string, extra: string[] = [], socketTask = task) =>
      runGoClient(go.client, ['-socket', ours.taskSocketPath(socketTask), '-task', task, '-hook', goHook(), ...extra]);

    it('gets results, in order, for requests one after another', async () => {
      const lines = await ask('Echo', ['-args', '{"guest_id":"abc","n":[1,2.5,"x"]}', '-count', '5']);
      assert.equal(lines.length, 5);
      for (const l of lines) {
        assert.equal(l.ack_error, '');
        assert.equal(l.error, '');
        assert.deepEqual(l.result, { args: { guest_id: 'abc', n: [1, 2.5, 'x'] }, task: 'Echo' });
      }
      assert.equal(new Set(lines.map((l) => l.id)).size, 5);
    });

    it('gets a handler\'s error as the response error', async () => {
      const [l] = await ask('Fail');
      assert.equal(l!.ack_error, '');
      assert.equal(l!.error, 'the disk is full');
      assert.equal(l!.result, null);
    });

    it('gets SY_ERR_TASK_TIMEOUT when the task\'s time limit passes, and "response timeout" from its own tracker', async () => {
      const [limited] = await ask('Limited');
      assert.match(limited!.error, /^SY_ERR_TASK_TIMEOUT: task "Limited" did not finish within 300 ms/);
      const [late] = await ask('Sleep', ['-args', '1500', '-timeout', '300ms']);
      assert.equal(late!.ack_error, '');
      assert.equal(late!.error, 'response timeout');
    });

    it('reads a stream with acomm.Stream from the stream_url we answer', async () => {
      const [l] = await ask('Lines', ['-args', '{"name":"go"}', '-stream']);
      assert.equal(l!.error, '');
      assert.match(l!.stream_url, /^unix:\/\/\/.*\/streams\/Lines\/sy\/[0-9a-f-]+\.sock$/);
      assert.equal(l!.stream_error, '');
      assert.equal(l!.stream, 'line 1 of go\nline 2\n');
    });

    it('gets the original\'s "missing id" in the ack for a request without an id', async () => {
      const [l] = await ask('Echo', ['-noid']);
      assert.equal(l!.ack_error, 'missing id');
    });

    it('gap: a Go int64 beyond 2^53 arrives exact, and an integer beyond 2^53 goes back exact', async () => {
      const [l] = await ask('BigEcho', ['-bigint']);
      assert.equal(l!.error, '');
      assert.equal(l!.decode_error, undefined);
      assert.equal(seenArgs.at(-1), BigInt(INT64_MAX), 'the handler got the exact integer, as a bigint');
      assert.equal(l!.big, INT64_MAX, 'Go decoded the echoed int64 exactly');
      assert.equal(l!.back, BEYOND_2_53, 'Go decoded 9007199254740993 exactly');
    });

    it('gap: a request whose task differs from its socket\'s runs the socket\'s handler, as the Go provider does', async () => {
      const [l] = await ask('Other', ['-args', '1'], 'Echo');
      assert.equal(l!.ack_error, '');
      assert.equal(l!.error, '');
      assert.deepEqual(l!.result, { args: 1, task: 'Other' });
    });
  });

  describe('Switchyard coordinator client → Go provider-simple', () => {
    let simple: PeerProcess;
    const goSockets = (dir: string, service: string, priority: number) =>
      ['CPUInfo', 'DiskInfo', 'StreamEcho', 'DelayedResp', 'SystemStatus'].map((t) => join(dir, t, `${priority}-${service}.sock`));

    before(async () => {
      const dir = join(tmp.dir, 'go');
      simple = startProviderSimple(go.providerSimple, ['--service_name', 'simple', '--socket_dir', dir, '--coordinator_url', `unix://${dir}/coordinator/coordinator.sock`, '-l', 'fatal']);
      await goReady(simple, goSockets(dir, 'simple', 50));
    });
    after(() => simple?.kill('SIGKILL'));

    it('gets results in Go\'s shapes', async () => {
      const cpu = await client.request('CPUInfo', { guest_id: 'abc' });
      assert.deepEqual(cpu.result, [{ processor: 0, mhz: 2600 }, { processor: 1, mhz: 2600 }]);
      assert.equal(cpu.provider.service, 'simple');
      assert.equal(cpu.streamUrl, null);
      const disk = await client.request('DiskInfo', { guest_id: 'abc' });
      assert.deepEqual(disk.result, [{ Device: 'vda1', Size: 10 * 1024 ** 3 }]);
    });

    it('gets Go\'s errors as SY_ERR_TASK_FAILED with the original text', async () => {
      await assert.rejects(client.request('CPUInfo', {}), (err: Error & { code?: string }) => err.code === 'SY_ERR_TASK_FAILED' && /missing guest_id/.test(err.message));
      await assert.rejects(client.request('DelayedResp', { delay: -1 }), /delay must be positive/);
      // Args Go cannot decode into its struct: the handler's json error comes back.
      await assert.rejects(client.request('CPUInfo', { guest_id: 7 }), /json: cannot unmarshal number into Go (struct field|value)/);
    });

    it('times out on a response that comes too late, and gets one that comes in time', async () => {
      await assert.rejects(client.request('DelayedResp', { delay: 2 }, { timeoutMs: 300 }), (err: Error & { code?: string }) => err.code === 'SY_ERR_TASK_TIMEOUT');
      const r = await client.request('DelayedResp', { delay: 1 }, { timeoutMs: 5_000 });
      assert.equal((r.result as { delay: number }).delay, 1);
    });

    it('reads a Go stream (StreamEcho: the args bytes, unframed) from its stream_url in Go\'s URL form', async () => {
      const r = await client.request('StreamEcho', { s: 'héllo', list: [1, 2] });
      assert.match(r.streamUrl!, /^unix:\/\/\/.*\/streams\/StreamEcho\/simple\/\d+\.sock$/);
      assert.equal((await client.readStream(r.streamUrl!)).toString(), '{"s":"héllo","list":[1,2]}');
    });

    it('gap: an integer beyond 2^53 in args is written exact (StreamEcho echoes the bytes Go received)', async () => {
      const r = await client.request('StreamEcho', { n: BigInt(BEYOND_2_53), m: BigInt(INT64_MAX), small: 5 });
      assert.equal((await client.readStream(r.streamUrl!)).toString(), `{"n":${BEYOND_2_53},"m":${INT64_MAX},"small":5}`);
    });

    it('reads Go\'s refusals of malformed input: a body that is not JSON, and a request without a response hook', async () => {
      const path = join(tmp.dir, 'go', 'CPUInfo', '50-simple.sock');
      const notJson = decodeResponse(JSON.parse((await rawExchange(path, encodeFrame('{"id": nope'))).data.subarray(4).toString()));
      // Go's acceptRequest keeps only the last error: Validate() of the empty request after the failed decode.
      assert.deepEqual(notJson, { id: '', result: null, streamUrl: null, error: 'missing id' });
      const noHook = decodeResponse(await exchange(path, '{"id":"x1","task":"CPUInfo","responsehook":null,"args":{}}'));
      assert.deepEqual(noHook, { id: 'x1', result: null, streamUrl: null, error: 'missing response hook' });
    });

    it('gap parity: the Go provider also runs its socket\'s handler for a request naming another task', async () => {
      const dir = join(tmp.dir, 'go');
      const [l] = await runGoClient(go.client, ['-socket', join(dir, 'CPUInfo', '50-simple.sock'), '-task', 'DiskInfo', '-hook', goHook(), '-args', '{"guest_id":"a"}']);
      assert.deepEqual(l!.result, [{ processor: 0, mhz: 2600 }, { processor: 1, mhz: 2600 }]);
    });
  });

  describe('priority fallback across Go and Switchyard providers of one task', () => {
    it('serves from the highest priority, Go or ours, and falls back past a killed Go provider and a stopped one of ours', async () => {
      const dir = join(tmp.dir, 'mix');
      const cfg = join(tmp.dir, 'go-a.json');
      // The original's config file: tasks.{Name}.priority, read by viper.
      await writeFile(cfg, JSON.stringify({ service_name: 'go-a', coordinator_url: `unix://${dir}/coordinator.sock`, log_level: 'fatal', tasks: { CPUInfo: { priority: 90 } } }));
      const goA = startProviderSimple(go.providerSimple, ['--config_file', cfg, '--socket_dir', dir]);
      const goC = startProviderSimple(go.providerSimple, ['-n', 'go-c', '-s', dir, '-p', '10', '-u', `unix://${dir}/coordinator.sock`, '-l', 'fatal']);
      const mid = provider({ service_name: 'sy-b', socket_dir: dir, default_priority: 50 }, { logger: quiet });
      mid.registerTask('CPUInfo', () => [{ processor: 0, mhz: 1 }]);
      const mixed = await coordinatorClient({ socketDir: dir, timeoutMs: 5_000, discoveryCacheMs: 0, logger: quiet });
      try {
        await mid.start();
        await goReady(goA, [join(dir, 'CPUInfo', '90-go-a.sock')]);
        await goReady(goC, [join(dir, 'CPUInfo', '10-go-c.sock')]);
        assert.deepEqual((await mixed.discover('CPUInfo')).map((p) => `${p.priority}-${p.service}`), ['90-go-a', '50-sy-b', '10-go-c']);
        const served = async () => (await mixed.request('CPUInfo', { guest_id: 'g' })).provider.service;
        assert.equal(await served(), 'go-a');

        goA.kill('SIGKILL');
        await goA.exited;
        assert.ok(statSync(join(dir, 'CPUInfo', '90-go-a.sock')).isSocket(), 'the killed Go provider left its socket behind');
        for (let i = 0; i < 3; i++) assert.equal(await served(), 'sy-b');

        await mid.stop();
        assert.equal(await served(), 'go-c');

        goC.kill('SIGTERM');
        assert.equal((await goC.exited).code, 0);
        await assert.rejects(served(), (err: Error & { code?: string }) => err.code === 'SY_ERR_NO_PROVIDER');
      } finally {
        goA.kill();
        goC.kill();
        await mid.stop();
        await mixed.stop();
      }
    });
  });

  describe('one command line for both', () => {
    let ourCli: Cli | undefined;
    after(() => ourCli?.kill('SIGKILL'));

    it('gap: `switchyard provider run` takes Go\'s flag names (--service_name, --socket_dir, --config_file, …) as provider-simple does', async () => {
      requireBuild();
      const dir = join(tmp.dir, 'flags');
      const cfg = join(tmp.dir, 'flags.json');
      await writeFile(cfg, JSON.stringify({ coordinator_url: `unix://${dir}/coordinator.sock`, tasks: { CPUInfo: { priority: 70 } } }));
      const module = join(tmp.dir, 'cpu.mts');
      await writeFile(module, `import { defineProvider } from ${JSON.stringify(join(ROOT, 'dist', 'models', 'provider', 'mod.js'))};
export default defineProvider((p) => { p.registerTask('CPUInfo', () => [{ processor: 0, mhz: 3 }]); p.registerTask('DiskInfo', () => []); });
`);
      const goFlags = (name: string) => ['--config_file', cfg, '--service_name', name, '--socket_dir', dir, '--default_priority', '40', '--log_level', 'info', '--request_timeout', '3'];
      const goSimple = startProviderSimple(go.providerSimple, goFlags('go-f'));
      ourCli = start(['provider', 'run', module, ...goFlags('sy-f')], { cwd: tmp.dir });
      await waitFor(() => `our provider to start (stderr: ${ourCli!.stderr()})`, () => ourCli!.stdout().includes('serving') || ourCli!.hasExited());
      assert.equal(ourCli.hasExited(), false, ourCli.stderr());
      await goReady(goSimple, [join(dir, 'CPUInfo', '70-go-f.sock'), join(dir, 'DiskInfo', '40-go-f.sock')]);
      const listing = async (task: string) => (await discoverProviders(dir, task)).map((p) => `${p.priority}-${p.service}`);
      assert.deepEqual(await listing('CPUInfo'), ['70-go-f', '70-sy-f']);
      assert.deepEqual(await listing('DiskInfo'), ['40-go-f', '40-sy-f']);
      goSimple.kill('SIGTERM');
      ourCli.kill('SIGTERM');
      assert.equal((await ourCli.exited).code, 0);
      await goSimple.exited;
    });
  });
});
