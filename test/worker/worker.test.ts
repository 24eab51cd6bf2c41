import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { worker, type CaseResult } from '../../src/models/worker/mod.js';
import { DEAD_LETTER_HEADERS } from '../../src/transports/transport.js';
import { readAll } from '../../src/storage/mod.js';
import { harness } from './harness.js';
import { parseSysMap, MapConfigSource } from '../../src/config/sysmap.js';
import { createLogger } from '../../src/observability/logger.js';
import { Observer, type ObserverEvent } from '../../src/observability/observer.js';
import { FsObjectStore } from '../../src/storage/fs/mod.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';
import { startWorker } from '../../src/models/worker/mod.js';

const T = { timeout: 15_000 };

const PIPE = `
services:
  copy:
    in: copy-in
    out:
      - { case: ok, queues: [done-a, done-b] }
      - { case: other, queues: [done-c] }
    buckets: { src: inputs, dst: outputs, extra: extras }
`;

const TYPED = `
services:
  typed:
    in: typed-in
    out:
      - { case: true, queues: [q-bool] }
      - { case: 1, queues: [q-int] }
      - { case: "1", queues: [q-str] }
      - { case: 18446744073709551615, queues: [q-big] }
`;

const fast = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5, jitter: 0 };

describe('worker', () => {
  it('reads, writes, routes and acks: outputs stored, ids on every queue of the case, inbound empty', T, async () => {
    const h = await harness(PIPE);
    try {
      await h.store.putBytes('inputs', '7', 'hello');
      await h.start(worker('copy', async (id, { readFile, writeFile }) => {
        const text = await (await readFile('src', id)).text();
        await (await writeFile('dst', id)).write(text.toUpperCase());
        return [[id, 'ok'], [id + 1n, 'other']];
      }));
      await h.transport.send('copy-in', { body: Buffer.from('7') });
      await h.until(() => h.bodies('done-c').length === 1);
      assert.deepEqual(h.bodies('done-a'), ['7']);
      assert.deepEqual(h.bodies('done-b'), ['7']);
      assert.deepEqual(h.bodies('done-c'), ['8']);
      assert.equal((await readAll(await h.store.get('outputs', '7'))).toString(), 'HELLO');
      assert.deepEqual(h.bodies('copy-in'), []);
      assert.equal(h.transport.activity().inFlight, 0);
    } finally {
      await h.close();
    }
  });

  it('keeps the order process → upload → publish → ack, even when uploads are slow', T, async () => {
    const h = await harness(PIPE, { stagingMemoryBytes: 0 });
    try {
      h.store.delayMs = 40;
      await h.start(worker('copy', async (id, { writeFile }) => {
        await (await writeFile('dst', id)).write('a');
        await (await writeFile('extra', id)).write('b');
        h.journal.push(`process-returned ${id}`);
        return [[id, 'ok'], [id, 'other']];
      }));
      await h.transport.send('copy-in', { body: Buffer.from('5') });
      await h.until(() => h.journal.some((l) => l.startsWith('ack copy-in')));
      const j = h.journal.filter((l) => !l.startsWith('send copy-in'));
      const last = (prefix: string) => Math.max(...j.map((l, i) => (l.startsWith(prefix) ? i : -1)));
      const first = (prefix: string) => j.findIndex((l) => l.startsWith(prefix));
      assert.equal(j.filter((l) => l.startsWith('uploaded')).length, 2, j.join(' | '));
      assert.equal(j.filter((l) => l.startsWith('send')).length, 3, j.join(' | '));
      assert.ok(first('process-returned') < first('uploaded'), j.join(' | '));
      assert.ok(last('uploaded') < first('send'), `a result was published before its upload finished: ${j.join(' | ')}`);
      assert.ok(last('send') < first('ack'), `acked before publishing: ${j.join(' | ')}`);
      assert.ok(!j.some((l) => l.startsWith('send') && l.includes('staging present')), `published before the staging was deleted: ${j.join(' | ')}`);
    } finally {
      await h.close();
    }
  });

  it('publishes nothing for a message whose upload failed, retries it, and succeeds later', T, async () => {
    const h = await harness(PIPE, { stagingMemoryBytes: 0 });
    try {
      h.store.failNext = 2;
      let calls = 0;
      await h.start(worker('copy', async (id, { writeFile }) => {
        calls++;
        await (await writeFile('dst', id)).write('x');
        return [[id, 'ok']];
      }, { retry: fast }));
      await h.transport.send('copy-in', { body: Buffer.from('9') });
      await h.until(() => h.bodies('done-a').length > 0);
      assert.equal(calls, 3);
      assert.deepEqual(h.bodies('done-a'), ['9']);
      const firstSend = h.journal.findIndex((l) => l.startsWith('send done-'));
      const lastFailure = h.journal.map((l) => l.startsWith('upload-failed')).lastIndexOf(true);
      assert.ok(lastFailure < firstSend, h.journal.join(' | '));
      assert.deepEqual(await readdir(h.stagingRoot), [], 'staging folders left behind');
    } finally {
      await h.close();
    }
  });

  it('retries a failing message with its attempt number, then dead-letters it with the error; others flow', T, async () => {
    const h = await harness(PIPE);
    try {
      const attempts: number[] = [];
      const redelivered: boolean[] = [];
      const reachable: unknown[] = [];
      await h.start(worker('copy', async (id, context) => {
        // The message's delivery is the worker's: process cannot ack or nack it behind its back.
        reachable.push((context as unknown as Record<string, unknown>).delivery);
        if (id === 13n) {
          // Read after an await too: the context reports its own delivery's, whatever came since.
          await new Promise((r) => setImmediate(r));
          attempts.push(context.attempt);
          redelivered.push(context.redelivered);
          throw new Error('unlucky thirteen');
        }
        return [[id, 'ok']];
      }, { retry: fast, concurrency: 2 }));
      for (const id of ['13', '1', '2', '3']) await h.transport.send('copy-in', { body: Buffer.from(id) });
      await h.until(() => h.bodies('copy-in.dead-letter').length === 1 && h.bodies('done-a').length === 3);
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.deepEqual(redelivered, [false, true, true]);
      assert.deepEqual(reachable.filter((d) => d !== undefined), []);
      const dead = h.transport.peek('copy-in.dead-letter')[0]!;
      assert.equal(Buffer.from(dead.body).toString(), '13');
      assert.equal(dead.headers[DEAD_LETTER_HEADERS.sourceQueue], 'copy-in');
      assert.match(dead.headers[DEAD_LETTER_HEADERS.reason]!, /unlucky thirteen/);
      assert.match(dead.headers[DEAD_LETTER_HEADERS.reason]!, /3 time/);
      assert.deepEqual(h.bodies('done-a').sort(), ['1', '2', '3']);
      const deadEvent = h.events.find((e) => e.type === 'dead-lettered');
      assert.equal(deadEvent?.type === 'dead-lettered' && deadEvent.reasonKind, 'max_attempts');
    } finally {
      await h.close();
    }
  });

  it('dead-letters bad ids with the reason; process never sees them; good ones with whitespace pass', T, async () => {
    const h = await harness(PIPE);
    try {
      const seen: bigint[] = [];
      await h.start(worker('copy', async (id) => {
        seen.push(id);
        return [[id, 'ok']];
      }));
      const bad = ['', 'abc', '-1', '18446744073709551616', '1.5', '0x10'];
      for (const body of bad) await h.transport.send('copy-in', { body: Buffer.from(body) });
      await h.transport.send('copy-in', { body: Uint8Array.from([0x31, 0xff, 0x32]) });
      await h.transport.send('copy-in', { body: Buffer.from(' 42\n') });
      await h.transport.send('copy-in', { body: Buffer.from('18446744073709551615') });
      await h.until(() => h.bodies('copy-in.dead-letter').length === 7 && seen.length === 2);
      assert.deepEqual(seen, [42n, 18446744073709551615n]);
      assert.deepEqual(h.bodies('done-a'), ['42', '18446744073709551615']);
      const reasons = h.transport.peek('copy-in.dead-letter').map((m) => m.headers[DEAD_LETTER_HEADERS.reason]!);
      assert.match(reasons[0]!, /empty/);
      assert.match(reasons[1]!, /not a non-negative decimal integer/);
      assert.match(reasons[3]!, /above 2\^64-1/);
      assert.match(reasons[6]!, /UTF-8/);
      assert.ok(reasons.every((r) => r.startsWith('SY_ERR_BAD_ID')));
    } finally {
      await h.close();
    }
  });

  it('routes typed cases: true, 1 and "1" are three different routes; 1 and 1n are one', T, async () => {
    const h = await harness(TYPED);
    try {
      await h.start(worker('typed', async () => [
        [1n, true], [2n, 1], [3n, '1'], [4n, 1n], [5n, 18446744073709551615n],
      ] as CaseResult[]));
      await h.transport.send('typed-in', { body: Buffer.from('0') });
      await h.until(() => h.bodies('q-big').length === 1);
      assert.deepEqual(h.bodies('q-bool'), ['1']);
      assert.deepEqual(h.bodies('q-int'), ['2', '4']);
      assert.deepEqual(h.bodies('q-str'), ['3']);
      assert.deepEqual(h.bodies('q-big'), ['5']);
    } finally {
      await h.close();
    }
  });

  it('dead-letters a message with an unrouted case and publishes none of its results', T, async () => {
    const h = await harness(TYPED);
    try {
      await h.start(worker('typed', async (id) => [[id, true], [id, false]]));
      await h.transport.send('typed-in', { body: Buffer.from('3') });
      await h.until(() => h.bodies('typed-in.dead-letter').length === 1);
      assert.deepEqual(h.bodies('q-bool'), []);
      const reason = h.transport.peek('typed-in.dead-letter')[0]!.headers[DEAD_LETTER_HEADERS.reason]!;
      assert.match(reason, /SY_ERR_NO_ROUTE.*case false/);
    } finally {
      await h.close();
    }
  });

  it('with unroutedCases "drop" skips only the unrouted results', T, async () => {
    const h = await harness(TYPED);
    try {
      await h.start(worker('typed', async (id) => [[id, true], [id, 'nowhere']], { unroutedCases: 'drop' }));
      await h.transport.send('typed-in', { body: Buffer.from('3') });
      await h.until(() => h.events.some((e) => e.type === 'handled'));
      assert.deepEqual(h.bodies('q-bool'), ['3']);
      // Only the routed result is reported produced; the dropped one is a warning in the log.
      const ok = h.events.find((e) => e.type === 'handled');
      assert.deepEqual(ok?.type === 'handled' && ok.produced, [{ output: 'q-bool', id: '3', label: 'true' }]);
    } finally {
      await h.close();
    }
  });

  it('accepts an array, a generator, an async generator or nothing from process', T, async () => {
    const shapes = {
      array: async (id: bigint) => [[id, 1]] as CaseResult[],
      generator: function* (id: bigint) { yield [id, 1] as const; },
      asyncGenerator: async function* (id: bigint) { yield [id, 1] as const; },
      nothing: async () => undefined,
    };
    for (const [shape, process] of Object.entries(shapes)) {
      const h = await harness(TYPED);
      try {
        await h.start(worker('typed', process));
        await h.transport.send('typed-in', { body: Buffer.from('11') });
        await h.until(() => h.events.some((e) => e.type === 'handled'));
        assert.deepEqual(h.bodies('q-int'), shape === 'nothing' ? [] : ['11'], shape);
      } finally {
        await h.close();
      }
    }
  });

  it('rejects an invalid result (negative id, float case) and retries, then dead-letters', T, async () => {
    const h = await harness(TYPED);
    try {
      await h.start(worker('typed', async (id) => (id === 1n ? [[-1, true]] : [[id, 2.5]]) as CaseResult[], { retry: { ...fast, maxAttempts: 1 } }));
      await h.transport.send('typed-in', { body: Buffer.from('1') });
      await h.transport.send('typed-in', { body: Buffer.from('2') });
      await h.until(() => h.bodies('typed-in.dead-letter').length === 2);
      const reasons = h.transport.peek('typed-in.dead-letter').map((m) => m.headers[DEAD_LETTER_HEADERS.reason]!);
      assert.ok(reasons.some((r) => /SY_ERR_BAD_RESULT/.test(r) && /-1/.test(r)), reasons.join(' | '));
      assert.ok(reasons.some((r) => /SY_ERR_BAD_CASE/.test(r) && /2\.5/.test(r)), reasons.join(' | '));
    } finally {
      await h.close();
    }
  });

  it('processes up to `concurrency` messages at once', T, async () => {
    const h = await harness(TYPED);
    try {
      let now = 0;
      let peak = 0;
      await h.start(worker('typed', async (id) => {
        peak = Math.max(peak, ++now);
        await new Promise((r) => setTimeout(r, 20));
        now--;
        return [[id, 1]];
      }, { concurrency: 4 }));
      for (let i = 0; i < 16; i++) await h.transport.send('typed-in', { body: Buffer.from(String(i)) });
      await h.until(() => h.bodies('q-int').length === 16);
      assert.equal(peak, 4);
    } finally {
      await h.close();
    }
  });

  it('stop() lets the message in flight finish: its output is published and it is acked', T, async () => {
    const h = await harness(TYPED);
    try {
      let started = false;
      const w = await h.start(worker('typed', async (id) => {
        started = true;
        await new Promise((r) => setTimeout(r, 100));
        return [[id, 1]];
      }));
      await h.transport.send('typed-in', { body: Buffer.from('77') });
      await h.until(() => started);
      await w.stop();
      assert.deepEqual(h.bodies('q-int'), ['77']);
      assert.deepEqual(h.bodies('typed-in'), []);
      assert.ok(h.journal.includes('ack typed-in 77'));
    } finally {
      await h.close();
    }
  });

  it('a staged write that failed is never uploaded: the message fails instead of publishing a truncated object', T, async () => {
    const h = await harness(PIPE, { stagingMemoryBytes: 0 });
    try {
      let calls = 0;
      await h.start(worker('copy', async (id, { writeFile }) => {
        calls++;
        const out = await writeFile('dst', id);
        await out.write('first half;');
        if (calls === 1) out.writable.destroy(new Error('injected disk failure'));
        else await out.write('second half');
        return [[id, 'ok']];
      }, { retry: fast }));
      await h.transport.send('copy-in', { body: Buffer.from('21') });
      await h.until(() => h.bodies('done-a').length === 1);
      assert.equal(calls, 2);
      assert.equal((await readAll(await h.store.get('outputs', '21'))).toString(), 'first half;second half');
      const failed = h.events.find((e) => e.type === 'failed');
      assert.match(failed?.type === 'failed' ? failed.error.message : '', /injected disk failure/);
      assert.deepEqual(h.journal.filter((l) => l.startsWith('send done-a')).length, 1);
    } finally {
      await h.close();
    }
  });

  it('stages a small output in memory: no staging folder is made, the object is uploaded byte for byte', T, async () => {
    const h = await harness(PIPE, { stagingMemoryBytes: 1024 });
    try {
      let stagingSeen = -1;
      const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
      await h.start(worker('copy', async (id, { writeFile }) => {
        const out = await writeFile('dst', id);
        await out.write(data.subarray(0, 500));
        await out.write(data.subarray(500));
        stagingSeen = (await readdir(h.stagingRoot).catch(() => [])).length;
        return [[id, 'ok']];
      }));
      await h.transport.send('copy-in', { body: Buffer.from('31') });
      await h.until(() => h.bodies('done-a').length === 1);
      assert.equal(stagingSeen, 0, 'a staging folder was made for a small output');
      assert.ok((await readAll(await h.store.get('outputs', '31'))).equals(data));
    } finally {
      await h.close();
    }
  });

  it('spills an output past the memory limit to a staging file, uploads it whole, and removes the staging', T, async () => {
    const h = await harness(PIPE, { stagingMemoryBytes: 1024 });
    try {
      let stagingSeen = -1;
      const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
      await h.start(worker('copy', async (id, { writeFile }) => {
        const out = await writeFile('dst', id);
        for (let i = 0; i < data.length; i += 700) await out.write(data.subarray(i, i + 700));
        stagingSeen = (await readdir(h.stagingRoot).catch(() => [])).length;
        return [[id, 'ok']];
      }));
      await h.transport.send('copy-in', { body: Buffer.from('32') });
      await h.until(() => h.bodies('done-a').length === 1);
      assert.equal(stagingSeen, 1, 'the large output did not spill to a staging file');
      assert.ok((await readAll(await h.store.get('outputs', '32'))).equals(data));
      assert.deepEqual(await readdir(h.stagingRoot), [], 'staging folders left behind');
    } finally {
      await h.close();
    }
  });

  it('a failed in-memory staged write is never uploaded either', T, async () => {
    const h = await harness(PIPE);
    try {
      let calls = 0;
      await h.start(worker('copy', async (id, { writeFile }) => {
        calls++;
        const out = await writeFile('dst', id);
        await out.write('first half;');
        if (calls === 1) out.writable.destroy(new Error('injected staging failure'));
        else await out.write('second half');
        return [[id, 'ok']];
      }, { retry: fast }));
      await h.transport.send('copy-in', { body: Buffer.from('33') });
      await h.until(() => h.bodies('done-a').length === 1);
      assert.equal(calls, 2);
      assert.equal((await readAll(await h.store.get('outputs', '33'))).toString(), 'first half;second half');
      assert.equal(h.journal.filter((l) => l.startsWith('uploaded outputs/33')).length, 1);
    } finally {
      await h.close();
    }
  });

  it('a case whose route lists no queue is treated as unrouted, not silently dropped', T, async () => {
    const h = await harness(PIPE);
    try {
      // The system map refuses empty queue lists; a configuration service may still send one.
      const config = { queueConfig: async () => ({ in: 'copy-in', out: [{ case: 'ok', queues: [] }] }), queueDeclaration: async () => ({ durable: true, arguments: {} }), bucket: async () => 'b', rabbitmq: async () => { throw new Error('unused'); }, objectStorage: async () => { throw new Error('unused'); } };
      const { startWorker } = await import('../../src/models/worker/mod.js');
      const { createLogger } = await import('../../src/observability/logger.js');
      const w = await startWorker(worker('copy', async (id) => [[id, 'ok']]), { transport: h.transport, store: h.store, config, logger: createLogger({ level: 'silent' }) });
      await h.transport.send('copy-in', { body: Buffer.from('4') });
      await h.until(() => h.bodies('copy-in.dead-letter').length === 1);
      await w.stop();
      assert.match(h.transport.peek('copy-in.dead-letter')[0]!.headers[DEAD_LETTER_HEADERS.reason]!, /SY_ERR_NO_ROUTE/);
    } finally {
      await h.close();
    }
  });

  it('a bad id passed to readFile is named as an argument error, not a bad result', T, async () => {
    const h = await harness(PIPE);
    try {
      await h.start(worker('copy', async (_id, { readFile }) => {
        await readFile('src', -1);
        return [];
      }, { retry: { ...fast, maxAttempts: 1 } }));
      await h.transport.send('copy-in', { body: Buffer.from('1') });
      await h.until(() => h.bodies('copy-in.dead-letter').length === 1);
      const reason = h.transport.peek('copy-in.dead-letter')[0]!.headers[DEAD_LETTER_HEADERS.reason]!;
      assert.match(reason, /readFile id -1 is not a u64/);
      assert.doesNotMatch(reason, /SY_ERR_BAD_RESULT/);
    } finally {
      await h.close();
    }
  });

  it('a missing input object fails the message with an error naming bucket and key', T, async () => {
    const h = await harness(PIPE);
    try {
      await h.start(worker('copy', async (id, { readFile }) => {
        await readFile('src', id);
        return [];
      }, { retry: { ...fast, maxAttempts: 1 } }));
      await h.transport.send('copy-in', { body: Buffer.from('404') });
      await h.until(() => h.bodies('copy-in.dead-letter').length === 1);
      const reason = h.transport.peek('copy-in.dead-letter')[0]!.headers[DEAD_LETTER_HEADERS.reason]!;
      assert.match(reason, /SY_ERR_OBJECT_NOT_FOUND/);
      assert.match(reason, /"404"/);
      assert.match(reason, /"inputs"/);
    } finally {
      await h.close();
    }
  });

  it('reads the clock only for a listener: a message taken before anyone listened reports 0 ms, later ones their time', T, async () => {
    const transport = new MemoryTransport();
    await transport.start();
    const observer = new Observer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    const w = await startWorker(worker('timed', async (id) => {
      entered++;
      await (id === 1n ? gate : new Promise((r) => setTimeout(r, 30)));
      return [[id, true]];
    }), {
      transport,
      store: new FsObjectStore({ root: '/tmp/switchyard-unused-store' }),
      config: new MapConfigSource(parseSysMap('services:\n  timed:\n    in: timed-in\n    out:\n      - { case: true, queues: [timed-out] }\n', 'test sysmap')),
      logger: createLogger({ level: 'silent' }),
      observer,
    });
    try {
      const handled: ObserverEvent[] = [];
      await transport.send('timed-in', { body: Buffer.from('1') });
      while (entered === 0) await new Promise((r) => setTimeout(r, 1));
      observer.listen((e) => void (e.type === 'handled' && handled.push(e)));
      await new Promise((r) => setTimeout(r, 30));
      release();
      await transport.send('timed-in', { body: Buffer.from('2') });
      while (handled.length < 2) await new Promise((r) => setTimeout(r, 2));
      const ms = new Map(handled.map((e) => [e.type === 'handled' ? e.id : '', e.type === 'handled' ? e.durationMs : -1]));
      // Message 1 came in while nobody listened: its clock was never read (not 30 ms, not the process's uptime).
      assert.equal(ms.get('1'), 0);
      assert.ok(ms.get('2')! >= 25, `message 2 took ${ms.get('2')} ms`);
    } finally {
      await w.stop();
      await transport.close();
    }
  });
});
