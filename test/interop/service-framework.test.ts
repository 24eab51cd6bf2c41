// Wire compatibility with the REAL Python service_framework 0.0.3, run unchanged from
// ../shared/upstream/service_framework-7ee29d5 (test/support/service-framework-peer.ts).
// One Python process serves the whole suite: its service module
// (fixtures/service_framework_peer.py) declares a connection and a state of every type, both
// ways, with and without topics, and our side drives it through its `control` replyer.
// Checked both ways: requests with typed results, arg-model validation errors and timeouts,
// publisher/subscriber with a topic, full and delta states with a gap (snapshot request),
// topic-prefixed states, malformed input from the peer, and the fixes this suite found
// (float packing, datetimes on Python 3.6+, a delta gap that stalled the replyer).
//
// The framework stops its loop on the first exception in a handler: a test that breaks the
// peer fails fast with the peer's log (whileRunning), and the float test, which kills the
// peer when floats go out as ints, runs last.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pack, encodeEnvelope } from '../../src/models/service/wire/mod.js';
import {
  Decimal, Uuid, publisher, replyer, requester, service, startService, subscriber, t,
  type RunningService,
} from '../../src/models/service/mod.js';
import { watch } from '../service/service-kit.js';
import { ZeroMqSockets } from '../../src/transports/zeromq/mod.js';
import {
  freePorts, PEER_MODULE, PYTHON, readmeDatetimeSnippet, requirePython, startPythonService, whileRunning, type PythonService,
} from '../support/service-framework-peer.js';

const T = { timeout: 60_000 };

type Result = { ok?: unknown; error?: string };

const SOCKETS = [
  'control', 'echo', 'pyTicks', 'pyFull', 'pyFullT', 'pyDeltaPub', 'pyDeltaRep', 'pyDeltaTPub', 'pyDeltaTRep',
  'quote', 'ourTicks', 'ourFull', 'ourFullT', 'ourDeltaPub', 'ourDeltaRep', 'ourDeltaTPub', 'ourDeltaTRep',
] as const;
type Addresses = Record<(typeof SOCKETS)[number], string>;

