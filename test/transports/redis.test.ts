// The shared conformance suite against a real redis-server started for this file, then
// the rules only Redis has: reclaim from a killed consumer, stream bounds, server restarts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { transportConformance } from '../conformance/transport-conformance.js';
import { RedisTransport, groupQueueOf } from '../../src/transports/redis/mod.js';
import { createLogger } from '../../src/observability/logger.js';
import { redisInstalled, startRedis, suiteRedis, type RedisServer } from '../support/redis-server.js';
import { DEAD_LETTER_HEADERS, deadLetterQueueOf, type Delivery } from '../../src/transports/transport.js';
import { decodeFrame, encodeFrame, entryFields, parseEntry } from '../../src/transports/redis/entry.js';

let server: RedisServer | undefined;

if (!redisInstalled()) throw new Error('redis-server is not installed: apt-get install -y redis-server (or run npm test, which installs it)');

if (redisInstalled()) {
  transportConformance('redis', {
    async create() {
      server = await startRedis();
      const t = new RedisTransport({ url: server.url, logger: createLogger({ level: 'silent' }) });
      await t.start();
      return t;
    },
    async teardown() {
      await server?.destroy();
    },
  });
}

const silent = () => createLogger({ level: 'silent' });
const text = (d: { body: Uint8Array }) => Buffer.from(d.body).toString('utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const unique = (what: string) => `redis-${what}-${process.pid}-${n++}`;

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > ms) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(5);
  }
}

/** A logger whose lines are kept, to check what an operator would read (SY_TEST_DEBUG=1 also prints them, at debug). */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const debug = Boolean(process.env.SY_TEST_DEBUG);
  const write = (line: string) => {
    lines.push(line);
    if (debug) process.stderr.write(line);
  };
  return { logger: createLogger({ level: debug ? 'debug' : 'info', destination: { write } }), lines };
}

describe('redis transport options', () => {
  it('refuses an option that is not a positive number, naming it', () => {
    assert.throws(() => new RedisTransport({ reclaimIdleMs: 0 }), /SY_ERR_REDIS_OPTION: Redis transport option reclaimIdleMs = 0 is not valid/);
    assert.throws(() => new RedisTransport({ topicMaxLength: Number.NaN }), /topicMaxLength/);
  });
});

describe('redis entries and frames', () => {
  it('a stream entry keeps body, headers and attempt; empty headers and attempt 1 take no field', () => {
    const plain = entryFields(Buffer.from('x'), {});
    assert.equal(plain.length, 2);
    const fields = entryFields(Uint8Array.from([0, 255, 10]), { a: '1' }, 3).map((f) => Buffer.from(f));
    assert.deepEqual(parseEntry(fields), { body: Buffer.from([0, 255, 10]), headers: { a: '1' }, attempt: 3 });
    assert.equal(parseEntry(null), undefined);
  });

  it('a request frame round-trips and a foreign payload is refused', () => {
    const frame = encodeFrame({ h: { k: 'v' }, r: 'reply-key', t: 100, s: 1 }, Buffer.from('body'));
    const decoded = decodeFrame(frame)!;
    assert.deepEqual(decoded.head, { h: { k: 'v' }, r: 'reply-key', t: 100, s: 1 });
    assert.equal(decoded.body.toString(), 'body');
    assert.equal(decodeFrame(Buffer.from('{"not":"a frame"}')), undefined);
  });
});

