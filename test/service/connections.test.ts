// Every connection type, on real ZeroMQ sockets over loopback and on the in-process sockets,
// with the same service code: replyer/requester, publisher/subscriber with topics, the
// XPUB/XSUB proxy, external requests, validation both ways, workflow ids, malformed frames.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, service, replyer, requester, publisher, subscriber, externalRequest, t, pack, Uuid,
  type RunningService, decodeEnvelope, decodeReply, encodeEnvelope,
} from '../../src/models/service/mod.js';
import type { SocketFactory } from '../../src/transports/sockets.js';
import { addresses, factories, waitFor, warmUp, watch } from './service-kit.js';

const addr = addresses(17600, 17629);

for (const { name: factoryName, make } of factories) {
  describe(`service connections on ${factoryName} sockets`, () => {
    let sockets: SocketFactory;
    const running: RunningService[] = [];
    const start = async (...a: Parameters<typeof startService>) => {
      const s = await startService(...a);
      running.push(s);
      return s;
    };
    before(() => {
      sockets = make();
    });
    after(async () => {
      for (const s of running.reverse()) await s.stop();
      await sockets.close();
    });

    it('replyer and requester: a synchronous round trip with validated args and return args', async () => {
      const a = addr();
      const w = watch();
      await start(service({
        connections: {
          in: {
            cancel_order: replyer(
              { requiredArguments: { order_id: t.str }, optionalArguments: { reason: t.str }, requiredReturnArguments: { cancelled: t.str } },
              (args) => ({ cancelled: args.order_id }),
            ),
          },
        },
      }), { sockets, addresses: { connections: { in: { cancel_order: { replyer: a } } } }, observer: w.observer });
      const caller = await start(service({
        connections: { out: { cancel_order: requester({ requiredArguments: { order_id: t.str }, optionalArguments: { reason: t.str }, requiredReturnArguments: { cancelled: t.str } }) } },
      }), { sockets, addresses: { connections: { out: { cancel_order: { requester: a } } } } });
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await caller.toSend('connection', 'cancel_order', { order_id: `o${i}` }), { cancelled: `o${i}` });
      }
      assert.equal(w.of('handled', 'cancel_order').length, 5);
      // Outbound validation happens before anything is sent.
      await assert.rejects(caller.toSend('connection', 'cancel_order', { order_id: 1 }), /outbound args of connection "cancel_order" is not valid: field "order_id": expected str, got integer/);
      await assert.rejects(caller.toSend('connection', 'cancel_order', { order_id: 'x', note: 'n' }), /field "note": expected no such key/);
      await assert.rejects(caller.toSend('connection', 'nope', {}), /SY_ERR_SERVICE_OUTPUT.*known: "cancel_order"/);
      assert.equal(w.of('handled', 'cancel_order').length, 5);
    });

    it('inbound and return validation failures are answered with the reason, and the replyer keeps serving', async () => {
      const a = addr();
      await start(service({
        connections: {
          in: {
            calc: replyer({ requiredArguments: { n: t.int }, requiredReturnArguments: { double: t.int } }, (args) =>
              (args.n === 13 ? { double: 'thirteen' } : { double: Number(args.n) * 2 }) as { double: number }),
          },
        },
      }), { sockets, addresses: { connections: { in: { calc: { replyer: a } } } } });
      const raw = await sockets.requester(a);
      const badIn = decodeReply(await raw.request(encodeEnvelope({ n: 'x' }, 'w1')));
      assert.match(badIn.error!, /inbound args of connection "calc" is not valid: field "n": expected int, got string/);
      assert.equal(badIn.workflowId, 'w1');
      const caller = await start(service({ connections: { out: { calc: requester({ requiredArguments: { n: t.int }, requiredReturnArguments: { double: t.int } }) } } }),
        { sockets, addresses: { connections: { out: { calc: { requester: a } } } } });
      await assert.rejects(caller.toSend('connection', 'calc', { n: 13 }), /SY_ERR_SERVICE_REMOTE: the replyer behind connection "calc" could not answer: .*return args of connection "calc" is not valid: field "double": expected int, got string/);
      assert.deepEqual(await caller.toSend('connection', 'calc', { n: 4 }), { double: 8 });
      await raw.close();
    });

    it('malformed frames (not msgpack, no args) are answered or dropped with a logged reason; the service goes on', async () => {
      const rep = addr();
      const pub = addr();
      const w = watch();
      const got: unknown[] = [];
      await start(service({
        connections: {
          in: {
            echo: replyer({ optionalArguments: { x: t.int }, optionalReturnArguments: { x: t.int } }, (args) => args),
            feed: subscriber({ requiredArguments: { x: t.int } }, (args) => void got.push(args.x)),
          },
        },
      }), { sockets, addresses: { connections: { in: { echo: { replyer: rep }, feed: { subscriber: pub } } } }, observer: w.observer, logger: w.logger });
      const raw = await sockets.requester(rep);
      const notMsgpack = decodeReply(await raw.request(new Uint8Array([0xc1, 0xff, 0x00])));
      assert.match(notMsgpack.error!, /is not msgpack/);
      const noArgs = decodeReply(await raw.request(pack({ workflow_id: 'w' })));
      assert.match(noArgs.error!, /no "args" key/);
      assert.deepEqual(decodeReply(await raw.request(encodeEnvelope({ x: 1 }, null))).returnArgs, { x: 1 });

      const rawPub = await sockets.publisher(pub);
      await warmUp(() => rawPub.publish(encodeEnvelope({ x: -1 }, null)), () => got.length > 0, 'the subscriber');
      await rawPub.publish(new Uint8Array([0xc1]));
      await rawPub.publish(pack({ nope: true }));
      await rawPub.publish(encodeEnvelope({ x: 'str' }, null));
      await rawPub.publish(encodeEnvelope({ x: 42 }, null));
      await waitFor(() => got.includes(42), 'the valid message after the malformed ones');
      // Refused, by kind, on the stream; the reasons in the (rate-limited) log.
      assert.deepEqual(w.of('rejected', 'feed').map((e) => e.reason), ['undecodable', 'undecodable', 'invalid']);
      assert.deepEqual(w.of('rejected', 'echo').map((e) => e.reason), ['undecodable', 'undecodable']);
      const reasons = w.lines.filter((l) => l.input === 'feed').map((l) => String(l.reason));
      assert.equal(reasons.length, 3);
      assert.match(reasons[0]!, /not msgpack/);
      assert.match(reasons[1]!, /no "args" key/);
      assert.match(reasons[2]!, /field "x": expected int, got string/);
      await raw.close();
      await rawPub.close();
    });

    it('publisher and subscriber with a topic: a single-frame prefix; other topics are filtered out', async () => {
      const a = addr();
      const prices: number[] = [];
      const others: number[] = [];
      const model = { requiredArguments: { seq: t.int } } as const;
      await start(service({
        connections: { in: { prices: subscriber({ ...model, topic: 'prices' }, (args) => void prices.push(Number(args.seq))) } },
      }), { sockets, addresses: { connections: { in: { prices: { subscriber: a } } } } });
      await start(service({
        connections: { in: { other: subscriber({ ...model, topic: 'pricesX' }, (args) => void others.push(Number(args.seq))) } },
      }), { sockets, addresses: { connections: { in: { other: { subscriber: a } } } } });
      const pub = await start(service({ connections: { out: { prices: publisher({ ...model, topic: 'prices', waitAfterCreationS: 0.05 }) } } }),
        { sockets, addresses: { connections: { out: { prices: { publisher: a } } } } });
      await warmUp(() => pub.toSend('connection', 'prices', { seq: -1 }), () => prices.length > 0, 'the subscriber');
      for (let i = 0; i < 50; i++) assert.deepEqual(await pub.toSend('connection', 'prices', { seq: i }), {});
      await waitFor(() => prices.includes(49), 'all 50 messages');
      assert.deepEqual(prices.filter((s) => s >= 0), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(others, []);
    });

    it('XPUB/XSUB proxy: publishers connect to the frontend (isXPub), subscribers to the backend', async () => {
      const front = addr();
      const back = addr();
      const proxy = await sockets.proxy(front, back);
      const got: string[] = [];
      await start(service({ connections: { in: { bus: subscriber({ requiredArguments: { from: t.str, n: t.int } }, (args) => void got.push(`${args.from}${args.n}`)) } } }),
        { sockets, addresses: { connections: { in: { bus: { subscriber: back } } } } });
      const pubs = await Promise.all(['a', 'b'].map((who) => start(service({
        connections: { out: { bus: publisher({ requiredArguments: { from: t.str, n: t.int }, isXPub: true, waitAfterCreationS: 0.05 }) } },
      }), { sockets, addresses: { connections: { out: { bus: { publisher: front } } } } }).then((s) => ({ who, s }))));
      for (const { who, s } of pubs) await warmUp(() => s.toSend('connection', 'bus', { from: who, n: -1 }), () => got.includes(`${who}-1`), `the subscriber through the proxy from ${who}`);
      for (let n = 0; n < 10; n++) for (const { who, s } of pubs) await s.toSend('connection', 'bus', { from: who, n });
      await waitFor(() => got.includes('a9') && got.includes('b9'), 'both publishers\' last messages');
      for (const who of ['a', 'b']) assert.deepEqual(got.filter((g) => g.startsWith(who) && !g.endsWith('-1')), Array.from({ length: 10 }, (_, n) => `${who}${n}`));
      await proxy.close();
    });

    it('external request: a function in place of a socket, validated both ways', async () => {
      const s = await start(service({
        connections: {
          out: {
            add: externalRequest({ requiredArguments: { a: t.int, b: t.int }, requiredReturnArguments: { sum: t.int } }, (args) => ({ sum: Number(args.a) + Number(args.b) })),
          },
        },
      }), { sockets });
      assert.deepEqual(await s.toSend('connection', 'add', { a: 2, b: 3 }), { sum: 5 });
      await assert.rejects(s.toSend('connection', 'add', { a: 2 }), /field "b": expected int \(required\)/);
    });

    it('workflow ids: a handler\'s sends carry the inbound id, then "{id}_1", "{id}_2"; main-mode sends a new UUID each', async () => {
      const rep = addr();
      const pub = addr();
      const fan = watch();
      const go = watch();
      const model = { optionalArguments: { n: t.int } } as const;
      await start(service({ connections: { in: { fan: subscriber(model, () => undefined) } } }),
        { sockets, addresses: { connections: { in: { fan: { subscriber: pub } } } }, observer: fan.observer });
      // The frames as they are on the wire, for the id's type.
      const frames: unknown[] = [];
      const tap = await sockets.subscriber(pub, new Uint8Array(0), (frame) => void frames.push(decodeEnvelope(frame).workflowId));
      await start(service({
        connections: {
          in: { go: replyer(model, async (_args, toSend) => { for (let n = 0; n < 3; n++) await toSend('connection', 'fan', { n }); return {}; }) },
          out: { fan: publisher({ ...model, waitAfterCreationS: 0.05 }) },
        },
      }), { sockets, addresses: { connections: { in: { go: { replyer: rep } }, out: { fan: { publisher: pub } } } }, observer: go.observer });
      const caller = await start(service({ connections: { out: { go: requester(model) } } }), { sockets, addresses: { connections: { out: { go: { requester: rep } } } } });
      await warmUp(() => caller.toSend('connection', 'go', {}), () => fan.of('handled').length > 0 && frames.length > 0, 'the fan-out subscribers');
      const before = fan.of('handled').length;
      const framesBefore = frames.length;
      const raw = await sockets.requester(rep);
      const id = Uuid.random();
      await raw.request(encodeEnvelope({}, id));
      await waitFor(() => fan.of('handled').length >= before + 3 && frames.length >= framesBefore + 3, 'three fan-out messages');
      const ids = fan.of('handled').slice(before).map((e) => e.id);
      assert.deepEqual(ids, [id.asStr, `${id.asStr}_1`, `${id.asStr}_2`]);
      assert.ok(frames[framesBefore] instanceof Uuid, 'the first send keeps the UUID type');
      // The request's ending names the three publications it produced.
      const handledGo = go.of('handled', 'go').find((e) => e.id === id.asStr);
      assert.deepEqual(handledGo?.produced, ids.map((i) => ({ output: 'fan', id: i })));
      // Sends from outside a handler (main mode, tests) get a new UUID each time.
      await caller.toSend('connection', 'go', {});
      await caller.toSend('connection', 'go', {});
      const [x, y] = go.of('handled', 'go').slice(-2).map((e) => e.id);
      assert.ok(Uuid.isText(x!) && Uuid.isText(y!) && x !== y, `two fresh UUIDs, got ${String(x)} and ${String(y)}`);
      await raw.close();
      await tap.close();
    });
  });
}
