// Switchyard's calling, firing and listening side of bench/lightbus.ts, each in a process
// of its own, speaking the same stdin/stdout lines as bench/py/lightbus_peer.py and
// bench/py/lightbus_bench_bus.py (the serving side is bench/_redis-echo.ts "ours"):
//   node --import tsx bench/_lightbus-ours.ts client REDIS_URL
//     "warm MS C" | "run MS C" -> {"calls","seconds","p50","p99"}  (C calls in flight for MS ms)
//   node --import tsx bench/_lightbus-ours.ts firer REDIS_URL
//     "fire N C" -> {"fired","seconds"}                             (N events, C fires in flight)
//   node --import tsx bench/_lightbus-ours.ts listener REDIS_URL
//     "count" -> "count H"; "expect TOTAL" -> "done H" once H >= TOTAL
// Each prints "ready" first; "done" or the end of stdin ends it. Defaults as a user gets
// them (listener prefetch 10, Lightbus's batch_size), except the stream length, which both
// sides of the benchmark raise alike so that no round's events are trimmed.

import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createBus } from '../dist/models/api/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { RedisBusTransport } from '../dist/transports/redis/bus/mod.js';
import { echoApi } from './_redis-echo.js';
import { ordersApi } from './_redis-events-listener.js';

export const MAX_STREAM_LENGTH = 1_000_000;

const logger = createLogger({ level: 'silent' });
const say = (line: string) => process.stdout.write(`${line}\n`);

const transport = (url: string) => new RedisBusTransport({ url, logger, maxStreamLength: MAX_STREAM_LENGTH });

/** Runs `concurrency` loops of `once` until `ms` have passed; seconds taken (the last in flight included). */
async function loopFor(ms: number, concurrency: number, once: () => Promise<void>, latencies?: number[]): Promise<number> {
  const deadline = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await once();
        latencies?.push(performance.now() - t);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function main(role: string, url: string): Promise<void> {
  const stdin = createInterface({ input: process.stdin });

  if (role === 'client') {
    const bus = createBus({ apis: { echo: echoApi }, transport: transport(url), logger });
    await bus.start();
    say('ready');
    for await (const line of stdin) {
      const [command, ms, concurrency] = line.split(' ');
      if (command === 'done') break;
      const latencies: number[] = [];
      const seconds = await loopFor(Number(ms), Number(concurrency), async () => {
        const r = await bus.echo.echo({ text: 'hello world', n: 42 });
        if (r.n !== 42) throw new Error(`wrong result ${JSON.stringify(r)}`);
      }, latencies);
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
      say(JSON.stringify({ calls: latencies.length, seconds, p50: at(0.5), p99: at(0.99) }));
    }
    await bus.stop();
  } else if (role === 'firer') {
    const bus = createBus({ apis: { orders: ordersApi }, transport: transport(url), logger });
    await bus.start();
    say('ready');
    let sequence = 0;
    for await (const line of stdin) {
      const [command, count, concurrency] = line.split(' ');
      if (command === 'done') break;
      let fired = 0;
      let left = Number(count);
      const started = performance.now();
      await Promise.all(
        Array.from({ length: Number(concurrency) }, async () => {
          while (left > 0) {
            left--;
            await bus.orders.placed.fire({ order: ++sequence, sku: 'sku-1' });
            fired++;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      say(JSON.stringify({ fired, seconds }));
    }
    await bus.stop();
  } else if (role === 'listener') {
    const bus = createBus({ apis: { orders: ordersApi }, transport: transport(url), serviceName: 'bench', logger });
    let handled = 0;
    let target: number | undefined;
    await bus.orders.placed.listen(() => {
      handled++;
      if (target !== undefined && handled >= target) {
        target = undefined;
        say(`done ${handled}`);
      }
    }, { listenerName: 'count' });
    await bus.start();
    say('ready');
    for await (const line of stdin) {
      const [command, total] = line.split(' ');
      if (command === 'done') break;
      if (command === 'count') say(`count ${handled}`);
      else if (command === 'expect') {
        if (handled >= Number(total)) say(`done ${handled}`);
        else target = Number(total);
      }
    }
    await bus.stop();
  } else throw new Error(`unknown role ${role}`);
}

// Runs only as a program; bench/lightbus.ts imports MAX_STREAM_LENGTH from here.
if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  await main(process.argv[2]!, process.argv[3]!);
  process.exit(0);
}
