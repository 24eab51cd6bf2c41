// The echo service the redis-rpc benchmark calls, three ways, each in its own process:
//   node --import tsx bench/_redis-echo.ts ours|moleculer|raw REDIS_URL CONCURRENCY
// Prints "ready" once it serves.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createBus, defineApi } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';

export const echoApi = defineApi({
  name: 'bench.echo',
  rpcs: { echo: { params: z.object({ text: z.string(), n: z.number() }), result: z.object({ text: z.string(), n: z.number() }) } },
});
export const RAW_QUEUE = 'bench:raw:requests';
export const LIGHTBUS_QUEUE = 'bench:lightbus:rpc_queue';
/** The Lightbus protocol's two-step writes, as scripts (what our transport sends too). */
export const LIGHTBUS_CALL = `redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]); return redis.call('RPUSH', KEYS[2], ARGV[2])`;
export const LIGHTBUS_RESULT = `local n = redis.call('LPUSH', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[2]); return n`;

// Serves only when run as a program, not when the benchmark imports the API from here.
if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const [kind, url, concurrency] = process.argv.slice(2);
  await serve(kind!, url!, Number(concurrency ?? 1));
}

async function serve(kind: string, url: string, concurrency: number): Promise<void> {
  if (kind === 'ours') {
    const logger = createLogger({ level: 'silent' });
    const bus = createBus({ transport: new RedisBusTransport({ url, logger }), logger, serviceName: 'bench' });
    bus.serve(echoApi, { echo: (p) => p });
    await bus.start();
  } else if (kind === 'moleculer') {
    const require = createRequire(new URL('./peers/package.json', import.meta.url));
    const { ServiceBroker } = require('moleculer');
    const broker = new ServiceBroker({ nodeID: 'echo-server', transporter: url, logger: false });
    broker.createService({ name: 'echo', actions: { echo: (ctx: { params: unknown }) => ctx.params } });
    await broker.start();
  } else if (kind === 'raw') {
    // One BLPOP loop per client worker, each on its own connection: LPUSH + BLPOP both ways.
    for (let i = 0; i < concurrency; i++) {
      const blocking = new Redis(url);
      const commands = new Redis(url);
      void (async () => {
        for (;;) {
          const [, raw] = (await blocking.blpop(RAW_QUEUE, 0))!;
          const request = JSON.parse(raw) as { reply: string; payload: unknown };
          await commands.lpush(request.reply, JSON.stringify({ result: request.payload }));
        }
      })();
    }
  } else if (kind === 'raw-lightbus') {
    // The same Redis work as the Lightbus protocol, by hand: BLPOP a blob, answer with
    // LPUSH + EXPIRE of the return path (one script), no framework.
    for (let i = 0; i < concurrency; i++) {
      const blocking = new Redis(url);
      const commands = new Redis(url);
      commands.defineCommand('result', { numberOfKeys: 1, lua: LIGHTBUS_RESULT });
      void (async () => {
        for (;;) {
          const [, raw] = (await blocking.blpop(LIGHTBUS_QUEUE, 0))!;
          const call = JSON.parse(raw) as { kwargs: unknown; metadata: { id: string; return_path: string } };
          const result = JSON.stringify({ kwargs: { result: call.kwargs }, metadata: { error: false, id: call.metadata.id, rpc_message_id: call.metadata.id } });
          await (commands as unknown as { result(k: string, b: string, t: number): Promise<number> }).result(call.metadata.return_path, result, 60);
        }
      })();
    }
  } else throw new Error(`unknown kind ${kind}`);
  process.stdout.write('ready\n');
}
