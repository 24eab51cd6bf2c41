// Wire compatibility with Python: a peer written with pyzmq and msgpack exactly as
// service_framework packs (test/service/fixtures/python_peer.py; Debian's python3-zmq and
// python3-msgpack, installed by .ci/run). Our bytes equal Python's packb bytes, a Python
// requester talks to our replyer, our requester to a Python replyer, and a Python subscriber
// with a topic hears our publisher and ours hears a Python publisher. Loopback ports
// 17670-17679; children killed by PID.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startService, service, replyer, requester, publisher, subscriber, t, pack, encodeEnvelope, encodeReply, topicPrefixOf, Decimal, Uuid,
} from '../../src/models/service/mod.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import { waitFor, watch } from './service-kit.js';

const PEER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'python_peer.py');
// Debian's interpreter, where python3-zmq and python3-msgpack live (not a pyenv shim).
const PYTHON = '/usr/bin/python3';
const T = { timeout: 20_000 };
const UUID_1 = '12345678-1234-5678-1234-567812345678';

const children = new Set<ChildProcess>();
function python(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { child, out: () => out, err: () => err, exited };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('wire compatibility with a Python service_framework peer', () => {
  after(() => {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  });

  it('our msgpack bytes equal Python\'s packb(default=custom_encode, use_bin_type=True), case by case', T, async () => {
    const p = python(['pack']);
    assert.equal(await within(p.exited, 10_000, 'python pack'), 0, p.err());
    const theirs = JSON.parse(p.out()) as Record<string, string>;
    const u = new Uuid(UUID_1);
    const ours: Record<string, Uint8Array> = {
      delta: encodeEnvelope({ current_num: 2, is_snapshot: false, state: { second_key: 'second_value' } }, u),
      later_id: encodeEnvelope({ order_id: 'A1' }, `${UUID_1}_1`),
      snapshot_reply: encodeReply({ state: { a: 1 }, current_num: 7 }, null),
      decimal: pack(new Decimal('123.45')),
      set: pack(new Set([1, 2, 3])),
      ints: pack([0, 127, 128, -1, -32, -33, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40), 2n ** 64n - 1n]),
      floats: pack([1.5, -0.25, 1e100]),
      bytes_and_text: pack([new Uint8Array([0, 1]), 'é', 'x'.repeat(40), null, true, false]),
      nested: pack({ a: [{ b: new Decimal('1') }], c: { d: u } }),
      topic_prefix: topicPrefixOf('prices'),
    };
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const [name, bytes] of Object.entries(ours)) assert.equal(Buffer.from(bytes).toString('hex'), theirs[name], `case ${name}`);
  });

  it('a Python requester calls our replyer: Decimal, UUID, set and big ints arrive typed; the reply reaches Python typed', T, async () => {
    const address = '127.0.0.1:17670';
    const sockets = new ZeroMqSockets();
    const seen: Record<string, unknown>[] = [];
    const svc = await startService(service({
      connections: {
        in: {
          quote: replyer({
            requiredArguments: { price: t.Decimal, id: t.UUID, tags: t.setOf(t.int), big: t.int, raw: t.bytes },
            requiredReturnArguments: { doubled: t.Decimal, id: t.UUID, tags: t.set },
          }, (args) => {
            seen.push(args);
            return { doubled: new Decimal(String(args.price.toNumber() * 2)), id: args.id, tags: new Set(['a']) };
          }),
        },
      },
    }), { sockets, addresses: { connections: { in: { quote: { replyer: address } } } } });
    try {
      const p = python(['requester', '17670']);
      assert.equal(await within(p.exited, 10_000, 'python requester'), 0, p.err());
      const reply = JSON.parse(p.out()) as { return_args: Record<string, unknown>; workflow_id: unknown };
      assert.deepEqual(reply.return_args, { doubled: { type: 'Decimal', value: '20.5' }, id: { type: 'UUID', value: UUID_1 }, tags: { type: 'set', value: ['a'] } });
      assert.deepEqual(reply.workflow_id, { type: 'UUID', value: UUID_1 });
      const args = seen[0]!;
      assert.ok(args.price instanceof Decimal && args.price.asStr === '10.25');
      assert.ok(args.id instanceof Uuid && args.id.asStr === UUID_1);
      assert.deepEqual(args.tags, new Set([1, 2]));
      assert.equal(args.big, 2 ** 40);
      assert.deepEqual(Uint8Array.from(args.raw as Uint8Array), new Uint8Array([1]));
    } finally {
      await svc.stop();
      await sockets.close();
    }
  });

  it('our requester calls a Python replyer; Python sees its own types; the reply comes back typed', T, async () => {
    const p = python(['replyer', '17671', '1']);
    const sockets = new ZeroMqSockets();
    try {
      const svc = await startService(service({
        connections: {
          out: {
            quote: requester({
              requiredArguments: { price: t.Decimal, id: t.UUID, tags: t.set, when: t.datetime },
              requiredReturnArguments: { seen: t.dict, total: t.Decimal, tags: t.setOf(t.str) },
              timeoutMs: 10_000,
            }),
          },
        },
      }), { sockets, addresses: { connections: { out: { quote: { requester: '127.0.0.1:17671' } } } } });
      const when = new Date('2024-05-06T07:08:09.000Z');
      const reply = await svc.toSend('connection', 'quote', { price: new Decimal('1.25'), id: new Uuid(UUID_1), tags: new Set([3]), when });
      assert.ok(reply.total instanceof Decimal && reply.total.asStr === '2.50');
      assert.deepEqual(reply.tags, new Set(['x']));
      assert.deepEqual(reply.seen, {
        price: { type: 'Decimal', value: '1.25' },
        id: { type: 'UUID', value: UUID_1 },
        tags: { type: 'set', value: [3] },
        // Our datetime codec reaches Python as a plain marker dict (Python has no hook for it);
        // echoed back unchanged, it turns into a Date again here.
        when,
      });
      await svc.stop();
      assert.equal(await within(p.exited, 10_000, 'python replyer'), 0, p.err());
    } finally {
      await sockets.close();
    }
  });

  it('our subscriber with a topic hears a Python publisher; other topics are filtered out', T, async () => {
    const sockets = new ZeroMqSockets();
    const got: Array<{ seq: number; px: unknown }> = [];
    const watching = watch();
    const svc = await startService(service({
      connections: { in: { ticks: subscriber({ requiredArguments: { seq: t.int, px: t.Decimal }, topic: 'ticks' }, (args) => void got.push({ seq: Number(args.seq), px: args.px })) } },
    }), { sockets, addresses: { connections: { in: { ticks: { subscriber: '127.0.0.1:17673' } } } }, observer: watching.observer });
    try {
      const p = python(['publisher', '17673', 'ticks']);
      assert.equal(await within(p.exited, 15_000, 'python publisher'), 0, p.err());
      await waitFor(() => got.at(-1)?.seq === 199, 'the last message from Python', 10_000);
      // Everything from the moment the subscription was up: a contiguous run ending at 199.
      assert.ok(got.length > 50, `only ${got.length} messages arrived`);
      const first = got[0]!.seq;
      assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 200 - first }, (_, i) => first + i));
      assert.ok(got.every((g) => g.px instanceof Decimal && Number(g.px.asStr) === g.seq / 4));
      assert.ok(watching.of('handled', 'ticks').every((e) => e.id === UUID_1));
    } finally {
      await svc.stop();
      await sockets.close();
    }
  });

  it('a Python subscriber with a topic hears our publisher (single-frame msgpack(topic) prefix)', T, async () => {
    const sockets = new ZeroMqSockets();
    const p = python(['subscriber', '17672', 'ticks']);
    try {
      const svc = await startService(service({
        connections: { out: { ticks: publisher({ requiredArguments: { seq: t.int }, optionalArguments: { px: t.Decimal }, topic: 'ticks', waitAfterCreationS: 0.05 }) } },
      }), { sockets, addresses: { connections: { out: { ticks: { publisher: '127.0.0.1:17672' } } } } });
      for (let i = 0; i < 300 && p.out() === ''; i++) {
        await svc.toSend('connection', 'ticks', { seq: -1 });
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.notEqual(p.out(), '', `the Python subscriber heard nothing: ${p.err()}`);
      for (let seq = 0; seq < 5; seq++) await svc.toSend('connection', 'ticks', { seq, px: new Decimal(`${seq}.5`) });
      await svc.toSend('connection', 'ticks', { seq: -2 });
      assert.equal(await within(p.exited, 10_000, 'python subscriber'), 0, p.err());
      const lines = p.out().trim().split('\n').map((l) => JSON.parse(l) as { seq: number; px?: unknown }).filter((l) => l.seq >= 0);
      assert.deepEqual(lines, [0, 1, 2, 3, 4].map((seq) => ({ seq, px: { type: 'Decimal', value: `${seq}.5` } })));
      await svc.stop();
    } finally {
      await sockets.close();
    }
  });
});
