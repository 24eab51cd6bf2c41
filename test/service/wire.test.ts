// The msgpack envelope byte for byte against SPECS.md §2.1: the bytes Python's
// packb(obj, default=custom_encode, use_bin_type=True) gives, spelled out from the msgpack
// spec (fixmap 0x8N, fixstr 0xaN, str8 0xd9, true 0xc3, false 0xc2, nil 0xc0, ...).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  pack, unpack, encodeEnvelope, encodeReply, decodeEnvelope, decodeReply, topicPrefixOf, Decimal, Uuid, Float64,
  service, startService, requester, replyer, publisher, t,
} from '../../src/models/service/mod.js';
import { compileFloatMarker } from '../../src/models/service/type-grammar.js';
import { MemorySockets } from '../../src/transports/memory/mod.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const str = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  const head = bytes.length < 32 ? Buffer.from([0xa0 | bytes.length]) : Buffer.from([0xd9, bytes.length]);
  return Buffer.concat([head, bytes]).toString('hex');
};
const UUID = '12345678-1234-5678-1234-567812345678';

describe('service wire: envelopes byte for byte', () => {
  it('the delta payload of SPECS.md §2.3 with a UUID workflow id', () => {
    const frame = encodeEnvelope({ current_num: 2, is_snapshot: false, state: { second_key: 'second_value' } }, new Uuid(UUID));
    const expected =
      '82' + str('args') +
        '83' + str('current_num') + '02' + str('is_snapshot') + 'c2' + str('state') + '81' + str('second_key') + str('second_value') +
      str('workflow_id') + '82' + str('__uuid__') + 'c3' + str('as_str') + str(UUID);
    assert.equal(hex(frame), expected);
    const back = decodeEnvelope(frame);
    assert.deepEqual(back.args, { current_num: 2, is_snapshot: false, state: { second_key: 'second_value' } });
    assert.ok(back.workflowId instanceof Uuid && back.workflowId.asStr === UUID);
  });

  it('a later send of the same handler: workflow id "{uuid}_1" as a plain string', () => {
    const frame = encodeEnvelope({ order_id: 'A1' }, `${UUID}_1`);
    assert.equal(hex(frame), '82' + str('args') + '81' + str('order_id') + str('A1') + str('workflow_id') + str(`${UUID}_1`));
  });

  it('the reply envelope: return_args then workflow_id; a snapshot reply with workflow_id None', () => {
    assert.equal(hex(encodeReply({ ok: true }, 'w')), '82' + str('return_args') + '81' + str('ok') + 'c3' + str('workflow_id') + str('w'));
    assert.equal(
      hex(encodeReply({ state: { a: 1 }, current_num: 7 }, null)),
      '82' + str('return_args') + '82' + str('state') + '81' + str('a') + '01' + str('current_num') + '07' + str('workflow_id') + 'c0',
    );
  });

  it('Decimal and set as marker maps, in the key order of custom_encode', () => {
    assert.equal(hex(pack(new Decimal('123.45'))), '82' + str('__decimal__') + 'c3' + str('as_str') + str('123.45'));
    assert.equal(hex(pack(new Set(['a', 'b']))), '82' + str('__set__') + 'c3' + str('value') + '92' + str('a') + str('b'));
  });

  it('the datetime codec (ours): an ISO-8601 marker map, read back to the same instant', () => {
    const d = new Date('2024-01-02T03:04:05.678Z');
    assert.equal(hex(pack(d)), '82' + str('__datetime__') + 'c3' + str('as_str') + str('2024-01-02T03:04:05.678Z'));
    assert.equal((unpack(pack({ at: d })) as { at: Date }).at.getTime(), d.getTime());
  });

  it('integers in their smallest encoding, as Python packs them; big ones stay exact', () => {
    assert.equal(hex(pack(127)), '7f');
    assert.equal(hex(pack(-1)), 'ff');
    assert.equal(hex(pack(300)), 'cd012c');
    assert.equal(hex(pack(2 ** 32)), 'cf0000000100000000');
    assert.equal(hex(pack(5n)), '05');
    assert.equal(hex(pack(2n ** 40n)), 'cf0000010000000000');
    assert.equal(hex(pack(-(2 ** 40))), 'd3ffffff0000000000');
    assert.equal(hex(pack(18446744073709551615n)), 'cfffffffffffffffff');
    assert.equal(unpack(pack(18446744073709551615n)), 18446744073709551615n);
    assert.equal(unpack(pack(2 ** 40)), 2 ** 40);
    assert.equal(hex(pack(1.5)), 'cb3ff8000000000000');
  });

  it('keys holding undefined are left out (null is sent as nil)', () => {
    assert.equal(hex(pack({ a: undefined, b: null })), '81' + str('b') + 'c0');
  });

  it('bytes as bin (use_bin_type=True), strings as str', () => {
    assert.equal(hex(pack(new Uint8Array([1, 2]))), 'c4020102');
    assert.equal(hex(pack('é')), 'a2c3a9');
  });

  it('topics: msgpack(topic) + msgpack(envelope) in one frame', () => {
    const prefix = topicPrefixOf('prices');
    assert.equal(hex(prefix), str('prices'));
    const frame = encodeEnvelope({ p: 1 }, 'w', prefix);
    assert.equal(hex(frame), str('prices') + '82' + str('args') + '81' + str('p') + '01' + str('workflow_id') + str('w'));
    assert.deepEqual(decodeEnvelope(frame, prefix.length).args, { p: 1 });
    assert.equal(topicPrefixOf(undefined).length, 0);
  });

  it('reads values back into Decimal, Uuid, Set, nested', () => {
    const v = unpack(pack({ d: new Decimal('1.10'), u: new Uuid(UUID.toUpperCase()), s: new Set([1, 2]), n: [{ d: new Decimal('2') }] })) as Record<string, unknown>;
    assert.ok(v.d instanceof Decimal && v.d.asStr === '1.10');
    assert.ok(v.u instanceof Uuid && v.u.asStr === UUID);
    assert.deepEqual(v.s, new Set([1, 2]));
    assert.ok(((v.n as Array<{ d: Decimal }>)[0]!.d) instanceof Decimal);
  });

  it('malformed frames: not msgpack, not a map, no args, args not a map (SY_ERR_SERVICE_FRAME, from the catalogue)', () => {
    const frameError = (why: RegExp) => (err: Error & { code?: string }) => err.code === 'SY_ERR_SERVICE_FRAME' && why.test(err.message);
    assert.throws(() => decodeEnvelope(new Uint8Array([0xc1])), frameError(/is not msgpack/));
    assert.throws(() => decodeEnvelope(pack([1, 2])), frameError(/not a msgpack map/));
    assert.throws(() => decodeEnvelope(pack({ workflow_id: 'x' })), frameError(/no "args" key/));
    assert.throws(() => decodeEnvelope(pack({ args: 3 })), frameError(/"args" of the frame is not a map/));
    assert.throws(() => decodeReply(pack('no')), frameError(/reply is not a msgpack map/));
  });

  it('a reply without return_args reads as {} (the requester\'s `or {}`), with the error when one came', () => {
    assert.deepEqual(decodeReply(pack({ return_args: null, workflow_id: null })).returnArgs, {});
    assert.equal(decodeReply(encodeReply({}, null, 'bad')).error, 'bad');
  });

  it('refuses to pack values with no wire form, naming what to use', () => {
    assert.throws(() => pack(new (class Point { x = 1; })()), (err: Error & { code?: string }) => err.code === 'SY_ERR_SERVICE_VALUE' && /cannot pack a Point; use plain objects/.test(err.message));
    assert.throws(() => new Decimal('1.2.3'), (err: Error & { code?: string }) => err.code === 'SY_ERR_SERVICE_VALUE' && /not a decimal number/.test(err.message));
    assert.throws(() => new Uuid('not-a-uuid'), (err: Error & { code?: string }) => err.code === 'SY_ERR_SERVICE_VALUE' && /not a UUID/.test(err.message));
  });

  it('Float64 packs as float64 (0xcb) even when whole, as Python packs a float; it reads back as a number', () => {
    assert.equal(hex(pack(new Float64(2))), 'cb4000000000000000');
    assert.equal(hex(pack({ r: new Float64(-0) })), `81${str('r')}cb8000000000000000`);
    assert.equal(hex(pack(2)), '02'); // a bare number stays an int, as before
    assert.equal(unpack(pack(new Float64(2))), 2);
  });

  it('fields declared t.float (at any depth) go out as Float64 when whole; nothing else changes', () => {
    const mark = compileFloatMarker(
      { ratio: t.float, n: t.int, nested: { x: t.float, s: t.str }, list: [t.float], pair: t.tuple(t.int, Number), m: t.mapOf(t.str, t.nullable(t.float)) },
      { opt: t.float },
    );
    const args = { ratio: 2, n: 3, nested: { x: 4, s: 's', other: 5 }, list: [1, 1.5], pair: [6, 7], m: { a: 8, b: null }, opt: 9 };
    const out = mark(args) as Record<string, unknown>;
    assert.deepEqual(out, {
      ratio: new Float64(2), n: 3, nested: { x: new Float64(4), s: 's', other: 5 }, list: [new Float64(1), 1.5], pair: [6, new Float64(7)], m: { a: new Float64(8), b: null }, opt: new Float64(9),
    });
    assert.deepEqual(args.nested, { x: 4, s: 's', other: 5 }, 'the caller\'s args are not changed');
    // No float declared: the same object, no copy.
    const plain = { a: 1 };
    assert.equal(compileFloatMarker({ a: t.int }, {})(plain), plain);
  });

  it('end to end: a requester, a replyer\'s return args and a publisher declaring t.float send 2 as 2.0', async () => {
    const sockets = new MemorySockets();
    const frames: Uint8Array[] = [];
    try {
      await sockets.replyer('raw:1', (frame) => (frames.push(frame), encodeReply({}, null)));
      await sockets.subscriber('pub:1', new Uint8Array(0), (frame) => void frames.push(frame));
      const sender = await startService(service({ connections: { out: { ask: requester({ requiredArguments: { ratio: t.float } }), tell: publisher({ requiredArguments: { ratio: t.float } }) } } }),
        { sockets, addresses: { connections: { out: { ask: { requester: 'raw:1' }, tell: { publisher: 'pub:1' } } } } });
      await sender.toSend('connection', 'ask', { ratio: 2 });
      await sender.toSend('connection', 'tell', { ratio: 3 });
      const server = await startService(service({ connections: { in: { q: replyer({ requiredReturnArguments: { ratio: t.float } }, () => ({ ratio: 4 })) } } }),
        { sockets, addresses: { connections: { in: { q: { replyer: 'q:1' } } } } });
      const reply = await (await sockets.requester('q:1')).request(encodeEnvelope({}, null));
      await new Promise((r) => setImmediate(r));
      assert.ok(hex(frames[0]!).includes(`${str('ratio')}cb4000000000000000`), hex(frames[0]!));
      assert.ok(hex(frames[1]!).includes(`${str('ratio')}cb4008000000000000`), hex(frames[1]!));
      assert.ok(hex(reply).includes(`${str('ratio')}cb4010000000000000`), hex(reply));
      await sender.stop();
      await server.stop();
    } finally {
      await sockets.close();
    }
  });
});
