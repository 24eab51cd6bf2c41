// States over real ZeroMQ sockets and in-process: full updates, and a delta-state stream
// whose frames pass a relay that drops some of them (injected gaps): the receiver resets from
// the sender's snapshot and ends equal to the sender, deletions (null values) included.
// Plus main mode, the SIGINT handler, setup hooks and the config phase.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, service, replyer, requester, t, decodeEnvelope, decodeReply, pack, type RunningService,
} from '../../src/models/service/mod.js';
import type { Closable, SocketFactory } from '../../src/transports/sockets.js';
import { addresses, factories, waitFor, warmUp, watch } from './service-kit.js';

const addr = addresses(17630, 17659);

for (const { name: factoryName, make } of factories) {
  describe(`service states on ${factoryName} sockets`, () => {
    let sockets: SocketFactory;
    const running: RunningService[] = [];
    const closables: Closable[] = [];
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
      for (const c of closables) await c.close();
      await sockets.close();
    });

    it('full_update: every message replaces the receiver\'s state; handlers see it in `states`', async () => {
      const pub = addr();
      const rep = addr();
      const sender = await start(service({ states: { out: { price: { stateType: 'full_update_out', requiredArguments: { bid: t.int }, optionalArguments: { ask: t.int } } } } }),
        { sockets, addresses: { states: { out: { price: { publisher: pub } } } } });
      const receiver = await start(service({
        states: { in: { price: { stateType: 'full_update_in', requiredArguments: { bid: t.int }, optionalArguments: { ask: t.int } } } },
        connections: { in: { peek: replyer({ optionalReturnArguments: { seen: t.dict } }, (_a, _s, states) => ({ seen: states.price as Record<string, unknown> })) } },
      }), { sockets, addresses: { states: { in: { price: { subscriber: pub } } }, connections: { in: { peek: { replyer: rep } } } } });
      await warmUp(() => sender.toSend('state', 'price', { bid: -1 }), () => (receiver.states().price as { bid?: number }).bid === -1, 'the full-state receiver');
      await sender.toSend('state', 'price', { bid: 10, ask: 12 });
      await sender.toSend('state', 'price', { bid: 11 });
      await waitFor(() => (receiver.states().price as { bid?: number }).bid === 11, 'the last full update');
      assert.deepEqual(receiver.states().price, { bid: 11 });
      const caller = await start(service({ connections: { out: { peek: requester({ optionalReturnArguments: { seen: t.dict } }) } } }), { sockets, addresses: { connections: { out: { peek: { requester: rep } } } } });
      assert.deepEqual(await caller.toSend('connection', 'peek', {}), { seen: { bid: 11 } });
      await assert.rejects(sender.toSend('state', 'price', { ask: 1 }), /args of state "price" is not valid: field "bid": expected int \(required\)/);
    });

    it('delta_update: a stream with injected gaps recovers through snapshots and ends equal to the sender', async () => {
      const senderPub = addr();
      const senderRep = addr();
      const relayPub = addr();
      // Offsets (from the first delta after the warm-up) of the frames the relay drops.
      const drop = new Set([5, 6, 13, 22, 23, 24, 31]);
      let firstNum = Number.POSITIVE_INFINITY;
      const relayed: number[] = [];
      const dropped: number[] = [];
      // The relay: subscribes to the sender, republishes everything except the dropped frames.
      const out = await sockets.publisher(relayPub);
      closables.push(out);
      closables.push(await sockets.subscriber(senderPub, new Uint8Array(0), async (frame) => {
        const num = Number(decodeEnvelope(frame).args.current_num);
        if (drop.has(num - firstNum)) {
          dropped.push(num);
          return;
        }
        relayed.push(num);
        await out.publish(frame);
      }));
      const model = { stateType: 'delta_update_out', requiredArguments: { state: t.dict } } as const;
      const sender = await start(service({ states: { out: { book: model } } }), { sockets, addresses: { states: { out: { book: { publisher: senderPub, replyer: senderRep } } } } });
      // What each update did is a debug log line; the stream counts them.
      const w = watch('debug');
      const receiver = await start(service({ states: { in: { book: { stateType: 'delta_update_in', requiredArguments: { state: t.dict } } } } }),
        { sockets, addresses: { states: { in: { book: { subscriber: relayPub, requester: senderRep } } } }, observer: w.observer, logger: w.logger });
      const receiverNum = () => w.stateLog('book').at(-1)?.currentNum ?? -1;
      // Warm up with snapshots (numbered by the sender) until the receiver hears one through the relay.
      let probes = 0;
      await warmUp(() => (probes++, sender.toSend('state', 'book', { is_snapshot: true, state: {} })), () => receiverNum() >= 0, 'the delta receiver through the relay');
      // The sender's own number, from its snapshot replyer (the fixed sender reports its last update).
      const probe = await sockets.requester(senderRep);
      const snap = decodeReply(await probe.request(pack({ args: {} })));
      await probe.close();
      const n0 = Number(snap.returnArgs.current_num);
      // Numbered 0, 1, ... by the sender; the original's sender would report 0 whatever it sent.
      assert.equal(n0, probes - 1, 'the snapshot reports the number of the sender\'s last update');
      await waitFor(() => receiverNum() === n0, 'the receiver to catch up with the warm-up');
      firstNum = n0 + 1;
      const expected: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) {
        const delta: Record<string, unknown> = { [`k${i % 7}`]: i };
        if (i % 5 === 4) delta[`k${(i + 3) % 7}`] = null; // deletions travel as null
        for (const [k, v] of Object.entries(delta)) {
          if (v === null) delete expected[k];
          else expected[k] = v;
        }
        await sender.toSend('state', 'book', { state: delta });
        const num = firstNum + i;
        // Paced: each frame has passed the relay (and reached the receiver) before the next is sent.
        await waitFor(() => relayed.includes(num) || dropped.includes(num), `frame ${num} at the relay`);
        if (relayed.includes(num)) await waitFor(() => receiverNum() >= num, `frame ${num} at the receiver`);
      }
      assert.deepEqual(receiver.states().book, expected);
      assert.equal(receiverNum(), firstNum + 39);
      const outcomes = w.stateLog('book').map((e) => e.outcome);
      assert.equal(dropped.length, 7, 'the relay dropped the 7 frames');
      // One reset per run of dropped frames (5-6, 13, 22-24, 31): the next delta is a gap.
      assert.equal(outcomes.filter((o) => o === 'reset').length, 4, `outcomes: ${outcomes.join(',')}`);
      assert.equal(outcomes.filter((o) => o === 'applied').length, 40 - 7 - 4);
      assert.equal(w.of('rejected').length, 0);
      // Every update that arrived is received and handled; each snapshot request is a call on the state.
      assert.equal(w.of('received', 'book').length, w.of('handled', 'book').length);
      assert.equal(w.of('called', 'book').length, 4);
      assert.ok(w.of('called', 'book').every((e) => e.error === undefined));
    });
  });
}

