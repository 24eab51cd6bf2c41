// The commands that look at a system, run as a user runs them (the built bin): topology
// pictures from a system map or a components file; queues and dead letters of a real
// Redis (list, peek, retry, discard) and of a running process through its dashboard;
// the standalone dashboard serving a map's topology. `--help` loads none of it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/logger.js';
import { Observer } from '../../src/observability/observer.js';
import { startDashboard } from '../../src/runtime/dashboard/start-dashboard.js';
import { MemoryDeadLetters } from '../../src/transports/memory/memory-dead-letters.js';
import { MemoryTransport } from '../../src/transports/memory/memory-transport.js';
import { RedisTransport } from '../../src/transports/redis/redis-transport.js';
import { redisInstalled, startRedis, type RedisServer } from '../support/redis-server.js';
import { exitCodeFor } from '../../src/errors.js';
import { topologyCommand } from '../../src/cli/commands/topology.js';
import { actOnDeadLetters, listDeadLetters, listQueues, peekDeadLetters } from '../../src/cli/commands/dead-letters.js';
import { openAccess, type Access, type AccessFlags } from '../../src/cli/dead-letter-access.js';
import { killAll, requireBuild, runCli, start, waitFor } from './cli-helpers.js';

const PIPELINE = 'examples/text-pipeline';

/** Runs a command's function in-process (the argument parsing is covered by the bin runs below), collecting its lines. */
async function inProcess(fn: (out: (line: string) => void) => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // topology writes a picture to stdout without --out: take it too.
  process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const code = await fn((line) => lines.push(`${line}\n`));
    return { code, stdout: lines.join(''), stderr: '' };
  } catch (err) {
    return { code: exitCodeFor(err), stdout: lines.join(''), stderr: (err as Error).message };
  } finally {
    process.stdout.write = write;
  }
}

const topology = (input: string, flags: { format?: string; out?: string }) => inProcess((out) => topologyCommand(input, flags, out));

async function deadLetters(flags: AccessFlags, fn: (access: Access, out: (line: string) => void) => Promise<number>) {
  return inProcess(async (out) => {
    const access = await openAccess(flags);
    try {
      return await fn(access, out);
    } finally {
      await access.tool.close();
    }
  });
}

describe('switchyard topology', () => {
  before(requireBuild);
  after(killAll);

  it('mermaid and dot hold every service and queue, with the case values on the routes', async () => {
    const mermaid = await runCli(['topology', PIPELINE, '--format', 'mermaid']); // once through the bin: flags as a user types them
    assert.equal(mermaid.code, 0, mermaid.stderr);
    for (const service of ['ingest', 'classify', 'answer', 'summarize']) assert.match(mermaid.stdout, new RegExp(`"${service}<br/>`));
    assert.match(mermaid.stdout, /-- "classify-in \[true\]" -->/);
    assert.match(mermaid.stdout, /-- "summaries-long \[1\]" -->/);
    assert.match(mermaid.stdout, /\(\["empty-inputs"\]\)/, 'an end queue is drawn');
    const dot = await topology(PIPELINE, { format: 'dot' });
    assert.match(dot.stdout, /"worker:classify" -> "worker:answer" \[label="answer-in \[question\]"\]/);
  });

  it('svg: a standalone picture laid out by dagre, written to a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-topology-'));
    try {
      const file = join(dir, 'pipeline.svg');
      const r = await topology(PIPELINE, { out: file });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /9 nodes, 8 edges/);
      const svg = await readFile(file, 'utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal(svg.match(/<g class="node"/g)?.length, 4);
      assert.equal(svg.match(/<path class="edge"/g)?.length, 8);
      assert.match(svg, /summarize-in \[statement\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a components file: any model\'s edges plug in; a bad one is named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-topology-'));
    try {
      const file = join(dir, 'system.yaml');
      await writeFile(file, [
        'components:',
        '  - { model: api, service: calc, transport: redis, inputs: [{ kind: rpc, name: calc.add }], outputs: [{ kind: event, name: calc.added }] }',
        '  - { model: api, service: audit, transport: redis, inputs: [{ kind: event, name: calc.added }] }',
        '  - { model: task, service: stats, transport: http, inputs: [{ kind: http, name: POST /compute }] }',
      ].join('\n'));
      const r = await topology(file, { format: 'dot' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /"api:calc" -> "api:audit" \[label="calc.added"\]/);
      assert.match(r.stdout, /"channel:POST \/compute" -> "task:stats"/);
      await writeFile(file, 'components:\n  - { model: robot, service: x }\n');
      const bad = await topology(file, {});
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /SY_ERR_TOPOLOGY_INPUT: .*components\.0\.model/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--help loads none of these commands\' code: no dashboard server, layout library or dead-letter client', async () => {
    const r = await runCli(['--help'], { env: { NODE_DEBUG: 'module,esm' } });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /dead-letters/);
    assert.match(r.stdout, /topology/);
    for (const module of ['node_modules/@dagrejs', 'dist/runtime/dashboard/start-dashboard.js', 'dist/observability/dashboard/layout.js',
      'dist/transports/redis/redis-dead-letters.js', 'dist/transports/amqp/amqp-dead-letters.js', 'dist/cli/commands/dashboard.js']) {
      assert.ok(!r.stderr.includes(module), `${module} was loaded by --help`);
    }
  });
});

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server (or run npm test, which installs it)');

