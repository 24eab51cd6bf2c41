// A worker beside an unchanged slingshot deployment, on a real RabbitMQ. The slingshot
// side is a raw amqplib client doing exactly what slingshot's lapin code does
// (SPECS.md §1.1, §1.5): queue.declare with default flags (durable=false, exclusive=false,
// auto_delete=false, no arguments) for its inbound and every outbound queue, consume with
// manual ack, publish on the default exchange with no properties. Its configuration
// service is a plain HTTP server answering GET /{service} only, as slingshot's sys-map does.
//
// Both start orders are tried (issue 13): whichever starts second must find the queues
// usable. Then a peer's hostile `x-switchyard-attempt` headers (issue 17 #1).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { createConfigSource, createTransport } from '../../src/cli/environment.js';
import { loadSettings } from '../../src/cli/settings.js';
import { createLogger } from '../../src/observability/logger.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { AmqpTransport } from '../../src/transports/amqp/mod.js';
import { startWorker, worker, type WorkerComponent } from '../../src/models/worker/mod.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { observerLog } from '../../src/observability/observer-log.js';
import { Writable } from 'node:stream';
import { requireRabbitMq, startRabbitMq, type RabbitMq } from '../support/rabbitmq-server.js';
import { DIST_INDEX, killAll, requireBuild, start, tempDir, waitFor } from '../cli/cli-helpers.js';

requireRabbitMq();

const T = { timeout: 60_000 };
const silent = createLogger({ level: 'silent' });

/** What lapin's `queue_declare(name, QueueDeclareOptions::default(), FieldTable::default())` sends. */
const SLINGSHOT_DECLARE = { durable: false, exclusive: false, autoDelete: false } as const;

