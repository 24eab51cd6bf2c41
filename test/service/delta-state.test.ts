import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, DeltaStateIn, DeltaStateOut } from '../../src/models/service/mod.js';

describe('delta state logic', () => {
  it('a null value deletes its key; shallow', () => {
    const s: Record<string, unknown> = { a: 1, b: { x: 1 } };
    applyDelta(s, { a: null, b: { y: 2 }, c: 3 });
    assert.deepEqual(s, { b: { y: 2 }, c: 3 });
  });

  it('receiver: in-order deltas apply, stale ones are ignored, a gap resets from the snapshot', async () => {
    const rx = new DeltaStateIn();
    let fetched = 0;
    const snap = async () => (fetched++, { state: { k: 'snap' }, current_num: 5 });
    assert.equal(await rx.update({ current_num: 0, is_snapshot: false, state: { a: 1 } }, snap), 'applied');
    assert.equal(await rx.update({ current_num: 1, is_snapshot: false, state: { b: 2 } }, snap), 'applied');
    assert.deepEqual(rx.state, { a: 1, b: 2 });
    assert.equal(await rx.update({ current_num: 0, is_snapshot: false, state: { a: 9 } }, snap), 'stale');
    assert.equal(await rx.update({ current_num: 3, is_snapshot: false, state: { c: 3 } }, snap), 'reset');
    assert.equal(fetched, 1);
    assert.deepEqual(rx.state, { k: 'snap' }); // the triggering delta is not applied
    assert.equal(rx.currentNum, 5);
    assert.equal(await rx.update({ current_num: 7, is_snapshot: true, state: { z: 1 } }, snap), 'snapshot');
    assert.deepEqual(rx.state, { z: 1 });
    assert.equal(rx.currentNum, 7);
  });

  it('sender: advances its own number (the original stayed at 0) and numbers updates left unnumbered', () => {
    const tx = new DeltaStateOut();
    assert.deepEqual(tx.snapshot(), { state: {}, current_num: -1 });
    // The first update goes out as a snapshot of the sender's whole state (nulls dropped).
    const first = tx.complete({ state: { a: 1, gone: null } });
    assert.deepEqual(first, { state: { a: 1 }, current_num: 0, is_snapshot: true });
    tx.record(first);
    tx.record(tx.complete({ state: { b: 2 } }));
    tx.record(tx.complete({ current_num: 10, state: { a: null } }));
    assert.deepEqual(tx.snapshot(), { state: { b: 2 }, current_num: 10 });
    tx.record(tx.complete({ is_snapshot: true, state: { only: 1 } }));
    assert.deepEqual(tx.snapshot(), { state: { only: 1 }, current_num: 11 });
  });

  it('a restarted sender\'s first update resynchronises receivers that hold higher numbers', async () => {
    const rx = new DeltaStateIn();
    const noSnapshot = async () => {
      throw new Error('no snapshot request expected');
    };
    await rx.update({ current_num: 41, is_snapshot: true, state: { old: 1 } }, noSnapshot);
    const restarted = new DeltaStateOut();
    const first = restarted.complete({ state: { fresh: 1 } });
    restarted.record(first);
    assert.equal(await rx.update(first, noSnapshot), 'snapshot');
    const second = restarted.complete({ state: { more: 2 } });
    assert.equal(second.is_snapshot, false);
    assert.equal(await rx.update(second, noSnapshot), 'applied');
    assert.deepEqual(rx.state, { fresh: 1, more: 2 });
  });

  it('a receiver that resets from the fixed sender\'s snapshot continues without another gap', async () => {
    const tx = new DeltaStateOut();
    const rx = new DeltaStateIn();
    const sent = Array.from({ length: 6 }, (_, i) => {
      const args = tx.complete({ state: { [`k${i}`]: i } });
      tx.record(args);
      return { args, snapshot: tx.snapshot() };
    });
    let fetched = 0;
    // Deltas 0–2 are lost: delta 3 is a gap, the snapshot taken then says 3; 4 and 5 apply.
    for (const { args, snapshot } of sent.slice(3)) {
      await rx.update(args, async () => (fetched++, { state: { ...snapshot.state }, current_num: snapshot.current_num }));
    }
    assert.equal(fetched, 1);
    assert.equal(rx.currentNum, 5);
    assert.deepEqual(rx.state, tx.state);
  });
});
