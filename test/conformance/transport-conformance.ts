// The transport conformance suite, written once and run against every transport (the
// BullMQ way): each delivery rule of DESIGN.md is one test. A transport file calls
// `transportConformance(name, factory)`; the factory returns a started transport whose
// queue/topic names do not clash with earlier runs (use the `prefix`).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTER_HEADERS, deadLetterQueueOf, type Delivery, type Transport } from '../../src/transports/transport.js';

export interface ConformanceOptions {
  /** Returns a started transport. */
  create(): Promise<Transport>;
  /** Extra teardown after the suite (e.g. stop a broker). */
  teardown?(): Promise<void>;
}

const TIMEOUT = { timeout: 20_000 };
const text = (d: { body: Uint8Array }) => Buffer.from(d.body).toString('utf8');
const bytes = (s: string) => Buffer.from(s, 'utf8');
let counter = 0;
const unique = (what: string) => `conf-${what}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

/** Resolves when `count` items were pushed to `into`, rejects after `ms`. */
function waitFor<T>(into: T[], count: number, ms = 5000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (into.length >= count) return resolve(into);
      if (Date.now() - started > ms) return reject(new Error(`waited ${ms} ms for ${count} items, got ${into.length}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function transportConformance(name: string, options: ConformanceOptions): void {
  describe(`transport conformance: ${name}`, () => {
    let t: Transport;
    before(async () => {
      t = await options.create();
    });
    after(async () => {
      await t?.close();
      await options.teardown?.();
    });

    describe('durable queue', () => {
      it('delivers sent messages in order with body and headers intact, first delivery not redelivered', TIMEOUT, async () => {
        const q = unique('order');
        await t.declareQueue(q);
        for (let i = 0; i < 10; i++) await t.send(q, { body: bytes(`m${i}`), headers: { 'x-n': String(i) } });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => { got.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(got, 10);
        await sub.stop();
        assert.deepEqual(got.map(text), Array.from({ length: 10 }, (_, i) => `m${i}`));
        assert.deepEqual(got.map((d) => d.headers['x-n']), Array.from({ length: 10 }, (_, i) => String(i)));
        assert.ok(got.every((d) => !d.redelivered && d.attempt === 1 && d.queue === q));
      });

      it('keeps messages sent before anyone consumes, without an explicit declare', TIMEOUT, async () => {
        const q = unique('early');
        await t.send(q, { body: bytes('early') });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => { got.push(d); await d.ack(); }, { prefetch: 5 });
        await waitFor(got, 1);
        await sub.stop();
        assert.equal(text(got[0]!), 'early');
      });

      it('keeps binary bodies byte for byte', TIMEOUT, async () => {
        const q = unique('binary');
        const body = Uint8Array.from({ length: 256 }, (_, i) => i);
        await t.send(q, { body });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => { got.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(got, 1);
        await sub.stop();
        assert.deepEqual(Buffer.from(got[0]!.body), Buffer.from(body));
      });

      it('an acked message is gone: a later consumer does not get it again', TIMEOUT, async () => {
        const q = unique('acked');
        await t.send(q, { body: bytes('once') });
        const first: Delivery[] = [];
        const sub1 = await t.consume(q, async (d) => { first.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(first, 1);
        await sub1.stop();
        await t.send(q, { body: bytes('marker') });
        const second: Delivery[] = [];
        const sub2 = await t.consume(q, async (d) => { second.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(second, 1);
        await sub2.stop();
        assert.deepEqual(second.map(text), ['marker']);
      });

      it('prefetch bounds the deliveries in flight', TIMEOUT, async () => {
        const q = unique('prefetch');
        for (let i = 0; i < 20; i++) await t.send(q, { body: bytes(String(i)) });
        const held: Delivery[] = [];
        const sub = await t.consume(q, (d) => { held.push(d); }, { prefetch: 3 });
        await waitFor(held, 3);
        await sleep(100); // time for a transport that ignores prefetch to over-deliver
        assert.equal(held.length, 3);
        const done: Delivery[] = [];
        // Settle one at a time: each ack frees exactly one slot.
        while (done.length < 20) {
          const d = held.shift();
          if (!d) { await sleep(2); continue; }
          await d.ack();
          done.push(d);
          assert.ok(held.length <= 3, `in flight ${held.length} > prefetch 3`);
        }
        await sub.stop();
        assert.deepEqual(done.map(text).sort((a, b) => +a - +b), Array.from({ length: 20 }, (_, i) => String(i)));
      });

      it('redelivers, flagged, a message whose handler threw', TIMEOUT, async () => {
        const q = unique('throw');
        await t.send(q, { body: bytes('boom') });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => {
          got.push(d);
          if (got.length === 1) throw new Error('handler failure');
          await d.ack();
        }, { prefetch: 1 });
        await waitFor(got, 2);
        await sub.stop();
        assert.equal(got[0]!.redelivered, false);
        assert.equal(got[1]!.redelivered, true);
        assert.equal(got[1]!.attempt, 2);
        assert.equal(text(got[1]!), 'boom');
      });

      it('redelivers, flagged, what a stopped consumer left unsettled', TIMEOUT, async () => {
        const q = unique('stop');
        for (let i = 0; i < 3; i++) await t.send(q, { body: bytes(`s${i}`) });
        const held: Delivery[] = [];
        const sub1 = await t.consume(q, (d) => { held.push(d); }, { prefetch: 10 });
        await waitFor(held, 3);
        await sub1.stop();
        const again: Delivery[] = [];
        const sub2 = await t.consume(q, async (d) => { again.push(d); await d.ack(); }, { prefetch: 10 });
        await waitFor(again, 3);
        await sub2.stop();
        assert.deepEqual(again.map(text), ['s0', 's1', 's2'], 'handed-back messages come back in their original order');
        assert.ok(again.every((d) => d.redelivered && d.attempt === 2));
      });

      it('a handler that throws synchronously is redelivered, without blocking other work', TIMEOUT, async () => {
        const q = unique('sync-throw');
        await t.send(q, { body: bytes('sync') });
        const got: Delivery[] = [];
        let ticks = 0;
        const timer = setInterval(() => ticks++, 1);
        const sub = await t.consume(q, (d) => {
          got.push(d);
          if (got.length < 3) throw new Error('synchronous failure');
          void d.ack();
        }, { prefetch: 1 });
        await waitFor(got, 3);
        clearInterval(timer);
        await sub.stop();
        assert.deepEqual(got.map((d) => d.attempt), [1, 2, 3]);
        assert.ok(ticks > 0, 'timers never ran while the handler failed: the event loop was blocked');
      });

      it('a synchronous nack with requeue does not spin: other timers still run', TIMEOUT, async () => {
        const q = unique('sync-nack');
        await t.send(q, { body: bytes('spin') });
        const got: Delivery[] = [];
        let timerFired = false;
        let timerSet = false;
        const sub = await t.consume(q, (d) => {
          got.push(d);
          // The timer starts with the first delivery: on a loaded machine consume() can take
          // longer than 5 ms to deliver, and a timer fired before it left nothing to nack.
          if (!timerSet) {
            timerSet = true;
            setTimeout(() => (timerFired = true), 5);
          }
          if (!timerFired) void d.nack({ requeue: true });
          else void d.ack();
        }, { prefetch: 1 });
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = () => (timerFired && got.length > 1 ? resolve() : Date.now() - started > 5000 ? reject(new Error('spun')) : setTimeout(poll, 5));
          poll();
        });
        await sleep(20);
        await sub.stop();
        assert.ok(got.length >= 2);
      });

      it('stop with a grace period hands back what is still running; settling it later is an error', TIMEOUT, async () => {
        const q = unique('grace');
        await t.send(q, { body: bytes('stuck') });
        const held: Delivery[] = [];
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const sub1 = await t.consume(q, async (d) => { held.push(d); await gate; }, { prefetch: 1 });
        await waitFor(held, 1);
        await sub1.stop({ graceMs: 50 });
        await assert.rejects(held[0]!.ack(), (err: Error & { code?: string }) => err.code === 'SY_ERR_DELIVERY_SETTLED' || err.code === 'SY_ERR_CHANNEL_LOST');
        release();
        const again: Delivery[] = [];
        const sub2 = await t.consume(q, async (d) => { again.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(again, 1);
        await sub2.stop();
        assert.equal(again[0]!.redelivered, true);
        assert.equal(text(again[0]!), 'stuck');
      });

      it('stop waits for running handlers to finish before returning', TIMEOUT, async () => {
        const q = unique('drain');
        await t.send(q, { body: bytes('slow') });
        let finished = false;
        const started: Delivery[] = [];
        const sub = await t.consume(q, async (d) => {
          started.push(d);
          await sleep(150);
          await d.ack();
          finished = true;
        }, { prefetch: 1 });
        await waitFor(started, 1);
        await sub.stop();
        assert.equal(finished, true);
      });

      it('nack with requeue redelivers, flagged', TIMEOUT, async () => {
        const q = unique('requeue');
        await t.send(q, { body: bytes('again') });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => {
          got.push(d);
          if (got.length === 1) await d.nack({ requeue: true });
          else await d.ack();
        }, { prefetch: 1 });
        await waitFor(got, 2);
        await sub.stop();
        assert.equal(got[1]!.redelivered, true);
        assert.equal(got[1]!.attempt, 2);
      });

      it('nack with requeue and a delay redelivers later', TIMEOUT, async (ctx) => {
        if (!t.capabilities.delayedRequeue) return ctx.skip('transport has no delayed requeue');
        const q = unique('delay');
        await t.send(q, { body: bytes('later') });
        const got: Delivery[] = [];
        const times: number[] = [];
        const sub = await t.consume(q, async (d) => {
          got.push(d);
          times.push(Date.now());
          if (got.length === 1) await d.nack({ requeue: true, delayMs: 200 });
          else await d.ack();
        }, { prefetch: 1 });
        await waitFor(got, 2);
        await sub.stop();
        assert.equal(got[1]!.attempt, 2);
        assert.equal(text(got[1]!), 'later');
        assert.ok(times[1]! - times[0]! >= 150, `redelivered after ${times[1]! - times[0]!} ms`);
      });

      it('dead-letters with the original body, the source queue and the reason', TIMEOUT, async () => {
        const q = unique('dead');
        await t.declareQueue(q);
        await t.send(q, { body: bytes('poison'), headers: { 'x-keep': 'yes' } });
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => { got.push(d); await d.nack({ requeue: false, reason: 'bad input: poison' }); }, { prefetch: 1 });
        await waitFor(got, 1);
        await sub.stop();
        const dead: Delivery[] = [];
        const dsub = await t.consume(deadLetterQueueOf(q), async (d) => { dead.push(d); await d.ack(); }, { prefetch: 1 });
        await waitFor(dead, 1);
        await dsub.stop();
        assert.equal(text(dead[0]!), 'poison');
        assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.sourceQueue], q);
        assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.reason], 'bad input: poison');
        assert.equal(dead[0]!.headers['x-keep'], 'yes');
        assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.attempts], '1');
      });

      it('consumers of one queue share its messages: each message to exactly one', TIMEOUT, async () => {
        const q = unique('share');
        const a: string[] = [];
        const b: string[] = [];
        const subA = await t.consume(q, async (d) => { a.push(text(d)); await sleep(1); await d.ack(); }, { prefetch: 2 });
        const subB = await t.consume(q, async (d) => { b.push(text(d)); await sleep(1); await d.ack(); }, { prefetch: 2 });
        for (let i = 0; i < 100; i++) await t.send(q, { body: bytes(String(i)) });
        const all: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = () => (a.length + b.length >= 100 ? resolve() : Date.now() - started > 10_000 ? reject(new Error(`got ${a.length + b.length}/100`)) : setTimeout(poll, 5));
          poll();
        });
        await Promise.all([subA.stop(), subB.stop()]);
        all.push(...a, ...b);
        assert.equal(new Set(all).size, 100);
        assert.equal(all.length, 100);
        assert.ok(a.length > 0 && b.length > 0, `one consumer got nothing (a=${a.length}, b=${b.length})`);
      });

      it('settling a delivery twice is an error', TIMEOUT, async () => {
        const q = unique('twice');
        await t.send(q, { body: bytes('x') });
        const errors: unknown[] = [];
        const got: Delivery[] = [];
        const sub = await t.consume(q, async (d) => {
          await d.ack();
          try { await d.ack(); } catch (err) { errors.push(err); }
          got.push(d);
        }, { prefetch: 1 });
        await waitFor(got, 1);
        await sub.stop();
        assert.equal(errors.length, 1);
      });
    });

    describe('topic with listener groups', () => {
      it('every group gets each message once; members of a group share', TIMEOUT, async () => {
        const topic = unique('topic');
        const g1a: string[] = [];
        const g1b: string[] = [];
        const g2: string[] = [];
        const subs = [
          await t.subscribe(topic, 'g1', async (d) => { g1a.push(text(d)); await sleep(1); await d.ack(); }, { prefetch: 2 }),
          await t.subscribe(topic, 'g1', async (d) => { g1b.push(text(d)); await sleep(1); await d.ack(); }, { prefetch: 2 }),
          await t.subscribe(topic, 'g2', async (d) => { g2.push(text(d)); await d.ack(); }, { prefetch: 10 }),
        ];
        for (let i = 0; i < 50; i++) await t.publish(topic, { body: bytes(String(i)) });
        await waitFor(g2, 50);
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = () => (g1a.length + g1b.length >= 50 ? resolve() : Date.now() - started > 10_000 ? reject(new Error('group g1 incomplete')) : setTimeout(poll, 5));
          poll();
        });
        await sleep(50); // a duplicate would show up now
        await Promise.all(subs.map((s) => s.stop()));
        const expected = Array.from({ length: 50 }, (_, i) => String(i));
        assert.deepEqual([...g1a, ...g1b].sort((x, y) => +x - +y), expected);
        assert.deepEqual(g2, expected);
        assert.ok(g1a.length > 0 && g1b.length > 0, 'members of g1 did not share');
      });

      it('groups and queues stay apart even when their names could be joined alike', TIMEOUT, async () => {
        const base = unique('iso');
        const onA: string[] = [];
        const onAB: string[] = [];
        const plain: string[] = [];
        const subs = [
          await t.subscribe(base, 'b:c', async (d) => { onA.push(text(d)); await d.ack(); }, { prefetch: 5 }),
          await t.subscribe(`${base}:b`, 'c', async (d) => { onAB.push(text(d)); await d.ack(); }, { prefetch: 5 }),
          await t.consume(`${base}:b:c`, async (d) => { plain.push(text(d)); await d.ack(); }, { prefetch: 5 }),
        ];
        await t.publish(base, { body: bytes('to-a') });
        await t.publish(`${base}:b`, { body: bytes('to-ab') });
        await t.send(`${base}:b:c`, { body: bytes('to-queue') });
        await waitFor(onA, 1);
        await waitFor(onAB, 1);
        await waitFor(plain, 1);
        await sleep(50);
        await Promise.all(subs.map((s) => s.stop()));
        assert.deepEqual([onA, onAB, plain], [['to-a'], ['to-ab'], ['to-queue']]);
      });

      it('a group keeps what is published while its members are away', TIMEOUT, async () => {
        const topic = unique('away');
        const got: string[] = [];
        const sub1 = await t.subscribe(topic, 'keeper', async (d) => { got.push(text(d)); await d.ack(); }, { prefetch: 1 });
        await t.publish(topic, { body: bytes('before') });
        await waitFor(got, 1);
        await sub1.stop();
        await t.publish(topic, { body: bytes('while-away') });
        const sub2 = await t.subscribe(topic, 'keeper', async (d) => { got.push(text(d)); await d.ack(); }, { prefetch: 1 });
        await waitFor(got, 2);
        await sub2.stop();
        assert.deepEqual(got, ['before', 'while-away']);
      });

      it('redelivers, flagged, a topic message whose handler threw', TIMEOUT, async () => {
        const topic = unique('topic-throw');
        const got: Delivery[] = [];
        const sub = await t.subscribe(topic, 'g', async (d) => {
          got.push(d);
          if (got.length === 1) throw new Error('listener failure');
          await d.ack();
        }, { prefetch: 1 });
        await t.publish(topic, { body: bytes('evt') });
        await waitFor(got, 2);
        await sub.stop();
        assert.equal(got[1]!.redelivered, true);
        assert.equal(text(got[1]!), 'evt');
      });
    });

    describe('request/reply', () => {
      it('answers a request with the responder reply', TIMEOUT, async () => {
        const subject = unique('rpc');
        const sub = await t.serve(subject, (req) => ({ body: bytes(`hello ${text(req)}`), headers: { 'x-seen': req.headers['x-in'] ?? '' } }));
        const reply = await t.request(subject, { body: bytes('ada'), headers: { 'x-in': 'h' } }, { timeoutMs: 2000 });
        await sub.stop();
        assert.equal(text(reply), 'hello ada');
        assert.equal(reply.headers['x-seen'], 'h');
      });

      it('times out with a clear error when the responder is too slow', TIMEOUT, async () => {
        const subject = unique('slow');
        const sub = await t.serve(subject, async () => { await sleep(500); return { body: bytes('late') }; });
        await assert.rejects(t.request(subject, { body: bytes('x') }, { timeoutMs: 100 }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'SY_ERR_REQUEST_TIMEOUT');
          assert.match(err.message, new RegExp(subject));
          return true;
        });
        await sub.stop();
      });

      it('fails, naming the subject, when nobody serves it', TIMEOUT, async () => {
        const subject = unique('nobody');
        await assert.rejects(t.request(subject, { body: bytes('x') }, { timeoutMs: 300 }), (err: Error & { code?: string }) => {
          assert.ok(err.code === 'SY_ERR_NO_RESPONDER' || err.code === 'SY_ERR_REQUEST_TIMEOUT', String(err.code));
          assert.match(err.message, new RegExp(subject));
          return true;
        });
      });

      it('responders of one subject share the requests', TIMEOUT, async () => {
        const subject = unique('shared-rpc');
        const seen = { a: 0, b: 0 };
        const subA = await t.serve(subject, () => { seen.a++; return { body: bytes('a') }; });
        const subB = await t.serve(subject, () => { seen.b++; return { body: bytes('b') }; });
        await Promise.all(Array.from({ length: 40 }, () => t.request(subject, { body: bytes('q') }, { timeoutMs: 2000 })));
        await Promise.all([subA.stop(), subB.stop()]);
        assert.equal(seen.a + seen.b, 40);
        assert.ok(seen.a > 0 && seen.b > 0, `not shared: ${JSON.stringify(seen)}`);
      });
    });
  });
}
