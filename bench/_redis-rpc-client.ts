// One client of the redis-rpc benchmark, in a process of its own so that no kind runs in a
// process another kind has used (a stopped broker's leftovers, a grown heap):
//   node --import tsx bench/_redis-rpc-client.ts ours|moleculer|raw|raw-lightbus REDIS_URL CONCURRENCY
// The benchmark drives it in slices, so that every kind meets the same phases of a noisy
// machine: it prints "ready", then for each line "warm N" or "run N" on stdin makes N
// calls (measured for "run") and prints "ok SECONDS"; on "done" it prints one JSON line,
// { rate, p50, p99 } (calls/s over the measured slices, ms), and exits.

import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createBus } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';
import { echoApi, LIGHTBUS_CALL, LIGHTBUS_QUEUE, RAW_QUEUE } from './_redis-echo.js';

export interface Run {
  rate: number;
  p50: number;
  p99: number;
}

const PAYLOAD = { text: 'hello world', n: 42 };
const [kind, url, concurrencyArg] = process.argv.slice(2) as [string, string, string];
const concurrency = Number(concurrencyArg);

/** Makes the calls the benchmark asks for, slice by slice, from `concurrency` workers. */
async function drive(call: () => Promise<unknown>): Promise<Run> {
  const loop = async (count: number, latencies?: number[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) {
          const t = performance.now();
          await call();
          latencies?.push(performance.now() - t);
        }
      }),
    );
  };
  const latencies: number[] = [];
  let seconds = 0;
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, n] = line.split(' ');
    if (command === 'done') break;
    const started = performance.now();
    // Warm-up slices (JIT: steady state is what a long-running service sees) are not measured.
    await loop(Number(n), command === 'run' ? latencies : undefined);
    const took = (performance.now() - started) / 1000;
    if (command === 'run') seconds += took;
    process.stdout.write(`ok ${took}\n`);
  }
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / seconds, p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

/** A raw client: each worker its own reply list and blocking connection; `send` queues one request. */
async function rawLoop(setup: (commands: Redis) => void, send: (commands: Redis, reply: string) => Promise<unknown>): Promise<Run> {
  const commands = new Redis(url);
  setup(commands);
  const workers = Array.from({ length: concurrency }, () => ({ blocking: new Redis(url), reply: `bench:raw:reply:${randomUUID()}` }));
  const free = [...workers];
  const run = await drive(async () => {
    const worker = free.pop()!;
    await send(commands, worker.reply);
    const [, raw] = (await worker.blocking.blpop(worker.reply, 0))!;
    JSON.parse(raw);
    free.push(worker);
  });
  commands.disconnect();
  for (const x of workers) x.blocking.disconnect();
  return run;
}

async function measure(): Promise<Run> {
  if (kind === 'ours') {
    const logger = createLogger({ level: 'silent' });
    const bus = createBus({ apis: { echo: echoApi }, transport: new RedisBusTransport({ url, logger }), logger });
    await bus.start();
    const run = await drive(() => bus.echo.echo(PAYLOAD));
    await bus.stop();
    return run;
  }
  if (kind === 'moleculer') {
    const require = createRequire(new URL('./peers/package.json', import.meta.url));
    const { ServiceBroker } = require('moleculer');
    const broker = new ServiceBroker({ nodeID: `client-${process.pid}`, transporter: url, logger: false });
    await broker.start();
    await broker.waitForServices(['echo']);
    const run = await drive(() => broker.call('echo.echo', PAYLOAD));
    await broker.stop();
    return run;
  }
  if (kind === 'raw-lightbus') {
    return rawLoop(
      (commands) => commands.defineCommand('call', { numberOfKeys: 2, lua: LIGHTBUS_CALL }),
      (commands, reply) => {
        const id = randomUUID();
        const blob = JSON.stringify({ kwargs: PAYLOAD, metadata: { api_name: 'bench.echo', id, procedure_name: 'echo', return_path: reply } });
        return (commands as unknown as { call(e: string, q: string, t: number, b: string): Promise<number> }).call(`rpc_expiry_key:${id}`, LIGHTBUS_QUEUE, 5, blob);
      },
    );
  }
  if (kind === 'raw') return rawLoop(() => undefined, (commands, reply) => commands.lpush(RAW_QUEUE, JSON.stringify({ reply, payload: PAYLOAD })));
  throw new Error(`unknown kind ${kind}`);
}

process.stdout.write(`${JSON.stringify(await measure())}\n`);
process.exit(0);
