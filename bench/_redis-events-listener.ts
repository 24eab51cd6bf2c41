// The listening side of the redis-events benchmark, in its own process:
//   node --import tsx bench/_redis-events-listener.ts ours|channels|raw REDIS_URL COUNT TAG
// Prints "ready", then "done" once COUNT events were handled and acked.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createBus, defineApi } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';

export const ordersApi = defineApi({
  name: 'bench.orders',
  events: { placed: { params: z.object({ order: z.number(), sku: z.string() }) } },
});
export const PREFETCH = 100;

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const [kind, url, count, tag] = process.argv.slice(2);
  await listen(kind!, url!, Number(count), tag!);
}

async function listen(kind: string, url: string, count: number, tag: string): Promise<void> {
  let handled = 0;
  const done = () => {
    if (++handled === count) process.stdout.write('done\n');
  };
  if (kind === 'ours') {
    const logger = createLogger({ level: 'silent' });
    const bus = createBus({ apis: { orders: ordersApi }, transport: new RedisBusTransport({ url, logger }), serviceName: `bench${tag}`, logger });
    await bus.orders.placed.listen(() => done(), { listenerName: 'count', prefetch: PREFETCH });
    await bus.start();
  } else if (kind === 'channels') {
    const require = createRequire(new URL('./peers/package.json', import.meta.url));
    const { ServiceBroker } = require('moleculer');
    const ChannelsMiddleware = require('@moleculer/channels').Middleware;
    const broker = new ServiceBroker({
      nodeID: `listener-${process.pid}`,
      logger: false,
      middlewares: [ChannelsMiddleware({ adapter: { type: 'Redis', options: { redis: url } } })],
    });
    broker.createService({
      name: 'orders',
      channels: { [`bench.orders${tag}`]: { group: 'count', maxInFlight: PREFETCH, handler: () => done() } },
    });
    await broker.start();
  } else if (kind === 'raw') {
    const stream = `bench:raw:stream${tag}`;
    const redis = new Redis(url);
    const acks = new Redis(url);
    await redis.xgroup('CREATE', stream, 'count', '$', 'MKSTREAM').catch(() => undefined);
    void (async () => {
      for (;;) {
        const reply = (await redis.xreadgroup('GROUP', 'count', 'c1', 'COUNT', PREFETCH, 'BLOCK', 0, 'STREAMS', stream, '>')) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        for (const [, fields] of entries) JSON.parse(fields[1]!);
        await acks.xack(stream, 'count', ...entries.map(([id]) => id));
        for (let i = 0; i < entries.length; i++) done();
      }
    })();
  } else throw new Error(`unknown kind ${kind}`);
  process.stdout.write('ready\n');
}
