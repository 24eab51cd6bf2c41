import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, DeltaStateIn, DeltaStateOut } from '../../src/models/service/mod.js';

describe('delta state logic', () => {
  it('a null value deletes its key; shallow', () => {
    const s: Record<string, unknown> = { a: 1, b: { x: 1 } };
    applyDelta(s, { a: null, b: { y: 2 }, c: 3 });
    assert.deepEqual(s, { b: { y: 2 }, c: 3 });
    // "__proto__" is a key like any other, never the object's prototype.
    const t: Record<string, unknown> = {};
    applyDelta(t, JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>);
    assert.equal(Object.getPrototypeOf(t), Object.prototype);
    assert.equal((t as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.keys(t), ['__proto__']);
  });

  it('receiver: in-order deltas apply, stale ones are ignored, a gap resets from the snapshot', () => {
    const rx = new DeltaStateIn();
    assert.equal(rx.update({ current_num: 0, is_snapshot: false, state: { a: 1 } }), 'applied');
    assert.equal(rx.update({ current_num: 1, is_snapshot: false, state: { b: 2 } }), 'applied');
    assert.deepEqual(rx.state, { a: 1, b: 2 });
    assert.equal(rx.update({ current_num: 0, is_snapshot: false, state: { a: 9 } }), 'stale');
    assert.equal(rx.update({ current_num: 3, is_snapshot: false, state: { c: 3 } }), 'gap');
    assert.ok(rx.resyncing);
    assert.deepEqual(rx.state, { a: 1, b: 2 }); // unchanged until the snapshot comes
    assert.deepEqual(rx.reset({ state: { k: 'snap' }, current_num: 5 }), ['reset']);
    assert.equal(rx.resyncing, false);
    assert.deepEqual(rx.state, { k: 'snap' }); // the triggering delta is not applied
    assert.equal(rx.currentNum, 5);
    assert.equal(rx.update({ current_num: 7, is_snapshot: true, state: { z: 1 } }), 'snapshot');
    assert.deepEqual(rx.state, { z: 1 });
    assert.equal(rx.currentNum, 7);
  });

  it('receiver: updates arriving while the snapshot is fetched are held, then replayed on top of it', () => {
    const rx = new DeltaStateIn();
    rx.update({ current_num: 0, is_snapshot: true, state: { a: 1 } });
    assert.equal(rx.update({ current_num: 4, is_snapshot: false, state: { d: 4 } }), 'gap');
    assert.equal(rx.update({ current_num: 5, is_snapshot: false, state: { e: 5 } }), 'held');
    assert.equal(rx.update({ current_num: 6, is_snapshot: false, state: { a: null } }), 'held');
    // The snapshot was taken after 5 was sent: 5 is stale, 6 applies.
    assert.deepEqual(rx.reset({ state: { a: 1, d: 4, e: 5 }, current_num: 5 }), ['reset', 'stale', 'applied']);
    assert.deepEqual(rx.state, { d: 4, e: 5 });
    assert.equal(rx.currentNum, 6);
  });

  it('receiver: a sender whose snapshots report 0 (the original\'s bug) makes the replay find another gap; the rest stays held', () => {
    const rx = new DeltaStateIn();
    rx.update({ current_num: 0, is_snapshot: true, state: {} });
    assert.equal(rx.update({ current_num: 3, is_snapshot: false, state: { c: 3 } }), 'gap');
    assert.equal(rx.update({ current_num: 4, is_snapshot: false, state: { d: 4 } }), 'held');
    assert.equal(rx.update({ current_num: 5, is_snapshot: false, state: { e: 5 } }), 'held');
    assert.deepEqual(rx.reset({ state: { c: 3, d: 4, e: 5 }, current_num: 0 }), ['reset', 'gap']);
    assert.ok(rx.resyncing);
    assert.deepEqual(rx.reset({ state: { c: 3, d: 4, e: 5 }, current_num: 0 }), ['reset', 'gap']);
    assert.deepEqual(rx.reset({ state: { c: 3, d: 4, e: 5 }, current_num: 0 }), ['reset']);
    assert.deepEqual(rx.state, { c: 3, d: 4, e: 5 });
  });

  it('receiver: a failed fetch drops what was held and leaves the state; the next delta asks again', () => {
    const rx = new DeltaStateIn();
    rx.update({ current_num: 0, is_snapshot: true, state: { a: 1 } });
    rx.update({ current_num: 2, is_snapshot: false, state: { b: 2 } });
    rx.update({ current_num: 3, is_snapshot: false, state: { c: 3 } });
    assert.equal(rx.abandon(), 1);
    assert.deepEqual(rx.state, { a: 1 });
    assert.equal(rx.update({ current_num: 4, is_snapshot: false, state: { d: 4 } }), 'gap');
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

  it('a restarted sender\'s first update resynchronises receivers that hold higher numbers', () => {
    const rx = new DeltaStateIn();
    rx.update({ current_num: 41, is_snapshot: true, state: { old: 1 } });
    const restarted = new DeltaStateOut();
    const first = restarted.complete({ state: { fresh: 1 } });
    restarted.record(first);
    assert.equal(rx.update(first), 'snapshot');
    const second = restarted.complete({ state: { more: 2 } });
    assert.equal(second.is_snapshot, false);
    assert.equal(rx.update(second), 'applied');
    assert.deepEqual(rx.state, { fresh: 1, more: 2 });
  });

  it('a receiver that resets from the fixed sender\'s snapshot continues without another gap', () => {
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
      if (rx.update(args) === 'gap') {
        fetched++;
        rx.reset({ state: { ...snapshot.state }, current_num: snapshot.current_num });
      }
    }
    assert.equal(fetched, 1);
    assert.equal(rx.currentNum, 5);
    assert.deepEqual(rx.state, tx.state);
  });
});
