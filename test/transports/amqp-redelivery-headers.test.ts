// Reading the attempt a peer's headers claim, and sending a peer's headers again (issue 17 #1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MAX_ATTEMPT, deliveryAttempt, headerCount, republishable } from '../../src/transports/amqp/redelivery-headers.js';

// amqplib's own codec (not exported by the package, so by path): what the republish goes through.
const require = createRequire(import.meta.url);
const { encodeTable, decodeFields } = require(join(dirname(require.resolve('amqplib')), 'lib', 'codec.js')) as {
  encodeTable(buffer: Buffer, value: unknown, offset: number): number;
  decodeFields(slice: Buffer): Record<string, unknown>;
};
const encodes = (headers: unknown) => encodeTable(Buffer.alloc(64 * 1024), headers, 0);
const H = 'x-switchyard-attempt';

describe('amqp redelivery headers', () => {
  it('believes only whole numbers from 1 to MAX_ATTEMPT in the attempt header', () => {
    for (const ok of [1, 7, '3', ' 12 ', Buffer.from('5'), MAX_ATTEMPT]) assert.equal(typeof headerCount(ok, 1), 'number', String(ok));
    for (const bad of ['-Infinity', -Infinity, Infinity, Number.NaN, -1_000_000_000, 0, 1.5, '1.5', '1e400', '1e3', 'abc', '', '-1', MAX_ATTEMPT + 1,
      '99999999999999999999', 9_000_000_000_000, { nested: true }, [3], null, true]) {
      assert.equal(headerCount(bad, 1), undefined, JSON.stringify(bad, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    }
  });

  it('counts an untrusted header as attempt 1 plus what the broker knows', () => {
    assert.deepEqual(deliveryAttempt({ [H]: '-Infinity' }, false, H), { attempt: 1, headerTrusted: false });
    assert.deepEqual(deliveryAttempt({ [H]: -1_000_000_000 }, true, H), { attempt: 2, headerTrusted: false });
    assert.deepEqual(deliveryAttempt({ [H]: 'abc', 'x-delivery-count': 3 }, true, H), { attempt: 4, headerTrusted: false });
    assert.deepEqual(deliveryAttempt({ [H]: 2, 'x-delivery-count': -5 }, true, H), { attempt: 3, headerTrusted: true }, 'a bad delivery count falls back to the redelivered flag');
    assert.deepEqual(deliveryAttempt({}, false, H), { attempt: 1, headerTrusted: true });
    assert.deepEqual(deliveryAttempt({ [H]: MAX_ATTEMPT, 'x-delivery-count': 5 }, false, H), { attempt: MAX_ATTEMPT, headerTrusted: true }, 'clamped');
  });

  it('makes a peer\'s headers encodable again: non-finite numbers as text, unknown "!" tables dropped', () => {
    const hostile = { a: -Infinity, b: Number.NaN, c: { '!': 'bogus', value: 1 }, d: [1, Infinity, 'x'], e: { deep: { x: Infinity } }, f: 'kept', g: Buffer.from('raw') };
    assert.throws(() => encodes(hostile), 'amqplib cannot encode these as they are');
    const safe = republishable(hostile);
    encodes(safe);
    assert.deepEqual(safe, { a: '-Infinity', b: 'NaN', d: [1, 'Infinity', 'x'], e: { deep: { x: 'Infinity' } }, f: 'kept', g: Buffer.from('raw') });
  });

  it('keeps what amqplib decodes itself (decimals, timestamps, big integers) as it was', () => {
    const original = { dec: { '!': 'decimal', value: { places: 2, digits: 1234 } }, ts: { '!': 'timestamp', value: 1700000000 }, big: 2 ** 60, arr: [true, null] };
    const buffer = Buffer.alloc(1024);
    const size = encodeTable(buffer, original, 0);
    const decoded = decodeFields(buffer.subarray(4, size));
    const again = republishable(decoded);
    assert.deepEqual(again, decoded);
    encodes(again);
  });
});
