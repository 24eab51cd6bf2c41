// Switchyard's client side of bench/go-provider.ts (the provider side is
// bench/_provider-cpuinfo.ts under `switchyard provider run`):
//   node --import tsx bench/_provider-ours.ts client SOCKET_DIR CONCURRENCY COUNT WARM [sync]
//     our coordinator client (discovery in SOCKET_DIR, response hook of its own): WARM
//     requests not measured, then COUNT from CONCURRENCY loops; prints the same JSON line as
//     bench/go/acomm-client: {"requests","errors","seconds","rps","p50","p99","cpu_ms","runq_ms",
//     "voluntary","involuntary"} (ms; over the measured requests: cpu_ms is this process's
//     user+system CPU time, runq_ms the time its threads waited for a CPU, voluntary and
//     involuntary its context switches), and exits.
//     With "sync" it prints "warmed" after the warm-up and waits for a line on stdin first,
//     so the benchmark can sample the provider's CPU time around exactly the measured requests.

import { createInterface } from 'node:readline';
import { coordinatorClient } from '../dist/models/provider/mod.js';
import { createLogger } from '../dist/observability/logger.js';
import { schedDelta, schedSample } from './_proc-cpu.js';

const [role, socketDir, ...rest] = process.argv.slice(2) as [string, string, ...string[]];
const logger = createLogger({ level: 'warn' });

if (role === 'client') {
  const [concurrency, count, warm] = rest.slice(0, 3).map(Number) as [number, number, number];
  const sync = rest[3] === 'sync';
  const client = await coordinatorClient({ socketDir, timeoutMs: 30_000, logger });
  let errors = 0;
  const run = async (n: number, latencies?: number[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const t = performance.now();
          try {
            const { result } = await client.request('CPUInfo', { guest_id: 'abc' });
            if (!Array.isArray(result)) throw new Error('no result');
          } catch {
            errors++;
          }
          latencies?.push(performance.now() - t);
        }
      }),
    );
  };
  await run(warm);
  errors = 0;
  if (sync) {
    process.stdout.write('warmed\n');
    const lines = createInterface({ input: process.stdin });
    await new Promise<void>((resolve) => lines.once('line', () => resolve()));
    lines.close();
  }
  const latencies: number[] = [];
  const schedBefore = schedSample('self');
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run(count, latencies);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sched = schedDelta(schedBefore, schedSample('self'));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  process.stdout.write(`${JSON.stringify({ requests: count, errors, seconds, rps: count / seconds, p50: at(0.5), p99: at(0.99), cpu_ms: (cpu.user + cpu.system) / 1000, runq_ms: sched.runqMs, voluntary: sched.voluntary, involuntary: sched.involuntary })}\n`);
  await client.stop();
  process.exit(0);
} else throw new Error(`unknown role ${role}`);
