// RPC round trips/s and p50/p99 latency over Redis at concurrency 1 and 32: Switchyard's
// bus (Lightbus protocol) against Moleculer's Redis transporter, a raw ioredis LPUSH +
// BLPOP loop both ways, and a raw loop doing the Lightbus protocol's Redis work by hand
// (expiry key + RPUSH, BLPOP, LPUSH + EXPIRE of the return path: the floor for any
// Lightbus-compatible RPC), same echo payload, servers in separate processes, in the same
// run. Rounds alternate the order; medians are printed.
//   npm run bench -- redis-rpc [rounds] [concurrency,…] [kind,…]   (kinds: raw raw-lightbus moleculer ours)

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { createBus } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';
import { startRedis } from '../test/support/redis-server.js';
import { echoApi, LIGHTBUS_CALL, LIGHTBUS_QUEUE, RAW_QUEUE } from './_redis-echo.js';
import { alternate, median, printResult } from './_result.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const LEVELS = [
  { concurrency: 1, calls: 5_000 },
  { concurrency: 32, calls: 30_000 },
].filter((l) => !process.argv[3] || process.argv[3].split(',').map(Number).includes(l.concurrency));
const PAYLOAD = { text: 'hello world', n: 42 };
type Kind = 'ours' | 'moleculer' | 'raw' | 'raw-lightbus';
interface Run {
  rate: number;
  p50: number;
  p99: number;
}

const redis = await startRedis();
const children = new Set<ChildProcess>();

async function server(kind: Kind, concurrency: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./_redis-echo.ts', import.meta.url).pathname, kind, redis.url, String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && resolve());
  });
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  children.delete(child);
}

/** Runs `calls` calls from `concurrency` workers, after as many unmeasured ones (JIT
 * warm-up: steady state is what a long-running service sees); latencies in ms. */
async function drive(call: () => Promise<unknown>, concurrency: number, calls: number): Promise<Run> {
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
  await loop(calls);
  const latencies: number[] = [];
  const started = performance.now();
  await loop(calls, latencies);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: calls / seconds, p50: latencies[Math.floor(latencies.length * 0.5)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
}

/** A raw client: each worker its own reply list and blocking connection; `send` queues one request. */
async function rawLoop(concurrency: number, calls: number, setup: (commands: Redis) => void, send: (commands: Redis, reply: string) => Promise<unknown>): Promise<Run> {
  const commands = new Redis(redis.url);
  setup(commands);
  const workers = Array.from({ length: concurrency }, () => ({ blocking: new Redis(redis.url), reply: `bench:raw:reply:${randomUUID()}` }));
  const free = [...workers];
  const call = async () => {
    const worker = free.pop()!;
    await send(commands, worker.reply);
    const [, raw] = (await worker.blocking.blpop(worker.reply, 0))!;
    JSON.parse(raw);
    free.push(worker);
  };
  const run = await drive(call, concurrency, calls);
  commands.disconnect();
  for (const x of workers) x.blocking.disconnect();
  return run;
}

async function measure(kind: Kind, concurrency: number, calls: number): Promise<Run> {
  const child = await server(kind, concurrency);
  try {
    if (kind === 'ours') {
      const logger = createLogger({ level: 'silent' });
      const bus = createBus({ apis: { echo: echoApi }, transport: new RedisBusTransport({ url: redis.url, logger }), logger });
      await bus.start();
      const run = await drive(() => bus.echo.echo(PAYLOAD), concurrency, calls);
      await bus.stop();
      return run;
    }
    if (kind === 'moleculer') {
      const require = createRequire(new URL('./peers/package.json', import.meta.url));
      const { ServiceBroker } = require('moleculer');
      const broker = new ServiceBroker({ nodeID: `client-${process.pid}`, transporter: redis.url, logger: false });
      await broker.start();
      await broker.waitForServices(['echo']);
      const run = await drive(() => broker.call('echo.echo', PAYLOAD), concurrency, calls);
      await broker.stop();
      return run;
    }
    if (kind === 'raw-lightbus') {
      // `return await`: the finally below must not stop the server before the loop ends.
      return await rawLoop(concurrency, calls, (commands) => commands.defineCommand('call', { numberOfKeys: 2, lua: LIGHTBUS_CALL }), (commands, reply) => {
        const id = randomUUID();
        const blob = JSON.stringify({ kwargs: PAYLOAD, metadata: { api_name: 'bench.echo', id, procedure_name: 'echo', return_path: reply } });
        return (commands as unknown as { call(e: string, q: string, t: number, b: string): Promise<number> }).call(`rpc_expiry_key:${id}`, LIGHTBUS_QUEUE, 5, blob);
      });
    }
    return await rawLoop(concurrency, calls, () => undefined, (commands, reply) => commands.lpush(RAW_QUEUE, JSON.stringify({ reply, payload: PAYLOAD })));
  } finally {
    await stopServer(child);
  }
}

try {
  for (const { concurrency, calls } of LEVELS) {
    const kinds = (['raw', 'raw-lightbus', 'moleculer', 'ours'] as Kind[]).filter((k) => !process.argv[4] || process.argv[4].split(',').includes(k));
    const runs = await alternate(ROUNDS, Object.fromEntries(kinds.map((k) => [k, () => measure(k, concurrency, calls)])) as Record<Kind, () => Promise<Run>>, (round, last) =>
      console.log(`c=${concurrency} round ${round + 1}: ` + kinds.map((k) => `${k} ${last[k].rate.toFixed(0)}/s p50 ${last[k].p50.toFixed(3)} p99 ${last[k].p99.toFixed(3)} ms`).join(' | ')),
    );
    const med = (k: Kind, f: keyof Run) => median(runs[k].map((r) => r[f]));
    if (!runs.ours) continue;
    const against: [Kind, string][] = [['raw', 'raw-ioredis'], ['raw-lightbus', 'raw-ioredis-lightbus-protocol'], ['moleculer', 'moleculer']];
    for (const [k, name] of against) {
      if (runs[k]) printResult({ bench: 'redis-rpc', case: `calls-c${concurrency}`, against: name, unit: 'calls/s', ours: Math.round(med('ours', 'rate')), baseline: Math.round(med(k, 'rate')) });
    }
    if (!runs.moleculer) continue;
    printResult({ bench: 'redis-rpc', case: `p50-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(med('ours', 'p50').toFixed(3)), baseline: Number(med('moleculer', 'p50').toFixed(3)), lowerIsBetter: true });
    printResult({ bench: 'redis-rpc', case: `p99-c${concurrency}`, against: 'moleculer', unit: 'ms', ours: Number(med('ours', 'p99').toFixed(3)), baseline: Number(med('moleculer', 'p99').toFixed(3)), lowerIsBetter: true });
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  await redis.destroy();
}
