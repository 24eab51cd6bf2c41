// Validators made from a schema received from the bus (a Lightbus service's, or one loaded
// from a dump): formats are not asserted, as Lightbus does not assert them, and nothing
// else about the schema is lost on the way.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validatorsOf, withoutFormats } from '../../src/models/api/api-schema.js';
import type { StoredSchema } from '../../src/transports/bus/bus-transport.js';

const schema: StoredSchema = JSON.parse(JSON.stringify({
  rpcs: {
    at: {
      parameters: {
        type: 'object',
        additionalProperties: false,
        required: ['when', 'format'],
        properties: {
          when: { type: 'string', format: 'date-time' },
          clock: { anyOf: [{ type: 'string', format: 'time' }, { type: 'null' }] },
          days: { type: 'array', items: { type: 'string', format: 'date' } },
          // A parameter that happens to be named "format": a property, kept.
          format: { type: 'string', enum: ['short', 'long'] },
        },
      },
      response: { type: 'string', format: 'date-time' },
    },
  },
  events: {},
}));

describe('schemas from the bus', () => {
  it('accept naive datetimes and plain times where the schema says date-time and time', () => {
    const { params, result } = validatorsOf(schema).rpcs.at!;
    const ok = params.safeParse({ when: '2024-01-02T03:04:05.123456', clock: '03:04:05', days: ['2024-01-02'], format: 'short' });
    assert.equal(ok.success, true, JSON.stringify(ok.error?.issues));
    assert.equal(result.safeParse('2024-01-02T03:04:05').success, true);
  });

  it('still check everything else: types, enums, required keys, unknown keys', () => {
    const { params } = validatorsOf(schema).rpcs.at!;
    assert.equal(params.safeParse({ when: 20240102, format: 'short' }).success, false, 'a number is not text');
    assert.equal(params.safeParse({ when: 'x', format: 'medium' }).success, false, 'the property named format keeps its enum');
    assert.equal(params.safeParse({ when: 'x' }).success, false, 'the property named format is still required');
    assert.equal(params.safeParse({ when: 'x', format: 'long', extra: 1 }).success, false);
  });

  it('drop the format keyword only, at every depth, and keep a "__proto__" key as data', () => {
    const stripped = withoutFormats(JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string","format":"email"},"format":{"format":"uri"}}}')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(stripped.properties!), ['__proto__', 'format']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(stripped.properties, '__proto__')?.value, { type: 'string' });
    assert.deepEqual(stripped.properties!.format, {});
    assert.equal(Object.getPrototypeOf(stripped.properties), Object.prototype);
  });
});
