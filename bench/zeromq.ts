// The service model over ZeroMQ against raw zeromq sockets doing the same work in the same
// run: replyer/requester round trips/s (msgpack envelopes both ways, args validated by the
// service), and publisher→subscriber messages/s (at most WINDOW messages in flight, so no
// side loses messages to the high-water mark).
//   npm run bench -- zeromq [roundTrips] [messages] [turns]

import * as zmq from 'zeromq';
import { Encoder, Decoder } from '@msgpack/msgpack';
import { startService, service, replyer, requester, publisher, subscriber, t } from '../dist/models/service/mod.js';
import { ZeroMqSockets } from '../dist/transports/zeromq/mod.js';
import { alternate, median, printResult } from './_result.js';

const ROUND_TRIPS = Number(process.argv[2] ?? 30_000);
const MESSAGES = Number(process.argv[3] ?? 150_000);
const TURNS = Number(process.argv[4] ?? 60);
const WINDOW = 500;

let port = 17680;
const nextAddress = () => {
  const a = `127.0.0.1:${port}`;
  port = port >= 17689 ? 17680 : port + 1;
  return a;
};

const encoder = new Encoder();
const decoder = new Decoder();

// Each side is set up once; then they take turns running CHUNK operations, many times, so
// the noise of a shared machine hits both alike. Rate per turn; medians of the turns.

interface Side {
  /** Runs `count` operations and resolves when they are done. */
  run(count: number): Promise<void>;
  close(): Promise<void>;
}

// ---- round trips

async function oursReqRep(): Promise<Side> {
  const address = nextAddress();
  const sockets = new ZeroMqSockets();
  const args = { requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } } as const;
  const server = await startService(service({ connections: { in: { echo: replyer(args, (a) => ({ n: a.n })) } } }), { sockets, addresses: { connections: { in: { echo: { replyer: address } } } } });
  const client = await startService(service({ connections: { out: { echo: requester(args) } } }), { sockets, addresses: { connections: { out: { echo: { requester: address } } } } });
  return {
    run: async (count) => {
      for (let n = 0; n < count; n++) {
        const r = await client.toSend('connection', 'echo', { n });
        if (r.n !== n) throw new Error('wrong reply');
      }
    },
    close: async () => {
      await client.stop();
      await server.stop();
      await sockets.close();
    },
  };
}

async function rawReqRep(): Promise<Side> {
  const endpoint = `tcp://${nextAddress()}`;
  const rep = new zmq.Reply({ linger: 0 });
  await rep.bind(endpoint);
  const serving = (async () => {
    for await (const [frame] of rep) {
      const req = decoder.decode(frame!) as { args: { n: number }; workflow_id: unknown };
      await rep.send(encoder.encode({ return_args: { n: req.args.n }, workflow_id: req.workflow_id }));
    }
  })().catch(() => undefined);
  const req = new zmq.Request({ linger: 0 });
  req.connect(endpoint);
  return {
    run: async (count) => {
      for (let n = 0; n < count; n++) {
        // The same bytes as the service sends: the workflow id as service_framework's UUID map.
        await req.send(encoder.encode({ args: { n }, workflow_id: { __uuid__: true, as_str: crypto.randomUUID() } }));
        const [reply] = await req.receive();
        if ((decoder.decode(reply!) as { return_args: { n: number } }).return_args.n !== n) throw new Error('wrong reply');
      }
    },
    close: async () => {
      req.close();
      rep.close();
      await serving;
    },
  };
}

// ---- publish → subscribe

/** Counts arrivals and lets the sender wait until at most WINDOW are in flight. */
class Window {
  received = 0;
  private waiter: { until: number; resolve: () => void } | undefined;
  arrived(): void {
    this.received++;
    if (this.waiter && this.received >= this.waiter.until) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve();
    }
  }
  until(count: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { until: count, resolve }));
  }
}

