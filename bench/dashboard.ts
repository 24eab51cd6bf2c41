// The dashboard's cost on throughput: 50 worker services on the embedded default (each its
// own queue, routing to a queue of its own), run as `switchyard run` runs them (the worker
// runner on one Runtime, the stream's log listener attached — `run` always has it — with
// the log level above "message done", as `--log-level warn` sets it), draining the same
// messages with and without a dashboard attached to the observer stream with one live page
// connected (its SSE stream read as a browser would); the results are consumed as they
// come, by a sink on every output queue. A third kind runs with nobody
// listening to the stream at all (an embedding without `run`): what the events cost to
// build, printed as a second RESULT line. Rounds alternate so machine noise hits all alike.
//   npm run bench -- dashboard [messages] [rounds] [services] [pacedRounds] [pacedSeconds]
// Besides the medians of each kind it prints the median of per-round paired ratios (see below).
// Then the issue's own load, paced: 5,000 messages a second into the same 50 services,
// with and without the dashboard (rate delivered, CPU a second, the page's snapshot gaps).

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

// ~1 s of draining a round at ~200,000 msg/s: each round spans a push interval of the page.
const MESSAGES = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const SERVICES = Number(process.argv[4] ?? 50);
const PACED_ROUNDS = Number(process.argv[5] ?? 3);
const PACED_SECONDS = Number(process.argv[6] ?? 5);
const names = Array.from({ length: SERVICES }, (_, i) => `s${String(i).padStart(2, '0')}`);
const map = parseSysMap(`services:\n${names.map((n) => `  ${n}:\n    in: ${n}-in\n    out:\n      - { case: true, queues: [${n}-out] }\n`).join('')}`, 'bench sysmap');
const logger = createLogger({ level: 'warn' });
const settings = resolveSettings([workerSettingsSection], []).worker;
const store = new FsObjectStore({ root: mkdtempSync(join(tmpdir(), 'sy-bench-dashboard-')) });

/** The page: reads the live stream as a browser does, a line on stdout per snapshot. */
const PAGE = `
const text = new TextDecoder();
fetch(process.argv[1]).then(async (res) => {
  for await (const chunk of res.body) {
    const got = text.decode(chunk, { stream: true }).split('event: snapshot').length - 1;
    if (got > 0) process.stdout.write('snapshot\\n'.repeat(got));
  }
}).catch(() => process.exit(0));
`;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Messages/s draining MESSAGES spread over every service's queue. */
type Kind = 'dashboard' | 'none' | 'idle';

interface Round {
  readonly rate: number;
  /** CPU time of the process (every thread) per message, µs: what a loaded machine disturbs least. */
  readonly cpuUs: number;
  /** Paced rounds: CPU time of the process per second, ms. */
  readonly cpuMsPerS: number;
  /** With the page: the longest wait between two snapshots it received, ms (how responsive it stayed). */
  readonly pageGapMs: number;
}

/** A paced round: messages are sent at `rate` a second for `seconds` while the system runs (the issue's "50 services and 5,000 msg/s"). */
interface Pace {
  readonly rate: number;
  readonly seconds: number;
}

async function round(kind: Kind, pace?: Pace): Promise<Round> {
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
  const snapshots: number[] = [];
  if (withDashboard) {
    const dashboard = await startDashboard({ observer: runtime.observer, health: () => runtime.health(), deadLetters: [new MemoryDeadLetters(memory)], probes: [memoryProbe(memory)], pushIntervalMs: 1000 });
    // One page open: its live stream read to the end by another process, as a browser
    // does (read in this process, its parsing and decoding of ~125 KB a second would be
    // counted as the dashboard's). The drain starts once the page has its first snapshot:
    // a page that stays open costs a snapshot per push interval, and that steady cost is
    // what is measured (not the page's opening).
    const page = spawn(process.execPath, ['-e', PAGE, `${dashboard.url}/api/stream`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let opened!: () => void;
    const first = new Promise<void>((resolve) => (opened = resolve));
    // The page writes a line per snapshot received; its arrival times are kept, to see the page stayed live.
    page.stdout.setEncoding('utf8').on('data', (lines: string) => {
      for (let i = 0; i < lines.split('\n').length - 1; i++) snapshots.push(performance.now());
      opened();
    });
    page.on('exit', () => opened());
    await first;
    stopPage = async () => {
      const exited = new Promise((resolve) => page.once('exit', resolve));
      page.kill();
      await exited;
      await dashboard.close();
    };
  }
  const total = pace ? pace.rate * pace.seconds : MESSAGES;
  if (!pace) for (let i = 0; i < MESSAGES; i++) await memory.send(`${names[i % SERVICES]}-in`, { body: encodeId(BigInt(i)) });
  // The results are taken off their queues as they come, as a next stage would take them:
  // left to pile up, 200,000 results made every young collection copy them (~3 ms each, 60
  // a round), and whether one more landed in a round moved its figure more than the
  // dashboard did. The sink acks and counts; the round ends with its last result.
  let sunk = 0;
  let allSunk!: () => void;
  const sinkDone = new Promise<void>((resolve) => (allSunk = resolve));
  const sinks = await Promise.all(names.map((n) => memory.consume(`${n}-out`, (d) => {
    if (++sunk === total) allSunk();
    return d.ack();
  }, { prefetch: 64 })));
  // Every round starts from a collected heap: 200,000 queued messages make whether a full
  // collection lands inside a round the largest difference between rounds (single rounds
  // of one kind moved 4–10 µs a message without this).
  collectGarbage();
  const started = performance.now();
  const cpu = process.cpuUsage();
  await runtime.start();
  if (pace) {
    // Sent as the clock says they are due, checked every 10 ms (a producer at a steady rate).
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * pace.rate) / 1000));
      for (; sent < due; sent++) void memory.send(`${names[sent % SERVICES]}-in`, { body: encodeId(BigInt(sent)) });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  await sinkDone;
  const seconds = (performance.now() - started) / 1000;
  const rate = total / seconds;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / total;
  const cpuMsPerS = (used.user + used.system) / 1000 / seconds;
  const inRound = snapshots.filter((t) => t >= started);
  const pageGapMs = inRound.length < 2 ? Infinity : Math.max(...inRound.slice(1).map((t, i) => t - inRound[i]!));
  for (const sink of sinks) await sink.stop();
  await stopPage();
  await runtime.stop();
  log?.detach();
  await transports.close();
  return { rate, cpuUs, cpuMsPerS, pageGapMs: withDashboard ? pageGapMs : 0 };
}

