// What a peer of a provider controls, bounded (issue 17): the reply of an http(s) response
// hook it names, where responses may go (response_hook_allow), how many stream sockets it
// can leave unread (max_open_streams), how many log lines its bad frames write, and whether
// a request it abandons before the ack still runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { coordinatorClient, provider, stream, type Provider } from '../../src/models/provider/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { encodeFrame, encodeRequest } from '../../src/transports/unix/mod.js';
import { frameJson, hook, rawExchange, shortTempDir } from './kit.js';

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;

/** A logger whose lines are kept, parsed. */
function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { log, lines };
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('provider hardening', T, () => {
  let tmp: { dir: string; remove(): Promise<void> };
  const servers: Server[] = [];
  const providers: Provider[] = [];
  const ask = async (p: Provider, task: string, hookUrl: string, id = `r${Math.random()}`) =>
    frameJson((await rawExchange(p.taskSocketPath(task), encodeFrame(encodeRequest({ id, task, responseHook: hookUrl, args: null })))).data) as { id: string; error: string };

  before(async () => {
    tmp = await shortTempDir();
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    for (const p of providers) await p.stop();
    await tmp?.remove();
  });

  it('an http(s) response hook answering 200 MB costs bounded memory: the reply is read up to 64 KiB and cut', async () => {
    let written = 0;
    let cut = false;
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < 200 * MiB) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (cut = written < 200 * MiB));
      pump();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const { log, lines } = capturingLogger();
    const p = provider({ service_name: 'mem', socket_dir: join(tmp.dir, 'mem') }, { logger: log });
    p.registerTask('Echo', () => 'ok');
    providers.push(await p.start());

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      assert.equal((await ask(p, 'Echo', `http://127.0.0.1:${port}/hook`)).error, '');
      await waitUntil('the hook delivery to end', () => lines.some((l) => /hook/.test(String(l.msg))), 60_000);
    } finally {
      clearInterval(sampler);
    }
    const grew = (peak - baseline) / MiB;
    console.log(`provider: a 200 MB hook reply: rss +${grew.toFixed(1)} MiB (peak), the hook wrote ${(written / MiB).toFixed(1)} MiB before it was cut`);
    assert.equal(requests, 1);
    const warning = lines.find((l) => /could not deliver the response to its hook/.test(String(l.msg)));
    assert.match(String(warning?.err), /reply longer than 65536 bytes \(the rest was not read\)/);
    await waitUntil('the hook connection to be cut', () => cut, 5_000);
    assert.ok(written < 64 * MiB, `the provider stopped reading: the hook wrote ${(written / MiB).toFixed(1)} MiB`);
    assert.ok(grew < 64, `rss grew ${grew.toFixed(1)} MiB reading a 200 MB reply (before the cap: +565 MiB)`);
  });

  it('response_hook_allow: a hook outside the list is refused in the ack, nothing runs and nothing connects; one inside is served', async () => {
    const allowed = join(tmp.dir, 'ok');
    let ran = 0;
    let httpHits = 0;
    const server = createServer((req, res) => {
      httpHits++;
      req.resume();
      res.end('{"id":"","error":""}');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const p = provider({ service_name: 'al', socket_dir: join(tmp.dir, 'al'), response_hook_allow: [`unix:${allowed}`, 'hooks.example.com'] }, { logger: createLogger({ level: 'silent' }) });
    p.registerTask('Run', () => ++ran);
    providers.push(await p.start());

    const inside = await hook(join(allowed, 'h.sock'));
    const outside = await hook(join(tmp.dir, 'out.sock'));
    try {
      assert.equal((await ask(p, 'Run', inside.listener.url, 'in-1')).error, '');
      assert.deepEqual((await inside.next()).result, 1);

      const refused = await ask(p, 'Run', outside.listener.url, 'out-1');
      assert.equal(refused.id, 'out-1');
      assert.match(refused.error, /^SY_ERR_OUTBOUND_REFUSED: response hook unix:\/\/.*out\.sock is not in the allow-list response_hook_allow; add its host, network or unix: socket folder to response_hook_allow/);
      const refusedHttp = await ask(p, 'Run', `http://127.0.0.1:${port}/hook`, 'out-2');
      assert.match(refusedHttp.error, /^SY_ERR_OUTBOUND_REFUSED: response hook http:\/\/127\.0\.0\.1:\d+\/hook is not in the allow-list/);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(ran, 1, 'refused requests never ran');
      assert.equal(outside.received.length, 0, 'nothing was sent to the refused unix hook');
      assert.equal(httpHits, 0, 'no connection was made to the refused http hook');
    } finally {
      await inside.listener.close();
      await outside.listener.close();
    }
    assert.throws(() => provider({ service_name: 'x', response_hook_allow: ['unix:relative/dir'] }), /SY_ERR_SETTINGS: .*provider.response_hook_allow \(from code\): has an entry that cannot be used/);
  });

  it('max_open_streams: stream answers past the cap of unread stream sockets are refused; reading one frees a place', async () => {
    const p = provider({ service_name: 'st', socket_dir: join(tmp.dir, 'st'), max_open_streams: 5, stream_idle_timeout: 30 }, { logger: createLogger({ level: 'silent' }) });
    p.registerTask('Bytes', () => stream('some bytes'));
    providers.push(await p.start());
    const client = await coordinatorClient({ socketDir: join(tmp.dir, 'st'), timeoutMs: 5_000 });
    try {
      const fdsBefore = openFds();
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => client.request('Bytes')));
      const ok = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<typeof client.request>>> => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      const fdsHeld = openFds() - fdsBefore;
      console.log(`provider: 50 stream answers nobody reads, max_open_streams 5: ${ok.length} served, ${refused.length} refused, +${fdsHeld} descriptors held`);
      assert.equal(ok.length, 5);
      assert.equal(refused.length, 45);
      assert.match(String(refused[0]!.reason.message), /SY_ERR_LIMIT_EXCEEDED: the stream answer of task "Bytes" \(5 stream sockets are open and unread\) is over the limit of 5 and was refused; if it is legitimate, raise max_open_streams/);
      assert.equal(readdirSync(join(tmp.dir, 'st', 'streams', 'Bytes', 'st')).length, 5);
      assert.ok(fdsHeld <= 10, `${fdsHeld} descriptors held for 5 unread streams`);

      assert.equal((await client.readStream(ok[0]!.value.streamUrl!)).toString(), 'some bytes');
      await waitUntil('a stream place to free', () => readdirSync(join(tmp.dir, 'st', 'streams', 'Bytes', 'st')).length === 4);
      const again = await client.request('Bytes');
      assert.equal((await client.readStream(again.streamUrl!)).toString(), 'some bytes');
    } finally {
      await client.stop();
    }
  });

  it('bad frames write a bounded number of log lines, and say how many were suppressed', async () => {
    const { log, lines } = capturingLogger();
    const p = provider({ service_name: 'bf', socket_dir: join(tmp.dir, 'bf') }, { logger: log, peerWarnings: { burst: 3, windowMs: 60_000 } });
    p.registerTask('Echo', () => 'ok');
    providers.push(await p.start());
    for (let i = 0; i < 100; i++) {
      const reply = frameJson((await rawExchange(p.taskSocketPath('Echo'), encodeFrame('{"id": nope'))).data) as { error: string };
      assert.match(reply.error, /SY_ERR_FRAME: bad acomm frame: the 11-byte body is not JSON/, 'every bad frame is still answered');
    }
    const badFrameLines = () => lines.filter((l) => l.msg === 'bad frame on a task socket; answered and closed').length;
    console.log(`provider: 100 bad frames wrote ${badFrameLines()} warning line(s)`);
    assert.equal(badFrameLines(), 3);
    await p.stop();
    assert.ok(lines.some((l) => l.suppressed === 97 && l.key === 'bad-frame:not-json'), 'the suppressed count is written on stop');
  });

  it('a request whose requester hung up before the ack never runs (it may have been offered to another provider)', async () => {
    let ran = 0;
    const p = provider({ service_name: 'hu', socket_dir: join(tmp.dir, 'hu') }, { logger: createLogger({ level: 'silent' }) });
    p.registerTask('Count', () => ++ran);
    providers.push(await p.start());
    const h = await hook(join(tmp.dir, 'hu.sock'));
    try {
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = connect(p.taskSocketPath('Count'));
          s.on('error', reject);
          s.on('connect', () => {
            s.write(encodeFrame(encodeRequest({ id: `gone-${i}`, task: 'Count', responseHook: h.listener.url, args: null })));
            s.destroy();
            resolve();
          });
        });
      }
      // A request whose requester stays for the ack runs: the provider is serving.
      assert.equal((await ask(p, 'Count', h.listener.url, 'stays')).error, '');
      await h.next();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(ran, 1, `${ran - 1} abandoned request(s) ran`);
    } finally {
      await h.listener.close();
    }
  });
});
