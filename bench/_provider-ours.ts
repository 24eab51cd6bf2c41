// Switchyard's side of bench/go-provider.ts, each in a process of its own:
//   node --import tsx bench/_provider-ours.ts provider SOCKET_DIR
//     a provider "provider-ours" serving CPUInfo exactly as the Go provider-simple does
//     (guest_id required; two fixed CPUs); prints "ready SOCKET_PATH" and serves until killed.
//   node --import tsx bench/_provider-ours.ts client SOCKET_DIR CONCURRENCY COUNT WARM
//     our coordinator client (discovery in SOCKET_DIR, response hook of its own): WARM
//     requests not measured, then COUNT from CONCURRENCY loops; prints the same JSON line as
//     bench/go/acomm-client: {"requests","errors","seconds","rps","p50","p99"} (ms), and exits.

import { coordinatorClient, provider } from '../dist/models/provider/mod.js';
import { createLogger } from '../dist/observability/logger.js';

const [role, socketDir, ...rest] = process.argv.slice(2) as [string, string, ...string[]];
const logger = createLogger({ level: 'warn' });

if (role === 'provider') {
  const server = provider({ service_name: 'provider-ours', socket_dir: socketDir, log_level: 'warning' }, { logger });
  // provider-simple's CPUInfo (examples/simple/simple.go), the same checks and result.
  server.registerTask('CPUInfo', (req) => {
    const args = req.args as { guest_id?: unknown } | null;
    if (typeof args?.guest_id !== 'string' || args.guest_id === '') throw new Error('missing guest_id');
    return [
      { processor: 0, mhz: 2600 },
      { processor: 1, mhz: 2600 },
    ];
  });
  await server.start();
  process.stdout.write(`ready ${server.taskSocketPath('CPUInfo')}\n`);
} else if (role === 'client') {
  const [concurrency, count, warm] = rest.map(Number) as [number, number, number];
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
  const latencies: number[] = [];
  const started = performance.now();
  await run(count, latencies);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  process.stdout.write(`${JSON.stringify({ requests: count, errors, seconds, rps: count / seconds, p50: at(0.5), p99: at(0.99) })}\n`);
  await client.stop();
  process.exit(0);
} else throw new Error(`unknown role ${role}`);
