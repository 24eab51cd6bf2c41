// Messages/s through a queue on a real Redis: consume → send to another queue → ack, with
// RedisTransport (a handler per delivery, prefetch = concurrency) against a raw ioredis loop
// doing the same Redis work (XREADGROUP COUNT concurrency, XADD each result, XACK + XDEL),
// batched by pipelines as a hand-written loop would be. Same server, same run; the order
// flips every round; medians of the rounds.
//   npm run bench -- redis-queue [rounds]

import { Redis } from 'ioredis';
import { createLogger } from '../dist/observability/logger.js';
import { RedisTransport } from '../dist/transports/redis/mod.js';
import { startRedis } from '../test/support/redis-server.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const LEVELS = [
  { concurrency: 1, messages: 3_000 },
  { concurrency: 16, messages: 30_000 },
  { concurrency: 128, messages: 30_000 },
];
const IN = 'bench-in';
const OUT = 'bench-out';
// The transport's key layout (names.ts), so both sides read and write the same streams.
const IN_KEY = `sy:q:${IN}`;
const OUT_KEY = `sy:q:${OUT}`;
const GROUP = 'switchyard';

const server = await startRedis();
const admin = new Redis(server.url);

/** Empties both queues and fills the inbound one with ids 0..messages-1. */
async function prepare(messages: number): Promise<void> {
  await admin.del(IN_KEY, OUT_KEY);
  await admin.xgroup('CREATE', IN_KEY, GROUP, '0', 'MKSTREAM');
  for (let i = 0; i < messages; i += 1000) {
    const p = admin.pipeline();
    for (let j = i; j < Math.min(messages, i + 1000); j++) p.xadd(IN_KEY, '*', 'b', String(j));
    await p.exec();
  }
}

/** msg/s from `started` until every result is in the outbound queue. */
async function finished(messages: number, started: number): Promise<number> {
  for (;;) {
    if ((await admin.xlen(OUT_KEY)) >= messages) return messages / ((performance.now() - started) / 1000);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function ours(concurrency: number, messages: number): Promise<number> {
  await prepare(messages);
  const transport = new RedisTransport({ url: server.url, logger: createLogger({ level: 'silent' }) });
  await transport.start();
  const started = performance.now();
  const sub = await transport.consume(IN, async (d) => {
    const id = BigInt(Buffer.from(d.body).toString());
    await transport.send(OUT, { body: Buffer.from(id.toString()) });
    await d.ack();
  }, { prefetch: concurrency });
  const rate = await finished(messages, started);
  await sub.stop();
  await transport.close();
  return rate;
}

async function raw(concurrency: number, messages: number): Promise<number> {
  await prepare(messages);
  const commands = new Redis(server.url);
  const reader = new Redis(server.url);
  let done = false;
  const started = performance.now();
  const loop = (async () => {
    while (!done) {
      const reply = (await reader.xreadgroup('GROUP', GROUP, 'raw', 'COUNT', concurrency, 'BLOCK', 100, 'STREAMS', IN_KEY, '>')) as
        Array<[string, Array<[string, string[]]>]> | null;
      if (!reply) continue;
      const entries = reply[0]![1];
      const out = commands.pipeline();
      for (const [, fields] of entries) out.xadd(OUT_KEY, '*', 'b', BigInt(fields[1]!).toString());
      await out.exec();
      const ids = entries.map(([id]) => id);
      await commands.pipeline().xack(IN_KEY, GROUP, ...ids).xdel(IN_KEY, ...ids).exec();
    }
  })();
  const rate = await finished(messages, started);
  done = true;
  await loop;
  commands.disconnect();
  reader.disconnect();
  return rate;
}

try {
  for (const { concurrency, messages } of LEVELS) {
    const { ours: o, raw: r } = await alternate(ROUNDS, { raw: () => raw(concurrency, messages), ours: () => ours(concurrency, messages) }, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: RedisTransport ${last.ours.toFixed(0)} msg/s, raw ioredis ${last.raw.toFixed(0)} msg/s`),
    );
    printResult({ bench: 'redis-queue', case: `consume-send-ack-c${concurrency}`, against: 'raw-ioredis-streams', unit: 'msg/s', ours: Math.round(median(o)), baseline: Math.round(median(r)) });
  }
} finally {
  admin.disconnect();
  await server.destroy();
}
