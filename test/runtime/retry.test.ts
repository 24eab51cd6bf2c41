import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, retryPolicy, shouldRetry, DEFAULT_RETRY } from '../../src/runtime/retry.js';
import { stopAll } from '../../src/runtime/lifecycle.js';

describe('retry policy', () => {
  it('grows the delay by the factor and caps it at maxDelayMs', () => {
    const p = retryPolicy({ initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffMs(p, a)), [100, 200, 400, 800, 1000, 1000]);
  });

  it('jitter keeps the delay between half and all of it', () => {
    const p = retryPolicy({ initialDelayMs: 1000, jitter: 1 });
    assert.equal(backoffMs(p, 1, () => 0), 1000);
    assert.equal(backoffMs(p, 1, () => 0.999999), 500);
  });

  it('bounds the attempts: maxAttempts deliveries in all', () => {
    const p = retryPolicy({ maxAttempts: 3 });
    assert.deepEqual([1, 2, 3, 4].map((a) => shouldRetry(p, a)), [true, true, false, false]);
    assert.equal(shouldRetry(retryPolicy({ maxAttempts: 1 }), 1), false);
  });

  it('refuses nonsense with an error naming each bad field', () => {
    assert.throws(() => retryPolicy({ maxAttempts: 0, factor: 0.5 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_SETTINGS');
      assert.match(err.message, /retry\.maxAttempts/);
      assert.match(err.message, /retry\.factor/);
      return true;
    });
    assert.throws(() => retryPolicy({ initialDelayMs: 10, maxDelayMs: 5 }), /retry\.maxDelayMs/);
  });

  it('defaults to 5 attempts', () => {
    assert.equal(DEFAULT_RETRY.maxAttempts, 5);
    assert.deepEqual(retryPolicy(), DEFAULT_RETRY);
  });
});

describe('stopAll', () => {
  it('stops in reverse order and stops every one even when one fails', async () => {
    const order: string[] = [];
    const things = ['a', 'b', 'c'].map((n) => ({
      stop: async () => {
        order.push(n);
        if (n === 'b') throw new Error('b failed');
      },
    }));
    await assert.rejects(stopAll(things), /1 component\(s\) failed to stop/);
    assert.deepEqual(order, ['c', 'b', 'a']);
  });
});