describe('switchyard queues / dead-letters on Redis', () => {
  let server: RedisServer;
  let transport: RedisTransport;
  before(async () => {
    requireBuild();
    server = await startRedis();
    transport = new RedisTransport({ url: server.url, logger: createLogger({ level: 'silent' }), blockMs: 200 });
    await transport.start();
  });
  after(async () => {
    killAll();
    await transport?.close();
    await server?.destroy();
  });

  it('lists, peeks, retries one back to its queue and discards the rest', async () => {
    const flags: AccessFlags = { transport: 'redis', redisUrl: server.url };
    await transport.declareQueue('uper-in');
    let accept = false;
    const got: string[] = [];
    const sub = await transport.consume('uper-in', async (d) => {
      if (!accept) return d.nack({ requeue: false, reason: 'handler failed 5 times: boom' });
      got.push(Buffer.from(d.body).toString());
      await d.ack();
    }, { prefetch: 1 });
    try {
      for (const id of ['11', '12', '13']) await transport.send('uper-in', { body: Buffer.from(id) });
      await waitFor('three dead letters', async () => (await deadLetters(flags, (a, out) => listDeadLetters(a.tool, false, out))).stdout.includes('      3'));
      const queues = await deadLetters(flags, (a, out) => listQueues(a, false, out));
      assert.equal(queues.code, 0, queues.stderr);
      assert.match(queues.stdout, /uper-in\s+0\s+1\s+3/);
      const peek = await deadLetters(flags, (a, out) => peekDeadLetters(a.tool, 'uper-in', 20, true, out));
      const letters = JSON.parse(peek.stdout) as Array<{ id: string; reason: string; preview: string; attempts: number; source: string }>;
      assert.deepEqual(letters.map((l) => [l.preview, l.reason, l.attempts, l.source]), [
        ['11', 'handler failed 5 times: boom', 1, 'uper-in'], ['12', 'handler failed 5 times: boom', 1, 'uper-in'], ['13', 'handler failed 5 times: boom', 1, 'uper-in']]);
      const text = await runCli(['dead-letters', 'peek', 'uper-in', '--limit', '1', '--transport', 'redis', '--redis-url', server.url]);
      assert.match(text.stdout, /reason: handler failed 5 times: boom\n {2}body \(2 bytes\): 11/);
      accept = true;
      const retry = await deadLetters(flags, (a, out) => actOnDeadLetters(a.tool, 'retry', 'uper-in', [letters[0]!.id], false, out));
      assert.equal(retry.code, 0, retry.stderr);
      await waitFor('the retried message consumed', () => got.length === 1);
      assert.deepEqual(got, ['11']);
      const again = await deadLetters(flags, (a, out) => actOnDeadLetters(a.tool, 'retry', 'uper-in', [letters[0]!.id], false, out));
      assert.equal(again.code, 1, 'a dead letter that is gone is reported');
      assert.match(again.stdout, /no such dead letter/);
      const both = await deadLetters(flags, (a, out) => actOnDeadLetters(a.tool, 'discard', 'uper-in', [letters[1]!.id], true, out));
      assert.equal(both.code, 2, 'ids and --all together are a usage error');
      const discard = await deadLetters(flags, (a, out) => actOnDeadLetters(a.tool, 'discard', 'uper-in', [], true, out));
      assert.match(discard.stdout, /discarded 2 dead letter/);
      assert.match((await deadLetters(flags, (a, out) => listDeadLetters(a.tool, false, out))).stdout, /no dead letters \(redis\)/);
    } finally {
      await sub.stop();
    }
  });

  it('the Redis probe tells a listener group\'s lag on a topic and a queue\'s depth', async () => {
    const { RedisDeadLetters } = await import('../../src/transports/redis/redis-dead-letters.js');
    const group = await transport.subscribe('prices', 'audit', async (d) => d.ack(), { prefetch: 1 });
    await group.stop(); // the group stays, and falls behind
    for (const p of ['1', '2', '3']) await transport.publish('prices', { body: Buffer.from(p) });
    await transport.send('waiting-q', { body: Buffer.from('x') });
    await transport.declareQueue('waiting-q');
    const d = new RedisDeadLetters({ url: server.url });
    try {
      const figures = await d.probe().probe([{ name: 'prices', kind: 'topic' }, { name: 'waiting-q', kind: 'queue' }]);
      assert.equal(figures.get('prices')?.lag, 3);
      assert.equal(figures.get('waiting-q')?.depth, 1);
    } finally {
      await d.close();
    }
  });

  it('the memory transport is reached through the running process\'s dashboard; without one and no process hosting the state folder\'s broker, the error names the fix', async () => {
    const memory = new MemoryTransport();
    await memory.start();
    await memory.declareQueue('ingest-in');
    const sub = await memory.consume('ingest-in', (d) => d.nack({ requeue: false, reason: 'bad id' }), { prefetch: 1 });
    const dashboard = await startDashboard({ observer: new Observer(), deadLetters: [new MemoryDeadLetters(memory)] });
    try {
      await memory.send('ingest-in', { body: Buffer.from('x') });
      const via: AccessFlags = { dashboard: dashboard.url };
      await waitFor('the dead letter listed', async () => /ingest-in\s+1/.test((await deadLetters(via, (a, out) => listDeadLetters(a.tool, false, out))).stdout));
      const peek = await runCli(['dead-letters', 'peek', 'ingest-in', '--dashboard', dashboard.url]);
      assert.match(peek.stdout, /reason: bad id/);
      const none = await deadLetters({ transport: 'memory', stateDir: join(tmpdir(), `sy-no-broker-${process.pid}`) }, (a, out) => listDeadLetters(a.tool, false, out));
      assert.equal(none.code, 2);
      assert.match(none.stderr, /SY_ERR_NO_LOCAL_BROKER: .*sy-no-broker-\d+: start `switchyard run` or `switchyard dev`/);
    } finally {
      await dashboard.close();
      await sub.stop();
      await memory.close();
    }
  });

  it('switchyard dashboard serves a map\'s topology with the broker\'s dead letters', async () => {
    const cli = start(['dashboard', PIPELINE, '--port', '0', '--transport', 'redis', '--redis-url', server.url]);
    try {
      const url = await waitFor(() => `the dashboard address in: ${cli.stdout()} ${cli.stderr()}`, () => /dashboard at (http:\/\/\S+)/.exec(cli.stdout())?.[1]);
      const snapshot = (await (await fetch(`${url}/api/snapshot`)).json()) as { nodes: Array<{ id: string }>; edges: unknown[] };
      assert.equal(snapshot.nodes.filter((n) => n.id.startsWith('worker:')).length, 4);
      assert.equal(snapshot.edges.length, 8);
      const dead = (await (await fetch(`${url}/api/dead-letters`)).json()) as { transports: string[] };
      assert.deepEqual(dead.transports, ['redis']);
    } finally {
      cli.kill('SIGINT');
      await cli.exited;
    }
  });
});
