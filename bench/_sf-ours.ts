// Switchyard's services for bench/service-framework.ts, one per process, with the same
// models and the same stdin/stdout lines as bench/py/sf_*.py (the Python services):
//   node --import tsx bench/_sf-ours.ts replyer ADDRESS     answers {n} with {n}
//   node --import tsx bench/_sf-ours.ts requester ADDRESS   "warm MS" | "run MS" -> {"calls","seconds","p50","p99"}
//   node --import tsx bench/_sf-ours.ts publisher ADDRESS   "probe" … "stop" -> "ok"; "got K"; "pub N" -> "ok"
//   node --import tsx bench/_sf-ours.ts subscriber ADDRESS  "probe" at the first probe, "got K" every 100 counted
// ADDRESS is host:port; replyer and publisher bind it, the others connect to it.

import { createInterface } from 'node:readline';
import { startService, service, replyer, requester, publisher, subscriber, t } from '../dist/models/service/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { ZeroMqSockets } from '../dist/transports/zeromq/mod.js';

/** Messages a publisher may have in flight (bench/py/sf_common.py WINDOW). */
const WINDOW = 500;

const [role, address] = process.argv.slice(2) as [string, string];
const say = (line: string) => process.stdout.write(`${line}\n`);
const sockets = new ZeroMqSockets();
const logger = createLogger({ level: 'warn' });
const echoArgs = { requiredArguments: { n: t.int }, requiredReturnArguments: { n: t.int } } as const;
const feedArgs = { requiredArguments: { seq: t.int }, topic: 'bench' } as const;

/** The benchmark's lines; `next()` resolves with the next one (or undefined at the end). */
function commands(): () => Promise<string[] | undefined> {
  const queued: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : queued.push(line)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  return async () => {
    const line = queued.length ? queued.shift() : ended ? undefined : await new Promise<string | undefined>((r) => waiting.push(r));
    const words = line?.split(' ');
    return !words || words[0] === 'done' ? undefined : words;
  };
}

if (role === 'replyer') {
  await startService(service({ connections: { in: { echo: replyer(echoArgs, (a) => ({ n: a.n })) } } }), { sockets, logger, addresses: { connections: { in: { echo: { replyer: address } } } } });
  say('ready');
} else if (role === 'subscriber') {
  let counted = 0;
  let probed = false;
  await startService(
    service({
      connections: {
        in: {
          feed: subscriber(feedArgs, (a) => {
            if (a.seq < 0) {
              if (!probed) say('probe');
              probed = true;
              return;
            }
            if (++counted % 100 === 0) say(`got ${counted}`);
          }),
        },
      },
    }),
    { sockets, logger, addresses: { connections: { in: { feed: { subscriber: address } } } } },
  );
  say('ready');
} else if (role === 'requester') {
  const client = await startService(service({ connections: { out: { echo: requester(echoArgs) } } }), { sockets, logger, addresses: { connections: { out: { echo: { requester: address } } } } });
  const next = commands();
  say('ready');
  let n = 0;
  for (let words = await next(); words; words = await next()) {
    const deadline = performance.now() + Number(words[1]);
    const latencies: number[] = [];
    const started = performance.now();
    while (performance.now() < deadline) {
      const t0 = performance.now();
      if ((await client.toSend('connection', 'echo', { n })).n !== n) throw new Error('wrong reply');
      latencies.push(performance.now() - t0);
      n++;
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
    say(JSON.stringify({ calls: latencies.length, seconds, p50: at(0.5), p99: at(0.99) }));
  }
  await client.stop();
} else if (role === 'publisher') {
  const pub = await startService(service({ connections: { out: { feed: publisher(feedArgs) } } }), { sockets, logger, addresses: { connections: { out: { feed: { publisher: address } } } } });
  const next = commands();
  say('ready');
  let sent = 0;
  let received = 0;
  for (let words = await next(); words; words = await next()) {
    if (words[0] === 'probe') {
      // ZeroMQ's slow joiner: probe every 20 ms until the benchmark saw one arrive.
      const stop = next();
      let stopped = false;
      void stop.then(() => (stopped = true));
      while (!stopped) {
        await pub.toSend('connection', 'feed', { seq: -1 });
        await Promise.race([stop, new Promise((r) => setTimeout(r, 20))]);
      }
      say('ok');
    } else if (words[0] === 'got') received = Number(words[1]);
    else if (words[0] === 'pub') {
      for (let i = Number(words[1]); i > 0; i--) {
        while (sent - received >= WINDOW) received = Math.max(received, Number((await next())![1]));
        await pub.toSend('connection', 'feed', { seq: sent++ });
      }
      say('ok');
    }
  }
  await pub.stop();
} else throw new Error(`unknown role ${role}`);
