// The dashboard's cost on throughput: 50 worker services on the embedded default (each its
// own queue, routing to a queue of its own), run as `switchyard run` runs them (the worker
// runner on one Runtime, the stream's log listener attached — `run` always has it — with
// the log level above "message done", as `--log-level warn` sets it), draining the same
// messages with and without a dashboard attached to the observer stream with one live page
// connected (its SSE stream read as a browser would). A third kind runs with nobody
// listening to the stream at all (an embedding without `run`): what the events cost to
// build, printed as a second RESULT line. Rounds alternate so machine noise hits all alike.
//   npm run bench -- dashboard [messages] [rounds] [services]

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSysMap, MapConfigSource } from '../dist/config/sysmap.js';
import { resolveSettings } from '../dist/config/settings/settings.js';
import { createLogger } from '../dist/observability/logger.js';
import { observerLog } from '../dist/observability/observer-log.js';
import { runner } from '../dist/models/worker/runner.js';
import { worker } from '../dist/models/worker/mod.js';
import { workerSettingsSection } from '../dist/models/worker/settings.js';
import { encodeId } from '../dist/models/worker/ids.js';
import { TransportRegistry } from '../dist/runtime/registry.js';
import { Runtime } from '../dist/runtime/runtime.js';
import { startDashboard } from '../dist/runtime/dashboard/start-dashboard.js';
import { MemoryDeadLetters } from '../dist/transports/memory/memory-dead-letters.js';
import { memoryProbe } from '../dist/transports/memory/memory-probe.js';
import { FsObjectStore } from '../dist/storage/fs/mod.js';
import { alternate, median, printResult } from './_result.js';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const SERVICES = Number(process.argv[4] ?? 50);
const names = Array.from({ length: SERVICES }, (_, i) => `s${String(i).padStart(2, '0')}`);
const map = parseSysMap(`services:\n${names.map((n) => `  ${n}:\n    in: ${n}-in\n    out:\n      - { case: true, queues: [${n}-out] }\n`).join('')}`, 'bench sysmap');
const logger = createLogger({ level: 'warn' });
const settings = resolveSettings([workerSettingsSection], []).worker;
const store = new FsObjectStore({ root: mkdtempSync(join(tmpdir(), 'sy-bench-dashboard-')) });

/** Messages/s draining MESSAGES spread over every service's queue. */
type Kind = 'dashboard' | 'none' | 'idle';

async function round(kind: Kind): Promise<number> {
  const withDashboard = kind === 'dashboard';
  const runtime = new Runtime({ logger });
  // As cli/system.ts buildSystem does for every `run` and `dev`.
  const log = kind === 'idle' ? undefined : observerLog(runtime.observer, logger, { handledAt: () => runner.logHandledAt ?? 'debug' });
  const transports = new TransportRegistry({ logger });
  const opened = await transports.open('memory', 'worker', ['queue']);
  const memory = opened.queues as import('../dist/transports/memory/memory-transport.js').MemoryTransport;
  const definitions = names.map((n) => worker(n, (id: bigint) => [[id, true]], { concurrency: 8 }));
  const ctx = {
    logger, observer: runtime.observer, transports, settings, transport: 'memory', stateDir: tmpdir(),
    configSource: async () => new MapConfigSource(map), objectStore: async () => store,
  };
  for (const c of await runner.components(definitions as never, ctx as never)) await runtime.add(c);
  let stopPage = async () => {};
  if (withDashboard) {
    const dashboard = await startDashboard({ observer: runtime.observer, health: () => runtime.health(), deadLetters: [new MemoryDeadLetters(memory)], probes: [memoryProbe(memory)], pushIntervalMs: 1000 });
    // One page open: its live stream read to the end, as a browser does.
    const abort = new AbortController();
    const page = fetch(`${dashboard.url}/api/stream`, { signal: abort.signal }).then(async (res) => {
      for await (const _chunk of res.body!) { /* a browser renders it */ }
    }).catch(() => undefined);
    stopPage = async () => {
      abort.abort();
      await page;
      await dashboard.close();
    };
  }
  for (let i = 0; i < MESSAGES; i++) await memory.send(`${names[i % SERVICES]}-in`, { body: encodeId(BigInt(i)) });
  const started = performance.now();
  await runtime.start();
  const outs = names.map((n) => `${n}-out`);
  while (outs.reduce((sum, q) => sum + memory.depth(q), 0) < MESSAGES) await new Promise((r) => setTimeout(r, 2));
  const rate = MESSAGES / ((performance.now() - started) / 1000);
  await stopPage();
  await runtime.stop();
  log?.detach();
  await transports.close();
  return rate;
}

for (const kind of ['dashboard', 'none', 'idle'] as const) await round(kind); // warm-up: JIT every path before measuring
const runs = await alternate(ROUNDS, { dashboard: () => round('dashboard'), none: () => round('none'), idle: () => round('idle') }, (r, last) =>
  console.log(`round ${r + 1}: with the dashboard ${last.dashboard.toFixed(0)} msg/s, without ${last.none.toFixed(0)} msg/s, nobody listening ${last.idle.toFixed(0)} msg/s`));
printResult({
  bench: 'dashboard', case: `${SERVICES}-services`, against: 'no-dashboard', unit: 'msg/s',
  ours: Math.round(median(runs.dashboard)), baseline: Math.round(median(runs.none)),
});
printResult({
  bench: 'dashboard', case: `${SERVICES}-services-stream-listened`, against: 'nobody-listening', unit: 'msg/s',
  ours: Math.round(median(runs.none)), baseline: Math.round(median(runs.idle)),
});