/** Publishes `count` messages with at most WINDOW in flight; resolves once all arrived. */
function pubSubSide(send: (seq: number) => Promise<unknown>, window: Window, close: () => Promise<void>): Side {
  let warmed = false;
  return {
    run: async (count) => {
      if (!warmed) {
        // ZeroMQ's slow joiner: probe until the subscription is up.
        for (let i = 0; i < 500 && window.received === 0; i++) {
          await send(-1);
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 50));
        warmed = true;
      }
      const base = window.received;
      for (let seq = 0; seq < count; seq++) {
        if (seq - (window.received - base) >= WINDOW) await window.until(base + seq - WINDOW / 2);
        await send(seq);
      }
      await window.until(base + count);
    },
    close,
  };
}

async function oursPubSub(): Promise<Side> {
  const address = nextAddress();
  const sockets = new ZeroMqSockets();
  const window = new Window();
  const args = { requiredArguments: { seq: t.int } } as const;
  const sub = await startService(service({ connections: { in: { feed: subscriber({ ...args, topic: 'bench' }, () => window.arrived()) } } }), { sockets, addresses: { connections: { in: { feed: { subscriber: address } } } } });
  const pub = await startService(service({ connections: { out: { feed: publisher({ ...args, topic: 'bench' }) } } }), { sockets, addresses: { connections: { out: { feed: { publisher: address } } } } });
  return pubSubSide((seq) => pub.toSend('connection', 'feed', { seq }), window, async () => {
    await pub.stop();
    await sub.stop();
    await sockets.close();
  });
}

async function rawPubSub(): Promise<Side> {
  const endpoint = `tcp://${nextAddress()}`;
  const window = new Window();
  const topic = encoder.encode('bench');
  const sub = new zmq.Subscriber({ linger: 0 });
  sub.connect(endpoint);
  sub.subscribe(Buffer.from(topic));
  const reading = (async () => {
    for await (const [frame] of sub) {
      decoder.decode(frame!.subarray(topic.length));
      window.arrived();
    }
  })().catch(() => undefined);
  const pub = new zmq.Publisher({ linger: 0 });
  await pub.bind(endpoint);
  const send = async (seq: number) => {
    const body = encoder.encode({ args: { seq }, workflow_id: { __uuid__: true, as_str: crypto.randomUUID() } });
    const frame = new Uint8Array(topic.length + body.length);
    frame.set(topic, 0);
    frame.set(body, topic.length);
    await pub.send(frame);
  };
  return pubSubSide(send, window, async () => {
    pub.close();
    sub.close();
    await reading;
  });
}

async function timed(side: Side, count: number): Promise<number> {
  const started = performance.now();
  await side.run(count);
  return count / ((performance.now() - started) / 1000);
}

async function compare(name: string, unit: string, total: number, makeOurs: () => Promise<Side>, makeRaw: () => Promise<Side>): Promise<void> {
  const ours = await makeOurs();
  const raw = await makeRaw();
  const chunk = Math.max(1, Math.floor(total / TURNS));
  await ours.run(Math.min(chunk, 200)); // warm both (JIT, connections)
  await raw.run(Math.min(chunk, 200));
  const { ours: o, raw: r } = await alternate(TURNS, { ours: () => timed(ours, chunk), raw: () => timed(raw, chunk) });
  console.log(`${name}: ${TURNS} turns of ${chunk}; service median ${median(o).toFixed(0)} ${unit} (min ${Math.min(...o).toFixed(0)}, max ${Math.max(...o).toFixed(0)}), raw zeromq median ${median(r).toFixed(0)} (min ${Math.min(...r).toFixed(0)}, max ${Math.max(...r).toFixed(0)})`);
  await ours.close();
  await raw.close();
  printResult({ bench: 'zeromq', case: name, against: 'raw-zeromq', unit, ours: Math.round(median(o)), baseline: Math.round(median(r)) });
}

await compare('req-rep', 'round-trips/s', ROUND_TRIPS, oursReqRep, rawReqRep);
await compare('pub-sub', 'msg/s', MESSAGES, oursPubSub, rawPubSub);