describe('worker beside slingshot services on RabbitMQ', () => {
  let broker: RabbitMq;
  let raw: ChannelModel;
  let sysMap: Server;
  let sysMapUrl: string;
  let tmp: { dir: string; remove(): Promise<void> };
  /** service → its GET /{service} answer, as slingshot's sys-map serves it. */
  const services = new Map<string, unknown>();
  /** Workers and transports still open if a test failed half-way; closed in `after`. */
  const open = new Set<{ stop(): Promise<void> } | { close(): Promise<void> }>();
  const closing = async (thing: { stop(): Promise<void> } | { close(): Promise<void> }) => {
    open.delete(thing);
    await ('stop' in thing ? thing.stop() : thing.close()).catch(() => undefined);
  };

  before(async () => {
    tmp = await tempDir('sy-slingshot-peers-');
    sysMap = createServer((req, res) => {
      const answer = services.get(decodeURIComponent((req.url ?? '/').slice(1)));
      if (answer === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => sysMap.listen(0, '127.0.0.1', r));
    sysMapUrl = `http://127.0.0.1:${(sysMap.address() as AddressInfo).port}`;
    broker = await startRabbitMq();
    raw = await connect(broker.url);
  });
  after(async () => {
    killAll();
    // A transport left open would reconnect forever once the broker is gone.
    for (const thing of [...open].reverse()) await closing(thing);
    await raw?.close().catch(() => undefined);
    await broker?.destroy();
    await new Promise((r) => sysMap?.close(r));
    await tmp?.remove();
  });

  /** A slingshot service starting: declares its queues as lapin does. Rejects on a 406. */
  async function slingshotDeclares(queues: readonly string[]): Promise<void> {
    const ch = await raw.createChannel();
    ch.on('error', () => undefined);
    try {
      for (const q of queues) await ch.assertQueue(q, SLINGSHOT_DECLARE);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Whether a queue accepts a declaration with these flags (a 406 means it has others). */
  async function declarable(queue: string, options: { durable: boolean; arguments?: Record<string, unknown> }): Promise<boolean> {
    const ch = await raw.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.assertQueue(queue, { ...SLINGSHOT_DECLARE, ...options });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 406) return false;
      throw err;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Whether a queue exists (a passive declare, which creates nothing). */
  async function exists(queue: string): Promise<boolean> {
    const ch = await raw.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.checkQueue(queue);
      return true;
    } catch {
      return false;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** The next `count` bodies on `queue`, acked, as a slingshot consumer takes them. */
  async function take(queue: string, count: number, ms = 15_000): Promise<string[]> {
    const ch = await raw.createChannel();
    const got: string[] = [];
    try {
      const { consumerTag } = await ch.consume(queue, (m: ConsumeMessage | null) => {
        if (!m) return;
        got.push(m.content.toString('utf8'));
        ch.ack(m);
      });
      await waitFor(`${count} message(s) on ${queue} (got ${got.length})`, () => got.length >= count, ms);
      await ch.cancel(consumerTag);
      return got;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** The next `count` messages on `queue`, acked. */
  async function takeMessages(queue: string, count: number, ms: number): Promise<ConsumeMessage[]> {
    const ch = await raw.createChannel();
    const got: ConsumeMessage[] = [];
    try {
      const { consumerTag } = await ch.consume(queue, (m: ConsumeMessage | null) => {
        if (!m) return;
        got.push(m);
        ch.ack(m);
      });
      await waitFor(`${count} message(s) on ${queue} (got ${got.length})`, () => got.length >= count, ms);
      await ch.cancel(consumerTag);
      return got;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Publishes as slingshot does: default exchange, routing key = queue, no properties. */
  async function slingshotPublishes(queue: string, bodies: readonly string[]): Promise<void> {
    const ch = await raw.createConfirmChannel();
    try {
      for (const b of bodies) ch.publish('', queue, Buffer.from(b, 'utf8'));
      await ch.waitForConfirms();
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** `switchyard run … --config-host` as a library call: settings → config source → worker. */
  async function startFromConfigHost(name: string, flags: Record<string, unknown> = {}): Promise<{ w: WorkerComponent; t: AmqpTransport }> {
    const settings = loadSettings({ configHost: sysMapUrl, transport: 'amqp', amqpUrl: broker.url, ...flags }, {});
    const t = new AmqpTransport({ url: broker.url, logger: silent });
    await t.start();
    open.add(t);
    const w = await startWorker(worker(name, (id) => [[id * 10n, true]]), {
      transport: t, store: new FsObjectStore({ root: join(tmp.dir, name) }), config: await createConfigSource(settings), logger: silent,
    });
    open.add(w);
    return { w, t };
  }

  it('slingshot declared the queues first: a worker from --config-host uses them as they are', T, async () => {
    services.set('after-slingshot', { in: 'sa-in', out: [{ case: true, queues: ['sa-out'] }] });
    await slingshotDeclares(['sa-in', 'sa-out']); // the upstream service (sa-in is its outbound) and the downstream one
    const { w, t } = await startFromConfigHost('after-slingshot');
    try {
      await slingshotPublishes('sa-in', ['4', ' 5\n']);
      assert.deepEqual((await take('sa-out', 2)).sort(), ['40', '50']);
      // A slingshot service restarting declares them again, still without a conflict.
      await slingshotDeclares(['sa-in', 'sa-out']);
    } finally {
      await closing(w);
      await closing(t);
    }
  });

  it('the worker started first: slingshot services declare the same queues afterwards without a conflict', T, async () => {
    services.set('before-slingshot', { in: 'sb-in', out: [{ case: true, queues: ['sb-out'] }] });
    const { w, t } = await startFromConfigHost('before-slingshot');
    try {
      // Before the fix the worker declared them durable, and this failed with 406 PRECONDITION_FAILED.
      await slingshotDeclares(['sb-in', 'sb-out']);
      await slingshotPublishes('sb-in', ['7']);
      assert.deepEqual(await take('sb-out', 1), ['70']);
    } finally {
      await closing(w);
      await closing(t);
    }
  });

  it('`switchyard send` to a queue nobody declared yet declares it as slingshot does', T, async () => {
    const t = await createTransport(loadSettings({ transport: 'amqp', amqpUrl: broker.url }, {}), async () => { throw new Error('unused'); }, silent);
    await t.start();
    open.add(t);
    try {
      await t.send('ss-first-sent', { body: Buffer.from('3') });
      await slingshotDeclares(['ss-first-sent']); // before: durable, and this was a 406
      assert.deepEqual(await take('ss-first-sent', 1), ['3']);
    } finally {
      await closing(t);
    }
  });

  it('queue defaults from flags: `run --queue-durable true --queue-arguments` declares them so, and strictly', T, async () => {
    requireBuild();
    services.set('flagged', { in: 'sf-in', out: [{ case: true, queues: ['sf-out'] }] });
    const module = join(tmp.dir, 'flagged.mjs');
    await writeFile(module, `import { worker } from ${JSON.stringify(DIST_INDEX)};\nexport default worker('flagged', (id) => [[id + 1n, true]]);\n`);
    const cli = start(['run', module, '--config-host', sysMapUrl, '--transport', 'amqp', '--amqp-url', broker.url,
      '--storage-dir', join(tmp.dir, 'flagged-store'), '--state-dir', join(tmp.dir, 'flagged-state'),
      '--queue-durable', 'true', '--queue-arguments', '{"x-max-length": 1000}']);
    try {
      await waitFor(() => `the worker to start\n${cli.stdout()}\n${cli.stderr()}`, () => cli.hasExited() ? Promise.reject(new Error(`exited early:\n${cli.stdout()}\n${cli.stderr()}`)) : /worker started/.test(cli.stdout()), 30_000);
      assert.equal(await declarable('sf-in', { durable: true, arguments: { 'x-max-length': 1000 } }), true, 'declared durable with the arguments');
      assert.equal(await declarable('sf-in', { durable: false }), false, 'slingshot\'s flags now conflict: the operator chose durable queues');
      await slingshotPublishes('sf-in', ['41']);
      assert.deepEqual(await take('sf-out', 1), ['42']);
    } finally {
      cli.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('hostile x-switchyard-attempt headers: each message gets its bounded tries with backoff, the good one behind is served, logs stay small', T, async () => {
    services.set('guarded', { in: 'ah-in', out: [{ case: true, queues: ['ah-out'] }] });
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } }) });
    const t = new AmqpTransport({ url: broker.url, logger });
    await t.start();
    open.add(t);
    const tries = new Map<bigint, number>();
    const events: ObserverEvent[] = [];
    const observer = new Observer();
    observerLog(observer, logger, { handledAt: () => 'info' });
    observer.listen((e) => void events.push(e));
    const w = await startWorker(worker('guarded', (id) => {
      tries.set(id, (tries.get(id) ?? 0) + 1);
      if (id >= 100n) throw new Error(`message ${id} always fails`);
      return [[id, true]];
    }, { retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 200 } }), {
      transport: t, store: new FsObjectStore({ root: join(tmp.dir, 'guarded') }), logger,
      config: await createConfigSource(loadSettings({ configHost: sysMapUrl }, {})),
      observer,
    });
    open.add(w);
    // Each failing id carries one hostile header; id 1 behind them must still be served.
    const hostile: Array<[string, Record<string, unknown>]> = [
      ['100', { 'x-switchyard-attempt': '-Infinity' }],
      ['101', { 'x-switchyard-attempt': -1000000000 }],
      ['102', { 'x-switchyard-attempt': '1e400' }],
      ['103', { 'x-switchyard-attempt': 1.5 }],
      ['104', { 'x-switchyard-attempt': 'abc', 'x-delivery-count': -5 }],
      ['105', { 'x-switchyard-attempt': { nested: true } }],
      ['106', { 'x-switchyard-attempt': 0 }],
      ['107', { 'x-switchyard-attempt': '99999999999999999999' }],
      ['108', { 'x-switchyard-attempt': 9_000_000_000_000 }],
    ];
    const ch = await raw.createConfirmChannel();
    try {
      for (const [body, headers] of hostile) ch.publish('', 'ah-in', Buffer.from(body), { headers });
      ch.publish('', 'ah-in', Buffer.from('1'));
      await ch.waitForConfirms();
      assert.deepEqual(await take('ah-out', 1, 20_000), ['1'], 'the good message behind the hostile ones is served');
      const dead = await takeMessages('ah-in.dead-letter', hostile.length, 30_000);
      assert.deepEqual(dead.map((m) => m.content.toString()).sort(), hostile.map(([b]) => b).sort(), 'every hostile message is dead-lettered');
      for (const m of dead) assert.equal(String(m.properties.headers?.['x-switchyard-attempts']), '3', `${m.content.toString()} dead-lettered after 3 attempts`);
      for (const [body] of hostile) assert.equal(tries.get(BigInt(body)), 3, `${body} was tried exactly 3 times`);
      const received = events.filter((e) => e.type === 'received');
      assert.ok(received.every((e) => e.type === 'received' && e.attempt >= 1 && e.attempt <= 3), `attempts stay in 1..3: ${received.map((e) => e.type === 'received' && e.attempt).join(',')}`);
      const failed = events.filter((e) => e.type === 'failed');
      assert.equal(failed.length, hostile.length * 2, 'two retried failures per message; the third attempt is dead-lettered');
      assert.ok(failed.every((e) => e.type === 'failed' && e.retryInMs !== undefined && e.retryInMs >= 50), 'every retry waits');
    } finally {
      await closing(w);
      await closing(t);
      await ch.close().catch(() => undefined);
    }
    // 9 messages × 2 failures + 9 dead letters + the good one's line and a few rate-limited header warnings.
    assert.ok(lines.length <= 60, `${lines.length} log lines:\n${lines.slice(0, 20).join('\n')}`);
  });

  it('after a broker restart took the non-durable queues, the worker declares them again as slingshot does and consumes', { timeout: 120_000 }, async () => {
    services.set('restarted', { in: 'sr-in', out: [{ case: true, queues: ['sr-out'] }] });
    await slingshotDeclares(['sr-in', 'sr-out']);
    const t = new AmqpTransport({ url: broker.url, logger: silent, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
    await t.start();
    open.add(t);
    const w = await startWorker(worker('restarted', (id) => [[id + 1n, true]]), {
      transport: t, store: new FsObjectStore({ root: join(tmp.dir, 'restarted') }), logger: silent,
      config: await createConfigSource(loadSettings({ configHost: sysMapUrl }, {})),
    });
    open.add(w);
    await raw.close().catch(() => undefined);
    await broker.stop();
    await broker.start();
    raw = await connect(broker.url);
    try {
      // Non-durable queues do not survive a restart; the worker's reconnect declares them again
      // with slingshot's flags, so a slingshot service coming back declares them without a conflict.
      await waitFor('sr-in declared again by the worker', () => exists('sr-in'), 30_000, 250);
      assert.equal(await declarable('sr-in', { durable: false }), true, 'declared with slingshot\'s flags');
      await slingshotDeclares(['sr-in', 'sr-out']);
      await waitFor('the worker consuming sr-in again', async () => {
        const ch = await raw.createChannel();
        try {
          return (await ch.checkQueue('sr-in')).consumerCount === 1;
        } finally {
          await ch.close().catch(() => undefined);
        }
      }, 30_000, 250);
      await slingshotPublishes('sr-in', ['8']);
      assert.deepEqual(await take('sr-out', 1), ['9']);
    } finally {
      await closing(w);
      await closing(t);
    }
  });
});

