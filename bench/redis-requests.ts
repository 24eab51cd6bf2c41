// Calls/s of the generic RedisTransport's request/reply (request() → serve(): lists with
// per-call reply keys; the Lightbus bus has its own bench, redis-rpc) against a raw ioredis
// pair doing the same Redis work (RPUSH the request naming a reply key, the server BLPOPs
// it and RPUSHes the reply with an expiry, the caller BLPOPs the reply key), at
// concurrency 1 and 32. Same server, same run; the order flips every round; medians.
//   npm run bench -- redis-requests [rounds]

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '../dist/observability/logger.js';
import { RedisTransport } from '../dist/transports/redis/mod.js';
import { startRedis } from '../test/support/redis-server.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 4);
const LEVELS = [
  { concurrency: 1, calls: 3_000 },
  { concurrency: 32, calls: 20_000 },
];
const server = await startRedis();

/** Runs `calls` calls, `concurrency` at a time; calls/s. */
async function drive(concurrency: number, calls: number, call: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < calls; i = next++) await call(i);
  }));
  return calls / ((performance.now() - started) / 1000);
}

async function ours(concurrency: number, calls: number): Promise<number> {
  const logger = createLogger({ level: 'silent' });
  const client = new RedisTransport({ url: server.url, logger });
  const responder = new RedisTransport({ url: server.url, logger, serveConcurrency: concurrency });
  await Promise.all([client.start(), responder.start()]);
  const sub = await responder.serve('bench.echo', (req) => ({ body: req.body }));
  const rate = await drive(concurrency, calls, async (i) => {
    const reply = await client.request('bench.echo', { body: Buffer.from(String(i)) }, { timeoutMs: 5_000 });
    if (Buffer.from(reply.body).toString() !== String(i)) throw new Error('wrong reply');
  });
  await sub.stop();
  await Promise.all([client.close(), responder.close()]);
  return rate;
}

async function raw(concurrency: number, calls: number): Promise<number> {
  const commands = new Redis(server.url);
  const serverCommands = new Redis(server.url);
  // One blocking connection per concurrent caller, and per concurrent server slot.
  const callers = Array.from({ length: concurrency }, () => new Redis(server.url));
  const servers = Array.from({ length: concurrency }, () => new Redis(server.url));
  let stopping = false;
  const serving = servers.map(async (conn) => {
    while (!stopping) {
      const popped = await conn.blpop('raw:rpc', 0.2);
      if (!popped) continue;
      const sep = popped[1].indexOf('|');
      const replyKey = popped[1].slice(0, sep);
      await serverCommands.pipeline().rpush(replyKey, popped[1].slice(sep + 1)).pexpire(replyKey, 6_000).exec();
    }
  });
  const free = [...callers];
  const rate = await drive(concurrency, calls, async (i) => {
    const conn = free.pop()!;
    const replyKey = `raw:reply:${randomBytes(12).toString('hex')}`;
    await commands.rpush('raw:rpc', `${replyKey}|${i}`);
    const reply = await conn.blpop(replyKey, 5);
    free.push(conn);
    if (reply?.[1] !== String(i)) throw new Error('wrong reply');
  });
  stopping = true;
  await Promise.all(serving);
  for (const c of [commands, serverCommands, ...callers, ...servers]) c.disconnect();
  return rate;
}

try {
  for (const { concurrency, calls } of LEVELS) {
    const { ours: o, raw: r } = await alternate(ROUNDS, { raw: () => raw(concurrency, calls), ours: () => ours(concurrency, calls) }, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: RedisTransport ${last.ours.toFixed(0)} calls/s, raw ioredis ${last.raw.toFixed(0)} calls/s`),
    );
    printResult({ bench: 'redis-requests', case: `echo-c${concurrency}`, against: 'raw-ioredis-lists', unit: 'calls/s', ours: Math.round(median(o)), baseline: Math.round(median(r)) });
  }
} finally {
  await server.destroy();
}