describe('service lifecycle', () => {
  let sockets: SocketFactory;
  before(() => {
    sockets = factories[1]!.make();
  });
  after(async () => {
    await sockets.close();
  });

  it('main mode: main(toSend, config) runs, the service stops when it returns; inbound states are refused', async () => {
    const rep = addr();
    const got: number[] = [];
    const server = await startService(service({ connections: { in: { add: replyer({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } }, (a) => (got.push(Number(a.n)), { n: Number(a.n) + 1 })) } } }),
      { sockets, addresses: { connections: { in: { add: { replyer: rep } } } } });
    const results: unknown[] = [];
    const leading = await startService(service({
      config: { required: { count: t.str } },
      connections: { out: { add: requester({ requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } }) } },
      main: async (toSend, config) => {
        for (let n = 0; n < Number(config.count); n++) results.push(await toSend('connection', 'add', { n }));
      },
    }), { sockets, mainMode: true, config: { count: '3' }, addresses: { connections: { out: { add: { requester: rep } } } } });
    await leading.done;
    assert.deepEqual(results, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.deepEqual(got, [0, 1, 2]);
    await server.stop();

    await assert.rejects(startService(service({ states: { in: { s: { stateType: 'full_update_in' } } }, main: () => undefined }), { sockets, mainMode: true, addresses: { states: { in: { s: { subscriber: addr() } } } } }),
      /SY_ERR_SERVICE_MAIN_MODE: main mode: inbound states \(s\) are not allowed/);
    await assert.rejects(startService(service({}), { sockets, mainMode: true }), /has no main function/);
    const failing = await startService(service({ main: () => { throw new Error('main broke'); } }), { sockets, mainMode: true });
    await assert.rejects(failing.done, /main broke/);
  });

  it('the SIGINT handler gets toSend, states and config, and can still send', async () => {
    const pub = addr();
    const last: unknown[] = [];
    const listener = await startService(service({ connections: { in: { bye: { connectionType: 'subscriber', optionalArguments: { who: t.str }, onNewMessage: (a: Record<string, unknown>) => void last.push(a.who) } } } }),
      { sockets, addresses: { connections: { in: { bye: { subscriber: pub } } } } });
    let seen: { signal?: string; config?: unknown } = {};
    const svc = await startService(service({
      config: { optional: { me: t.str } },
      connections: { out: { bye: { connectionType: 'publisher', optionalArguments: { who: t.str }, waitAfterCreationS: 0.05 } } },
      sigintHandler: async (signal, toSend, _states, config) => {
        seen = { signal, config };
        await toSend('connection', 'bye', { who: String(config.me) });
      },
    }), { sockets, config: { me: 'svc-1' }, addresses: { connections: { out: { bye: { publisher: pub } } } } });
    await warmUp(() => svc.toSend('connection', 'bye', { who: 'probe' }), () => last.length > 0, 'the listener');
    await svc.sigint('SIGINT');
    await svc.stop();
    await svc.done;
    await waitFor(() => last.includes('svc-1'), 'the goodbye sent from the SIGINT handler');
    assert.deepEqual(seen, { signal: 'SIGINT', config: { me: 'svc-1' } });
    await listener.stop();
  });

  it('start-up order and hooks: setupConfig before validation, setupAddresses, setupConnections, setupStates', async () => {
    const order: string[] = [];
    const rep = addr();
    const svc = await startService(service({
      config: { required: { port: t.str, mode: t.str } },
      setupConfig: (c) => (order.push('config'), { ...c, mode: 'fast' }),
      setupAddresses: (a, c) => (order.push(`addresses:${String(c.mode)}`), { connections: { in: { ping: { replyer: `127.0.0.1:${String(c.port)}` } } } }),
      setupConnections: (m, c) => (order.push(`connections:${String(c.mode)}`), {
        ...m, in: { ping: replyer({ optionalReturnArguments: { pong: t.bool } }, () => ({ pong: true })) },
      }),
      setupStates: (m) => (order.push('states'), m),
    }), { sockets, config: { port: rep.split(':')[1]! }, addresses: { connections: {} } });
    assert.deepEqual(order, ['config', 'addresses:fast', 'connections:fast', 'states']);
    const raw = await sockets.requester(rep);
    assert.ok((await raw.request(new Uint8Array([0x81, 0xa4, 0x61, 0x72, 0x67, 0x73, 0x80]))).length > 0);
    await raw.close();
    await svc.stop();
  });

  it('config: validated against the model; a config without a model is refused; models and addresses are checked', async () => {
    await assert.rejects(startService(service({ config: { required: { symbol: t.str } } }), { sockets, config: {} }), /SY_ERR_VALIDATION: config is not valid: field "symbol": expected str \(required\)/);
    await assert.rejects(startService(service({ config: { required: { symbol: t.str } } }), { sockets, config: { symbol: 'X', extra: '1' } }), /field "extra": expected no such key/);
    await assert.rejects(startService(service({}), { sockets, config: { a: '1' } }), /declares no config model/);
    await assert.rejects(startService(service({ connections: { in: { x: { connectionType: 'requester' } as never } } }), { sockets }), /"requester" belongs on the other side/);
    await assert.rejects(startService(service({ connections: { out: { x: { connectionType: 'publisher', topik: 'a' } as never } } }), { sockets }), /unknown key "topik"/);
    await assert.rejects(startService(service({ connections: { in: { x: { connectionType: 'replyer' } as never } } }), { sockets }), /needs onNewRequest/);
    await assert.rejects(startService(service({ connections: { out: { x: { connectionType: 'requester' } } } }), { sockets, addresses: {} }), /SY_ERR_SERVICE_ADDRESSES: addresses: connections.out.x is missing \(a requester needs "requester"\)/);
    await assert.rejects(startService(service({ states: { out: { s: { stateType: 'delta_update_out' } } } }), { sockets, addresses: { states: { out: { s: { publisher: addr() } } } } }), /states.out.s.replyer is missing/);
  });
});