// Warm-up: JIT every path and let the heap reach its working size before measuring (the
// first rounds of a run were 30–60% slower for every kind).
for (let i = 0; i < 2; i++) for (const kind of ['dashboard', 'none', 'idle'] as const) await round(kind);
const runs = await alternate(ROUNDS, { dashboard: () => round('dashboard'), none: () => round('none'), idle: () => round('idle') }, (r, last) =>
  console.log(`round ${r + 1}: with the dashboard ${last.dashboard.rate.toFixed(0)} msg/s (${last.dashboard.cpuUs.toFixed(2)} µs CPU/msg), without ${last.none.rate.toFixed(0)} msg/s (${last.none.cpuUs.toFixed(2)}), nobody listening ${last.idle.rate.toFixed(0)} msg/s (${last.idle.cpuUs.toFixed(2)})`));
const rates = (k: Kind) => median(runs[k].map((x) => x.rate));
const cpus = (k: Kind) => median(runs[k].map((x) => x.cpuUs));
printResult({
  bench: 'dashboard', case: `${SERVICES}-services`, against: 'no-dashboard', unit: 'msg/s',
  ours: Math.round(rates('dashboard')), baseline: Math.round(rates('none')),
});
printResult({
  bench: 'dashboard', case: `${SERVICES}-services-cpu`, against: 'no-dashboard', unit: 'us/msg',
  ours: Math.round(cpus('dashboard') * 100) / 100, baseline: Math.round(cpus('none') * 100) / 100, lowerIsBetter: true,
});
// Paired: each round's dashboard side against the side without it run next to it (the
// order alternates), the median of those ratios. On these VMs a slow stretch moves the
// rounds next to each other alike, and single rounds of one kind move ±15%; the pairs
// cancel most of that, which the ratio of the two medians does not.
const paired = (pick: (r: Round) => number, lowerIsBetter: boolean) =>
  median(runs.dashboard.map((d, i) => (lowerIsBetter ? pick(runs.none[i]!) / pick(d) : pick(d) / pick(runs.none[i]!))));
printResult({ bench: 'dashboard', case: `${SERVICES}-services-paired`, against: 'no-dashboard', unit: 'ratio', ours: Math.round(paired((r) => r.rate, false) * 1000) / 1000, baseline: 1 });
printResult({ bench: 'dashboard', case: `${SERVICES}-services-cpu-paired`, against: 'no-dashboard', unit: 'ratio', ours: Math.round(paired((r) => r.cpuUs, true) * 1000) / 1000, baseline: 1 });
printResult({
  bench: 'dashboard', case: `${SERVICES}-services-stream-listened`, against: 'nobody-listening', unit: 'msg/s',
  ours: Math.round(rates('none')), baseline: Math.round(rates('idle')),
});

// The issue's own load: 50 services and 5,000 messages a second, for PACED_SECONDS a round,
// with and without the dashboard. The rate delivered (all of it, if the dashboard takes
// nothing from throughput), the process's CPU a second, and the page's longest wait
// between snapshots (pushed every second).
const PACE: Pace = { rate: 5_000, seconds: PACED_SECONDS };
const paced = await alternate(PACED_ROUNDS, { dashboard: () => round('dashboard', PACE), none: () => round('none', PACE) }, (r, last) =>
  console.log(`paced round ${r + 1}: with the dashboard ${last.dashboard.rate.toFixed(0)} msg/s, ${last.dashboard.cpuMsPerS.toFixed(1)} ms CPU/s, page's longest wait between snapshots ${last.dashboard.pageGapMs.toFixed(0)} ms; without ${last.none.rate.toFixed(0)} msg/s, ${last.none.cpuMsPerS.toFixed(1)} ms CPU/s`));
printResult({
  bench: 'dashboard', case: `${SERVICES}-services-5000-per-s`, against: 'no-dashboard', unit: 'msg/s',
  ours: Math.round(median(paced.dashboard.map((r) => r.rate))), baseline: Math.round(median(paced.none.map((r) => r.rate))),
});
printResult({
  bench: 'dashboard', case: `${SERVICES}-services-5000-per-s-cpu`, against: 'no-dashboard', unit: 'ms-cpu/s',
  ours: Math.round(median(paced.dashboard.map((r) => r.cpuMsPerS)) * 10) / 10, baseline: Math.round(median(paced.none.map((r) => r.cpuMsPerS)) * 10) / 10, lowerIsBetter: true,
});
console.log(`page at 5,000 msg/s: longest wait between two snapshots ${Math.max(...paced.dashboard.map((r) => r.pageGapMs)).toFixed(0)} ms (pushed every 1,000 ms)`);