async function until<V>(what: string, probe: () => Promise<V>, done: (v: V) => boolean, ms = 15_000, everyMs = 50): Promise<V> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('interop: the real service_framework 0.0.3 (Python) and a Switchyard service', () => {
  let peer: PythonService;
  let ours: RunningService;
  const sockets = new ZeroMqSockets();
  const extraSockets: ZeroMqSockets[] = [];
  // Our service's events, and its log at debug (what each state update did, snapshots served).
  const w = watch('debug');
  const quoteSeen: Array<{ args: Record<string, unknown> }> = [];
  const ticks: Array<Record<string, unknown>> = [];
  let a: Addresses;

  const control = async (op: string, payload: Record<string, unknown> = {}): Promise<Result> => {
    const reply = await whileRunning(peer, ours.toSend('connection', 'control', { op, payload }), `control ${op}`);
    return reply.result as Result;
  };
  const ok = async (op: string, payload: Record<string, unknown> = {}): Promise<unknown> => {
    const r = await control(op, payload);
    assert.equal(r.error, undefined, `control ${op} failed on the Python side: ${r.error}`);
    return r.ok;
  };
  const pyStates = async () => (await ok('states')) as Record<string, unknown>;

  before(async () => {
    requirePython();
    const ports = await freePorts(SOCKETS.length);
    a = Object.fromEntries(SOCKETS.map((name, i) => [name, `127.0.0.1:${ports[i]}`])) as Addresses;
    const snippet = readmeDatetimeSnippet();
    peer = await startPythonService({
      module: { file: PEER_MODULE },
      files: snippet ? { 'switchyard_datetime.py': snippet } : {},
      addresses: {
        connections: {
          in: { control: { replyer: a.control }, echo: { replyer: a.echo }, ticks: { subscriber: a.ourTicks } },
          out: { call_ours: { requester: a.quote }, pub_ticks: { publisher: a.pyTicks } },
        },
        states: {
          out: {
            py_full: { publisher: a.pyFull }, py_full_t: { publisher: a.pyFullT },
            py_delta: { publisher: a.pyDeltaPub, replyer: a.pyDeltaRep }, py_delta_t: { publisher: a.pyDeltaTPub, replyer: a.pyDeltaTRep },
          },
          in: {
            our_full: { subscriber: a.ourFull }, our_full_t: { subscriber: a.ourFullT },
            our_delta: { subscriber: a.ourDeltaPub, requester: a.ourDeltaRep }, our_delta_t: { subscriber: a.ourDeltaTPub, requester: a.ourDeltaTRep },
          },
        },
      },
    });
    ours = await startService(service({
      connections: {
        in: {
          quote: replyer({
            requiredArguments: { symbol: t.str, qty: t.int },
            optionalArguments: { price: t.Decimal, ratio: t.float },
            requiredReturnArguments: { symbol: t.str },
            optionalReturnArguments: { total: t.Decimal, ratio: t.float },
          }, (args) => {
            quoteSeen.push({ args });
            return {
              symbol: args.symbol,
              ...(args.price ? { total: new Decimal(String(args.price.toNumber() * Number(args.qty))) } : {}),
              ...(args.ratio !== undefined ? { ratio: args.ratio } : {}),
            };
          }),
          ticks: subscriber({ topic: 'ticks', requiredArguments: { seq: t.int }, optionalArguments: { px: t.Decimal } }, (args) => void ticks.push(args)),
        },
        out: {
          control: requester({ requiredArguments: { op: t.str, payload: t.dict }, requiredReturnArguments: { result: t.any }, timeoutMs: 20_000 }),
          echo: requester({
            requiredArguments: { name: t.str, ratio: t.float },
            optionalArguments: { sleep_ms: t.int, price: t.Decimal, id: t.UUID, tags: t.setOf(t.int), when: t.datetime },
            requiredReturnArguments: { greeting: t.str, ratio: t.float, seen: t.dict },
            timeoutMs: 15_000,
          }),
          echo_fast: requester({ requiredArguments: { name: t.str, ratio: t.float }, optionalArguments: { sleep_ms: t.int }, requiredReturnArguments: { greeting: t.str, ratio: t.float, seen: t.dict }, timeoutMs: 400 }),
          pub: publisher({ topic: 'ticks', requiredArguments: { seq: t.int }, optionalArguments: { px: t.Decimal, ratio: t.float }, waitAfterCreationS: 0 }),
        },
      },
      states: {
        in: {
          py_full: { stateType: 'full_update_in', requiredArguments: { value: t.any } },
          // Long enough that a stalled loop cannot hide behind the snapshot timeout (see the gap-stall test).
          py_delta: { stateType: 'delta_update_in', snapshotTimeoutMs: 60_000 },
        },
        out: {
          our_full: { stateType: 'full_update_out', requiredArguments: { value: t.any } },
          our_delta: { stateType: 'delta_update_out' },
        },
      },
    }), {
      sockets,
      name: 'ours',
      observer: w.observer,
      logger: w.logger,
      addresses: {
        connections: {
          in: { quote: { replyer: a.quote }, ticks: { subscriber: a.pyTicks } },
          out: { control: { requester: a.control }, echo: { requester: a.echo }, echo_fast: { requester: a.echo }, pub: { publisher: a.ourTicks } },
        },
        states: {
          in: { py_full: { subscriber: a.pyFull }, py_delta: { subscriber: a.pyDeltaPub, requester: a.pyDeltaRep } },
          out: { our_full: { publisher: a.ourFull }, our_delta: { publisher: a.ourDeltaPub, replyer: a.ourDeltaRep } },
        },
      },
    });
    // The framework is up once its control replyer answers (the request waits in our REQ queue until it binds).
    assert.equal(await ok('ping'), 'pong');
  });

  after(async () => {
    await ours?.stop().catch(() => undefined);
    await sockets.close();
    for (const s of extraSockets) await s.close();
    await peer?.stop();
  });

  it('a Python requester calls our replyer: typed args and results, workflow ids "{id}" then "{id}_1"', T, async () => {
    quoteSeen.length = 0;
    const handledBefore = w.of('handled', 'quote').length;
    const result = await ok('call', { calls: [{ symbol: 'BTC', qty: 3, price: new Decimal('1.5') }, { symbol: 'ETH', qty: 1 }] });
    assert.deepEqual(result, [{ symbol: 'BTC', total: { py: 'Decimal', value: '4.5' } }, { symbol: 'ETH' }]);
    assert.equal(quoteSeen.length, 2);
    assert.ok(quoteSeen[0]!.args.price instanceof Decimal && quoteSeen[0]!.args.price.asStr === '1.5');
    assert.equal(quoteSeen[0]!.args.qty, 3);
    // The handler's to_send carries the inbound id (our control request's UUID), then "{id}_1".
    const ids = w.of('handled', 'quote').slice(handledBefore).map((e) => e.id);
    assert.equal(ids.length, 2);
    assert.ok(Uuid.isText(ids[0]!), `first id: ${String(ids[0])}`);
    assert.equal(ids[1], `${String(ids[0])}_1`);
  });

  it('a Python requester whose args our model refuses: our error reply reads as empty return_args, so the framework\'s return validator raises', T, async () => {
    const before = w.of('rejected', 'quote').length;
    const r = await control('call', { calls: [{ symbol: 42, qty: 1 }] });
    assert.match(r.error ?? '', /^ValueError: Key "symbol" not in new arg "\{\}"/);
    assert.deepEqual(w.of('rejected', 'quote').slice(before).map((e) => e.reason), ['invalid']);
    assert.match(String(w.lines.filter((l) => l.input === 'quote').at(-1)?.reason), /field "symbol": expected str, got integer/);
    // Both sides go on.
    assert.deepEqual(await ok('call', { calls: [{ symbol: 'OK', qty: 1 }] }), [{ symbol: 'OK' }]);
  });

  it('our requester calls a Python replyer: Decimal, UUID, set arrive as Python types; the reply comes back typed', T, async () => {
    const id = new Uuid('12345678-1234-5678-1234-567812345678');
    const reply = await whileRunning(peer, ours.toSend('connection', 'echo', { name: 'ada', ratio: 1.25, price: new Decimal('9.99'), id, tags: new Set([2, 1]) }), 'echo');
    assert.equal(reply.greeting, 'hello ada');
    assert.equal(reply.ratio, 2.5);
    assert.deepEqual(reply.seen, {
      name: 'ada',
      ratio: { py: 'float', value: 1.25 },
      price: { py: 'Decimal', value: '9.99' },
      id: { py: 'UUID', value: id.asStr },
      tags: { py: 'set', value: [1, 2] },
    });
  });

  it('our requester validates before sending: args the model refuses never reach Python', T, async () => {
    await assert.rejects(ours.toSend('connection', 'echo', { name: 7, ratio: 1.5 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_VALIDATION');
      assert.match(err.message, /outbound args of connection "echo".*field "name": expected str, got integer/);
      return true;
    });
    assert.equal(await ok('ping'), 'pong');
  });

  it('a Python replyer slower than timeoutMs: SY_ERR_REQUEST_TIMEOUT; the next call gets its own reply, not the late one', T, async () => {
    await assert.rejects(ours.toSend('connection', 'echo_fast', { name: 'slow', ratio: 0.5, sleep_ms: 1500 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SY_ERR_REQUEST_TIMEOUT');
      return true;
    });
    const next = await whileRunning(peer, ours.toSend('connection', 'echo', { name: 'next', ratio: 0.25 }), 'echo after a timeout');
    assert.equal(next.greeting, 'hello next');
    const fast = await until('echo_fast answering again', () => ours.toSend('connection', 'echo_fast', { name: 'again', ratio: 0.25 }).catch((e: Error) => ({ greeting: e.message })), (r) => r.greeting === 'hello again', 10_000);
    assert.equal(fast.greeting, 'hello again');
  });

  it('publisher → subscriber with a topic, both ways (a single frame msgpack(topic) + msgpack(envelope))', T, async () => {
    // Python → ours.
    ticks.length = 0;
    await until('a Python tick at our subscriber', () => ok('publish', { messages: [{ seq: -1 }] }), () => ticks.length > 0);
    ticks.length = 0;
    await ok('publish', { messages: Array.from({ length: 50 }, (_, seq) => ({ seq, px: new Decimal(`${seq}.5`) })) });
    await until('50 Python ticks', async () => ticks.length, (n) => n >= 50);
    assert.deepEqual(ticks.map((x) => x.seq), Array.from({ length: 50 }, (_, i) => i));
    assert.ok(ticks.every((x) => x.px instanceof Decimal && x.px.asStr === `${String(x.seq)}.5`));
    // ours → Python.
    await ok('heard', { clear: true });
    await until('our tick at the Python subscriber', async () => {
      await ours.toSend('connection', 'pub', { seq: -1 });
      return (await ok('heard', { clear: true })) as unknown[];
    }, (h) => h.length > 0);
    for (let seq = 0; seq < 20; seq++) await ours.toSend('connection', 'pub', { seq, px: new Decimal(`${seq}.25`) });
    const heard = await until('20 ticks at the Python subscriber', async () => (await ok('heard')) as Array<{ seq: number }>, (h) => h.filter((x) => x.seq >= 0).length >= 20);
    assert.deepEqual(heard.filter((x) => x.seq >= 0), Array.from({ length: 20 }, (_, seq) => ({ seq, px: { py: 'Decimal', value: `${seq}.25` } })));
  });

  it('full-update states both ways: every update replaces the receiver\'s whole state', T, async () => {
    // ours → Python.
    await until('our full state at Python', async () => {
      await ours.toSend('state', 'our_full', { value: { a: 1 } });
      return (await pyStates()).our_full;
    }, (s) => JSON.stringify(s) === JSON.stringify({ value: { a: 1 } }));
    await ours.toSend('state', 'our_full', { value: { b: [new Decimal('2.5')] } });
    await until('the replaced state at Python', async () => (await pyStates()).our_full, (s) => JSON.stringify(s) === JSON.stringify({ value: { b: [{ py: 'Decimal', value: '2.5' }] } }));
    // Python → ours.
    await until('Python\'s full state here', async () => {
      await ok('state', { name: 'py_full', updates: [{ value: 'x' }] });
      return ours.states().py_full;
    }, (s) => JSON.stringify(s) === JSON.stringify({ value: 'x' }));
    await ok('state', { name: 'py_full', updates: [{ value: { k: [1, 2] } }] });
    await until('the replaced state here', async () => ours.states().py_full, (s) => JSON.stringify(s) === JSON.stringify({ value: { k: [1, 2] } }));
  });

  it('delta states, Python → ours, with a gap: we request the snapshot; 0.0.3\'s sender reports current_num 0 in it, so each later delta is a gap again', T, async () => {
    const view = () => ours.states().py_delta as Record<string, unknown>;
    await until('Python\'s first snapshot here', async () => {
      await ok('state', { name: 'py_delta', updates: [{ current_num: 0, is_snapshot: true, state: { a: 1 } }] });
      return view();
    }, (s) => JSON.stringify(s) === JSON.stringify({ a: 1 }));
    const from = w.stateLog('py_delta').length;
    const outcomes = () => w.stateLog('py_delta').slice(from);
    await ok('state', { name: 'py_delta', updates: [{ current_num: 1, is_snapshot: false, state: { b: 2 } }, { current_num: 2, is_snapshot: false, state: { a: null } }] });
    await until('two deltas applied', async () => view(), (s) => JSON.stringify(s) === JSON.stringify({ b: 2 }));
    // The gap: 4 after 2. The sender applied it before publishing, so its snapshot holds c.
    await ok('state', { name: 'py_delta', updates: [{ current_num: 4, is_snapshot: false, state: { c: 3 } }] });
    await until('the state reset from the snapshot', async () => outcomes(), (o) => o.some((x) => x.outcome === 'reset'));
    assert.deepEqual(view(), { b: 2, c: 3 });
    // The original's bug, seen from the receiving side: the snapshot said 0.
    assert.equal(outcomes().find((x) => x.outcome === 'reset')!.currentNum, 0);
    await ok('state', { name: 'py_delta', updates: [{ current_num: 5, is_snapshot: false, state: { d: 4 } }] });
    await until('a second reset', async () => outcomes().filter((x) => x.outcome === 'reset').length, (n) => n >= 2);
    assert.deepEqual(view(), { b: 2, c: 3, d: 4 });
    assert.deepEqual(outcomes().map((x) => x.outcome), ['applied', 'applied', 'gap', 'reset', 'gap', 'reset']);
  });

  it('delta states, ours → Python, with a gap: the framework\'s receiver resets from our snapshot once, then applies the next delta', T, async () => {
    const pyDelta = async () => (await pyStates()).our_delta;
    await until('our delta state at Python', async () => {
      await ours.toSend('state', 'our_delta', { state: { a: 1 } });
      return pyDelta();
    }, (s) => JSON.stringify(s) === JSON.stringify({ a: 1 }));
    await ours.toSend('state', 'our_delta', { state: { b: 2 } });
    await until('a delta applied at Python', pyDelta, (s) => JSON.stringify(s) === JSON.stringify({ a: 1, b: 2 }));
    const served = () => w.lines.filter((l) => l.msg === 'snapshot served' && l.state === 'our_delta').length;
    const servedBefore = served();
    // A gap: 100 after a handful. Python asks our replyer for the snapshot, which holds c and the real number.
    const current = 100;
    await ours.toSend('state', 'our_delta', { current_num: current, is_snapshot: false, state: { c: 3 } });
    await until('the gap resolved at Python', pyDelta, (s) => JSON.stringify(s) === JSON.stringify({ a: 1, b: 2, c: 3 }));
    assert.equal(served() - servedBefore, 1, 'one snapshot request for one gap');
    // Our snapshot said 100, so 101 is the next number for Python: applied, no second request.
    await ours.toSend('state', 'our_delta', { state: { a: null } });
    await until('the next delta applied at Python', pyDelta, (s) => JSON.stringify(s) === JSON.stringify({ b: 2, c: 3 }));
    assert.equal(served() - servedBefore, 1, 'no second snapshot request: our snapshot carried the real current_num');
  });

  it('malformed input from the peer: raw frames get an error reply naming the reason, invalid publications are dropped; both services go on', T, async () => {
    const rejectedQuote = w.of('rejected', 'quote').length;
    const rejectedTicks = w.of('rejected', 'ticks').length;
    const frames = [
      Uint8Array.from([0xc1]), // a byte msgpack never uses
      new Uint8Array(0),
      pack([1, 2]),
      pack({ workflow_id: 'w1' }),
      pack({ args: 5, workflow_id: 'w2' }),
      encodeEnvelope({ symbol: 'X', qty: 'many' }, 'w3'),
      encodeEnvelope({ symbol: 'X', qty: 1, constructor: 'x' }, 'w4'),
    ];
    const replies = (await ok('raw', { address: a.quote, frames })) as Array<{ return_args?: unknown; workflow_id?: unknown; error?: string; timeout?: boolean }>;
    assert.equal(replies.length, frames.length);
    const reasons = [/is not msgpack/, /is not msgpack/, /not a msgpack map/, /no "args" key/, /"args" of the frame is not a map/, /field "qty": expected int, got string/, /field "constructor": expected no such key/];
    replies.forEach((r, i) => {
      assert.deepEqual(r.return_args, {}, `reply ${i}`);
      assert.match(r.error ?? '', reasons[i]!, `reply ${i}: ${JSON.stringify(r)}`);
    });
    assert.deepEqual(replies.map((r) => r.workflow_id), [null, null, null, null, null, 'w3', 'w4']);
    assert.deepEqual(w.of('rejected', 'quote').slice(rejectedQuote).map((e) => e.reason), [...Array(5).fill('undecodable'), 'invalid', 'invalid']);
    // A publication our model refuses is dropped with the reason; the next one arrives.
    ticks.length = 0;
    await ok('publish', { messages: [{ seq: 'seven' }, { seq: 7 }] });
    await until('the valid tick', async () => ticks.length, (n) => n >= 1);
    assert.deepEqual(ticks.map((x) => x.seq), [7]);
    assert.deepEqual(w.of('rejected', 'ticks').slice(rejectedTicks).map((e) => e.reason), ['invalid']);
    assert.match(String(w.lines.filter((l) => l.input === 'ticks').at(-1)?.reason), /field "seq": expected int, got string/);
    assert.deepEqual(await ok('call', { calls: [{ symbol: 'after', qty: 2 }] }), [{ symbol: 'after' }]);
  });

  it('topic-prefixed states, all four types, both ways (states take the optional creation argument topic)', T, async () => {
    const zmq = new ZeroMqSockets();
    extraSockets.push(zmq);
    const tw = watch('debug');
    const oursT = await startService(service({
      states: {
        in: {
          py_full_t: { stateType: 'full_update_in', topic: 'fullt', requiredArguments: { value: t.any } },
          py_delta_t: { stateType: 'delta_update_in', topic: 'book' },
        },
        out: {
          our_full_t: { stateType: 'full_update_out', topic: 'fullt', requiredArguments: { value: t.any } },
          our_delta_t: { stateType: 'delta_update_out', topic: 'book' },
        },
      },
    }), {
      sockets: zmq,
      name: 'topics',
      observer: tw.observer,
      logger: tw.logger,
      addresses: {
        states: {
          in: { py_full_t: { subscriber: a.pyFullT }, py_delta_t: { subscriber: a.pyDeltaTPub, requester: a.pyDeltaTRep } },
          out: { our_full_t: { publisher: a.ourFullT }, our_delta_t: { publisher: a.ourDeltaTPub, replyer: a.ourDeltaTRep } },
        },
      },
    });
    try {
      // ours → Python.
      await until('our full topic state at Python', async () => {
        await oursT.toSend('state', 'our_full_t', { value: 'T1' });
        return (await pyStates()).our_full_t;
      }, (s) => JSON.stringify(s) === JSON.stringify({ value: 'T1' }));
      await until('our delta topic state at Python', async () => {
        await oursT.toSend('state', 'our_delta_t', { state: { a: 1 } });
        return (await pyStates()).our_delta_t;
      }, (s) => JSON.stringify(s) === JSON.stringify({ a: 1 }));
      await oursT.toSend('state', 'our_delta_t', { current_num: 50, is_snapshot: false, state: { g: 1 } });
      await until('the gap resolved at Python (snapshot over the untopiced replyer)', async () => (await pyStates()).our_delta_t, (s) => JSON.stringify(s) === JSON.stringify({ a: 1, g: 1 }));
      // Python → ours.
      await until('Python\'s full topic state here', async () => {
        await ok('state', { name: 'py_full_t', updates: [{ value: 'P1' }] });
        return oursT.states().py_full_t;
      }, (s) => JSON.stringify(s) === JSON.stringify({ value: 'P1' }));
      await until('Python\'s delta topic state here', async () => {
        await ok('state', { name: 'py_delta_t', updates: [{ current_num: 0, is_snapshot: true, state: { x: 1 } }] });
        return oursT.states().py_delta_t;
      }, (s) => JSON.stringify(s) === JSON.stringify({ x: 1 }));
      await ok('state', { name: 'py_delta_t', updates: [{ current_num: 3, is_snapshot: false, state: { y: 2 } }] });
      await until('the gap resolved here', async () => oursT.states().py_delta_t, (s) => JSON.stringify(s) === JSON.stringify({ x: 1, y: 2 }));
      assert.ok(tw.stateLog('py_delta_t').some((x) => x.outcome === 'reset'));
      const refused = tw.of('rejected');
      assert.equal(refused.length, 0, JSON.stringify(refused));
    } finally {
      await oursT.stop();
    }
  });

  it('a delta gap does not stall our replyer: Python sends a gapped delta, then calls our replyer, in one handler', T, async () => {
    // Before: our loop waited for the snapshot, which Python serves only after this handler,
    // which waited for our replyer: a deadlock until the snapshot timeout (60 s here).
    const r = await ok('steps', { steps: [
      { op: 'state', payload: { name: 'py_delta', updates: [{ current_num: 1000, is_snapshot: false, state: { stall: 1 } }] } },
      { op: 'sleep', payload: { ms: 200 } },
      { op: 'call', payload: { calls: [{ symbol: 'during-gap', qty: 1 }] } },
    ] });
    assert.deepEqual(r, [{ ok: 1 }, { ok: 200 }, { ok: [{ symbol: 'during-gap' }] }]);
    await until('the gap resolved from Python\'s snapshot', async () => (ours.states().py_delta as Record<string, unknown>).stall, (v) => v === 1);
  });

  it('the service guide\'s advice for reading our datetimes works in the real peer', T, async () => {
    assert.ok(readmeDatetimeSnippet(), 'docs/guides/service.md has a ```python block defining read_switchyard_datetime');
    const when = new Date('2024-05-06T07:08:09.123Z');
    const reply = await whileRunning(peer, ours.toSend('connection', 'echo', { name: 'dt', ratio: 0.5, when }), 'echo with a datetime');
    const seen = reply.seen as Record<string, unknown>;
    // Python held the marker dict (describe() passed it through); back here it is a Date again.
    assert.deepEqual(seen.when, when);
    assert.equal(seen.when_read, '2024-05-06T07:08:09.123000+00:00');
  });

  it('the service guide\'s datetime advice needs nothing newer than Python 3.6 (no fromisoformat, no %z with "Z")', T, () => {
    const snippet = readmeDatetimeSnippet();
    assert.ok(snippet, 'docs/guides/service.md has a ```python block defining read_switchyard_datetime');
    // Python 3.6's datetime, as far as the advice could meet it: fromisoformat does not exist
    // (3.7) and accepts "Z" only from 3.11; strptime's %z takes only +HHMM before 3.7.
    const emulate36 = `
import sys, types, re, datetime as _real
_fake = types.ModuleType('datetime')
_fake.__dict__.update({k: getattr(_real, k) for k in dir(_real) if not k.startswith('__')})
class _DateTime36(_real.datetime):
    @classmethod
    def fromisoformat(cls, text):
        raise AttributeError("type object 'datetime' has no attribute 'fromisoformat' (Python 3.6)")
    @classmethod
    def strptime(cls, text, fmt):
        if '%z' in fmt and not re.search(r'[+-]\\d{4}$', text):
            raise ValueError('Python 3.6: %z takes +HHMM only, got %r' % text)
        return _real.datetime.strptime(text, fmt)
_fake.datetime = _DateTime36
sys.modules['datetime'] = _fake
`;
    const run = `${emulate36}\n${snippet}\nfor s in sys.argv[1:]:\n    print(read_switchyard_datetime({'__datetime__': True, 'as_str': s}).isoformat())\n`;
    const inputs = ['2024-05-06T07:08:09.123Z', '1970-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    assert.deepEqual(inputs, inputs.map((s) => new Date(s).toISOString()), 'the inputs are what Date#toISOString writes');
    const r = spawnSync(PYTHON, ['-c', run, ...inputs], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      '2024-05-06T07:08:09.123000+00:00', '1970-01-01T00:00:00+00:00', '0001-01-01T00:00:00+00:00', '9999-12-31T23:59:59.999000+00:00',
    ]);
  });

  // Last: before the fix a whole float went out as an int, which the framework's validators
  // refuse by raising, which stops its loop.
  it('a field declared t.float travels as a Python float even when whole (2.0), in requests, replies and publications', T, async () => {
    // Our replyer's return args: Python's requester declares ratio: float.
    assert.deepEqual(await ok('call', { calls: [{ symbol: 'F', qty: 1, ratio: 2 }] }), [{ symbol: 'F', ratio: { py: 'float', value: 2 } }]);
    // Our requester's args: Python's replyer requires ratio: float.
    const reply = await whileRunning(peer, ours.toSend('connection', 'echo', { name: 'whole', ratio: 2 }), 'echo with a whole float');
    assert.deepEqual((reply.seen as Record<string, unknown>).ratio, { py: 'float', value: 2 });
    assert.equal(reply.ratio, 4);
    // Our publisher: Python's subscriber declares ratio: float.
    await ok('heard', { clear: true });
    await ours.toSend('connection', 'pub', { seq: 1, ratio: 3 });
    const heard = await until('the whole-float tick at Python', async () => (await ok('heard')) as unknown[], (h) => h.length > 0);
    assert.deepEqual(heard, [{ seq: 1, ratio: { py: 'float', value: 3 } }]);
    assert.equal(await ok('ping'), 'pong');
  });
});