if (redisInstalled()) {
  describe('redis transport: reclaim and bounds', () => {
    const redis = suiteRedis();

    it('entries held by a killed consumer are reclaimed after reclaimIdleMs, flagged redelivered', { timeout: 30_000 }, async () => {
      const q = unique('reclaim');
      const t = new RedisTransport({ url: redis.server.url, logger: silent(), reclaimIdleMs: 300 });
      await t.start();
      for (let i = 0; i < 5; i++) await t.send(q, { body: Buffer.from(`r${i}`) });
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/transports/fixtures/redis-holder.ts', redis.server.url, q, '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('held 5')) resolve(); });
          child.once('exit', (code) => reject(new Error(`holder exited (${code}) before holding 5`)));
          setTimeout(() => reject(new Error('holder did not hold 5 within 15 s')), 15_000).unref();
        });
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      assert.equal(Number((await redis.raw.xpending(`sy:q:${q}`, 'switchyard'))[0]), 5, 'the killed consumer held all five');
      const got: Delivery[] = [];
      const sub = await t.consume(q, async (d) => { got.push(d); await d.ack(); }, { prefetch: 10 });
      await until('5 reclaimed deliveries', () => got.length >= 5);
      await sub.stop();
      await t.close();
      assert.deepEqual(got.map(text).sort(), ['r0', 'r1', 'r2', 'r3', 'r4']);
      assert.ok(got.every((d) => d.redelivered && d.attempt === 2), JSON.stringify(got.map((d) => d.attempt)));
      assert.equal(Number((await redis.raw.xpending(`sy:q:${q}`, 'switchyard'))[0]), 0, 'nothing left pending');
      // The killed consumer's name goes once it holds nothing and was not seen for 3 × max(reclaimIdleMs, blockMs).
      const pruner = new RedisTransport({ url: redis.server.url, logger: silent(), reclaimIdleMs: 100, blockMs: 100 });
      await pruner.start();
      await sleep(350);
      const sub2 = await pruner.consume(q, async (d) => { await d.ack(); }, { prefetch: 1 });
      let names: string[] = [];
      for (let i = 0; i < 100; i++) {
        names = ((await redis.raw.xinfo('CONSUMERS', `sy:q:${q}`, 'switchyard')) as string[][]).map((c) => c[1]!);
        if (names.every((name) => name.includes(`:${process.pid}:`))) break;
        await sleep(10);
      }
      await sub2.stop();
      await pruner.close();
      assert.ok(names.every((name) => name.includes(`:${process.pid}:`)), `the killed consumer's name is still there: ${names.join(', ')}`);
    });

    it('a live consumer whose handler outlasts reclaimIdleMs keeps its delivery', { timeout: 20_000 }, async () => {
      const q = unique('slow');
      const a = new RedisTransport({ url: redis.server.url, logger: silent(), reclaimIdleMs: 150, reclaimIntervalMs: 30 });
      const b = new RedisTransport({ url: redis.server.url, logger: silent(), reclaimIdleMs: 150, reclaimIntervalMs: 30 });
      await Promise.all([a.start(), b.start()]);
      await a.send(q, { body: Buffer.from('slow') });
      const onA: string[] = [];
      const onB: string[] = [];
      let ackError: unknown;
      const subA = await a.consume(q, async (d) => {
        onA.push(text(d));
        await sleep(700); // several idle times
        await d.ack().catch((err: unknown) => (ackError = err));
      }, { prefetch: 1 });
      await until('a delivery on A', () => onA.length === 1);
      const subB = await b.consume(q, async (d) => { onB.push(text(d)); await d.ack(); }, { prefetch: 1 });
      await subA.stop();
      await sleep(200);
      await subB.stop();
      await Promise.all([a.close(), b.close()]);
      assert.deepEqual(onA, ['slow']);
      assert.deepEqual(onB, [], 'B took the message from a live consumer');
      assert.equal(ackError, undefined);
    });

    it('a topic stream stays bounded near topicMaxLength (MAXLEN ~)', { timeout: 20_000 }, async () => {
      const topic = unique('bounded');
      const t = new RedisTransport({ url: redis.server.url, logger: silent(), topicMaxLength: 100 });
      await t.start();
      const got: string[] = [];
      const sub = await t.subscribe(topic, 'g', async (d) => { got.push(text(d)); await d.ack(); }, { prefetch: 50 });
      for (let i = 0; i < 2000; i++) await t.publish(topic, { body: Buffer.from(String(i)) });
      const length = await redis.raw.xlen(`sy:t:${topic}`);
      await until('the last message', () => got.includes('1999'));
      await sub.stop();
      await t.close();
      // Trimming is by whole stream nodes (100 entries each by default): about, never below, the bound.
      assert.ok(length >= 100 && length <= 300, `stream length ${length} for a bound of 100`);
    });

    it('a listener group retries and dead-letters on a queue of its own; other groups are not touched', { timeout: 20_000 }, async () => {
      const topic = unique('group-retry');
      const t = new RedisTransport({ url: redis.server.url, logger: silent(), delayPollMs: 20 });
      await t.start();
      const a: Delivery[] = [];
      const b: string[] = [];
      const subA = await t.subscribe(topic, 'a', async (d) => {
        a.push(d);
        if (d.attempt === 1) await d.nack({ requeue: true, delayMs: 100 });
        else await d.nack({ requeue: false, reason: 'second failure' });
      }, { prefetch: 4 });
      const subB = await t.subscribe(topic, 'b', async (d) => { b.push(text(d)); await d.ack(); }, { prefetch: 4 });
      await t.publish(topic, { body: Buffer.from('evt'), headers: { 'x-k': 'v' } });
      await until('two deliveries to group a', () => a.length >= 2);
      const dead: Delivery[] = [];
      const dsub = await t.consume(deadLetterQueueOf(groupQueueOf(topic, 'a')), async (d) => { dead.push(d); await d.ack(); }, { prefetch: 1 });
      await until('the dead letter', () => dead.length >= 1);
      await sleep(50);
      await Promise.all([subA.stop(), subB.stop(), dsub.stop()]);
      await t.close();
      assert.deepEqual(a.map((d) => [text(d), d.attempt, d.redelivered, d.queue]), [
        ['evt', 1, false, groupQueueOf(topic, 'a')],
        ['evt', 2, true, groupQueueOf(topic, 'a')],
      ]);
      assert.deepEqual(b, ['evt'], 'group b saw the retry of group a');
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.reason], 'second failure');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.sourceQueue], groupQueueOf(topic, 'a'));
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.attempts], '2');
      assert.equal(dead[0]!.headers['x-k'], 'v');
      assert.equal(await redis.raw.exists(`sy:qd:${groupQueueOf(topic, 'a')}`, `sy:qdd:${groupQueueOf(topic, 'a')}`), 0, 'delay keys left behind');
    });

    it('a stopped consumer leaves no consumer name behind; stop() returns at once though its read was blocked', { timeout: 20_000 }, async () => {
      const q = unique('names');
      const t = new RedisTransport({ url: redis.server.url, logger: silent(), blockMs: 60_000 });
      await t.start();
      const sub = await t.consume(q, async (d) => { await d.ack(); }, { prefetch: 2 });
      await sleep(50); // its XREADGROUP now blocks for up to a minute
      await sub.stop(); // bounded by the test timeout: CLIENT UNBLOCK ends the read
      const consumers = (await redis.raw.xinfo('CONSUMERS', `sy:q:${q}`, 'switchyard')) as unknown[];
      await t.close();
      assert.equal(consumers.length, 0);
    });

    it('a request to nobody times out naming the subject, and its request list expires', { timeout: 20_000 }, async () => {
      const subject = unique('nobody');
      const t = new RedisTransport({ url: redis.server.url, logger: silent() });
      await t.start();
      await assert.rejects(t.request(subject, { body: Buffer.from('x') }, { timeoutMs: 200 }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_REQUEST_TIMEOUT');
        assert.match(err.message, new RegExp(subject));
        return true;
      });
      await t.close();
      let expired = false;
      for (let i = 0; i < 200 && !expired; i++) {
        expired = (await redis.raw.exists(`sy:rpc:${subject}`)) === 0;
        if (!expired) await sleep(10);
      }
      assert.ok(expired, 'the request nobody took stayed in Redis');
    });

    it('more concurrent requests than maxWaitingRequests take turns and are all answered', { timeout: 20_000 }, async () => {
      const subject = unique('turns');
      const t = new RedisTransport({ url: redis.server.url, logger: silent(), maxWaitingRequests: 3 });
      await t.start();
      const sub = await t.serve(subject, async (req) => { await sleep(5); return { body: Buffer.from(`re:${text(req)}`) }; });
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => t.request(subject, { body: Buffer.from(String(i)) }, { timeoutMs: 10_000 })));
      const clients = ((await redis.raw.client('LIST')) as string).split('\n').filter((l) => l.includes('cmd=blpop')).length;
      await sub.stop();
      await t.close();
      assert.deepEqual(replies.map(text), Array.from({ length: 30 }, (_, i) => `re:${i}`));
      assert.ok(clients <= 3, `${clients} connections last waited on a reply`);
    });

    it('a reply that comes after its requester gave up expires instead of staying', { timeout: 20_000 }, async () => {
      const subject = unique('late');
      const t = new RedisTransport({ url: redis.server.url, logger: silent() });
      await t.start();
      let answered = false;
      const sub = await t.serve(subject, async () => { await sleep(300); answered = true; return { body: Buffer.from('late') }; });
      await assert.rejects(t.request(subject, { body: Buffer.from('x') }, { timeoutMs: 100 }), /SY_ERR_REQUEST_TIMEOUT/);
      await until('the late answer', () => answered);
      await sleep(20);
      const replies = async () => (await redis.raw.keys('sy:reply:*')).length;
      assert.equal(await replies(), 1, 'the late reply was not written');
      assert.ok((await redis.raw.pttl((await redis.raw.keys('sy:reply:*'))[0]!)) > 0, 'the late reply has no expiry');
      await sub.stop();
      await t.close();
    });

    it('a queue key some other program made, of another type, fails naming the key and the fix', { timeout: 10_000 }, async () => {
      const q = unique('foreign');
      await redis.raw.set(`sy:q:${q}`, 'not a stream');
      const t = new RedisTransport({ url: redis.server.url, logger: silent() });
      await t.start();
      await assert.rejects(t.consume(q, () => undefined, { prefetch: 1 }), /SY_ERR_BROKER: .*sy:q:.*is not a stream.*keyPrefix/);
      await t.close();
    });

    it('stopping a busy consumer mid-stream and starting another loses nothing and duplicates nothing (queue and group)', { timeout: 30_000 }, async () => {
      const t = new RedisTransport({ url: redis.server.url, logger: silent() });
      await t.start();
      for (const kind of ['queue', 'group'] as const) {
        const name = unique(`handover-${kind}`);
        const TOTAL = 600;
        const seen = new Map<string, number>();
        const handler = async (d: Delivery) => {
          const key = text(d);
          seen.set(key, (seen.get(key) ?? 0) + 1);
          await sleep(Math.random() * 2);
          // Every fifth one fails once (handed back, redelivered later).
          if (Number(key) % 5 === 0 && d.attempt === 1) throw new Error('first try fails');
          await d.ack();
        };
        const start = () => (kind === 'queue' ? t.consume(name, handler, { prefetch: 32 }) : t.subscribe(name, 'g', handler, { prefetch: 32 }));
        const first = await start();
        for (let i = 0; i < TOTAL; i++) {
          if (kind === 'queue') await t.send(name, { body: Buffer.from(String(i)) });
          else await t.publish(name, { body: Buffer.from(String(i)) });
        }
        await until('a third handled', () => seen.size >= TOTAL / 3);
        await first.stop();
        const second = await start();
        const done = () => [...seen.keys()].length === TOTAL;
        await until(`all ${TOTAL} on the second consumer (${kind})`, done, 20_000);
        await sleep(100); // a duplicate would show up now
        await second.stop();
        const failedOnce = [...seen].filter(([k]) => Number(k) % 5 === 0);
        const others = [...seen].filter(([k]) => Number(k) % 5 !== 0);
        assert.ok(others.every(([, c]) => c === 1), `${kind}: duplicates ${JSON.stringify(others.filter(([, c]) => c > 1).slice(0, 5))}`);
        assert.ok(failedOnce.every(([, c]) => c === 2), `${kind}: failed-once messages not seen exactly twice ${JSON.stringify(failedOnce.filter(([, c]) => c !== 2).slice(0, 5))}`);
      }
      await t.close();
    });

    it('a consume racing close() ends stopped or refused, never reading on a closed connection', { timeout: 10_000 }, async () => {
      const { logger, lines } = capturingLogger();
      const t = new RedisTransport({ url: redis.server.url, logger });
      await t.start();
      const [consumed] = await Promise.allSettled([t.consume(unique('race'), () => undefined, { prefetch: 1 }), t.close()]);
      if (consumed.status === 'rejected') assert.match(String(consumed.reason), /SY_ERR_TRANSPORT_CLOSED/);
      await sleep(500);
      assert.equal(lines.filter((l) => l.includes('reading from Redis failed')).length, 0, lines.join(''));
    });

    it('start() fails naming the server, without the password, when Redis is not there', { timeout: 20_000 }, async () => {
      const t = new RedisTransport({ url: 'redis://:hunter2@127.0.0.1:1', logger: silent() });
      await assert.rejects(t.start(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_BROKER');
        assert.match(err.message, /127\.0\.0\.1:1/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      });
    });
  });

  describe('redis transport: credentials', () => {
    it('a wrong password fails start() naming the server, never the password', { timeout: 20_000 }, async () => {
      const guarded = await startRedis({ password: 's3cret-pw' });
      try {
        const ok = new RedisTransport({ url: guarded.url, logger: silent() });
        await ok.start();
        await ok.send(unique('auth'), { body: Buffer.from('x') });
        await ok.close();
        const wrongUrl = guarded.url.replace('s3cret-pw', 'wrong-pw-123');
        const lines: string[] = [];
        const t = new RedisTransport({ url: wrongUrl, logger: createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } }) });
        await assert.rejects(t.start(), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'SY_ERR_BROKER');
          assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${guarded.port}`));
          assert.doesNotMatch(err.message, /wrong-pw-123|s3cret-pw/);
          return true;
        });
        assert.ok(lines.every((l) => !l.includes('wrong-pw-123')), 'the password reached a log line');
      } finally {
        await guarded.destroy();
      }
    });
  });

  describe('redis transport: server restart', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedis({ appendOnly: true });
    });
    after(async () => {
      await redis?.destroy();
    });

    it('a Redis killed and restarted mid-stream loses nothing: every sent message is received (duplicates counted)', { timeout: 60_000 }, async () => {
      const q = unique('restart');
      const { logger, lines } = capturingLogger();
      const t = new RedisTransport({ url: redis.url, logger, reclaimIdleMs: 2_000, blockMs: 500 });
      await t.start();
      const received = new Map<string, number>();
      const sub = await t.consume(q, async (d) => {
        received.set(text(d), (received.get(text(d)) ?? 0) + 1);
        await d.ack();
      }, { prefetch: 16 });
      // 16 senders at once: with appendfsync always Redis syncs once per batch, not per message.
      const TOTAL = 2_000;
      const pidBefore = redis.pid;
      let sendRetries = 0;
      let next = 0;
      let restarted: Promise<void> | undefined;
      const sender = async () => {
        for (let i = next++; i < TOTAL; i = next++) {
          if (i === 700) restarted = redis.restart({ kill: true });
          for (;;) {
            try {
              await t.send(q, { body: Buffer.from(String(i)) });
              break;
            } catch {
              sendRetries++; // not confirmed: send again (a duplicate at worst)
              await sleep(50);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, sender));
      await restarted;
      await until(`all ${TOTAL} messages`, () => received.size >= TOTAL, 40_000);
      await sub.stop();
      await t.close();
      const duplicates = [...received.values()].reduce((s, c) => s + c - 1, 0);
      console.log(`# restart: sent ${TOTAL}, received ${received.size} distinct, ${duplicates} duplicates, ${sendRetries} send retries`);
      assert.notEqual(redis.pid, pidBefore, 'the server was not restarted');
      for (let i = 0; i < TOTAL; i++) assert.ok(received.has(String(i)), `message ${i} was lost`);
      assert.ok(lines.some((l) => l.includes('lost the connection to Redis')), 'no log line on disconnect');
      assert.ok(lines.some((l) => l.includes('reconnected to Redis')), 'no log line on reconnect');
    });

    it('a Redis restarted without its data: consumers create their group again and go on', { timeout: 30_000 }, async () => {
      const volatile = await startRedis(); // no append-only file: a restart empties it
      try {
        const q = unique('lost-data');
        const { logger, lines } = capturingLogger();
        const t = new RedisTransport({ url: volatile.url, logger, blockMs: 300 });
        await t.start();
        const got: string[] = [];
        const sub = await t.consume(q, async (d) => { got.push(text(d)); await d.ack(); }, { prefetch: 4 });
        await t.send(q, { body: Buffer.from('before') });
        await until('the first message', () => got.length === 1);
        await volatile.restart();
        // Sends may meet the server still starting: retry until one lands.
        for (let i = 0; i < 100; i++) {
          if (await t.send(q, { body: Buffer.from('after') }).then(() => true, () => false)) break;
          await sleep(50);
        }
        await until('the message sent after the restart', () => got.includes('after'), 15_000);
        await sub.stop();
        await t.close();
        assert.ok(lines.some((l) => l.includes('consumer group is gone')), 'no log line about the lost group');
      } finally {
        await volatile.destroy();
      }
    });

    it('a request while Redis is down fails within its timeout; once back, requests are served again', { timeout: 30_000 }, async () => {
      const subject = unique('rpc-down');
      const t = new RedisTransport({ url: redis.url, logger: silent(), blockMs: 500 });
      await t.start();
      const sub = await t.serve(subject, (req) => ({ body: Buffer.from(`re:${text(req)}`) }));
      assert.equal(text(await t.request(subject, { body: Buffer.from('a') }, { timeoutMs: 2_000 })), 're:a');
      const impatient = new RedisTransport({ url: redis.url, logger: silent(), redis: { maxRetriesPerRequest: 1 } });
      await impatient.start();
      await redis.stop();
      await assert.rejects(t.request(subject, { body: Buffer.from('b') }, { timeoutMs: 300 }), (err: Error & { code?: string }) => {
        assert.ok(err.code === 'SY_ERR_REQUEST_TIMEOUT' || err.code === 'SY_ERR_BROKER', String(err.code));
        assert.match(err.message, new RegExp(subject));
        return true;
      });
      // A send Redis did not confirm fails naming the queue and what to do.
      await assert.rejects(impatient.send('unreachable-q', { body: Buffer.from('x') }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_BROKER');
        assert.match(err.message, /send to queue "unreachable-q".*send it again/);
        return true;
      });
      await impatient.close();
      await redis.start();
      let reply: string | undefined;
      for (let i = 0; i < 50 && reply === undefined; i++) {
        reply = await t.request(subject, { body: Buffer.from('c') }, { timeoutMs: 1_000 }).then(text, () => undefined);
      }
      await sub.stop();
      await t.close();
      assert.equal(reply, 're:c');
    });
  });
}
