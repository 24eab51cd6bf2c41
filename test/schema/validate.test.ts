import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z, validate, check, toJsonSchema, fromJsonSchema, formatPath, kindOf } from '../../src/schema/mod.js';

const user = z.object({
  name: z.string(),
  age: z.number().int().min(0),
  role: z.enum(['admin', 'user']),
  tags: z.array(z.string()).optional(),
  address: z.object({ city: z.string() }).strict().optional(),
}).strict();

describe('schema: validate', () => {
  it('returns the parsed value when valid, with the inferred type', () => {
    const v = validate(user, { name: 'a', age: 3, role: 'admin' }, 'user');
    const name: string = v.name;
    assert.equal(name, 'a');
  });

  it('names the subject, every field, the expected type and the received kind', () => {
    assert.throws(
      () => validate(user, { name: 5, age: 1.5, role: 'root', tags: ['x', 2], address: { city: 'x', zip: 1 }, extra: true }, 'RPC auth.create() parameters'),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'SY_ERR_VALIDATION');
        assert.match(err.message, /^SY_ERR_VALIDATION: RPC auth\.create\(\) parameters are not valid: /);
        assert.match(err.message, /field "name": expected string, got integer/);
        assert.match(err.message, /field "age": expected int, got number/);
        assert.match(err.message, /field "role": expected one of "admin"\|"user", got string/);
        assert.match(err.message, /field "tags\[1\]": expected string, got integer/);
        assert.match(err.message, /field "address\.zip": expected no such key/);
        assert.match(err.message, /field "extra": expected no such key/);
        return true;
      },
    );
  });

  it('never puts the rejected value in the message', () => {
    const secret = 'hunter2-very-secret';
    assert.throws(() => validate(z.object({ password: z.number() }), { password: secret }, 'login'), (err: Error) => !err.message.includes(secret));
    assert.throws(() => validate(z.enum(['a']), secret, 'mode'), (err: Error) => !err.message.includes(secret) && /the value: expected "a", got string/.test(err.message));
  });

  it('check() reports problems without throwing', () => {
    const r = check(user, { name: 'a', age: -1, role: 'user' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.problems, [{ field: 'age', expected: 'number ≥ 0', received: 'integer' }]);
  });

  it('formats paths and kinds', () => {
    assert.equal(formatPath(['a', 0, 'b', 2]), 'a[0].b[2]');
    assert.equal(formatPath([]), '');
    assert.deepEqual([null, [], new Uint8Array(1), new Date(0), 1, 1.5, 'x', undefined].map(kindOf),
      ['null', 'array', 'bytes', 'date', 'integer', 'number', 'string', 'undefined']);
  });
});

describe('schema: JSON Schema', () => {
  it('makes draft-07 object schemas with required and additionalProperties false', () => {
    const json = toJsonSchema(user, { title: 'User' });
    assert.equal(json.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(json.title, 'User');
    assert.equal(json.type, 'object');
    assert.deepEqual(json.required, ['name', 'age', 'role']);
    assert.equal(json.additionalProperties, false);
  });

  it('describes dates as date-time strings and bytes without failing', () => {
    const json = toJsonSchema(z.object({ at: z.date(), blob: z.instanceof(Uint8Array) }));
    assert.deepEqual((json.properties as Record<string, unknown>).at, { type: 'string', format: 'date-time' });
    assert.ok((json.properties as Record<string, unknown>).blob);
  });

  it('round-trips: a schema received as JSON validates like the original', () => {
    const remote = fromJsonSchema(toJsonSchema(user));
    assert.equal(check(remote, { name: 'a', age: 3, role: 'admin' }).ok, true);
    const bad = check(remote, { name: 'a', age: 'x', role: 'admin' });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.problems[0]?.field, 'age');
  });
});
