import { transportConformance } from '../conformance/transport-conformance.js';
import { MemoryTransport } from '../../src/transports/memory/mod.js';

transportConformance('memory', {
  async create() {
    const t = new MemoryTransport();
    await t.start();
    return t;
  },
});

// Rules only the memory transport can show (its state is gone once closed, so tests peek).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

describe('memory transport: closing', () => {
  it('a delayed requeue pending at close goes back to its queue, not lost', { timeout: 5000 }, async () => {
    const t = new MemoryTransport();
    await t.start();
    await t.send('delayed', { body: Buffer.from('x') });
    let settled = false;
    await t.consume('delayed', async (d) => { await d.nack({ requeue: true, delayMs: 60_000 }); settled = true; }, { prefetch: 1 });
    while (!settled) await new Promise((r) => setTimeout(r, 2));
    await t.close();
    assert.equal(t.depth('delayed'), 1);
  });

  it('stopping a consumer and closing at once loses nothing in flight', { timeout: 5000 }, async () => {
    const t = new MemoryTransport();
    await t.start();
    await t.send('race', { body: Buffer.from('y') });
    let started = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sub = await t.consume('race', async () => { started = true; await gate; }, { prefetch: 1 });
    while (!started) await new Promise((r) => setTimeout(r, 2));
    const both = Promise.all([sub.stop(), t.close()]);
    release();
    await both;
    assert.equal(t.depth('race'), 1, 'the unsettled message must be back in its queue');
  });

  it('refuses a prefetch that is not a positive integer', async () => {
    const t = new MemoryTransport();
    await t.start();
    for (const prefetch of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(t.consume('q', () => undefined, { prefetch }), /prefetch must be an integer/);
    }
    await t.close();
  });
});

describe('memory transport: bounded queues (issue 17 #8)', () => {
  const body = (s: string) => ({ body: Buffer.from(s) });
  /** Lets pending promise callbacks and a dispatch run. */
  const turns = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };
  const text = (t: MemoryTransport, q: string) => t.peek(q).map((m) => Buffer.from(m.body).toString());

  it('past maxLength a send waits (back-pressure) until a consumer makes room; waiting senders keep their order', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxLength: 3 });
    await t.start();
    for (const s of ['1', '2', '3']) await t.send('bp', body(s));
    const order: string[] = [];
    const fourth = t.send('bp', body('4')).then(() => order.push('4'));
    const fifth = t.send('bp', body('5')).then(() => order.push('5'));
    await turns();
    assert.deepEqual(order, [], 'no room yet');
    assert.equal(t.depth('bp'), 3);
    const got: string[] = [];
    const sub = await t.consume('bp', async (d) => { got.push(Buffer.from(d.body).toString()); await d.ack(); }, { prefetch: 1 });
    await Promise.all([fourth, fifth]);
    while (got.length < 5) await turns();
    assert.deepEqual(got, ['1', '2', '3', '4', '5']);
    assert.deepEqual(order, ['4', '5']);
    await sub.stop();
    await t.close();
  });

  it('overflow "reject-publish" refuses at once, naming the settings; nothing is queued', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxLength: 2, overflow: 'reject-publish' });
    await t.start();
    await t.send('rp', body('a'));
    await t.send('rp', body('b'));
    await assert.rejects(t.send('rp', body('c')), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_LIMIT_EXCEEDED');
      assert.match(err.message, /queue "rp" is full \(2 messages waiting/);
      assert.match(err.message, /memoryQueueMaxLength/);
      return true;
    });
    assert.deepEqual(text(t, 'rp'), ['a', 'b']);
    await t.close();
  });

  it('maxBytes bounds the body bytes waiting; one message always fits an empty queue', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxBytes: 10, overflow: 'reject-publish' });
    await t.start();
    await t.send('mb', body('x'.repeat(6)));
    await assert.rejects(t.send('mb', body('y'.repeat(6))), /SY_ERR_LIMIT_EXCEEDED/);
    await t.send('mb', body('z'.repeat(4)));
    await t.send('big', body('w'.repeat(50)));
    assert.equal(t.depth('mb'), 2);
    assert.equal(t.depth('big'), 1);
    await t.close();
  });

  it('is bounded by default: the 100,001st message of a queue nobody reads waits', { timeout: 20_000 }, async () => {
    const t = new MemoryTransport();
    await t.start();
    const b = body('7');
    for (let i = 0; i < 100_000; i++) await t.send('default-bound', b);
    let sent = false;
    const pending = t.send('default-bound', b).then(() => (sent = true), () => undefined);
    await turns();
    assert.equal(sent, false);
    assert.equal(t.depth('default-bound'), 100_000);
    await t.close();
    await pending;
  });

  it('sendWithin gives up after its wait: refused, not queued, and those behind it still get in', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxLength: 1 });
    await t.start();
    await t.send('sw', body('first'));
    await assert.rejects(t.sendWithin('sw', body('late'), 30), /no room within 30 ms/);
    const next = t.send('sw', body('next'));
    const sub = await t.consume('sw', (d) => d.ack(), { prefetch: 1 });
    await next;
    await sub.stop();
    assert.equal(t.peek('sw').some((m) => Buffer.from(m.body).toString() === 'late'), false);
    await t.close();
  });

  it('closing refuses the senders still waiting for room', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxLength: 1 });
    await t.start();
    await t.send('cl', body('1'));
    const waiting = t.send('cl', body('2'));
    await turns();
    await t.close();
    await assert.rejects(waiting, /SY_ERR_TRANSPORT_CLOSED/);
  });

  it('a dead-letter queue at its bound drops its oldest dead letters (drop-head), counted', { timeout: 5000 }, async () => {
    const t = new MemoryTransport({ maxLength: 2 });
    await t.start();
    let n = 0;
    const sub = await t.consume('dl', async (d) => { n++; await d.nack({ requeue: false, reason: 'bad' }); }, { prefetch: 1 });
    for (const s of ['1', '2', '3', '4', '5']) await t.send('dl', body(s));
    while (n < 5) await turns();
    await sub.stop();
    assert.deepEqual(text(t, 'dl.dead-letter'), ['4', '5']);
    assert.equal(t.deadLettersDropped(), 3);
    await t.close();
  });
});
