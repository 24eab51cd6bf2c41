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
