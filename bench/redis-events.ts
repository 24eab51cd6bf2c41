// Durable events/s end to end over Redis Streams (fire → handled → acked, the listener in
// another process): Switchyard's bus (Lightbus protocol) against @moleculer/channels with
// its Redis Streams adapter and a raw XADD / XREADGROUP / XACK loop, in the same run. The
// firing side keeps 64 fires in flight; the clock stops when the listener acked them all.
//   npm run bench -- redis-events [rounds]

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createBus } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';
import { startRedis } from '../test/support/redis-server.js';
import { ordersApi, PREFETCH } from './_redis-events-listener.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const EVENTS = 20_000;
const IN_FLIGHT = 64;
type Kind = 'ours' | 'channels' | 'raw';

const redis = await startRedis();
const children = new Set<ChildProcess>();
let runNo = 0;

function listener(kind: Kind, tag: string): Promise<{ child: ChildProcess; done: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./_redis-events-listener.ts', import.meta.url).pathname, kind, redis.url, String(EVENTS), tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} listener exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l === 'ready') resolve({ child, done });
      if (l === 'done') finished();
    });
  });
}

async function pool(count: number, fire: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await fire(next++);
  }));
}

async function measure(kind: Kind): Promise<number> {
  const tag = `${process.pid}_${runNo++}`;
  const { child, done } = await listener(kind, tag);
  let stop: () => Promise<void>;
  let fire: (i: number) => Promise<unknown>;
  if (kind === 'ours') {
    const logger = createLogger({ level: 'silent' });
    const bus = createBus({ apis: { orders: ordersApi }, transport: new RedisBusTransport({ url: redis.url, logger, maxStreamLength: 1_000_000 }), logger });
    await bus.start();
    fire = (i) => bus.orders.placed.fire({ order: i, sku: 'sku-1' });
    stop = () => bus.stop();
  } else if (kind === 'channels') {
    const require = createRequire(new URL('./peers/package.json', import.meta.url));
    const { ServiceBroker } = require('moleculer');
    const ChannelsMiddleware = require('@moleculer/channels').Middleware;
    const broker = new ServiceBroker({ nodeID: `firer-${process.pid}-${tag}`, logger: false, middlewares: [ChannelsMiddleware({ adapter: { type: 'Redis', options: { redis: redis.url } } })] });
    await broker.start();
    fire = (i) => broker.sendToChannel(`bench.orders${tag}`, { order: i, sku: 'sku-1' });
    stop = () => broker.stop();
  } else {
    const r = new Redis(redis.url);
    fire = (i) => r.xadd(`bench:raw:stream${tag}`, '*', 'payload', JSON.stringify({ order: i, sku: 'sku-1' }));
    stop = async () => void r.disconnect();
  }
  const started = performance.now();
  await pool(EVENTS, fire);
  await done;
  const rate = EVENTS / ((performance.now() - started) / 1000);
  await stop();
  child.kill('SIGKILL');
  children.delete(child);
  return rate;
}

try {
  const kinds: Kind[] = ['raw', 'channels', 'ours'];
  const runs = await alternate(ROUNDS, { raw: () => measure('raw'), channels: () => measure('channels'), ours: () => measure('ours') }, (round, last) =>
    console.log(`round ${round + 1}: ` + kinds.map((k) => `${k} ${last[k].toFixed(0)} events/s`).join(' | ') + ` (listener prefetch ${PREFETCH})`),
  );
  printResult({ bench: 'redis-events', case: 'durable-end-to-end', against: 'moleculer-channels', unit: 'events/s', ours: Math.round(median(runs.ours)), baseline: Math.round(median(runs.channels)) });
  printResult({ bench: 'redis-events', case: 'durable-end-to-end', against: 'raw-ioredis', unit: 'events/s', ours: Math.round(median(runs.ours)), baseline: Math.round(median(runs.raw)) });
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.destroy();
}
