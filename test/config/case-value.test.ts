import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caseKey, caseToJson, checkParsedCase } from '../../src/config/case-value.js';

const T = { timeout: 10000 };

describe('case values', () => {
  test('caseKey: typed, so true, 1 and "1" differ; 3 and 3n are the same case', T, () => {
    assert.equal(new Set([caseKey(true), caseKey(1), caseKey('1')]).size, 3);
    assert.equal(caseKey(3), caseKey(3n));
    assert.equal(caseKey(2.5), undefined);
    assert.equal(caseKey(2 ** 53), undefined, 'an unsafe number may already be rounded');
    assert.equal(caseKey(null), undefined);
  });

  test('checkParsedCase: bigint in, number out when exact; ranges of i64 and u64', T, () => {
    assert.deepEqual(checkParsedCase(7n), { ok: true, value: 7 });
    assert.deepEqual(checkParsedCase(2n ** 64n - 1n), { ok: true, value: 18446744073709551615n });
    assert.deepEqual(checkParsedCase(-(2n ** 63n)), { ok: true, value: -9223372036854775808n });
    assert.equal(checkParsedCase(2n ** 64n).ok, false);
    assert.equal(checkParsedCase(-(2n ** 63n) - 1n).ok, false);
    const f = checkParsedCase(2, '2.0');
    assert.ok(!f.ok && f.problem.startsWith('2.0 is a float'));
  });

  test('caseToJson prints integers exactly', T, () => {
    assert.equal(caseToJson(18446744073709551615n), '18446744073709551615');
    assert.equal(caseToJson('a"b'), '"a\\"b"');
    assert.equal(caseToJson(false), 'false');
    assert.equal(caseToJson(-3), '-3');
  });
});
