// One test per rule of the original's type grammar (SPECS.md §2.4), plus zod models; every
// failure names the key and the expected type.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { argsProblems, t, Decimal, Uuid } from '../../src/models/service/mod.js';
import { compileArgsCheck } from '../../src/models/service/type-grammar.js';
import { checkArgs } from '../../src/models/service/args-model.js';

const ok = (args: unknown, required?: Record<string, unknown>, optional?: Record<string, unknown>) =>
  assert.deepEqual(argsProblems(args, required, optional), []);
const bad = (args: unknown, required: Record<string, unknown> | undefined, optional: Record<string, unknown> | undefined, field: string, expected: RegExp) => {
  const problems = argsProblems(args, required, optional);
  assert.ok(problems.some((p) => p.field === field && expected.test(p.expected)), `wanted a problem at "${field}" matching ${expected}, got ${JSON.stringify(problems)}`);
};

describe('service type grammar', () => {
  it('required keys must be present', () => {
    ok({ a: 'x' }, { a: t.str });
    bad({}, { a: t.str }, {}, 'a', /str \(required\)/);
  });

  it('keys not required must be declared optional', () => {
    ok({ a: 'x', b: 1 }, { a: t.str }, { b: t.int });
    ok({ a: 'x' }, { a: t.str }, { b: t.int });
    bad({ a: 'x', c: 1 }, { a: t.str }, { b: t.int }, 'c', /no such key/);
  });

  it('keys Object.prototype has (constructor, toString, hasOwnProperty, valueOf, __proto__) are undeclared like any other', () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__proto__'];
    for (const name of names) {
      // JSON.parse makes "__proto__" an own key, as a decoded frame would.
      const args = JSON.parse(`{"a": "x", ${JSON.stringify(name)}: "sneaky"}`) as Record<string, unknown>;
      assert.ok(Object.hasOwn(args, name));
      bad(args, { a: t.str }, {}, name, /no such key/);
      const compiled = compileArgsCheck({ a: t.str }, {})(args);
      assert.ok(compiled.some((p) => p.field === name && /no such key/.test(p.expected)), `compiled check let ${name} through: ${JSON.stringify(compiled)}`);
      // Inside a nested spec in optional position too.
      bad({ o: args }, {}, { o: { a: t.str } }, `o.${name}`, /no such key/);
      // A required key of that name must really be there, not found on the prototype.
      bad({ a: 'x' }, { [name]: t.str }, {}, name, /required/);
      assert.ok(compileArgsCheck({ [name]: t.str }, {})({ a: 'x' }).some((p) => p.field === name), `compiled check found ${name} on the prototype`);
      bad({ o: {} }, { o: { [name]: t.str } }, {}, `o.${name}`, /str/);
    }
  });

  it('a type is an isinstance check; bool passes as int, as in Python', () => {
    ok({ s: 'x', i: 3, b: true, f: 1.5, n: 7n, bi: false }, { s: t.str, i: t.int, b: t.bool, f: t.float, n: t.int, bi: t.int });
    bad({ i: 1.5 }, { i: t.int }, {}, 'i', /^int$/);
    bad({ s: 3 }, { s: t.str }, {}, 's', /^str$/);
    bad({ b: 1 }, { b: t.bool }, {}, 'b', /^bool$/);
    ok({ d: new Decimal('1.2'), u: Uuid.random(), when: new Date(), raw: new Uint8Array(1), l: [], m: {}, s: new Set() },
      { d: t.Decimal, u: t.UUID, when: t.datetime, raw: t.bytes, l: t.list, m: t.dict, s: t.set });
    bad({ d: '1.2' }, { d: t.Decimal }, {}, 'd', /Decimal/);
    bad({ when: '2024-01-01' }, { when: t.datetime }, {}, 'when', /datetime/);
  });

  it('JavaScript constructors stand for their tokens', () => {
    ok({ s: 'x', n: 1, b: true, d: new Date() }, { s: String, n: Number, b: Boolean, d: Date });
    bad({ s: 1 }, { s: String }, {}, 's', /str/);
  });

  it('{KeyType: ValType}: a homogeneous mapping, every value checked', () => {
    ok({ book: { '1.5': new Decimal('3'), '2': new Decimal('4') } }, { book: t.mapOf(t.Decimal, t.Decimal) });
    bad({ book: { '1.5': 3 } }, { book: t.mapOf(t.Decimal, t.Decimal) }, {}, 'book.1.5', /Decimal/);
    bad({ book: { x: new Decimal('1') } }, { book: t.mapOf(t.int, t.Decimal) }, {}, 'book.x', /keys of type int/);
    ok({ m: new Map([['a', 1]]) }, { m: t.mapOf(t.str, t.int) });
  });

  it('a dict with literal keys: a nested spec (required: all its keys; optional: only its keys)', () => {
    ok({ o: { a: 1, extra: 2 } }, { o: { a: t.int } });
    bad({ o: { b: 1 } }, { o: { a: t.int } }, {}, 'o.a', /int/);
    bad({ o: { a: 'x' } }, { o: { a: t.int } }, {}, 'o.a', /^int$/);
    ok({ o: {} }, {}, { o: { a: t.int } });
    bad({ o: { z: 1 } }, {}, { o: { a: t.int } }, 'o.z', /no such key/);
  });

  it('[T]: every item', () => {
    ok({ l: ['a', 'b'] }, { l: [t.str] });
    bad({ l: ['a', 2] }, { l: [t.str] }, {}, 'l[1]', /^str$/);
    bad({ l: 'ab' }, { l: [t.str] }, {}, 'l', /list of str/);
  });

  it('(T1, T2): fixed length, position by position', () => {
    ok({ p: ['x', 1] }, { p: t.tuple(t.str, t.int) });
    bad({ p: ['x'] }, { p: t.tuple(t.str, t.int) }, {}, 'p', /length 2/);
    bad({ p: [1, 1] }, { p: t.tuple(t.str, t.int) }, {}, 'p[0]', /^str$/);
  });

  it('{T}: every element of type T', () => {
    ok({ s: new Set(['a']) }, { s: t.setOf(t.str) });
    ok({ s: new Set(['a']) }, { s: new Set([t.str]) });
    bad({ s: new Set(['a', 1]) }, { s: t.setOf(t.str) }, {}, 's[1]', /^str$/);
  });

  it('a set of literals: required needs all present; optional allows only them', () => {
    ok({ f: new Set(['a', 'b', 'c']) }, { f: t.literals('a', 'b') });
    bad({ f: new Set(['a']) }, { f: t.literals('a', 'b') }, {}, 'f', /missing "b"/);
    ok({ f: ['a'] }, {}, { f: new Set(['a', 'b']) });
    bad({ f: ['z'] }, {}, { f: t.literals('a', 'b') }, 'f[0]', /one of/);
  });

  it('a function: compared by arity', () => {
    ok({ fn: (a: unknown, b: unknown) => [a, b] }, { fn: t.func(2) });
    bad({ fn: () => 1 }, { fn: t.func(2) }, {}, 'fn', /function of 2/);
    bad({ fn: 'x' }, { fn: t.func() }, {}, 'fn', /function/);
  });

  it('t.nullable(T) (ours): T or None, as delta values need', () => {
    ok({ book: { a: null, b: new Decimal('1') } }, { book: t.mapOf(t.str, t.nullable(t.Decimal)) });
    bad({ book: { a: 'x' } }, { book: t.mapOf(t.str, t.nullable(t.Decimal)) }, {}, 'book.a', /Decimal or None/);
  });

  it('the compiled checker (the services\' hot path) finds exactly what argsProblems finds', () => {
    const req = { a: t.str, n: [t.int], o: { x: t.bool } };
    const opt = { b: t.int, f: t.literals('p', 'q') };
    const cases: unknown[] = [
      { a: 'x', n: [1], o: { x: true } }, {}, { a: 1, n: ['z'], o: {} }, { a: 'x', n: [], o: { x: false }, b: 'no', zz: 1 },
      { a: 'x', n: [], o: { x: true }, f: ['r'] }, 'not a dict', { a: undefined, n: [1], o: { x: true } },
    ];
    const compiled = compileArgsCheck(req, opt);
    for (const c of cases) assert.deepEqual(compiled(c), argsProblems(c, req, opt), JSON.stringify(c));
  });

  it('zod schemas work anywhere in a spec and as the whole model', () => {
    ok({ e: 'a@example.com' }, { e: z.string().email() });
    bad({ e: 'nope' }, { e: z.string().email() }, {}, 'e', /email/);
    const parsed = checkArgs({ n: '3' }, { schema: z.object({ n: z.coerce.number() }) }, 'x');
    assert.equal(parsed.n, 3);
  });

  it('the error names the subject (connection and direction), the key and the expected type', () => {
    assert.throws(() => checkArgs({ order_id: 5 }, { required: { order_id: t.str } }, 'inbound args of connection "cancel_order"'),
      /SY_ERR_VALIDATION: inbound args of connection "cancel_order" is not valid: field "order_id": expected str, got integer/);
    assert.throws(() => checkArgs({ x: 1 }, { schema: z.object({ x: z.string() }) }, 'return args of connection "c"'),
      /return args of connection "c" is not valid: field "x": expected string, got integer/);
  });

  it('built-in args (a delta state\'s current_num) are checked even beside a zod model', () => {
    assert.throws(() => checkArgs({ state: {} }, { schema: z.object({}).passthrough() }, 'args of state "s"', { required: { current_num: t.int } }),
      /field "current_num": expected int \(required\)/);
  });
});
