// acomm JSON with exact integers (issue 13): Go peers write int64/uint64 values that
// JSON.parse rounds past 2^53 and JSON.stringify cannot write. parseJson must keep them
// exact (as bigints) while accepting exactly what JSON.parse accepts; stringifyJson must
// write bigints as bare integers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRequest, decodeResponse, encodeRequest, encodeResponse, parseJson, stringifyJson,
} from '../../src/transports/unix/mod.js';

const INT64_MAX = 9223372036854775807n;
const BEYOND = 9007199254740993n;

describe('exact acomm JSON', () => {
  it('reads integers beyond 2^53 exactly, as bigints, and leaves every other number a number', () => {
    const v = parseJson(`{"max":${INT64_MAX},"min":-9223372036854775808,"beyond":${BEYOND},"u64":18446744073709551615,"safe":9007199254740991,"small":7,"float":12345678901234567890.5,"exp":1e400,"neg":-0.5}`) as Record<string, unknown>;
    assert.equal(v.max, INT64_MAX);
    assert.equal(v.min, -9223372036854775808n);
    assert.equal(v.beyond, BEYOND);
    assert.equal(v.u64, 18446744073709551615n);
    assert.equal(v.safe, 9007199254740991);
    assert.equal(v.small, 7);
    assert.equal(v.float, 12345678901234567890.5);
    assert.equal(v.exp, Infinity);
    assert.equal(v.neg, -0.5);
  });

  it('leaves long digit runs inside strings alone, escaped quotes included', () => {
    const text = `{"s":"12345678901234567890","t":"a\\"99999999999999999999\\"","n":[${BEYOND}]}`;
    assert.deepEqual(parseJson(text), { s: '12345678901234567890', t: 'a"99999999999999999999"', n: [BEYOND] });
  });

  it('accepts and refuses exactly what JSON.parse does, with or without big integers', () => {
    const big = String(BEYOND);
    for (const text of [`{"a":${big},}`, `{'a':${big}}`, `[${big}`, `{"a":0${big}}`, `{"a":${big}} x`, `{"a":-}`, `{"a":"${big}}`]) {
      assert.throws(() => JSON.parse(text), SyntaxError, text);
      assert.throws(() => parseJson(text), SyntaxError, text);
    }
    // Repeated keys: the last wins, as in JSON.parse and Go's encoding/json.
    assert.deepEqual(parseJson(`{"a":1,"a":${big}}`), { a: BEYOND });
    // Deep nesting JSON.parse takes is taken.
    const deep = `${'['.repeat(3000)}${big}${']'.repeat(3000)}`;
    let v = parseJson(deep);
    for (let i = 0; i < 3000; i++) v = (v as unknown[])[0];
    assert.equal(v, BEYOND);
  });

  it('does not take a string a peer wrote for one of its markers', () => {
    const v = parseJson(`{"a":"\\u0000sy-int:0000000000000000:5","b":${BEYOND}}`) as Record<string, unknown>;
    assert.equal(v.a, '\u0000sy-int:0000000000000000:5');
    assert.equal(v.b, BEYOND);
  });

  it('writes bigints as bare integers and everything else as JSON.stringify does', () => {
    assert.equal(stringifyJson({ a: BEYOND, b: [-INT64_MAX, 1n], c: 'x', d: undefined, e: 1.5 }), `{"a":${BEYOND},"b":[-${INT64_MAX},1],"c":"x","e":1.5}`);
    assert.equal(stringifyJson(undefined), 'null');
    assert.equal(stringifyJson({ s: '\u0000sy-int:x:5' }), JSON.stringify({ s: '\u0000sy-int:x:5' }));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => stringifyJson(cycle), /circular/i);
  });

  it('carries them through requests and responses both ways', () => {
    const req = encodeRequest({ id: 'r', task: 'T', responseHook: 'unix:///x.sock', args: { n: INT64_MAX } });
    assert.match(req, /"args":\{"n":9223372036854775807\}/);
    assert.deepEqual(decodeRequest(parseJson(req)).args, { n: INT64_MAX });
    const res = encodeResponse({ id: 'r', result: [BEYOND], streamUrl: null, error: '' });
    assert.equal(res, `{"id":"r","result":[${BEYOND}],"stream_url":null,"error":""}`);
    assert.deepEqual(decodeResponse(parseJson(res)).result, [BEYOND]);
  });
});
